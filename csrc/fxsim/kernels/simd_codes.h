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

#endif  // AVX-512BW

FXSIM_NAMESPACE_END
