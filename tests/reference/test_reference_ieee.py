"""fxsim.reference.ieee against the machine's IEEE arithmetic (numpy float32, Python float).

numpy float32 scalar arithmetic and float64 -> float32 conversion are correctly rounded IEEE
754 binary32 operations (ties to even, subnormals, overflow to inf) on x86-64 and aarch64;
Python floats are binary64. These are the documented behaviours being emulated.
"""

import math
import struct
from fractions import Fraction

import numpy as np
import pytest

from fxsim.reference import ieee

RNG = np.random.default_rng(20240611)
N = 4000


def _random_float32(n):
    """Finite float32 values with every exponent: random bit patterns, NaN/inf removed."""
    bits = RNG.integers(0, 1 << 32, size=3 * n, dtype=np.uint64).astype(np.uint32)
    v = bits.view(np.float32)
    v = v[np.isfinite(v)][:n]
    return v


def _random_float32_near(n, scale):
    return (RNG.standard_normal(n) * scale).astype(np.float32)


def _as(v):
    """numpy/Python result -> the reference's representation (Fraction or +-inf)."""
    f = float(v)
    return f if math.isinf(f) else Fraction(f)


def test_round_to_float32_matches_numpy_conversion():
    # float64 -> float32 conversion: random doubles over the whole float32 range, subnormals,
    # overflow, and exact midpoints between adjacent float32 values (ties to even)
    xs = list(RNG.standard_normal(N) * 10.0 ** RNG.integers(-46, 39, N))
    a = _random_float32(N)
    b = np.nextafter(a, np.float32(np.inf))
    mids = [(float(x) + float(y)) / 2 for x, y in zip(a, b) if np.isfinite(y)]  # exact in double
    xs += mids[:N]
    xs += [3.4028235677973366e38, 3.4028235677973362e38, 3.40282357e38, 1e39, -1e39, 1.4e-45, 7e-46,
           7.006492321624085e-46, 2.0 ** -150, -(2.0 ** -150), 2.0 ** -149 * 1.5]
    with np.errstate(over="ignore"):
        for x in xs:
            assert ieee.round_to_float32(Fraction(x)) == _as(np.float32(x)), x


def test_round_to_float64_matches_python_float():
    # Fraction -> float is correctly rounded (CPython's Fraction.__float__ is exact-then-round)
    for _ in range(N):
        n = int(RNG.integers(-(1 << 62), 1 << 62))
        d = int(RNG.integers(1, 1 << 62))
        q = Fraction(n, d) * Fraction(2) ** int(RNG.integers(-1100, 1000))
        try:
            want = Fraction(float(q))
        except OverflowError:
            want = math.inf if q > 0 else -math.inf
        assert ieee.round_to_float64(q) == want


@pytest.mark.parametrize("op, np_op", [(ieee.f32_mul, np.multiply), (ieee.f32_add, np.add),
                                       (ieee.f32_div, np.divide)])
def test_f32_ops_match_numpy(op, np_op):
    a = np.concatenate([_random_float32(N // 2), _random_float32_near(N // 2, 1000.0)])
    b = np.concatenate([_random_float32(N // 2), _random_float32_near(N // 2, 0.01)])
    RNG.shuffle(b)
    with np.errstate(all="ignore"):
        want = np_op(a, b)
    for x, y, w in zip(a, b, want):
        if np.isnan(w) or (op is ieee.f32_div and y == 0):
            continue
        if w == 0:
            # the model has no signed zero
            assert op(Fraction(float(x)), Fraction(float(y))) == 0
            continue
        assert op(Fraction(float(x)), Fraction(float(y))) == _as(w), (x, y)


@pytest.mark.parametrize("op, py_op", [(ieee.f64_mul, lambda a, b: a * b), (ieee.f64_add, lambda a, b: a + b),
                                       (ieee.f64_div, lambda a, b: a / b)])
def test_f64_ops_match_python(op, py_op):
    bits = RNG.integers(0, 1 << 63, size=2 * N, dtype=np.uint64)
    signs = RNG.integers(0, 2, size=2 * N, dtype=np.uint64) << np.uint64(63)
    vals = (bits | signs).view(np.float64)
    vals = vals[np.isfinite(vals)]
    a, b = vals[: len(vals) // 2], vals[len(vals) // 2:]
    for x, y in zip(a.tolist(), b.tolist()):
        if y == 0:
            continue
        try:
            w = py_op(x, y)
        except OverflowError:
            continue
        if w == 0:
            assert op(x, y) == 0
            continue
        if math.isinf(w):
            assert op(x, y) == w
            continue
        assert op(x, y) == Fraction(w)


def test_f64_overflow_to_infinity():
    assert ieee.f64_mul(1e308, 10.0) == math.inf
    assert ieee.f64_add(-1.7976931348623157e308, -1.7976931348623157e308) == -math.inf


def test_int_to_float32_and_float64():
    # C integer -> float conversion rounds to nearest even (numpy's int64 -> float32 cast)
    ints = [int(v) for v in RNG.integers(-(1 << 62), 1 << 62, size=N)]
    ints += [(1 << 24) + 1, (1 << 24) + 3, -(1 << 24) - 1, (1 << 31) - 1, -(1 << 31), (1 << 63) - 1, -(1 << 63)]
    for n in ints:
        assert ieee.int_to_float32(n) == Fraction(float(np.float32(np.int64(n))))
        assert ieee.int_to_float64(n) == Fraction(float(n))
    assert ieee.int_to_float32((1 << 24) + 1) == 1 << 24        # tie to even, down
    assert ieee.int_to_float32((1 << 24) + 3) == (1 << 24) + 4  # tie to even, up


def test_is_float32_agrees_with_struct():
    for x in list(RNG.standard_normal(500)) + [0.1, 0.5, 2.0 ** -149, 2.0 ** -150, 3.4028234663852886e38]:
        packed = struct.unpack("f", struct.pack("f", x))[0]
        assert ieee.is_float32(x) == (packed == x)


def test_non_representable_operands_and_nan_raise():
    with pytest.raises(ValueError):
        ieee.f32_mul(0.1, 2.0)          # 0.1 (double) is not a float32 value
    with pytest.raises(ValueError):
        ieee.f32_div(0, 0)
    with pytest.raises(ValueError):
        ieee.f32_mul(math.inf, 0)
    assert ieee.f32_div(1, 0) == math.inf
    assert ieee.f32_mul(math.inf, -2) == -math.inf
    assert ieee.f32_div(3, math.inf) == 0
