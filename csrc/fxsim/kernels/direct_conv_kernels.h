// The per-ISA (AVX2, AVX-512) inner loops of the direct 8-bit convolutions on the WRAP path: the depthwise kernel
// and the small-depth (first-layer) kernel of depthwise_conv2d.h (direct_conv_kernels.inc).
// Plain data only (no code, no std:: templates), so every ISA variant can include it.
#pragma once

#include <cstdint>

namespace fxsim {

// Output columns one unit computes: a run of up to kDirectConvUnit consecutive outputs of one
// output row (one zmm pair of int32 lanes).
constexpr int64_t kDirectConvUnit = 32;

// For m < rows, u < units, j < width[u] (1 <= width[u] <= kDirectConvUnit):
//   c[m * ldc + dst[u] + j] = sum_{p < pairs} w0(m, p) * b[src[u] + koff[2p] + j]
//                                             + w1(m, p) * b[src[u] + koff[2p + 1] + j]   (mod 2^32)
// with w0 / w1 the low / high int16 halves of wp[m * pairs + p] (the filter taps 2p and 2p + 1 of
// output channel m, the odd tail paired with a 0 weight). Reads b[src[u] + koff[k] + j] for every
// j < kDirectConvUnit (the caller sizes b for that), writes only j < width[u]. Every product of
// two int16 fits int32 and the sum is taken modulo 2^32 (uint32 arithmetic, or vpmaddwd /
// vpdpwssd pair sums, exact modulo 2^32: order-free), so every variant gives the same bits.
using DirectConvFn = void (*)(const int32_t* wp, int64_t pairs, int64_t rows, const int16_t* b, const int64_t* koff,
                              const int64_t* src, const int64_t* dst, const int32_t* width, int64_t units,
                              uint32_t* c, int64_t ldc);

// The same sums with the inputs of each tap pair already interleaved: b holds int32 elements
// whose low / high int16 halves are the inputs of taps 2p / 2p + 1, so tap pair p reads
// b[src[u] + koff[p] + j] (koff has `pairs` entries):
//   c[m * ldc + dst[u] + j] = sum_{p < pairs} w0(m, p) * lo16(b[src[u] + koff[p] + j])
//                                             + w1(m, p) * hi16(b[src[u] + koff[p] + j])   (mod 2^32)
// (the depthwise kernel pairs vertically adjacent taps this way: one interleaved copy of the
// plane serves every pair, and the loop needs no shuffle). Same reads, writes and exactness.
using DirectConvPairsFn = void (*)(const int32_t* wp, int64_t pairs, int64_t rows, const int32_t* b,
                                   const int64_t* koff, const int64_t* src, const int64_t* dst, const int32_t* width,
                                   int64_t units, uint32_t* c, int64_t ldc);

// The input side, per ISA so that it vectorizes: d[i] = src[i * step] - x_zp as int16
// (|v| <= 255), i < count ...
using WidenU8Fn = void (*)(const uint8_t* src, int64_t step, int64_t count, int32_t x_zp, int16_t* d);
using WidenS8Fn = void (*)(const int8_t* src, int64_t step, int64_t count, int32_t x_zp, int16_t* d);
// ... and d[i] = ((a[i * step] - x_zp) & lo_mask) | ((b[i * step] - x_zp) & hi_mask) << 16 as
// uint32 bits (a mask of 0 stands for a padding row, whose corrected value is 0).
using InterleaveU8Fn = void (*)(const uint8_t* a, const uint8_t* b, int64_t step, int64_t count, int32_t x_zp,
                                uint32_t lo_mask, uint32_t hi_mask, int32_t* d);
using InterleaveS8Fn = void (*)(const int8_t* a, const int8_t* b, int64_t step, int64_t count, int32_t x_zp,
                                uint32_t lo_mask, uint32_t hi_mask, int32_t* d);

// Depthwise with the u8 x s8 dot product (vpdpbusd: four u8 x s8 products and the int32
// accumulator summed modulo 2^32, no saturation; the avx512bw variant, without VNNI, runs its
// exact emulation, dot4_avx512.h), for one channel plane:
//   c[oy * ow + ox] = init + sum_{ky < kh, g < groups, q < 4} plane[(oy * stride_h + ky * dilation_h) * row_len
//                       + ox * stride_w + (4 * g + q) * dilation_w] * s8(wq[ky * groups + g], byte q)   (mod 2^32)
// for oy < oh, ox < ow: the filter row ky's taps in groups of four bytes (zero past KW). plane holds
// raw u8 codes (padding = the zero point), the caller folds -x_zp * sum(w) into init. Reads each
// row from its start up to ceil(ow / 32) * 32 * stride_w + 4 * groups * dilation_w + 64 bytes.
// Requires stride_w + dilation_w <= 5 (a 16-output window lies within one 128-bit lane) and
// (kDepthwiseU8S8Rows - 1) * stride_h + (kh - 1) * dilation_h < kDepthwiseU8S8Span (the input
// rows of a block of output rows).
constexpr int kDepthwiseU8S8Rows = 4;
constexpr int64_t kDepthwiseU8S8Span = 64;
struct DepthwiseU8Geometry {
  int64_t row_len, oh, ow, stride_h, stride_w, dilation_h, dilation_w, kh, groups;
};
using DepthwiseU8S8Fn = void (*)(const uint8_t* plane, const DepthwiseU8Geometry& g, const int32_t* wq,
                                 uint32_t init, uint32_t* c);

// DepthwiseU8S8Fn's sums for the common layers, register-blocked: stride 1 x 1, dilation_h 1,
// dilation_w <= 4, and kh 3 with one group of taps (kw <= 4) or kh 5 with two (kw 5 .. 8), oh >=
// kDepthwiseFastRows. Same plane, weights (wq[ky * groups + g]), start value and row reads
// (ceil(ow / 64) * 64 + 12 + 4 * (groups - 1) * dilation_w <= DepthwiseU8S8Fn's bound per row).
// A block is kDepthwiseFastRows output rows by 64 columns: each window of input bytes (one
// vpshufb of one unaligned load) feeds up to kh output rows, no permute (128-bit lane L of window
// X holds the outputs 16 L + 4 X + [0, 4): lane L of the load holds their inputs), and the block
// leaves the registers once, as the sums or, fused, as 8-bit codes through the requantization
// of DepthwiseFastOut (RegisterCodes). A last partial block of rows is taken as the last full
// one (rows recomputed, same values).
constexpr int kDepthwiseFastRows = 4;

// The requantization the direct u8 x s8 loops can apply in their registers, per output channel:
// one of RequantizePlan::register_loop's two forms (requantize.h), element for element.
// - float32 (double_round false): a code is
//     (int32)rne(min(max((float)sum * scale + add, lo), hi)) + zp
//   in float32 operations of the default environment (int -> float and the product round to
//   nearest even; no FMA), the add skipped when has_add is false (add == +0.0f: v + 0 differs
//   from v only for v = -0, which rounds to the same integer): the plan's bounded HALF_EVEN fp32
//   loop (Fp32Op in array_kernels.inc). lo, hi are integers, so rne is exact and vcvtps2dq's RNE
//   equals round_half_even_bounded.
// - double_round: a code is
//     clamp(multiply_by_quantized_multiplier_double_round(sum, multiplier, shift), ilo, ihi) + zp
//   (multiplier_simd.h's lanes, the plan's double_round_int32 loop).
// Under the caller's conditions for both: lo, hi (ilo, ihi) integers of int16 with |lo|, |hi| <=
// 2^14, zp and every code lo + zp .. hi + zp within the 8-bit type (int8 when codes_signed, else
// uint8), so no packing or narrowing step saturates.
struct RegisterCodes {
  bool codes_signed, double_round, has_add;
  float scale, add, lo, hi;
  int32_t multiplier, shift, ilo, ihi;
  int32_t zp;
};

// Where DepthwiseU8S8FastFn puts one channel's oh x ow outputs (row-major): the sums modulo 2^32
// (sums != null), else the 8-bit codes of `rq`.
struct DepthwiseFastOut {
  uint32_t* sums;
  void* codes;
  RegisterCodes rq;
};
using DepthwiseU8S8FastFn = void (*)(const uint8_t* plane, const DepthwiseU8Geometry& g, const int32_t* wq,
                                     uint32_t init, const DepthwiseFastOut& out);
// Narrow planes side by side (depthwise_u8s8_channels): DepthwiseU8S8FastFn's loop (stride 1) or
// depthwise_u8s8_fast_s2's (stride 2 x 2, dilation_w <= 3) on a plane whose 64 output columns hold
// up to 64 / lane_width channels (lane_width 8, 16 or 32 >= ow; 8 or 16 at stride 2), channel
// k's padded input column j
// at byte stride * lane_width * k + j of each row (neighbours may share padding bytes, which hold
// the same zero point). For k < channels, oy < oh, ox < ow:
//   out[k * channel_stride + oy * ow + ox] = init[k] + sum_{ky < kh, g < groups, q < 4}
//       plane[(stride * oy + ky) * row_len + stride * (lane_width * k + ox) + (4 * g + q) * dilation_w]
//       * s8(w[(ky * groups + g) * w_stride + k], byte q)   (mod 2^32)
// (w: FilterRows::words_by_channel from the plane's first channel on) as sums (out.sums) or as the
// 8-bit codes of channel k's RegisterCodes (out.codes, ChannelCodes: one form and one 8-bit
// type), written only there. Same filters as DepthwiseU8S8FastFn (kh 3, groups 1 or kh 5, groups
// 2; dilation_h 1), oh >= 4; reads each row up to byte 76 (stride 1) or 136 (stride 2) + 4 * (groups
// - 1) * dilation_w. Vectors of weights, start values and requantization constants replace the
// broadcasts, so one block of rows computes every channel of the plane: on MobileNetV2's 7 x 7
// planes 8 channels, where the one-channel loop fills 18 of its 64 columns with one.
struct DepthwiseChannelsGeometry {
  int64_t row_len, oh, ow, stride, lane_width, channels, dilation_w, kh, groups;
};
// RegisterCodes of consecutive channels as arrays (index k: the plane's channel k; only the
// form's: scale .. hi for float32, multiplier .. ihi for double_round), with the flags every
// channel shares (has_add: some channel's; the others' add is +0.0f, which changes no code).
struct ChannelCodes {
  const float *scale, *add, *lo, *hi;
  const int32_t *multiplier, *shift, *ilo, *ihi, *zp;
  bool codes_signed, double_round, has_add;
};
struct DepthwiseChannelsOut {
  uint32_t* sums;  // or null: the codes
  void* codes;
  ChannelCodes rq;
  int64_t channel_stride;
};
using DepthwiseU8S8ChannelsFn = void (*)(const uint8_t* plane, const DepthwiseChannelsGeometry& g, const int32_t* w,
                                         int64_t w_stride, const uint32_t* init, const DepthwiseChannelsOut& out);
// Its plane's rows: for r < rows, k < count (col0 + width <= lane; lane 8, 16 or 32)
//   dst[r * dst_stride + lane * k + col0 + i] = channels[k][r * width + i] ^ flip   (i < width)
// and the other bytes of dst[r * dst_stride + lane * k + [0, lane)] = pad; every other byte of
// dst as it was (the padding rows, the slots past count).
using FillChannelRowsFn = void (*)(const uint8_t* const* channels, int64_t count, int64_t rows, int64_t width,
                                   int64_t lane, int64_t col0, uint8_t flip, uint8_t pad, uint8_t* dst,
                                   int64_t dst_stride);

// The same for stride 2 x 2 (depthwise_u8s8_fast_s2): dilation_h 1, dilation_w <= 3, the same
// filters, oh >= 4; blocks of 4 rows x 64 columns, or 8 or 4 rows x 32 columns when ow <= 32
// (the codes of two such rows requantized as one 64-code vector, each row's 32 codes stored whole
// where they stay within the channel's oh x ow codes: the bytes past ow are rewritten by the
// rows after it). One vpshufb of one
// unaligned load per 16 outputs per input row, as at stride 1 (lane L of the window at byte
// 64 h + 8 x' holds outputs 32 h + 8 L + 4 x' + [0, 4)), and one vshufi32x4 per 16 outputs to
// the stride-1 window order before the same stores. Reads each input row up to byte
// 128 * ceil(ow / 64) + 8 + 4 * (groups - 1) * dilation_w (32-column blocks: 72 + the same).
constexpr int kDepthwiseS2Rows = 4;

// The small-depth conv with the u8 x s8 dot product (as DepthwiseU8S8Fn: vpdpbusd or its
// emulation), for output rows [oy0, oy1) of one image:
//   c[oc * ldc + (oy - oy0) * ow + ox] = init[oc] + sum_{ic, ky, g, q} planes[ic * plane_len
//       + (oy * stride_h + ky * dilation_h) * row_len + ox * stride_w + (4 * g + q) * dilation_w]
//       * s8(wq[oc * taps4 + (ic * kh + ky) * groups + g], byte q)   (mod 2^32)
// with taps4 = c_in * kh * groups <= kSmallDepthTaps4: DepthwiseU8S8Fn's windows, built once per
// 32 output columns and shared by every output channel. Same reads per row, same stride and
// dilation condition.
constexpr int64_t kSmallDepthTaps4 = 32;
struct SmallDepthU8Geometry {
  int64_t row_len, plane_len, ow, stride_h, stride_w, dilation_h, dilation_w, c_in, kh, groups, c_out;
};
using SmallDepthU8S8Fn = void (*)(const uint8_t* planes, const SmallDepthU8Geometry& g, const int32_t* wq,
                                  const uint32_t* init, int64_t oy0, int64_t oy1, uint32_t* c, int64_t ldc);
// Whether the float32 form may clamp the 8-bit codes in place of v: |scale| <= 0.5 and |add| <=
// 2^29 keep |v| = |sum * scale + add| <= 2^30 + 2^29 for every int32 sum, so vcvtps2dq gives
// round(v) itself (no out-of-range result). Then, with lo, hi integers, round(clamp(v, lo, hi)) =
// clamp(round(v), lo, hi) (rounding is monotone and keeps integers), and the saturations on the
// way to the codes (int32 -> int16, + zp in int16, int16 -> 8 bits) are clamps to ranges that hold
// [lo + zp, hi + zp] (RegisterCodes: lo, hi, zp within +-2^14, lo + zp .. hi + zp 8-bit codes), so
// one clamp of the codes to [lo + zp, hi + zp] after them gives clamp(round(v), lo, hi) + zp, the
// reference's code; with lo > hi both give hi + zp (max, then min). Two byte clamps per 64 codes in
// place of eight float ones: dw 3x3 144 @56 one thread 33.6 -> 30.7 us, 32 @112 27.9 -> 25.3.
inline bool fp32_clamp_in_codes(float scale, float add) {
  return scale >= -0.5f && scale <= 0.5f && add >= -536870912.0f && add <= 536870912.0f;
}
inline bool fp32_clamp_in_codes(const RegisterCodes& k) { return !k.double_round && fp32_clamp_in_codes(k.scale, k.add); }
// The output channels' RegisterCodes (rq[oc], oc < c_out) for SmallDepthU8S8CodesFn, with what
// its loop asks of them all found once per call (small_depth_requant; per band, the scan took
// ~2% of a first conv 3 -> 32 s2 @224): any_add, some channel's has_add; uniform, every channel
// float32 under fp32_clamp_in_codes with one zp, lo and hi (its codes packed 64 at a time over
// channels).
struct SmallDepthRequant {
  const RegisterCodes* rq;
  bool any_add, uniform;
};
inline SmallDepthRequant small_depth_requant(const RegisterCodes* rq, int64_t c_out) {
  SmallDepthRequant r{rq, false, true};
  for (int64_t oc = 0; oc < c_out; ++oc) {
    const RegisterCodes& k = rq[oc];
    r.any_add = r.any_add || k.has_add;
    r.uniform = r.uniform && fp32_clamp_in_codes(k) && k.zp == rq[0].zp && k.lo == rq[0].lo && k.hi == rq[0].hi;
  }
  return r;
}
// The same outputs as 8-bit codes through rq.rq[oc] (RegisterCodes), each 32-column run
// requantized in registers: codes[oc * ldc + (oy - oy0) * ow + ox].
using SmallDepthU8S8CodesFn = void (*)(const uint8_t* planes, const SmallDepthU8Geometry& g, const int32_t* wq,
                                       const uint32_t* init, int64_t oy0, int64_t oy1, const SmallDepthRequant& rq,
                                       uint8_t* codes, int64_t ldc);

// Copies rows codes: dst[r * dst_stride + i] = src[r * width + i] ^ flip for r < rows, i < width
// (flip 0x80 maps int8 codes to the u8 codes + 128 the u8 x s8 kernels read, 0 keeps u8 codes).
using CopyRowsU8Fn = void (*)(const uint8_t* src, int64_t rows, int64_t width, uint8_t flip, uint8_t* dst,
                              int64_t dst_stride);

// The input words of a 1x1 convolution with stride_w >= 2 and no padding, gathered from the
// strided columns (conv2d.cc's in-task interleave, the words of 4 input channels): for i < count
// and j = j0 + i, oy = j / ow, ox = j % ow,
//   dst[i] = (c0[o] | c1[o] << 8 | c2[o] << 16 | c3[o] << 24) ^ flip,  o = oy * row_step + ox * stride_w
// with c0..c3 = channels[0..3], for 1 <= stride_w <= 4 (conv2d.cc keeps a plain loop above).
// Reads only the bytes o (masked loads), so no byte past the last input column is touched.
using Interleave4StridedFn = void (*)(const uint8_t* const* channels, int64_t row_step, int64_t ow, int64_t stride_w,
                                      int64_t j0, int64_t count, uint32_t flip, uint32_t* dst);

struct DirectConvTable {
  const char* name;
  DirectConvFn direct_conv_u32;
  DirectConvPairsFn direct_conv_paired_u32;
  WidenU8Fn widen_u8;
  WidenS8Fn widen_s8;
  InterleaveU8Fn interleave_u8;
  InterleaveS8Fn interleave_s8;
  DepthwiseU8S8Fn depthwise_u8s8;
  DepthwiseU8S8FastFn depthwise_u8s8_fast;
  SmallDepthU8S8Fn small_depth_u8s8;
  SmallDepthU8S8CodesFn small_depth_u8s8_codes;
  CopyRowsU8Fn copy_rows_u8;
  Interleave4StridedFn interleave4_strided;
  DepthwiseU8S8FastFn depthwise_u8s8_fast_s2;
  DepthwiseU8S8ChannelsFn depthwise_u8s8_channels;  // null on avx2 (and the next)
  FillChannelRowsFn fill_channel_rows;
};

// The AVX-512 variants (direct_conv_kernels.inc) and the AVX2 one (direct_conv_kernels_avx2.cc,
// whose depthwise_u8s8 and interleave4_strided are null: callers check the entry they use):
// weak references, null where the translation unit compiled to nothing.
#if defined(__GNUC__)
const DirectConvTable* direct_conv_table_avx2() __attribute__((weak));
const DirectConvTable* direct_conv_table_avx512bw() __attribute__((weak));
const DirectConvTable* direct_conv_table_avx512vnni() __attribute__((weak));
#else
const DirectConvTable* direct_conv_table_avx2();
const DirectConvTable* direct_conv_table_avx512bw();
const DirectConvTable* direct_conv_table_avx512vnni();
#endif

// The variant matching active_isa() (dispatch.h), as active_gemm_kernels() picks the GEMM loop,
// or null when the active variant is the baseline (the direct kernels are then not used).
const DirectConvTable* active_direct_conv_kernels();

}  // namespace fxsim
