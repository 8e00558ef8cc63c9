"""Encoding: fields, derived values, constructors, schemas, validation, equality."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, strategies as st

from fxsim.arith import Encoding
from fxsim.arith.encoding import AIMET_MIN_SCALE, ZeroPointParams
from fxsim.errors import EncodingError

ATOL_DOC = 1e-4  # the QNN document prints rounded values


# --- DESIGN.md "tf mode", the QNN quantization document's worked examples.
def test_qnn_document_example():
    # [-1.8, -1.0, 0, 0.5] at 8 bits -> min -1.803922, max 0.496078, step 0.009020, zero at 200
    enc = Encoding.from_min_max(-1.8, 0.5, bitwidth=8)
    assert enc.min == pytest.approx(-1.803922, abs=ATOL_DOC)
    assert enc.max == pytest.approx(0.496078, abs=ATOL_DOC)
    assert enc.scale == pytest.approx(0.009020, abs=ATOL_DOC)
    assert enc.zero_point == 200 and enc.offset == -200
    assert (enc.bitwidth, enc.signed, enc.axis) == (8, False, None)
    assert enc.dtype == np.uint8


def test_qnn_document_symmetric_range():
    enc = Encoding.from_min_max(-5.1, 5.1)  # [-5.1, 5.1] -> min -5.12, max 5.08
    assert enc.min == pytest.approx(-5.12, abs=ATOL_DOC)
    assert enc.max == pytest.approx(5.08, abs=ATOL_DOC)
    assert enc.offset == -128  # -127.5 rounds half away


def test_qnn_document_zero_included():
    assert Encoding.from_min_max(5, 10).min == 0  # [5, 10] -> min 0
    assert Encoding.from_min_max(-20, -6).max == 0  # [-20, -6] -> max 0


def test_qnn_min_range():
    # DESIGN.md: max >= min + min_range, 1e-4 (QNN document), 0.01 (older SNPE/AIMET rule)
    assert Encoding.from_min_max(0.0, 0.0).scale == 1e-4 / 255
    assert Encoding.from_min_max(0.0, 0.0, min_range=0.01).scale == 0.01 / 255
    assert Encoding.from_min_max(-1.0, 1.0, min_range=0.01).scale == 2.0 / 255


# --- AIMET symmetric int8 (DESIGN.md "Encodings"): offset -128 <-> signed storage zero point 0.
def test_aimet_symmetric_int8():
    enc = Encoding.symmetric(absmax=0.7, bitwidth=8)
    assert enc.scale == 0.7 / 127
    assert (enc.offset, enc.signed, enc.zero_point) == (-128, True, 0)
    assert enc.min == pytest.approx(-128 * 0.7 / 127) and enc.max == pytest.approx(0.7)
    assert (enc.qmin, enc.qmax) == (-128, 127)
    assert enc.is_symmetric and enc.schema == "signed_symmetric"
    assert Encoding.from_zero_point(0.7 / 127, 0, "int8") == enc


def test_strict_symmetric():
    enc = Encoding.symmetric(0.7, strict=True)  # [-127 s, 127 s], qmin -127 in storage
    assert (enc.scale, enc.offset, enc.zero_point, enc.qmin, enc.qmax) == (0.7 / 127, -128, 0, -127, 127)
    assert enc.min == pytest.approx(-0.7) and enc.max == pytest.approx(0.7)
    enc4 = Encoding.symmetric(0.7, bitwidth=4, strict=True)
    assert (enc4.scale, enc4.qmin, enc4.qmax) == (0.7 / 7, -7, 7)


def test_tflite_zero_point_convention():
    # DESIGN.md: a TFLite int8 zero point of -5 is offset -123
    enc = Encoding.from_zero_point(0.1, -5, "int8")
    assert (enc.offset, enc.zero_point, enc.signed) == (-123, -5, True)
    assert enc.to_zero_point() == ZeroPointParams(0.1, -5, "int8", -128, 127, None, "value")
    # ONNX uint8 zero point 128 is the same grid as int8 zero point 0
    assert Encoding.from_zero_point(0.5, 128, "uint8").with_storage(True) == Encoding.from_zero_point(0.5, 0, "int8")


# --- AIMET 2.x (aimet-calibration.md 2.3, quantization_utils.cpp getComputedEncodings).
def test_aimet_int8_symmetric_formula():
    # delta = max(max/127, -min/128)
    e = Encoding.from_min_max(-1.0, 0.5, signed=True, symmetric=True, compat="aimet")
    assert e.scale == max(0.5 / 127, 1.0 / 128) == 1.0 / 128 and e.offset == -128
    e = Encoding.from_min_max(-0.5, 1.0, signed=True, symmetric=True, compat="aimet")
    assert e.scale == 1.0 / 127
    # ratio to absmax/127 is 1.0 or 127/128 depending on the sign of the largest element
    assert Encoding.from_min_max(-2.0, 1.0, signed=True, symmetric=True, compat="aimet").scale / (2.0 / 127) == \
        pytest.approx(127 / 128)


def test_aimet_int4_and_int16_symmetric():
    e = Encoding.from_min_max(-1.0, 2.0, bitwidth=4, signed=True, symmetric=True, compat="aimet")
    assert (e.scale, e.offset, e.zero_point) == (max(2.0 / 7, 1.0 / 8), -8, 0)
    e = Encoding.from_min_max(-3.0, 1.0, bitwidth=16, signed=True, symmetric=True, compat="aimet")
    assert (e.scale, e.offset) == (3.0 / 32768, -32768)


def test_aimet_strict_symmetric():
    # strict: N = 2^bw - 2 -> P = M = 127; fxsim keeps offset -128 with qmin -127
    e = Encoding.from_min_max(-1.0, 0.5, signed=True, symmetric=True, strict=True, compat="aimet")
    assert (e.scale, e.offset, e.qmin, e.qmax) == (1.0 / 127, -128, -127, 127)


def test_aimet_asymmetric():
    e = Encoding.from_min_max(-1.1, 0.9, compat="aimet")  # delta = 2/255, offset round(-140.25) = -140
    assert (e.scale, e.offset) == (2.0 / 255, -140)
    e16 = Encoding.from_min_max(-1.1, 0.9, bitwidth=16, compat="aimet")
    assert e16.scale == 2.0 / 65535


def test_aimet_no_min_range_and_min_scale():
    assert Encoding.from_min_max(0.0, 8.19e-4, compat="aimet").scale == 8.19e-4 / 255  # kept exactly
    assert Encoding.from_min_max(0.0, 0.0, compat="aimet").scale == AIMET_MIN_SCALE == 2.0 ** -23
    e = Encoding.from_min_max(-1e-6, 1e-6, signed=True, symmetric=True, compat="aimet")
    assert (e.scale, e.offset) == (2.0 ** -23, -128)  # 1e-6/127 = 7.9e-9 is raised to 2^-23
    e = Encoding.from_min_max(0.5, 0.5, compat="aimet")  # constant positive tensor: 0.5/255, offset 0
    assert (e.scale, e.offset) == (0.5 / 255, 0)


def test_aimet_symmetric_of_absmax_equals_absmax_over_127():
    assert Encoding.symmetric(0.7, compat="aimet").scale == 0.7 / 127
    assert Encoding.symmetric(0.0, compat="aimet").scale == 2.0 ** -23
    assert Encoding.symmetric(0.0).scale == 1e-4 / 127  # qnn: min_range applied to [0, 0]


# --- the four schemas of the QNN document
def test_four_schemas():
    ua = Encoding.from_min_max(-1.0, 3.0)
    sa = Encoding.from_min_max(-1.0, 3.0, signed=True)
    ss = Encoding.from_min_max(-1.0, 3.0, signed=True, symmetric=True)
    us = Encoding.from_min_max(0.0, 3.0, symmetric=True)
    assert [e.schema for e in (ua, sa, ss, us)] == [
        "unsigned_asymmetric", "signed_asymmetric", "signed_symmetric", "unsigned_symmetric"]
    assert (ua.offset, ua.zero_point) == (-64, 64)
    assert (sa.offset, sa.zero_point, sa.scale) == (-64, -64, ua.scale)  # same grid, stored signed
    assert (ss.scale, ss.zero_point) == (3.0 / 127, 0)
    assert (us.scale, us.offset, us.zero_point, us.signed) == (3.0 / 255, 0, 0, False)
    assert Encoding.unsigned_symmetric(3.0) == us
    # symmetric data with negative values stored unsigned: zero point 128
    e = Encoding.from_min_max(-1.0, 3.0, symmetric=True)
    assert (e.offset, e.zero_point, e.signed, e.schema, e.is_symmetric) == (-128, 128, False, "unsigned_asymmetric", True)


def test_with_storage_is_lossless():
    e = Encoding.from_min_max(-1.8, 0.5)
    s = e.with_storage(True)
    assert (s.offset, s.zero_point, s.qmin, s.qmax, s.dtype) == (-200, 72, -128, 127, np.int8)
    assert (s.min, s.max) == (e.min, e.max)
    assert s.with_storage(False) == e and e.with_storage(False) is e
    strict = Encoding.symmetric(1.0, strict=True)
    assert strict.with_storage(False).qmin == 1 and strict.with_storage(False).with_storage(True) == strict


# --- per-channel
def test_per_channel():
    e = Encoding.per_channel([0.1, 0.2, 0.4], -128, axis=0, signed=True)
    assert e.is_per_channel and e.num_channels == 3 and e.axis == 0
    assert e.zero_point.tolist() == [0, 0, 0] and e.offset.dtype == np.int64
    assert e.min.tolist() == pytest.approx([-12.8, -25.6, -51.2])
    assert e.channel(1) == Encoding.symmetric(0.2 * 127)
    with pytest.raises(ValueError):
        e.scale[0] = 1.0  # read-only
    # ONNX QuantizeLinear int4 per axis (T3): zp 1 <-> offset -9
    z = Encoding.from_zero_point([2.0, 3.0, 4.0], 1, "int4", axis=0)
    assert z.offset.tolist() == [-9, -9, -9] and z.dtype == np.int8
    assert Encoding.from_min_max([-1.0, -2.0], [1.0, 4.0], axis=1).offset.tolist() == [-128, -85]
    assert Encoding.symmetric(np.array([0.7, 1.4]), axis=0).scale.tolist() == [0.7 / 127, 1.4 / 127]
    t = Encoding.symmetric(0.7).to_per_channel(4, axis=1)
    assert t.num_channels == 4 and t.channel(3) == Encoding.symmetric(0.7)


@pytest.mark.parametrize("kwargs, field", [
    (dict(scales=[0.1, 0.2], offsets=[-128, -128, -128]), "offset"),
    (dict(scales=[[0.1, 0.2]], offsets=-128), "scale"),
    (dict(scales=[], offsets=-128), "scale"),
    (dict(scales=[0.1, 0.0], offsets=-128), "channel 1"),
    (dict(scales=[0.1, np.nan], offsets=-128), "scale"),
    (dict(scales=[0.1, 0.2], offsets=[-128, 1]), "offset"),
    (dict(scales=[0.1, 0.2], offsets=[-128.0, -1.5]), "offset"),
    (dict(scales=["a", "b"], offsets=-128), "scale"),
])
def test_per_channel_errors(kwargs, field):
    with pytest.raises(EncodingError, match=field):
        Encoding.per_channel(axis=0, signed=True, **kwargs)


def test_per_channel_min_max_length_mismatch():
    with pytest.raises(EncodingError, match="min, max"):
        Encoding.from_min_max([-1.0, -2.0], [1.0], axis=0)
    with pytest.raises(EncodingError, match="axis"):
        Encoding.per_channel([0.1], -128, axis=None)


# --- bias encodings
def test_bias_encodings():
    b = Encoding.for_bias(0.001)
    assert (b.kind, b.bitwidth, b.signed, b.zero_point, b.dtype) == ("bias", 32, True, 0, np.int32)
    b64 = Encoding.for_bias([0.001, 0.002], bitwidth=64, axis=0)
    assert b64.zero_point.tolist() == [0, 0] and b64.dtype == np.int64
    assert Encoding.from_zero_point(0.001, 0, "int32").kind == "bias"
    assert Encoding.for_bias(0.5, bitwidth=8) != Encoding.symmetric(0.5 * 127)  # kind differs
    with pytest.raises(EncodingError, match="bitwidth"):
        Encoding.for_bias(0.001, bitwidth=16)
    with pytest.raises(EncodingError, match="bitwidth"):
        Encoding(0.001, -(2 ** 31), 32, True)  # a value encoding cannot be 32-bit


# --- validation: every bad field raises EncodingError naming it
@pytest.mark.parametrize("kwargs, field", [
    (dict(bitwidth=1), "bitwidth"), (dict(bitwidth=3), "bitwidth"), (dict(bitwidth=17), "bitwidth"),
    (dict(bitwidth=33), "bitwidth"), (dict(bitwidth=8.0), "bitwidth"),
    (dict(scale=0.0), "scale"), (dict(scale=-0.1), "scale"), (dict(scale=float("nan")), "scale"),
    (dict(scale=float("inf")), "scale"), (dict(scale="0.1"), "scale"), (dict(scale=[0.1, 0.2]), "scale"),
    (dict(offset=1), "offset"), (dict(offset=-0.5), "offset"), (dict(offset=-256), "offset"),
    (dict(offset=float("nan")), "offset"),
    (dict(signed=1), "signed"), (dict(qmin=-1), "qmin"), (dict(qmax=256), "qmax"),
    (dict(qmin=200, qmax=100), "qmin"), (dict(axis=-1), "axis"), (dict(axis=1.0), "axis"),
    (dict(kind="weight"), "kind"),
])
def test_field_validation(kwargs, field):
    args = dict(scale=0.1, offset=-128, bitwidth=8, signed=False)
    args.update(kwargs)
    with pytest.raises(EncodingError, match=field):
        Encoding(**args)


@pytest.mark.parametrize("kwargs, field", [
    (dict(min=float("nan")), "min"), (dict(max=float("inf")), "max"), (dict(min=-float("inf")), "min"),
    (dict(min=2.0, max=1.0), "min must be <= max"), (dict(bitwidth=2), "bitwidth"), (dict(bitwidth=32), "bitwidth"),
    (dict(compat="snpe"), "compat"), (dict(strict=True), "strict"), (dict(min_range=-1.0), "min_range"),
    (dict(min=[-1.0, 0.0]), "min"), (dict(signed="yes"), "signed"),
])
def test_from_min_max_validation(kwargs, field):
    args = dict(min=-1.0, max=1.0)
    args.update(kwargs)
    with pytest.raises(EncodingError, match=field):
        Encoding.from_min_max(**args)


@pytest.mark.parametrize("args, field", [((0.1, 128, "int8"), "zero_point"), ((0.1, -1, "uint8"), "zero_point"),
                                         ((0.1, 8, "int4"), "zero_point"), ((0.1, 0.5, "int8"), "zero_point"),
                                         ((0.1, 0, "float32"), "dtype"), ((0.1, 0, "uint32"), "dtype")])
def test_from_zero_point_validation(args, field):
    with pytest.raises(EncodingError, match=field):
        Encoding.from_zero_point(*args)


def test_symmetric_rejects_negative_absmax():
    with pytest.raises(EncodingError, match="absmax"):
        Encoding.symmetric(-1.0)


# --- equality, hashing, repr, immutability
def test_equality_and_hash():
    a = Encoding.from_min_max(-1.8, 0.5)
    b = Encoding(a.scale, -200.0, 8, False, 0, 255)  # integral float offset and explicit full range
    assert a == b and hash(a) == hash(b)
    assert a != a.with_storage(True) and a != Encoding(a.scale, -199)
    p = Encoding.per_channel([0.1, 0.2], -128, axis=0, signed=True)
    assert p == Encoding.per_channel(np.array([0.1, 0.2], np.float64), np.array([-128, -128], np.int16), axis=0,
                                     signed=True)
    assert p != Encoding.per_channel([0.1, 0.2], -128, axis=1, signed=True)
    assert len({a, b, p}) == 2
    assert a != "Encoding"


def test_repr_is_readable_and_round_trips():
    e = Encoding.symmetric(0.7, strict=True)
    r = repr(e)
    assert r == f"Encoding(scale={0.7 / 127!r}, offset=-128, bitwidth=8, signed=True, qmin=-127, qmax=127)"
    assert eval(r, {"Encoding": Encoding}) == e
    assert "axis=0" in repr(Encoding.per_channel(np.linspace(0.1, 1, 20), -128, axis=0, signed=True))
    assert "kind='bias'" in repr(Encoding.for_bias(0.01))


def test_frozen():
    e = Encoding.from_min_max(-1.0, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.scale = 1.0


# --- properties (hypothesis)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(finite, finite, st.integers(4, 16), st.booleans())
def test_from_min_max_properties(a, b, bw, signed):
    lo, hi = min(a, b), max(a, b)
    e = Encoding.from_min_max(lo, hi, bitwidth=bw, signed=signed)
    n = 2 ** bw - 1
    assert isinstance(e.offset, int) and -n <= e.offset <= 0  # integral, zero on the grid
    zero_code = e.zero_point  # the code of the real value 0
    assert e.qmin <= zero_code <= e.qmax
    assert (zero_code - e.zero_point) * e.scale == 0.0
    assert e.min <= 0.0 <= e.max
    tol = e.scale * (0.5 + 1e-9)  # the grid covers the range up to half a step (rounded offset)
    assert e.min <= min(lo, 0.0) + tol and e.max >= max(hi, 0.0) - tol
    assert e.max - e.min == pytest.approx(n * e.scale, rel=1e-12)


@given(finite, finite, st.integers(4, 16))
def test_aimet_symmetric_properties(a, b, bw):
    lo, hi = min(a, b, 0.0), max(a, b, 0.0)
    e = Encoding.from_min_max(lo, hi, bitwidth=bw, signed=True, symmetric=True, compat="aimet")
    p, m = 2 ** (bw - 1) - 1, 2 ** (bw - 1)
    assert e.offset == -m and e.zero_point == 0
    assert e.scale == max(hi / p, -lo / m, AIMET_MIN_SCALE)
    assert e.min <= lo and e.max >= hi * (1 - 1e-15)


VALUE_DTYPES = ["int4", "uint4", "int8", "uint8", "int16", "uint16", "int12", "uint12"]


@given(st.sampled_from(VALUE_DTYPES + ["int32", "int64"]), st.data())
def test_zero_point_offset_round_trip(dtype, data):
    from fxsim.arith import parse_dtype

    t = parse_dtype(dtype)
    zp = data.draw(st.integers(t.min, t.max))
    qmin = data.draw(st.integers(t.min, t.max))
    qmax = data.draw(st.integers(qmin, t.max))
    scale = data.draw(st.floats(1e-8, 1e3))
    e = Encoding.from_zero_point(scale, zp, dtype, qmin, qmax)
    assert e.zero_point == zp and e.dtype == t.container
    assert e.offset == (-(zp + 2 ** (t.bitwidth - 1)) if t.signed else -zp)
    assert Encoding.from_zero_point(*e.to_zero_point()) == e
    other = e.with_storage(not t.signed)
    assert other.offset == e.offset and other.with_storage(t.signed) == e
    assert other.min == e.min and other.max == e.max


@given(st.sampled_from(VALUE_DTYPES), st.integers(1, 6), st.data())
def test_per_channel_zero_point_round_trip(dtype, channels, data):
    from fxsim.arith import parse_dtype

    t = parse_dtype(dtype)
    zps = np.array(data.draw(st.lists(st.integers(t.min, t.max), min_size=channels, max_size=channels)))
    scales = np.array(data.draw(st.lists(st.floats(1e-6, 10.0), min_size=channels, max_size=channels)))
    e = Encoding.from_zero_point(scales, zps, dtype, axis=2)
    assert e.zero_point.tolist() == zps.tolist()
    assert Encoding.from_zero_point(*e.to_zero_point()) == e
    assert all(e.channel(i).zero_point == zps[i] for i in range(channels))
