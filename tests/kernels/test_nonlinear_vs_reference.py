"""TFLite's integer softmax / logistic / tanh / hard-swish and the gemmlowp fixed-point primitives
under them: the C++ (csrc/fxsim/fixedpoint/fixedpoint_math.h, csrc/fxsim/kernels/nonlinear.h)
equals the exact Python model (fxsim/reference/fixedpoint_math.py, nonlinear.py) with ``==``.

Primitives: hypothesis draws int32 values biased to type extremes, zero, powers of two and the
functions' domain ends. Kernels: logistic, tanh and hard-swish exhaustively over all 256 codes of
int8 and uint8 at several scales and zero points; softmax on drawn rows (depth 1..300, all-equal
rows, the type extremes, beta and scale at the ends of the allowed range) and on named edge cases.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import _kernels
from fxsim.errors import KernelError, OverflowRangeError
from fxsim.reference import fixedpoint_math as ref
from fxsim.reference import nonlinear as ref_nl

from kernel_helpers import assert_isa_and_thread_identical

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def _special32():
    out = {I32_MIN, I32_MIN + 1, -1, 0, 1, I32_MAX - 1, I32_MAX}
    for k in range(31):
        out |= {1 << k, -(1 << k), (1 << k) - 1, -(1 << k) + 1}
    return sorted(v for v in out if I32_MIN <= v <= I32_MAX)


SPECIAL32 = _special32()
INT32 = st.one_of(st.integers(I32_MIN, I32_MAX), st.sampled_from(SPECIAL32))
INT16 = st.one_of(st.integers(-32768, 32767), st.sampled_from([-32768, -32767, -1, 0, 1, 16384, 32767]))


def arr32(values):
    return np.array(values, dtype=np.int32)


# ------------------------------------------------------------------------------------------
# primitives
# ------------------------------------------------------------------------------------------

@given(st.lists(st.one_of(INT32, st.integers(-(1 << 29), -1)), min_size=1, max_size=64))
def test_exp_on_interval_equals_reference(values):
    got = _kernels.exp_on_interval_between_negative_one_quarter_and_0_excl(arr32(values))
    assert got.tolist() == [ref.exp_on_interval_between_negative_one_quarter_and_0_excl(v) for v in values]


@given(st.lists(st.one_of(INT32, st.integers(I32_MIN, 0)), min_size=1, max_size=64), st.integers(0, 29))
def test_exp_on_negative_values_equals_reference(values, integer_bits):
    got = _kernels.exp_on_negative_values(arr32(values), integer_bits)
    assert got.tolist() == [ref.exp_on_negative_values(v, integer_bits) for v in values]


@pytest.mark.parametrize("integer_bits", [0, 1, 4, 5, 6, 12, 29])
def test_exp_on_negative_values_grid(integer_bits):
    values = list(range(I32_MIN, 1, (1 << 31) // 4099)) + [0, -1, I32_MIN]
    got = _kernels.exp_on_negative_values(arr32(values), integer_bits)
    assert got.tolist() == [ref.exp_on_negative_values(v, integer_bits) for v in values]


@given(st.lists(st.one_of(INT32, st.integers(0, I32_MAX)), min_size=1, max_size=64))
def test_one_over_and_one_minus_over_one_plus_x_equal_reference(values):
    a = arr32(values)
    assert _kernels.one_over_one_plus_x_for_x_in_0_1(a).tolist() == [
        ref.one_over_one_plus_x_for_x_in_0_1(v) for v in values]
    assert _kernels.one_minus_x_over_one_plus_x_for_x_in_0_1(a).tolist() == [
        ref.one_minus_x_over_one_plus_x_for_x_in_0_1(v) for v in values]


@given(st.lists(INT32, min_size=1, max_size=64), st.integers(0, 28))
def test_logistic_and_tanh_equal_reference(values, integer_bits):
    a = arr32(values)
    assert _kernels.fixedpoint_logistic(a, integer_bits).tolist() == [ref.logistic(v, integer_bits) for v in values]
    assert _kernels.fixedpoint_tanh(a, integer_bits).tolist() == [ref.tanh(v, integer_bits) for v in values]


def test_logistic_integer_bits_29_and_argument_errors():
    a = arr32(SPECIAL32)
    assert _kernels.fixedpoint_logistic(a, 29).tolist() == [ref.logistic(v, 29) for v in SPECIAL32]
    with pytest.raises(KernelError, match="fixedpoint_tanh: integer_bits = 29"):
        _kernels.fixedpoint_tanh(a, 29)
    with pytest.raises(KernelError, match="exp_on_negative_values: integer_bits = 30"):
        _kernels.exp_on_negative_values(a, 30)
    with pytest.raises(KernelError, match="a must be a int32 array"):
        _kernels.fixedpoint_logistic(a.astype(np.int64), 4)


@given(st.lists(st.tuples(INT32, INT32), min_size=1, max_size=64))
def test_rounding_half_sum_equals_reference(pairs):
    a, b = arr32([p[0] for p in pairs]), arr32([p[1] for p in pairs])
    assert _kernels.rounding_half_sum(a, b).tolist() == [ref.rounding_half_sum(x, y) for x, y in pairs]


@given(st.lists(st.tuples(INT32, st.integers(-31, 31)), min_size=1, max_size=64))
def test_saturating_rounding_multiply_by_pot_equals_reference(pairs):
    x, e = arr32([p[0] for p in pairs]), arr32([p[1] for p in pairs])
    got = _kernels.saturating_rounding_multiply_by_pot(x, e)
    assert got.tolist() == [ref.saturating_rounding_multiply_by_pot(v, k) for v, k in pairs]


def test_saturating_rounding_multiply_by_pot_thresholds():
    # gemmlowp saturates x < -(2^(31-e) - 1): -2^(31-e) saturates although x * 2^e fits
    assert ref.saturating_rounding_multiply_by_pot(-(1 << 29), 2) == I32_MIN
    assert ref.saturating_rounding_multiply_by_pot(-(1 << 29) + 1, 2) == -(1 << 31) + 4
    assert ref.saturating_rounding_multiply_by_pot((1 << 29) - 1, 2) == (1 << 31) - 4
    assert ref.saturating_rounding_multiply_by_pot(1 << 29, 2) == I32_MAX
    with pytest.raises(KernelError, match="index 1: exponent = 32"):
        _kernels.saturating_rounding_multiply_by_pot(arr32([1, 1]), arr32([0, 32]))


@given(st.lists(st.one_of(INT32, st.integers(1, 1 << 31)).filter(lambda v: v != 0).map(
    lambda v: v if v <= I32_MAX else I32_MIN), min_size=1, max_size=64), st.integers(0, 31))
def test_get_reciprocal_equals_reference(values, integer_bits):
    r, n = _kernels.get_reciprocal(arr32(values), integer_bits)
    want = [ref.get_reciprocal(v, integer_bits) for v in values]
    assert list(zip(r.tolist(), n.tolist())) == want


def test_get_reciprocal_rejects_zero():
    with pytest.raises(KernelError, match="get_reciprocal: index 1: x must be nonzero"):
        _kernels.get_reciprocal(arr32([5, 0]), 12)


@given(st.lists(st.tuples(INT16, INT16), min_size=1, max_size=64))
def test_int16_products_equal_reference(pairs):
    a = np.array([p[0] for p in pairs], np.int16)
    b = np.array([p[1] for p in pairs], np.int16)
    assert _kernels.srdhm16(a, b).tolist() == [ref.srdhm16(x, y) for x, y in pairs]
    assert _kernels.saturating_doubling_high_mul16(a, b).tolist() == [
        ref.saturating_doubling_high_mul16(x, y) for x, y in pairs]


@given(st.lists(st.tuples(INT16, st.integers(0, 31), st.integers(0, 30)), min_size=1, max_size=64))
def test_int16_shifts_equal_reference(cases):
    x = np.array([c[0] for c in cases], np.int16)
    e = arr32([c[1] for c in cases])
    s = arr32([c[2] for c in cases])
    assert _kernels.rounding_divide_by_pot16(x, e).tolist() == [ref.rdbpot16(c[0], c[1]) for c in cases]
    assert _kernels.saturating_left_shift16(x, s).tolist() == [ref.saturating_left_shift16(c[0], c[2]) for c in cases]


def test_int16_srdhm_matches_gemmlowp_nudge_form():
    # an independent check of the half-up reading: gemmlowp's nudge-and-truncate int16 form
    for a in range(-32768, 32768, 257):
        for b in (-32768, -32767, -3, -1, 0, 1, 3, 12345, 32767):
            ab = a * b
            nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
            q = abs(ab + nudge) // (1 << 15) * (1 if ab + nudge >= 0 else -1)
            want = 32767 if a == b == -32768 else q
            assert ref.srdhm16(a, b) == want


# ------------------------------------------------------------------------------------------
# logistic / tanh / hard-swish: exhaustive over the 256 codes
# ------------------------------------------------------------------------------------------

SCALES = [2.0 ** -28, 1e-4, 0.0078125, 0.02, 0.0625, 0.1, 0.2345, 0.5, 1.0, 3.7, 15.9, 16.0, 100.0]


def _f32(x):
    return float(np.float32(x))


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("op", ["logistic", "tanh"])
def test_logistic_tanh_exhaustive_equals_reference(op, scale, dtype):
    info = np.iinfo(dtype)
    codes = np.arange(info.min, info.max + 1, dtype=dtype)
    params = getattr(ref_nl, f"{op}_params")(_f32(scale))
    kernel = getattr(_kernels, f"{op}_tflite")
    for zp in sorted({int(info.min), int(info.max), 0 if dtype == "int8" else 128, 3}):
        m, s, radius = params
        out = np.empty_like(codes)
        kernel(codes, zp, radius, m, s, out)
        assert out.tolist() == getattr(ref_nl, op)(codes.tolist(), dtype, zp, radius, m, s), (zp, params)


HS_CASES = [(0.05, 0.06), (0.1, 0.1), (0.02, 0.7), (1e-3, 2e-3), (0.5, 0.004), (2.0, 1.5), (12.0, 10.0),
            (1e-6, 1e-6), (0.023529412, 0.0117647), (0.1, 0.0007813)]


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
@pytest.mark.parametrize("scales", HS_CASES)
def test_hard_swish_exhaustive_equals_reference(scales, dtype):
    info = np.iinfo(dtype)
    codes = np.arange(info.min, info.max + 1, dtype=dtype)
    p = ref_nl.hard_swish_params(_f32(scales[0]), _f32(scales[1]))
    for zp_in, zp_out in [(0, 0), (int(info.min), int(info.max)), (int(info.max), int(info.min)), (5, -3 % 256 if dtype == "uint8" else -3)]:
        out = np.empty_like(codes)
        _kernels.hard_swish_tflite(codes, zp_in, zp_out, *p, out)
        assert out.tolist() == ref_nl.hard_swish(codes.tolist(), dtype, zp_in, zp_out, *p), (p, zp_in, zp_out)


def test_hard_swish_long_input_every_isa_equals_reference():
    # a long input of odd length (full vectors and a tail of the byte lookup, array_kernels.inc
    # lookup_bytes) under every ISA variant
    rng = np.random.default_rng(7)
    codes = rng.integers(-128, 128, size=4099).astype(np.int8)
    p = ref_nl.hard_swish_params(_f32(HS_CASES[0][0]), _f32(HS_CASES[0][1]))
    table = ref_nl.hard_swish(list(range(-128, 128)), "int8", 3, -5, *p)
    want = [table[v + 128] for v in codes.tolist()]
    active = _kernels.isa()
    try:
        for isa in _kernels.available_isas():
            _kernels.set_isa(isa)
            out = np.empty_like(codes)
            _kernels.hard_swish_tflite(codes, 3, -5, *p, out)
            assert out.tolist() == want, isa
    finally:
        _kernels.set_isa(active)


@given(st.integers(-32768, 32767), st.integers(-31, 31), st.integers(-32768, 32767), st.integers(-31, 0),
       st.integers(-128, 127), st.integers(-128, 127))
def test_hard_swish_any_parameters_equal_reference(m_r, e_r, m_o, e_o, zp_in, zp_out):
    codes = np.arange(-128, 128, dtype=np.int8)
    out = np.empty_like(codes)
    _kernels.hard_swish_tflite(codes, zp_in, zp_out, m_r, e_r, m_o, e_o, out)
    assert out.tolist() == ref_nl.hard_swish(codes.tolist(), "int8", zp_in, zp_out, m_r, e_r, m_o, e_o)


@given(st.integers(0, 62), st.integers(0, I32_MAX), st.data())
def test_logistic_tanh_any_parameters_equal_reference(shift, multiplier, data):
    bound = ref_nl.calculate_input_radius(4, shift)
    radius = data.draw(st.one_of(st.integers(0, bound), st.sampled_from([0, bound])))
    zp = data.draw(st.integers(-128, 127))
    codes = np.arange(-128, 128, dtype=np.int8)
    for op in ("logistic", "tanh"):
        out = np.empty_like(codes)
        getattr(_kernels, f"{op}_tflite")(codes, zp, radius, multiplier, shift, out)
        assert out.tolist() == getattr(ref_nl, op)(codes.tolist(), "int8", zp, radius, multiplier, shift)


def test_elementwise_kernel_argument_errors():
    x = np.zeros(4, np.int8)
    out = np.empty_like(x)
    with pytest.raises(KernelError, match="logistic_tflite: input_range_radius = 100000 is outside"):
        _kernels.logistic_tflite(x, 0, 100000, 1 << 30, 24, out)
    with pytest.raises(KernelError, match="tanh_tflite: input_left_shift = 63"):
        _kernels.tanh_tflite(x, 0, 0, 1 << 30, 63, out)
    with pytest.raises(KernelError, match="input_zero_point = 200 is outside the input type"):
        _kernels.logistic_tflite(x, 200, 0, 1 << 30, 24, out)
    with pytest.raises(KernelError, match="out must have the dtype of x"):
        _kernels.logistic_tflite(x, 0, 0, 1 << 30, 24, np.empty(4, np.uint8))
    with pytest.raises(KernelError, match="x must be an int8 or uint8 array"):
        _kernels.tanh_tflite(x.astype(np.int16), 0, 0, 1 << 30, 24, np.empty(4, np.int16))
    with pytest.raises(KernelError, match="hard_swish_tflite: output_exponent = 1"):
        _kernels.hard_swish_tflite(x, 0, 0, 100, 0, 100, 1, out)
    with pytest.raises(KernelError, match="must be int16 values"):
        _kernels.hard_swish_tflite(x, 0, 0, 40000, 0, 100, 0, out)
    with pytest.raises(KernelError, match="out must have the shape of x"):
        _kernels.hard_swish_tflite(x, 0, 0, 100, 0, 100, 0, np.empty(3, np.int8))


# ------------------------------------------------------------------------------------------
# softmax
# ------------------------------------------------------------------------------------------

def _run_softmax(x, params, out_dtype):
    out = np.empty(x.shape, dtype=out_dtype)
    _kernels.softmax_tflite(x, *params, out)
    return out


def _check_softmax(x, params, out_dtype):
    """C++ equals the reference, or both refuse (TFLite's TFLITE_CHECK) naming the same row."""
    rows = x.reshape(-1, x.shape[-1]).tolist()
    try:
        want = ref_nl.softmax(rows, str(x.dtype), out_dtype, *params)
    except ValueError as err:
        row = str(err).split("row ")[1].split(":")[0]
        with pytest.raises(OverflowRangeError, match=f"softmax_tflite: row {row}:"):
            _run_softmax(x, params, out_dtype)
        return None
    got = _run_softmax(x, params, out_dtype)
    assert got.reshape(len(rows), -1).tolist() == want
    return got


@st.composite
def softmax_case(draw):
    in_dtype = draw(st.sampled_from(["int8", "uint8"]))
    out_dtype = draw(st.sampled_from(["int8", "uint8", "int16"]))
    info = np.iinfo(in_dtype)
    outer = draw(st.integers(1, 4))
    depth = draw(st.one_of(st.integers(1, 8), st.integers(1, 300)))
    kind = draw(st.sampled_from(["any", "equal", "extremes", "narrow"]))
    if kind == "equal":
        v = draw(st.integers(int(info.min), int(info.max)))
        x = np.full((outer, depth), v, dtype=in_dtype)
    elif kind == "extremes":
        x = np.array(draw(st.lists(st.sampled_from([int(info.min), int(info.max)]), min_size=outer * depth,
                                   max_size=outer * depth)), dtype=in_dtype).reshape(outer, depth)
    else:
        lo = int(info.min) if kind == "any" else draw(st.integers(int(info.min), int(info.max) - 3))
        hi = int(info.max) if kind == "any" else lo + 3
        seed = draw(st.integers(0, 2 ** 32 - 1))
        x = np.random.default_rng(seed).integers(lo, hi + 1, size=(outer, depth)).astype(in_dtype)
    beta = draw(st.sampled_from([1.0, 0.5, 2.0, 1e-3, 1e3]))
    scale = draw(st.one_of(st.sampled_from([2.0 ** -20, 1 / 256, 0.0625, 0.1, 0.5, 1.0, 8.0, 100.0, 1e6]),
                           st.floats(1e-6, 50.0)))
    real = _f32(beta) * _f32(scale) * 2.0 ** 26
    if not real > 1.0:
        beta, scale = 1.0, 0.1
    return x, ref_nl.softmax_params(_f32(beta), _f32(scale)), out_dtype


@given(softmax_case())
def test_softmax_equals_reference(case):
    x, params, out_dtype = case
    _check_softmax(x, params, out_dtype)


@given(st.integers(0, 31), st.integers(0, I32_MAX), st.data())
def test_softmax_any_parameters_equal_reference(shift, multiplier, data):
    radius = ref_nl.calculate_input_radius(5, shift)
    diff_min = -data.draw(st.one_of(st.integers(0, radius), st.sampled_from([0, radius])))
    x = np.array(data.draw(st.lists(st.integers(-128, 127), min_size=1, max_size=40)), np.int8)
    _check_softmax(x, (multiplier, shift, diff_min), data.draw(st.sampled_from(["int8", "int16"])))


@pytest.mark.parametrize("out_dtype", ["int8", "uint8", "int16"])
def test_softmax_edges(out_dtype):
    p = ref_nl.softmax_params(1.0, _f32(0.1))
    # depth 1: probability 1 -> the largest code (256 - 128 clamps to 127)
    _check_softmax(np.array([[-128], [127]], np.int8), p, out_dtype)
    # all equal rows of several depths, and large depths (the 8-bit TFLITE_CHECK starts at 512)
    for depth in (2, 3, 255, 256, 511, 512, 513, 1000):
        _check_softmax(np.full((1, depth), 7, np.int8), p, out_dtype)
    # a single maximum against the minimum: every other entry below diff_min or tiny
    _check_softmax(np.array([[127] + [-128] * 999], np.int8), p, out_dtype)
    # beta * scale just above 2^-26 (multiplier barely > 1) and huge (capped at 2^31 - 1)
    tiny = ref_nl.softmax_params(1.0, _f32(2.0 ** -26 * 1.0000001))
    huge = ref_nl.softmax_params(_f32(1e30), _f32(1e8))
    assert huge == (I32_MAX, 31, 0)
    x = np.random.default_rng(0).integers(-128, 128, size=(8, 33)).astype(np.int8)
    for params in (tiny, huge):
        _check_softmax(x, params, out_dtype)


def test_softmax_wrapping_sum_is_modelled():
    # 4097 equal entries: the Q12.19 int32 sum 4097 * 2^19 wraps negative -> TFLite's check fails;
    # 8193 equal entries wrap to 2^19 (one) and TFLite happily returns probability one everywhere.
    p = ref_nl.softmax_params(1.0, _f32(0.1))
    _check_softmax(np.zeros((1, 4097), np.int8), p, "int16")
    got = _check_softmax(np.zeros((1, 8193), np.int8), p, "int16")
    assert got is not None and int(got.max()) == 32767


def test_softmax_errors_name_the_row_and_arguments():
    p = ref_nl.softmax_params(1.0, _f32(0.1))
    x = np.zeros((3, 600), np.int8)
    x[0, :] = np.arange(600) % 200 - 100
    with pytest.raises(OverflowRangeError, match="softmax_tflite: row 1: .* below 512"):
        _run_softmax(x, p, np.int8)
    with pytest.raises(KernelError, match="softmax_tflite: diff_min = -5000 is outside"):
        _run_softmax(x, (p[0], p[1], -5000), np.int8)
    with pytest.raises(KernelError, match="softmax_tflite: input_left_shift = 32"):
        _run_softmax(x, (p[0], 32, 0), np.int8)
    with pytest.raises(KernelError, match="out must be an int8, uint8 or int16 array"):
        _run_softmax(x, p, np.int32)
    with pytest.raises(KernelError, match="depth .* must be >= 1"):
        _run_softmax(np.zeros((2, 0), np.int8), p, np.int8)


def test_softmax_isa_and_threads_identical(restore_kernels):
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, size=(300, 129)).astype(np.int8)
    p = ref_nl.softmax_params(1.0, _f32(0.05))
    q = rng.integers(-128, 128, size=300_001).astype(np.int8)
    lt = ref_nl.logistic_params(_f32(0.07))
    assert_isa_and_thread_identical({
        "softmax": lambda: _run_softmax(x, p, np.int8),
        "logistic": lambda: (lambda o: (_kernels.logistic_tflite(q, 3, lt[2], lt[0], lt[1], o), o)[1])(
            np.empty_like(q)),
    })


# ------------------------------------------------------------------------------------------
# int16 softmax (TFLite SoftmaxInt16 with its exp and 1/(1+x) tables)
# ------------------------------------------------------------------------------------------

LUTS = ref_nl.softmax_int16_luts()
LUT_ARRAYS = tuple(np.array(t, np.int16) for t in LUTS)


def _check_softmax_int16(x, params, luts=LUT_ARRAYS):
    rows = x.reshape(-1, x.shape[-1]).tolist()
    try:
        want = ref_nl.softmax_int16(rows, *params, *[t.tolist() for t in luts])
    except ValueError as err:
        row = str(err).split("row ")[1].split(":")[0]
        with pytest.raises(OverflowRangeError, match=f"softmax_int16_tflite: row {row}:"):
            _kernels.softmax_int16_tflite(x, *params, *luts, np.empty_like(x))
        return None
    out = np.empty_like(x)
    _kernels.softmax_int16_tflite(x, *params, *luts, out)
    assert out.reshape(len(rows), -1).tolist() == want
    return out


@st.composite
def softmax_int16_case(draw):
    outer = draw(st.integers(1, 3))
    depth = draw(st.one_of(st.integers(1, 8), st.integers(1, 200)))
    kind = draw(st.sampled_from(["any", "equal", "extremes", "narrow"]))
    if kind == "equal":
        x = np.full((outer, depth), draw(st.integers(-32768, 32767)), np.int16)
    elif kind == "extremes":
        x = np.array(draw(st.lists(st.sampled_from([-32768, 32767, 0]), min_size=outer * depth,
                                   max_size=outer * depth)), np.int16).reshape(outer, depth)
    else:
        lo = -32768 if kind == "any" else draw(st.integers(-32768, 32767 - 300))
        hi = 32767 if kind == "any" else lo + 300
        seed = draw(st.integers(0, 2 ** 32 - 1))
        x = np.random.default_rng(seed).integers(lo, hi + 1, size=(outer, depth)).astype(np.int16)
    scale = draw(st.sampled_from([1 / 32768, 1 / 3276.8, 1e-3, 0.01, 1e-6, 0.5]))
    beta = draw(st.sampled_from([1.0, 0.5, 3.0]))
    return x, ref_nl.softmax_int16_params(_f32(beta), _f32(scale))


@given(softmax_int16_case())
def test_softmax_int16_equals_reference(case):
    _check_softmax_int16(*case)


@given(st.integers(0, I32_MAX), st.integers(-31, 31), st.lists(st.integers(-32768, 32767), min_size=1, max_size=50),
       st.integers(0, 2 ** 32 - 1))
def test_softmax_int16_any_parameters_and_tables_equal_reference(multiplier, shift, row, seed):
    rng = np.random.default_rng(seed)
    luts = tuple(rng.integers(-32768, 32768, size=513).astype(np.int16) for _ in range(2))
    _check_softmax_int16(np.array([row], np.int16), (multiplier, shift))
    _check_softmax_int16(np.array([row], np.int16), (multiplier, shift), luts)


def test_softmax_int16_argument_errors():
    x = np.zeros((2, 3), np.int16)
    with pytest.raises(KernelError, match="exp_lut must have 513 elements"):
        _kernels.softmax_int16_tflite(x, 1 << 30, 0, LUT_ARRAYS[0][:512], LUT_ARRAYS[1], np.empty_like(x))
    with pytest.raises(KernelError, match="input_left_shift = 32"):
        _kernels.softmax_int16_tflite(x, 1 << 30, 32, *LUT_ARRAYS, np.empty_like(x))
    with pytest.raises(KernelError, match="x must be a int16 array"):
        _kernels.softmax_int16_tflite(x.astype(np.int8), 1 << 30, 0, *LUT_ARRAYS, np.empty((2, 3), np.int8))


# ------------------------------------------------------------------------------------------
# int16 logistic / tanh (reference_integer_ops::Logistic / Tanh for int16)
# ------------------------------------------------------------------------------------------

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)

# (input_multiplier, input_left_shift): the power-of-two forms (0, 0) / (0, 1), the parameters
# Prepare derives for common scales (fxsim/reference/nonlinear.py logistic_tanh_int16_params),
# the smallest and largest shifts, and the largest multiplier the int32 product allows
INT16_PARAMS = [(0, 0), (0, 1), (24576, 12), (24576, 11), (25165, 11), (18432, 14), (16384, 1), (32767, 31),
                (61440, 0), (65535, 0), (3, 0), (1, 0)]


@pytest.mark.parametrize("m, s", INT16_PARAMS)
def test_logistic_tanh_int16_exhaustive_equal_reference(m, s):
    for kernel, model in ((_kernels.logistic_int16_tflite, ref_nl.logistic_int16),
                          (_kernels.tanh_int16_tflite, ref_nl.tanh_int16)):
        out = np.empty_like(ALL_INT16)
        kernel(ALL_INT16, m, s, out)
        assert out.tolist() == model(ALL_INT16.tolist(), m, s), (kernel.__name__, m, s)


@given(st.integers(1, 65535), st.integers(0, 31), st.lists(INT16, min_size=1, max_size=64))
def test_logistic_tanh_int16_drawn_params_equal_reference(m, s, values):
    bound_ok = 32767 * m + ((1 << (s - 1)) if s else 0) <= I32_MAX and -32768 * m + ((1 << (s - 1)) if s else 0) > I32_MIN
    x = np.array(values, np.int16)
    out = np.empty_like(x)
    if not bound_ok:
        with pytest.raises(KernelError, match="overflows"):
            _kernels.logistic_int16_tflite(x, m, s, out)
        return
    _kernels.logistic_int16_tflite(x, m, s, out)
    assert out.tolist() == ref_nl.logistic_int16(values, m, s)
    _kernels.tanh_int16_tflite(x, m, s, out)
    assert out.tolist() == ref_nl.tanh_int16(values, m, s)


def test_sigmoid_table_is_tflites():
    # the kernel's table equals the model's copy; documented entries: sigmoid(0) = 32768 / 65536,
    # sigmoid(1/24) -> 33451, the last entry saturated at 65535 (tensorflow/lite/kernels/internal/common.h)
    table = _kernels.sigmoid_table_uint16()
    assert table.tolist() == list(ref_nl.SIGMOID_TABLE_UINT16)
    assert table[0] == 32768 and table[1] == 33451 and table[255] == 65535
    exact = 65536 / (1 + np.exp(-np.arange(256) / 24))
    assert np.all(np.abs(table - exact) < 2) and np.all(np.diff(table.astype(np.int64)) >= 0)


def test_logistic_tanh_int16_documented_values():
    # power-of-two input scale 2^-12 (multiplier 0, shift 0): q = 4096 is x = 1.0;
    # logistic(1) = 0.731059 -> 23956 / 32768 (the table interpolation; exact 23955.1),
    # tanh(1) = 0.761594 -> 24956; symmetric inputs: logistic(-1) = 8812, tanh(-1) = -24956;
    # logistic(0) = 16384, tanh(0) = 0, saturation 32767 / 1 and 32767 / -32767
    x = np.array([4096, -4096, 0, 32767, -32768], np.int16)
    out = np.empty_like(x)
    _kernels.logistic_int16_tflite(x, 0, 0, out)
    assert out.tolist() == [23956, 8812, 16384, 32757, 11]
    _kernels.tanh_int16_tflite(x, 0, 0, out)
    assert out.tolist() == [24956, -24956, 0, 32767, -32767]


def test_logistic_tanh_int16_rejects_bad_parameters():
    x = np.zeros(4, np.int16)
    out = np.empty_like(x)
    with pytest.raises(KernelError, match="logistic_int16_tflite: input_left_shift"):
        _kernels.logistic_int16_tflite(x, 3, 32, out)
    with pytest.raises(KernelError, match="must be <= 14"):
        _kernels.tanh_int16_tflite(x, 0, 15, out)
    with pytest.raises(KernelError, match="overflows"):
        _kernels.tanh_int16_tflite(x, 65536, 0, out)
    with pytest.raises(KernelError, match="int16"):
        _kernels.tanh_int16_tflite(x.astype(np.int8), 3, 0, out)


@pytest.mark.parametrize("op", ["logistic", "tanh"])
@pytest.mark.parametrize("scale", [2.0 ** -12, 2.0 ** -11, 2.0 ** -10, 2.0 ** -15, 3.0517578e-05, 1e-3, 0.25, 2.5])
def test_int16_params_equal_reference(op, scale):
    from fxsim.arith.nonlinear import logistic_tanh_int16_params

    s = float(np.float32(scale))
    assert tuple(logistic_tanh_int16_params(op, s)) == ref_nl.logistic_tanh_int16_params(op, s)
