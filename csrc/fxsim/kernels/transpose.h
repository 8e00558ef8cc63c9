// A byte matrix transposed: dst[c * dst_stride + r] = src[r * src_stride + c] for r < rows, c < cols.
// SSE2 16 x 16 blocks where x86-64 has them (every x86-64 CPU does): four rounds of vpunpck{l,h}
// (bytes, words, dwords, qwords of row pairs), the textbook in-register transpose; the edges and
// other targets element by element.
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fxsim {

inline void transpose_bytes_scalar(const uint8_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint8_t* dst,
                                   int64_t dst_stride) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) dst[c * dst_stride + r] = src[r * src_stride + c];
  }
}

#if defined(__SSE2__)
// One 16 x 16 block.
inline void transpose_bytes_16x16(const uint8_t* src, int64_t src_stride, uint8_t* dst, int64_t dst_stride) {
  __m128i x[16], t[16];
  for (int i = 0; i < 16; ++i) x[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_stride));
  for (int i = 0; i < 8; ++i) {  // rows 2i, 2i + 1: columns 0..7 / 8..15, two bytes each
    t[2 * i] = _mm_unpacklo_epi8(x[2 * i], x[2 * i + 1]);
    t[2 * i + 1] = _mm_unpackhi_epi8(x[2 * i], x[2 * i + 1]);
  }
  for (int j = 0; j < 4; ++j) {  // rows 4j..4j + 3: columns 0..3, 4..7, 8..11, 12..15, four bytes each
    x[4 * j] = _mm_unpacklo_epi16(t[4 * j], t[4 * j + 2]);
    x[4 * j + 1] = _mm_unpackhi_epi16(t[4 * j], t[4 * j + 2]);
    x[4 * j + 2] = _mm_unpacklo_epi16(t[4 * j + 1], t[4 * j + 3]);
    x[4 * j + 3] = _mm_unpackhi_epi16(t[4 * j + 1], t[4 * j + 3]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 8h..8h + 7: columns 2i, 2i + 1, eight bytes each
    const __m128i* u = x + 8 * h;
    __m128i* v = t + 8 * h;
    for (int i = 0; i < 4; ++i) {
      v[2 * i] = _mm_unpacklo_epi32(u[i], u[i + 4]);
      v[2 * i + 1] = _mm_unpackhi_epi32(u[i], u[i + 4]);
    }
  }
  for (int i = 0; i < 8; ++i) {  // column 2i and 2i + 1: rows 0..15
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * i) * dst_stride), _mm_unpacklo_epi64(t[i], t[8 + i]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * i + 1) * dst_stride), _mm_unpackhi_epi64(t[i], t[8 + i]));
  }
}
#endif

inline void transpose_bytes(const uint8_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint8_t* dst,
                            int64_t dst_stride) {
  int64_t r0 = 0, c0 = 0;
#if defined(__SSE2__)
  for (; r0 + 16 <= rows; r0 += 16) {
    for (c0 = 0; c0 + 16 <= cols; c0 += 16) {
      transpose_bytes_16x16(src + r0 * src_stride + c0, src_stride, dst + c0 * dst_stride + r0, dst_stride);
    }
    // the last columns of these rows
    transpose_bytes_scalar(src + r0 * src_stride + c0, 16, cols - c0, src_stride, dst + c0 * dst_stride + r0,
                           dst_stride);
  }
#endif
  transpose_bytes_scalar(src + r0 * src_stride, rows - r0, cols, src_stride, dst + r0, dst_stride);  // the last rows
}

}  // namespace fxsim
