# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The statistics hot loops of calibration, compiled (DESIGN.md "calibration" layer).

Each function makes one pass over a contiguous float32 buffer with the GIL released and writes
into arrays its caller allocated (STYLE.md rule 4: the caller owns memory). Float32 values are
compared as float32 and accumulated in float64; nothing here rounds a statistic to float32.
The min/max and histogram loops are C in ``_stats_simd.h`` (an AVX2 min/max and AVX-512 bin
indices chosen at run time, four interleaved sub-histograms). Both split a large buffer (from
2^18 values) across fxsim's kernel threads (``fxsim.set_num_threads`` / ``FXSIM_NUM_THREADS``),
through the worker pool of ``fxsim._kernels`` (its ``_parallel_ranges`` capsule): chunks of the
buffer each write their own partial min/max or counts, combined in chunk order, so the results
are the same for every thread count.

* ``minmax_f32(x)`` -> ``(min, max, nonfinite)``: the extrema of the finite values and how many
  values are NaN or +-Inf (``v - v != 0`` holds exactly for those; a second pass counts them
  only when the first saw one). An empty or all-non-finite
  buffer gives ``(+inf, -inf, count)``.
* ``histogram_add_f32(x, lo, inv_width, counts)``: ``counts[floor((v - lo) * inv_width)] += 1``
  in float64 arithmetic, the index clamped to ``[0, len(counts) - 1]`` (the caller has grown
  the range to cover every value, so the clamp only absorbs the last edge ``v == hi``);
  non-finite values are skipped.
* ``pdf_add_f32(x, bucket, first, counts)``: aimet-onnx 2.42's tf_enhanced binning:
  ``i = floorf(v / bucket) - first`` (the quotient in float32, as AIMET computes it); values
  whose index falls outside ``[0, len(counts) - 1]`` (and NaN / Inf) are dropped and counted in
  the return value.
* ``channel_stats_f32(x, lo, hi, total, m2)``: for ``x`` of shape ``[outer, C, inner]``, per
  channel ``c``: min, max, and the batch's sum and sum of squared deviations from the batch
  mean (two passes, float64), so that batches combine with Chan's parallel formula.
"""

from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.math cimport floorf, INFINITY
from libc.stdint cimport uint32_t

import numpy as np

from fxsim import _kernels


cdef extern from "_stats_simd.h":
    ctypedef void* fx_parallel_fn
    int fx_simd_enabled
    float fx_minmax_f32(const float* x, Py_ssize_t n, float* lo, float* hi, fx_parallel_fn parallel) nogil
    Py_ssize_t fx_histogram_scratch(Py_ssize_t n, Py_ssize_t nb) nogil
    void fx_histogram_f32(const float* x, Py_ssize_t n, double lo, double inv_width, double* counts,
                          Py_ssize_t nb, uint32_t* scratch, fx_parallel_fn parallel) nogil


# the kernels' worker pool (csrc/bindings/module.cc fxsim_parallel_ranges)
cdef fx_parallel_fn _parallel = <fx_parallel_fn>PyCapsule_GetPointer(_kernels._parallel_ranges,
                                                                    b"fxsim._kernels._parallel_ranges")


def _set_simd(bint enabled):
    """Tests only: ``False`` runs the portable C loops instead of the AVX2 / AVX-512 ones (which
    must give the same results), ``True`` restores the CPU's choice."""
    global fx_simd_enabled
    fx_simd_enabled = 1 if enabled else 0


def minmax_f32(const float[::1] x):
    cdef Py_ssize_t i, n = x.shape[0]
    cdef float v, lo = INFINITY, hi = -INFINITY, z = 0
    cdef Py_ssize_t bad = 0
    if n:
        with nogil:
            # one pass (AVX2 where the CPU has it): extrema and the sum of v - v, which is 0
            # unless a NaN or +-Inf is present
            z = fx_minmax_f32(&x[0], n, &lo, &hi, _parallel)
    if z != 0 or z != z:
        # a NaN or +-Inf is present: count them and recompute over the finite values only
        lo = INFINITY
        hi = -INFINITY
        with nogil:
            for i in range(n):
                v = x[i]
                if (v - v) == 0:
                    lo = v if v < lo else lo
                    hi = v if v > hi else hi
                else:
                    bad += 1
    return float(lo), float(hi), int(bad)


def histogram_add_f32(const float[::1] x, double lo, double inv_width, double[::1] counts):
    cdef Py_ssize_t n = x.shape[0], nb = counts.shape[0]
    if n == 0 or nb == 0:
        return
    cdef uint32_t[::1] scratch = np.empty(fx_histogram_scratch(n, nb), np.uint32)
    with nogil:
        fx_histogram_f32(&x[0], n, lo, inv_width, &counts[0], nb, &scratch[0], _parallel)


def pdf_add_f32(const float[::1] x, float bucket, double first, double[::1] counts):
    """AIMET 2.x's tf_enhanced binning: value ``v`` goes to bucket ``floorf(v / bucket) - first``
    (a float32 division, as aimet-onnx 2.42 bins), values outside ``[0, len(counts))`` are
    dropped; returns how many were dropped."""
    cdef Py_ssize_t i, n = x.shape[0], nb = counts.shape[0]
    cdef Py_ssize_t dropped = 0
    cdef double k
    with nogil:
        for i in range(n):
            # the bucket number in double: exact for every float32 quotient's floor, and a
            # comparison (not a cast) rejects out-of-range and non-finite values
            k = <double>floorf(x[i] / bucket) - first
            if k >= 0 and k < nb:
                counts[<Py_ssize_t>k] += 1.0
            else:
                dropped += 1
    return int(dropped)


def channel_stats_f32(const float[:, :, ::1] x, double[::1] lo, double[::1] hi,
                      double[::1] total, double[::1] m2):
    cdef Py_ssize_t outer = x.shape[0], nc = x.shape[1], inner = x.shape[2]
    cdef Py_ssize_t o, c, j
    cdef double s, d, mean, count = <double>(outer * inner)
    cdef float v, a, b
    with nogil:
        for c in range(nc):
            a = x[0, c, 0]
            b = a
            s = 0.0
            for o in range(outer):
                for j in range(inner):
                    v = x[o, c, j]
                    a = v if v < a else a
                    b = v if v > b else b
                    s += v
            mean = s / count
            d = 0.0
            for o in range(outer):
                for j in range(inner):
                    d += (x[o, c, j] - mean) * (x[o, c, j] - mean)
            lo[c] = a
            hi[c] = b
            total[c] = s
            m2[c] = d
