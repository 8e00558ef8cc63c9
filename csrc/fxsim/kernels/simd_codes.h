// Integer codes to and from int32 SIMD lanes, shared by the array, GEMM and direct-conv kernels
// of each ISA translation unit (AVX-512BW; nothing in the other variants).
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
  if constexpr (sizeof(In) == 2) return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(m, src));
  if constexpr (sizeof(In) == 1 && static_cast<In>(-1) < 0) return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, src));
  return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, src));
}

// The low byte (store_low_bytes16) or two bytes (store_low_words16) of the lanes of v in m stored
// at dst, lane i at byte i (2i): the scalar casts' values. Narrowed in a register (vpmovdb /
// vpmovdw) and stored with a plain store when every lane is in m, a masked one otherwise: the
// masked vpmovdb with a memory destination kept TFLite's mul rows at ~11 cycles per 16 codes on
// the AMD EPYC machines here (40% of the row's samples on the store), against ~5 this way.
FXSIM_ALWAYS_INLINE void store_low_bytes16(void* dst, __mmask16 m, __m512i v) {
  const __m128i b = _mm512_cvtepi32_epi8(v);
  if (m == 0xFFFF) {
    _mm_storeu_si128(static_cast<__m128i*>(dst), b);
  } else {
    _mm_mask_storeu_epi8(dst, m, b);
  }
}
FXSIM_ALWAYS_INLINE void store_low_words16(void* dst, __mmask16 m, __m512i v) {
  const __m256i w = _mm512_cvtepi32_epi16(v);
  if (m == 0xFFFF) {
    _mm256_storeu_si256(static_cast<__m256i*>(dst), w);
  } else {
    _mm256_mask_storeu_epi16(dst, m, w);
  }
}

#endif  // AVX-512BW

FXSIM_NAMESPACE_END
