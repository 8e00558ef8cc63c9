"""Documented vectors through the public API, each citing where it was published.

These are the first kind of truth (DESIGN.md "Three kinds of truth"): numbers written down by
an engine's authors or a specification, reproduced by fx.quantize / fx.requantize / fx.pack_int4.
"""

import numpy as np
import pytest

import fxsim as fx

TIE_ACC = np.array([-10, -6, -2, 2, 6, 10], dtype=np.int32)


# --- TARGETS.md "Known differences", tie table at scale 0.25 (engine-semantics D1, derived from
# gemmlowp fixedpoint.h SRDHM/RDBPOT, TFLite common.cc single rounding, ONNX QuantizeLinear RHE).
def test_tie_table_double_round():
    got = fx.requantize(TIE_ACC, 0.25, fx.Requant.DOUBLE_ROUND, dtype="int8")
    assert got.tolist() == [-3, -2, -1, 1, 2, 3]


def test_tie_table_single_round():
    got = fx.requantize(TIE_ACC, 0.25, fx.Requant.SINGLE_ROUND, dtype="int8")
    assert got.tolist() == [-2, -1, 0, 1, 2, 3]


def test_tie_table_fp32_half_even():
    got = fx.requantize(TIE_ACC, np.float32(0.25), fx.Requant.FP32, rounding=fx.RoundingMode.HALF_EVEN, dtype="int8")
    assert got.tolist() == [-2, -2, 0, 0, 2, 2]


def test_tie_table_tosa_double_round_equals_tflite():
    # TOSA apply_scale_32 with double_round (tosa-specification scale_helpers.tosac) at the
    # TFLite multiplier (1073741824, -1) -> TOSA shift 31 - (-1) = 32.
    n = TIE_ACC.size
    got = fx.tosa_apply_scale_32(TIE_ACC, np.full(n, 1 << 30, np.int32), np.full(n, 32, np.int32), double_round=True)
    assert got.tolist() == [-3, -2, -1, 1, 2, 3]
    got = fx.tosa_apply_scale_32(TIE_ACC, np.full(n, 1 << 30, np.int32), np.full(n, 32, np.int32), double_round=False)
    assert got.tolist() == [-2, -1, 0, 1, 2, 3]


# --- Double vs single rounding off ties (engine-semantics D2): real 0.09375 -> (1610612736, -3).
def test_double_vs_single_round_off_tie():
    m = fx.quantize_multiplier(0.09375, derivation="tflite")
    assert (m.value, m.shift) == (1610612736, -3)
    acc = np.array([197, -197], np.int32)
    assert fx.requantize(acc, m, fx.Requant.DOUBLE_ROUND, dtype="int8").tolist() == [19, -19]
    assert fx.requantize(acc, m, fx.Requant.SINGLE_ROUND, dtype="int8").tolist() == [18, -18]


def test_double_vs_single_round_second_multiplier():
    # D2: real 0.0072474273418486118 -> (1992157658, -7); x = -96517 gives DR -700, SR -699.
    m = fx.quantize_multiplier(0.0072474273418486118, derivation="tflite")
    assert (m.value, m.shift) == (1992157658, -7)
    acc = np.array([-96517, 96517], np.int32)
    assert fx.requantize(acc, m, fx.Requant.DOUBLE_ROUND, dtype="int16").tolist() == [-700, 700]
    assert fx.requantize(acc, m, fx.Requant.SINGLE_ROUND, dtype="int16").tolist() == [-699, 699]


# --- Quantize by division vs reciprocal (FBGEMM include/fbgemm/QuantUtils.h comment; T5).
def test_quantize_division_vs_reciprocal():
    # 127.5 -> 128 needs an output range that holds 128: uint8 (int8 clamps both to 127)
    enc = fx.Encoding.from_zero_point(float(np.float32(0.00214854861)), 0, "uint8")
    x = np.array([0.273939937], np.float32)
    assert fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_EVEN).tolist() == [127]
    assert fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_EVEN, reciprocal=True).tolist() == [128]


# --- TFLite 16x8 reduced multiplier (tensorflow/lite/kernels/internal/common.cc int64
# MultiplyByQuantizedMultiplier; D8): acc 123456789 at 0.0003 -> 37038 (exact 37037.04).
def test_int64_reduced_multiplier():
    acc = np.array([123456789, -123456789], np.int64)
    got = fx.requantize(acc, 0.0003, fx.Requant.INT64_REDUCED, dtype="int32", acc_bits=64)
    assert got.tolist() == [37038, -37038]
    full = fx.requantize(acc, 0.0003, fx.Requant.SINGLE_ROUND, dtype="int32", acc_bits=64)
    assert full.tolist() == [37037, -37037]


# --- tensorflow/lite/kernels/internal/quantization_util_test.cc (T2): MultiplyByQuantizedMultiplier.
@pytest.mark.parametrize(
    "x, real, expected",
    [
        (10000, 0.00097656, 10),
        (-10000, 0.00097656, -10),
        (10000, -0.00097656, -10),
        (-(1 << 31), 0.00001, -21475),
        ((1 << 31) - 1, 0.00001, 21475),
        (-(1 << 31), -0.00001, 21475),
    ],
)
def test_tflite_multiply_by_quantized_multiplier_int32(x, real, expected):
    m = fx.quantize_multiplier(real, derivation="tflite")
    got = fx.requantize(np.array([x], np.int32), m, fx.Requant.DOUBLE_ROUND, dtype="int32")
    assert got.tolist() == [expected]


@pytest.mark.parametrize("x, expected", [(-(1 << 47), -1407385600), ((1 << 47) - 1, 1407385600)])
def test_tflite_multiply_by_quantized_multiplier_int64(x, expected):
    m = fx.quantize_multiplier(0.00001, derivation="tflite")
    got = fx.requantize(np.array([x], np.int64), m, fx.Requant.INT64_REDUCED, dtype="int32", acc_bits=48)
    assert got.tolist() == [expected]


def test_tflite_multiply_by_quantized_multiplier_int64_raw():
    # same test file: x = 2^47 - 1, M = INT32_MAX, shift = -31 -> 65534 (and -65534 for -x)
    m = fx.Multiplier((1 << 31) - 1, -31, 32)
    got = fx.requantize(np.array([(1 << 47) - 1, -((1 << 47) - 1)], np.int64), m, fx.Requant.INT64_REDUCED,
                        dtype="int32", acc_bits=48)
    assert got.tolist() == [65534, -65534]


# --- ONNX QLinearMatMul uint8 (onnx/backend/test/case/node/qlinearmatmul.py; T4).
def test_onnx_qlinearmatmul_uint8():
    a = np.array([[208, 236, 0, 238], [3, 214, 255, 29]], np.int64)
    b = np.array([[152, 51, 244], [60, 26, 255], [0, 127, 246], [127, 254, 247]], np.int64)
    a_scale, a_zp = np.float32(0.0066), 113
    b_scale, b_zp = np.float32(0.00705), 114
    y_scale, y_zp = np.float32(0.0107), 118
    acc = ((a - a_zp) @ (b - b_zp)).astype(np.int32)
    assert acc.tolist() == [[11475, -778, 31402], [-26914, -11872, 7513]]
    multiplier = a_scale * b_scale / y_scale  # float32, as the ONNX reference evaluator forms it
    got = fx.requantize(acc, multiplier, fx.Requant.FP32, rounding=fx.RoundingMode.HALF_EVEN, zero_point=y_zp,
                        dtype="uint8", product_in_float64=True, zero_point_in_float=True)
    assert got.tolist() == [[168, 115, 255], [1, 66, 151]]
    # research T4: the TFLite double-rounding computation (1195333518, -7) gives the same bytes
    m = fx.quantize_multiplier(float(a_scale) * float(b_scale) / float(y_scale), derivation="tflite")
    assert (m.value, m.shift) == (1195333518, -7)
    assert fx.requantize(acc, m, fx.Requant.DOUBLE_ROUND, zero_point=y_zp, dtype="uint8").tolist() == got.tolist()


# --- ONNX QuantizeLinear (onnx/backend/test/case/node/quantizelinear.py; T3).
def test_onnx_quantizelinear_uint8():
    enc = fx.Encoding.from_zero_point(2.0, 128, "uint8")
    x = np.array([0, 2, 3, 1000, -254, -1000], np.float32)
    assert fx.quantize(x, enc, rounding="half_even").tolist() == [128, 129, 130, 255, 1, 0]


def test_onnx_quantizelinear_uint16():
    enc = fx.Encoding.from_zero_point(2.0, 32767, "uint16")
    x = np.array([0, -128, 3, -3, 2.9, -2.9, 3.1, -3.1, 65536, -65534, 70000, -70000], np.float32)
    assert fx.quantize(x, enc, rounding="half_even").tolist() == [
        32767, 32703, 32769, 32765, 32768, 32766, 32769, 32765, 65535, 0, 65535, 0]


def test_onnx_quantizelinear_int16():
    enc = fx.Encoding.from_zero_point(2.0, 256, "int16")
    x = np.array([0, -514, 3, -3, 2.9, -2.9, 3.1, -3.1, 65022, -66046, 65023, -66047, 65024, -66048,
                  70000, -70000], np.float32)
    assert fx.quantize(x, enc, rounding="half_even").tolist() == [
        256, -1, 258, 254, 257, 255, 258, 254, 32767, -32767, 32767, -32768, 32767, -32768, 32767, -32768]


def test_onnx_quantizelinear_int4_per_axis():
    x = np.array([[0, 2.5, 4.8, 8.6], [-30, -20, 6, 9], [12, 15, 16, 40]], np.float32)
    enc = fx.Encoding.per_channel(np.array([2.0, 3.0, 4.0]), np.array([-9, -9, -9]), axis=0, bitwidth=4, signed=True)
    assert enc.zero_point.tolist() == [1, 1, 1]
    got = fx.quantize(x, enc, rounding="half_even")
    assert got.reshape(-1).tolist() == [1, 2, 3, 5, -8, -6, 3, 4, 4, 5, 5, 7]


# --- The QNN document's tf-mode example (DESIGN.md "tf mode"): [-1.8, -1.0, 0, 0.5] at 8 bits.
def test_qnn_document_tf_mode_codes():
    x = np.array([-1.8, -1.0, 0.0, 0.5], np.float32)
    enc = fx.Encoding.from_min_max(float(x.min()), float(x.max()), bitwidth=8)
    assert enc.zero_point == 200
    codes = fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_AWAY)
    assert codes.tolist() == [0, 89, 200, 255]
    # the document prints 4 decimals: compare within 1e-4
    np.testing.assert_allclose(fx.dequantize(codes, enc), [-1.8039, -1.0011, 0.0, 0.4961], atol=1e-4)


# --- Packed 4-bit (DESIGN.md "Packed 4-bit", the QNN document's example).
def test_pack_int4_examples():
    assert fx.pack_int4([10, 4], signed=False).tolist() == [0x4A]
    assert fx.pack_int4([-6, 4], signed=True).tolist() == [0x4A]
    assert fx.unpack_int4(np.array([0x4A], np.uint8), 2, signed=True).tolist() == [-6, 4]


def test_pack_int4_per_channel_layout_starts_each_channel_on_a_byte():
    values = np.arange(54) % 16
    packed = fx.pack_int4(values, signed=False, layout="per_channel", channels=2)
    assert packed.size == 28  # 27 values per channel -> 14 bytes each
    assert packed[13] == values[26]            # channel 0's last value alone in its byte's low nibble
    assert packed[14] == values[27] | (values[28] << 4)
    back = fx.unpack_int4(packed, 54, signed=False, layout="per_channel", channels=2)
    assert back.tolist() == values.tolist()
    assert fx.pack_int4(values, signed=False).size == 27  # dense: 54 values -> 27 bytes


@pytest.mark.parametrize("values, signed", [([16], False), ([-1], False), ([8], True), ([-9], True)])
def test_pack_int4_out_of_range_raises(values, signed):
    with pytest.raises(fx.EncodingError, match="index 0"):
        fx.pack_int4(values, signed=signed)
