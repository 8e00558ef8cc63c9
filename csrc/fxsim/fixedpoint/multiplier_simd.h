// TFLite's double-rounding MultiplyByQuantizedMultiplier on vectors of int32 lanes: 16 lanes
// with AVX-512 F/BW (suffix 16), 8 lanes with AVX2 (suffix 8). Each function equals, lane for
// lane and bit for bit, the scalar definition in multiplier.h (nocheck::
// saturating_rounding_doubling_high_mul, rounding_divide_by_pot, shift_left_wrapping_int32,
// multiply_by_quantized_multiplier_double_round): fxsim's semantics are the definition, so the
// left shift wraps modulo 2^32 as shift_left_wrapping_int32 states (TFLite's `x * (1 << s)` is an
// int32 multiply whose overflow C++ leaves undefined). test_core.cc compares every ISA variant
// with the baseline's scalar loop.
//
// The formulas are the usual vector forms of gemmlowp's two primitives:
// - SRDHM: x86 has no 32 x 32 -> high-32 signed multiply, so the int64 products of the even lanes
//   (vpmuldq reads the low int32 of each 64-bit lane) and of the odd lanes (shifted down by 32
//   first) are formed separately, the nudge 2^30 added in int64, and bits 31..62 of each sum
//   taken back into the lane (a logical right shift by 31 for the even lanes, a left shift by
//   1 for the odd ones, whose result is then the high half); INT32_MIN * INT32_MIN, the one
//   product whose result does not fit (it wraps to INT32_MIN, which no other product gives),
//   is replaced by INT32_MAX. The same even/odd vpmuldq
//   scheme as XNNPACK's "gemmlowp" requantization kernels (src/qs8-requantization/
//   gemmlowp-sse4.c) and gemmlowp's own internal/fixedpoint_avx.h.
// - RDBPOT: gemmlowp fixedpoint.h RoundingDivideByPOT: mask = 2^e - 1, remainder = x & mask,
//   threshold = (mask >> 1) + (x < 0), result = (x >> e) + (remainder > threshold), with a
//   per-lane exponent (vpsravd / vpsllvd), so per-channel constants cost nothing extra.
// Included only by per-ISA translation units (FXSIM_ISA set): fxsim/isa.h's namespace keeps
// each variant's copies apart.
#pragma once

#include <cstdint>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "fxsim/isa.h"

FXSIM_NAMESPACE_BEGIN

#if defined(__AVX512F__) && defined(__AVX512BW__)

// The constants of one double-round requantization, per lane: multiplier M, the left shift
// max(shift, 0) and right shift max(-shift, 0) of the TFLite shift (validated to [-31, 31]),
// the RDBPOT mask 2^right - 1 and its half (mask >> 1), and the clamp [lo, hi] = [qmin - zp,
// qmax - zp] (int32: the callers take this form only when both fit).
struct DoubleRound16 {
  __m512i multiplier, left, right, mask, half, lo, hi;
};

// From per-lane multiplier, shift, lo, hi vectors.
inline DoubleRound16 double_round16(__m512i multiplier, __m512i shift, __m512i lo, __m512i hi) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i left = _mm512_max_epi32(shift, zero);
  const __m512i right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right), _mm512_set1_epi32(1));
  return DoubleRound16{multiplier, left, right, mask, _mm512_srli_epi32(mask, 1), lo, hi};
}
// One channel's constants in every lane.
inline DoubleRound16 double_round16(int32_t multiplier, int32_t shift, int32_t lo, int32_t hi) {
  return double_round16(_mm512_set1_epi32(multiplier), _mm512_set1_epi32(shift), _mm512_set1_epi32(lo),
                        _mm512_set1_epi32(hi));
}

// nocheck::saturating_rounding_doubling_high_mul on 16 lanes.
inline __m512i saturating_rounding_doubling_high_mul16(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64(int64_t(1) << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, b), nudge);  // |a b| <= 2^62: no overflow
  const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32)), nudge);
  // bits 31..62 of each sum: low half of even >> 31, high half of odd << 1
  const __m512i high = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
  // high == INT32_MIN only for INT32_MIN * INT32_MIN (every other product lies in
  // (-2^62, 2^62), whose rounded high part is above -2^31): INT32_MIN ^ ~0 == INT32_MAX
  const __mmask16 overflow = _mm512_cmpeq_epi32_mask(high, _mm512_set1_epi32(INT32_MIN));
  return _mm512_mask_xor_epi32(high, overflow, high, _mm512_set1_epi32(-1));
}

// nocheck::rounding_divide_by_pot on 16 lanes, exponent in 0..31 per lane, mask = 2^e - 1 and
// half = mask >> 1 precomputed.
inline __m512i rounding_divide_by_pot16(__m512i x, __m512i exponent, __m512i mask, __m512i half) {
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __m512i threshold = _mm512_sub_epi32(half, _mm512_srai_epi32(x, 31));  // + 1 where x < 0
  const __m512i floor_q = _mm512_srav_epi32(x, exponent);
  // remainder and threshold are both in [0, 2^31): the signed compare is the unsigned one
  return _mm512_mask_add_epi32(floor_q, _mm512_cmpgt_epi32_mask(remainder, threshold), floor_q,
                               _mm512_set1_epi32(1));
}

// clamp(nocheck::multiply_by_quantized_multiplier_double_round(x, M, shift), lo, hi): the code
// minus the zero point, which the caller adds (or packs, then adds).
inline __m512i double_round_clamped16(__m512i x, const DoubleRound16& k) {
  const __m512i shifted = _mm512_sllv_epi32(x, k.left);  // wraps modulo 2^32 (shift_left_wrapping_int32)
  const __m512i r = rounding_divide_by_pot16(saturating_rounding_doubling_high_mul16(shifted, k.multiplier), k.right,
                                             k.mask, k.half);
  return _mm512_min_epi32(_mm512_max_epi32(r, k.lo), k.hi);
}

#endif  // AVX-512

#if defined(__AVX2__)

// DoubleRound16 on 8 lanes (AVX2).
struct DoubleRound8 {
  __m256i multiplier, left, right, mask, half, lo, hi;
};

inline DoubleRound8 double_round8(__m256i multiplier, __m256i shift, __m256i lo, __m256i hi) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i left = _mm256_max_epi32(shift, zero);
  const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), _mm256_set1_epi32(1));
  return DoubleRound8{multiplier, left, right, mask, _mm256_srli_epi32(mask, 1), lo, hi};
}
inline DoubleRound8 double_round8(int32_t multiplier, int32_t shift, int32_t lo, int32_t hi) {
  return double_round8(_mm256_set1_epi32(multiplier), _mm256_set1_epi32(shift), _mm256_set1_epi32(lo),
                       _mm256_set1_epi32(hi));
}

inline __m256i saturating_rounding_doubling_high_mul8(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t(1) << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  // as saturating_rounding_doubling_high_mul16: high == INT32_MIN only for INT32_MIN * INT32_MIN
  return _mm256_xor_si256(high, _mm256_cmpeq_epi32(high, _mm256_set1_epi32(INT32_MIN)));
}

inline __m256i rounding_divide_by_pot8(__m256i x, __m256i exponent, __m256i mask, __m256i half) {
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_sub_epi32(half, _mm256_srai_epi32(x, 31));
  const __m256i floor_q = _mm256_srav_epi32(x, exponent);
  return _mm256_sub_epi32(floor_q, _mm256_cmpgt_epi32(remainder, threshold));  // cmpgt: -1 where true
}

inline __m256i double_round_clamped8(__m256i x, const DoubleRound8& k) {
  const __m256i shifted = _mm256_sllv_epi32(x, k.left);
  const __m256i r =
      rounding_divide_by_pot8(saturating_rounding_doubling_high_mul8(shifted, k.multiplier), k.right, k.mask, k.half);
  return _mm256_min_epi32(_mm256_max_epi32(r, k.lo), k.hi);
}

#endif  // AVX2

FXSIM_NAMESPACE_END
