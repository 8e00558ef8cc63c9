"""Concat with requantization and lookup-table ops against the exact reference, with ``==``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.arith import concat as C
from fxsim.arith import lut as L
from fxsim.errors import EncodingError, FormatError, KernelError
from fxsim.reference import concat as rconcat
from fxsim.reference import lut as rlut
from fxsim.reference import quantize as rquant

from kernel_helpers import assert_isa_and_thread_identical, type_range, zero_point

TYPES = ["int8", "uint8", "int16"]
scale32 = st.one_of(st.sampled_from([1.0, 0.5, 2.0 ** -20, 3.0]),
                    st.floats(-12, 6).map(lambda e: float(np.float32(2.0 ** e))))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_requantize_copy_tflite_equals_reference(data):
    name, oname = data.draw(st.sampled_from(TYPES)), data.draw(st.sampled_from(TYPES))
    lo, hi = type_range(name)
    x = np.array(data.draw(st.lists(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi])), min_size=1,
                                    max_size=40)), dtype=name)
    s_in, s_out = data.draw(scale32), data.draw(scale32)
    zi, zo = zero_point(data.draw, name), zero_point(data.draw, oname)
    olo, ohi = type_range(oname)
    qmin = data.draw(st.one_of(st.just(olo), st.integers(olo, ohi)))
    qmax = data.draw(st.one_of(st.just(ohi), st.integers(qmin, ohi)))
    out = np.empty(x.size, dtype=oname)
    _kernels.requantize_copy_tflite(x, s_in, zi, s_out, zo, qmin, qmax, out)
    want = [rconcat.requantize_copy_tflite(int(v), s_in, zi, s_out, zo, qmin, qmax) for v in x]
    assert out.tolist() == want


def test_concat_copies_equal_encodings_and_requantizes_others():
    e_out = fx.Encoding.from_zero_point(0.1, 0, "int8")
    e_b = fx.Encoding.from_zero_point(0.05, 10, "int8")
    a = np.arange(-6, 6, dtype=np.int8).reshape(1, 2, 2, 3)
    b = np.arange(0, 12, dtype=np.int8).reshape(1, 2, 2, 3)
    got = C.concat([a, b], [e_out, e_b], e_out, axis=1)
    assert got.shape == (1, 4, 2, 3)
    assert np.array_equal(got[:, :2], a)
    want = [rconcat.requantize_copy_tflite(int(v), float(np.float32(0.05)), 10, float(np.float32(0.1)), 0, -128, 127)
            for v in b.reshape(-1)]
    assert got[:, 2:].reshape(-1).tolist() == want
    with pytest.raises(FormatError, match="incompatible"):
        C.concat([a, b[:, :, :1]], [e_out, e_b], e_out, axis=1)
    with pytest.raises(EncodingError, match="one encoding per tensor"):
        C.concat([a, b], [e_out], e_out, axis=1)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _hard_swish(x):
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


@pytest.mark.parametrize("name", ["int8", "uint8", "int16"])
@pytest.mark.parametrize("fn", [_sigmoid, np.tanh, _hard_swish], ids=["sigmoid", "tanh", "hard_swish"])
def test_lut_tables_equal_reference_quantize(name, fn):
    """Each table entry is quantize(f(dequantize(q))) exactly (reference quantize in float64),
    and lut_apply gathers it exactly for every code."""
    lo, hi = type_range(name)
    enc_in = fx.Encoding.from_zero_point(8.0 / (hi - lo), (lo + hi + 1) // 2 if lo == 0 else 0, name)
    out_name = "int16" if name == "int16" else "int8"
    enc_out = fx.Encoding.from_zero_point(1.0 / 128 if out_name == "int8" else 1.0 / 32768, 0, out_name)
    table = L.build_lut(fn, enc_in, enc_out, rounding="half_away")
    assert table.dtype == np.dtype(out_name) and table.size == hi - lo + 1
    codes = np.arange(lo, hi + 1)
    step = 1 if name != "int16" else 97  # every code for 8-bit, a stride through the 16-bit table
    for q in codes[::step]:
        xq = float((int(q) - enc_in.zero_point) * np.float64(enc_in.scale))
        y = float(fn(np.float64(xq)))
        want = rquant.quantize(y, float(enc_out.scale), enc_out.zero_point, enc_out.qmin, enc_out.qmax,
                               fx.RoundingMode.HALF_AWAY, precision="float64")
        assert int(table[int(q) - lo]) == want, q
    x = np.random.default_rng(0).integers(lo, hi + 1, size=(3, 5, 7)).astype(name)
    got = L.lut_apply(x, table)
    assert got.shape == x.shape
    assert got.reshape(-1).tolist() == [rlut.lut_apply(int(v), table.tolist(), lo) for v in x.reshape(-1)]


def test_lut_apply_every_input_type_and_threads(restore_kernels):
    rng = np.random.default_rng(1)
    calls = {}
    for name in ("int8", "uint8", "int16", "uint16"):
        info = np.iinfo(name)
        table = rng.integers(-128, 128, size=int(info.max) - int(info.min) + 1).astype(np.int8)
        x = rng.integers(info.min, int(info.max) + 1, size=1 << 19).astype(name)
        assert np.array_equal(L.lut_apply(x, table), table[x.astype(np.int64) - int(info.min)])
        calls[name] = (lambda x=x, table=table: L.lut_apply(x, table))
    assert_isa_and_thread_identical(calls)


@given(data=st.data())
def test_byte_lookup_every_isa_and_length(data):
    """The 8-bit lookup (array_kernels.inc lookup_bytes: one masked vpshufb per 16-byte table row
    with AVX-512BW, saturated indices with AVX2, the scalar loop in the baseline; vpermi2b in the
    avx512vnni variant on CPUs with AVX512_VBMI, lookup_bytes_avx512vbmi.cc) equals the table
    under every ISA variant, at lengths with full vectors and tails, every code in play."""
    name = data.draw(st.sampled_from(["int8", "uint8"]))
    info = np.iinfo(name)
    n = data.draw(st.one_of(st.integers(0, 200), st.sampled_from([31, 32, 33, 63, 64, 65, 256])))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    table = rng.integers(-128, 128, size=256).astype(np.int8)
    x = np.concatenate([np.arange(info.min, info.max + 1), rng.integers(info.min, int(info.max) + 1, size=n)])
    x = x[rng.permutation(x.size)][:max(n, 1)].astype(name)
    want = table[x.astype(np.int64) - int(info.min)]
    active = _kernels.isa()
    try:
        for isa in _kernels.available_isas():
            _kernels.set_isa(isa)
            assert np.array_equal(L.lut_apply(x, table), want), isa
    finally:
        _kernels.set_isa(active)


def test_lut_errors():
    with pytest.raises(FormatError, match="256 entries"):
        L.lut_apply(np.zeros(3, np.int8), np.zeros(255, np.int8))
    with pytest.raises(KernelError, match="^lut_apply: table must have 65536"):
        _kernels.lut_apply(np.zeros(3, np.int16), np.zeros(256, np.int8), np.zeros(3, np.int8))
    with pytest.raises(FormatError, match="f gives"), np.errstate(all="ignore"):
        L.build_lut(np.log, fx.Encoding.from_zero_point(0.1, 0, "int8"), fx.Encoding.from_zero_point(0.1, 0, "int8"),
                    rounding="half_even")
    with pytest.raises(EncodingError, match="rounding"):
        L.build_lut(np.tanh, fx.Encoding.from_zero_point(0.1, 0, "int8"), fx.Encoding.from_zero_point(0.1, 0, "int8"),
                    rounding=None)
