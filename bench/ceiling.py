"""This CPU's integer multiply-add ceilings and read bandwidth, measured by tiny cffi-compiled
micro-kernels (bench only: nothing here ships in fxsim).

* ``int16``: vpmaddwd + vpaddd on 512-bit registers, 12 independent accumulators (no memory
  traffic): 32 exact int16 x int16 multiply-adds per vpmaddwd. The exact ceiling of a CPU
  without VNNI (issue 3: about 76 GMAC/s per core on the AVX-512BW machines). On a CPU with AVX2
  and no AVX-512BW the same on 256-bit registers (16 per vpmaddwd).
* ``vnni``: vpdpbusd (u8 x s8, four products summed into int32 without saturation, exact), 12
  independent accumulators: 64 multiply-adds per instruction. Present only with AVX512_VNNI.
* ``read``: bytes per second of a vector OR-reduction over a buffer (the memory roofline of a
  layer that reads each weight once, such as a batch-1 classifier: 1 MAC per weight byte).

Threads: cffi releases the GIL during a C call, so n Python threads run n copies at once.
Run ``python bench/ceiling.py`` to print the numbers; compare_peers.py imports it.
"""

import os
import sys
import tempfile
import threading
import time

import numpy as np

C_SOURCE = r"""
#include <immintrin.h>
#include <stdint.h>
#include <stddef.h>

#define ACCS 12

#if defined(__AVX512BW__)
/* iters x ACCS vpmaddwd + vpaddd, 32 MACs each: acc += madd(acc, b), so no step can be hoisted
   (ACCS independent chains hide the latency); the sums are stored so nothing is dead. */
int madd_macs(void) { return ACCS * 32; } /* per iteration */
void ceiling_madd_i16(int64_t iters, int32_t* sink) {
  __m512i acc[ACCS];
  const __m512i b = _mm512_set1_epi16(-7);
  for (int i = 0; i < ACCS; ++i) acc[i] = _mm512_set1_epi32(i);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < ACCS; ++i) acc[i] = _mm512_add_epi32(acc[i], _mm512_madd_epi16(acc[i], b));
  }
  __m512i s = acc[0];
  for (int i = 1; i < ACCS; ++i) s = _mm512_add_epi32(s, acc[i]);
  sink[0] = _mm512_reduce_add_epi32(s);
}

#if defined(__AVX512VNNI__)
/* iters x ACCS vpdpbusd, 64 MACs each. The instruction is written out with the accumulator as an
   in-out register operand, as gemm_kernels.inc does: through the _mm512_dpbusd_epi32 builtin gcc
   12 copied each accumulator to a scratch register per step (vmovdqa32 + vpdpbusd), and this
   ceiling read ~216-221 GMAC/s where the bare instruction stream reaches ~231 on this EPYC. */
#define FXSIM_DPBUSD(acc) __asm__("vpdpbusd %1, %2, %0" : "+v"(acc) : "v"(b), "v"(a))
void ceiling_dpbusd(int64_t iters, int32_t* sink) {
  __m512i acc[ACCS];
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-7);
  __m512i c0 = _mm512_set1_epi32(0), c1 = _mm512_set1_epi32(1), c2 = _mm512_set1_epi32(2),
          c3 = _mm512_set1_epi32(3), c4 = _mm512_set1_epi32(4), c5 = _mm512_set1_epi32(5),
          c6 = _mm512_set1_epi32(6), c7 = _mm512_set1_epi32(7), c8 = _mm512_set1_epi32(8),
          c9 = _mm512_set1_epi32(9), c10 = _mm512_set1_epi32(10), c11 = _mm512_set1_epi32(11);
  for (int64_t it = 0; it < iters; ++it) {
    FXSIM_DPBUSD(c0); FXSIM_DPBUSD(c1); FXSIM_DPBUSD(c2); FXSIM_DPBUSD(c3);
    FXSIM_DPBUSD(c4); FXSIM_DPBUSD(c5); FXSIM_DPBUSD(c6); FXSIM_DPBUSD(c7);
    FXSIM_DPBUSD(c8); FXSIM_DPBUSD(c9); FXSIM_DPBUSD(c10); FXSIM_DPBUSD(c11);
  }
  acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5;
  acc[6] = c6, acc[7] = c7, acc[8] = c8, acc[9] = c9, acc[10] = c10, acc[11] = c11;
  __m512i s = acc[0];
  for (int i = 1; i < ACCS; ++i) s = _mm512_add_epi32(s, acc[i]);
  sink[0] = _mm512_reduce_add_epi32(s);
}
int has_vnni(void) { return 1; }
#else
void ceiling_dpbusd(int64_t iters, int32_t* sink) { (void)iters; sink[0] = 0; }
int has_vnni(void) { return 0; }
#endif

/* OR of every 64-byte block of buf (bytes a multiple of 256), `passes` times. */
void read_bytes(const uint8_t* buf, int64_t bytes, int64_t passes, int32_t* sink) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t p = 0; p < passes; ++p) {
    for (int64_t i = 0; i < bytes; i += 256) {
      s0 = _mm512_or_si512(s0, _mm512_loadu_si512(buf + i));
      s1 = _mm512_or_si512(s1, _mm512_loadu_si512(buf + i + 64));
      s2 = _mm512_or_si512(s2, _mm512_loadu_si512(buf + i + 128));
      s3 = _mm512_or_si512(s3, _mm512_loadu_si512(buf + i + 192));
    }
  }
  sink[0] = _mm512_reduce_or_epi32(_mm512_or_si512(_mm512_or_si512(s0, s1), _mm512_or_si512(s2, s3)));
}
#else
/* The same on a CPU with AVX2 and no AVX-512BW: 256-bit vpmaddwd, 16 MACs each, 8 accumulators
   (12 and their products do not fit the 16 ymm registers: gcc spilled them to the stack). */
#define ACCS2 8
int madd_macs(void) { return ACCS2 * 16; } /* per iteration */
void ceiling_madd_i16(int64_t iters, int32_t* sink) {
  __m256i acc[ACCS2];
  const __m256i b = _mm256_set1_epi16(-7);
  for (int i = 0; i < ACCS2; ++i) acc[i] = _mm256_set1_epi32(i);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 8
    for (int i = 0; i < ACCS2; ++i) acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(acc[i], b));
  }
  __m256i s = acc[0];
  for (int i = 1; i < ACCS2; ++i) s = _mm256_add_epi32(s, acc[i]);
  int32_t lanes[8];
  _mm256_storeu_si256((__m256i*)lanes, s);
  sink[0] = lanes[0] + lanes[7];
}
void ceiling_dpbusd(int64_t iters, int32_t* sink) { (void)iters; sink[0] = 0; }
int has_vnni(void) { return 0; }
void read_bytes(const uint8_t* buf, int64_t bytes, int64_t passes, int32_t* sink) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t p = 0; p < passes; ++p) {
    for (int64_t i = 0; i < bytes; i += 128) {
      s0 = _mm256_or_si256(s0, _mm256_loadu_si256((const __m256i*)(buf + i)));
      s1 = _mm256_or_si256(s1, _mm256_loadu_si256((const __m256i*)(buf + i + 32)));
      s2 = _mm256_or_si256(s2, _mm256_loadu_si256((const __m256i*)(buf + i + 64)));
      s3 = _mm256_or_si256(s3, _mm256_loadu_si256((const __m256i*)(buf + i + 96)));
    }
  }
  int32_t lanes[8];
  _mm256_storeu_si256((__m256i*)lanes, _mm256_or_si256(_mm256_or_si256(s0, s1), _mm256_or_si256(s2, s3)));
  sink[0] = lanes[0] | lanes[7];
}
#endif
"""

CDEF = """
int madd_macs(void);
void ceiling_madd_i16(int64_t iters, int32_t* sink);
void ceiling_dpbusd(int64_t iters, int32_t* sink);
int has_vnni(void);
void read_bytes(const uint8_t* buf, int64_t bytes, int64_t passes, int32_t* sink);
"""

_lib = None


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def library():
    """The compiled micro-kernels (ffi, lib), built once per process in a temporary folder: the
    AVX-512BW ones, or the AVX2 ones on a CPU without AVX-512BW; None when cffi or a compiler is
    missing or the CPU has neither."""
    global _lib
    if _lib is not None:
        return _lib
    try:
        import cffi
    except ImportError:
        return None
    builder = cffi.FFI()
    builder.cdef(CDEF)
    cpu = _cpu_flags()
    if "avx512bw" in cpu:
        flags = ["-O3", "-mavx512f", "-mavx512bw"] + (["-mavx512vnni"] if "avx512_vnni" in cpu else [])
    elif "avx2" in cpu:
        flags = ["-O3", "-mavx2"]
    else:
        print("ceiling micro-kernels not built: the CPU has neither AVX-512BW nor AVX2", file=sys.stderr)
        return None
    builder.set_source("_fxsim_bench_ceiling", C_SOURCE, extra_compile_args=flags)
    folder = tempfile.mkdtemp(prefix="fxsim_ceiling_")
    try:
        path = builder.compile(tmpdir=folder, verbose=False)
    except Exception as error:  # noqa: BLE001 - no compiler: the caller prints that
        print(f"ceiling micro-kernels not built: {error}", file=sys.stderr)
        return None
    sys.path.insert(0, os.path.dirname(path))
    module = __import__("_fxsim_bench_ceiling")
    _lib = (module.ffi, module.lib)
    return _lib


def _parallel_best(fn, threads, repeats):
    """Best wall time of `threads` concurrent calls of fn (each in its own Python thread)."""
    best = float("inf")
    for _ in range(repeats):
        workers = [threading.Thread(target=fn) for _ in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - t0)
    return best


def mac_ceiling(kind, threads=1, repeats=40, iters=1_000_000):
    """GMAC/s of the `kind` ("int16" or "vnni") micro-kernel on `threads` threads, best of
    `repeats`; None when unavailable."""
    lib = library()
    if lib is None:
        return None
    ffi, c = lib
    if kind == "vnni" and not c.has_vnni():
        return None
    # multiply-adds per loop iteration
    fn, per = (c.ceiling_madd_i16, c.madd_macs()) if kind == "int16" else (c.ceiling_dpbusd, 12 * 64)
    sink = ffi.new("int32_t[1]")
    fn(1000, sink)
    t = _parallel_best(lambda: fn(iters, sink), threads, repeats)
    return threads * iters * per / t / 1e9


def read_bandwidth(nbytes, threads=1, repeats=15):
    """GB/s of reading an `nbytes` buffer (rounded up to 256 bytes), repeated so each timing is
    at least ~20 ms; the buffer stays in cache when it fits, as a layer's weights do between
    calls."""
    lib = library()
    if lib is None:
        return None
    ffi, c = lib
    nbytes = (nbytes + 255) // 256 * 256
    bufs = [np.ones(nbytes, np.uint8) for _ in range(threads)]
    passes = max(1, int(2e7 // nbytes))
    sink = ffi.new("int32_t[1]")
    ptrs = [ffi.cast("const uint8_t*", b.ctypes.data) for b in bufs]
    c.read_bytes(ptrs[0], nbytes, 1, sink)
    it = iter(range(10 ** 9))
    lock = threading.Lock()

    def one():
        with lock:
            k = next(it) % threads
        c.read_bytes(ptrs[k], nbytes, passes, sink)

    t = _parallel_best(one, threads, repeats)
    return threads * nbytes * passes / t / 1e9


if __name__ == "__main__":
    for threads in (1, 2):
        print(f"threads {threads}: int16 vpmaddwd {mac_ceiling('int16', threads):.1f} GMAC/s, "
              f"vnni vpdpbusd {mac_ceiling('vnni', threads) or float('nan'):.1f} GMAC/s, "
              f"read 1.28 MB {read_bandwidth(1280 * 1000, threads):.1f} GB/s, "
              f"read 256 MB {read_bandwidth(256 << 20, threads, repeats=3):.1f} GB/s")
