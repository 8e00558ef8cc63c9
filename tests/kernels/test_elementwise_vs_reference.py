"""Elementwise add / sub / mul kernels (every family) against the exact reference, with ``==``.

Hypothesis draws the element type, broadcast patterns (same shape, scalar operands, size-1
axes on either side), zero points at the range ends, multipliers and shifts at their extremes
and codes at the saturation edges; every output element must equal
fxsim.reference.elementwise.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.arith.elementwise import broadcast_strides
from fxsim.errors import FormatError, KernelError
from fxsim.reference import elementwise as ref

from kernel_helpers import assert_isa_and_thread_identical, type_range, zero_point

TYPES = ["int8", "uint8", "int16"]


@st.composite
def broadcast_pair(draw, max_rank=4, max_extent=4):
    """Two shapes that broadcast: each axis of each operand is the common extent or 1; ranks
    may differ (leading axes missing); either operand may be a scalar."""
    rank = draw(st.integers(0, max_rank))
    full = [draw(st.integers(1, max_extent)) for _ in range(rank)]
    def operand():
        keep = draw(st.integers(0, rank))
        return tuple(e if draw(st.booleans()) else 1 for e in full[rank - keep:])
    return operand(), operand()


def codes(draw, name, shape):
    lo, hi = type_range(name)
    n = int(np.prod(shape, dtype=np.int64))
    vals = draw(st.lists(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi, lo + 1, hi - 1])),
                         min_size=n, max_size=n))
    return np.array(vals, dtype=name).reshape(shape)


def out_type(draw):
    name = draw(st.sampled_from(TYPES))
    lo, hi = type_range(name)
    qmin = draw(st.one_of(st.just(lo), st.integers(lo, hi)))
    qmax = draw(st.one_of(st.just(hi), st.integers(qmin, hi)))
    return name, qmin, qmax


def operands(data, types=TYPES):
    """A drawn element type, broadcastable operands a and b, their zero points, and an output
    type with its clamp and zero point."""
    name = data.draw(st.sampled_from(types))
    shape_a, shape_b = data.draw(broadcast_pair())
    a, b = codes(data.draw, name, shape_a), codes(data.draw, name, shape_b)
    za, zb = zero_point(data.draw, name), zero_point(data.draw, name)
    oname, qmin, qmax = out_type(data.draw)
    zo = data.draw(st.integers(*type_range(oname)))
    out_shape, dims, sa, sb = broadcast_strides(a.shape, b.shape)
    return a, b, za, zb, (dims, sa, sb), np.empty(out_shape, dtype=oname), qmin, qmax, zo


def row_case(dims, sa, sb):
    """MLAS's kernel choice per broadcast span (qlinear_binary_op.cc, qladd_avx2.cpp)."""
    if dims[-1] == 1:
        return 2
    if dims[-1] > 1 and sa[-1] == 0 and sb[-1] == 1:
        return 1
    if dims[-1] > 1 and sa[-1] == 1 and sb[-1] == 0:
        return 2
    return 0


def run_pairs(a, b, fn):
    x, y = np.broadcast_arrays(a, b)
    return np.array([fn(int(p), int(q)) for p, q in zip(x.reshape(-1), y.reshape(-1))], dtype=np.int64).reshape(x.shape)


multiplier = st.one_of(st.sampled_from([0, 1, 1 << 30, (1 << 31) - 1, -(1 << 31), -(1 << 30)]),
                       st.integers(-(1 << 31), (1 << 31) - 1))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_add_tflite_equals_reference(data):
    a, b, za, zb, geometry, out, qmin, qmax, zo = operands(data)
    left_shift = data.draw(st.sampled_from([20, 15, 0, 30, data.draw(st.integers(0, 30))]))
    ma, mb, mo = data.draw(multiplier), data.draw(multiplier), data.draw(multiplier)
    sha, shb, sho = (data.draw(st.one_of(st.sampled_from([0, -31, -1]), st.integers(-31, 0))) for _ in range(3))
    subtract = data.draw(st.booleans())
    _kernels.elementwise_add_tflite(a.reshape(-1), b.reshape(-1), *geometry, za, zb, left_shift, ma, sha, mb, shb,
                                    mo, sho, zo, qmin, qmax, subtract, out.reshape(-1))
    want = run_pairs(a, b, lambda p, q: ref.add_tflite(p, q, za, zb, left_shift, ma, sha, mb, shb, mo, sho, zo,
                                                       qmin, qmax, subtract))
    assert np.array_equal(out.astype(np.int64), want)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mul_tflite_equals_reference(data):
    a, b, za, zb, geometry, out, qmin, qmax, zo = operands(data)
    mo = data.draw(multiplier)
    sho = data.draw(st.one_of(st.sampled_from([-31, 0, 31, 30, -1]), st.integers(-31, 31)))
    _kernels.elementwise_mul_tflite(a.reshape(-1), b.reshape(-1), *geometry, za, zb, mo, sho, zo, qmin, qmax,
                                    out.reshape(-1))
    want = run_pairs(a, b, lambda p, q: ref.mul_tflite(p, q, za, zb, mo, sho, zo, qmin, qmax))
    assert np.array_equal(out.astype(np.int64), want)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_tflite_rows_every_isa(data):
    """The TFLite add / sub / mul rows (array_kernels.inc tflite_row: 16 lanes with AVX-512, 8 with
    AVX2 and a scalar tail, the scalar definition in the baseline) equal the reference under every
    ISA variant, on rows long enough for full vectors and tails: same-shape operands, or one of them
    constant along the row (a squeeze-excite multiply), at the parameters' extremes."""
    name = data.draw(st.sampled_from(TYPES))
    rows, n = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 40))
    case = data.draw(st.sampled_from(["same", "a_per_row", "b_per_row"]))
    a = codes(data.draw, name, (rows, 1) if case == "a_per_row" else (rows, n))
    b = codes(data.draw, name, (rows, 1) if case == "b_per_row" else (rows, n))
    za, zb = zero_point(data.draw, name), zero_point(data.draw, name)
    oname, qmin, qmax = out_type(data.draw)
    zo = data.draw(st.integers(*type_range(oname)))
    out_shape, dims, sa, sb = broadcast_strides(a.shape, b.shape)
    mul = data.draw(st.booleans())
    mo = data.draw(multiplier)
    if mul:
        sho = data.draw(st.one_of(st.sampled_from([-31, 0, 31, 30, -1]), st.integers(-31, 31)))
        call = lambda out: _kernels.elementwise_mul_tflite(a.reshape(-1), b.reshape(-1), dims, sa, sb, za, zb, mo,
                                                           sho, zo, qmin, qmax, out.reshape(-1))
        want = run_pairs(a, b, lambda p, q: ref.mul_tflite(p, q, za, zb, mo, sho, zo, qmin, qmax))
    else:
        left_shift = data.draw(st.sampled_from([20, 15, 0, 30, data.draw(st.integers(0, 30))]))
        ma, mb = data.draw(multiplier), data.draw(multiplier)
        sha, shb, sho = (data.draw(st.one_of(st.sampled_from([0, -31, -1]), st.integers(-31, 0))) for _ in range(3))
        subtract = data.draw(st.booleans())
        call = lambda out: _kernels.elementwise_add_tflite(a.reshape(-1), b.reshape(-1), dims, sa, sb, za, zb,
                                                           left_shift, ma, sha, mb, shb, mo, sho, zo, qmin, qmax,
                                                           subtract, out.reshape(-1))
        want = run_pairs(a, b, lambda p, q: ref.add_tflite(p, q, za, zb, left_shift, ma, sha, mb, shb, mo, sho, zo,
                                                           qmin, qmax, subtract))
    active = _kernels.isa()
    try:
        for isa in _kernels.available_isas():
            _kernels.set_isa(isa)
            out = np.empty(out_shape, dtype=oname)
            call(out)
            assert np.array_equal(out.astype(np.int64), want), isa
    finally:
        _kernels.set_isa(active)


scale32 = st.one_of(
    st.sampled_from([1.0, 0.5, 2.0 ** -14, 255.0, 2.0 ** -30]),
    st.floats(-12, 6).map(lambda e: float(np.float32(2.0 ** e))),
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_ort_equals_reference(data):
    expression = data.draw(st.sampled_from(["add8", "add_raw", "mul8"]))
    types = ["int8", "uint8"] + (["int16"] if expression == "add_raw" else [])
    a, b, za, zb, geometry, out, qmin, qmax, zo = operands(data, types)
    s_a, s_b, s_o = data.draw(scale32), data.draw(scale32), data.draw(scale32)
    _kernels.elementwise_ort(a.reshape(-1), b.reshape(-1), *geometry, expression, s_a, za, s_b, zb, s_o, zo, qmin,
                             qmax, out.reshape(-1))
    case = row_case(*geometry)
    want = run_pairs(a, b, lambda p, q: ref.ort_binary(p, q, expression, s_a, za, s_b, zb, s_o, zo, qmin, qmax, case))
    assert np.array_equal(out.astype(np.int64), want)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_align_pot_equals_reference(data):
    a, b, _, _, geometry, out, qmin, qmax, _ = operands(data)
    fa = data.draw(st.integers(-32, 32))
    fb = data.draw(st.integers(max(-32, fa - 46), min(32, fa + 46)))
    fo = data.draw(st.integers(-32, min(32, max(fa, fb) + 62)))
    subtract = data.draw(st.booleans())
    _kernels.elementwise_add_align_pot(a.reshape(-1), b.reshape(-1), *geometry, fa, fb, fo, qmin, qmax, subtract,
                                       out.reshape(-1))
    want = run_pairs(a, b, lambda p, q: ref.add_align_pot(p, q, fa, fb, fo, qmin, qmax, subtract))
    assert np.array_equal(out.astype(np.int64), want)


def test_research_vector_d7():
    """Research notes 13.2 D7: int8, zps 0, sA = sB = 0.5, sC = 1: a = +-5, b = 0 -> x86 float +-2,
    TFLite (left shift 20, double rounding) +-3."""
    enc_in = fx.Encoding.from_zero_point(0.5, 0, "int8")
    enc_out = fx.Encoding.from_zero_point(1.0, 0, "int8")
    a = np.array([5, -5], np.int8)
    b = np.zeros(2, np.int8)
    assert fx.arith.elementwise.add(a, enc_in, b, enc_in, enc_out, family="float").tolist() == [2, -2]
    assert fx.arith.elementwise.add(a, enc_in, b, enc_in, enc_out, family="tflite").tolist() == [3, -3]


def test_broadcast_strides_collapse():
    assert broadcast_strides((1, 24, 56, 56), (1, 24, 56, 56))[1:] == ([75264], [1], [1])
    assert broadcast_strides((2, 3, 4), ())[1:] == ([24], [1], [0])
    assert broadcast_strides((2, 3, 4), (3, 1))[1:] == ([2, 3, 4], [12, 4, 1], [0, 1, 0])
    assert broadcast_strides((2, 3, 4), (1, 4))[1:] == ([6, 4], [4, 1], [0, 1])
    assert broadcast_strides((), ())[0] == ()
    with pytest.raises(FormatError, match="do not broadcast"):
        broadcast_strides((2, 3), (4,))


def test_large_call_isa_and_thread_identical(restore_kernels):
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, size=(4, 64, 32, 32), dtype=np.int8)
    b = rng.integers(-128, 128, size=(4, 64, 32, 32), dtype=np.int8)
    c = rng.integers(-128, 128, size=(64, 1, 1), dtype=np.int8)
    enc_a = fx.Encoding.from_zero_point(0.05, 3, "int8")
    enc_b = fx.Encoding.from_zero_point(0.07, -7, "int8")
    enc_o = fx.Encoding.from_zero_point(0.09, 1, "int8")
    E = fx.arith.elementwise
    assert_isa_and_thread_identical({
        "add_tflite": lambda: E.add(a, enc_a, b, enc_b, enc_o),
        "mul_tflite_bcast": lambda: E.mul(a, enc_a, c, enc_b, enc_o),
        "add_float_bcast": lambda: E.add(c, enc_b, a, enc_a, enc_o, family="float"),
    })


def test_kernel_rejects_bad_arguments():
    a = np.zeros(4, np.int8)
    out = np.empty(4, np.int8)
    base = dict(shape=[4], stride_a=[1], stride_b=[1], a_zero_point=0, b_zero_point=0, left_shift=20,
                a_multiplier=1 << 30, a_shift=-1, b_multiplier=1 << 30, b_shift=-1, out_multiplier=1 << 30,
                out_shift=-1, out_zero_point=0, qmin=-128, qmax=127, subtract=False)
    _kernels.elementwise_add_tflite(a, a, out=out, **base)
    for change, needle in (
        (dict(a_shift=1), "a_shift"),
        (dict(left_shift=31), "left_shift"),
        (dict(a_zero_point=200), "a_zero_point"),
        (dict(qmin=-200), "qmin"),
        (dict(shape=[5]), "out must have"),
        (dict(stride_b=[2]), "strides"),
        (dict(shape=[2, 2], stride_a=[2, 1], stride_b=[3, 1]), "b has 4 elements"),
    ):
        with pytest.raises(KernelError, match=needle) as info:
            _kernels.elementwise_add_tflite(a, a, out=out, **{**base, **change})
        assert str(info.value).startswith("elementwise_add_tflite")
    with pytest.raises(KernelError, match="same dtype"):
        _kernels.elementwise_add_tflite(a, a.view(np.uint8), out=out, **base)
    f = a.astype(np.float32)
    with pytest.raises(KernelError, match="a must be an int8, uint8 or int16 array, got float32"):
        _kernels.elementwise_add_tflite(f, f, out=out, **base)
    with pytest.raises(KernelError, match="float32"):
        _kernels.elementwise_ort(a, a, [4], [1], [1], "add8", 0.1, 0, 0.5, 0, 1.0, 0, -128, 127, out)
    with pytest.raises(KernelError, match="expression"):
        _kernels.elementwise_ort(a, a, [4], [1], [1], "sub8", 0.5, 0, 0.5, 0, 1.0, 0, -128, 127, out)
    with pytest.raises(KernelError, match="out_scale"):
        _kernels.elementwise_ort(a, a, [4], [1], [1], "add8", 0.5, 0, 0.5, 0, 0.0, 0, -128, 127, out)
    with pytest.raises(KernelError, match="fix points differ"):
        _kernels.elementwise_add_align_pot(a, a, [4], [1], [1], -30, 30, 0, -128, 127, False, out)
