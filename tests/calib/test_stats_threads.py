"""The compiled statistics loops (fxsim/calib/_stats.pyx, _stats_simd.h) on large buffers: split
across fxsim's kernel threads (from 2^18 values, in chunks of at least 2^16) and run with the
SIMD loops (AVX2 min/max, AVX-512 bin indices) or the portable ones, they equal a numpy model of
their contract exactly, whatever the thread count: min and max of the finite values with the
count of NaN / +-Inf (a non-finite value planted at drawn positions, chunk edges included), and
histogram counts ``floor((v - lo) * inv_width)`` in float64 clamped to the bins, non-finite
values skipped."""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.calib._compiled import stats

CHUNK = 1 << 16


@contextlib.contextmanager
def threads_and_simd(threads, simd):
    """Run with ``threads`` fxsim threads and the SIMD (or portable) loops; restores both."""
    saved = _kernels.num_threads()
    fx.set_num_threads(threads)
    stats._set_simd(simd)
    try:
        yield
    finally:
        fx.set_num_threads(saved)
        stats._set_simd(True)


def minmax_model(x):
    """``(min, max, nonfinite)`` of the finite values (``(inf, -inf, count)`` when none)."""
    finite = x[np.isfinite(x)]
    bad = int(x.size - finite.size)
    if not finite.size:
        return float("inf"), float("-inf"), bad
    return float(finite.min()), float(finite.max()), bad


def histogram_model(x, lo, inv_width, bins):
    """Counts of ``histogram_add_f32``: ``t = (float64(v) - lo) * inv_width`` (two IEEE double
    operations, as numpy computes them), bin ``0`` when ``t`` is not ``>= 0``, else
    ``min(floor(t), bins - 1)``; NaN and +-Inf skipped."""
    v = x[np.isfinite(x)].astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        t = (v - lo) * inv_width
        idx = np.where(t >= 0, np.minimum(np.floor(np.where(t >= 0, t, 0)), bins - 1), 0).astype(np.int64)
    return np.bincount(idx, minlength=bins).astype(np.float64)


#: sizes below the threading threshold, at it, and several chunks (with a ragged last chunk)
SIZES = [0, 1, 15, 16, 17, 33, 1 << 18, (1 << 18) + 1, 5 * CHUNK + 12345, 9 * CHUNK + 7]


@st.composite
def buffer(draw):
    n = draw(st.sampled_from(SIZES))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    scale = draw(st.sampled_from([1e-30, 1.0, 3e5, 1e30]))
    x = (np.random.default_rng(seed).standard_normal(n) * scale).astype(np.float32)
    if n:
        edges = [0, n - 1] + [k * CHUNK + d for k in range(1, 10) for d in (-1, 0) if 0 <= k * CHUNK + d < n]
        spots = draw(st.lists(st.one_of(st.sampled_from(edges), st.integers(0, n - 1)), max_size=4))
        values = draw(st.lists(st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 3.4e38, -3.4e38]),
                               min_size=len(spots), max_size=len(spots)))
        for i, v in zip(spots, values):
            x[i] = v
    return x


@settings(max_examples=40, deadline=None)
@given(x=buffer(), threads=st.sampled_from([1, 2, 3]), simd=st.booleans())
def test_minmax_equals_the_model_on_any_thread_count(x, threads, simd):
    with threads_and_simd(threads, simd):
        got = stats.minmax_f32(x)
    assert got == minmax_model(x)


@settings(max_examples=40, deadline=None)
@given(x=buffer(), threads=st.sampled_from([1, 2, 3]), simd=st.booleans(), bins=st.sampled_from([1, 7, 512]),
       data=st.data())
def test_histogram_equals_the_model_on_any_thread_count(x, threads, simd, bins, data):
    """The range may cover the values or not (values below ``lo`` go to bin 0, above ``hi`` to
    the last bin), and bin edges are hit exactly when the width is a power of two."""
    finite = x[np.isfinite(x)]
    lo_v, hi_v = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    how = data.draw(st.sampled_from(["cover", "inner", "power_of_two"]))
    if how == "cover" and hi_v > lo_v:
        lo, inv_width = lo_v, bins / (hi_v - lo_v)
    elif how == "inner" and hi_v > lo_v:
        lo, inv_width = lo_v / 2 + hi_v / 4, bins / ((hi_v - lo_v) / 4)
    else:
        lo, inv_width = -4.0, float(2.0 ** data.draw(st.integers(-3, 3)))
    counts = np.full(bins, 2.0)  # the call adds to what is there
    with threads_and_simd(threads, simd):
        stats.histogram_add_f32(x, lo, inv_width, counts)
    want = histogram_model(x, lo, inv_width, bins) + 2.0
    assert np.array_equal(counts, want)
    assert counts.sum() == 2.0 * bins + finite.size


def test_threads_and_simd_give_identical_results_on_a_calibration_sized_tensor():
    """A MobileNetV2 activation (1x144x56x56) with a NaN: every thread count and loop family
    gives the same min/max/count and the same histogram as one portable thread."""
    x = np.random.default_rng(7).standard_normal(144 * 56 * 56).astype(np.float32)
    x[123_457] = np.nan
    with threads_and_simd(1, False):
        expected_minmax = stats.minmax_f32(x)
        inv_width = 512 / (expected_minmax[1] - expected_minmax[0])
        expected_counts = np.zeros(512)
        stats.histogram_add_f32(x, expected_minmax[0], inv_width, expected_counts)
    assert expected_minmax == minmax_model(x)
    assert np.array_equal(expected_counts, histogram_model(x, expected_minmax[0], inv_width, 512))
    for simd in (False, True):
        for threads in (1, 2, 3, 4):
            with threads_and_simd(threads, simd):
                assert stats.minmax_f32(x) == expected_minmax
                counts = np.zeros(512)
                stats.histogram_add_f32(x, expected_minmax[0], inv_width, counts)
            assert np.array_equal(counts, expected_counts)
