"""fxsim.reference.requantize against documented vectors and independent float emulations."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import constants as C
from fxsim.reference import multiplier as mul
from fxsim.reference import requantize as rq
from fxsim.reference import rounding as R

D1_ACC = [-10, -6, -2, 2, 6, 10]


def test_d1_tie_table():
    # research 13.2 D1 / TARGETS.md "Known differences": real 0.25, zp 0, int8
    m, e = mul.derive_tflite(0.25)
    assert [rq.requantize_double_round(a, m, e, 0, -128, 127) for a in D1_ACC] == [-3, -2, -1, 1, 2, 3]
    assert [rq.requantize_single_round(a, m, e, 0, -128, 127) for a in D1_ACC] == [-2, -1, 0, 1, 2, 3]
    # fp32 RHE (ONNX ref, MLAS float, FBGEMM float, XNNPACK fp32)
    for f64, zpf in [(False, False), (True, True), (False, True), (True, False)]:
        got = [rq.requantize_fp32(a, 0.25, 0, -128, 127, C.HALF_EVEN, product_in_float64=f64,
                                  zero_point_in_float=zpf) for a in D1_ACC]
        assert got == [-2, -2, 0, 0, 2, 2]


def test_d2_requantize():
    # research 13.2 D2 / TARGETS.md: real 0.09375, x = 197 -> 19 (double) vs 18 (single)
    m, e = mul.derive_tflite(0.09375)
    assert rq.requantize_double_round(197, m, e, 0, -128, 127) == 19
    assert rq.requantize_single_round(197, m, e, 0, -128, 127) == 18


def test_d8_requantize_int64_reduced():
    # research 13.2 D8 / TARGETS.md: acc 123456789 at 0.0003 -> 37038 (int16 output)
    m, e = mul.derive_tflite(0.0003)
    assert rq.requantize_int64_reduced(123456789, m, e, 0, -32768, 32767) == 32767  # clamped
    assert rq.requantize_int64_reduced(123456789, m, e, 0, C.INT32_MIN, C.INT32_MAX) == 37038
    assert rq.requantize_single_round(123456789, m, e, 0, C.INT32_MIN, C.INT32_MAX) == 37037


def test_t4_onnx_qlinearmatmul_uint8():
    # onnx/backend/test/case/node/qlinearmatmul.py (research 13.1 T4)
    a = [[208, 236, 0, 238], [3, 214, 255, 29]]
    b = [[152, 51, 244], [60, 26, 255], [0, 127, 246], [127, 254, 247]]
    a_zp, b_zp, y_zp = 113, 114, 118
    acc = [[sum((a[i][k] - a_zp) * (b[k][j] - b_zp) for k in range(4)) for j in range(3)] for i in range(2)]
    assert acc == [[11475, -778, 31402], [-26914, -11872, 7513]]  # research T4, derived
    # ONNX forms the multiplier in float32: a_scale * b_scale / y_scale
    multiplier = float(np.float32(0.0066) * np.float32(0.00705) / np.float32(0.0107))
    assert abs(multiplier - 0.004348598) < 1e-9
    # the int32 matrix times a float32 scalar promotes to float64 in numpy; + y_zp; rint
    y = [[rq.requantize_fp32(v, multiplier, y_zp, 0, 255, C.HALF_EVEN, product_in_float64=True,
                             zero_point_in_float=True) for v in row] for row in acc]
    assert y == [[168, 115, 255], [1, 66, 151]]
    # research T4: TFLite-style double rounding with (M, e) = (1195333518, -7) gives the same bytes
    assert [[rq.requantize_double_round(v, 1195333518, -7, y_zp, 0, 255) for v in row] for row in acc] == y
    # TFLite forms the real multiplier in double from the float32 scales (kernel_util.cc)
    real = float(np.float32(0.0066)) * float(np.float32(0.00705)) / float(np.float32(0.0107))
    assert mul.derive_tflite(real) == (1195333518, -7)


@pytest.mark.parametrize("mode, want_neg, want_pos", [
    # research 13.2 D6 (Vitis AI ties, -2.5 and +2.5 at fix_pos 3): DPU activations half_up,
    # weights std_round (half away), vai_q_onnx np.round (half even)
    (C.HALF_UP, -2, 3), (C.HALF_AWAY, -3, 3), (C.HALF_EVEN, -2, 2),
])
def test_d6_power_of_two_ties(mode, want_neg, want_pos):
    assert rq.requantize_power_of_two(-5, -1, 0, -128, 127, mode) == want_neg
    assert rq.requantize_power_of_two(5, -1, 0, -128, 127, mode) == want_pos


def test_power_of_two_left_shift_saturates():
    assert rq.requantize_power_of_two(3, 4, 1, -128, 127, C.HALF_UP) == 49
    assert rq.requantize_power_of_two(C.INT64_MAX, 63, 0, -128, 127, C.FLOOR) == 127
    assert rq.requantize_power_of_two(C.INT64_MIN, 63, 0, 0, 255, C.FLOOR) == 0
    with pytest.raises(ValueError):
        rq.requantize_power_of_two(1, 64, 0, -128, 127, C.FLOOR)


def test_fp32_int_to_float_conversion_rounds_above_2_24():
    # onnxruntime MlasRequantizeOutput: (float)acc rounds accumulators beyond 2^24 before scaling
    acc = (1 << 24) + 1
    assert rq.requantize_fp32(acc, 1.0, 0, C.INT32_MIN, C.INT32_MAX, C.HALF_EVEN) == 1 << 24
    assert rq.requantize_fp32(acc, 1.0, 0, C.INT32_MIN, C.INT32_MAX, C.HALF_EVEN, product_in_float64=True) == acc


def test_fp32_zero_point_in_float_rounds_the_sum():
    # a float32 add of the zero point can round: p = 0.5 + 2^24 zp: (2^24 + 0.5) rounds to even
    # in float32 before the final rounding, while the integer zp path rounds 0.5 -> 0 then adds
    assert rq.requantize_fp32(1, 0.5, 1 << 24, C.INT32_MIN, C.INT32_MAX, C.HALF_UP) == (1 << 24) + 1
    assert rq.requantize_fp32(1, 0.5, 1 << 24, C.INT32_MIN, C.INT32_MAX, C.HALF_UP,
                              zero_point_in_float=True) == 1 << 24


def test_fp32_rejects_non_float32_scale_and_bad_range():
    with pytest.raises(ValueError):
        rq.requantize_fp32(1, 0.1, 0, -128, 127, C.HALF_EVEN)
    with pytest.raises(ValueError):
        rq.requantize_fp32(1, float("inf"), 0, -128, 127, C.HALF_EVEN)
    with pytest.raises(ValueError):
        rq.requantize_fp32(1, 0.5, 0, 127, -128, C.HALF_EVEN)
    with pytest.raises(ValueError):
        rq.requantize_fp32(1, 0.5, 0, -128, 127, C.STOCHASTIC)  # needs bits


SCALES = st.floats(2.0 ** -30, 1024.0, allow_nan=False, width=32)
OUT = st.sampled_from([(-128, 127), (0, 255), (-32768, 32767), (C.INT32_MIN, C.INT32_MAX), (-8, 7)])


@given(st.integers(C.INT32_MIN, C.INT32_MAX), SCALES, OUT, st.data())
def test_fp32_matches_numpy_float32_mlas_order(acc, scale, out, data):
    # MLAS: (float)acc * scale in float32, clamp to [qmin - zp, qmax - zp], rint, + zp
    qmin, qmax = out
    zp = data.draw(st.integers(qmin, qmax))
    p = np.float32(np.float32(acc) * np.float32(scale))
    v = min(max(float(p), qmin - zp), qmax - zp)
    want = int(np.rint(v)) + zp
    assert rq.requantize_fp32(acc, scale, zp, qmin, qmax, C.HALF_EVEN) == want


@given(st.integers(C.INT32_MIN, C.INT32_MAX), SCALES, st.data())
def test_fp32_matches_numpy_onnx_reference_order(acc, scale, data):
    # onnx op_qlinear_matmul.py: float64(acc) * float32 scale (float64), + zp, clip, rint
    zp = data.draw(st.integers(0, 255))
    d = np.float64(acc) * np.float64(np.float32(scale)) + np.float64(zp)
    want = int(np.rint(np.clip(d, 0, 255)))
    assert rq.requantize_fp32(acc, scale, zp, 0, 255, C.HALF_EVEN, product_in_float64=True,
                              zero_point_in_float=True) == want


@given(st.integers(-(1 << 24), 1 << 24), SCALES, st.sampled_from(sorted(set(C.ROUNDING_MODE_NAMES) - {C.STOCHASTIC})))
def test_fp32_float64_product_is_exact_for_small_acc(acc, scale, mode):
    # a 25-bit integer times a 24-bit significand fits 53 bits: the float64 path is the exact rescale
    want = R.round_fraction(Fraction(acc) * Fraction(scale), mode)
    want = min(max(want, C.INT32_MIN), C.INT32_MAX)
    assert rq.requantize_fp32(acc, scale, 0, C.INT32_MIN, C.INT32_MAX, mode, product_in_float64=True) == want


@given(st.integers(C.INT32_MIN, C.INT32_MAX), st.integers(1 << 30, C.INT32_MAX), st.integers(-31, 30),
       st.integers(-128, 127))
def test_fixed_point_output_stage(acc, m, s, zp):
    # TFLite conv.h: acc = MBQM(acc) + output_offset, then clamp to the activation range
    for fn, mbqm in [(rq.requantize_double_round, mul.multiply_by_quantized_multiplier_double_round),
                     (rq.requantize_single_round, mul.multiply_by_quantized_multiplier_single_round)]:
        y = mbqm(acc, m, s) + zp
        assert fn(acc, m, s, zp, -128, 127) == min(max(y, -128), 127)
        assert fn(acc, m, s, zp, zp, 127) == min(max(y, zp), 127)  # fused ReLU


def test_stochastic_requantize_averages_to_the_exact_value():
    # acc 7 at scale 0.25 (1.75): mean of the stochastic codes over 4000 elements of one call
    n = 4000
    fp = [rq.requantize_fp32(7, 0.25, 0, -128, 127, C.STOCHASTIC, R.splitmix64_bits(99, i)) for i in range(n)]
    pot = [rq.requantize_power_of_two(7, -2, 0, -128, 127, C.STOCHASTIC, R.splitmix64_bits(99, i)) for i in range(n)]
    sigma = (0.75 * 0.25 / n) ** 0.5
    for draws in (fp, pot):
        assert set(draws) == {1, 2}
        assert abs(sum(draws) / n - 1.75) < 5 * sigma
