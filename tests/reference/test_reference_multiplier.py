"""fxsim.reference.fixedpoint and .multiplier against documented vectors and properties."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import constants as C
from fxsim.reference import fixedpoint as fp
from fxsim.reference import multiplier as mul

INT32 = st.integers(C.INT32_MIN, C.INT32_MAX)
NORMALIZED_M = st.integers(1 << 30, C.INT32_MAX)


# ---------------------------------------------------------------- gemmlowp primitives

def test_srdhm_saturation_and_ties():
    # gemmlowp fixedpoint.h: INT32_MIN * INT32_MIN is the one saturating case
    assert fp.saturating_rounding_doubling_high_mul(C.INT32_MIN, C.INT32_MIN) == C.INT32_MAX
    # research 0 (verified): SRDHM rounds half up: -0.5 -> 0, -1.5 -> -1, 0.5 -> 1
    assert fp.saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0
    assert fp.saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1
    assert fp.saturating_rounding_doubling_high_mul(1, 1 << 30) == 1


def _gemmlowp_srdhm_formula(a, b):
    # research 0: nudge = ab >= 0 ? 2^30 : 1 - 2^30; (ab + nudge) / 2^31 with C truncation
    if a == b == C.INT32_MIN:
        return C.INT32_MAX
    ab = a * b
    t = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    return abs(t) // (1 << 31) * (1 if t >= 0 else -1)


@given(INT32, INT32)
def test_srdhm_equals_gemmlowp_nudge_formula(a, b):
    assert fp.saturating_rounding_doubling_high_mul(a, b) == _gemmlowp_srdhm_formula(a, b)


@given(INT32, st.integers(0, 31))
def test_rdbpot_equals_gemmlowp_mask_formula(x, e):
    # research 0: mask = 2^e - 1; rem = x & mask; thr = (mask >> 1) + (x < 0); (x >> e) + (rem > thr)
    mask = (1 << e) - 1
    want = (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))
    assert fp.rounding_divide_by_pot(x, e) == want


# ---------------------------------------------------------------- T1: QuantizeMultiplier

@pytest.mark.parametrize("real, want", [
    # tensorflow/lite/kernels/internal/quantization_util_test.cc, QuantizeMultiplierSmallerThanOneExp
    (0.25, (1073741824, -1)),
    (0.5 - 5e-9, (2147483627, -1)),
    (0.5 - 1e-10, (1073741824, 0)),
    (0.5, (1073741824, 0)),
    (0.75, (1610612736, 0)),
    (1 - 1e-9, (2147483646, 0)),
    # ... QuantizeMultiplierGreaterThanOne
    (2 - 1e-9, (2147483647, 1)),
    (2 - 1e-11, (1073741824, 2)),
    (2, (1073741824, 2)),
    # ... QuantizeMultiplier underflow: flush below 2^-32
    (2.0 ** -31, (1073741824, -30)),
    (2.0 ** -32, (1073741824, -31)),
    (0.99 * 2.0 ** -32, (0, 0)),
    (2.0 ** -33, (0, 0)),
    (0.0, (0, 0)),
])
def test_t1_derive_tflite(real, want):
    assert mul.derive_tflite(real) == want


@pytest.mark.parametrize("real, shift", [(0.125, -2), (0.25, -1), (0.5, 0), (1, 1), (2, 2), (4, 3)])
def test_t1_quantize_multiplier_array(real, shift):
    # quantization_util_test.cc QuantizeMultiplierArray: significand +-1073741824
    assert mul.derive_tflite(real) == (1073741824, shift)
    assert mul.derive_tflite(-real) == (-1073741824, shift)


def test_derive_tflite_single_rounding_clamp():
    # quantization_util.cc: with TFLITE_SINGLE_ROUNDING a shift above 30 saturates
    assert mul.derive_tflite(2.0 ** 31) == (1073741824, 32)
    assert mul.derive_tflite(2.0 ** 31, single_round=True) == (C.INT32_MAX, 30)
    assert mul.derive_tflite(2.0 ** 29, single_round=True) == (1073741824, 30)


@given(st.floats(2.0 ** -31, 2.0 ** 30, allow_nan=False))
def test_derive_tflite_is_the_nearest_q31(real):
    m, e = mul.derive_tflite(real)
    assert 1 << 30 <= m < 1 << 31
    # |M * 2^(e-31) - real| <= half a unit of 2^(e-31)
    assert abs(Fraction(m) * Fraction(2) ** (e - 31) - Fraction(real)) <= Fraction(2) ** (e - 32)


# ---------------------------------------------------------------- T2: MultiplyByQuantizedMultiplier

@pytest.mark.parametrize("x, real, want", [
    # quantization_util_test.cc, int32 version (QuantizeMultiplier then multiply)
    (10000, 0.00097656, 10),
    (-10000, 0.00097656, -10),
    (10000, -0.00097656, -10),
    (C.INT32_MIN, 0.00001, -21475),
    (C.INT32_MAX, 0.00001, 21475),
    (C.INT32_MIN, -0.00001, 21475),
])
def test_t2_int32(x, real, want):
    m, e = mul.derive_tflite(real)
    assert mul.multiply_by_quantized_multiplier_double_round(x, m, e) == want


@pytest.mark.parametrize("x, real, want", [
    # quantization_util_test.cc, int64 version
    (-(1 << 47), 0.00001, -1407385600),
    ((1 << 47) - 1, 0.00001, 1407385600),
])
def test_t2_int64(x, real, want):
    m, e = mul.derive_tflite(real)
    assert mul.multiply_by_quantized_multiplier_int64_reduced(x, m, e) == want


def test_t2_int64_raw():
    # quantization_util_test.cc: raw (x = 2^47 - 1, M = INT32_MAX, shift = -31) -> 65534
    x = (1 << 47) - 1
    assert mul.multiply_by_quantized_multiplier_int64_reduced(x, C.INT32_MAX, -31) == 65534
    assert mul.multiply_by_quantized_multiplier_int64_reduced(-x, C.INT32_MAX, -31) == -65534


def test_int64_reduced_preconditions_and_wrap():
    # TFLite DCHECKs (common.cc): -2^47 <= x < 2^47, M >= 0, -31 <= shift < 8
    with pytest.raises(ValueError):
        mul.multiply_by_quantized_multiplier_int64_reduced(1 << 47, 1 << 30, 0)
    with pytest.raises(ValueError):
        mul.multiply_by_quantized_multiplier_int64_reduced(1, -1, 0)
    with pytest.raises(ValueError):
        mul.multiply_by_quantized_multiplier_int64_reduced(1, 1 << 30, 8)
    # the final cast wraps: 2^40 * 0.5 * 2^7 = 2^46 -> 0 mod 2^32
    assert mul.multiply_by_quantized_multiplier_int64_reduced(1 << 40, 1 << 30, 7) == 0
    x = (1 << 31) + 5  # times 1.0 (M = 2^30, shift 1): exact 2^31 + 5 wraps to -2^31 + 5
    assert mul.multiply_by_quantized_multiplier_int64_reduced(x, 1 << 30, 1) == -(1 << 31) + 5


def test_reduced_multiplier_cap():
    # common.cc: M >= 0x7FFF0000 gives 0x7FFF; below it (M + 2^15) >> 16
    assert mul.reduced_multiplier_16(C.INT32_MAX) == 0x7FFF
    assert mul.reduced_multiplier_16(0x7FFEFFFF) == 0x7FFF
    assert mul.reduced_multiplier_16((1 << 30) + (1 << 15)) == (1 << 14) + 1
    assert mul.reduced_multiplier_16((1 << 30) + (1 << 15) - 1) == 1 << 14


# ---------------------------------------------------------------- D1, D2, D8

D1_ACC = [-10, -6, -2, 2, 6, 10]


def test_d1_tie_table():
    # research 13.2 D1: real 0.25 -> TFLite (1073741824, -1), TOSA shift 32
    m, e = mul.derive_tflite(0.25)
    assert (m, e) == (1073741824, -1)
    dr = [mul.multiply_by_quantized_multiplier_double_round(a, m, e) for a in D1_ACC]
    sr = [mul.multiply_by_quantized_multiplier_single_round(a, m, e) for a in D1_ACC]
    assert dr == [-3, -2, -1, 1, 2, 3]
    assert sr == [-2, -1, 0, 1, 2, 3]
    assert mul.derive_tosa(0.25) == (1073741824, 32)
    assert [mul.tosa_apply_scale_32(a, m, 32, True) for a in D1_ACC] == dr
    assert [mul.tosa_apply_scale_32(a, m, 32, False) for a in D1_ACC] == sr


@pytest.mark.parametrize("real, me, x, dr, sr", [
    # research 13.2 D2: double vs single rounding away from ties
    (0.09375, (1610612736, -3), 197, 19, 18),
    (0.09375, (1610612736, -3), -197, -19, -18),
    (0.0072474273418486118, (1992157658, -7), -96517, -700, -699),
    (0.0072474273418486118, (1992157658, -7), 96517, 700, 699),
])
def test_d2_double_vs_single(real, me, x, dr, sr):
    assert mul.derive_tflite(real) == me
    assert mul.multiply_by_quantized_multiplier_double_round(x, *me) == dr
    assert mul.multiply_by_quantized_multiplier_single_round(x, *me) == sr


def test_d2_mismatch_count():
    # research 13.2 D2: 760 DR/SR mismatches for x in [-1e5, 1e5) at real 0.0072474273418486118
    m, e = mul.derive_tflite(0.0072474273418486118)
    # only x whose exact value lies within 2^-(31-e)... of a tie can differ: test all of them
    count = sum(
        mul.multiply_by_quantized_multiplier_double_round(x, m, e)
        != mul.multiply_by_quantized_multiplier_single_round(x, m, e)
        for x in range(-100000, 100000)
    )
    assert count == 760


def test_d8_int64_reduced():
    # research 13.2 D8: acc 123456789 at 0.0003: 16-bit multiplier 37038, full SR 37037
    m, e = mul.derive_tflite(0.0003)
    assert mul.multiply_by_quantized_multiplier_int64_reduced(123456789, m, e) == 37038
    assert mul.multiply_by_quantized_multiplier_single_round(123456789, m, e) == 37037
    assert mul.multiply_by_quantized_multiplier_int64_reduced(-123456789, m, e) == -37038
    assert mul.multiply_by_quantized_multiplier_single_round(-123456789, m, e) == -37037


# ---------------------------------------------------------------- properties of the requantizers

@given(INT32, NORMALIZED_M, st.integers(-31, 30))
def test_single_round_is_rhu_of_the_product(x, m, s):
    # research 0: single rounding = RHU(x * M, 31 - e) = (x*M + 2^(30-e)) >> (31 - e)
    t = 31 - s
    assert mul.multiply_by_quantized_multiplier_single_round(x, m, s) == (x * m + (1 << (t - 1))) >> t


@given(st.data())
def test_double_round_within_one_of_exact(data):
    s = data.draw(st.integers(-31, 30))
    left = max(s, 0)
    x = data.draw(st.integers(C.INT32_MIN >> left, C.INT32_MAX >> left))  # no int32 wrap
    m = data.draw(NORMALIZED_M)
    exact = Fraction(x * m) * Fraction(2) ** (s - 31)
    got = mul.multiply_by_quantized_multiplier_double_round(x, m, s)
    assert abs(got - exact) <= 1
    # sharper: the first rounding errs by at most 2^-31 of x*M, i.e. 2^-(right+1) after the
    # division by 2^right; the second by at most 1/2 (none when right == 0)
    right = max(-s, 0)
    bound = Fraction(1, 2) + (Fraction(1, 2 ** (right + 1)) if right else 0)
    assert abs(got - exact) <= bound


def test_double_round_wraps_the_left_shift():
    # common.h: x * (1 << left) is an int32 product: 2^30 * 2 wraps to INT32_MIN
    assert mul.multiply_by_quantized_multiplier_double_round(1 << 30, 1 << 30, 1) == C.INT32_MIN // 2


# ---------------------------------------------------------------- TOSA: T6, D9, equivalences

def test_t6_tosa_unity_and_m_times_pow2():
    # tosa-specification chapters/type_conversion.adoc: unity = (1<<30, 30) / (1<<14, 14)
    assert mul.derive_tosa(1.0) == (1 << 30, 30)
    assert mul.derive_tosa(1.0, scale32=False) == (1 << 14, 14)
    for v in [0, 1, -1, 12345, -(1 << 29), (1 << 29) - 1]:
        assert mul.tosa_apply_scale_32(v, 1 << 30, 30, False) == v
        assert mul.tosa_apply_scale_32(v, 1 << 30, 30, True) == v
    for v in [0, 1, -1, 12345, C.INT32_MIN, C.INT32_MAX]:
        assert mul.tosa_apply_scale_16(v, 1 << 14, 14) == v
    # scale_helpers.tosac REQUIRE: at shift 30 the value must lie in [-2^29, 2^29)
    with pytest.raises(ValueError):
        mul.tosa_apply_scale_32(1 << 29, 1 << 30, 30, False)
    # m * 2^-n -> multiplier (1 << 30) * m, shift 30 + n
    assert mul.derive_tosa(1.5 * 2.0 ** -3) == (3 << 29, 33)
    assert mul.derive_tosa(1.5 * 2.0 ** -3, scale32=False) == (3 << 13, 17)


def test_tosa_shift_cap_at_62():
    # MLIR computeMultiplierAndShiftTosaScale32: shift > 62 moves into the multiplier
    assert mul.derive_tosa(2.0 ** -40) == (1 << 22, 62)
    m, s = mul.derive_tosa(0.7 * 2.0 ** -50)
    assert s == 62 and m == mul.derive_tosa(0.7)[0] >> 19


@pytest.mark.parametrize("count, multiplier, shift", [
    # research 13.2 D9: TOSA reciprocal_scale(count) (scale_helpers.tosac)
    (1, 1073741825, 30), (2, 1073741825, 31), (3, 1431655766, 32), (4, 1073741825, 32), (9, 1908874355, 34),
])
def test_d9_reciprocal_scale_values(count, multiplier, shift):
    # the documented values follow scale_helpers.tosac reciprocal_scale: k = ceil(log2 count),
    # multiplier = floor((2^30 + 1) * 2^k / count), shift = 30 + k
    k = (count - 1).bit_length()
    assert (((1 << 30) + 1) << k) // count == multiplier and 30 + k == shift
    # averaging: apply_scale_32(sum, multiplier, shift) with single rounding
    assert mul.tosa_apply_scale_32(count * 7, multiplier, shift, False) == 7


@pytest.mark.parametrize("total, count, want", [(-13, 2, -7), (13, 2, 7), (-5, 9, -1)])
def test_d9_averages(total, count, want):
    # research 13.2 D9 (AVG_POOL2D uses apply_scale_32 single round with reciprocal_scale)
    table = {2: (1073741825, 31), 9: (1908874355, 34)}
    assert mul.tosa_apply_scale_32(total, *table[count], False) == want
    # TFLite's (acc +- n/2) / n with C truncating division gives the same (pooling.h)
    half = count // 2
    tfl = int((total + half) / count) if total > 0 else -int((-total + half) / count)
    assert tfl == want


@given(st.data())
def test_tosa_double_round_equals_tflite_double_round(data):
    # research 0/8 (verified there on random cases): apply_scale_32(x, M, 31 - e, True) == TFLite DR
    e = data.draw(st.integers(-31, 0))
    shift = 31 - e
    bound = 1 << (shift - 1)
    x = data.draw(st.integers(max(C.INT32_MIN, -bound), min(C.INT32_MAX, bound - 1)))
    m = data.draw(NORMALIZED_M)
    assert mul.tosa_apply_scale_32(x, m, shift, True) == mul.multiply_by_quantized_multiplier_double_round(x, m, e)
    assert mul.tosa_apply_scale_32(x, m, shift, False) == mul.multiply_by_quantized_multiplier_single_round(x, m, e)


@pytest.mark.parametrize("args", [(0, 1 << 30, 1), (0, 1 << 30, 63), (0, -1, 30), (1 << 20, 1 << 30, 20)])
def test_tosa_apply_scale_32_require_violations(args):
    # scale_helpers.tosac REQUIREs: multiplier >= 0, 2 <= shift <= 62, value in [-2^(s-1), 2^(s-1))
    with pytest.raises(ValueError):
        mul.tosa_apply_scale_32(*args, False)


def test_tosa_apply_scale_16_require_violations():
    with pytest.raises(ValueError):
        mul.tosa_apply_scale_16(1 << 47, 1, 2)          # not an int48
    with pytest.raises(ValueError):
        mul.tosa_apply_scale_16((1 << 47) - 1, 1 << 14, 2)  # result beyond int32
    with pytest.raises(ValueError):
        mul.tosa_apply_scale_16(1, 1 << 15, 14)         # not an int16 multiplier


@given(st.floats(2.0 ** -31, 2.0 ** 28, allow_nan=False))
def test_tosa_derivation_is_tflite_with_right_shift(real):
    # research 8: TFLite (M, e) becomes TOSA (M, 31 - e)
    m, e = mul.derive_tflite(real)
    assert mul.derive_tosa(real) == (m, 31 - e)


# ---------------------------------------------------------------- fbgemm, mantissa24, hexagon, pot

FLOAT32_POSITIVE_NORMAL = st.floats(2.0 ** -126, 3.4028234663852886e38, allow_nan=False, allow_infinity=False, width=32)


@given(FLOAT32_POSITIVE_NORMAL)
def test_mantissa24_equals_mlas_bit_formula(real):
    # onnxruntime mlas.h MlasFloatToFixedPoint (research 5(2)): Multiplier = (bits & 0x7FFFFF |
    # 0x800000) << 7, right Shift = 127 + 31 - 32 - (bits >> 23); fxsim's shift is its negation
    bits = int(np.array([real], np.float32).view(np.uint32)[0])
    assert mul.derive_mantissa24(real) == (((bits & 0x7FFFFF) | 0x800000) << 7, -(127 + 31 - 32 - (bits >> 23)))


@given(st.floats(2.0 ** -32, 2.0 ** 31, exclude_max=True, allow_nan=False, width=32))
def test_fbgemm_is_exact_for_float32(real):
    # FBGEMM QuantUtils.cc ChooseRequantizationMultiplier: for a float32 real, m * 2^31 is an
    # integer, so nearbyint does not round and M * 2^-s == real exactly
    m, s = mul.derive_fbgemm(real)
    assert 1 << 30 <= m < 1 << 31
    assert Fraction(m, 1) / Fraction(2) ** s == Fraction(real)
    lm, ls = mul.derive_mantissa24(real)
    assert (m, s) == (lm, 31 - ls)


def test_fbgemm_unity_and_errors():
    assert mul.derive_fbgemm(1.0) == (1 << 30, 30)   # m == 1 is kept by the loop, then halved
    assert mul.derive_fbgemm(0.5) == (1 << 30, 31)
    with pytest.raises(ValueError):
        mul.derive_fbgemm(0.0)                        # FBGEMM asserts real != 0
    with pytest.raises(ValueError):
        mul.derive_fbgemm(0.1)                        # not a float32 value
    with pytest.raises(ValueError):
        mul.derive_fbgemm(2.0 ** 32)                  # right shift would be negative


def test_hexagon_roundf_i32_documented_case():
    # research 10 (XiaoMi/nnlib hexagon/include/quantize.h roundf_i32, verified in float32):
    # roundf_i32(0.49999997f) = 1 because 0.49999997f + 0.5f rounds to 1.0f
    g = float(np.float32(0.49999997) * np.float32(2.0 ** -31))
    assert mul.derive_hexagon(g) == 1
    # an odd integer in [2^23, 2^24): x + 0.5 is a float32 tie that rounds to even (up)
    assert mul.derive_hexagon(float(np.float32((2 ** 23 + 1) * 2.0 ** -31))) == 2 ** 23 + 2
    assert mul.derive_hexagon(float(np.float32((2 ** 23 + 2) * 2.0 ** -31))) == 2 ** 23 + 2


@given(st.floats(0, 1, exclude_max=True, allow_nan=False, width=32))
def test_hexagon_matches_numpy_float32(gain):
    # the float32 steps of nn_requantize_i32_to_qu8: gain * (float)(1u << 31), + 0.5f, (int)
    x = np.float32(gain) * np.float32(2.0 ** 31)
    want = int(np.trunc(x + np.float32(0.5)))
    assert mul.derive_hexagon(gain) == want


@pytest.mark.parametrize("scale, pos", [(0.125, 3), (0.3, 2), (1.0, 0), (0.7, 1), (0.7 * 2 ** -20, 21), (5.0, -2)])
def test_power_of_two_examples(scale, pos):
    # Vitis AI quant_utils.py scale2pos: pos = rint(-log2(scale))
    assert mul.derive_power_of_two(scale) == pos
    assert int(np.rint(-np.log2(scale))) == pos


@given(st.floats(1e-30, 1e30, allow_nan=False))
def test_power_of_two_matches_numpy_away_from_ties(scale):
    frac = (-math.log2(scale)) % 1.0
    if abs(frac - 0.5) < 1e-9:
        return  # within rounding error of a half-integer: covered by the exact test below
    assert mul.derive_power_of_two(scale) == int(np.rint(-np.log2(scale)))


def test_power_of_two_exact_near_ties():
    # -log2 s is never a half-integer for a rational s; next to 2^-(k+1/2) decide exactly
    for k in range(-5, 20):
        t = 2.0 ** -(k + 0.5)
        for s in [np.nextafter(t, 0), t, np.nextafter(t, 1)]:
            s = float(s)
            want = k if Fraction(s) ** 2 > Fraction(2) ** (-2 * k - 1) else k + 1
            assert mul.derive_power_of_two(s) == want
