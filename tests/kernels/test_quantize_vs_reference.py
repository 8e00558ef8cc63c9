"""Array quantization (csrc/fxsim/kernels/quantize.h via fx.quantize) equals the exact
reference (fxsim/reference/quantize.py): division and reciprocal, float32 and float64, every
rounding mode, per tensor and per channel, zero points at the ends of the range.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fxsim as fx
from fxsim.reference import quantize as ref
from fxsim.reference import rounding as ref_round

STORAGE = {"int8": (8, True), "uint8": (8, False), "int16": (16, True), "uint16": (16, False),
           "int4": (4, True), "uint4": (4, False)}


@st.composite
def scale_and_values(draw, ftype, count):
    """A scale and values that land exactly on ties of x / scale, beside them, or anywhere."""
    scale = ftype(draw(st.one_of(st.sampled_from([0.5, 0.25, 2.0 ** -10, 0.00214854861, 0.1]),
                                 st.floats(1e-6, 10.0))))
    values = []
    for _ in range(count):
        kind = draw(st.sampled_from(["tie", "any", "big", "edge"]))
        k = draw(st.integers(-300, 300))
        if kind == "tie":
            v = (ftype(k) + ftype(0.5)) * scale
        elif kind == "big":
            v = ftype(draw(st.sampled_from([1e30, -1e30, 3e38, -3e38])))
        elif kind == "edge":
            v = np.nextafter((ftype(k) + ftype(0.5)) * scale, ftype(draw(st.sampled_from([np.inf, -np.inf]))))
        else:
            v = ftype(draw(st.floats(-1000.0, 1000.0, width=32 if ftype is np.float32 else 64)))
        values.append(ftype(v))
    return scale, values


@pytest.mark.parametrize("precision", ["float32", "float64"])
@pytest.mark.parametrize("reciprocal", [False, True])
@given(data=st.data(), storage=st.sampled_from(sorted(STORAGE)), mode=st.sampled_from(list(fx.RoundingMode)),
       seed=st.integers(0, (1 << 64) - 1))
def test_quantize_per_tensor(precision, reciprocal, data, storage, mode, seed):
    ftype = np.float32 if precision == "float32" else np.float64
    bw, signed = STORAGE[storage]
    scale, values = data.draw(scale_and_values(ftype, data.draw(st.integers(1, 24))))
    lo, hi = (-(1 << (bw - 1)), (1 << (bw - 1)) - 1) if signed else (0, (1 << bw) - 1)
    zp = data.draw(st.sampled_from([lo, hi, (lo + hi) // 2]))
    enc = fx.Encoding.from_zero_point(float(scale), zp, storage)
    x = np.array(values, dtype=ftype)
    got = fx.quantize(x, enc, rounding=mode, reciprocal=reciprocal, precision=precision, seed=seed)
    assert got.dtype == enc.dtype
    want = [ref.quantize(float(v), float(scale), zp, lo, hi, int(mode), ref_round.splitmix64_bits(seed, i),
                         reciprocal=reciprocal, precision=precision) for i, v in enumerate(x)]
    assert got.tolist() == want


@given(data=st.data(), mode=st.sampled_from([fx.RoundingMode.HALF_EVEN, fx.RoundingMode.HALF_AWAY]))
def test_quantize_per_channel(data, mode):
    channels = data.draw(st.integers(2, 5))
    scales = [np.float32(data.draw(st.floats(1e-4, 1.0))) for _ in range(channels)]
    x = np.array(data.draw(st.lists(st.floats(-50, 50, width=32), min_size=channels * 3, max_size=channels * 3)),
                 np.float32).reshape(channels, 3)
    enc = fx.Encoding.per_channel(np.array(scales, np.float64), np.full(channels, -128), axis=0, bitwidth=8, signed=True)
    got = fx.quantize(x, enc, rounding=mode)
    want = [[ref.quantize(float(v), float(scales[c]), 0, -128, 127, int(mode)) for v in row] for c, row in enumerate(x)]
    assert got.tolist() == want


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_names_tensor_and_index(bad):
    enc = fx.Encoding.from_zero_point(0.1, 0, "int8")
    with pytest.raises(fx.FormatError, match=r"act0.*x\[2\]"):
        fx.quantize(np.array([0.0, 1.0, bad], np.float32), enc, rounding="half_even", name="act0")


def test_rounding_is_required():
    enc = fx.Encoding.from_zero_point(0.1, 0, "int8")
    with pytest.raises(fx.FxsimError, match="rounding"):
        fx.quantize(np.zeros(3, np.float32), enc, rounding=None)
