// Constant 8-bit weights packed once for the exact WRAP path of conv2d / matmul (the dot4
// kernels, gemm_kernels.h), with the per-channel sums that restore the zero points.
//
// The kernels multiply RAW codes, u8 activations by s8 weights (x86 vpdpbusd), and the zero
// points come back exactly through the offset formula of gemmlowp (doc/low-precision.md,
// "Efficient handling of offsets") and FBGEMM (row_offsets / col_offsets in OutputProcessing):
//   sum_k (x_k - x_zp)(w_k - w_zp) = sum_k x_k w_k - w_zp sum_k x_k - x_zp sum_k w_k + K x_zp w_zp,
// an identity of integers, so it holds modulo 2^32 too: the WRAP-32 result is bit-identical to
// the definition's. Codes of the other signedness are moved into range first, which changes
// both the code and its zero point by the same amount (the differences stay the same):
// s8 activations x + 128 with zero point x_zp + 128; u8 weights w - 128 with zero point w_zp - 128.
//
// Conv layout (PackedConvWeights): each output channel's row of words, one word per (ky, kx,
// group of 4 input channels) in that order: word (ky * KW + kx) * cq + q holds the weights of
// input channels 4q..4q+3 at (ky, kx) as s8 bytes, channels past C_in / groups as 0 (the
// activations are laid out the same way, so a word of each is one vpdpbusd lane).
// MatMul layout (PackedMatMulWeights): B [K, N] in tiles of 64 columns (kDot4TileCols): word
// (t * groups4 + g) * 64 + j holds B[4g..4g+3][64t + j] as s8 bytes; rows past K and columns
// past N are 0.
// Both layouts also give their words as int16 pairs (gemm_kernels.h Dot2Fn), what the variants
// without VNNI multiply: twice the words' size, made on first use (a process that only runs the
// VNNI variant never holds them).
// The original codes are kept, for every policy other than the fast WRAP path.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace fxsim {

// The zero-point data both layouts share.
struct PackedOffsets {
  bool w_unsigned = false;          // the codes are uint8 (packed as w - 128)
  std::vector<int32_t> zero_point;  // as given: 1 or channels values, in the codes' own domain
  std::vector<uint32_t> sum;        // per channel: sum over real k of the packed s8 values, mod 2^32
  std::vector<int32_t> zp_packed;   // per channel: the zero point in the packed domain (zp - 128 for u8)
  bool any_zp = false;              // some zp_packed != 0: the activations' sums are needed

  // The per-channel constant of the offset formula, mod 2^32, for activations whose zero point is
  // x_zp_packed in the u8 domain: depth * x_zp * w_zp - x_zp * sum_k w_k.
  uint32_t constant(int64_t channel, int64_t depth, int32_t x_zp_packed) const {
    const uint32_t xz = static_cast<uint32_t>(x_zp_packed), wz = static_cast<uint32_t>(zp_packed[channel]);
    return static_cast<uint32_t>(depth) * xz * wz - xz * sum[channel];
  }
};

// The int16-pair words of a layout (word i's bytes (0, 1) and (2, 3) as two pair words,
// sign-extended), made once on first use by any thread and shared by copies of the weights.
struct PairWords {
  std::once_flag made;
  std::vector<uint32_t> words;  // the layout's words as pairs
  std::vector<uint32_t> ones;   // conv: `ones` as pairs (zero-extended: the same values)
};

// The direct kernels' filter rows (direct_conv2d.cc: the u8 x s8 depthwise and small-depth
// loops): row (oc, ic, ky) as ceil(KW / 4) words of 4 taps kx, each the int8 byte of w - w_zp
// (kx past KW: 0), and each output channel's sum of w - w_zp. fits false (nothing else set): some
// w - w_zp is outside int8, which those loops do not take.
struct FilterRows {
  bool fits = false;
  std::vector<int32_t> words;  // [c_out][cig * kh][ceil(kw / 4)]
  // words transposed, [cig * kh * ceil(kw / 4)][c_out]: one word of every channel side by side, as
  // the depthwise loop over channels side by side loads them (depthwise_u8s8_channels)
  std::vector<int32_t> words_by_channel;
  std::vector<int64_t> sum;    // [c_out]
};
struct FilterRowsOnce {
  std::once_flag made;
  FilterRows rows;
};

// The filter rows of w [c_out, cig, kh, kw] (W int8_t or uint8_t) with w_zero_point (1 or c_out values).
template <typename W>
FilterRows int8_filter_rows(const W* w, int64_t c_out, int64_t cig, int64_t kh, int64_t kw,
                            int64_t w_zero_point_count, const int32_t* w_zero_point);

struct PackedMatMulWeights {
  int64_t k = 0, n = 0;  // B [K, N]
  int64_t groups4 = 0;   // ceil(K / 4)
  int64_t tiles = 0;     // ceil(N / 64)
  std::vector<uint8_t> codes;   // the original codes (int8 or uint8 bytes), [K, N]
  std::vector<uint32_t> words;  // [tiles][groups4][64]
  PackedOffsets offsets;
  std::shared_ptr<PairWords> pair_words = std::make_shared<PairWords>();
  // words as pair words [tiles][2 * groups4][64]: word (t, g, j) -> pair words (t, 2g + h, j), h = 0, 1
  const PairWords& pairs() const;
};
struct MatMulWeightsOnce {
  std::once_flag made;
  PackedMatMulWeights weights;
};

struct PackedConvWeights {
  int64_t c_out = 0, cig = 0, kh = 0, kw = 0;  // w [c_out, cig, kh, kw]
  int64_t cq = 0;                              // ceil(cig / 4)
  int64_t groups4 = 0;                         // words per output channel: kh * kw * cq
  std::vector<uint8_t> codes;                  // the original codes (int8 or uint8 bytes), [c_out, cig, kh, kw]
  std::vector<uint32_t> words;                 // [c_out][groups4]
  std::vector<uint32_t> ones;                  // [groups4]: 1 for each real input channel byte
  PackedOffsets offsets;
  std::shared_ptr<PairWords> pair_words = std::make_shared<PairWords>();
  std::shared_ptr<FilterRowsOnce> filter_rows_once = std::make_shared<FilterRowsOnce>();
  std::shared_ptr<MatMulWeightsOnce> matmul_once = std::make_shared<MatMulWeightsOnce>();
  int64_t depth() const { return cig * kh * kw; }
  // The weights as the B [kh * kw * cig, c_out] of a matmul (row (ky * kw + kx) * cig + ic, column
  // oc, the zero points per column), packed once on first use: the pixels-as-rows form of a conv
  // (conv2d.cc conv_as_matmul). Requires the kept codes.
  const PackedMatMulWeights& as_matmul() const;
  // int8_filter_rows of the codes, made once on first use by any thread and shared by copies
  // (a depthwise call remade them every time: ~2.5 us of a ~45 us 144-channel stride-2 layer,
  // on the calling thread alone)
  const FilterRows& filter_rows() const;
  // words [c_out][2 * groups4] and ones [2 * groups4] as pair words: word i -> pair words 2i, 2i + 1
  const PairWords& pairs() const;
};


// Packs w [c_out, cig, kh, kw] (W int8_t or uint8_t) with zero points w_zero_point (1 or c_out
// values within W's range). std::invalid_argument naming the argument otherwise. keep_codes
// false leaves `codes` empty (a pack made inside one WRAP call, which never reads them).
template <typename W>
PackedConvWeights pack_conv_weights(const W* w, int64_t c_out, int64_t cig, int64_t kh, int64_t kw,
                                    int64_t w_zero_point_count, const int32_t* w_zero_point, bool keep_codes = true);

// Packs B [k, n] (B int8_t or uint8_t) with per-column zero points (1 or n values).
template <typename B>
PackedMatMulWeights pack_matmul_weights(const B* b, int64_t k, int64_t n, int64_t b_zero_point_count,
                                        const int32_t* b_zero_point, bool keep_codes = true);

// The same from 4-bit codes packed two per byte (intn.h pack_int4: first value in the low nibble;
// per_channel: the QNN layout, each output channel starting on a fresh byte), `bytes` long:
// unpacked here (sign-extended to int8 when is_signed, else uint8) and packed as above.
// std::invalid_argument when `bytes` is not the packed size of the shape.
PackedConvWeights pack_conv_weights_int4(const uint8_t* packed, int64_t bytes, bool is_signed, bool per_channel,
                                         int64_t c_out, int64_t cig, int64_t kh, int64_t kw,
                                         int64_t w_zero_point_count, const int32_t* w_zero_point);
PackedMatMulWeights pack_matmul_weights_int4(const uint8_t* packed, int64_t bytes, bool is_signed, int64_t k,
                                             int64_t n, int64_t b_zero_point_count, const int32_t* b_zero_point);

}  // namespace fxsim
