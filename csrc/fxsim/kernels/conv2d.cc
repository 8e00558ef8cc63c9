// conv2d_accumulate (conv2d.h): validation, the definition loop for every policy, and the WRAP
// fast path for 8-bit operands.
#include "fxsim/kernels/conv2d.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "fxsim/kernels/accumulate_entry.h"
#include "fxsim/kernels/accumulator_sink.h"
#include "fxsim/kernels/direct_conv2d.h"
#include "fxsim/kernels/direct_conv_kernels.h"
#include "fxsim/kernels/dispatch.h"
#include "fxsim/kernels/gemm_kernels.h"
#include "fxsim/kernels/matmul.h"
#include "fxsim/kernels/packed_weights.h"
#include "fxsim/kernels/parallel.h"
#include "fxsim/kernels/transpose.h"

namespace fxsim {

namespace {

constexpr const char* kName = "conv2d_accumulate";

struct Geometry {
  Conv2DParams p;
  Conv2DShape s;
  int64_t oh, ow;
  int64_t cig, cog;  // input / output channels per group
  int64_t depth;     // cig * kh * kw
};

// The definition (conv2d.h) for the policy Acc, over tasks (n, oc) in [t0, t1): loop order
// filter y, filter x, input channel; bias last. Each task's plane of accumulators goes to the
// sink. Returns the first output index outside the range (RAISE), else -1.
template <class Acc, typename X, typename W, class Sink>
int64_t conv_definition(const Geometry& gm, IntRange range, const X* x, int32_t x_zp, const W* w, int64_t wzc,
                        const int32_t* w_zp, const int64_t* bias, const Sink& sink, int64_t t0, int64_t t1) {
  const Conv2DParams& p = gm.p;
  const Conv2DShape& s = gm.s;
  const int64_t plane = gm.oh * gm.ow;
  std::vector<int64_t> o(static_cast<size_t>(plane));
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t n = t / s.c_out, oc = t % s.c_out;
    const int64_t g = oc / gm.cog;
    const int64_t wz = w_zp[wzc == 1 ? 0 : oc];
    const int64_t b = bias != nullptr ? bias[oc] : 0;
    const W* wk = w + oc * gm.depth;
    const X* xg = x + (n * s.c_in + g * gm.cig) * s.h * s.w;
    for (int64_t oy = 0; oy < gm.oh; ++oy) {
      for (int64_t ox = 0; ox < gm.ow; ++ox) {
        Acc acc(p.acc.acc_bits, range.lo, range.hi);
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            const bool inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
            for (int64_t ic = 0; ic < gm.cig; ++ic) {
              // a padded position holds x_zp: its corrected product is 0 (TFLite skips it), its
              // raw product x_zp * w (FBGEMM's im2col pads with A_zp)
              const int64_t xv = inside ? static_cast<int64_t>(xg[(ic * s.h + iy) * s.w + ix]) : x_zp;
              add_codes(acc, xv, x_zp, static_cast<int64_t>(wk[(ic * s.kh + ky) * s.kw + kx]), wz);
            }
          }
        }
        const int64_t v = acc.finish(b);
        if (!acc.ok()) return t * plane + oy * gm.ow + ox;
        o[oy * gm.ow + ox] = v;  // within acc_bits
      }
    }
    sink.values(o.data(), oc, false, t * plane, plane);  // a rejection is recorded by the sink
  }
  return -1;
}

// Interleave4StridedFn (direct_conv_kernels.h) as a plain loop: the variants without the AVX-512
// gather and strides above its 4.
void interleave4_strided_plain(const uint8_t* const* channels, int64_t row_step, int64_t ow, int64_t stride_w,
                               int64_t j0, int64_t count, uint32_t flip, uint32_t* dst) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = j0 + i, o = j / ow * row_step + j % ow * stride_w;
    dst[i] = (static_cast<uint32_t>(channels[0][o]) | static_cast<uint32_t>(channels[1][o]) << 8 |
              static_cast<uint32_t>(channels[2][o]) << 16 | static_cast<uint32_t>(channels[3][o]) << 24) ^
             flip;
  }
}

// WRAP with 8-bit x and w: raw codes through the u8 x s8 dot4 kernels (gemm_kernels.h) and the
// zero points restored by the offset formula (packed_weights.h), all modulo 2^32:
//   acc = sum_k x'_k w'_k - w_zp'[oc] * sum_k x'_k + (depth x_zp' w_zp'[oc] - x_zp' sum_k w'_k)
// with x' = x (+ 128 for s8 activations), w' the packed s8 weights. The input is laid out as
// words of 4 input channels (byte c % 4 of word c / 4, channels past C_in / groups 0; on the
// variants without VNNI words of 2 channels as int16 pairs, gemm_kernels.h Dot2Fn), padded
// with x_zp' (a padded position holds x_zp, as FBGEMM's im2col pads with A_zp; its corrected
// product is 0 as TFLite skips it) and split into stride_h x stride_w phase blocks so that the
// output plane reads its words linearly; then per (n, group, column chunk of the output plane)
// one GEMM of the packed weight rows by those words, the correction, and bias + wrap (the sink). Every output is the
// same exact modular sum, so the ISA variant and the thread split cannot change a bit.
// A 1x1 kernel with a stride and no padding (a ResNet downsample) reads input (oy * stride_h,
// ox * stride_w) for output (oy, ox) and nothing else: its words are gathered compactly (word
// oy * OW + ox, the stride-1 layout of an OH x OW input), so it runs as a stride-1 1x1 conv.
// conv_dot4's input layout. A plane holds the padded input split into sh x sw stride phases,
// each an hq x wq block: padded (row, col) = (r * sh + py, c * sw + px) is word ((py * sw + px) *
// hq + r) * wq + c. Output (oy, ox) at filter tap (ky, kx) then reads word oy * wq + ox of the
// tap's phase block offset by the tap, linear in j = oy * wq + ox at every stride: the GEMM runs
// over cols = (OH - 1) * wq + OW columns. A 1x1 with a stride and no padding is laid out
// compactly (its gathered words): an OH x OW input at stride 1.
struct Dot4Layout {
  bool unpadded, pointwise_strided;
  int64_t sh, sw, hq, wq, cols;
};

Dot4Layout dot4_layout(const Geometry& gm) {
  const Conv2DParams& p = gm.p;
  const Conv2DShape& s = gm.s;
  Dot4Layout l{};
  l.unpadded = p.pad_top + p.pad_left + p.pad_bottom + p.pad_right == 0;
  l.pointwise_strided = l.unpadded && s.kh == 1 && s.kw == 1 && (p.stride_h > 1 || p.stride_w > 1);
  const int64_t hp = l.pointwise_strided ? gm.oh : s.h + p.pad_top + p.pad_bottom;
  const int64_t wp = l.pointwise_strided ? gm.ow : s.w + p.pad_left + p.pad_right;
  l.sh = l.pointwise_strided ? 1 : p.stride_h, l.sw = l.pointwise_strided ? 1 : p.stride_w;  // the layout's
  l.hq = (hp + l.sh - 1) / l.sh, l.wq = (wp + l.sw - 1) / l.sw;
  l.cols = (gm.oh - 1) * l.wq + gm.ow;
  return l;
}

template <typename X, class Sink>
int64_t conv_dot4(const Geometry& gm, const X* x, int32_t x_zp, const PackedConvWeights& pw, const int64_t* bias,
                  const Sink& sink) {
  const Conv2DParams& p = gm.p;
  const Conv2DShape& s = gm.s;
  const Dot4Layout layout = dot4_layout(gm);
  const bool unpadded = layout.unpadded, pointwise_strided = layout.pointwise_strided;
  const int64_t sh = layout.sh, sw = layout.sw, hq = layout.hq, wq = layout.wq;
  const int64_t plane = sh * sw * hq * wq;  // words of one padded, phase-split plane
  const int64_t cq = pw.cq, groups = p.groups;
  const bool x_signed = std::is_signed<X>::value;
  const int32_t x_zp_packed = x_zp + (x_signed ? 128 : 0);  // in [0, 255]
  const bool fill = !unpadded || sh > 1 || sw > 1;
  const GemmTable& kernels = active_gemm_kernels();
  // The int16-pair kernels (gemm_kernels.h Dot2Fn) where they are the variant's faster form: the
  // input planes then hold pairs of channels (plane 2q + h: channels 4q + 2h, 4q + 2h + 1 as the
  // two int16 halves of each word), the weights their pair words (packed_weights.h), and a group
  // has planes_per_group = 2 cq planes and steps = 2 groups4 words per weight row.
  const bool pairs = kernels.dot2_pairs != nullptr;
  const int64_t lanes = pairs ? 2 : 4;  // channels per word
  const int64_t planes_per_group = pairs ? 2 * cq : cq;
  const int64_t steps = pairs ? 2 * pw.groups4 : pw.groups4;
  const uint32_t* const weight_words = pairs ? pw.pairs().words.data() : pw.words.data();
  const uint32_t* const ones_words = pairs ? pw.pairs().ones.data() : pw.ones.data();
  // the mask of the bytes (dot4 words) or int16 halves (pair words) of a word's `valid` real channels
  auto channel_mask = [&](int valid) -> uint32_t {
    if (valid <= 0) return 0u;
    if (pairs) return valid >= 2 ? 0xFFFFFFFFu : 0x0000FFFFu;
    return valid >= 4 ? 0xFFFFFFFFu : (uint32_t(1) << (8 * valid)) - 1u;
  };
  const uint32_t lane_ones = pairs ? 0x00010001u : 0x01010101u;

  // Every word is written below (filled first when there is padding or a stride phase). The
  // buffer is the calling thread's scratch, kept between calls (parallel.h), taken below unless
  // the GEMM tiles read the input's bytes themselves (from_rows).
  uint32_t* xq = nullptr;
  auto take_input_words = [&] {
    xq = static_cast<uint32_t*>(thread_scratch(
        ScratchSlot::kCallInput, s.n * groups * planes_per_group * plane * static_cast<int64_t>(sizeof(uint32_t))));
  };
  const bool partial_quad = gm.cig % 4 != 0;  // the last quad of a group reads zero rows past its channels
  const std::vector<uint8_t> zero_row(static_cast<size_t>(partial_quad ? s.w : 0), 0);
  // (a strided 1x1 on the pair path gathers two zero channels besides each pair)
  const std::vector<uint8_t> zero_plane(
      static_cast<size_t>((partial_quad || (pairs && pointwise_strided)) && !fill ? s.h * s.w : 0), 0);
  const Interleave4Fn interleave4 = kernels.interleave4;
  const DirectConvTable* direct = active_direct_conv_kernels();
  const bool vector_gather = direct != nullptr && direct->interleave4_strided != nullptr && p.stride_w <= 4;
  const Interleave4StridedFn gather4 = vector_gather ? direct->interleave4_strided : interleave4_strided_plain;
  // plane pl (of n * groups * planes_per_group): its (n, group) and first channel, and how many
  // of its `lanes` channels are real
  struct PlaneChannels {
    int64_t n, c_first;
    int valid;
  };
  auto plane_channels = [&](int64_t pl) {
    const int64_t q = pl % planes_per_group, g = pl / planes_per_group % groups, n = pl / (planes_per_group * groups);
    const int64_t c_in_group = lanes * q;
    return PlaneChannels{n, g * gm.cig + c_in_group, static_cast<int>(std::min<int64_t>(lanes, gm.cig - c_in_group))};
  };
  // count pair words from two rows of bytes, `valid` of the two channels real (the rows of the
  // others are zero rows) and `flip` the x ^ 0x80 of the real ones: a half-real pair keeps its
  // second half 0
  auto interleave_pair_row = [&](const uint8_t* lo, const uint8_t* hi, int64_t count, int valid, uint32_t flip,
                                 uint32_t* dst) {
    kernels.interleave_pairs(lo, hi, count, valid >= 2 ? static_cast<uint8_t>(flip) : 0, dst);
    if (valid == 1 && flip != 0) {
      for (int64_t i = 0; i < count; ++i) dst[i] ^= 0x80u;
    }
  };
  // No padding and a stride-1 layout: plane pl is its channels' h * w bytes in order, and words
  // [j0, j0 + count) of it come from bytes [j0, j0 + count) of each channel; a strided 1x1
  // gathers word j from byte (j / OW * stride_h) * W + j % OW * stride_w.
  auto interleave_columns = [&](const PlaneChannels& pc, int64_t pl, int64_t j0, int64_t count) {
    const uint32_t flip = x_signed ? 0x80u * lane_ones & channel_mask(pc.valid) : 0u;  // x + 128: x ^ 0x80
    const uint8_t* src[4];  // the codes' bytes (int8 read as unsigned char: the two's-complement byte)
    for (int b = 0; b < lanes; ++b) {
      src[b] = b < pc.valid ? reinterpret_cast<const uint8_t*>(x + (pc.n * s.c_in + pc.c_first + b) * s.h * s.w)
                            : zero_plane.data();
    }
    uint32_t* const dst = xq + pl * plane + j0;
    if (pointwise_strided && pairs) {
      // the quad gather of the pair's two channels (bytes 2 and 3 zero), then bytes 0 and 1 moved
      // to the two int16 halves (a plain per-element gather ran a 1x1 144 -> 48 s2 at 29 GMAC/s
      // on the avx512bw variant)
      const uint8_t* quad[4] = {src[0], src[1], zero_plane.data(), zero_plane.data()};
      gather4(quad, p.stride_h * s.w, gm.ow, p.stride_w, j0, count, (flip & 0x80u) | (flip >> 8 & 0x8000u), dst);
      for (int64_t i = 0; i < count; ++i) dst[i] = (dst[i] & 0xFFu) | (dst[i] & 0xFF00u) << 8;
      return;
    }
    if (pointwise_strided) {
      gather4(src, p.stride_h * s.w, gm.ow, p.stride_w, j0, count, flip, dst);
      return;
    }
    if (pairs) {
      interleave_pair_row(src[0] + j0, src[1] + j0, count, pc.valid, flip, dst);
      return;
    }
    interleave4(src[0] + j0, src[1] + j0, src[2] + j0, src[3] + j0, count, flip, dst);
  };
  // A 1x1 kernel at stride 1 without padding (or a strided 1x1, gathered) reads, for output
  // column j, word j of each plane and nothing else: the GEMM tasks below interleave their own
  // columns first (one parallel phase, no barrier between packing and GEMM, and each core reads
  // the words it wrote, not half of them from the other core's cache). On one thread the single
  // task interleaves every column and then runs the GEMM, the order of the separate pass. Where
  // the tiles also finish in registers at stride 1 (from_rows, below) there is no interleaved
  // copy at all: each 64-column tile makes its words from the input's bytes.
  // The GEMM's columns (below) and its tasks: the planes' 64-column tiles and, where those are
  // too few for the threads (a 7 x 7 plane is one tile), blocks of output channels too. VNNI,
  // 2 threads, us, one task per tile / with channel blocks: ResNet-50 1x1 2048 -> 512 @7 157 / 90
  // (1 thread 155), MobileNetV2 960 -> 160 @7 31 / 23, 320 -> 1280 @7 70 / 44.
  const int64_t cols = layout.cols;
  const int64_t tiles = (cols + kDot4TileCols - 1) / kDot4TileCols;
  const int64_t plane_tiles = s.n * groups * tiles, threads = kernel_threads();
  int64_t block_rows = gm.cog;  // output channels per task
  if (threads > 1 && plane_tiles < 2 * threads) {
    const int64_t blocks = std::min((2 * threads + plane_tiles - 1) / plane_tiles, std::max<int64_t>(1, gm.cog / 24));
    block_rows = (gm.cog + blocks - 1) / blocks;
  }
  const int64_t channel_blocks = (gm.cog + block_rows - 1) / block_rows;
  // (with channel blocks the tasks of one tile share its columns: interleaved first, once)
  // (no fill: a stride-1 layout)
  const bool interleave_in_tasks = !fill && s.kh == 1 && s.kw == 1 && channel_blocks == 1;
  if (!interleave_in_tasks) {
    take_input_words();
    parallel_tasks(s.n * groups * planes_per_group, plane, [&](int64_t c0, int64_t c1) -> int64_t {
      std::vector<uint32_t> words(static_cast<size_t>(sw > 1 ? s.w : 0));  // one input row's words
      for (int64_t pl = c0; pl < c1; ++pl) {
        if (!fill) {
          interleave_columns(plane_channels(pl), pl, 0, plane);
          continue;
        }
        const PlaneChannels pc = plane_channels(pl);
        const uint32_t bytes = channel_mask(pc.valid);
        const uint32_t flip = x_signed ? 0x80u * lane_ones & bytes : 0u;  // x + 128 as a byte: x ^ 0x80
        uint32_t* dst = xq + pl * plane;
        const uint32_t padding = (static_cast<uint32_t>(x_zp_packed) * lane_ones) & bytes;
        if (sh == 1 && sw == 1) {
          // only the padding: the rows above and below the input's, and each input row's columns
          // left and right of its words (written below). Filling the whole plane first wrote
          // most words twice (~1.3% of a 3x3 64 -> 64 at 56 x 56).
          std::fill(dst, dst + p.pad_top * wq, padding);
          std::fill(dst + (p.pad_top + s.h) * wq, dst + plane, padding);
          for (int64_t iy = 0; iy < s.h; ++iy) {
            uint32_t* const row = dst + (p.pad_top + iy) * wq;
            std::fill(row, row + p.pad_left, padding);
            std::fill(row + p.pad_left + s.w, row + wq, padding);
          }
        } else {
          std::fill(dst, dst + plane, padding);
        }
        for (int64_t iy = 0; iy < s.h; ++iy) {
          const uint8_t* src[4];
          for (int b = 0; b < lanes; ++b) {
            src[b] = b < pc.valid
                         ? reinterpret_cast<const uint8_t*>(x + ((pc.n * s.c_in + pc.c_first + b) * s.h + iy) * s.w)
                         : zero_row.data();
          }
          const int64_t iyp = iy + p.pad_top;  // padded row r * sh + py
          uint32_t* row = dst + (iyp % sh) * sw * hq * wq + (iyp / sh) * wq;  // phase px = 0's row r
          // the row's words in column order: in place at stride 1, else into `words` first
          uint32_t* const row_words = sw == 1 ? row + p.pad_left : words.data();
          if (pairs) {
            interleave_pair_row(src[0], src[1], s.w, pc.valid, flip, row_words);
          } else {
            interleave4(src[0], src[1], src[2], src[3], s.w, flip, row_words);
          }
          if (sw == 1) continue;
          // padded column col = ix + pad_left = q * sw + phase goes to row[phase * hq * wq + q]
          // (the vector interleave, then a strided copy of words, in place of a per-element
          // byte gather: 3x3 stride-2 64 -> 64 at 112 x 112, VNNI, 140 -> 144 GMAC/s)
          for (int64_t phase = 0; phase < sw; ++phase) {
            const int64_t ix0 = ((phase - p.pad_left) % sw + sw) % sw;
            uint32_t* drow = row + phase * hq * wq + (ix0 + p.pad_left) / sw;
            const int64_t count = ix0 < s.w ? (s.w - ix0 + sw - 1) / sw : 0;
            for (int64_t i = 0; i < count; ++i) drow[i] = words[ix0 + i * sw];
          }
        }
      }
      return -1;
    });
  }
  // word (ky * KW + kx) * planes_per_group + q of a weight row meets this offset of the group's
  // input words
  std::vector<int64_t> goff(static_cast<size_t>(steps));
  for (int64_t ky = 0; ky < s.kh; ++ky) {
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      const int64_t col = kx * p.dilation_w;
      const int64_t row = ky * p.dilation_h;
      for (int64_t q = 0; q < planes_per_group; ++q) {
        goff[(ky * s.kw + kx) * planes_per_group + q] =
            q * plane + ((row % sh) * sw + col % sw) * hq * wq + (row / sh) * wq + col / sw;
      }
    }
  }
  std::vector<uint32_t> constant(static_cast<size_t>(s.c_out));
  for (int64_t oc = 0; oc < s.c_out; ++oc) constant[oc] = pw.offsets.constant(oc, gm.depth, x_zp_packed);
  const Dot4Fn gemm = pairs ? kernels.dot2_pairs : kernels.dot4_s8u8;  // the same signature and sums
  // With acc_bits 32 every sink wraps sum + bias modulo 2^32, so a constant correction is one
  // more term of the bias (bias + constant mod 2^32 gives the same bits); wider accumulators
  // sign-extend the corrected int32 sum first, so there the sums are corrected in place.
  const bool fold = p.acc.acc_bits == 32 && !pw.offsets.any_zp;
  // rows [0, cog) of tmp (count columns each) from the words at `base`: raw sums, then corrected
  // (output channels g * cog + [m0, m1): rows 0.. of tmp)
  auto corrected_gemm = [&](int64_t g, int64_t m0, int64_t m1, const uint32_t* base, int64_t count, uint32_t* tmp,
                            uint32_t* xsum) {
    gemm(weight_words + (g * gm.cog + m0) * steps, steps, base, kDot4TileCols, goff.data(), m1 - m0, count, steps, tmp,
         count);
    if (pw.offsets.any_zp) gemm(ones_words, steps, base, kDot4TileCols, goff.data(), 1, count, steps, xsum, count);
    if (fold) return;  // the constant goes with the bias (finish_row)
    for (int64_t m = m0; m < m1; ++m) {
      const int64_t oc = g * gm.cog + m;
      uint32_t* row = tmp + (m - m0) * count;
      const uint32_t k = constant[oc];
      if (pw.offsets.any_zp) {
        const uint32_t z = static_cast<uint32_t>(pw.offsets.zp_packed[oc]);
        for (int64_t j = 0; j < count; ++j) row[j] += k - z * xsum[j];
      } else {
        for (int64_t j = 0; j < count; ++j) row[j] += k;
      }
    }
  };
  auto finish_row = [&](const uint32_t* src, int64_t n, int64_t g, int64_t m, int64_t oy, int64_t ox0, int64_t count) {
    const int64_t oc = g * gm.cog + m;
    const int64_t b = bias != nullptr ? bias[oc] : 0;
    // modulo 2^64 (uint64): the sink keeps the low 32 bits
    const int64_t folded = fold ? static_cast<int64_t>(static_cast<uint64_t>(b) + constant[oc]) : b;
    return sink.wrapped(src, folded, oc, ((n * s.c_out + oc) * gm.oh + oy) * gm.ow + ox0, count);
  };
  const int64_t group_words = planes_per_group * plane;
  // Calls f(i, oy, ox, len) for each run of consecutive outputs among the GEMM columns
  // [j0, j0 + count): columns j0 + i .. j0 + i + len are outputs (oy, ox) .. (oy, ox + len) of
  // one output row (the wq - OW columns between rows are dropped).
  auto for_each_output_run = [&](int64_t j0, int64_t count, auto&& f) {
    for (int64_t j = j0; j < j0 + count;) {
      const int64_t oy = j / wq, ox = j % wq;
      const int64_t row_end = std::min(oy * wq + wq, j0 + count);
      if (ox < gm.ow) f(j - j0, oy, ox, std::min(gm.ow - ox, row_end - j));
      j = row_end;
    }
  };
  // The sink's work done in the tiles' registers (gemm_kernels.h Dot4Epilogue with
  // rows_are_channels, same bits) where the correction is one constant per output channel (no
  // weight zero point): int32(sum + constant[oc] + bias[oc]) modulo 2^32, then the
  // requantization if any, straight into the output where the GEMM's columns are consecutive
  // outputs (wq == OW: a 1x1 conv, or a strided 1x1's gathered words), else into a tile of codes
  // whose output rows are then copied out. The sums otherwise go through a uint32 tile, an int32
  // row per channel and the plan's loop: a 1x1 144 -> 24 at 56 x 56 ran at 55-66 GMAC/s fused
  // against 72 accumulate-only (the avx512bw variant, one thread), and in a 3x3 64 -> 64 at
  // 56 x 56 (avx512vnni) that path took ~15% of the samples.
  Dot4Epilogue finish;
  const WordsEpilogueFn epilogue_gemm = pairs ? kernels.dot2_pairs_epilogue : kernels.dot4_s8u8_epilogue;
  const bool tiled = fold && epilogue_gemm != nullptr && sink.tile_epilogue(&finish);
  if (tiled) finish.codes_clamp = epilogue_clamps_in_codes(finish, s.c_out, &finish.has_add);
  std::vector<uint32_t> channel_add(static_cast<size_t>(tiled ? s.c_out : 0));
  for (int64_t oc = 0; oc < static_cast<int64_t>(channel_add.size()); ++oc) {
    channel_add[oc] = constant[oc] + (bias != nullptr ? static_cast<uint32_t>(static_cast<uint64_t>(bias[oc])) : 0u);
  }
  // the tiles of columns [j0, j0 + count) of plane (n, g): output channels g * cog.., stored in
  // place; where the columns are a padded plane's (wq > OW) the epilogue drops the wq - OW columns
  // between output rows itself (Dot4Epilogue::in_row), in place of codes through a buffer copied
  // out run by run (gemm_kernels.inc epilogue_row_in_plane)
  // A 1x1 at stride 1 without padding whose tiles finish in registers reads the input's rows of
  // bytes in the tiles (gemm_kernels.h Dot4ByteRows): no interleaved copy of the input is made.
  const bool from_rows = sizeof(X) == 1 && interleave_in_tasks && tiled && !pairs && !pointwise_strided &&
                         kernels.dot4_s8u8_rows_epilogue != nullptr;
  std::vector<int64_t> panel_goff(static_cast<size_t>(from_rows ? steps : 0));
  for (int64_t g = 0; g < static_cast<int64_t>(panel_goff.size()); ++g) panel_goff[g] = g * kDot4TileCols;
  if (interleave_in_tasks && !from_rows) take_input_words();
  // (from_rows: rows_q, the rows of the tile's input channels, in place of base)
  auto finish_in_tiles = [&](int64_t n, int64_t g, int64_t m0, int64_t m1, const uint32_t* base, int64_t j0,
                             int64_t count, const Dot4ByteRows* rows_q = nullptr) {
    const int64_t oc0 = g * gm.cog + m0, rows = m1 - m0, ob = finish.out_bytes;
    char* const out = static_cast<char*>(finish.out);
    Dot4Epilogue e = finish;
    e.rows_are_channels = true;
    e.channel_add = channel_add.data() + oc0;
    if (e.per_channel) skip_epilogue_channels(&e, oc0);
    e.ldo = gm.oh * gm.ow;
    if (wq == gm.ow) {
      e.out = out + ((n * s.c_out + oc0) * gm.oh * gm.ow + j0) * ob;
    } else {
      e.out = out + (n * s.c_out + oc0) * gm.oh * gm.ow * ob;
      e.in_row = wq, e.out_row = gm.ow, e.col_offset = j0;
    }
    if (rows_q != nullptr) {
      kernels.dot4_s8u8_rows_epilogue(weight_words + oc0 * steps, steps, *rows_q, rows, count, steps, e);
      return;
    }
    epilogue_gemm(weight_words + oc0 * steps, steps, base, kDot4TileCols, goff.data(), rows, count, steps, e);
  };
  // Output (oy, ox) reads xq[base + oy * wq + ox + goff[g]], linear in j = oy * wq + ox at every
  // stride (the phase-split layout above; a strided 1x1's gathered words), so a whole output
  // plane is one GEMM over (OH - 1) * wq + OW columns (the wq - OW columns between rows are
  // computed and dropped: in-buffer reads, a few % of work). Strided layers once ran one GEMM
  // per output row instead: a 3x3 stride-2 128 -> 128 layer at 56 x 56 filled 28 of each
  // 64-column tile (VNNI, one thread: 80 GMAC/s against 176 at stride 1).
  // The tasks are the planes' 64-column tiles (the kernel's register tile): parallel_tasks
  // hands each thread a few runs of whole tiles, balanced to a tile (256-column tasks cut a
  // 56 x 56 plane into 13, i.e. 7 against 6 on two threads). A run is computed in pieces of
  // at most kChunk columns (a piece's sums, cog x kChunk words, stay in L1 / L2 for the sink).
  constexpr int64_t kChunk = 4 * kDot4TileCols;
  const int64_t tile_work = block_rows * kDot4TileCols * gm.depth;
  // Where each range interleaves its own columns first, a thread's block is one range: the
  // interleave slows down on shorter runs of the input rows (1x1 144 -> 24 at 56 x 56, VNNI, one
  // thread cutting its columns into 1 / 2 / 4 / 16 runs: 6.7 / 7.4 / 8.0 / 9.5 us of
  // interleaving). 2 threads over 1 on that layer: 1.82-1.83x with one range per thread against
  // 1.78-1.79x with two (alternated builds). A late worker's block is still taken by the caller
  // if the worker has not started it. Interleaving each 256-column piece into a buffer of the
  // task just before its GEMM (read back from L1) ran slower than either. (from_rows keeps one
  // range per thread: its tiles read the input rows in order, prefetching the next tile's bytes.)
  const int64_t pieces_per_thread = interleave_in_tasks ? 1 : kPiecesPerThread;
  // task t: tile t % plane_tiles, output channels block t / plane_tiles
  const int64_t tile_count = plane_tiles * channel_blocks;
  return parallel_tasks_in_pieces(tile_count, tile_work, pieces_per_thread, [&](int64_t t0, int64_t t1) -> int64_t {
    const int64_t chunk_cols = std::min(kChunk, (t1 - t0) * kDot4TileCols);
    // (the tiled epilogue stores its codes in place: it needs neither the sums, nor the packed
    // runs, nor the column sums)
    uint32_t* const tmp = tiled ? nullptr
                                : static_cast<uint32_t*>(thread_scratch(
                                      ScratchSlot::kTaskSums, gm.cog * chunk_cols * int64_t(sizeof(uint32_t))));
    uint32_t* const packed = tiled ? nullptr
                                   : static_cast<uint32_t*>(thread_scratch(ScratchSlot::kTaskPacked,
                                                                           chunk_cols * int64_t(sizeof(uint32_t))));
    uint32_t* const xsum = tiled ? nullptr
                                 : static_cast<uint32_t*>(thread_scratch(ScratchSlot::kTaskColumnSums,
                                                                         chunk_cols * int64_t(sizeof(uint32_t))));
    int64_t first = -1;
    for (int64_t t = t0; t < t1;) {
      // the tiles [t, t_end) of one (n, g) plane and one block of channels [m0, m1): columns
      // [j_begin, j_end)
      const int64_t cb = t / plane_tiles, first_tile = cb * plane_tiles;
      const int64_t m0 = cb * block_rows, m1 = std::min(gm.cog, m0 + block_rows);
      const int64_t ng = (t - first_tile) / tiles, g = ng % groups, n = ng / groups;
      const int64_t t_end = std::min(t1, first_tile + (ng + 1) * tiles);
      const int64_t j_begin = (t - first_tile - ng * tiles) * kDot4TileCols;
      const int64_t j_end = std::min(cols, (t_end - first_tile - ng * tiles) * kDot4TileCols);
      t = t_end;
      if (from_rows) {
        Dot4ByteRows rows_q;
        rows_q.x = reinterpret_cast<const uint8_t*>(x + (n * s.c_in + g * gm.cig) * s.h * s.w);
        rows_q.channel_stride = s.h * s.w;
        rows_q.channels = gm.cig;
        rows_q.flip = x_signed ? 0x80 : 0;
        rows_q.panel = static_cast<uint32_t*>(
            thread_scratch(ScratchSlot::kTaskPacked, steps * kDot4TileCols * int64_t(sizeof(uint32_t))));
        rows_q.panel_goff = panel_goff.data();
        rows_q.x += j_begin;
        finish_in_tiles(n, g, m0, m1, nullptr, j_begin, j_end - j_begin, &rows_q);
        continue;
      }
      if (interleave_in_tasks) {
        // (plane_channels without its divisions: they were ~40 cycles of each plane's call)
        for (int64_t q = 0; q < planes_per_group; ++q) {
          const PlaneChannels pc{n, g * gm.cig + lanes * q, static_cast<int>(std::min<int64_t>(lanes, gm.cig - lanes * q))};
          interleave_columns(pc, ng * planes_per_group + q, j_begin, j_end - j_begin);
        }
      }
      for (int64_t j0 = j_begin; j0 < j_end; j0 += chunk_cols) {
        const int64_t count = std::min(chunk_cols, j_end - j0);
        if (tiled) {
          finish_in_tiles(n, g, m0, m1, xq + ng * group_words + j0, j0, count);
          continue;
        }
        corrected_gemm(g, m0, m1, xq + ng * group_words + j0, count, tmp, xsum);
        for (int64_t m = m0; m < m1; ++m) {
          const uint32_t* sums = tmp + (m - m0) * count;
          if (wq == gm.ow) {  // no dropped columns between rows: the sums are consecutive outputs
            first = lower_bad(first, finish_row(sums, n, g, m, j0 / wq, j0 % wq, count));
            continue;
          }
          // the output runs of columns [j0, j0 + count) are consecutive outputs of one plane
          // (row oy + 1 follows row oy), so they go to the sink packed, as one run (one
          // requantization call per chunk, not one per row)
          int64_t packed_count = 0, oy0 = 0, ox0 = 0;
          for_each_output_run(j0, count, [&](int64_t i, int64_t oy, int64_t ox, int64_t len) {
            if (packed_count == 0) oy0 = oy, ox0 = ox;
            std::copy_n(sums + i, len, packed + packed_count);
            packed_count += len;
          });
          if (packed_count > 0) first = lower_bad(first, finish_row(packed, n, g, m, oy0, ox0, packed_count));
        }
      }
    }
    return first;
  });
}

}  // namespace

Conv2DOutputSize conv2d_output_size(const Conv2DParams& p, const Conv2DShape& s) {
  check_positive(kName, "x batch (N)", s.n);
  check_positive(kName, "x channels (C_in)", s.c_in);
  check_positive(kName, "x height (H)", s.h);
  check_positive(kName, "x width (W)", s.w);
  check_positive(kName, "w output channels (C_out)", s.c_out);
  check_positive(kName, "w kernel height (KH)", s.kh);
  check_positive(kName, "w kernel width (KW)", s.kw);
  check_positive(kName, "stride_h", p.stride_h);
  check_positive(kName, "stride_w", p.stride_w);
  check_positive(kName, "dilation_h", p.dilation_h);
  check_positive(kName, "dilation_w", p.dilation_w);
  check_positive(kName, "groups", p.groups);
  const int64_t limit = int64_t(1) << 31;  // keeps every index product below 2^62
  for (const int64_t v : {s.n, s.c_in, s.h, s.w, s.c_out, s.kh, s.kw, p.stride_h, p.stride_w, p.dilation_h,
                          p.dilation_w, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right}) {
    if (v >= limit) throw_invalid(kName, "a dimension, stride, dilation or pad is >= 2^31");
  }
  const struct {
    const char* name;
    int64_t v;
  } pads[] = {
      {"pad_top", p.pad_top}, {"pad_left", p.pad_left}, {"pad_bottom", p.pad_bottom}, {"pad_right", p.pad_right}};
  for (const auto& pad : pads) {
    if (pad.v < 0) throw_invalid(kName, std::string(pad.name) + " must be >= 0, got " + std::to_string(pad.v));
  }
  if (s.c_in % p.groups != 0) {
    throw_invalid(kName, "groups = " + std::to_string(p.groups) + " does not divide C_in = " + std::to_string(s.c_in));
  }
  if (s.c_out % p.groups != 0) {
    throw_invalid(kName,
                  "groups = " + std::to_string(p.groups) + " does not divide C_out = " + std::to_string(s.c_out));
  }
  // ONNX Conv output size with explicit pads.
  const int64_t eh = s.h + p.pad_top + p.pad_bottom - p.dilation_h * (s.kh - 1) - 1;
  const int64_t ew = s.w + p.pad_left + p.pad_right - p.dilation_w * (s.kw - 1) - 1;
  if (eh < 0 || ew < 0) {
    throw_invalid(kName, "the dilated kernel (" + std::to_string(p.dilation_h * (s.kh - 1) + 1) + " x " +
                             std::to_string(p.dilation_w * (s.kw - 1) + 1) + ") is larger than the padded input (" +
                             std::to_string(s.h + p.pad_top + p.pad_bottom) + " x " +
                             std::to_string(s.w + p.pad_left + p.pad_right) + "): output size < 1");
  }
  return Conv2DOutputSize{eh / p.stride_h + 1, ew / p.stride_w + 1};
}

namespace {

// The WRAP fast path or the definition for the policy, into `sink`. Returns the lowest output
// index whose exact sum leaves the range (RAISE), else -1; the sink records its own rejections
// (so RAISE wins over a rejected requantization, as accumulate-then-requantize raises first).
// `packed` is null or w packed once (packed_weights.h); without it the fast path packs w here.
template <typename X, typename W, class Sink>
int64_t conv_run(const Geometry& gm, IntRange range, const X* x, int32_t x_zero_point, const W* w,
                 int64_t w_zero_point_count, const int32_t* w_zero_point, const PackedConvWeights* packed,
                 const int64_t* bias, const Sink& sink) {
  const Conv2DParams& params = gm.p;
  if constexpr (sizeof(X) == 1 && sizeof(W) == 1) {
    if (params.acc.policy == AccumulatePolicy::kWrap &&
        (params.acc.acc_bits == 32 || gm.depth <= kExactInt32Depth8)) {
      // the sink records its rejections; WRAP never leaves the range.
      // Depthwise and first-layer (small depth) convs on AVX-512: direct_conv2d.h, on the codes
      // (w is the packed object's own copy of them when `packed` is given, and the kernels take
      // its filter rows).
      if (depthwise_conv2d_applies(params, gm.s, gm.oh, gm.ow)) {
        depthwise_conv2d_wrap8(params, gm.s, gm.oh, gm.ow, x, x_zero_point, w, w_zero_point_count, w_zero_point, packed,
                               bias, sink);
        return -1;
      }
      if (small_depth_conv2d_applies(params, gm.s, gm.oh, gm.ow)) {
        small_depth_conv2d_wrap8(params, gm.s, gm.oh, gm.ow, x, x_zero_point, w, w_zero_point_count, w_zero_point,
                                 packed, bias, sink);
        return -1;
      }
      if (packed != nullptr) {
        conv_dot4(gm, x, x_zero_point, *packed, bias, sink);
      } else {
        const PackedConvWeights pw =  // packed for this call only: no copy of the codes
            pack_conv_weights(w, gm.s.c_out, gm.cig, gm.s.kh, gm.s.kw, w_zero_point_count, w_zero_point, false);
        conv_dot4(gm, x, x_zero_point, pw, bias, sink);
      }
      return -1;
    }
  }
  return with_accumulator(params.acc.policy, [&](auto* tag) {
    using Acc = std::remove_pointer_t<decltype(tag)>;
    return parallel_tasks(gm.s.n * gm.s.c_out, gm.oh * gm.ow * gm.depth, [&](int64_t t0, int64_t t1) {
      return conv_definition<Acc>(gm, range, x, x_zero_point, w, w_zero_point_count, w_zero_point, bias, sink, t0,
                                  t1);
    });
  });
}

template <typename X, typename W>
Geometry checked_geometry(const char* kernel, const Conv2DParams& params, const Conv2DShape& shape,
                          int32_t x_zero_point, int64_t w_zero_point_count, const int32_t* w_zero_point) {
  const Conv2DOutputSize size = conv2d_output_size(params, shape);
  check_zero_point_in<X>(kernel, "x_zero_point", x_zero_point);
  check_zero_point_count(kernel, w_zero_point_count, shape.c_out);
  for (int64_t i = 0; i < w_zero_point_count; ++i) check_zero_point_in<W>(kernel, "w_zero_point", w_zero_point[i]);
  return Geometry{params, shape, size.oh, size.ow, shape.c_in / params.groups, shape.c_out / params.groups,
                  shape.c_in / params.groups * shape.kh * shape.kw};
}

[[noreturn]] void throw_outside_accumulator(const char* kernel, const Geometry& gm, int64_t bad) {
  const int64_t ox = bad % gm.ow, oy = bad / gm.ow % gm.oh, oc = bad / (gm.ow * gm.oh) % gm.s.c_out,
                n = bad / (gm.ow * gm.oh * gm.s.c_out);
  throw_range(kernel, "output index " + std::to_string(bad) + " (n=" + std::to_string(n) + ", oc=" +
                          std::to_string(oc) + ", oy=" + std::to_string(oy) + ", ox=" + std::to_string(ox) +
                          "): the exact sum leaves the " + std::to_string(gm.p.acc.acc_bits) +
                          "-bit accumulator range");
}

}  // namespace

namespace {

// Narrow planes as a matmul with the pixels as rows. conv_dot4 runs the output plane as the
// columns of 64-column tiles: a 14 x 14 plane at stride 1 is (14 - 1) * 16 + 14 = 222 columns
// (2 dropped per row) in 4 tiles, 196 of 256 computed columns kept. With the pixels as the rows
// of a matmul (A [pixels, kh * kw * C_in]: each pixel's window, channels innermost, the im2col
// of FBGEMM's and ONNX Runtime's convolutions) and the output channels as its 64-column tiles
// (PackedConvWeights::as_matmul), every row and, for C_out a multiple of 64, every column is
// an output; the outputs come [pixels, C_out] and are transposed to NCHW. Same exact sums (the
// matmul's zero-point correction is the conv's: padded pixels hold x_zp, so they contribute 0),
// and the requantization per column is per output channel. Taken where it computes fewer
// columns, on the SIMD variants (avx2, avx512bw, avx512vnni), for WRAP at 32 bits with codes
// kept, one group, C_in a multiple of 4, and a requantization that does not depend on an output's
// index (stochastic rounding does; an offset is per output), where the window has more than one
// tap or the plane at most kFewPixels pixels.
// VNNI (Zen 5, vpdpbusd ceiling 505 GMAC/s), 1 thread, fused fp32 codes, us, conv_dot4 / as a
// matmul: ResNet-50 3x3 256 @14 370 / 308, 3x3 512 @7 346 / 310, 3x3 s2 256 @28 412 / 313,
// Inception 1x7 128 @17 127 / 99; not taken (fewer dropped columns) 3x3 128 @28 304 / 318, 3x3 64
// @56 291 / 343. avx512bw (the int16-pair matmul), the same four: 896 / 677, 860 / 657, 988 / 671,
// 286 / 214 (2 threads, the first, second and fourth: 469 / 356, 455 / 363, 175 / 138); avx2:
// 1842 / 1724, 2207 / 1721, 2112 / 1775, 557 / 446. The 1x1 layers gained nothing (the product
// alone ran ~20% faster, the transposes ate it: 1024 -> 256 @14 167 / 167, 960 -> 160 @7 33 / 34,
// 96 -> 576 @14 47 / 54).
// 1x1 convs on at most this many output pixels go as the matmul: conv_dot4 computes their plane
// as a whole 64-column tile. VNNI, fused fp32 codes, us, conv_dot4 / matmul, 1 thread: 144 -> 576
// on 1 x 1 13.7 / 3.2, on 4 x 4 13.7 / 5.9, 960 -> 240 on 1 x 1 31.4 / 4.1, on 5 x 5 32.1 / 19.7;
// 2 threads: 144 -> 576 on 4 x 4 8.6 / 4.8, 960 -> 240 on 5 x 5 18.7 / 13.6, 576 -> 144 on 5 x 5
// 8.9 / 9.0. On 6 x 6 the 2-thread matmul lost (144 -> 576 8.9 / 9.8) while 1 thread won.
constexpr int64_t kFewPixels = 25;

bool conv_as_matmul_applies(const Geometry& gm, const PackedConvWeights* packed) {
  const Conv2DParams& p = gm.p;
  const Conv2DShape& s = gm.s;
  if (packed == nullptr || packed->codes.empty() || p.groups != 1 || gm.cig % 4 != 0) return false;
  const int64_t pixels = gm.oh * gm.ow, k = s.kh * s.kw * gm.cig;
  // 1x1: see above, no faster, except on planes of a few pixels (squeeze-excite convs on a 1 x 1
  // map: kFewPixels)
  if (s.kh * s.kw == 1 && pixels > kFewPixels) return false;
  if (p.acc.policy != AccumulatePolicy::kWrap || p.acc.acc_bits != 32) return false;
  if (std::strcmp(active_isa(), "baseline") == 0) return false;  // (the SIMD variants measured)
  if (double(s.n) * double(pixels) * double(k) > double(int64_t(8) << 20)) return false;  // the rows' bytes
  const int64_t cols = dot4_layout(gm).cols;  // conv_dot4's
  const double kept_conv = double(pixels) / double((cols + kDot4TileCols - 1) / kDot4TileCols * kDot4TileCols);
  const double kept_matmul = double(s.c_out) / double((s.c_out + kDot4TileCols - 1) / kDot4TileCols * kDot4TileCols);
  return kept_matmul >= kept_conv + 0.1;
}

// Output channel oc's plane of outputs (elem bytes each) from the matmul's rows [pixels, c_out].
void pixel_rows_to_planes(const char* rows, int64_t n, int64_t pixels, int64_t c_out, int64_t elem, char* out) {
  if (elem == 1) {  // blocks of 64 channels per task
    const int64_t blocks = (c_out + 63) / 64;
    parallel_tasks(n * blocks, 64 * pixels, [&](int64_t t0, int64_t t1) -> int64_t {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t img = t / blocks, oc0 = t % blocks * 64, count = std::min<int64_t>(64, c_out - oc0);
        transpose_bytes(reinterpret_cast<const uint8_t*>(rows) + img * pixels * c_out + oc0, pixels, count, c_out,
                        reinterpret_cast<uint8_t*>(out) + (img * c_out + oc0) * pixels, pixels);
      }
      return int64_t(-1);
    });
    return;
  }
  parallel_tasks(n * c_out, pixels, [&](int64_t t0, int64_t t1) -> int64_t {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t img = t / c_out, oc = t % c_out;
      const char* src = rows + (img * pixels * c_out + oc) * elem;
      char* dst = out + t * pixels * elem;
      for (int64_t q = 0; q < pixels; ++q) {
        std::memcpy(dst + q * elem, src + q * c_out * elem, static_cast<size_t>(elem));
      }
    }
    return int64_t(-1);
  });
}

// The conv as that matmul: matmul(shape, rows, staging) computes the outputs into `staging`
// ([n * pixels, c_out] of elem bytes), then moved to `out`.
template <typename X, class Matmul>
void conv_as_matmul(const Geometry& gm, const X* x, int32_t x_zp, int64_t elem, void* out, Matmul&& matmul) {
  const Conv2DParams& p = gm.p;
  const Conv2DShape& s = gm.s;
  const int64_t hp = s.h + p.pad_top + p.pad_bottom, wp = s.w + p.pad_left + p.pad_right, c = gm.cig;
  const int64_t pixels = gm.oh * gm.ow, k = s.kh * s.kw * c;
  // the input channels-last ([H * W][C], transposed whole: its rows are too short for the 16 x 16
  // blocks), then padded ([hp][wp][C]), then each pixel's window: its taps' C_in codes in a row
  const int64_t plane = s.h * s.w, unpadded_bytes = s.n * plane * c;
  uint8_t* const cl = static_cast<uint8_t*>(
      thread_scratch(ScratchSlot::kCallPixelRows, unpadded_bytes + s.n * hp * wp * c + s.n * pixels * k));
  uint8_t* const padded = cl + unpadded_bytes;
  uint8_t* const rows = padded + s.n * hp * wp * c;
  constexpr int64_t kBlock = 256;  // pixels per transposing task
  const int64_t blocks = (plane + kBlock - 1) / kBlock;
  parallel_tasks(s.n * blocks, kBlock * c, [&](int64_t t0, int64_t t1) -> int64_t {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t img = t / blocks, q0 = t % blocks * kBlock, count = std::min(kBlock, plane - q0);
      transpose_bytes(reinterpret_cast<const uint8_t*>(x + img * c * plane) + q0, c, count, plane,
                      cl + (img * plane + q0) * c, c);
    }
    return int64_t(-1);
  });
  const uint8_t zp = static_cast<uint8_t>(x_zp);  // the code's byte (int8: two's complement)
  for (int64_t r = 0; r < s.n * hp; ++r) {
    const int64_t img = r / hp, iy = r % hp - p.pad_top;
    uint8_t* dst = padded + r * wp * c;
    if (iy < 0 || iy >= s.h) {
      std::memset(dst, zp, static_cast<size_t>(wp * c));
      continue;
    }
    std::memset(dst, zp, static_cast<size_t>(p.pad_left * c));
    std::memcpy(dst + p.pad_left * c, cl + (img * plane + iy * s.w) * c, static_cast<size_t>(s.w * c));
    std::memset(dst + (p.pad_left + s.w) * c, zp, static_cast<size_t>(p.pad_right * c));
  }
  // a pixel's taps kx of one filter row are consecutive in the channels-last row at dilation 1
  const int64_t run = p.dilation_w == 1 ? s.kw * c : c, runs = p.dilation_w == 1 ? 1 : s.kw;
  parallel_tasks(s.n * pixels, k, [&](int64_t q0, int64_t q1) -> int64_t {
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t img = q / pixels, oy = q % pixels / gm.ow, ox = q % gm.ow;
      uint8_t* dst = rows + q * k;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const uint8_t* src_row = padded + (img * hp + oy * p.stride_h + ky * p.dilation_h) * wp * c;
        for (int64_t i = 0; i < runs; ++i) {
          std::memcpy(dst + ky * s.kw * c + i * run, src_row + (ox * p.stride_w + i * p.dilation_w) * c,
                      static_cast<size_t>(run));
        }
      }
    }
    return int64_t(-1);
  });
  char* const staging =
      static_cast<char*>(thread_scratch(ScratchSlot::kCallPixelOutputs, s.n * pixels * s.c_out * elem));
  MatMulShape shape;
  shape.m = s.n * pixels, shape.k = k, shape.n = s.c_out;
  matmul(shape, reinterpret_cast<const X*>(rows), staging);
  pixel_rows_to_planes(staging, s.n, pixels, s.c_out, elem, static_cast<char*>(out));
}

// The entry points' common body: validate, run (packed: null or w packed once), raise.
template <typename X, typename W, typename Out>
void accumulate_into(const char* kernel, const Conv2DParams& params, const Conv2DShape& shape, const X* x,
                     int32_t x_zero_point, const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point,
                     const PackedConvWeights* packed, const int64_t* bias, Out* out) {
  const IntRange range = checked_accumulate<Out>(kernel, params.acc);
  const Geometry gm = checked_geometry<X, W>(kernel, params, shape, x_zero_point, w_zero_point_count, w_zero_point);
  if constexpr (sizeof(X) == 1 && sizeof(W) == 1 && std::is_same<Out, int32_t>::value) {
    if (conv_as_matmul_applies(gm, packed)) {
      conv_as_matmul(gm, x, x_zero_point, 4, out, [&](const MatMulShape& m, const X* rows, char* staging) {
        matmul_accumulate(params.acc, m, rows, x_zero_point, packed->as_matmul(), bias,
                          reinterpret_cast<int32_t*>(staging));
      });
      return;
    }
  }
  const AccumulatorSink<Out> sink{params.acc.acc_bits, out};
  const int64_t bad = conv_run(gm, range, x, x_zero_point, w, w_zero_point_count, w_zero_point, packed, bias, sink);
  if (bad >= 0) throw_outside_accumulator(kernel, gm, bad);
}

template <typename X, typename W>
void requantize_into(const char* kernel, const Conv2DParams& params, const Conv2DShape& shape, const X* x,
                     int32_t x_zero_point, const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point,
                     const PackedConvWeights* packed, const int64_t* bias, const int64_t* acc_offset,
                     const RequantizeArgs& rq, OutType out_type, void* out) {
  const IntRange range = checked_accumulate<int64_t>(kernel, params.acc);
  const Geometry gm = checked_geometry<X, W>(kernel, params, shape, x_zero_point, w_zero_point_count, w_zero_point);
  const RequantizePlan plan =
      fused_plan(kernel, rq, params.acc.acc_bits, acc_offset != nullptr, out_type, shape.c_out);
  // (the plan first: it validates the requantization's arguments under this kernel's name)
  if constexpr (sizeof(X) == 1 && sizeof(W) == 1) {
    const bool by_index = rq.params.rounding == RoundingMode::STOCHASTIC || acc_offset != nullptr;
    const bool register_form = rq.method == RequantizeMethod::kFp32 ||
                               rq.method == RequantizeMethod::kDoubleRound;
    if (!by_index && register_form && conv_as_matmul_applies(gm, packed)) {
      conv_as_matmul(gm, x, x_zero_point, out_type_bytes(out_type), out,
                     [&](const MatMulShape& m, const X* rows, char* staging) {
                       matmul_requantize(params.acc, m, rows, x_zero_point, packed->as_matmul(), bias, nullptr, rq,
                                         out_type, staging);
                     });
      return;
    }
  }
  FirstRejected rejected;
  const RequantizeSink sink{params.acc.acc_bits, &plan, acc_offset, static_cast<char*>(out), plan.out_bytes(),
                            &rejected};
  const int64_t bad = conv_run(gm, range, x, x_zero_point, w, w_zero_point_count, w_zero_point, packed, bias, sink);
  if (bad >= 0) throw_outside_accumulator(kernel, gm, bad);
  if (rejected.index() >= 0) plan.throw_bad(rejected.index(), rejected.value());
}

// Calls f(codes) with the packed weights' original codes in their own type, after checking that
// they are the weights of `shape` (std::invalid_argument otherwise).
template <class F>
void with_packed_codes(const char* kernel, const Conv2DParams& params, const Conv2DShape& shape,
                       const PackedConvWeights& w, F&& f) {
  conv2d_output_size(params, shape);  // groups divide the channels
  if (w.c_out != shape.c_out || w.cig != shape.c_in / params.groups || w.kh != shape.kh || w.kw != shape.kw) {
    throw_invalid(kernel, "the packed weights are [" + std::to_string(w.c_out) + ", " + std::to_string(w.cig) + ", " +
                              std::to_string(w.kh) + ", " + std::to_string(w.kw) + "], the call needs [" +
                              std::to_string(shape.c_out) + ", " + std::to_string(shape.c_in / params.groups) + ", " +
                              std::to_string(shape.kh) + ", " + std::to_string(shape.kw) + "]");
  }
  if (w.offsets.w_unsigned) {
    f(w.codes.data());
  } else {
    f(reinterpret_cast<const int8_t*>(w.codes.data()));
  }
}

}  // namespace

template <typename X, typename W, typename Out>
void conv2d_accumulate(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point, const int64_t* bias,
                       Out* out) {
  accumulate_into(kName, params, shape, x, x_zero_point, w, w_zero_point_count, w_zero_point, nullptr, bias, out);
}

template <typename X, typename W>
void conv2d_requantize(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point, const int64_t* bias,
                       const int64_t* acc_offset, const RequantizeArgs& rq, OutType out_type, void* out) {
  requantize_into("conv2d_requantize", params, shape, x, x_zero_point, w, w_zero_point_count, w_zero_point, nullptr,
                  bias, acc_offset, rq, out_type, out);
}

template <typename X, typename Out>
void conv2d_accumulate(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const PackedConvWeights& w, const int64_t* bias, Out* out) {
  with_packed_codes(kName, params, shape, w, [&](const auto* codes) {
    accumulate_into(kName, params, shape, x, x_zero_point, codes, static_cast<int64_t>(w.offsets.zero_point.size()),
                    w.offsets.zero_point.data(), &w, bias, out);
  });
}

template <typename X>
void conv2d_requantize(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const PackedConvWeights& w, const int64_t* bias, const int64_t* acc_offset,
                       const RequantizeArgs& rq, OutType out_type, void* out) {
  constexpr const char* kFused = "conv2d_requantize";
  with_packed_codes(kFused, params, shape, w, [&](const auto* codes) {
    requantize_into(kFused, params, shape, x, x_zero_point, codes, static_cast<int64_t>(w.offsets.zero_point.size()),
                    w.offsets.zero_point.data(), &w, bias, acc_offset, rq, out_type, out);
  });
}

#define FXSIM_CONV2D_PACKED_INSTANTIATE(X)                                                                   \
  template void conv2d_accumulate<X, int32_t>(const Conv2DParams&, const Conv2DShape&, const X*, int32_t,   \
                                              const PackedConvWeights&, const int64_t*, int32_t*);         \
  template void conv2d_accumulate<X, int64_t>(const Conv2DParams&, const Conv2DShape&, const X*, int32_t,   \
                                              const PackedConvWeights&, const int64_t*, int64_t*);         \
  template void conv2d_requantize<X>(const Conv2DParams&, const Conv2DShape&, const X*, int32_t,            \
                                     const PackedConvWeights&, const int64_t*, const int64_t*,              \
                                     const RequantizeArgs&, OutType, void*);
FXSIM_CONV2D_PACKED_INSTANTIATE(uint8_t)
FXSIM_CONV2D_PACKED_INSTANTIATE(int8_t)
FXSIM_CONV2D_PACKED_INSTANTIATE(uint16_t)
FXSIM_CONV2D_PACKED_INSTANTIATE(int16_t)

#define FXSIM_CONV2D_INSTANTIATE(X, W, O)                                                                     \
  template void conv2d_accumulate<X, W, O>(const Conv2DParams&, const Conv2DShape&, const X*, int32_t, const W*, \
                                           int64_t, const int32_t*, const int64_t*, O*);
#define FXSIM_CONV2D_INSTANTIATE_W(X, W) \
  FXSIM_CONV2D_INSTANTIATE(X, W, int32_t) \
  FXSIM_CONV2D_INSTANTIATE(X, W, int64_t)
#define FXSIM_CONV2D_INSTANTIATE_X(X)         \
  FXSIM_CONV2D_INSTANTIATE_W(X, int8_t)       \
  FXSIM_CONV2D_INSTANTIATE_W(X, uint8_t)      \
  FXSIM_CONV2D_INSTANTIATE_W(X, int16_t)
FXSIM_CONV2D_INSTANTIATE_X(uint8_t)
FXSIM_CONV2D_INSTANTIATE_X(int8_t)
FXSIM_CONV2D_INSTANTIATE_X(uint16_t)
FXSIM_CONV2D_INSTANTIATE_X(int16_t)

#define FXSIM_CONV2D_REQUANTIZE_INSTANTIATE(X, W)                                                             \
  template void conv2d_requantize<X, W>(const Conv2DParams&, const Conv2DShape&, const X*, int32_t, const W*, \
                                        int64_t, const int32_t*, const int64_t*, const int64_t*,              \
                                        const RequantizeArgs&, OutType, void*);
#define FXSIM_CONV2D_REQUANTIZE_INSTANTIATE_X(X)   \
  FXSIM_CONV2D_REQUANTIZE_INSTANTIATE(X, int8_t)   \
  FXSIM_CONV2D_REQUANTIZE_INSTANTIATE(X, uint8_t)  \
  FXSIM_CONV2D_REQUANTIZE_INSTANTIATE(X, int16_t)
FXSIM_CONV2D_REQUANTIZE_INSTANTIATE_X(uint8_t)
FXSIM_CONV2D_REQUANTIZE_INSTANTIATE_X(int8_t)
FXSIM_CONV2D_REQUANTIZE_INSTANTIATE_X(uint16_t)
FXSIM_CONV2D_REQUANTIZE_INSTANTIATE_X(int16_t)

}  // namespace fxsim
