// The u8 x s8 dot product of four bytes per int32 lane (x86 vpdpbusd) shared by the AVX-512
// inner loops (gemm_kernels.inc, direct_conv_kernels.inc), on both AVX-512 variants:
//   dpbusd(acc, x, w)[i] = acc[i] + sum_{q < 4} u8(x[i], byte q) * s8(w[i], byte q)   (mod 2^32)
// (Intel SDM VPDPBUSD, the non-saturating form; vpdpbusds would saturate). Each product has
// |p| <= 255 * 128, so the sum is exact modulo 2^32 in any order and every variant gives the
// same bits.
//   AVX512_VNNI: the instruction itself.
//   AVX-512BW:   its exact emulation: the even bytes (b0, b2) and the odd bytes (b1, b3) of each
//                lane widened to int16 lanes (u8 zero-extended, s8 sign-extended), one vpmaddwd
//                per half (b0 * c0 + b2 * c2: |pair sum| <= 2 * 255 * 128 < 2^17, exact in int32)
//                and two vpaddd. Operands that are reused (a filter's weights, a window of input
//                bytes read by several output rows) are split once, as U8Operand / S8Operand.
// Included inside a per-ISA translation unit (FXSIM_ISA defined first, see fxsim/isa.h): every
// function lives in that ISA's namespace.
#pragma once

#if !defined(__AVX512BW__)
#error "dot4_avx512.h: AVX-512BW translation units only"
#endif
#include <immintrin.h>

#include <cstdint>

#include "fxsim/isa.h"

FXSIM_NAMESPACE_BEGIN

// The even and odd bytes of each 32-bit lane, widened to int16 lanes: (b0, b2) and (b1, b3).
struct Halves {
  __m512i even, odd;
};
template <bool U8>
inline Halves halves(__m512i v) {
  if (U8) return Halves{_mm512_and_si512(v, _mm512_set1_epi16(0x00FF)), _mm512_srli_epi16(v, 8)};
  return Halves{_mm512_srai_epi16(_mm512_slli_epi16(v, 8), 8), _mm512_srai_epi16(v, 8)};
}
// acc + v modulo 2^32 (vpaddd), written out with the accumulator as an in-out register operand
// as dpbusd below: through _mm512_add_epi32 gcc 12 computed each sum of an unrolled loop in a
// scratch register and copied it back to the accumulator's (one vmovdqa64 per step).
inline __m512i add_into(__m512i acc, __m512i v) {
  __asm__("vpaddd %1, %0, %0" : "+v"(acc) : "v"(v));
  return acc;
}
// b0*c0 + b2*c2 (one vpmaddwd) plus b1*c1 + b3*c3: dot4 exactly (|each pair sum| < 2^17),
// added to acc modulo 2^32.
inline __m512i dot4_halves(__m512i acc, const Halves& a, const Halves& b) {
  return add_into(acc, _mm512_add_epi32(_mm512_madd_epi16(a.even, b.even), _mm512_madd_epi16(a.odd, b.odd)));
}

// The int16 halves of one word of four s8 bytes, as the words broadcast into Halves: low / high
// int16 = the sign-extended bytes 0 / 2 (even) or 1 / 3 (odd) of w. Scalar, so a weight word
// read from memory becomes two broadcasts without vector shifts.
inline int32_t s8_even_word(uint32_t w) {
  const int32_t b0 = static_cast<int32_t>((w & 0xFFu) ^ 0x80u) - 128, b2 = static_cast<int32_t>((w >> 16 & 0xFFu) ^ 0x80u) - 128;
  const uint32_t lo = static_cast<uint16_t>(b0), hi = static_cast<uint16_t>(b2);  // modulo 2^16
  return static_cast<int32_t>(lo | hi << 16);  // modular conversion (gcc; C++20)
}
inline int32_t s8_odd_word(uint32_t w) { return s8_even_word(w >> 8); }

#if defined(__AVX512VNNI__)
using U8Operand = __m512i;
using S8Operand = __m512i;
inline U8Operand u8_operand(__m512i x) { return x; }
inline S8Operand s8_operand(__m512i w) { return w; }
// The s8 word w in every lane.
inline S8Operand s8_broadcast(int32_t w) { return _mm512_set1_epi32(w); }
// The instruction written out (AT&T order: s8 operand, u8 operand, accumulator) with the
// accumulator as an in-out register operand: through the _mm512_dpbusd_epi32 builtin gcc copied
// every accumulator of a loop to a scratch register and back on each step (measured: ~2x slower
// GEMM tiles, ~25% slower small-depth tap loop).
inline __m512i dpbusd(__m512i acc, U8Operand x, S8Operand w) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
  return acc;
}
#else
using U8Operand = Halves;
using S8Operand = Halves;
inline U8Operand u8_operand(__m512i x) { return halves<true>(x); }
inline S8Operand s8_operand(__m512i w) { return halves<false>(w); }
inline S8Operand s8_broadcast(int32_t w) {
  const uint32_t u = static_cast<uint32_t>(w);
  return Halves{_mm512_set1_epi32(s8_even_word(u)), _mm512_set1_epi32(s8_odd_word(u))};
}
inline __m512i dpbusd(__m512i acc, const U8Operand& x, const S8Operand& w) { return dot4_halves(acc, x, w); }
#endif

FXSIM_NAMESPACE_END
