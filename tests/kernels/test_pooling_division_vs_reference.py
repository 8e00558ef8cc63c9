"""The average-pool division primitives (csrc/fxsim/fixedpoint/division.h) equal their exact
models (fxsim/reference/pooling.py), element by element with ``==``.

Draws lean on where a division goes wrong: exact ties of ``acc / count`` and one either side,
the ends of an int8 window's sum range (``[-128 count, 127 count]``), the int32 / int64
extremes, counts 1..4096 and the edge counts (powers of two and one either side, 32768 where
the Q15 reciprocal reaches 0, 2^30 + 1 where TOSA's multiplier leaves int32). Where a third,
literal transcription of the engine's own expression is cheap, it is checked too.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import _kernels
from fxsim import constants as C
from fxsim.errors import KernelError, OverflowRangeError
from fxsim.reference import pooling as ref

EDGE_COUNTS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 25, 49, 255, 256, 257, 4095, 4096, 4097,
               32767, 32768, 32769, 65536, (1 << 30) - 1, 1 << 30, (1 << 30) + 2, C.INT32_MAX]
COUNTS = st.one_of(st.integers(1, 4096), st.sampled_from(EDGE_COUNTS))


@st.composite
def sum_for(draw, count, lo, hi):
    """An accumulator for `count`: a tie of acc / count (or one off it), an int8-window sum,
    a type extreme, or anything in [lo, hi]."""
    kind = draw(st.sampled_from(["tie", "tie-1", "tie+1", "int8", "extreme", "any"]))
    if kind == "extreme":
        return draw(st.sampled_from([lo, lo + 1, -1, 0, 1, hi - 1, hi]))
    if kind == "int8":
        return draw(st.integers(max(lo, -128 * count), min(hi, 127 * count)))
    if kind == "any":
        return draw(st.integers(lo, hi))
    q = draw(st.integers(max(lo // count, -(1 << 20)), min(hi // count - 1, 1 << 20)))
    x = q * count + count // 2 + {"tie": 0, "tie-1": -1, "tie+1": 1}[kind]
    return min(max(x, lo), hi)


@st.composite
def sum_count(draw, lo, hi, counts=COUNTS):
    count = draw(counts)
    return draw(sum_for(count, lo, hi)), count


def trunc_div(a, b):
    """C integer division (truncation toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# --- TFLite AveragePool division --------------------------------------------------------------

INT64_COUNTS = st.one_of(COUNTS, st.sampled_from([1 << 40, C.INT64_MAX - 1, C.INT64_MAX]))


@given(st.lists(sum_count(C.INT64_MIN, C.INT64_MAX, INT64_COUNTS), min_size=1, max_size=64))
def test_divide_round_half_away_equals_reference(cases):
    acc = np.array([c[0] for c in cases], np.int64)
    count = np.array([c[1] for c in cases], np.int64)
    got = _kernels.divide_round_half_away(acc, count)
    assert got.dtype == np.int64
    assert got.tolist() == [ref.divide_round_half_away(a, n) for a, n in cases]
    # pooling.h's own expression, in unbounded integers with C division
    assert got.tolist() == [trunc_div(a + n // 2, n) if a > 0 else trunc_div(a - n // 2, n) for a, n in cases]


def test_divide_round_half_away_int64_extremes():
    acc = np.array([C.INT64_MAX, C.INT64_MIN, C.INT64_MAX, C.INT64_MIN, C.INT64_MIN], np.int64)
    count = np.array([2, 2, C.INT64_MAX, C.INT64_MAX, 3], np.int64)
    # INT64_MAX / 2 = 2^62 - 0.5 -> 2^62 (away); INT64_MIN / INT64_MAX = -1 - 2^-63... -> -1
    assert _kernels.divide_round_half_away(acc, count).tolist() == [1 << 62, -(1 << 62), 1, -1, -3074457345618258603]


# --- TOSA ---------------------------------------------------------------------------------------

def test_tosa_reciprocal_scale_every_count_to_4096_and_edges():
    counts = list(range(1, 4097)) + [c for c in EDGE_COUNTS if c > 4096]
    m, s = _kernels.tosa_reciprocal_scale(np.array(counts, np.int32))
    assert m.dtype == np.int32 and s.dtype == np.int32
    assert list(zip(m.tolist(), s.tolist())) == [ref.tosa_reciprocal_scale(c) for c in counts]
    # the spec's stated range of the multiplier, and the factor is within 2^-30 relative of 1/count
    assert all((1 << 30) <= v < (1 << 31) for v in m.tolist())
    for c, v, sh in zip(counts, m.tolist(), s.tolist()):
        assert 0 <= v * c - (1 << sh) <= c + (1 << (sh - 30))


def test_tosa_reciprocal_scale_multiplier_overflow_count():
    # (2^30 + 1) * 2^31 / (2^30 + 1) = 2^31: the one count whose multiplier leaves int32
    with pytest.raises(ValueError):
        ref.tosa_reciprocal_scale((1 << 30) + 1)
    with pytest.raises(OverflowRangeError, match="tosa_reciprocal_scale: index 1: .*2\\^31"):
        _kernels.tosa_reciprocal_scale(np.array([3, (1 << 30) + 1], np.int32))


def _split_by_reference(cases, fn):
    ok, bad = [], []
    for a, n in cases:
        try:
            ok.append((a, n, fn(a, n)))
        except ValueError:
            bad.append((a, n))
    return ok, bad


@given(st.lists(sum_count(C.INT32_MIN, C.INT32_MAX,
                          st.one_of(COUNTS.filter(lambda c: c != (1 << 30) + 1), st.just(1), st.just(2))),
                min_size=1, max_size=64))
def test_tosa_average_equals_reference(cases):
    ok, bad = _split_by_reference(cases, ref.tosa_average)
    if ok:
        got = _kernels.tosa_average(np.array([c[0] for c in ok], np.int32), np.array([c[1] for c in ok], np.int32))
        assert got.tolist() == [c[2] for c in ok]
    for a, n in bad:  # apply_scale_32's value REQUIRE (count 1: |acc| < 2^29, count 2: < 2^30)
        assert n in (1, 2)
        with pytest.raises(OverflowRangeError, match="REQUIRE"):
            _kernels.tosa_average(np.array([a], np.int32), np.array([n], np.int32))


# --- Hexagon ------------------------------------------------------------------------------------

@given(st.lists(sum_count(C.INT32_MIN, C.INT32_MAX), min_size=1, max_size=64))
def test_hexagon_average_q15_equals_reference(cases):
    acc = np.array([c[0] for c in cases], np.int32)
    count = np.array([c[1] for c in cases], np.int32)
    got = _kernels.hexagon_average_q15(acc, count)
    assert got.tolist() == [ref.hexagon_average_q15(a, n) for a, n in cases]


@given(st.lists(st.integers(1, 4096).flatmap(lambda n: st.tuples(st.integers(0, 255 * n), st.just(n))),
                min_size=1, max_size=64))
def test_hexagon_average_q15_equals_uint32_expression_on_uint8_sums(cases):
    # op_avgpool.c: uint32 sum of quint8 values, count = sath(0x8000 / count), (sum*count + 0x4000) >> 15
    acc = np.array([c[0] for c in cases], np.int32)
    count = np.array([c[1] for c in cases], np.int32)
    got = _kernels.hexagon_average_q15(acc, count)
    want = [((s * min(0x8000 // n, 0x7FFF) + 0x4000) & 0xFFFFFFFF) >> 15 for s, n in cases]
    assert got.tolist() == want


# --- DPU ----------------------------------------------------------------------------------------

def pool_fix_float_factors(k):
    """pool-fix.cpp get_avgpool_dpu_factors for a non-hard-coded window of k elements, as the
    source computes it: float32 1/k, double quotients and distances, a float32 best distance."""
    inv = np.float32(1.0) / np.float32(k)
    best_n, best_m, diff = 0, 0, np.float32(1.0)
    for s in range(int(math.ceil(math.log2(k * 128)))):
        q = math.ldexp(1.0, s) / k
        factor = math.floor(q + 0.5)  # std::round of a positive double (q + 0.5 is exact here)
        d = abs(factor / math.ldexp(1.0, s) - float(inv))
        if d < float(diff):
            best_n, best_m, diff = factor, s, np.float32(d)
    return best_n, best_m


def test_dpu_average_factor_every_window_to_4096():
    ks = np.arange(1, 4097, dtype=np.int32)
    n, m = _kernels.dpu_average_factor(ks, np.ones_like(ks))
    got = list(zip(n.tolist(), m.tolist()))
    assert got == [ref.dpu_average_factor(int(k), 1) for k in ks]
    assert got == [pool_fix_float_factors(int(k)) for k in ks]


@given(st.lists(st.tuples(st.integers(1, 64), st.integers(1, 64)), min_size=1, max_size=32))
def test_dpu_average_factor_equals_reference(kernels):
    kernels += list(ref.DPU_HARD_CODED_FACTORS)
    kh = np.array([k[0] for k in kernels], np.int32)
    kw = np.array([k[1] for k in kernels], np.int32)
    n, m = _kernels.dpu_average_factor(kh, kw)
    assert list(zip(n.tolist(), m.tolist())) == [ref.dpu_average_factor(h, w) for h, w in kernels]


def test_dpu_average_factor_rejects_bad_windows():
    for kh, kw in [(0, 3), (3, -1), (1 << 12, 1 << 12)]:
        with pytest.raises(KernelError, match="dpu_average_factor: index 0"):
            _kernels.dpu_average_factor(np.array([kh], np.int32), np.array([kw], np.int32))


@st.composite
def dpu_case(draw):
    m = draw(st.integers(0, 62))
    shift = draw(st.integers(-62, 62))
    n = draw(st.one_of(st.sampled_from([0, 1, 7, 10, 21, 57, 85, C.INT32_MAX]), st.integers(0, C.INT32_MAX)))
    kind = draw(st.sampled_from(["int8", "tie", "extreme", "any"]))
    t = m + shift
    if kind == "int8":
        acc = draw(st.integers(-128 * 4096, 127 * 4096))
    elif kind == "extreme":
        acc = draw(st.sampled_from([C.INT64_MIN, C.INT64_MIN + 1, -1, 0, 1, C.INT64_MAX]))
    elif kind == "tie" and 1 <= t <= 62:
        # an exact tie of the shift by t: acc * n = j * 2^t + 2^(t-1), with n = 1
        n = 1
        acc = draw(st.integers(-(1 << (62 - t)), (1 << (62 - t)) - 1)) * (1 << t) + (1 << (t - 1))
    else:
        acc = draw(st.integers(C.INT64_MIN, C.INT64_MAX))
    return acc, n, m, shift


@given(st.lists(dpu_case(), min_size=1, max_size=32))
def test_dpu_average_equals_reference(cases):
    for acc, n, m, shift in cases:  # element by element: some exact results leave int64
        want = ref.dpu_average(acc, n, m, shift)
        args = (np.array([acc], np.int64), np.array([n], np.int32), np.array([m], np.int32),
                np.array([shift], np.int32))
        if C.INT64_MIN <= want <= C.INT64_MAX:
            assert _kernels.dpu_average(*args).tolist() == [want]
        else:
            with pytest.raises(OverflowRangeError, match="does not fit int64"):
                _kernels.dpu_average(*args)


def test_dpu_average_broadcasts_and_rounds_half_up():
    acc = np.array([-3, -1, 1, 3, 900, 1143], np.int64)
    # 7/64 at shift 0: -0.328125, -0.109375, 0.109375, 0.328125, 98.4375, 125.015625
    got = _kernels.dpu_average(acc, np.array([7], np.int32), np.array([6], np.int32), np.array([0], np.int32))
    assert got.tolist() == [0, 0, 0, 0, 98, 125]
    # ties: acc * 1 / 2^1 at -2.5, -1.5, -0.5, 0.5, 1.5, 2.5 -> half up
    ties = np.array([-5, -3, -1, 1, 3, 5], np.int64)
    one = np.array([1], np.int32)
    assert _kernels.dpu_average(ties, one, one, np.array([0], np.int32)).tolist() == [-2, -1, 0, 1, 2, 3]
    # negative m + shift is an exact left shift
    assert _kernels.dpu_average(ties, one, np.array([0], np.int32), np.array([-3], np.int32)).tolist() == [
        -40, -24, -8, 8, 24, 40]


# --- binding contract ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "fn, dtype",
    [(_kernels.divide_round_half_away, np.int64), (_kernels.tosa_average, np.int32),
     (_kernels.hexagon_average_q15, np.int32)],
)
def test_count_below_one_names_the_index(fn, dtype):
    for bad in (0, -1):
        with pytest.raises(KernelError, match=f"{fn.__name__}: (\\w+: )?index 2: .*count must be >= 1"):
            fn(np.array([5, 6, 7], dtype), np.array([1, 2, bad], dtype))
    with pytest.raises(KernelError, match="tosa_reciprocal_scale: index 0: .*count must be >= 1"):
        _kernels.tosa_reciprocal_scale(np.array([0], np.int32))


def test_no_conversions_and_sizes():
    with pytest.raises(KernelError, match="int64"):
        _kernels.divide_round_half_away(np.array([1.5]), np.array([2], np.int64))
    with pytest.raises(KernelError, match="int32"):
        _kernels.tosa_average(np.array([1], np.int64), np.array([2], np.int32))
    with pytest.raises(KernelError, match="count must have 3 elements"):
        _kernels.hexagon_average_q15(np.zeros(3, np.int32), np.ones(2, np.int32))
    # size-1 operands broadcast, the result keeps the first operand's shape
    got = _kernels.divide_round_half_away(np.arange(-6, 6, dtype=np.int64).reshape(3, 4), np.array([4], np.int64))
    assert got.shape == (3, 4)
    assert got.reshape(-1).tolist() == [ref.divide_round_half_away(a, 4) for a in range(-6, 6)]
