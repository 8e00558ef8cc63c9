"""fxsim.reference.rounding against documented vectors and independent formulas."""

import decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import constants as C
from fxsim.reference import rounding as R

ALL_MODES = sorted(C.ROUNDING_MODE_NAMES)
DETERMINISTIC = [m for m in ALL_MODES if m != C.STOCHASTIC]

# D10 (research engine-semantics.md 13.2, "Plain ties for quantize"), extended to every mode by
# the tie rules of DESIGN.md "Arithmetic names": value -> {mode: result}.
D10 = {
    Fraction(1, 2): {C.HALF_EVEN: 0, C.HALF_AWAY: 1, C.HALF_UP: 1, C.HALF_DOWN: 0,
                     C.HALF_TOWARD_ZERO: 0, C.FLOOR: 0, C.CEIL: 1, C.TRUNC: 0},
    Fraction(-1, 2): {C.HALF_EVEN: 0, C.HALF_AWAY: -1, C.HALF_UP: 0, C.HALF_DOWN: -1,
                      C.HALF_TOWARD_ZERO: 0, C.FLOOR: -1, C.CEIL: 0, C.TRUNC: 0},
    Fraction(3, 2): {C.HALF_EVEN: 2, C.HALF_AWAY: 2, C.HALF_UP: 2, C.HALF_DOWN: 1,
                     C.HALF_TOWARD_ZERO: 1, C.FLOOR: 1, C.CEIL: 2, C.TRUNC: 1},
    Fraction(-3, 2): {C.HALF_EVEN: -2, C.HALF_AWAY: -2, C.HALF_UP: -1, C.HALF_DOWN: -2,
                      C.HALF_TOWARD_ZERO: -1, C.FLOOR: -2, C.CEIL: -1, C.TRUNC: -1},
    Fraction(5, 2): {C.HALF_EVEN: 2, C.HALF_AWAY: 3, C.HALF_UP: 3, C.HALF_DOWN: 2,
                     C.HALF_TOWARD_ZERO: 2, C.FLOOR: 2, C.CEIL: 3, C.TRUNC: 2},
    Fraction(-5, 2): {C.HALF_EVEN: -2, C.HALF_AWAY: -3, C.HALF_UP: -2, C.HALF_DOWN: -3,
                      C.HALF_TOWARD_ZERO: -2, C.FLOOR: -3, C.CEIL: -2, C.TRUNC: -2},
}


@pytest.mark.parametrize("value", sorted(D10))
@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_d10_ties_every_mode(value, mode):
    # research 13.2 D10 (RHE/RHA/RHU columns) + DESIGN.md tie rules for the other modes
    want = D10[value][mode]
    assert R.round_fraction(value, mode) == want
    # the same ties as an integer shift: value = (2 * value) / 2^1
    assert R.rounding_shift_right(int(value * 2), 1, mode) == want
    # and as floats
    assert R.round_to_integral(float(value), mode) == want


def test_d10_stochastic_tie_goes_either_way():
    # a tie 2.5 rounds up iff the draw is below one half (csrc/README.md "Conventions")
    assert R.round_fraction(Fraction(5, 2), C.STOCHASTIC, bits=(1 << 63) - 1) == 3
    assert R.round_fraction(Fraction(5, 2), C.STOCHASTIC, bits=1 << 63) == 2
    assert R.rounding_shift_right(5, 1, C.STOCHASTIC, bits=(1 << 63) - 1) == 3
    assert R.rounding_shift_right(5, 1, C.STOCHASTIC, bits=1 << 63) == 2
    assert R.round_to_integral(-2.5, C.STOCHASTIC, bits=0) == -2
    assert R.round_to_integral(-2.5, C.STOCHASTIC, bits=(1 << 64) - 1) == -3


def test_splitmix64_published_vectors():
    # Vigna's splitmix64.c seeded with 0: the first three outputs (published reference values).
    # Element i of a call with seed s is the i-th output of the stream (csrc/README.md).
    assert R.splitmix64_bits(0, 0) == 0xE220A8397B1DCDAF
    assert R.splitmix64_bits(0, 1) == 0x6E789E6AA1B965F4
    assert R.splitmix64_bits(0, 2) == 0x06C45D188009454F
    # int64 and uint64 spellings of a seed agree (taken mod 2^64)
    assert R.splitmix64_bits(-1, 5) == R.splitmix64_bits((1 << 64) - 1, 5)


def test_stochastic_needs_bits_and_modes_are_checked():
    with pytest.raises(ValueError):
        R.round_fraction(Fraction(1, 3), C.STOCHASTIC)
    with pytest.raises(ValueError):
        R.round_fraction(Fraction(1, 3), 9)
    with pytest.raises(ValueError):
        R.rounding_shift_right(1, 64, C.FLOOR)
    with pytest.raises(ValueError):
        R.round_to_integral(float("nan"), C.HALF_EVEN)
    with pytest.raises(ValueError):
        R.round_to_integral(float("inf"), C.HALF_EVEN)
    assert R.round_fraction(Fraction(7, 2), "half_even") == 4


def _decimal_round(v, rounding):
    """Round an exact dyadic rational with Python's decimal module (an independent oracle)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 400
        d = decimal.Decimal(v.numerator) / decimal.Decimal(v.denominator)  # exact: dyadic
        return int(d.quantize(decimal.Decimal(1), rounding=rounding))


DYADIC = st.builds(lambda n, k: Fraction(n, 1 << k), st.integers(-(1 << 70), 1 << 70), st.integers(0, 70))


@given(DYADIC)
def test_round_fraction_matches_decimal_and_floor_formulas(v):
    # decimal's modes: ROUND_HALF_UP is ties away from zero, ROUND_HALF_DOWN ties toward zero
    assert R.round_fraction(v, C.HALF_EVEN) == _decimal_round(v, decimal.ROUND_HALF_EVEN)
    assert R.round_fraction(v, C.HALF_AWAY) == _decimal_round(v, decimal.ROUND_HALF_UP)
    assert R.round_fraction(v, C.HALF_TOWARD_ZERO) == _decimal_round(v, decimal.ROUND_HALF_DOWN)
    assert R.round_fraction(v, C.FLOOR) == _decimal_round(v, decimal.ROUND_FLOOR)
    assert R.round_fraction(v, C.CEIL) == _decimal_round(v, decimal.ROUND_CEILING)
    assert R.round_fraction(v, C.TRUNC) == _decimal_round(v, decimal.ROUND_DOWN)
    # research 0: RHU = floor(v + 1/2); ties toward -inf = ceil(v - 1/2)
    assert R.round_fraction(v, C.HALF_UP) == (v + Fraction(1, 2)).__floor__()
    assert R.round_fraction(v, C.HALF_DOWN) == (v - Fraction(1, 2)).__ceil__()


@given(st.integers(C.INT64_MIN, C.INT64_MAX), st.integers(0, 63), st.sampled_from(ALL_MODES),
       st.integers(0, (1 << 64) - 1))
def test_rounding_shift_right_is_round_fraction(x, n, mode, bits):
    # csrc/README.md: up iff (bits >> (64 - n)) < r, which is bits / 2^64 < r / 2^n
    assert R.rounding_shift_right(x, n, mode, bits) == R.round_fraction(Fraction(x, 1 << n), mode, bits)


@given(st.integers(C.INT64_MIN, C.INT64_MAX), st.integers(1, 63))
def test_rounding_shift_right_integer_identities(x, n):
    # research 0: an arithmetic shift floors; RHU(v, n) = (v + 2^(n-1)) >> n
    assert R.rounding_shift_right(x, n, C.FLOOR) == x >> n
    assert R.rounding_shift_right(x, n, C.HALF_UP) == (x + (1 << (n - 1))) >> n


@given(st.floats(-1e15, 1e15, allow_nan=False, width=64))
def test_round_to_integral_matches_numpy(v):
    assert R.round_to_integral(v, C.HALF_EVEN) == int(np.rint(v))
    assert R.round_to_integral(v, C.FLOOR) == int(np.floor(v))
    assert R.round_to_integral(v, C.CEIL) == int(np.ceil(v))
    assert R.round_to_integral(v, C.TRUNC) == int(np.trunc(v))


@given(st.floats(-1e6, 1e6, allow_nan=False, width=32), st.integers(0, (1 << 64) - 1))
def test_round_to_integral_stochastic_rule(v, bits):
    # csrc/README.md: up iff (bits >> 11) * 2^-53 < v - floor(v); numpy float64 computes that
    # comparison exactly (both sides are doubles, the subtraction is exact)
    fl = np.floor(np.float64(v))
    up = np.float64(bits >> 11) * 2.0 ** -53 < np.float64(v) - fl
    assert R.round_to_integral(v, C.STOCHASTIC, bits) == int(fl) + int(up)


@pytest.mark.parametrize("value", [Fraction(1, 3), Fraction(-7, 4), Fraction(5, 2)])
def test_stochastic_averages_to_the_exact_value(value):
    # E[round] = value: over 4000 seeds the mean is within 5 standard errors of the value
    n = 4000
    draws = [R.round_fraction(value, C.STOCHASTIC, R.splitmix64_bits(seed, 0)) for seed in range(n)]
    f = value - (value.numerator // value.denominator)
    assert set(draws) == {value.__floor__(), value.__floor__() + 1}
    sigma = (float(f) * (1 - float(f)) / n) ** 0.5
    assert abs(sum(draws) / n - float(value)) < 5 * sigma


def test_stochastic_shift_averages_to_the_exact_value():
    # 1000 elements of one call (indices 0..999) of x = 13 >> 3 = 1.625
    draws = [R.rounding_shift_right(13, 3, C.STOCHASTIC, R.splitmix64_bits(12345, i)) for i in range(1000)]
    assert set(draws) == {1, 2}
    assert abs(sum(draws) / 1000 - 1.625) < 5 * (0.625 * 0.375 / 1000) ** 0.5


@given(st.integers(-(1 << 70), 1 << 70), st.integers(2, 64), st.booleans())
def test_wrap_and_saturate_identities(x, bits, signed):
    lo, hi = R.bits_range(bits, signed)
    w = R.wrap_to_bits(x, bits, signed)
    s = R.saturate_to_bits(x, bits, signed)
    assert lo <= w <= hi and (w - x) % (1 << bits) == 0
    assert lo <= s <= hi
    assert R.wrap_to_bits(w, bits, signed) == w and R.saturate_to_bits(s, bits, signed) == s
    if lo <= x <= hi:
        assert w == x == s
    else:
        assert s == (lo if x < lo else hi)


@given(st.integers(C.INT64_MIN, C.INT64_MAX))
def test_wrap_matches_numpy_casts(x):
    v = np.array([x], dtype=np.int64)
    assert R.wrap_to_bits(x, 8, True) == int(v.astype(np.int8)[0])
    assert R.wrap_to_bits(x, 16, False) == int(v.astype(np.uint16)[0])
    assert R.wrap_to_bits(x, 32, True) == int(v.astype(np.int32)[0])
    assert R.wrap_to_bits(x, 64, False) == int(v.view(np.uint64)[0])


def test_bits_range_edges():
    assert R.bits_range(2, True) == (-2, 1)
    assert R.bits_range(64, False) == (0, (1 << 64) - 1)
    assert R.saturate_to_bits(1 << 80, 64, True) == C.INT64_MAX
    with pytest.raises(ValueError):
        R.saturate_to_bits(0, 1, True)
    with pytest.raises(ValueError):
        R.wrap_to_bits(0, 65, True)
