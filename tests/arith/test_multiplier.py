"""Multiplier, quantize_multiplier (every derivation) and real_multiplier."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from fxsim.arith import DERIVATIONS, Multiplier, quantize_multiplier, quantize_multipliers, real_multiplier
from fxsim.errors import EncodingError
from fxsim.reference import multiplier as ref

F32 = np.float32


# --- T1: tensorflow/lite/kernels/internal/quantization_util_test.cc (engine-semantics 13.1 T1).
T1 = [
    # QuantizeMultiplierSmallerThanOneExp
    (0.25, 1073741824, -1),
    (0.5 - 5e-9, 2147483627, -1),
    (0.5 - 1e-10, 1073741824, 0),
    (0.5, 1073741824, 0),
    (0.75, 1610612736, 0),
    (1 - 1e-9, 2147483646, 0),
    # QuantizeMultiplierGreaterThanOne
    (2 - 1e-9, 2147483647, 1),
    (2 - 1e-11, 1073741824, 2),
    (2.0, 1073741824, 2),
    # QuantizeMultiplier underflow
    (2.0 ** -31, 1073741824, -30),
    (2.0 ** -32, 1073741824, -31),
    (0.99 * 2.0 ** -32, 0, 0),
    (2.0 ** -33, 0, 0),
    # QuantizeMultiplierArray: 0 -> (0, 0)
    (0.0, 0, 0),
]


@pytest.mark.parametrize("real, value, shift", T1)
def test_tflite_t1(real, value, shift):
    assert quantize_multiplier(real, "tflite") == Multiplier(value, shift, 32)


# QuantizeMultiplierArray: {±0.125, ±0.25, ±0.5, ±1, ±2, ±4} -> ±1073741824, shifts -2..3 (T1).
@pytest.mark.parametrize("real, shift", [(0.125, -2), (0.25, -1), (0.5, 0), (1.0, 1), (2.0, 2), (4.0, 3)])
@pytest.mark.parametrize("sign", [1, -1])
def test_tflite_t1_array(real, shift, sign):
    assert quantize_multiplier(sign * real, "tflite") == Multiplier(sign * 1073741824, shift, 32)


def test_design_md_contract_vector():
    # DESIGN.md "Public contract": quantize_multiplier(0.25, derivation="tflite") -> (1073741824, -1, 32)
    m = quantize_multiplier(0.25, derivation="tflite")
    assert (m.value, m.shift, m.bits) == (1073741824, -1, 32)
    assert m == Multiplier(1073741824, -1, 32)
    assert quantize_multiplier(0.25) == m  # tflite is the default derivation


def test_tflite_single_round_clamp():
    # quantization_util.cc, TFLITE_SINGLE_ROUNDING: shift > 30 -> (2^31 - 1, 30)
    assert quantize_multiplier(2.0 ** 31, "tflite") == Multiplier(1 << 30, 32, 32)
    assert quantize_multiplier(2.0 ** 31, "tflite", single_round=True) == Multiplier(2 ** 31 - 1, 30, 32)
    assert quantize_multiplier(0.25, "tflite", single_round=True) == Multiplier(1073741824, -1, 32)


def test_tflite_accepts_float32_exactly():
    x = F32(0.1)
    m = quantize_multiplier(x, "tflite")
    assert m == quantize_multiplier(float(x), "tflite")
    assert m != quantize_multiplier(0.1, "tflite")  # float32(0.1) != 0.1


@given(st.floats(0.5, 1.0, exclude_max=True), st.integers(-30, 29), st.sampled_from([1, -1]))
def test_tflite_properties(q, e, sign):
    # M in [2^30, 2^31), |real - M 2^(shift-31)| <= 2^(shift-32) (half a unit of the multiplier)
    real = sign * math.ldexp(q, e)
    m = quantize_multiplier(real, "tflite")
    assert 2 ** 30 <= abs(m.value) <= 2 ** 31
    assert abs(m.value) < 2 ** 31 or m.value == -(2 ** 31)  # negative side keeps -2^31 (no fix-up)
    assert abs(Fraction(real) - m.real) <= Fraction(2) ** (m.shift - 32)
    assert (m.value, m.shift) == ref.derive_tflite(real)


@given(st.floats(0, 2.0 ** 40, allow_nan=False) | st.floats(0, 2.0 ** -25))
def test_tflite_equals_exact_reference(real):
    m = quantize_multiplier(real, "tflite")
    assert (m.value, m.shift) == ref.derive_tflite(real)
    assert quantize_multiplier(real, "tflite", single_round=True).value == ref.derive_tflite(real, True)[0]


# --- T6: arm/tosa-specification chapters/type_conversion.adoc (engine-semantics 13.1 T6).
def test_tosa_t6_unity():
    m = quantize_multiplier(1.0, "tosa")
    assert (m.value, m.right_shift) == (1 << 30, 30)
    m16 = quantize_multiplier(1.0, "tosa", scale32=False)
    assert (m16.value, m16.right_shift, m16.bits) == (1 << 14, 14, 16)


@pytest.mark.parametrize("mant", [1.0, 1.25, 1.5, 1.75])
@pytest.mark.parametrize("n", [0, 1, 5, 17, 31])
def test_tosa_t6_m_times_2_pow_minus_n(mant, n):
    # scaling m*2^-n (1 <= m < 2): multiplier = (1<<30)*m, shift = 30+n (scale32);
    # (1<<14)*m, 14+n (scale16)
    real = mant * 2.0 ** -n
    m = quantize_multiplier(real, "tosa")
    assert (m.value, m.right_shift) == (int((1 << 30) * mant), 30 + n)
    m16 = quantize_multiplier(real, "tosa", scale32=False)
    assert (m16.value, m16.right_shift) == (int((1 << 14) * mant), 14 + n)
    assert m.real == m16.real == Fraction(real)


def test_tosa_cap_at_62():
    # MLIR QuantUtils.cpp: shift > 62 -> M >>= min(31, shift - 62), shift = 62.
    m = quantize_multiplier(2.0 ** -40, "tosa")  # frexp: (0.5, -39) -> S = 70 -> M = 2^30 >> 8
    assert (m.value, m.right_shift) == (1 << 22, 62)
    assert m == Multiplier(1 << 22, -31, 32)
    assert m.real == Fraction(1, 2 ** 40)
    m = quantize_multiplier(2.0 ** -70, "tosa")  # the excess (39) is capped at 31: M = 2^30 >> 31
    assert (m.value, m.right_shift) == (0, 62)
    m16 = quantize_multiplier(2.0 ** -50, "tosa", scale32=False)  # S = 15 + 49 = 64 -> M = 2^14 >> 2
    assert (m16.value, m16.right_shift) == (1 << 12, 62)


@given(st.floats(2.0 ** -80, 2.0 ** 28))
def test_tosa_equals_exact_reference(real):
    for scale32 in (True, False):
        if not scale32 and real >= 2.0 ** 12:
            continue  # scale16 right shift < 2
        m = quantize_multiplier(real, "tosa", scale32=scale32)
        assert (m.value, m.right_shift) == ref.derive_tosa(real, scale32)
        assert 2 <= m.right_shift <= 62


def test_tosa_rejects():
    with pytest.raises(EncodingError, match=">= 0"):
        quantize_multiplier(-0.5, "tosa")
    with pytest.raises(EncodingError, match="2 <= shift <= 62"):
        quantize_multiplier(2.0 ** 30, "tosa")
    with pytest.raises(EncodingError, match="max_shift"):
        quantize_multiplier(0.5, "tosa", max_shift=64)


# --- FBGEMM src/QuantUtils.cc ChooseRequantizationMultiplier (engine-semantics section 6).
def test_fbgemm_examples():
    assert quantize_multiplier(0.25, "fbgemm") == Multiplier(1 << 30, -1, 32)
    # m == 1.0 is kept by the halving loop, q = 2^31 is halved: (2^30, s = 30)
    m = quantize_multiplier(1.0, "fbgemm")
    assert (m.value, m.right_shift) == (1 << 30, 30)
    # 0.3 -> float32 0.3 = 0x3E99999A: its mantissa exactly, no rounding at 2^31
    m = quantize_multiplier(0.3, "fbgemm")
    assert m.real == Fraction(float(F32(0.3)))


def test_fbgemm_half_even_at_low_precision():
    # q = nearbyint(m * 2^(precision-1)): 0.625 * 4 = 2.5 -> 2 (half even; TFLite's half away gives 3)
    m = quantize_multiplier(0.625, "fbgemm", precision=3)
    assert (m.value, m.right_shift, m.bits) == (2, 2, 3)
    assert m.real == Fraction(1, 2)
    m = quantize_multiplier(0.875, "fbgemm", precision=3)  # 3.5 -> 4 == 2^2 -> halved: (2, s - 1)
    assert m.real == 1


@given(st.floats(2.0 ** -32, 2.0 ** 30, width=32))
def test_fbgemm_equals_exact_reference(real):
    m = quantize_multiplier(F32(real), "fbgemm")
    assert (m.value, m.right_shift) == ref.derive_fbgemm(F32(real))


def test_fbgemm_rejects():
    with pytest.raises(EncodingError, match="right_shift"):
        quantize_multiplier(2.0 ** 33, "fbgemm")
    with pytest.raises(EncodingError, match="precision"):
        quantize_multiplier(0.5, "fbgemm", precision=33)


# --- MLAS MlasFloatToFixedPoint / XNNPACK rndnu (engine-semantics sections 5(2), 7).
def test_mantissa24_examples():
    assert quantize_multiplier(0.5, "mantissa24") == Multiplier(1 << 30, 0, 32)
    m = quantize_multiplier(0.3, "mantissa24")
    bits = int(np.array(F32(0.3)).view(np.uint32))
    assert m.value == ((bits & 0x7FFFFF) | 0x800000) << 7
    assert -m.shift == 126 - (bits >> 23)  # MLAS Shift = 127 + 31 - 32 - exponent
    assert m.real == Fraction(float(F32(0.3)))


@given(st.floats(2.0 ** -126, 2.0 ** 100, width=32))
def test_mantissa24_exact(real):
    m = quantize_multiplier(F32(real), "mantissa24")
    assert m.real == Fraction(float(F32(real)))
    assert 2 ** 30 <= m.value <= 2 ** 31 - 128 and m.value % 128 == 0
    assert (m.value, m.shift) == ref.derive_mantissa24(F32(real))


def test_mantissa24_rejects_denormal():
    with pytest.raises(EncodingError, match="denormal"):
        quantize_multiplier(2.0 ** -130, "mantissa24")


# --- hexagon_nn quantize.c: gaini = roundf_i32(gain * 2^31), roundf_i32 = (int)(x + copysignf(0.5f, x)).
def test_hexagon_float32_addition_rounds():
    # an odd integer in [2^23, 2^24) plus 0.5 is a float32 tie -> even: 2^23 + 1 -> 2^23 + 2
    assert quantize_multiplier((2 ** 23 + 1) / 2.0 ** 31, "hexagon") == Multiplier(2 ** 23 + 2, 0, 32)
    # 0.49999997f + 0.5f rounds to 1.0f: roundf_i32 gives 1 where roundf gives 0 (section 10)
    g = F32(0.49999997) * F32(2.0 ** -31)
    assert quantize_multiplier(g, "hexagon").value == 1
    assert quantize_multiplier(0.25, "hexagon") == Multiplier(1 << 29, 0, 32)


@given(st.floats(2.0 ** -40, 1.0, exclude_max=True, width=32))
def test_hexagon_equals_exact_reference(gain):
    assert quantize_multiplier(F32(gain), "hexagon").value == ref.derive_hexagon(F32(gain))


def test_hexagon_rejects_gain_at_least_one():
    with pytest.raises(EncodingError, match="< 1"):
        quantize_multiplier(1.0, "hexagon")


# --- Vitis AI vai_q_onnx quant_utils.py scale2pos: pos = int(np.rint(-np.log2(scale))).
@pytest.mark.parametrize("scale, pos", [(0.25, 2), (0.3, 2), (0.2, 2), (0.17, 3), (1.0, 0), (3.0, -2), (2.0 ** -7, 7)])
def test_power_of_two(scale, pos):
    assert quantize_multiplier(scale, "power_of_two") == Multiplier(1, -pos, 1)
    assert quantize_multiplier(scale, "power_of_two").real == Fraction(2) ** -pos


@given(st.integers(-60, 60), st.floats(1.0, 1.414) | st.floats(1.4143, 2.0, exclude_max=True))
def test_power_of_two_equals_exact_reference(k, mant):
    # mantissas kept away from sqrt(2), where float log2 and the exact rule may part
    s = math.ldexp(mant, k)
    assert -quantize_multiplier(s, "power_of_two").shift == ref.derive_power_of_two(s)


# --- bad input
@pytest.mark.parametrize("derivation", DERIVATIONS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float32("nan")])
def test_non_finite_raises(derivation, bad):
    with pytest.raises(EncodingError, match="finite"):
        quantize_multiplier(bad, derivation)


@pytest.mark.parametrize("derivation", ["fbgemm", "mantissa24", "hexagon", "power_of_two"])
@pytest.mark.parametrize("bad", [0.0, -0.25])
def test_needs_positive(derivation, bad):
    with pytest.raises(EncodingError, match="> 0"):
        quantize_multiplier(bad, derivation)


@pytest.mark.parametrize("derivation", ["fbgemm", "mantissa24", "hexagon"])
def test_float32_derivations_reject_underflow_to_zero(derivation):
    with pytest.raises(EncodingError, match="float32"):
        quantize_multiplier(1e-50, derivation)


@pytest.mark.parametrize("bad", ["0.25", None, True, [0.25], np.array([0.25, 0.5]), 1 + 2j])
def test_not_a_real_raises(bad):
    with pytest.raises(EncodingError, match="real"):
        quantize_multiplier(bad, "tflite")


def test_unknown_derivation_lists_valid_ones():
    with pytest.raises(EncodingError, match="'tflite'.*'tosa'.*'fbgemm'.*'mantissa24'.*'hexagon'.*'power_of_two'"):
        quantize_multiplier(0.25, "gemmlowp")


def test_unknown_option_raises():
    with pytest.raises(EncodingError, match="scale32"):
        quantize_multiplier(0.25, "tflite", scale32=False)
    with pytest.raises(EncodingError, match="single_round"):
        quantize_multiplier(0.25, "tflite", single_round=1)


# --- Multiplier itself
def test_multiplier_real_and_float():
    m = Multiplier(1610612736, -3, 32)  # 0.75 * 2^-3 = 0.09375 (engine-semantics D2)
    assert m.real == Fraction(3, 32) and float(m) == 0.09375 and m.right_shift == 34
    assert Multiplier(1, -7, 1).real == Fraction(1, 128)
    assert Multiplier(-16384, 1, 16).real == -1


@pytest.mark.parametrize("args, field", [((2 ** 31, 0, 32), "value"), ((-(2 ** 31) - 1, 0, 32), "value"),
                                         ((2, 0, 1), "value"), ((1, 0, 0), "bits"), ((1, 0, 33), "bits"),
                                         ((1.0, 0, 32), "value"), ((1, 0.5, 32), "shift"), ((True, 0, 32), "value")])
def test_multiplier_validation(args, field):
    with pytest.raises(EncodingError, match=f"Multiplier.{field}"):
        Multiplier(*args)


def test_multiplier_is_frozen_and_hashable():
    m = Multiplier(1 << 30, 0)
    with pytest.raises(AttributeError):
        m.value = 3
    assert {m: 1}[Multiplier(1 << 30, 0, 32)] == 1


def test_quantize_multipliers_keeps_float32():
    reals = np.array([0.3, 0.0043], np.float32)
    ms = quantize_multipliers(reals, "mantissa24")
    assert [m.real for m in ms] == [Fraction(float(r)) for r in reals]
    assert quantize_multipliers([0.25, 0.5]) == (Multiplier(1 << 30, -1), Multiplier(1 << 30, 0))


# --- real_multiplier: TFLite kernel_util.cc (double) vs ORT qlinearconv.cc ComputeOutputScale (float32).
def test_real_multiplier_qlinearmatmul_t4():
    # onnx qlinearmatmul.py (T4): float32 multiplier 0.004348598
    got = real_multiplier(0.0066, 0.00705, 0.0107, precision="float32")
    assert got.dtype == np.float32
    assert got == F32(F32(F32(0.0066) * F32(0.00705)) / F32(0.0107))
    assert abs(float(got) - 0.004348598) < 1e-9
    # TFLite computes in double from the float32 scales; with (M, e) = (1195333518, -7) (T4)
    d = real_multiplier(0.0066, 0.00705, 0.0107)
    assert d.dtype == np.float64
    assert d == float(F32(0.0066)) * float(F32(0.00705)) / float(F32(0.0107))
    assert quantize_multiplier(d) == Multiplier(1195333518, -7, 32)


@given(st.lists(st.floats(2.0 ** -20, 1.0, width=32), min_size=1, max_size=8),
       st.floats(2.0 ** -13, 1.0, width=32), st.floats(2.0 ** -13, 1.0, width=32))
def test_real_multiplier_per_channel(ws, xs, ys):
    ws = np.array(ws, np.float32)
    got32 = real_multiplier(F32(xs), ws, F32(ys), precision="float32")
    want32 = (F32(xs) * ws) / F32(ys)  # product first, then the division, each in float32
    assert got32.dtype == np.float32 and np.array_equal(got32, want32.astype(np.float32))
    got64 = real_multiplier(F32(xs), ws, F32(ys))
    assert got64.tolist() == [float(F32(xs)) * float(w) / float(F32(ys)) for w in ws]


def test_real_multiplier_double_scales_as_given():
    d = real_multiplier(0.1, 0.2, 0.3, round_scales_to_float32=False)
    assert d == 0.1 * 0.2 / 0.3


@pytest.mark.parametrize("kwargs, name", [(dict(input_scale=0.0), "input_scale"),
                                          (dict(weight_scale=[0.1, -0.1]), "weight_scale"),
                                          (dict(output_scale=float("nan")), "output_scale"),
                                          (dict(output_scale=1e-50), "output_scale"),
                                          (dict(precision="half"), "precision")])
def test_real_multiplier_rejects(kwargs, name):
    args = dict(input_scale=0.1, weight_scale=0.2, output_scale=0.3)
    args.update(kwargs)
    with pytest.raises(EncodingError, match=name):
        real_multiplier(**args)
