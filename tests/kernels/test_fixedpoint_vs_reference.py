"""The C++ scalar primitives (csrc/fxsim/fixedpoint) equal their exact models (fxsim/reference).

Hypothesis draws inputs biased to the places where implementations go wrong: exact ties
(``k * 2^n + 2^(n-1)``), one either side of them, type extremes, shifts 0 and the maximum.
Integer results are compared with ``==`` element by element.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import _kernels
from fxsim import constants as C
from fxsim.errors import FxsimError, KernelError, OverflowRangeError
from fxsim.reference import fixedpoint as ref_fp
from fxsim.reference import multiplier as ref_mul
from fxsim.reference import rounding as ref_round

INT32 = st.integers(C.INT32_MIN, C.INT32_MAX)
INT64 = st.integers(C.INT64_MIN, C.INT64_MAX)
MODES = st.sampled_from(sorted(C.ROUNDING_MODE_NAMES))
SEEDS = st.integers(0, (1 << 64) - 1)


@st.composite
def near_tie(draw, lo, hi, max_shift):
    """(x, n): x is a tie of a right shift by n, or one away from it, or an extreme."""
    n = draw(st.integers(0, max_shift))
    kind = draw(st.sampled_from(["tie", "tie-1", "tie+1", "extreme", "any"]))
    if kind == "extreme":
        x = draw(st.sampled_from([lo, lo + 1, -1, 0, 1, hi - 1, hi]))
    elif kind == "any" or n == 0:
        x = draw(st.integers(lo, hi))
    else:
        k = draw(st.integers(lo >> n, hi >> n))
        x = k * (1 << n) + (1 << (n - 1)) + {"tie": 0, "tie-1": -1, "tie+1": 1}[kind]
        x = min(max(x, lo), hi)
    return x, n


def test_rounding_mode_codes_match_constants():
    codes = _kernels.rounding_mode_codes()
    assert {name.lower(): code for name, code in codes.items()} == {
        name: code for code, name in C.ROUNDING_MODE_NAMES.items()
    }


@given(st.lists(near_tie(C.INT64_MIN, C.INT64_MAX, 63), min_size=1, max_size=64), MODES, SEEDS)
def test_rounding_shift_right_equals_reference(cases, mode, seed):
    x = np.array([c[0] for c in cases], dtype=np.int64)
    n = np.array([c[1] for c in cases], dtype=np.int32)
    got = _kernels.rounding_shift_right(x, n, mode, seed)
    want = [
        ref_round.rounding_shift_right(int(xi), int(ni), mode, ref_round.splitmix64_bits(seed, i))
        for i, (xi, ni) in enumerate(zip(x, n))
    ]
    assert got.tolist() == want


@st.composite
def float_ties(draw, width):
    """Floats at and next to .5 fractions, integers, and large magnitudes."""
    ftype = np.float32 if width == 32 else np.float64
    k = draw(st.integers(-(1 << 20), 1 << 20))
    kind = draw(st.sampled_from(["half", "int", "next", "prev", "any", "big"]))
    if kind == "half":
        v = ftype(k) + ftype(0.5)
    elif kind == "int":
        v = ftype(k)
    elif kind in ("next", "prev"):
        v = np.nextafter(ftype(k) + ftype(0.5), ftype(np.inf if kind == "next" else -np.inf))
    elif kind == "big":
        v = ftype(draw(st.sampled_from([2.0 ** 23 + 0.5, 2.0 ** 52, -(2.0 ** 30), 3e38, -3e38])))
    else:
        v = ftype(draw(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=width)))
    return v


@pytest.mark.parametrize("width", [32, 64])
@given(data=st.data(), mode=MODES, seed=SEEDS)
def test_round_to_integral_equals_reference(width, data, mode, seed):
    ftype = np.float32 if width == 32 else np.float64
    xs = np.array(data.draw(st.lists(float_ties(width), min_size=1, max_size=32)), dtype=ftype)
    got = _kernels.round_to_integral(xs, mode, seed)
    assert got.dtype == ftype
    want = [ref_round.round_to_integral(float(v), mode, ref_round.splitmix64_bits(seed, i)) for i, v in enumerate(xs)]
    assert [int(v) for v in got] == want


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_round_to_integral_rejects_non_finite(bad):
    with pytest.raises(FxsimError):
        _kernels.round_to_integral(np.array([1.0, bad]), 0, 0)


@given(st.lists(INT64, min_size=1, max_size=32), st.integers(2, 64), st.booleans())
def test_saturate_and_wrap_equal_reference(xs, bits, signed):
    x = np.array(xs, dtype=np.int64)
    want_sat = [ref_round.saturate_to_bits(v, bits, signed) for v in xs]
    want_wrap = [ref_round.wrap_to_bits(v, bits, signed) for v in xs]
    for kernel, want in ((_kernels.saturate_to_bits, want_sat), (_kernels.wrap_to_bits, want_wrap)):
        if max(want) > C.INT64_MAX:
            # only uint64 results can leave the int64 result array: refused, never reinterpreted
            with pytest.raises(OverflowRangeError, match="does not fit int64"):
                kernel(x, bits, signed)
        else:
            assert kernel(x, bits, signed).tolist() == want


@pytest.mark.parametrize("bits", [1, 0, 65, -3])
def test_saturate_rejects_bad_width(bits):
    with pytest.raises(KernelError, match="bits"):
        _kernels.saturate_to_bits(np.array([1], np.int64), bits, True)


@given(st.lists(st.tuples(INT32, INT32), min_size=1, max_size=64))
def test_srdhm_equals_reference(pairs):
    pairs.append((C.INT32_MIN, C.INT32_MIN))  # the one saturating case, every time
    a = np.array([p[0] for p in pairs], dtype=np.int32)
    b = np.array([p[1] for p in pairs], dtype=np.int32)
    got = _kernels.saturating_rounding_doubling_high_mul(a, b)
    assert got.tolist() == [ref_fp.saturating_rounding_doubling_high_mul(int(x), int(y)) for x, y in pairs]


@given(st.lists(near_tie(C.INT32_MIN, C.INT32_MAX, 31), min_size=1, max_size=64))
def test_rdbpot_equals_reference(cases):
    x = np.array([c[0] for c in cases], dtype=np.int32)
    e = np.array([c[1] for c in cases], dtype=np.int32)
    got = _kernels.rounding_divide_by_pot(x, e)
    assert got.tolist() == [ref_fp.rounding_divide_by_pot(int(a), int(b)) for a, b in zip(x, e)]


MULTIPLIER32 = st.one_of(
    st.integers(1 << 30, (1 << 31) - 1),       # QuantizeMultiplier's normalized range
    st.sampled_from([0, 1, 1 << 30, (1 << 31) - 1]),
)


@given(st.lists(st.tuples(INT32, MULTIPLIER32, st.integers(-31, 31)), min_size=1, max_size=64))
def test_mbqm_double_round_equals_reference(cases):
    x, m, s = (np.array(col, dtype=np.int32) for col in zip(*cases))
    got = _kernels.multiply_by_quantized_multiplier_double_round(x, m, s)
    assert got.tolist() == [
        ref_mul.multiply_by_quantized_multiplier_double_round(int(a), int(b), int(c)) for a, b, c in cases
    ]


@given(st.lists(st.tuples(INT64, MULTIPLIER32, st.integers(-63, 30)), min_size=1, max_size=64))
def test_mbqm_single_round_equals_reference(cases):
    x = np.array([c[0] for c in cases], dtype=np.int64)
    m = np.array([c[1] for c in cases], dtype=np.int32)
    s = np.array([c[2] for c in cases], dtype=np.int32)
    want = [ref_mul.multiply_by_quantized_multiplier_single_round(a, b, c) for a, b, c in cases]
    if any(not C.INT64_MIN <= w <= C.INT64_MAX for w in want):
        # the result array is int64: an exact result beyond it is refused, never wrapped
        with pytest.raises(OverflowRangeError, match="does not fit int64"):
            _kernels.multiply_by_quantized_multiplier_single_round(x, m, s)
    else:
        assert _kernels.multiply_by_quantized_multiplier_single_round(x, m, s).tolist() == want


@given(st.lists(st.tuples(st.integers(-(1 << 47), (1 << 47) - 1), MULTIPLIER32, st.integers(-31, 7)),
                min_size=1, max_size=64))
def test_mbqm_int64_reduced_equals_reference(cases):
    x = np.array([c[0] for c in cases], dtype=np.int64)
    m = np.array([c[1] for c in cases], dtype=np.int32)
    s = np.array([c[2] for c in cases], dtype=np.int32)
    got = _kernels.multiply_by_quantized_multiplier_int64_reduced(x, m, s)
    assert got.tolist() == [ref_mul.multiply_by_quantized_multiplier_int64_reduced(a, b, c) for a, b, c in cases]


def test_mbqm_int64_reduced_rejects_out_of_contract():
    # TFLite DCHECKs |x| < 2^47 and -31 <= shift < 8 (common.cc); outside it the engine is undefined.
    with pytest.raises(OverflowRangeError):
        _kernels.multiply_by_quantized_multiplier_int64_reduced(
            np.array([1 << 47], np.int64), np.array([1 << 30], np.int32), np.array([0], np.int32))
    with pytest.raises(FxsimError):
        _kernels.multiply_by_quantized_multiplier_int64_reduced(
            np.array([1], np.int64), np.array([1 << 30], np.int32), np.array([8], np.int32))


@st.composite
def tosa32_case(draw):
    shift = draw(st.integers(2, 62))
    lo, hi = -(1 << (shift - 1)), (1 << (shift - 1)) - 1
    value = draw(st.integers(max(lo, C.INT32_MIN), min(hi, C.INT32_MAX)))
    multiplier = draw(st.integers(0, C.INT32_MAX))
    return value, multiplier, shift


@given(st.lists(tosa32_case(), min_size=1, max_size=64), st.booleans())
def test_tosa_apply_scale_32_equals_reference(cases, double_round):
    v, m, s = (np.array(col, dtype=np.int32) for col in zip(*cases))
    # results outside int32 are a REQUIRE failure in neither helper: both wrap via the int32 cast
    got = _kernels.tosa_apply_scale_32(v, m, s, double_round)
    assert got.tolist() == [ref_mul.tosa_apply_scale_32(int(a), int(b), int(c), double_round) for a, b, c in cases]


@st.composite
def tosa16_case(draw):
    shift = draw(st.integers(2, 62))
    multiplier = draw(st.integers(0, (1 << 15) - 1))
    lo, hi = -(1 << 47), (1 << 47) - 1
    bound = 1 << (shift - 1)
    value = draw(st.integers(max(lo, -bound), min(hi, bound - 1)))
    # keep the result within int32 (a REQUIRE of apply_scale_16)
    result = (value * multiplier + (1 << (shift - 1))) >> shift
    if not C.INT32_MIN <= result <= C.INT32_MAX:
        value = 0
    return value, multiplier, shift


@given(st.lists(tosa16_case(), min_size=1, max_size=64))
def test_tosa_apply_scale_16_equals_reference(cases):
    v = np.array([c[0] for c in cases], dtype=np.int64)
    m = np.array([c[1] for c in cases], dtype=np.int32)
    s = np.array([c[2] for c in cases], dtype=np.int32)
    got = _kernels.tosa_apply_scale_16(v, m, s)
    assert got.tolist() == [ref_mul.tosa_apply_scale_16(int(a), int(b), int(c)) for a, b, c in cases]


@pytest.mark.parametrize(
    "value, multiplier, shift",
    [(0, 1 << 30, 1), (0, 1 << 30, 63), (0, -1, 30), (1 << 20, 1 << 30, 20)],  # shift range, sign, value range
)
def test_tosa_apply_scale_32_require_violations_raise(value, multiplier, shift):
    with pytest.raises(OverflowRangeError, match="REQUIRE"):
        _kernels.tosa_apply_scale_32(
            np.array([value], np.int32), np.array([multiplier], np.int32), np.array([shift], np.int32), False)


def test_binding_takes_no_conversions():
    # a float array where int32 is expected is an error, not a silent rounding (STYLE.md rule 3)
    with pytest.raises(KernelError, match="int32"):
        _kernels.saturating_rounding_doubling_high_mul(np.array([1.5]), np.array([1], np.int32))
    with pytest.raises(KernelError, match="int32"):
        _kernels.rounding_divide_by_pot(np.array([1], np.int64), np.array([1], np.int32))


def test_mismatched_lengths_raise():
    with pytest.raises(KernelError):
        _kernels.saturating_rounding_doubling_high_mul(np.zeros(3, np.int32), np.zeros(2, np.int32))
