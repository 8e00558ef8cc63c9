"""fxsim.testing.strategies: the public strategies draw valid values and hit what they promise."""

import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import fxsim as fx
from fxsim.testing import strategies as fxst


@given(fxst.encodings())
def test_encodings_are_valid_and_cover_the_schema(enc):
    assert enc.offset <= 0 if not enc.is_per_channel else np.all(enc.offset <= 0)
    assert enc.qmin <= enc.qmax
    assert enc.schema in fxst.SCHEMAS


@given(fxst.quantized_tensors(encoding=None))
def test_dequantize_then_quantize_returns_the_codes(pair):
    # float32 (q - zp) * s, then q' = rint(x / s) + zp: the error of the two float32 steps is
    # far below half a step, so every code comes back.
    codes, enc = pair
    x = fx.dequantize(codes, enc)
    assert x.dtype == np.float32
    back = fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_EVEN)
    assert back.dtype == codes.dtype
    assert np.array_equal(back, codes)


@given(st.data())
def test_per_channel_quantized_tensors_put_channels_on_the_axis(data):
    enc = data.draw(fxst.encodings(per_channel=True, axis=data.draw(st.integers(0, 2))))
    codes, _ = data.draw(fxst.quantized_tensors(encoding=enc))
    assert codes.shape[enc.axis] == enc.num_channels
    assert codes.min() >= enc.qmin and codes.max() <= enc.qmax


@given(st.data())
def test_float_ties_are_ties_for_power_of_two_scales(data):
    enc = fx.Encoding(2.0 ** data.draw(st.integers(-10, 4)), -128, bitwidth=8, signed=True)
    x = np.array([data.draw(fxst.float_ties(enc))], np.float32)
    up = fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_UP).astype(int)
    down = fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_DOWN).astype(int)
    ratio = float(x[0]) / enc.scale
    if enc.qmin < ratio < enc.qmax:
        assert ratio - np.floor(ratio) == 0.5
        assert int(up[0]) - int(down[0]) == 1


@given(fxst.multipliers())
def test_multipliers_are_normalized(m):
    assert (1 << 30) <= m.value < (1 << 31) and -31 <= m.shift <= 30


@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), fxst.shift_ties(n))))
def test_shift_ties_are_within_one_of_a_tie(case):
    n, x = case
    remainder = x % (1 << n)
    assert abs(remainder - (1 << (n - 1))) <= 1


@given(st.data())
def test_saturation_edges_saturate(data):
    enc = data.draw(fxst.encodings(per_channel=False))
    x = np.array([data.draw(fxst.saturation_edges(enc))], np.float32)
    q = int(fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_EVEN)[0])
    assert enc.qmin <= q <= enc.qmax


def test_missing_hypothesis_gives_an_install_hint(tmp_path):
    code = (
        "import sys; sys.modules['hypothesis'] = None; sys.modules['hypothesis.strategies'] = None\n"
        "try:\n    import fxsim.testing.strategies\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path).stdout  # outside the checkout: the installed package
    assert 'pip install "fxsim[testing]"' in out
