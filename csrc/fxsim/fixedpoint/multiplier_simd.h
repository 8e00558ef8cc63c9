// TFLite's double-rounding MultiplyByQuantizedMultiplier on vectors of int32 lanes: 16 lanes
// with AVX-512 F/BW (suffix 16), 8 lanes with AVX2 (suffix 8). Each function equals, lane for
// lane and bit for bit, the scalar definition in multiplier.h (nocheck::
// saturating_rounding_doubling_high_mul, rounding_divide_by_pot, shift_left_wrapping_int32,
// multiply_by_quantized_multiplier_double_round): fxsim's semantics are the definition, so the
// left shift wraps modulo 2^32 as shift_left_wrapping_int32 states (TFLite's `x * (1 << s)` is an
// int32 multiply whose overflow C++ leaves undefined). test_core.cc compares every ISA variant
// with the baseline's scalar loop.
//
// The AVX2 lanes use the usual vector forms of gemmlowp's two primitives (the AVX-512 lanes fold
// both roundings into one, see below):
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

// With AVX-512's 64-bit arithmetic shifts and compares the two roundings are done at once, in
// the int64 product: gemmlowp's SRDHM is s = floor((p + 2^30) / 2^31) for p = a * M, and
// RDBPOT(s, e) = floor((s + 2^(e-1) - [s < 0]) / 2^e) for e >= 1 (ties away from zero; for e = 0
// it is s). Nested floors of integers fold, floor((floor(y / 2^31) + c) / 2^e) = floor((y + c 2^31)
// / 2^(31+e)), and [s < 0] = [p < -2^30], so
//   RDBPOT(SRDHM(a, M), e) = (p + 2^30 + 2^(30+e) - [p < -2^30] 2^31) >> (31 + e)    (e >= 1)
//                          = (p + 2^30) >> 31                                       (e == 0)
// in int64 (|p| <= 2^62: no overflow). This is TOSA's apply_scale_32 with double_round (its
// rounding constant moved by 2^30 toward the sign, scale_helpers.tosac), with the sign taken from
// p + 2^30 as gemmlowp's intermediate has it. SRDHM's saturation: for e >= 1 the unsaturated
// 2^31 and the saturated 2^31 - 1 give the same 2^(31-e) (ties away from zero), so only e == 0
// needs it, where the fold gives 2^31, whose low 32 bits INT32_MIN no other product gives (the
// least is -2^62 + 2^31, giving -2^31 + 1): that lane becomes INT32_MAX.
// Per 16 lanes: the int64 products of the even lanes and of the odd lanes (vpmuldq, the odd ones
// shifted down first), the nudge and sign correction and the shift on each, and one vpermt2d
// taking the low 32 bits of both halves back into lane order.

// The constants of one double-round requantization for 16 lanes: the left shift max(shift, 0),
// the multiplier as vpmuldq reads it for the even lanes and for the odd lanes, and per 64-bit
// half the nudge 2^30 + 2^(30+e), the sign correction 2^31 (0 when e = 0) and the shift 31 + e,
// e = max(-shift, 0); the clamp [lo, hi] = [qmin - zp, qmax - zp] (int32: the callers take this
// form only when both fit). has_left / saturate: some lane shifts left / has M == INT32_MIN
// (else those steps are skipped).
struct DoubleRound16 {
  __m512i left, m_even, m_odd, nudge_even, nudge_odd, sign_even, sign_odd, count_even, count_odd, lo, hi;
  bool has_left, saturate;
};

// The per-64-bit-half constants of right shifts e (int64 lanes holding 0..31).
FXSIM_ALWAYS_INLINE void double_round16_half(__m512i e, __m512i* nudge, __m512i* sign, __m512i* count) {
  const __mmask8 right = _mm512_cmpgt_epi64_mask(e, _mm512_setzero_si512());
  const __m512i base = _mm512_set1_epi64(int64_t(1) << 30);
  *nudge = _mm512_mask_add_epi64(base, right, base, _mm512_sllv_epi64(base, e));
  *sign = _mm512_maskz_mov_epi64(right, _mm512_set1_epi64(int64_t(1) << 31));
  *count = _mm512_add_epi64(e, _mm512_set1_epi64(31));
}

// From per-lane multiplier, shift ([-31, 31]), lo, hi vectors.
inline DoubleRound16 double_round16(__m512i multiplier, __m512i shift, __m512i lo, __m512i hi) {
  const __m512i zero = _mm512_setzero_si512();
  DoubleRound16 k;
  k.left = _mm512_max_epi32(shift, zero);
  const __m512i e = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  double_round16_half(_mm512_and_si512(e, _mm512_set1_epi64(0xFFFFFFFF)), &k.nudge_even, &k.sign_even, &k.count_even);
  double_round16_half(_mm512_srli_epi64(e, 32), &k.nudge_odd, &k.sign_odd, &k.count_odd);
  k.m_even = multiplier;
  k.m_odd = _mm512_srli_epi64(multiplier, 32);
  k.lo = lo, k.hi = hi;
  k.has_left = _mm512_cmpgt_epi32_mask(k.left, zero) != 0;
  k.saturate = _mm512_cmpeq_epi32_mask(multiplier, _mm512_set1_epi32(INT32_MIN)) != 0;
  return k;
}
// One channel's constants in every lane: the same values, computed once in scalars and
// broadcast (a fused kernel builds these per channel; a broadcast multiplier is its own odd copy).
inline DoubleRound16 double_round16(int32_t multiplier, int32_t shift, int32_t lo, int32_t hi) {
  const int e = shift < 0 ? -shift : 0;
  const __m512i nudge = _mm512_set1_epi64((int64_t(1) << 30) + (e > 0 ? int64_t(1) << (30 + e) : 0));
  const __m512i sign = _mm512_set1_epi64(e > 0 ? int64_t(1) << 31 : 0);
  const __m512i count = _mm512_set1_epi64(31 + e);
  const __m512i m = _mm512_set1_epi32(multiplier);
  return DoubleRound16{_mm512_set1_epi32(shift > 0 ? shift : 0), m, m, nudge, nudge, sign, sign, count, count,
                       _mm512_set1_epi32(lo), _mm512_set1_epi32(hi), shift > 0, multiplier == INT32_MIN};
}

// One 64-bit half: (p + nudge - [p < -2^30] sign) >> count, p the int64 products.
FXSIM_ALWAYS_INLINE __m512i double_round16_fold(__m512i p, __m512i nudge, __m512i sign, __m512i count) {
  const __mmask8 below = _mm512_cmplt_epi64_mask(p, _mm512_set1_epi64(-(int64_t(1) << 30)));
  const __m512i q = _mm512_add_epi64(p, nudge);
  return _mm512_srav_epi64(_mm512_mask_sub_epi64(q, below, q, sign), count);
}

// nocheck::multiply_by_quantized_multiplier_double_round(x, M, shift) on 16 lanes.
FXSIM_ALWAYS_INLINE __m512i multiply_by_quantized_multiplier_double_round16(__m512i x, const DoubleRound16& k) {
  const __m512i a = k.has_left ? _mm512_sllv_epi32(x, k.left) : x;  // wraps modulo 2^32 (shift_left_wrapping_int32)
  const __m512i even = double_round16_fold(_mm512_mul_epi32(a, k.m_even), k.nudge_even, k.sign_even, k.count_even);
  const __m512i odd =
      double_round16_fold(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), k.m_odd), k.nudge_odd, k.sign_odd, k.count_odd);
  const __m512i order = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
  const __m512i r = _mm512_permutex2var_epi32(even, order, odd);  // the low 32 bits of each half, in lane order
  if (!k.saturate) return r;
  return _mm512_mask_xor_epi32(r, _mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(INT32_MIN)), r, _mm512_set1_epi32(-1));
}

// clamp(nocheck::multiply_by_quantized_multiplier_double_round(x, M, shift), lo, hi): the code
// minus the zero point, which the caller adds (or packs, then adds).
FXSIM_ALWAYS_INLINE __m512i double_round_clamped16(__m512i x, const DoubleRound16& k) {
  return _mm512_min_epi32(_mm512_max_epi32(multiply_by_quantized_multiplier_double_round16(x, k), k.lo), k.hi);
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

FXSIM_ALWAYS_INLINE __m256i saturating_rounding_doubling_high_mul8(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t(1) << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  // as saturating_rounding_doubling_high_mul16: high == INT32_MIN only for INT32_MIN * INT32_MIN
  return _mm256_xor_si256(high, _mm256_cmpeq_epi32(high, _mm256_set1_epi32(INT32_MIN)));
}

FXSIM_ALWAYS_INLINE __m256i rounding_divide_by_pot8(__m256i x, __m256i exponent, __m256i mask, __m256i half) {
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_sub_epi32(half, _mm256_srai_epi32(x, 31));
  const __m256i floor_q = _mm256_srav_epi32(x, exponent);
  return _mm256_sub_epi32(floor_q, _mm256_cmpgt_epi32(remainder, threshold));  // cmpgt: -1 where true
}

FXSIM_ALWAYS_INLINE __m256i double_round_clamped8(__m256i x, const DoubleRound8& k) {
  const __m256i shifted = _mm256_sllv_epi32(x, k.left);
  const __m256i r =
      rounding_divide_by_pot8(saturating_rounding_doubling_high_mul8(shifted, k.multiplier), k.right, k.mask, k.half);
  return _mm256_min_epi32(_mm256_max_epi32(r, k.lo), k.hi);
}

#endif  // AVX2

FXSIM_NAMESPACE_END
