/* The two hottest loops of fxsim.calib._stats, in C so that x86-64 builds can pick an AVX2
 * version at run time (GCC/Clang target attribute + __builtin_cpu_supports) while the module is
 * compiled for the portable baseline, like fxsim._kernels' per-ISA units.
 *
 * fx_minmax_f32(x, n, &lo, &hi): lo/hi = extrema of x[0..n) where comparisons hold (NaN never
 *   wins a comparison: min_ps/max_ps return their second operand when one is NaN); returns the
 *   float sum of (v - v), which is 0 unless a NaN or +-Inf is present (then NaN).
 * fx_histogram_f32(x, n, lo, inv_width, counts, nb, scratch, parallel): counts[clamp(floor((v -
 *   lo) * inv_width), 0, nb - 1)] += 1 in float64 index arithmetic, non-finite values skipped;
 *   four interleaved uint32 sub-histograms per chunk in scratch (fx_histogram_scratch(n, nb)
 *   entries, caller-owned) break the store-to-load dependency of repeated bins. The bin indices
 *   of 16 values at a time are computed with AVX-512 where the CPU has it (the same two IEEE
 *   double operations per value, so the same bins).
 *
 * Threads: both split x into chunks (at most 64 of at least 2^16 values; histogram chunks below
 * 2^30 values so that uint32 counters cannot wrap) and hand them to `parallel`, fxsim's kernel
 * worker pool (fxsim._kernels._parallel_ranges: fxsim.set_num_threads / FXSIM_NUM_THREADS;
 * small inputs stay on the calling thread); NULL runs them on the calling thread. Each chunk
 * writes its own partial results, combined afterwards in chunk order: min, max and integer
 * counts combine exactly, so the results do not depend on the thread count (the sign of a zero
 * extremum, -0.0 against 0.0, is whichever the comparisons meet first, as before).
 */
#ifndef FXSIM_CALIB_STATS_SIMD_H
#define FXSIM_CALIB_STATS_SIMD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 0 forces the portable loops (tests compare them with the SIMD ones: fxsim.calib._stats._set_simd). */
static int fx_simd_enabled = 1;

static float fx_minmax_f32_scalar(const float* x, ptrdiff_t n, float* lo, float* hi) {
    float l = INFINITY, h = -INFINITY, z = 0.0f;
    for (ptrdiff_t i = 0; i < n; ++i) {
        float v = x[i];
        l = v < l ? v : l;
        h = v > h ? v : h;
        z += v - v;
    }
    *lo = l;
    *hi = h;
    return z;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

__attribute__((target("avx2"))) static float fx_minmax_f32_avx2(const float* x, ptrdiff_t n, float* lo,
                                                                  float* hi) {
    /* 32 values per iteration in four independent min and four max chains (min/max latency 4,
     * two per cycle); NaN detection costs one unordered compare per pair of vectors and one OR
     * (instead of a subtract and an add per vector): min_ps/max_ps never let a NaN win, and an
     * Inf shows as an infinite extremum, checked once at the end. */
    __m256 l0 = _mm256_set1_ps(INFINITY), l1 = l0, l2 = l0, l3 = l0;
    __m256 h0 = _mm256_set1_ps(-INFINITY), h1 = h0, h2 = h0, h3 = h0;
    __m256 nan0 = _mm256_setzero_ps(), nan1 = nan0;
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        l0 = _mm256_min_ps(a, l0);
        l1 = _mm256_min_ps(b, l1);
        l2 = _mm256_min_ps(c, l2);
        l3 = _mm256_min_ps(d, l3);
        h0 = _mm256_max_ps(a, h0);
        h1 = _mm256_max_ps(b, h1);
        h2 = _mm256_max_ps(c, h2);
        h3 = _mm256_max_ps(d, h3);
        nan0 = _mm256_or_ps(nan0, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
        nan1 = _mm256_or_ps(nan1, _mm256_cmp_ps(c, d, _CMP_UNORD_Q));
    }
    float ls[8], hs[8];
    _mm256_storeu_ps(ls, _mm256_min_ps(_mm256_min_ps(l0, l1), _mm256_min_ps(l2, l3)));
    _mm256_storeu_ps(hs, _mm256_max_ps(_mm256_max_ps(h0, h1), _mm256_max_ps(h2, h3)));
    int any_nan = _mm256_movemask_ps(_mm256_or_ps(nan0, nan1)) != 0;
    float l, h, z = fx_minmax_f32_scalar(x + i, n - i, &l, &h);
    for (int k = 0; k < 8; ++k) {
        l = ls[k] < l ? ls[k] : l;
        h = hs[k] > h ? hs[k] : h;
    }
    *lo = l;
    *hi = h;
    /* same contract as the scalar loop: 0 unless a NaN or +-Inf is present */
    if (any_nan || isinf(l) || isinf(h)) return NAN;
    return z;
}
#endif

static float fx_minmax_f32_chunk(const float* x, ptrdiff_t n, float* lo, float* hi) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (fx_simd_enabled && __builtin_cpu_supports("avx2")) return fx_minmax_f32_avx2(x, n, lo, hi);
#endif
    return fx_minmax_f32_scalar(x, n, lo, hi);
}

/* fxsim._kernels._parallel_ranges: fn(ctx, begin, end) over ranges covering [0, count). */
typedef int64_t (*fx_range_fn)(void* ctx, int64_t begin, int64_t end);
typedef int64_t (*fx_parallel_fn)(int64_t count, int64_t work_per_task, fx_range_fn fn, void* ctx);

#define FX_MIN_CHUNK ((ptrdiff_t)1 << 16)
#define FX_MAX_CHUNKS 64

/* Values per chunk for n values: at least 2^16, at most FX_MAX_CHUNKS chunks, at most `cap`. */
static ptrdiff_t fx_chunk_size(ptrdiff_t n, ptrdiff_t cap) {
    ptrdiff_t chunk = (n + FX_MAX_CHUNKS - 1) / FX_MAX_CHUNKS;
    if (chunk < FX_MIN_CHUNK) chunk = FX_MIN_CHUNK;
    return chunk < cap ? chunk : cap;
}

/* Values in chunk c of n values cut into chunks of `chunk` (the last one may be shorter). */
static inline ptrdiff_t fx_chunk_length(ptrdiff_t n, ptrdiff_t chunk, int64_t c) {
    ptrdiff_t left = n - (ptrdiff_t)c * chunk;
    return left < chunk ? left : chunk;
}

typedef struct {
    const float* x;
    ptrdiff_t n, chunk;
    float lo[FX_MAX_CHUNKS], hi[FX_MAX_CHUNKS], z[FX_MAX_CHUNKS];
} fx_minmax_job;

static int64_t fx_minmax_chunks(void* ctx, int64_t begin, int64_t end) {
    fx_minmax_job* job = (fx_minmax_job*)ctx;
    for (int64_t c = begin; c < end; ++c) {
        job->z[c] = fx_minmax_f32_chunk(job->x + (ptrdiff_t)c * job->chunk, fx_chunk_length(job->n, job->chunk, c),
                                        &job->lo[c], &job->hi[c]);
    }
    return -1;
}

static float fx_minmax_f32(const float* x, ptrdiff_t n, float* lo, float* hi, fx_parallel_fn parallel) {
    ptrdiff_t chunk = fx_chunk_size(n, n > 0 ? n : 1);
    ptrdiff_t chunks = n > 0 ? (n + chunk - 1) / chunk : 0;
    if (parallel == NULL || chunks <= 1) return fx_minmax_f32_chunk(x, n, lo, hi);
    fx_minmax_job job;
    job.x = x;
    job.n = n;
    job.chunk = chunk;
    parallel(chunks, chunk, fx_minmax_chunks, &job);
    float l = job.lo[0], h = job.hi[0], z = job.z[0];
    for (ptrdiff_t c = 1; c < chunks; ++c) {
        l = job.lo[c] < l ? job.lo[c] : l;
        h = job.hi[c] > h ? job.hi[c] : h;
        z += job.z[c]; /* NaN when any chunk saw a NaN or +-Inf */
    }
    *lo = l;
    *hi = h;
    return z;
}

/* The bin of a finite v: floor(t) with t = (v - lo) * inv_width in double, clamped to [0, nb - 1]
 * (a NaN t, from a non-finite inv_width, goes to bin 0). Clamping t before the conversion keeps
 * the conversion defined for any t. */
static inline ptrdiff_t fx_bin(float v, double lo, double inv_width, ptrdiff_t nb) {
    double t = ((double)v - lo) * inv_width;
    if (!(t >= 0.0)) return 0;
    if (t >= (double)(nb - 1)) return nb - 1;
    return (ptrdiff_t)t;
}

/* Four sub-histograms of nb + 1 slots (slot nb: the non-finite values of the AVX-512 loop). */
static void fx_histogram_chunk_scalar(const float* x, ptrdiff_t n, double lo, double inv_width, ptrdiff_t nb,
                                      uint32_t* sub) {
    uint32_t *c0 = sub, *c1 = sub + (nb + 1), *c2 = sub + 2 * (nb + 1), *c3 = sub + 3 * (nb + 1);
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
        if ((a - a) == 0.0f) c0[fx_bin(a, lo, inv_width, nb)]++;
        if ((b - b) == 0.0f) c1[fx_bin(b, lo, inv_width, nb)]++;
        if ((c - c) == 0.0f) c2[fx_bin(c, lo, inv_width, nb)]++;
        if ((d - d) == 0.0f) c3[fx_bin(d, lo, inv_width, nb)]++;
    }
    for (; i < n; ++i) {
        float a = x[i];
        if ((a - a) == 0.0f) c0[fx_bin(a, lo, inv_width, nb)]++;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* fx_bin for 16 values at a time: (double)v - lo and * inv_width as two IEEE double operations
 * per lane (the scalar ones), max(t, 0) (a NaN t gives 0: maxpd returns its second operand),
 * min(t, nb - 1), truncation; a non-finite v ((v - v) != 0) goes to slot nb. nb < 2^31. */
__attribute__((target("avx512f,avx512vl"))) static void fx_histogram_chunk_avx512(
    const float* x, ptrdiff_t n, double lo, double inv_width, ptrdiff_t nb, uint32_t* sub) {
    uint32_t *c0 = sub, *c1 = sub + (nb + 1), *c2 = sub + 2 * (nb + 1), *c3 = sub + 3 * (nb + 1);
    const __m512d vlo = _mm512_set1_pd(lo), vinv = _mm512_set1_pd(inv_width), vzero = _mm512_setzero_pd();
    const __m512d vtop = _mm512_set1_pd((double)(nb - 1));
    const __m256i vskip = _mm256_set1_epi32((int)nb);
    int32_t k[16];
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int half = 0; half < 2; ++half) {
            __m256 v = _mm256_loadu_ps(x + i + 8 * half);
            __mmask8 finite = _mm256_cmp_ps_mask(_mm256_sub_ps(v, v), _mm256_setzero_ps(), _CMP_EQ_OQ);
            __m512d t = _mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(v), vlo), vinv);
            t = _mm512_min_pd(_mm512_max_pd(t, vzero), vtop);
            __m256i bins = _mm256_mask_blend_epi32(finite, vskip, _mm512_cvttpd_epi32(t));
            _mm256_storeu_si256((__m256i*)(k + 8 * half), bins);
        }
        c0[k[0]]++, c1[k[1]]++, c2[k[2]]++, c3[k[3]]++;
        c0[k[4]]++, c1[k[5]]++, c2[k[6]]++, c3[k[7]]++;
        c0[k[8]]++, c1[k[9]]++, c2[k[10]]++, c3[k[11]]++;
        c0[k[12]]++, c1[k[13]]++, c2[k[14]]++, c3[k[15]]++;
    }
    fx_histogram_chunk_scalar(x + i, n - i, lo, inv_width, nb, sub);
}
#endif

typedef struct {
    const float* x;
    ptrdiff_t n, chunk, nb;
    double lo, inv_width;
    uint32_t* scratch;
    int avx512;
} fx_histogram_job;

static int64_t fx_histogram_chunks(void* ctx, int64_t begin, int64_t end) {
    fx_histogram_job* job = (fx_histogram_job*)ctx;
    for (int64_t c = begin; c < end; ++c) {
        const float* x = job->x + (ptrdiff_t)c * job->chunk;
        ptrdiff_t len = fx_chunk_length(job->n, job->chunk, c);
        uint32_t* sub = job->scratch + (ptrdiff_t)c * 4 * (job->nb + 1);
        memset(sub, 0, sizeof(uint32_t) * 4 * (size_t)(job->nb + 1));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (job->avx512) {
            fx_histogram_chunk_avx512(x, len, job->lo, job->inv_width, job->nb, sub);
            continue;
        }
#endif
        fx_histogram_chunk_scalar(x, len, job->lo, job->inv_width, job->nb, sub);
    }
    return -1;
}

/* Histogram chunks are below 2^30 values: a uint32 counter cannot wrap. */
#define FX_HISTOGRAM_MAX_CHUNK ((ptrdiff_t)1 << 30)

/* Entries of scratch fx_histogram_f32 needs for n values into nb bins. */
static ptrdiff_t fx_histogram_scratch(ptrdiff_t n, ptrdiff_t nb) {
    ptrdiff_t chunk = fx_chunk_size(n, FX_HISTOGRAM_MAX_CHUNK);
    ptrdiff_t chunks = n > 0 ? (n + chunk - 1) / chunk : 1;
    return chunks * 4 * (nb + 1);
}

static void fx_histogram_f32(const float* x, ptrdiff_t n, double lo, double inv_width, double* counts,
                             ptrdiff_t nb, uint32_t* scratch, fx_parallel_fn parallel) {
    fx_histogram_job job;
    job.x = x;
    job.n = n;
    job.chunk = fx_chunk_size(n, FX_HISTOGRAM_MAX_CHUNK);
    job.nb = nb;
    job.lo = lo;
    job.inv_width = inv_width;
    job.scratch = scratch;
    job.avx512 = 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    job.avx512 = fx_simd_enabled && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 nb < ((ptrdiff_t)1 << 31);
#endif
    ptrdiff_t chunks = n > 0 ? (n + job.chunk - 1) / job.chunk : 0;
    if (parallel == NULL || chunks <= 1) {
        fx_histogram_chunks(&job, 0, chunks);
    } else {
        parallel(chunks, job.chunk, fx_histogram_chunks, &job);
    }
    for (ptrdiff_t k = 0; k < nb; ++k) {
        uint64_t total = 0;
        for (ptrdiff_t c = 0; c < chunks; ++c) {
            const uint32_t* sub = scratch + c * 4 * (nb + 1);
            total += (uint64_t)sub[k] + sub[(nb + 1) + k] + sub[2 * (nb + 1) + k] + sub[3 * (nb + 1) + k];
        }
        counts[k] += (double)total;
    }
}

#endif
