"""fx.requantize / fx.quantize / fx.dequantize argument handling: every bad input is an
FxsimError that names what is wrong, and the conveniences do what their docs say."""

import numpy as np
import pytest

import fxsim as fx

ACC = np.array([-300, -7, 0, 5, 1000], np.int32)


def test_method_names_and_members_are_equivalent():
    a = fx.requantize(ACC, 0.1, "double_round")
    b = fx.requantize(ACC, 0.1, fx.Requant.DOUBLE_ROUND)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("method", [fx.Requant.FP32, fx.Requant.POWER_OF_TWO])
def test_rounding_is_required_where_the_method_has_none(method):
    with pytest.raises(fx.EncodingError, match="rounding mode is required"):
        fx.requantize(ACC, 0.25, method)


def test_fixed_rounding_methods_refuse_a_rounding_argument():
    with pytest.raises(fx.EncodingError, match="fixed rounding"):
        fx.requantize(ACC, 0.25, fx.Requant.DOUBLE_ROUND, rounding="half_even")


def test_power_of_two_refuses_other_scales_unless_asked():
    with pytest.raises(fx.EncodingError, match="not a power of two"):
        fx.requantize(ACC, 0.3, fx.Requant.POWER_OF_TWO, rounding="half_up")
    # explicit derivation: 0.3 -> 2^-2 (rint(-log2 0.3) = rint(1.74) = 2)
    got = fx.requantize(ACC, 0.3, fx.Requant.POWER_OF_TWO, rounding="half_up", derivation="power_of_two")
    assert np.array_equal(got, fx.requantize(ACC, 0.25, fx.Requant.POWER_OF_TWO, rounding="half_up"))


def test_power_of_two_shifts_round_with_the_named_mode():
    acc = np.array([-10, -6, -2, 2, 6, 10], np.int32)  # ties at scale 1/4
    assert fx.requantize(acc, 0.25, "power_of_two", rounding="half_up").tolist() == [-2, -1, 0, 1, 2, 3]
    assert fx.requantize(acc, 0.25, "power_of_two", rounding="half_away").tolist() == [-3, -2, -1, 1, 2, 3]
    assert fx.requantize(acc, 0.25, "power_of_two", rounding="half_even").tolist() == [-2, -2, 0, 0, 2, 2]
    assert fx.requantize(acc, 4.0, "power_of_two", rounding="floor").tolist() == [-40, -24, -8, 8, 24, 40]


def test_fp32_needs_a_float_scale():
    with pytest.raises(fx.EncodingError, match="float scale"):
        fx.requantize(ACC, fx.Multiplier(1 << 30, 0, 32), fx.Requant.FP32, rounding="half_even")


@pytest.mark.parametrize("scale", [0.0, -0.5, np.nan, np.inf])
def test_fp32_rejects_bad_scales(scale):
    with pytest.raises(fx.EncodingError, match="scales must be finite and > 0"):
        fx.requantize(ACC, np.float32(scale), fx.Requant.FP32, rounding="half_even")


@pytest.mark.parametrize("scale", [np.nan, np.inf, -np.inf])
def test_fixed_point_rejects_bad_scales(scale):
    # (zero and negative reals are legal: TFLite's QuantizeMultiplier maps them to (0, 0) and
    # to a negative significand, and quantization_util_test.cc uses -0.00097656)
    with pytest.raises(fx.EncodingError):
        fx.requantize(ACC, scale, fx.Requant.SINGLE_ROUND)


def test_derivation_with_multiplier_objects_is_an_error():
    with pytest.raises(fx.EncodingError, match="derivation"):
        fx.requantize(ACC, fx.Multiplier(1 << 30, 0, 32), fx.Requant.DOUBLE_ROUND, derivation="tosa")


def test_clamp_range_must_lie_in_the_dtype():
    with pytest.raises(fx.EncodingError, match=r"\[-200, 127\]"):
        fx.requantize(ACC, 0.1, qmin=-200)
    with pytest.raises(fx.EncodingError):
        fx.requantize(ACC, 0.1, qmin=5, qmax=4)


def test_fused_relu_clamp():
    got = fx.requantize(ACC, 0.1, zero_point=-5, qmin=-5)  # ReLU: [zp, 127]
    assert got.min() >= -5 and got.tolist() == [-5, -5, -5, -4, 95]


@pytest.mark.parametrize("acc", [np.array([1.0, 2.0]), np.array([True, False]), np.array([1, 2], np.uint64)])
def test_accumulators_must_be_int32_or_int64(acc):
    with pytest.raises(fx.FormatError):
        fx.requantize(acc, 0.1)


def test_small_integer_accumulators_widen_losslessly():
    acc8 = np.array([-128, 0, 127], np.int8)
    assert np.array_equal(fx.requantize(acc8, 0.5), fx.requantize(acc8.astype(np.int32), 0.5))


def test_zero_points_must_match_the_channels():
    acc = np.zeros((2, 3), np.int32)
    with pytest.raises(fx.EncodingError, match="zero points"):
        fx.requantize(acc, [0.1, 0.2, 0.3], axis=1, zero_point=[1, 2])


def test_zero_point_must_be_an_integer():
    with pytest.raises(fx.EncodingError, match="integers"):
        fx.requantize(ACC, 0.1, zero_point=0.5)


def test_unknown_dtype_lists_the_valid_ones():
    with pytest.raises(fx.EncodingError, match="int8"):
        fx.requantize(ACC, 0.1, dtype="int9x")


def test_int4_output_uses_the_4_bit_range():
    got = fx.requantize(ACC, 0.1, dtype="int4")
    assert got.dtype == np.int8 and got.tolist() == [-8, -1, 0, 1, 7]


def test_quantize_rejects_non_float_input_and_bad_precision():
    enc = fx.Encoding.from_zero_point(0.1, 0, "int8")
    with pytest.raises(fx.FormatError):
        fx.quantize(np.array(["a"]), enc, rounding="half_even")
    with pytest.raises(fx.FormatError, match="precision"):
        fx.quantize(np.zeros(2, np.float32), enc, rounding="half_even", precision="float16")


def test_quantize_float64_precision_differs_from_float32_where_it_should():
    # 0.3 / 0.1 in float32 is exactly 3.0 after rounding; in float64 it is 2.9999999999999996
    enc = fx.Encoding.from_zero_point(0.1, 0, "int8")
    x = np.array([0.3])
    assert fx.quantize(x, enc, rounding="floor", precision="float32").tolist() == [3]
    assert fx.quantize(x, enc, rounding="floor", precision="float64").tolist() == [2]


def test_dequantize_checks_the_code_range_and_dtype():
    enc = fx.Encoding.from_zero_point(0.5, 0, "int4")
    with pytest.raises(fx.EncodingError, match="outside"):
        fx.dequantize(np.array([9], np.int8), enc)
    with pytest.raises(fx.FormatError):
        fx.dequantize(np.array([1.0]), enc)


def test_dequantize_per_channel_broadcasts_on_the_axis():
    enc = fx.Encoding.per_channel(np.array([0.5, 0.25]), np.array([-128, -120]), axis=1, bitwidth=8, signed=True)
    assert enc.zero_point.tolist() == [0, -8]  # signed storage: zp = -offset - 128
    codes = np.array([[0, 8], [2, -8]], np.int8)
    assert fx.dequantize(codes, enc).tolist() == [[0.0, 4.0], [1.0, 0.0]]


def test_shapes_are_kept_including_0d_and_strided_inputs():
    enc = fx.Encoding.from_zero_point(0.1, 3, "int8")
    assert fx.quantize(np.float32(1.0), enc, rounding="half_even").shape == ()
    assert fx.quantize(np.float32(1.0), enc, rounding="half_even") == 13
    assert fx.requantize(np.int32(7), 0.5).shape == ()
    strided = np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2]
    assert fx.requantize(strided, 0.5).tolist() == fx.requantize(strided.copy(), 0.5).tolist()
    assert fx.requantize(strided, 0.5).shape == (3, 2)
    assert fx.quantize(np.zeros((0, 5), np.float32), enc, rounding="floor").shape == (0, 5)
