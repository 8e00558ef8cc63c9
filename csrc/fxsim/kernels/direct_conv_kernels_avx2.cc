// The direct-conv inner loops compiled with AVX2 (setup.py adds the flags of *_avx2.cc): the
// loops of direct_conv_kernels.h on 8 int32 lanes (ymm, 16 registers), written for this variant
// rather than taken from direct_conv_kernels.inc, whose loops are built on AVX-512's 16-lane
// registers, masks and cross-lane permutes. Compiles to nothing off x86-64 or without the flags.
// Same rules as the other per-ISA units: raw pointers only, no std:: templates, no exceptions.
//
// - direct_conv_u32 / direct_conv_paired_u32: int16 pairs through vpmaddwd (each pair sum exact
//   modulo 2^32, its one overflow 2 * (-32768)^2 wrapping), the tap pairing of fbgemm's and
//   XNNPACK's depthwise micro-kernels, as the AVX-512 tiles.
// - depthwise_u8s8_fast, depthwise_u8s8_fast_s2, depthwise_u8s8_channels, small_depth_u8s8(_codes):
//   the u8 x s8 dot product of four bytes (vpdpbusd, Intel SDM, the non-saturating form) through
//   its exact emulation on int16 pairs, as dot4_avx512.h does on zmm: a u8 byte pair (b0, b2) or
//   (b1, b3) per int32 lane, zero-extended to int16, times the sign-extended s8 weight pair, one
//   vpmaddwd (|pair sum| <= 2 * 255 * 128 < 2^17: exact), added modulo 2^32. Here the two int16
//   halves are made straight from the input window by two vpshufb (index -128 writes a 0 byte: the
//   zero extension), no mask and shift. Every sum is the same modular sum as the other variants'.
// - depthwise_u8s8 (any stride and dilation) and interleave4_strided are null: their AVX-512
//   forms rest on vpermd windows of 16 lanes and masked byte loads; the callers keep the int16
//   pair loops and conv2d.cc's plain gather there.
#if defined(__x86_64__) && defined(__AVX2__)
#define FXSIM_ISA avx2
#include <immintrin.h>

#include <cstdint>

#include "fxsim/fixedpoint/multiplier_simd.h"
#include "fxsim/isa.h"
#include "fxsim/kernels/direct_conv_kernels.h"

FXSIM_NAMESPACE_BEGIN
namespace direct_conv_impl {

// ---- stores of partial vectors (AVX2 has no byte masks)

// Lanes [0, n) of 8 int32 lanes as a vpmaskmovd mask (n clamped to [0, 8] by the compare).
inline __m256i first_lanes8(int64_t n) {
  const int32_t k = n <= 0 ? 0 : (n >= 8 ? 8 : static_cast<int32_t>(n));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
// The first n (any int64) of 8 int32 lanes to p: nothing for n <= 0, the whole vector for n >= 8.
inline void store8(uint32_t* p, __m256i v, int64_t n) {
  if (n >= 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
  } else if (n > 0) {
    _mm256_maskstore_epi32(reinterpret_cast<int*>(p), first_lanes8(n), v);
  }
}
// The first n (any int64) of 32 bytes to p.
inline void store_bytes32(uint8_t* p, __m256i v, int64_t n) {
  if (n >= 32) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
    return;
  }
  alignas(32) uint8_t t[32];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), v);
  for (int64_t i = 0; i < n; ++i) p[i] = t[i];
}

// acc + v modulo 2^32 (vpaddd).
inline __m256i add32(__m256i acc, __m256i v) { return _mm256_add_epi32(acc, v); }

// ---- int16-pair tiles (DirectConvFn, DirectConvPairsFn)

// A unit is 32 output columns: 4 vectors of 8 int32 lanes per output channel; per tap pair, 4
// vectors of int16 input pairs (one per 8 columns) and vpmaddwd with the weight pair broadcast
// as one int32: w0 * x0[j] + w1 * x1[j] per lane. The two input forms:
// - SplitTaps (DirectConvFn): the 32 int16 inputs of each tap (two vectors) interleaved
//   16-bit-wise (vpunpck{l,h}wd, within 128-bit lanes): unpacklo of columns 16 h + [0, 16) holds
//   the pairs of columns 16 h + {0..3, 8..11}, unpackhi those of 16 h + {4..7, 12..15}; the
//   sums are put back in column order by vperm2i128 at the end.
// - PairedTaps (DirectConvPairsFn): the inputs come interleaved already, natural lane order.
struct SplitTaps {
  static void inputs(const int16_t* b, const int64_t* koff, int64_t p, int64_t src, __m256i (&x)[4]) {
    for (int h = 0; h < 2; ++h) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + koff[2 * p] + src + 16 * h));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + koff[2 * p + 1] + src + 16 * h));
      x[2 * h] = _mm256_unpacklo_epi16(x0, x1);
      x[2 * h + 1] = _mm256_unpackhi_epi16(x0, x1);
    }
  }
  static void in_order(const __m256i (&a)[4], __m256i (&v)[4]) {
    for (int h = 0; h < 2; ++h) {  // a[2 h]: columns 16 h + {0..3, 8..11}; a[2 h + 1]: 16 h + {4..7, 12..15}
      v[2 * h] = _mm256_permute2x128_si256(a[2 * h], a[2 * h + 1], 0x20);
      v[2 * h + 1] = _mm256_permute2x128_si256(a[2 * h], a[2 * h + 1], 0x31);
    }
  }
};
struct PairedTaps {
  static void inputs(const int32_t* b, const int64_t* koff, int64_t p, int64_t src, __m256i (&x)[4]) {
    for (int k = 0; k < 4; ++k) x[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + koff[p] + src + 8 * k));
  }
  static void in_order(const __m256i (&a)[4], __m256i (&v)[4]) {
    for (int k = 0; k < 4; ++k) v[k] = a[k];
  }
};

template <class Kind, int MR, int NU, typename B>
inline void tile(const int32_t* wp, int64_t pairs, const B* b, const int64_t* koff, const int64_t* src,
                 const int64_t* dst, const int32_t* width, uint32_t* c, int64_t ldc) {
  __m256i acc[MR][NU][4];
  for (int r = 0; r < MR; ++r) {
    for (int u = 0; u < NU; ++u) {
      for (int k = 0; k < 4; ++k) acc[r][u][k] = _mm256_setzero_si256();
    }
  }
  for (int64_t p = 0; p < pairs; ++p) {
    __m256i x[NU][4];
    for (int u = 0; u < NU; ++u) Kind::inputs(b, koff, p, src[u], x[u]);
    for (int r = 0; r < MR; ++r) {
      const __m256i w = _mm256_set1_epi32(wp[r * pairs + p]);
      for (int u = 0; u < NU; ++u) {
        for (int k = 0; k < 4; ++k) acc[r][u][k] = add32(acc[r][u][k], _mm256_madd_epi16(x[u][k], w));
      }
    }
  }
  for (int u = 0; u < NU; ++u) {
    for (int r = 0; r < MR; ++r) {
      __m256i v[4];
      Kind::in_order(acc[r][u], v);
      for (int k = 0; k < 4; ++k) store8(c + r * ldc + dst[u] + 8 * k, v[k], width[u] - 8 * k);
    }
  }
}

template <class Kind, int MR, int NU, typename B>
inline void all_units(const int32_t* wp, int64_t pairs, const B* b, const int64_t* koff, const int64_t* src,
                      const int64_t* dst, const int32_t* width, int64_t units, uint32_t* c, int64_t ldc) {
  int64_t u = 0;
  for (; u + NU <= units; u += NU) tile<Kind, MR, NU>(wp, pairs, b, koff, src + u, dst + u, width + u, c, ldc);
  for (; u < units; ++u) tile<Kind, MR, 1>(wp, pairs, b, koff, src + u, dst + u, width + u, c, ldc);
}

// Output channels in blocks of 2 (8 accumulators, the 4 input vectors of the split form and the
// weight: 13 of the 16 registers), a last one with 2 units (8 accumulators).
template <class Kind, typename B>
inline void all_rows(const int32_t* wp, int64_t pairs, int64_t rows, const B* b, const int64_t* koff,
                     const int64_t* src, const int64_t* dst, const int32_t* width, int64_t units, uint32_t* c,
                     int64_t ldc) {
  int64_t m = 0;
  for (; m + 2 <= rows; m += 2) {
    all_units<Kind, 2, 1>(wp + m * pairs, pairs, b, koff, src, dst, width, units, c + m * ldc, ldc);
  }
  if (m < rows) all_units<Kind, 1, 2>(wp + m * pairs, pairs, b, koff, src, dst, width, units, c + m * ldc, ldc);
}

void direct_conv_u32(const int32_t* wp, int64_t pairs, int64_t rows, const int16_t* b, const int64_t* koff,
                     const int64_t* src, const int64_t* dst, const int32_t* width, int64_t units, uint32_t* c,
                     int64_t ldc) {
  all_rows<SplitTaps>(wp, pairs, rows, b, koff, src, dst, width, units, c, ldc);
}

void direct_conv_paired_u32(const int32_t* wp, int64_t pairs, int64_t rows, const int32_t* b, const int64_t* koff,
                            const int64_t* src, const int64_t* dst, const int32_t* width, int64_t units, uint32_t* c,
                            int64_t ldc) {
  all_rows<PairedTaps>(wp, pairs, rows, b, koff, src, dst, width, units, c, ldc);
}

// ---- the input side (WidenU8Fn ... InterleaveS8Fn)

inline __m256i widen16(const uint8_t* p) { return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256i widen16(const int8_t* p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256i widen8x32(const uint8_t* p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); }
inline __m256i widen8x32(const int8_t* p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); }
inline __m256i widen16(const uint8_t*, __m128i v) { return _mm256_cvtepu8_epi16(v); }
inline __m256i widen16(const int8_t*, __m128i v) { return _mm256_cvtepi8_epi16(v); }
inline __m256i widen8x32(const uint8_t*, __m128i v) { return _mm256_cvtepu8_epi32(v); }
inline __m256i widen8x32(const int8_t*, __m128i v) { return _mm256_cvtepi8_epi32(v); }
// Bytes 0, 2, .., 14 of 16 bytes in bytes 0..7 (step 2: the columns of one phase).
inline __m128i even_bytes(const void* p) {
  const __m128i pick = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -128, -128, -128, -128, -128, -128, -128, -128);
  return _mm_shuffle_epi8(_mm_loadu_si128(static_cast<const __m128i*>(p)), pick);
}

// d[i] = src[i * step] - x_zp as int16 (|v| <= 255: exact in int16 arithmetic). Steps 1 and 2 by
// 16 codes (step 2 loads 32 bytes and keeps the even ones: the vector loop stops where byte
// 2 i + 31 would pass the last code read, 2 (count - 1)), the rest (and other steps) in a plain
// loop.
template <typename X>
void widen(const X* src, int64_t step, int64_t count, int32_t x_zp, int16_t* d) {
  const __m256i zp = _mm256_set1_epi16(static_cast<int16_t>(x_zp));
  int64_t i = 0;
  if (step == 1) {
    for (; i + 16 <= count; i += 16) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm256_sub_epi16(widen16(src + i), zp));
    }
  } else if (step == 2) {
    for (; i + 17 <= count; i += 16) {
      const __m128i v = _mm_unpacklo_epi64(even_bytes(src + 2 * i), even_bytes(src + 2 * i + 16));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm256_sub_epi16(widen16(src, v), zp));
    }
  }
  for (; i < count; ++i) d[i] = static_cast<int16_t>(static_cast<int32_t>(src[i * step]) - x_zp);
}

// d[i] = ((a[i * step] - x_zp) & lo_mask) | ((b[i * step] - x_zp) & hi_mask) << 16 as uint32 bits.
// Steps 1 and 2 by 8 (step 2: the even bytes of 16, the vector loop stopping where byte 2 i + 15
// would pass 2 (count - 1)), the rest in a plain loop.
template <typename X>
void interleave(const X* a, const X* b, int64_t step, int64_t count, int32_t x_zp, uint32_t lo_mask,
                uint32_t hi_mask, int32_t* d) {
  const __m256i zp = _mm256_set1_epi32(x_zp);
  const __m256i lm = _mm256_set1_epi32(static_cast<int32_t>(lo_mask));
  const __m256i hm = _mm256_set1_epi32(static_cast<int32_t>(hi_mask));
  const auto store = [&](int64_t at, __m256i va, __m256i vb) {
    const __m256i lo = _mm256_and_si256(_mm256_sub_epi32(va, zp), lm);
    const __m256i hi = _mm256_and_si256(_mm256_sub_epi32(vb, zp), hm);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + at), _mm256_or_si256(lo, _mm256_slli_epi32(hi, 16)));
  };
  int64_t i = 0;
  if (step == 1) {
    for (; i + 8 <= count; i += 8) store(i, widen8x32(a + i), widen8x32(b + i));
  } else if (step == 2) {
    for (; i + 9 <= count; i += 8) store(i, widen8x32(a, even_bytes(a + 2 * i)), widen8x32(b, even_bytes(b + 2 * i)));
  }
  for (; i < count; ++i) {
    const uint32_t lo = static_cast<uint32_t>(static_cast<int32_t>(a[i * step]) - x_zp) & lo_mask;
    const uint32_t hi = static_cast<uint32_t>(static_cast<int32_t>(b[i * step]) - x_zp) & hi_mask;
    d[i] = static_cast<int32_t>(lo | (hi << 16));  // modular conversion (gcc; C++20)
  }
}

void widen_u8(const uint8_t* src, int64_t step, int64_t count, int32_t x_zp, int16_t* d) {
  widen(src, step, count, x_zp, d);
}
void widen_s8(const int8_t* src, int64_t step, int64_t count, int32_t x_zp, int16_t* d) {
  widen(src, step, count, x_zp, d);
}
void interleave_u8(const uint8_t* a, const uint8_t* b, int64_t step, int64_t count, int32_t x_zp, uint32_t lo_mask,
                   uint32_t hi_mask, int32_t* d) {
  interleave(a, b, step, count, x_zp, lo_mask, hi_mask, d);
}
void interleave_s8(const int8_t* a, const int8_t* b, int64_t step, int64_t count, int32_t x_zp, uint32_t lo_mask,
                   uint32_t hi_mask, int32_t* d) {
  interleave(a, b, step, count, x_zp, lo_mask, hi_mask, d);
}

// CopyRowsU8Fn: 32 bytes at a time; a row of at least 32 bytes ends with one more 32-byte move
// at width - 32 (it rewrites bytes already copied with the same values), a shorter one by 16
// and byte by byte.
void copy_rows_u8(const uint8_t* src, int64_t rows, int64_t width, uint8_t flip, uint8_t* dst, int64_t dst_stride) {
  const __m256i f = _mm256_set1_epi8(static_cast<char>(flip));
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* s = src + r * width;
    uint8_t* d = dst + r * dst_stride;
    if (width >= 32) {
      for (int64_t i = 0;; i += 32) {
        const int64_t at = i + 32 <= width ? i : width - 32;
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + at));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + at), _mm256_xor_si256(v, f));
        if (i + 32 >= width) break;
      }
      continue;
    }
    int64_t i = 0;
    if (width >= 16) {
      const __m128i f16 = _mm256_castsi256_si128(f);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)), f16));
      i = 16;
    }
    for (; i < width; ++i) d[i] = static_cast<uint8_t>(s[i] ^ flip);
  }
}

// ---- u8 x s8 through int16 pairs (vpdpbusd's exact emulation, see the top of this file)

// The sign-extended s8 bytes 0 and 2 of word w as the low and high int16 of one int32 (the weight
// pair of the even input bytes); s8_pair(w >> 8): bytes 1 and 3 (the odd ones).
inline int32_t s8_pair(uint32_t w) {
  const uint32_t lo = static_cast<uint16_t>(static_cast<int8_t>(w & 0xFFu));
  const uint32_t hi = static_cast<uint16_t>(static_cast<int8_t>(w >> 16 & 0xFFu));
  return static_cast<int32_t>(lo | hi << 16);  // modular conversion (gcc; C++20)
}

// The weight word of four s8 taps as the two broadcast int16-pair operands.
struct S8Pairs {
  __m256i even, odd;
};
inline S8Pairs s8_pairs(int32_t w) {
  const uint32_t u = static_cast<uint32_t>(w);
  return S8Pairs{_mm256_set1_epi32(s8_pair(u)), _mm256_set1_epi32(s8_pair(u >> 8))};
}

// vpshufb indices that make the int16 halves of a window: in every 128-bit lane, for the four
// outputs i < 4 of the lane, int32 lane i = (byte at(i, 2k) zero-extended, byte at(i, 2k + 2) ...)
// as (low, high) int16 with k = 0 for the even taps (0, 2) and 1 for the odd taps (1, 3); at(i, q)
// = i * step + q * dilation (<= 15, the callers' conditions), the index -128 writing a 0 byte.
struct PairIndex {
  __m256i even, odd;
};
// Tables in .rodata for step and dilation 1 .. 4 (built per call in scalar stores before a 32-byte
// load, they stalled store forwarding at every call: a 7 x 7 depthwise plane calls once per 8
// channels).
struct PairIndexTable {
  int8_t even[4][4][32], odd[4][4][32];
  constexpr PairIndexTable() : even(), odd() {
    for (int step = 1; step <= 4; ++step) {
      for (int dilation = 1; dilation <= 4; ++dilation) {
        int8_t* e = even[step - 1][dilation - 1];
        int8_t* o = odd[step - 1][dilation - 1];
        for (int lane = 0; lane < 2; ++lane) {
          for (int i = 0; i < 4; ++i) {
            for (int k = 0; k < 2; ++k) {
              const int at = lane * 16 + 4 * i + 2 * k;
              e[at] = static_cast<int8_t>(i * step + 2 * k * dilation);
              o[at] = static_cast<int8_t>(i * step + (2 * k + 1) * dilation);
              e[at + 1] = o[at + 1] = -128;
            }
          }
        }
      }
    }
  }
};
inline constexpr PairIndexTable kPairIndex{};
inline PairIndex pair_index(int64_t step, int64_t dilation) {
  return PairIndex{_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kPairIndex.even[step - 1][dilation - 1])),
                   _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kPairIndex.odd[step - 1][dilation - 1]))};
}

// acc + dot4(window, w) modulo 2^32, the window's halves made by the two shuffles.
inline __m256i dot4_step(__m256i acc, __m256i even, __m256i odd, const S8Pairs& w) {
  return add32(acc, _mm256_add_epi32(_mm256_madd_epi16(even, w.even), _mm256_madd_epi16(odd, w.odd)));
}

// ---- RegisterCodes on 8 lanes (direct_conv_kernels.h): the operations of the AVX-512 loops'
// requantization (direct_conv_kernels.inc fp32_codes16 / double_round_clamped16) in the same order.
// The float32 form: Fp32Op<int32_t, float, HALF_EVEN, true> (array_kernels.inc): vcvtdq2ps,
// vmulps, vaddps unless has_add is false, vmaxps / vminps (each returns its second operand unless
// the first is greater / smaller, as Fp32Op's `v > lo ? v : lo`), vcvtps2dq (round to nearest
// even in the default MXCSR; exact on |v| <= 2^22, an integer result). The double-round form:
// multiplier_simd.h's double_round_clamped8 (the array kernels' AVX2 lanes).
struct Requant8 {
  __m256 scale, add, lo, hi;
  DoubleRound8 dr;
  __m256i zp;
  bool has_add, double_round, codes_signed;
};
inline Requant8 requant8(const RegisterCodes& k) {
  Requant8 q{_mm256_set1_ps(k.scale), _mm256_set1_ps(k.add), _mm256_set1_ps(k.lo), _mm256_set1_ps(k.hi),
             DoubleRound8{}, _mm256_set1_epi32(k.zp), k.has_add, k.double_round, k.codes_signed};
  if (k.double_round) q.dr = double_round8(k.multiplier, k.shift, k.ilo, k.ihi);
  return q;
}
// code - zp of 8 sums (int32 lanes).
inline __m256i codes8(__m256i sum, const Requant8& q) {
  if (q.double_round) return double_round_clamped8(sum, q.dr);
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), q.scale);
  if (q.has_add) v = _mm256_add_ps(v, q.add);
  v = _mm256_max_ps(v, q.lo);
  v = _mm256_min_ps(v, q.hi);
  return _mm256_cvtps_epi32(v);
}
// The constants of each of four vectors: one Requant8 for all (SameRequant8), or an array of four.
struct SameRequant8 {
  const Requant8& q;
  const Requant8& operator[](int) const { return q; }
};
// code - zp + zp of each lane, vpackssdw of vectors (0, 1) and (2, 3), vpackuswb / vpacksswb. No
// step saturates (RegisterCodes's conditions), so every code is exact.
template <class Q>
inline __m256i packed_codes32(const __m256i (&a)[4], const Q& q) {
  const __m256i lo =
      _mm256_packs_epi32(_mm256_add_epi32(codes8(a[0], q[0]), q[0].zp), _mm256_add_epi32(codes8(a[1], q[1]), q[1].zp));
  const __m256i hi =
      _mm256_packs_epi32(_mm256_add_epi32(codes8(a[2], q[2]), q[2].zp), _mm256_add_epi32(codes8(a[3], q[3]), q[3].zp));
  return q[0].codes_signed ? _mm256_packs_epi16(lo, hi) : _mm256_packus_epi16(lo, hi);
}
// The 8-bit codes of four vectors of sums a[0..3] whose lane L holds the outputs 16 L + 4 X +
// [0, 4) (X the vector, the stride-1 depthwise windows): packed_codes32 gives lane L's outputs
// 16 L + [0, 8) and 16 L + [8, 16) in order, byte j output j, no permute.
template <class Q>
inline __m256i codes32_windows(const __m256i (&a)[4], const Q& q) {
  return packed_codes32(a, q);
}
// The 8-bit codes of four vectors of sums in column order (v[k] holds the outputs 8 k + [0, 8)):
// packed_codes32 leaves dword d of the result holding the outputs 4 * (2 (d % 4) + d / 4) + [0,
// 4); vpermd puts them in order.
template <class Q>
inline __m256i codes32_ordered(const __m256i (&v)[4], const Q& q) {
  return _mm256_permutevar8x32_epi32(packed_codes32(v, q), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// ---- depthwise_u8s8_fast / depthwise_u8s8_fast_s2: stride S (1 or 2), blocks of R output rows
// x 32 columns. Window X < 4 of an input row is one unaligned 32-byte load and two vpshufb (its
// int16 halves), no permute:
// - S = 1: the load at column j0 + 4 X; 128-bit lane L holds the inputs of the outputs j0 + 16 L
//   + 4 X + [0, 4) (output i's tap q at byte i + q * dilation_w <= 15 of the lane).
// - S = 2: X = 2 h + x', the load at byte 2 j0 + 32 h + 8 x'; lane L holds the inputs of the
//   outputs j0 + 16 h + 8 L + 4 x' + [0, 4) (output i's tap q at byte 2 i + q * dilation_w <=
//   15: dilation_w <= 3).
// Input row e of the block feeds the output rows r with e - S r in [0, KH). The block's sums leave
// once: as sums (a 128-bit lane transpose to column order) or as codes.

// Windows a[0..3] of one output row in column order: v[k] holds the outputs 8 k + [0, 8).
template <int S>
inline void windows_in_order(const __m256i (&a)[4], __m256i (&v)[4]) {
  if (S == 1) {  // lane L of a[X]: 16 L + 4 X + [0, 4)
    v[0] = _mm256_permute2x128_si256(a[0], a[1], 0x20), v[1] = _mm256_permute2x128_si256(a[2], a[3], 0x20);
    v[2] = _mm256_permute2x128_si256(a[0], a[1], 0x31), v[3] = _mm256_permute2x128_si256(a[2], a[3], 0x31);
  } else {  // lane L of a[2 h + x']: 16 h + 8 L + 4 x' + [0, 4)
    v[0] = _mm256_permute2x128_si256(a[0], a[1], 0x20), v[1] = _mm256_permute2x128_si256(a[0], a[1], 0x31);
    v[2] = _mm256_permute2x128_si256(a[2], a[3], 0x20), v[3] = _mm256_permute2x128_si256(a[2], a[3], 0x31);
  }
}

// The sums of one block of R output rows x 32 columns from its first input row `base`: input row
// e of the block feeds the output rows r with e - S r in [0, KH), window X taking weight set X / 2
// of SETS 2 (channels side by side: w[set * KH * G + tap]) or the one set. Forced inline: the
// accumulators stay in registers.
template <int S, int KH, int G, int R, int SETS>
FXSIM_ALWAYS_INLINE void accumulate_block(const uint8_t* base, int64_t row_len, int64_t group_step,
                                          const PairIndex& idx, const S8Pairs* w, __m256i (&acc)[R][4]) {
#pragma GCC unroll 16
  for (int e = 0; e < S * (R - 1) + KH; ++e) {
#pragma GCC unroll 2
    for (int gq = 0; gq < G; ++gq) {
      const uint8_t* row = base + e * row_len + gq * group_step;
#pragma GCC unroll 4
      for (int x = 0; x < 4; ++x) {
        const int at = S == 1 ? 4 * x : 32 * (x / 2) + 8 * (x % 2);
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + at));
        const __m256i even = _mm256_shuffle_epi8(v, idx.even), odd = _mm256_shuffle_epi8(v, idx.odd);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const int ky = e - S * r;
          if (ky < 0 || ky >= KH) continue;
          acc[r][x] = dot4_step(acc[r][x], even, odd, w[(SETS == 2 ? x / 2 : 0) * KH * G + ky * G + gq]);
        }
      }
    }
  }
}

template <int S, int KH, int G, int R>
void depthwise_fast_kh(const uint8_t* plane, const DepthwiseU8Geometry& g, const int32_t* wq, uint32_t init,
                       const DepthwiseFastOut& out) {
  const PairIndex idx = pair_index(S, g.dilation_w);
  S8Pairs w[KH * G];
  for (int k = 0; k < KH * G; ++k) w[k] = s8_pairs(wq[k]);
  const Requant8 q = requant8(out.rq);  // unused with out.sums
  const int64_t group_step = 4 * g.dilation_w;
  for (int64_t oy0 = 0; oy0 < g.oh; oy0 += R) {
    const int64_t top = oy0 + R <= g.oh ? oy0 : g.oh - R;  // the last block ends at the last row
    for (int64_t j0 = 0; j0 < g.ow; j0 += 32) {
      __m256i acc[R][4];
      for (int r = 0; r < R; ++r) {
        for (int x = 0; x < 4; ++x) acc[r][x] = _mm256_set1_epi32(static_cast<int32_t>(init));
      }
      accumulate_block<S, KH, G, R, 1>(plane + S * top * g.row_len + S * j0, g.row_len, group_step, idx, w, acc);
      const int64_t width = g.ow - j0 < 32 ? g.ow - j0 : 32;
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {  // unrolled: the accumulators stay in registers
        const int64_t at = (top + r) * g.ow + j0;
        if (S == 1 && out.sums == nullptr) {  // the codes in order without a permute
          store_bytes32(static_cast<uint8_t*>(out.codes) + at, codes32_windows(acc[r], SameRequant8{q}), width);
          continue;
        }
        __m256i v[4];
        windows_in_order<S>(acc[r], v);
        if (out.sums != nullptr) {
          for (int k = 0; k < 4; ++k) store8(out.sums + at + 8 * k, v[k], width - 8 * k);
        } else {
          store_bytes32(static_cast<uint8_t*>(out.codes) + at, codes32_ordered(v, SameRequant8{q}), width);
        }
      }
    }
  }
}

// The 3 x 3 (one group of taps) and 5 x 5 (two groups) loops at stride S, R3 / R5 rows per block:
// DepthwiseU8S8FastFn as depthwise_u8s8_fast (S = 1: R3 = 4, 23.7 against 22.2 GMAC/s with 3 on
// 144ch @56, C++ harness; R5 = 3) and depthwise_u8s8_fast_s2 (S = 2: 4 and 4).
template <int S, int R3, int R5>
void depthwise_fast(const uint8_t* plane, const DepthwiseU8Geometry& g, const int32_t* wq, uint32_t init,
                    const DepthwiseFastOut& out) {
  if (g.kh == 3) {
    depthwise_fast_kh<S, 3, 1, R3>(plane, g, wq, init, out);
  } else {
    depthwise_fast_kh<S, 5, 2, R5>(plane, g, wq, init, out);
  }
}

// ---- depthwise_u8s8_channels (DepthwiseU8S8ChannelsFn): narrow planes side by side, the loop of
// depthwise_fast_kh on each 32-column half of the plane's 64 output columns (half h: j0 = 32 h and
// its channels from j0 / P on; a half with no live channel is skipped), with vectors of weights,
// start values and requantization constants in place of broadcasts. Int32 lane l of window X
// holds output column j0 + 16 (l / 4) + 4 X + l % 4 at stride 1 and j0 + 16 (X / 2) + 8 (l / 4) +
// 4 (X % 2) + l % 4 at stride 2 (the windows of depthwise_fast_kh), and lane l of the column-order
// vector k (windows_in_order) column j0 + 8 k + l, each of channel column / P; a channel's value
// reaches its lanes by one vpermd (ChannelLanes8, relative to the half's first channel). Over
// AVX-512's form (direct_conv_kernels.inc) this one has no byte masks: the codes leave a row
// through a 32-byte buffer, each channel's ow codes copied from it (copy_bytes), and the fill
// writes each unit's padding and then its row.
template <int P, int S>
struct ChannelLanes8 {
  int32_t window[4][8];   // of window X (the stride-S window order)
  int32_t ordered[4][8];  // of column-order vector k
  constexpr ChannelLanes8() : window(), ordered() {
    for (int x = 0; x < 4; ++x) {
      for (int l = 0; l < 8; ++l) {
        const int col = S == 1 ? 16 * (l / 4) + 4 * x + l % 4 : 16 * (x / 2) + 8 * (l / 4) + 4 * (x % 2) + l % 4;
        window[x][l] = col / P;
        ordered[x][l] = (8 * x + l) / P;
      }
    }
  }
};

// Channel lanes_x[l]'s value of v (0 past the `live` lanes of vpmaskmovd's mask) in lane l.
inline __m256i channel_lanes8(const int32_t* lanes_x, __m256i live, const int32_t* v) {
  return _mm256_permutevar8x32_epi32(_mm256_maskload_epi32(v, live),
                                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes_x)));
}
inline __m256 channel_lanes8_ps(const int32_t* lanes_x, __m256i live, const float* v) {
  return _mm256_permutevar8x32_ps(_mm256_maskload_ps(v, live),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes_x)));
}

// s8_pairs of each lane's weight word: the even pair (bytes 0, 2) and the odd pair (bytes 1, 3),
// each byte sign-extended into its int16 half.
inline S8Pairs s8_pairs_lanes(__m256i w) {
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  const __m256i even = _mm256_or_si256(_mm256_and_si256(_mm256_srai_epi32(_mm256_slli_epi32(w, 24), 24), low16),
                                       _mm256_slli_epi32(_mm256_srai_epi32(_mm256_slli_epi32(w, 8), 24), 16));
  const __m256i odd = _mm256_or_si256(_mm256_and_si256(_mm256_srai_epi32(_mm256_slli_epi32(w, 16), 24), low16),
                                      _mm256_slli_epi32(_mm256_srai_epi32(w, 24), 16));
  return S8Pairs{even, odd};
}

// requant8 with each lane's channel's constants (cc's arrays from the half's first channel), built
// in place, only the form's members set, and out of line: inlined (or returned by value) its
// Requant8 was built in a temporary that gcc 12 copied out by rep movs and cleared by rep stos,
// ~15% of a 14 x 14 plane's loop.
__attribute__((noinline)) void requant8_lanes(const int32_t* lanes_x, __m256i live, const ChannelCodes& cc,
                                              int64_t first, Requant8* q) {
  q->has_add = cc.has_add, q->double_round = cc.double_round, q->codes_signed = cc.codes_signed;
  q->zp = channel_lanes8(lanes_x, live, cc.zp + first);
  if (cc.double_round) {  // only the form's arrays are there
    q->dr = double_round8(
        channel_lanes8(lanes_x, live, cc.multiplier + first), channel_lanes8(lanes_x, live, cc.shift + first),
        channel_lanes8(lanes_x, live, cc.ilo + first), channel_lanes8(lanes_x, live, cc.ihi + first));
  } else {
    q->scale = channel_lanes8_ps(lanes_x, live, cc.scale + first);
    q->add = channel_lanes8_ps(lanes_x, live, cc.add + first);
    q->lo = channel_lanes8_ps(lanes_x, live, cc.lo + first), q->hi = channel_lanes8_ps(lanes_x, live, cc.hi + first);
  }
}

// d[i] = s[i] ^ flip for i in [0, n), sizeof(Word) <= n <= 2 sizeof(Word): the first and the last
// word (overlapping).
template <typename Word>
inline void copy_two_words(uint8_t* d, const uint8_t* s, int64_t n, uint8_t flip) {
  const Word f = static_cast<Word>(static_cast<Word>(0x0101010101010101ull) * flip);
  Word a, b;
  __builtin_memcpy(&a, s, sizeof(Word)), __builtin_memcpy(&b, s + n - sizeof(Word), sizeof(Word));
  a ^= f, b ^= f;
  __builtin_memcpy(d, &a, sizeof(Word)), __builtin_memcpy(d + n - sizeof(Word), &b, sizeof(Word));
}
// d[i] = s[i] ^ flip for i < n <= 32: two overlapping moves of the widest size that fits (the
// second rewrites bytes of the first with the same values), none outside [d, d + n).
inline void copy_bytes(uint8_t* d, const uint8_t* s, int64_t n, uint8_t flip) {
  if (n >= 16) {
    const __m128i f = _mm_set1_epi8(static_cast<char>(flip));
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_xor_si128(a, f));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 16), _mm_xor_si128(b, f));
  } else if (n >= 8) {
    copy_two_words<uint64_t>(d, s, n, flip);
  } else if (n >= 4) {
    copy_two_words<uint32_t>(d, s, n, flip);
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>(s[i] ^ flip);
  }
}

template <int S, int KH, int G, int R, int P>
void depthwise_channels_kh(const uint8_t* plane, const DepthwiseChannelsGeometry& g, const int32_t* wc,
                           int64_t w_stride, const uint32_t* init, const DepthwiseChannelsOut& out) {
  constexpr int T = KH * G, SETS = S == 1 && P >= 16 ? 1 : 2;  // weight sets: by window X / SETS
  static constexpr ChannelLanes8<P, S> lanes{};
  const PairIndex idx = pair_index(S, g.dilation_w);
  const int64_t group_step = 4 * g.dilation_w, ow = g.ow, oh = g.oh, stride = out.channel_stride;
  const ChannelCodes& cc = out.rq;
  for (int64_t j0 = 0; j0 < 64; j0 += 32) {
    const int64_t first = j0 / P, live = 32 / P < g.channels - first ? 32 / P : g.channels - first;
    if (live <= 0) break;
    const __m256i mask = first_lanes8(live);
    S8Pairs w[SETS][T];
    __m256i start[SETS];
    for (int set = 0; set < SETS; ++set) {
      const int32_t* map = lanes.window[2 * set];  // windows 2 set, 2 set + 1
      for (int t = 0; t < T; ++t) w[set][t] = s8_pairs_lanes(channel_lanes8(map, mask, wc + t * w_stride + first));
      start[set] = channel_lanes8(map, mask, reinterpret_cast<const int32_t*>(init + first));
    }
    Requant8 q[4];  // per vector of the codes' input: windows at stride 1, column order at 2
    if (out.sums == nullptr) {  // (the codes: the condition of their use below)
      for (int v = 0; v < 4; ++v) requant8_lanes(S == 1 ? lanes.window[v] : lanes.ordered[v], mask, cc, first, &q[v]);
    }
    for (int64_t oy0 = 0; oy0 < oh; oy0 += R) {
      const int64_t top = oy0 + R <= oh ? oy0 : oh - R;  // the last block ends at the last row
      __m256i acc[R][4];
      for (int r = 0; r < R; ++r) {
        for (int x = 0; x < 4; ++x) acc[r][x] = start[SETS == 2 ? x / 2 : 0];
      }
      accumulate_block<S, KH, G, R, SETS>(plane + S * top * g.row_len + S * j0, g.row_len, group_step, idx, w[0],
                                          acc);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {  // unrolled: the accumulators stay in registers
        if (top + r < oy0) continue;  // the last block's rows a block before it stored
        const int64_t at = (top + r) * ow;
        __m256i v[4];
        if (out.sums != nullptr || S == 2) windows_in_order<S>(acc[r], v);
        if (out.sums != nullptr) {
          for (int64_t k = 0; k < live; ++k) {  // channel first + k: columns P k .. of the half
            uint32_t* dst = out.sums + (first + k) * stride + at;
            for (int64_t i = 0; i < ow; i += 8) store8(dst + i, v[(P * k + i) / 8], ow - i);
          }
          continue;
        }
        alignas(32) uint8_t codes[32];
        _mm256_store_si256(reinterpret_cast<__m256i*>(codes),
                           S == 1 ? codes32_windows(acc[r], q) : codes32_ordered(v, q));
        uint8_t* const dst = static_cast<uint8_t*>(out.codes) + first * stride + at;
        for (int64_t k = 0; k < live; ++k) copy_bytes(dst + k * stride, codes + P * k, ow, 0);
      }
    }
  }
}

template <int S, int R3, int R5>
void depthwise_channels_stride(const uint8_t* plane, const DepthwiseChannelsGeometry& g, const int32_t* w,
                               int64_t w_stride, const uint32_t* init, const DepthwiseChannelsOut& out) {
  if (g.kh == 3) {
    if (g.lane_width == 8) return depthwise_channels_kh<S, 3, 1, R3, 8>(plane, g, w, w_stride, init, out);
    if (g.lane_width == 16) return depthwise_channels_kh<S, 3, 1, R3, 16>(plane, g, w, w_stride, init, out);
    return depthwise_channels_kh<S, 3, 1, R3, 32>(plane, g, w, w_stride, init, out);
  }
  if (g.lane_width == 8) return depthwise_channels_kh<S, 5, 2, R5, 8>(plane, g, w, w_stride, init, out);
  if (g.lane_width == 16) return depthwise_channels_kh<S, 5, 2, R5, 16>(plane, g, w, w_stride, init, out);
  return depthwise_channels_kh<S, 5, 2, R5, 32>(plane, g, w, w_stride, init, out);
}

// The rows per block of depthwise_fast (stride 1: 4 at 3 x 3, 3 at 5 x 5; stride 2: 4).
void depthwise_u8s8_channels(const uint8_t* plane, const DepthwiseChannelsGeometry& g, const int32_t* w,
                             int64_t w_stride, const uint32_t* init, const DepthwiseChannelsOut& out) {
  if (g.stride == 1) return depthwise_channels_stride<1, 4, 3>(plane, g, w, w_stride, init, out);
  depthwise_channels_stride<2, 4, 4>(plane, g, w, w_stride, init, out);
}

// FillChannelRowsFn: each unit's padding (one 8-, 16- or 32-byte store), then its row's bytes.
void fill_channel_rows(const uint8_t* const* channels, int64_t count, int64_t rows, int64_t width, int64_t lane,
                       int64_t col0, uint8_t flip, uint8_t pad, uint8_t* dst, int64_t dst_stride) {
  const __m256i padded = _mm256_set1_epi8(static_cast<char>(pad));
  for (int64_t k = 0; k < count; ++k) {
    const uint8_t* src = channels[k];
    uint8_t* d = dst + lane * k;
    for (int64_t r = 0; r < rows; ++r, src += width, d += dst_stride) {
      if (lane == 32) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), padded);
      } else if (lane == 16) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm256_castsi256_si128(padded));
      } else {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(d), _mm256_castsi256_si128(padded));
      }
      copy_bytes(d + col0, src, width, flip);
    }
  }
}

// ---- small_depth_u8s8(_codes): the int16 slots of every (ic, ky, group) for 32 output
// columns, built once and read by every output channel (from the stack, L1).
// A slot is 4 vectors of 8 int32 lanes (outputs 8 k + [0, 8)) of int16 input pairs and one
// weight pair per output channel: acc += vpmaddwd(slot, weight pair). Tap word t gives the slot
// of its even bytes (b0, b2) and of its odd bytes (b1, b3); when byte 3 of every weight word is 0
// (kw = 3: each filter row's taps in one word) words 2p and 2p + 1 share the odd slot (b1 of
// each), taps4 + ceil(taps4 / 2) slots (14 for the 27 taps of a 3-channel 3 x 3 filter), as the
// avx512bw loop does.
constexpr int64_t kSlotsMax = 2 * kSmallDepthTaps4;
constexpr int64_t kPass = 64;  // output channels per pass: their weight words stay on the stack

struct Slots {
  int64_t taps4, count;
  bool paired_odd;
};
inline Slots small_depth_slots(const int32_t* wq, int64_t taps4, int64_t c_out) {
  bool byte3_zero = true;
  for (int64_t i = 0; i < c_out * taps4; ++i) byte3_zero = byte3_zero && (static_cast<uint32_t>(wq[i]) >> 24) == 0;
  return byte3_zero ? Slots{taps4, taps4 + (taps4 + 1) / 2, true} : Slots{taps4, 2 * taps4, false};
}

// The weight pairs of output channels [oc0, oc1) by slot: w[s * (oc1 - oc0) + (oc - oc0)].
inline void slot_weights(const int32_t* wq, const Slots& sl, int64_t oc0, int64_t oc1, int32_t* w) {
  const int64_t n = oc1 - oc0;
  for (int64_t c = 0; c < n; ++c) {
    const int32_t* f = wq + (oc0 + c) * sl.taps4;
    for (int64_t t = 0; t < sl.taps4; ++t) {
      const uint32_t word = static_cast<uint32_t>(f[t]);
      if (!sl.paired_odd) {
        w[2 * t * n + c] = s8_pair(word);
        w[(2 * t + 1) * n + c] = s8_pair(word >> 8);
        continue;
      }
      w[t * n + c] = s8_pair(word);
      if (t % 2 == 0) {
        // low int16: b1 of word t; high: b1 of word t + 1, or 0 past the last word
        const uint32_t next = t + 1 < sl.taps4 ? static_cast<uint32_t>(f[t + 1]) : 0u;
        w[(sl.taps4 + t / 2) * n + c] = s8_pair((word >> 8 & 0xFFu) | (next >> 8 & 0xFFu) << 16);
      }
    }
  }
}

// The shuffles of one 8-output window (after vpermd): the even pair, the odd pair, and byte 1
// alone in the low or in the high int16 (the shared odd slot of kw = 3 words).
struct SlotIndex {
  __m256i even, odd, b1_low, b1_high;
};
inline SlotIndex slot_index(int64_t stride_w, int64_t dilation_w) {
  const PairIndex p = pair_index(stride_w, dilation_w);
  alignas(32) int8_t lo[32], hi[32];
  for (int lane = 0; lane < 2; ++lane) {
    for (int i = 0; i < 4; ++i) {
      for (int b = 0; b < 4; ++b) lo[lane * 16 + 4 * i + b] = hi[lane * 16 + 4 * i + b] = -128;
      lo[lane * 16 + 4 * i] = hi[lane * 16 + 4 * i + 2] = static_cast<int8_t>(i * stride_w + dilation_w);
    }
  }
  return SlotIndex{p.even, p.odd, _mm256_load_si256(reinterpret_cast<const __m256i*>(lo)),
                   _mm256_load_si256(reinterpret_cast<const __m256i*>(hi))};
}

// MR output channels x H vectors of 8 outputs, sums to c[r * ldc + 8 h + i] (the first `width`):
// the slot vectors read from memory by vpmaddwd, the weight pair broadcast once per (slot,
// channel).
template <int MR, int H>
inline void small_depth_channels(const __m256i (*slot)[4], int64_t slots, const int32_t* w, int64_t n,
                                 const uint32_t* init, int64_t width, uint32_t* c, int64_t ldc) {
  __m256i acc[MR][H];
  for (int r = 0; r < MR; ++r) {
    for (int h = 0; h < H; ++h) acc[r][h] = _mm256_set1_epi32(static_cast<int32_t>(init[r]));
  }
  for (int64_t s = 0; s < slots; ++s) {
    const int32_t* ws = w + s * n;
    for (int r = 0; r < MR; ++r) {
      const __m256i wr = _mm256_set1_epi32(ws[r]);
      for (int h = 0; h < H; ++h) acc[r][h] = add32(acc[r][h], _mm256_madd_epi16(slot[s][h], wr));
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    for (int h = 0; h < H; ++h) store8(c + r * ldc + 8 * h, acc[r][h], width - 8 * h);
  }
}

// Channels [0, n) of a pass (w: their slot weights), channel c's sums at c[c * ldc].
template <int H>
inline void small_depth_all_channels(const __m256i (*slot)[4], int64_t slots, int64_t n, const int32_t* w,
                                     const uint32_t* init, int64_t width, uint32_t* c, int64_t ldc) {
  constexpr int kMR = H <= 2 ? 6 : 3;  // 12 accumulators
  int64_t k = 0;
  for (; k + kMR <= n; k += kMR) small_depth_channels<kMR, H>(slot, slots, w + k, n, init + k, width, c + k * ldc, ldc);
  for (; k < n; ++k) small_depth_channels<1, H>(slot, slots, w + k, n, init + k, width, c + k * ldc, ldc);
}

// Output rows [oy0, oy1) for output channels [0, g.c_out) (at most kPass; w: their slot
// weights): channel c's sums of row oy at sums[c * ldc + (oy - oy0) * ow], or, with codes set, the
// codes of q[c] at codes[c * ldc + ...] through a 32-column block of sums on the stack. The codes
// leave in a pass of their own after every channel's sums: with the requantization inlined into
// the channel loop gcc kept its constants in registers there and spilled accumulators on every
// slot (C++ harness: the first conv's codes took 1.5 x the time of its sums).
void small_depth_pass(const uint8_t* planes, const SmallDepthU8Geometry& g, const Slots& sl, const int32_t* w,
                      const uint32_t* init, int64_t oy0, int64_t oy1, uint32_t* sums, uint8_t* codes,
                      const Requant8* q, int64_t ldc) {
  // lane L of an 8-output window: the dwords L * stride_w + [0, 4) of the 32 bytes loaded at the
  // window's first input (output 4 L's first byte is 4 L * stride_w), then the slot shuffles
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, static_cast<int32_t>(g.stride_w),
                                          static_cast<int32_t>(g.stride_w + 1), static_cast<int32_t>(g.stride_w + 2),
                                          static_cast<int32_t>(g.stride_w + 3));
  const SlotIndex idx = slot_index(g.stride_w, g.dilation_w);
  __m256i slot[kSlotsMax][4];
  alignas(32) uint32_t block[kPass * 32];  // the codes' sums: channel c at 32 c
  for (int64_t oy = oy0; oy < oy1; ++oy) {
    for (int64_t j0 = 0; j0 < g.ow; j0 += 32) {
      const int64_t width = g.ow - j0 < 32 ? g.ow - j0 : 32;
      const int vectors = static_cast<int>((width + 7) / 8);
      for (int64_t ic = 0; ic < g.c_in; ++ic) {
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const uint8_t* row =
              planes + ic * g.plane_len + (oy * g.stride_h + ky * g.dilation_h) * g.row_len + j0 * g.stride_w;
          for (int64_t gq = 0; gq < g.groups; ++gq) {
            const int64_t t = (ic * g.kh + ky) * g.groups + gq;
            for (int h = 0; h < vectors; ++h) {
              const __m256i raw =
                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 8 * h * g.stride_w + 4 * gq * g.dilation_w));
              const __m256i v = _mm256_permutevar8x32_epi32(raw, lanes);
              if (!sl.paired_odd) {
                slot[2 * t][h] = _mm256_shuffle_epi8(v, idx.even);
                slot[2 * t + 1][h] = _mm256_shuffle_epi8(v, idx.odd);
                continue;
              }
              slot[t][h] = _mm256_shuffle_epi8(v, idx.even);
              __m256i& odd = slot[sl.taps4 + t / 2][h];
              // word 2p: b1 in the low int16 (the high one 0 until word 2p + 1 puts its b1 there)
              odd = t % 2 == 0 ? _mm256_shuffle_epi8(v, idx.b1_low)
                               : _mm256_or_si256(odd, _mm256_shuffle_epi8(v, idx.b1_high));
            }
          }
        }
      }
      const int64_t at = (oy - oy0) * g.ow + j0;
      uint32_t* c = codes != nullptr ? block : sums + at;
      const int64_t ldo = codes != nullptr ? 32 : ldc;
      switch (vectors) {
        case 4: small_depth_all_channels<4>(slot, sl.count, g.c_out, w, init, width, c, ldo); break;
        case 3: small_depth_all_channels<3>(slot, sl.count, g.c_out, w, init, width, c, ldo); break;
        case 2: small_depth_all_channels<2>(slot, sl.count, g.c_out, w, init, width, c, ldo); break;
        default: small_depth_all_channels<1>(slot, sl.count, g.c_out, w, init, width, c, ldo); break;
      }
      if (codes == nullptr) continue;
      for (int64_t k = 0; k < g.c_out; ++k) {  // lanes past width: sums of no output, not stored
        const uint32_t* b = block + 32 * k;
        const __m256i v[4] = {_mm256_load_si256(reinterpret_cast<const __m256i*>(b)),
                              _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 8)),
                              _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 16)),
                              _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 24))};
        store_bytes32(codes + k * ldc + at, codes32_ordered(v, SameRequant8{q[k]}), width);
      }
    }
  }
}

// Output channels in passes of kPass (their weights and Requant8 on the stack).
void small_depth_rows(const uint8_t* planes, const SmallDepthU8Geometry& g, const int32_t* wq, const uint32_t* init,
                      int64_t oy0, int64_t oy1, uint32_t* sums, uint8_t* codes, const RegisterCodes* rq, int64_t ldc) {
  const Slots sl = small_depth_slots(wq, g.c_in * g.kh * g.groups, g.c_out);
  alignas(32) int32_t w[kPass * kSlotsMax];
  Requant8 q[kPass];
  for (int64_t oc0 = 0; oc0 < g.c_out; oc0 += kPass) {
    const int64_t n = g.c_out - oc0 < kPass ? g.c_out - oc0 : kPass;
    slot_weights(wq, sl, oc0, oc0 + n, w);
    if (codes != nullptr) {
      for (int64_t k = 0; k < n; ++k) q[k] = requant8(rq[oc0 + k]);
    }
    SmallDepthU8Geometry part = g;
    part.c_out = n;
    small_depth_pass(planes, part, sl, w, init + oc0, oy0, oy1, codes != nullptr ? nullptr : sums + oc0 * ldc,
                     codes != nullptr ? codes + oc0 * ldc : nullptr, codes != nullptr ? q : nullptr, ldc);
  }
}

void small_depth_u8s8(const uint8_t* planes, const SmallDepthU8Geometry& g, const int32_t* wq, const uint32_t* init,
                      int64_t oy0, int64_t oy1, uint32_t* c, int64_t ldc) {
  small_depth_rows(planes, g, wq, init, oy0, oy1, c, nullptr, nullptr, ldc);
}

void small_depth_u8s8_codes(const uint8_t* planes, const SmallDepthU8Geometry& g, const int32_t* wq,
                            const uint32_t* init, int64_t oy0, int64_t oy1, const SmallDepthRequant& rq,
                            uint8_t* codes, int64_t ldc) {
  small_depth_rows(planes, g, wq, init, oy0, oy1, nullptr, codes, rq.rq, ldc);
}

const DirectConvTable kDirectConvTable = {"avx2",
                                          direct_conv_u32,
                                          direct_conv_paired_u32,
                                          widen_u8,
                                          widen_s8,
                                          interleave_u8,
                                          interleave_s8,
                                          nullptr,  // depthwise_u8s8: the int16 pair loops take those layers
                                          depthwise_fast<1, 4, 3>,
                                          small_depth_u8s8,
                                          small_depth_u8s8_codes,
                                          copy_rows_u8,
                                          nullptr,  // interleave4_strided: conv2d.cc's plain loop
                                          depthwise_fast<2, 4, 4>,
                                          depthwise_u8s8_channels,
                                          fill_channel_rows};

}  // namespace direct_conv_impl
FXSIM_NAMESPACE_END

namespace fxsim {
const DirectConvTable* direct_conv_table_avx2() { return &avx2::direct_conv_impl::kDirectConvTable; }
}  // namespace fxsim
#endif
