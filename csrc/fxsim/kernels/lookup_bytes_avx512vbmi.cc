// The 256-byte table lookup (KernelTable::lookup_bytes) with AVX-512 VBMI's byte permutes
// (setup.py adds the flags of *_avx512vbmi.cc). dispatch.cc puts it in the avx512vnni table when
// the CPU also reports AVX512_VBMI (Ice Lake and later, Zen 4 and later; Cascade Lake has VNNI
// without it and keeps the avx512bw lookup).
//
// vpermi2b picks, for each byte of the index, entry idx & 127 of a 128-byte table held in two
// registers: two of them cover the table's halves, and the index's top bit (vpmovb2m) chooses
// between their results. 4 instructions per 64 bytes, against the avx512bw form's 16 masked
// vpshufb and 16 compares (MobileNetV3's hard-swish of 16 x 112 x 112 codes: ~20 us).
#if defined(__x86_64__) && defined(__AVX512BW__) && defined(__AVX512VBMI__)
#define FXSIM_ISA avx512vbmi
#include <immintrin.h>

#include <cstdint>

#include "fxsim/kernels/dispatch.h"

namespace fxsim {

void lookup_bytes_avx512vbmi(const uint8_t* table, int64_t count, const uint8_t* in, uint8_t flip, uint8_t* out) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  const __m512i f = _mm512_set1_epi8(static_cast<char>(flip));
  for (int64_t i = 0; i < count; i += 64) {
    const __mmask64 m = count - i >= 64 ? ~__mmask64(0) : (__mmask64(1) << (count - i)) - 1;
    const __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, in + i), f);
    const __m512i low_half = _mm512_permutex2var_epi8(t0, v, t1);   // entries 0..127 by v & 127
    const __m512i high_half = _mm512_permutex2var_epi8(t2, v, t3);  // entries 128..255 by v & 127
    _mm512_mask_storeu_epi8(out + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), low_half, high_half));
  }
}

}  // namespace fxsim
#endif
