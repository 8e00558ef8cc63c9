// The per-ISA inner loop of the exact 8-bit conv / matmul WRAP path (gemm_kernels.inc).
// Plain data only (no code, no std:: templates), so every ISA variant can include it.
#pragma once

#include <cstdint>

namespace fxsim {

// Columns per tile of the dot4 kernels' second operand: a fixed layout constant (not per ISA),
// since packed weights made once must serve every variant set_isa may pick later.
constexpr int64_t kDot4TileCols = 64;

// dot4(p, q): the four byte products of two 32-bit words summed, p's bytes read as one type and
// q's as the other (u8 x s8): sum_{i < 4} byte_i(p) * byte_i(q), exact in int32 (|sum| <= 4 * 255 *
// 128). This is one int32 lane of x86 VPDPBUSD (Intel SDM: "multiply groups of 4 adjacent pairs of
// unsigned 8-bit integers in the first source with corresponding signed 8-bit integers in the
// second source, sum, and add to the doubleword accumulator" without saturation, i.e. modulo 2^32).
//
//   c[r * ldc + j] = sum_{g < groups} dot4(p[r * ldp + g], q[(j / 64) * q_tile + goff[g] + j % 64])
//                    (mod 2^32)
// for r < rows, j < cols: the rows of p are broadcast, the columns of q are the vector lanes, 64
// columns (kDot4TileCols) per tile with the next tile q_tile words further on (64 for a linear q,
// groups * 64 for the packed matmul weights). Sums are uint32 (two's-complement wrap, order-free),
// so every variant gives the same bits. c is overwritten.
// Dot4S8U8Fn: p holds s8 bytes (weights), q u8 bytes (activations); Dot4U8S8Fn the other way.
using Dot4Fn = void (*)(const uint32_t* p, int64_t ldp, const uint32_t* q, int64_t q_tile, const int64_t* goff,
                        int64_t rows, int64_t cols, int64_t groups, uint32_t* c, int64_t ldc);

// What a dot4 tile does with its finished sums in place of storing them: the zero-point
// correction, the bias and, optionally, a requantization, applied while the accumulators are
// still in registers (no uint32 tile written and read back, no per-row call). The output
// channel of element (r, j) is its column j (the matmul: rows are A's rows) or, with
// rows_are_channels, its row r (the conv: rows are output channels, columns output pixels).
// For row r < rows and column j < cols of the call (every pointer below already offset to the
// call's first row and column), with ch = rows_are_channels ? r : j:
//   acc = int32(sum[r][j] + channel_add[ch] - col_zp[j] * row_sum[r])  (mod 2^32; col_zp null:
//                                                                      no product, row_sum unread;
//                                                                      always null with
//                                                                      rows_are_channels)
// then, with c = ch when per_channel (else 0), one of RequantizePlan::register_loop's forms:
// - scale and multiplier null: out (int32) [r * ldo + j] = acc (acc_bits 32: the AccumulatorSink value);
// - scale set: the float32 form (array_kernels.inc Fp32Op<int32_t, float, HALF_EVEN, bounded>):
//     v = (float)acc * scale[c] + add[c]   (two float32 roundings, no fused multiply-add)
//     v = v > lo[c] ? v : lo[c];  v = v < hi[c] ? v : hi[c];
//     code = round_half_even_bounded(v) + zp[c]            (|lo|, |hi| <= 2^22: exact)
// - multiplier set: TFLite's double rounding (array_kernels.inc double_round_int32):
//     code = clamp(multiply_by_quantized_multiplier_double_round(acc, multiplier[c], shift[c]),
//                  lo32[c], hi32[c]) + zp[c]
// stored as the low out_bytes (1, 2 or 4) bytes of code at out + (r * ldo + j) * out_bytes (the
// code lies in [qmin, qmax] of the output type, so the truncation is the type's own value).
struct Dot4Epilogue {
  const uint32_t* channel_add = nullptr;
  const int32_t* col_zp = nullptr;
  const uint32_t* row_sum = nullptr;
  const float* scale = nullptr;
  const float* add = nullptr;
  const float* lo = nullptr;
  const float* hi = nullptr;
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  const int32_t* lo32 = nullptr;
  const int32_t* hi32 = nullptr;
  const int32_t* zp = nullptr;
  bool per_channel = false;        // one set of requantization constants per channel, else one
  bool rows_are_channels = false;  // the channel of (r, j) is r, else j
  int out_bytes = 4;
  bool out_signed = true;  // the output type is signed (int8 / int16 / int32)
  void* out = nullptr;
  int64_t ldo = 0;
  // The columns of a padded plane (in_row > 0; conv2d.cc, where a plane's GEMM runs over rows of
  // in_row columns of which the first out_row are outputs): column j is plane column
  // J = col_offset + j, stored at r * ldo + J / in_row * out_row + J % in_row when
  // J % in_row < out_row and not at all otherwise. in_row 0: column j is stored at r * ldo + j.
  int64_t in_row = 0, out_row = 0, col_offset = 0;
  // The float32 form with 8-bit codes where every channel meets the direct loops'
  // RegisterCodes limits and fp32_clamp_in_codes (direct_conv2d.h epilogue_clamps_in_codes):
  // each row's codes are then round(v) unclamped, packed with saturation and clamped as bytes
  // (simd_codes.h codes_clamped_in_lane_order), the same codes in fewer operations; with the
  // columns as channels (the matmul) each tile's constants are in the packs' lane order.
  // has_add false: every add is +0.0f, which changes no v and is skipped.
  bool codes_clamp = false;
  bool has_add = true;
};

// The output position of plane column J of a Dot4Epilogue with in_row > 0 (see there), or -1
// when the column is dropped.
inline int64_t epilogue_plane_position(const Dot4Epilogue& e, int64_t J) {
  const int64_t row = J / e.in_row, col = J % e.in_row;
  return col < e.out_row ? row * e.out_row + col : -1;
}

// dot4 u8 x s8 (p unsigned bytes, q signed, as Dot4Fn) with the sums finished by `e` instead of
// written to a c array. p is bytes here: word g of row r is the 4 bytes at 4 (r * ldp + g), read
// little-endian (any alignment), so the matmul can pass u8 activations with K % 4 == 0 as they are.
using Dot4EpilogueFn = void (*)(const uint8_t* p, int64_t ldp, const uint32_t* q, int64_t q_tile,
                                const int64_t* goff, int64_t rows, int64_t cols, int64_t groups,
                                const Dot4Epilogue& e);

// dst[i] = (r0[i] | r1[i] << 8 | r2[i] << 16 | r3[i] << 24) ^ flip for i < count: four rows of
// bytes interleaved into the words the dot4 kernels read (byte b of word i from row b).
using Interleave4Fn = void (*)(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, const uint8_t* r3,
                               int64_t count, uint32_t flip, uint32_t* dst);

// The int16-pair form of the same sums, for the variants without VNNI: a pair word holds two
// int16 values (low half first), and
//   c[r * ldc + j] = sum_{t < steps} pair(p[r * ldp + t], q[(j / 64) * q_tile + goff[t] + j % 64])
//                    (mod 2^32),  pair(u, v) = lo16(u) * lo16(v) + hi16(u) * hi16(v)
// one int32 lane of VPMADDWD (Intel SDM: "multiply the packed signed word integers ... add the
// adjacent doubleword results"), exact: the values are 8-bit codes widened (u8 zero-extended,
// s8 sign-extended), so |pair| <= 2 * 255 * 128. A dot4 word splits into the two pair words of its
// bytes (0, 1) and (2, 3), so the pair sums over 2 * groups steps are the dot4 sums, bit for bit.
// Without VNNI one vpmaddwd per 32 products on words widened once (packed weights at pack time,
// activations once per call) replaces the in-loop widening of both operands of the dot4 form
// (the non-VNNI AVX-512BW inner loop of a 128 x 768 x 768 product: ~84 -> ~100 GMAC/s).
// Dot2Fn: p and q pair words.
using Dot2Fn = void (*)(const uint32_t* p, int64_t ldp, const uint32_t* q, int64_t q_tile, const int64_t* goff,
                        int64_t rows, int64_t cols, int64_t steps, uint32_t* c, int64_t ldc);
// Dot4Fn's or Dot2Fn's sums (p words of either form) finished by a Dot4Epilogue instead of
// written to a c array.
using WordsEpilogueFn = void (*)(const uint32_t* p, int64_t ldp, const uint32_t* q, int64_t q_tile,
                                 const int64_t* goff, int64_t rows, int64_t cols, int64_t steps,
                                 const Dot4Epilogue& e);
// The q operand of a conv's dot4 GEMM read from its input's rows of bytes rather than from
// interleaved words: channel c's bytes at x + c * channel_stride, GEMM column j at byte j of each
// (a 1x1 conv at stride 1 without padding, x at the first column's byte). Word j of group g is
// Interleave4Fn's: bytes j of channels 4 g .. 4 g + 3, each real channel's byte ^ flip (0x80:
// s8 codes read as x + 128), a channel past `channels` 0. The kernel interleaves each 64-column
// tile's words inside the tile's first register tile (its loads then overlap that tile's
// multiply-adds) into `panel` (groups * 64 words, word j of group g at panel_goff[g] + j), which
// the tile's other register tiles read back.
struct Dot4ByteRows {
  const uint8_t* x = nullptr;
  int64_t channel_stride = 0;
  int64_t channels = 0;
  uint8_t flip = 0;
  uint32_t* panel = nullptr;
  const int64_t* panel_goff = nullptr;
};
// WordsEpilogueFn's sums with q as Dot4ByteRows (dot4 words of p).
using RowsEpilogueFn = void (*)(const uint32_t* p, int64_t ldp, const Dot4ByteRows& q, int64_t rows, int64_t cols,
                                int64_t groups, const Dot4Epilogue& e);
// dst[i] = (lo[i] ^ flip) | (hi[i] ^ flip) << 16, i < count: two rows of u8 bytes as pair words.
using InterleavePairsFn = void (*)(const uint8_t* lo, const uint8_t* hi, int64_t count, uint8_t flip, uint32_t* dst);

struct GemmTable {
  const char* name;
  Dot4Fn dot4_s8u8;  // p signed bytes, q unsigned bytes
  Dot4Fn dot4_u8s8;  // p unsigned bytes, q signed bytes
  Interleave4Fn interleave4;
  Dot4EpilogueFn dot4_u8s8_epilogue;  // the matmul's tiles, finished in registers
  WordsEpilogueFn dot4_s8u8_epilogue;  // the conv's tiles (rows_are_channels), finished in registers
  // The int16-pair kernels where they are this variant's faster form (AVX-512BW without VNNI,
  // AVX2), else null: the callers then take the dot4 kernels.
  Dot2Fn dot2_pairs;
  WordsEpilogueFn dot2_pairs_epilogue;
  InterleavePairsFn interleave_pairs;
  // The conv tiles with q read from the input's rows of bytes (Dot4ByteRows), else null.
  RowsEpilogueFn dot4_s8u8_rows_epilogue;
};

const GemmTable* gemm_table_baseline();
#if defined(__GNUC__)
const GemmTable* gemm_table_avx2() __attribute__((weak));
const GemmTable* gemm_table_avx512bw() __attribute__((weak));
const GemmTable* gemm_table_avx512vnni() __attribute__((weak));
#else
const GemmTable* gemm_table_avx2();
const GemmTable* gemm_table_avx512bw();
const GemmTable* gemm_table_avx512vnni();
#endif

// The variant matching active_isa() (dispatch.h): one choice for both kernel families.
const GemmTable& active_gemm_kernels();

}  // namespace fxsim
