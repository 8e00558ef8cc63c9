"""fxsim.reference.quantize against documented vectors and numpy float emulation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import constants as C
from fxsim.reference import quantize as Q
from fxsim.reference import rounding as R


def _f32(v):
    return float(np.float32(v))


def _q(xs, scale, zp, qmin, qmax, mode=C.HALF_EVEN, **kw):
    return [Q.quantize(_f32(x), _f32(scale), zp, qmin, qmax, mode, **kw) for x in xs]


def test_t3_onnx_uint8():
    # onnx/backend/test/case/node/quantizelinear.py: uint8, scale 2, zp 128 (ties to even)
    assert _q([0, 2, 3, 1000, -254, -1000], 2, 128, 0, 255) == [128, 129, 130, 255, 1, 0]


def test_t3_onnx_uint16():
    # quantizelinear.py: uint16, scale 2, zp 32767
    x = [0, -128, 3, -3, 2.9, -2.9, 3.1, -3.1, 65536, -65534, 70000, -70000]
    y = [32767, 32703, 32769, 32765, 32768, 32766, 32769, 32765, 65535, 0, 65535, 0]
    assert _q(x, 2, 32767, 0, 65535) == y


def test_t3_onnx_int16():
    # quantizelinear.py: int16, scale 2, zp 256 (65023 / 2 and -66047 / 2 are ties)
    x = [0, -514, 3, -3, 2.9, -2.9, 3.1, -3.1, 65022, -66046, 65023, -66047, 65024, -66048, 70000, -70000]
    y = [256, -1, 258, 254, 257, 255, 258, 254, 32767, -32767, 32767, -32768, 32767, -32768, 32767, -32768]
    assert _q(x, 2, 256, -32768, 32767) == y


def test_t3_onnx_int4_per_axis():
    # quantizelinear.py: int4, axis 0, scales [2, 3, 4], zp 1
    x = [[0, 2.5, 4.8, 8.6], [-30, -20, 6, 9], [12, 15, 16, 40]]
    scales = [2, 3, 4]
    y = [v for row, s in zip(x, scales) for v in _q(row, s, 1, -8, 7)]
    assert y == [1, 2, 3, 5, -8, -6, 3, 4, 4, 5, 5, 7]


def test_t5_fbgemm_reciprocal_vs_division():
    # pytorch/FBGEMM include/fbgemm/QuantUtils.h comment (research 13.1 T5)
    # (uint8 output: 128 must be representable)
    x, s = _f32(0.273939937), _f32(0.00214854861)
    assert Q.quantize(x, s, 0, 0, 255, C.HALF_EVEN, reciprocal=True) == 128   # 127.5 -> 128
    assert Q.quantize(x, s, 0, 0, 255, C.HALF_EVEN, reciprocal=False) == 127  # 127.49999 -> 127
    # in int8 both saturate to 127
    assert Q.quantize(x, s, 0, -128, 127, C.HALF_EVEN, reciprocal=True) == 127


@pytest.mark.parametrize("reciprocal", [True, False])
def test_t5_fbgemm_corner_cases(reciprocal):
    # FBGEMM test/QuantUtilsTest.cc cornerCases: scale 1.19209e-07, zp 0, int8
    got = _q([3.40282e38, -2.16845e38], 1.19209e-07, 0, -128, 127, reciprocal=reciprocal)
    assert got == [127, -128]


def test_d3_tflite_reference_vs_neon():
    # research 13.2 D3: TFLite reference round(x / s) half away vs NEON vcvtn(x * (1/s)) half even
    assert _q([1.25, -1.25], 0.5, 0, -128, 127, C.HALF_AWAY) == [3, -3]
    assert _q([1.25, -1.25], 0.5, 0, -128, 127, C.HALF_EVEN, reciprocal=True) == [2, -2]


# D10 (research 13.2): x / scale = +-0.5, +-1.5, +-2.5 -> RHE / RHA / RHU columns
D10 = {0.5: (0, 1, 1), -0.5: (0, -1, 0), 1.5: (2, 2, 2), -1.5: (-2, -2, -1), 2.5: (2, 3, 3), -2.5: (-2, -3, -2)}


@pytest.mark.parametrize("ratio", sorted(D10))
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_d10_quantize_ties(ratio, precision):
    for mode, want in zip((C.HALF_EVEN, C.HALF_AWAY, C.HALF_UP), D10[ratio]):
        # scale 0.25: x = ratio / 4 is exact, as is the quotient
        assert Q.quantize(ratio / 4, 0.25, 0, -128, 127, mode, precision=precision) == want
        assert Q.quantize(ratio / 4, 0.25, 0, -128, 127, mode, reciprocal=True, precision=precision) == want
        # with a zero point the tie is unchanged
        assert Q.quantize(ratio / 4, 0.25, 10, -128, 127, mode) == want + 10


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_input_raises(bad):
    with pytest.raises(ValueError):
        Q.quantize(bad, 0.5, 0, -128, 127, C.HALF_EVEN)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        Q.quantize(1.0, 0.1, 0, -128, 127, C.HALF_EVEN)                    # 0.1 is not float32
    assert Q.quantize(1.0, 0.1, 0, -128, 127, C.HALF_EVEN, precision="float64") == 10
    with pytest.raises(ValueError):
        Q.quantize(1.0, 0.0, 0, -128, 127, C.HALF_EVEN)
    with pytest.raises(ValueError):
        Q.quantize(1.0, 0.5, 0, -128, 127, C.HALF_EVEN, precision="float16")
    with pytest.raises(ValueError):
        Q.quantize(1.0, 0.5, 0, -128, 127, C.STOCHASTIC)                   # no draw


FLOATS32 = st.floats(-3.4028234663852886e38, 3.4028234663852886e38, allow_nan=False, width=32)
SCALES32 = st.floats(2.0 ** -40, 2.0 ** 20, allow_nan=False, width=32)


@given(FLOATS32, SCALES32, st.integers(-128, 127))
def test_matches_numpy_float32_division(x, scale, zp):
    # ONNX Runtime MlasQuantizeLinear: x / scale in float32, clamp to [qmin-zp, qmax-zp], rint, + zp
    with np.errstate(over="ignore"):
        v = np.float32(x) / np.float32(scale)
    want = int(np.rint(np.clip(np.float64(v), -128 - zp, 127 - zp))) + zp
    assert Q.quantize(x, scale, zp, -128, 127, C.HALF_EVEN) == want


@given(FLOATS32, SCALES32)
def test_matches_numpy_float32_reciprocal(x, scale):
    # FBGEMM Quantize: x * (1.0f / scale), nearbyint, clamp
    with np.errstate(over="ignore"):
        v = np.float32(x) * (np.float32(1.0) / np.float32(scale))
    want = int(np.rint(np.clip(np.float64(v), 0, 255)))
    assert Q.quantize(x, scale, 0, 0, 255, C.HALF_EVEN, reciprocal=True) == want


@given(st.floats(-1e300, 1e300, allow_nan=False), st.floats(1e-300, 1e300, allow_nan=False))
def test_matches_python_float64_division(x, scale):
    with np.errstate(over="ignore"):
        v = np.float64(x) / np.float64(scale)
    want = int(np.rint(np.clip(v, -32768, 32767)))
    assert Q.quantize(x, scale, 0, -32768, 32767, C.HALF_EVEN, precision="float64") == want


def test_stochastic_quantize_averages_to_the_quotient():
    # x / s = 1.2: mean of stochastic codes over 4000 elements of one call
    n = 4000
    draws = [Q.quantize(0.3, 0.25, 0, -128, 127, C.STOCHASTIC, R.splitmix64_bits(7, i), precision="float64")
             for i in range(n)]
    assert set(draws) == {1, 2}
    assert abs(sum(draws) / n - 1.2) < 5 * (0.2 * 0.8 / n) ** 0.5
