"""Pooling kernels (average by every method, max, global average) against the exact reference.

Hypothesis draws NCHW shapes, kernels, strides, pads (< kernel), ceil_mode, count_include_pad,
zero points at the range ends and codes at the range ends; the C++ result must equal
fxsim.reference.pooling with ``==``. TARGETS.md's documented average-pool vectors run here at
kernel level.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.arith import pooling as P
from fxsim.errors import EncodingError, FormatError, KernelError, OverflowRangeError, UnsupportedOpError
from fxsim.reference import multiplier as rmul
from fxsim.reference import pooling as ref
from fxsim.reference import requantize as rreq

from kernel_helpers import assert_isa_and_thread_identical, type_range, zero_point

TYPES = ["int8", "uint8", "int16"]


@st.composite
def pool_case(draw):
    name = draw(st.sampled_from(TYPES))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pads = tuple(draw(st.integers(0, k - 1)) for k in (kh, kw, kh, kw))
    h = draw(st.integers(max(1, kh - pads[0] - pads[2]), 7))
    w = draw(st.integers(max(1, kw - pads[1] - pads[3]), 7))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    ceil_mode = draw(st.booleans())
    oh = P.pool_output_size(h, kh, sh, pads[0], pads[2], ceil_mode)
    ow = P.pool_output_size(w, kw, sw, pads[1], pads[3], ceil_mode)
    lo, hi = type_range(name)
    vals = draw(st.lists(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi])), min_size=n * c * h * w,
                         max_size=n * c * h * w))
    x = np.array(vals, dtype=name).reshape(n, c, h, w)
    return name, x, (kh, kw), (sh, sw), pads, (oh, ow)


def _valid_windows(x, kernel, stride, pads, out_size):
    """The reference raises for a window with no input element: skip such (ceil_mode) draws."""
    try:
        ref.max_pool2d(x.reshape(-1).tolist(), x.shape, out_size, kernel, stride, pads)
        return True
    except ValueError:
        return False


scale32 = st.floats(-8, 4).map(lambda e: float(np.float32(2.0 ** e)))


@settings(max_examples=200, deadline=None)
@given(case=pool_case(), data=st.data())
def test_avg_pool2d_equals_reference(case, data):
    name, x, kernel, stride, pads, out_size = case
    if not _valid_windows(x, kernel, stride, pads, out_size):
        return
    method = data.draw(st.sampled_from(["tflite", "tosa", "hexagon", "dpu", "ort", "pytorch"]))
    include = data.draw(st.booleans())
    lo, hi = type_range(name)
    zp = 0 if method == "dpu" else zero_point(data.draw, name)
    qmin = data.draw(st.one_of(st.just(lo), st.integers(lo, hi)))
    qmax = data.draw(st.one_of(st.just(hi), st.integers(qmin, hi)))
    dpu = (0, 0, 0)
    if method == "dpu":
        n, m = ref.dpu_average_factor(*kernel)
        dpu = (n, m, data.draw(st.integers(-3, 3)))
    s_in, s_out = data.draw(scale32), data.draw(scale32)
    zo = zero_point(data.draw, name)
    out = np.empty(x.shape[:2] + out_size, dtype=name)
    _kernels.avg_pool2d(x, kernel, stride, pads, include, method, zp, qmin, qmax, *dpu, s_in, zp, s_out, zo, out)
    want = ref.avg_pool2d(x.reshape(-1).tolist(), x.shape, out_size, kernel, stride, pads, include, method, zp, qmin,
                          qmax, dpu=dpu, ort=(s_in, zp, s_out, zo))
    assert out.reshape(-1).tolist() == want


@settings(max_examples=200, deadline=None)
@given(case=pool_case())
def test_max_pool2d_equals_reference(case):
    name, x, kernel, stride, pads, out_size = case
    if not _valid_windows(x, kernel, stride, pads, out_size):
        return
    out = np.empty(x.shape[:2] + out_size, dtype=name)
    _kernels.max_pool2d(x, kernel, stride, pads, out)
    assert out.reshape(-1).tolist() == ref.max_pool2d(x.reshape(-1).tolist(), x.shape, out_size, kernel, stride, pads)


def _enc(scale, zp, name):
    return fx.Encoding.from_zero_point(scale, zp, name)


GLOBAL_METHODS = ["tflite", "tflite_folded", "tflite_opt", "ort", "pytorch"]


def _global_reference(method, plane, enc_in, enc_out):
    """The exact model of one output element of ``global_average_pool(method)``."""
    args = (plane, int(enc_in.zero_point), enc_in.scale, int(enc_out.zero_point), enc_out.scale, enc_out.qmin,
            enc_out.qmax)
    if method == "pytorch":
        return ref.pytorch_mean(plane, int(enc_in.zero_point), enc_in.scale, enc_out.qmin, enc_out.qmax)
    return {"tflite": ref.tflite_mean, "tflite_folded": ref.tflite_mean_folded, "tflite_opt": ref.tflite_mean_opt,
            "ort": ref.ort_global_average}[method](*args)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_global_average_pool_equals_reference(data):
    """Every method of the one-call kernel equals its exact model (fxsim.reference.pooling):
    drawn planes of 1 to 12 x 12 codes with the range ends, zero points at the range ends, input
    and output storage that differ (int8 in, uint8 out ...), scale ratios over 2^+-12."""
    method = data.draw(st.sampled_from(GLOBAL_METHODS))
    name = data.draw(st.sampled_from(["int8", "uint8"] if method == "pytorch" else TYPES))
    out_name = name if method == "pytorch" else data.draw(st.sampled_from(TYPES))
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    lo, hi = type_range(name)
    x = np.array(data.draw(st.lists(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi])), min_size=n * c * h * w,
                                    max_size=n * c * h * w)), dtype=name).reshape(n, c, h, w)
    enc_in = _enc(data.draw(scale32), zero_point(data.draw, name), name)
    enc_out = enc_in if method == "pytorch" else _enc(data.draw(scale32), zero_point(data.draw, out_name), out_name)
    if method == "ort":
        scale = np.float32(enc_in.scale) / (np.float32(enc_out.scale) * np.float32(h * w))
        if not np.float32(2.0 ** -32) <= scale < np.float32(256):
            with pytest.raises(UnsupportedOpError):
                P.global_average_pool(x, enc_in, enc_out, method)
            return
    planes = x.reshape(n * c, h * w).tolist()
    try:
        want = [_global_reference(method, plane, enc_in, enc_out) for plane in planes]
    except ValueError:  # a window sum outside int32 (int16 planes at the range end)
        with pytest.raises(OverflowRangeError, match="int32 accumulator"):
            P.global_average_pool(x, enc_in, enc_out, method)
        return
    got = P.global_average_pool(x, enc_in, enc_out, method)
    assert got.shape == (n, c, 1, 1) and got.dtype == np.dtype(out_name)
    assert got.reshape(-1).tolist() == want


#: float32 scales from the subnormal to the huge: the float paths' edges (1 / s overflowing to
#: Inf, products that round to 0, clamps at both ends).
EDGE_SCALES = [float(np.float32(v)) for v in (2.0 ** -149, 2.0 ** -126, 1e-30, 2.0 ** -32, 1e-3, 0.5, 1.0, 3.0,
                                               2.0 ** 20, 9.9e32)]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_global_average_kernel_float_paths_at_scale_edges(data):
    """The kernel's float methods (ort, pytorch) called directly with extreme scales (which
    the prepared API refuses or never derives) still equal the exact models: NaN and out-of-range
    products land on the documented clamp ends, never an undefined conversion."""
    method = data.draw(st.sampled_from(["ort", "pytorch"]))
    name = data.draw(st.sampled_from(TYPES))
    lo, hi = type_range(name)
    count = data.draw(st.integers(1, 20))
    planes = data.draw(st.integers(1, 3))
    codes = data.draw(st.lists(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi, 0 if lo <= 0 else lo])),
                               min_size=planes * count, max_size=planes * count))
    x = np.array(codes, dtype=name)
    zp_in, zp_out = zero_point(data.draw, name), zero_point(data.draw, name)
    scale = data.draw(st.one_of(st.sampled_from(EDGE_SCALES), scale32))
    qmin = data.draw(st.one_of(st.just(lo), st.integers(lo, hi)))
    qmax = data.draw(st.one_of(st.just(hi), st.integers(qmin, hi)))
    out = np.empty(planes, dtype=name)
    rows = [codes[i * count:(i + 1) * count] for i in range(planes)]
    if method == "pytorch":
        _kernels.global_average_pool(x, count, 4, zp_in, 0, 0, zp_in, scale, qmin, qmax, out)
        want = [ref.pytorch_mean(r, zp_in, scale, qmin, qmax) for r in rows]
    else:
        want = []
        for r in rows:
            acc = sum(r) - zp_in * count
            want.append(rreq.requantize_fp32(acc, scale, zp_out, qmin, qmax, fx.RoundingMode.HALF_EVEN))
        _kernels.global_average_pool(x, count, 3, zp_in, 0, 0, zp_out, scale, qmin, qmax, out)
    assert out.tolist() == want


def test_global_average_int32_sum_edges():
    """The int32 window sum of the TFLite and ORT methods, at and one step past the int32 ends:
    at the end the result is the exact model's; past it OverflowRangeError naming the plane and
    the sum, where the exact model raises ValueError."""
    enc, half = _enc(1.0, 0, "int16"), _enc(2.0, 0, "int16")
    at_max = np.full((1, 1, 2, 32769), 32767, np.int16)  # sum = 65538 * 32767 = 2^31 - 2
    # scale ratio 1/2: MBQM(2^31 - 2, 2^30, 0) = 2^30 - 1, / 65538 = 16383.500008 -> 16384
    assert P.global_average_pool(at_max, enc, half, "tflite").item() == ref.tflite_mean(
        at_max.reshape(-1).tolist(), 0, 1.0, 0, 2.0, -32768, 32767) == 16384
    # ratio 1 (M = 2^30, left shift 1): TFLite's int32 `x * (1 << 1)` wraps 2^31 - 2 to -2 -> 0
    assert P.global_average_pool(at_max, enc, enc, "tflite").item() == ref.tflite_mean(
        at_max.reshape(-1).tolist(), 0, 1.0, 0, 1.0, -32768, 32767) == 0
    enc_zp = fx.Encoding.from_zero_point(1.0, -32768, "int16")
    past_max = np.full((1, 2, 1, 32769), 32767, np.int16)  # sum(code - zp) = 32769 * 65535 = 2^31 + 32767
    with pytest.raises(OverflowRangeError, match="plane 0: the window sum 2147516415 does not fit"):
        P.global_average_pool(past_max, enc_zp, enc_zp, "tflite")
    with pytest.raises(ValueError):
        ref.tflite_mean(past_max[0, 0].reshape(-1).tolist(), -32768, 1.0, -32768, 1.0, -32768, 32767)
    at_min = np.full((1, 1, 1, 65536), -32768, np.int16)  # raw sum = -2^31 exactly (tflite_opt sums raw codes)
    assert P.global_average_pool(at_min, enc, enc, "tflite_opt").item() == ref.tflite_mean_opt(
        at_min.reshape(-1).tolist(), 0, 1.0, 0, 1.0, -32768, 32767)
    past_min = np.full((1, 1, 1, 65537), -32768, np.int16)  # raw sum = -2^31 - 32768
    with pytest.raises(OverflowRangeError, match="plane 0: the window sum -2147516416 does not fit"):
        P.global_average_pool(past_min, enc, enc, "tflite_opt")


def test_global_average_kernel_errors_name_the_argument():
    x = np.zeros(8, np.int8)
    out = np.empty(2, np.int8)
    with pytest.raises(KernelError, match="^global_average_pool: .*count"):
        _kernels.global_average_pool(x, 3, 0, 0, 1 << 30, 0, 0, 1.0, -128, 127, out)
    with pytest.raises(KernelError, match="method"):
        _kernels.global_average_pool(x, 4, 7, 0, 1 << 30, 0, 0, 1.0, -128, 127, out)
    with pytest.raises(KernelError, match="shift"):
        _kernels.global_average_pool(x, 4, 0, 0, 1 << 30, 40, 0, 1.0, -128, 127, out)
    with pytest.raises(KernelError, match="in_zero_point"):
        _kernels.global_average_pool(x, 4, 0, 300, 1 << 30, 0, 0, 1.0, -128, 127, out)
    with pytest.raises(KernelError, match="scale"):
        _kernels.global_average_pool(x, 4, 3, 0, 0, 0, 0, 0.0, -128, 127, out)
    with pytest.raises(KernelError, match="scale"):
        _kernels.global_average_pool(x, 4, 4, 0, 0, 0, 0, 1e34, -128, 127, out)
    with pytest.raises(KernelError, match="qmin"):
        _kernels.global_average_pool(x, 4, 0, 0, 1 << 30, 0, 0, 1.0, -129, 127, out)
    with pytest.raises(KernelError, match="out"):
        _kernels.global_average_pool(x, 4, 0, 0, 1 << 30, 0, 0, 1.0, -128, 127, np.empty(3, np.int8))
    with pytest.raises(KernelError, match="out"):
        _kernels.global_average_pool(x, 4, 0, 0, 1 << 30, 0, 0, 1.0, -128, 127, np.empty(2, np.int32))
    with pytest.raises(EncodingError, match="too large"):
        P.global_average_pool(x.reshape(1, 2, 2, 2), _enc(1e34, 0, "int8"), _enc(1e34, 0, "int8"), "pytorch")
    with pytest.raises(EncodingError, match="folded bias -100000006144 .* does not fit int32"):
        P.global_average_pool(x.reshape(1, 2, 2, 2), _enc(1e4, 100, "int8"), _enc(1e-5, 0, "int8"), "tflite_opt")


def test_bindings_refuse_misaligned_and_strided_arrays():
    """Every array argument must be C-contiguous and aligned (csrc/bindings/array.h
    require_layout reads numpy's flags word): an int16 view one byte into a buffer is misaligned,
    a strided view is not contiguous; both are refused with the argument's name, never read."""
    raw = np.zeros(2 * 8 + 1, np.uint8)
    misaligned = raw[1:].view(np.int16)
    assert not misaligned.flags.aligned
    out = np.empty(2, np.int16)
    with pytest.raises(KernelError, match="^global_average_pool: x must be aligned"):
        _kernels.global_average_pool(misaligned, 4, 0, 0, 1 << 30, 0, 0, 1.0, -32768, 32767, out)
    strided = np.zeros(16, np.int16)[::2]
    with pytest.raises(KernelError, match="x must be C-contiguous"):
        _kernels.global_average_pool(strided, 4, 0, 0, 1 << 30, 0, 0, 1.0, -32768, 32767, out)
    aligned = misaligned.copy()  # (ascontiguousarray would return the misaligned view itself)
    _kernels.global_average_pool(aligned, 4, 0, 0, 1 << 30, 0, 0, 1.0, -32768, 32767, out)
    assert out.tolist() == [0, 0]


def test_targets_vectors_at_kernel_level():
    """TARGETS.md "Known differences": DPU 3x3 (7/64) sum 900 -> 98; Hexagon count 6, sum 3 -> 0
    where TFLite gives 1 (research notes D4, D5)."""
    enc = _enc(1.0, 0, "int8")
    x = np.full((1, 1, 3, 3), 100, np.int8)  # a 3x3 window summing to 900
    assert P.avg_pool2d(x, enc, 3, method="dpu").item() == 98
    assert P.avg_pool2d(x, enc, 3, method="tflite").item() == 100
    # count 6 (a 3x3 window at the top edge with one padded row), sum 3
    y = np.array([[0, 1, 0], [1, 0, 1]], np.uint8).reshape(1, 1, 2, 3)
    enc_u = _enc(1.0, 0, "uint8")
    args = dict(kernel=3, stride=1, pads=(1, 0, 0, 0))
    assert P.avg_pool2d(y, enc_u, method="hexagon", **args)[0, 0, 0, 0] == 0
    assert P.avg_pool2d(y, enc_u, method="tflite", **args)[0, 0, 0, 0] == 1
    assert P.avg_pool2d(y, enc_u, method="tosa", **args)[0, 0, 0, 0] == 1


def test_ort_average_requantizes_and_uses_global_path():
    x = np.arange(-8, 8, dtype=np.int8).reshape(1, 1, 4, 4)
    enc_in, enc_out = _enc(0.1, 2, "int8"), _enc(0.03, -5, "int8")
    got = P.avg_pool2d(x, enc_in, 2, method="ort", enc_out=enc_out)
    want = ref.avg_pool2d(x.reshape(-1).tolist(), x.shape, (2, 2), (2, 2), (2, 2), (0, 0, 0, 0), False, "ort",
                          ort=(float(np.float32(0.1)), 2, float(np.float32(0.03)), -5))
    assert got.reshape(-1).tolist() == want
    whole = P.avg_pool2d(x, enc_in, 4, method="ort", enc_out=enc_out)
    assert np.array_equal(whole, P.global_average_pool(x, enc_in, enc_out, "ort"))


def test_api_errors_name_the_argument():
    x = np.zeros((1, 1, 4, 4), np.int8)
    enc = _enc(0.5, 0, "int8")
    with pytest.raises(EncodingError, match="method"):
        P.avg_pool2d(x, enc, 2, method="mean")
    with pytest.raises(EncodingError, match="enc_out must equal enc_in"):
        P.avg_pool2d(x, enc, 2, enc_out=_enc(0.25, 0, "int8"))
    with pytest.raises(EncodingError, match="pads"):
        P.avg_pool2d(x, enc, 2, pads=(2, 0, 0, 0))
    with pytest.raises(EncodingError, match="power-of-two"):
        P.avg_pool2d(x, _enc(0.3, 0, "int8"), 2, method="dpu")
    with pytest.raises(FormatError, match="NCHW"):
        P.max_pool2d(np.zeros((4, 4), np.int8), 2)
    with pytest.raises(FormatError, match="int8, uint8 or int16"):
        P.max_pool2d(np.zeros((1, 1, 4, 4), np.int32), 2)
    with pytest.raises(EncodingError, match="kernel"):
        P.max_pool2d(x, 0)
    out = np.empty((1, 1, 2, 2), np.int8)
    with pytest.raises(KernelError, match="^avg_pool2d: .*method"):
        _kernels.avg_pool2d(x, (2, 2), (2, 2), (0, 0, 0, 0), False, "mean", 0, -128, 127, 0, 0, 0, 1.0, 0, 1.0, 0,
                            out)
    with pytest.raises(KernelError, match="zero_point"):
        _kernels.avg_pool2d(x, (2, 2), (2, 2), (0, 0, 0, 0), False, "tflite", 300, -128, 127, 0, 0, 0, 1.0, 0, 1.0,
                            0, out)
    with pytest.raises(KernelError, match="no input"):
        _kernels.max_pool2d(x, (2, 2), (2, 2), (0, 0, 0, 0), np.empty((1, 1, 4, 2), np.int8))
    with pytest.raises(KernelError, match="same dtype"):
        _kernels.max_pool2d(x, (2, 2), (2, 2), (0, 0, 0, 0), np.empty((1, 1, 2, 2), np.uint8))


def test_large_calls_isa_and_thread_identical(restore_kernels):
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, size=(2, 64, 28, 28), dtype=np.int8)
    enc_in, enc_out = _enc(0.05, 3, "int8"), _enc(0.04, -2, "int8")
    assert_isa_and_thread_identical({
        "avg_tflite": lambda: P.avg_pool2d(x, enc_in, 3, 1, (1, 1, 1, 1)),
        "avg_ort": lambda: P.avg_pool2d(x, enc_in, 3, 2, (1, 1, 1, 1), method="ort", enc_out=enc_out),
        "max": lambda: P.max_pool2d(x, 3, 2, (1, 1, 1, 1)),
        "global_tflite": lambda: P.global_average_pool(x, enc_in, enc_out),
        **{f"global_{m}": (lambda m=m: P.global_average_pool(x, enc_in, enc_in if m == "pytorch" else enc_out, m))
           for m in GLOBAL_METHODS},
    })
