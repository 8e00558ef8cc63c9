// Integer codes widened to int32 SIMD lanes, shared by the array and direct-conv kernels of each
// ISA translation unit (AVX-512BW; nothing in the other variants).
#pragma once

#include <cstdint>

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#endif

#include "fxsim/isa.h"

FXSIM_NAMESPACE_BEGIN

#if defined(__AVX512F__) && defined(__AVX512BW__)

// The 16 codes of type In (int8, uint8, int16) at src, the lanes outside m read as 0, widened to
// int32 lanes (vpmovsxbd / vpmovzxbd / vpmovsxwd).
template <typename In>
FXSIM_ALWAYS_INLINE __m512i load_codes16(const In* src, __mmask16 m) {
  static_assert(sizeof(In) <= 2, "8- and 16-bit codes");
  if constexpr (sizeof(In) == 2) {
    return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, src));
  } else if constexpr (static_cast<In>(-1) < 0) {
    return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, src));
  } else {
    return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, src));
  }
}

// The 16 dwords of v as a 4 x 4 matrix, transposed: dword 4 i + j of the result is dword 4 j + i
// of v (one vpermd). After the in-lane packs of four vectors (vpackssdw of s0, s1 and of s2, s3,
// then vpack{s,u}swb) dword 4 L + j holds source j's elements 4 L .. 4 L + 3: the transpose puts
// each source's 16 elements together (source j at dwords 4 j .. 4 j + 3). Before the in-lane
// unpacks of four rows it places the rows' dwords so that the unpacked words come out in order.
FXSIM_ALWAYS_INLINE __m512i transpose_dwords4x4(__m512i v) {
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), v);
}

// The 8-bit codes of four vectors of unclamped round(v) (r0..r3, int32 lanes) in the lane order
// of the in-lane packs (dword 4 L + j holds source j's elements 4 L .. 4 L + 3; transpose_dwords4x4
// puts them in order): vpackssdw, + zp in int16 with saturation (zp16_01: the zp of r0's and r1's
// lanes in the int16 order of vpackssdw(r0, r1), zp16_23 those of r2, r3; zp in each int16 where
// every lane has one zero point), then vpacksswb (codes_signed) or vpackuswb, then the clamp of
// the codes to [code_lo, code_hi] (bytes in the same lane order; no clamp where `clamp` is false,
// i.e. that range is every lane's whole 8-bit type: the last saturation is that clamp). Every step is a clamp to a range holding [lo + zp, hi + zp], so
// under fp32_clamp_in_codes (direct_conv_kernels.h) the codes are clamp(round(v), lo, hi) + zp.
FXSIM_ALWAYS_INLINE __m512i codes_clamped_in_lane_order(__m512i r0, __m512i r1, __m512i r2, __m512i r3,
                                                        __m512i zp16_01, __m512i zp16_23, __m512i code_lo,
                                                        __m512i code_hi, bool codes_signed, bool clamp) {
  const __m512i lo = _mm512_adds_epi16(_mm512_packs_epi32(r0, r1), zp16_01);
  const __m512i hi = _mm512_adds_epi16(_mm512_packs_epi32(r2, r3), zp16_23);
  if (codes_signed) {
    const __m512i v = _mm512_packs_epi16(lo, hi);
    return clamp ? _mm512_min_epi8(_mm512_max_epi8(v, code_lo), code_hi) : v;
  }
  const __m512i v = _mm512_packus_epi16(lo, hi);
  return clamp ? _mm512_min_epu8(_mm512_max_epu8(v, code_lo), code_hi) : v;
}

#endif  // AVX-512BW

FXSIM_NAMESPACE_END
