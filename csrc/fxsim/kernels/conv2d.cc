// conv2d_accumulate (conv2d.h): validation, the definition loop for every policy, and the WRAP
// fast path for 8-bit operands.
#include "fxsim/kernels/conv2d.h"

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "fxsim/kernels/accumulate_entry.h"
#include "fxsim/kernels/accumulator_sink.h"
#include "fxsim/kernels/direct_conv2d.h"
#include "fxsim/kernels/direct_conv_kernels.h"
#include "fxsim/kernels/gemm_kernels.h"
#include "fxsim/kernels/packed_weights.h"
#include "fxsim/kernels/parallel.h"

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
// words of 4 input channels (byte c % 4 of word c / 4, channels past C_in / groups 0), padded
// with x_zp' (a padded position holds x_zp, as FBGEMM's im2col pads with A_zp; its corrected
// product is 0 as TFLite skips it) and split into stride_w phases so that one output row reads
// contiguous words; then per (n, group, output row or column chunk) one dot4 GEMM of the packed
// weight rows by those words, the correction, and bias + wrap (the sink). Every output is the
// same exact modular sum, so the ISA variant and the thread split cannot change a bit.
// A 1x1 kernel with a stride and no padding (a ResNet downsample) reads input (oy * stride_h,
// ox * stride_w) for output (oy, ox) and nothing else: its words are gathered compactly (word
// oy * OW + ox, the stride-1 layout of an OH x OW input), so it runs as a stride-1 1x1 conv.
template <typename X, class Sink>
int64_t conv_dot4(const Geometry& gm, const X* x, int32_t x_zp, const PackedConvWeights& pw, const int64_t* bias,
                  const Sink& sink) {
  const Conv2DParams& p = gm.p;
  const Conv2DShape& s = gm.s;
  const bool unpadded = p.pad_top + p.pad_left + p.pad_bottom + p.pad_right == 0;
  const bool pointwise_strided = unpadded && s.kh == 1 && s.kw == 1 && (p.stride_h > 1 || p.stride_w > 1);
  const int64_t hp = pointwise_strided ? gm.oh : s.h + p.pad_top + p.pad_bottom;
  const int64_t wp = pointwise_strided ? gm.ow : s.w + p.pad_left + p.pad_right;
  const int64_t sw = pointwise_strided ? 1 : p.stride_w;  // the layout's phases
  const int64_t wq = (wp + sw - 1) / sw;
  const int64_t plane = hp * sw * wq;  // words of one padded, phase-split group of 4 channels
  const int64_t cq = pw.cq, words = pw.groups4, groups = p.groups;
  const bool x_signed = std::is_signed<X>::value;
  const int32_t x_zp_packed = x_zp + (x_signed ? 128 : 0);  // in [0, 255]
  const bool fill = !unpadded || sw > 1;

  // Every word is written below (filled first when there is padding or a stride phase). The
  // buffer is the calling thread's scratch, kept between calls (parallel.h).
  uint32_t* const xq = static_cast<uint32_t*>(
      thread_scratch(ScratchSlot::kCallInput, s.n * groups * cq * plane * static_cast<int64_t>(sizeof(uint32_t))));
  const bool partial_quad = gm.cig % 4 != 0;  // the last quad of a group reads zero rows past its channels
  const std::vector<uint8_t> zero_row(static_cast<size_t>(partial_quad ? s.w : 0), 0);
  const std::vector<uint8_t> zero_plane(static_cast<size_t>(partial_quad && !fill ? s.h * s.w : 0), 0);
  const Interleave4Fn interleave4 = active_gemm_kernels().interleave4;
  const DirectConvTable* direct = active_direct_conv_kernels();
  const Interleave4StridedFn gather4 = direct != nullptr && p.stride_w <= 4 ? direct->interleave4_strided
                                                                            : interleave4_strided_plain;
  // Stride 1, no padding: plane pl (of n * groups * cq) is its 4 channels' h * w bytes in order,
  // and words [j0, j0 + count) of it come from bytes [j0, j0 + count) of each channel; a strided
  // 1x1 gathers word j from byte (j / OW * stride_h) * W + j % OW * stride_w.
  auto interleave_columns = [&](int64_t pl, int64_t j0, int64_t count) {
    const int64_t q = pl % cq, g = pl / cq % groups, n = pl / (cq * groups);
    const int64_t c_first = g * gm.cig + 4 * q;
    const int valid = static_cast<int>(std::min<int64_t>(4, gm.cig - 4 * q));
    const uint32_t bytes = valid == 4 ? 0xFFFFFFFFu : (uint32_t(1) << (8 * valid)) - 1u;
    const uint32_t flip = x_signed ? 0x80808080u & bytes : 0u;  // x + 128 as a byte: x ^ 0x80
    const uint8_t* src[4];  // the codes' bytes (int8 read as unsigned char: the two's-complement byte)
    for (int b = 0; b < 4; ++b) {
      src[b] = b < valid ? reinterpret_cast<const uint8_t*>(x + (n * s.c_in + c_first + b) * s.h * s.w)
                         : zero_plane.data();
    }
    if (pointwise_strided) {
      gather4(src, p.stride_h * s.w, gm.ow, p.stride_w, j0, count, flip, xq + pl * plane + j0);
      return;
    }
    interleave4(src[0] + j0, src[1] + j0, src[2] + j0, src[3] + j0, count, flip, xq + pl * plane + j0);
  };
  // A 1x1 kernel at stride 1 without padding (or a strided 1x1, gathered) reads, for output
  // column j, word j of each plane and nothing else: the GEMM tasks below interleave their own
  // columns first (one parallel phase, no barrier between packing and GEMM, and each core reads
  // the words it wrote, not half of them from the other core's cache). On one thread the single task interleaves every
  // column and then runs the GEMM, the order of the separate pass.
  const bool interleave_in_tasks = !fill && s.kh == 1 && s.kw == 1 && (p.stride_h == 1 || pointwise_strided);
  if (!interleave_in_tasks) {
    parallel_tasks(s.n * groups * cq, plane, [&](int64_t c0, int64_t c1) -> int64_t {
      for (int64_t pl = c0; pl < c1; ++pl) {
        if (!fill) {
          interleave_columns(pl, 0, plane);
          continue;
        }
        const int64_t q = pl % cq, g = pl / cq % groups, n = pl / (cq * groups);
        const int64_t c_first = g * gm.cig + 4 * q;
        const int valid = static_cast<int>(std::min<int64_t>(4, gm.cig - 4 * q));
        const uint32_t bytes = valid == 4 ? 0xFFFFFFFFu : (uint32_t(1) << (8 * valid)) - 1u;
        const uint32_t flip = x_signed ? 0x80808080u & bytes : 0u;  // x + 128 as a byte: x ^ 0x80
        uint32_t* dst = xq + pl * plane;
        std::fill(dst, dst + plane, (static_cast<uint32_t>(x_zp_packed) * 0x01010101u) & bytes);
        for (int64_t iy = 0; iy < s.h; ++iy) {
          const uint8_t* src[4];
          for (int b = 0; b < 4; ++b) {
            src[b] = b < valid ? reinterpret_cast<const uint8_t*>(x + ((n * s.c_in + c_first + b) * s.h + iy) * s.w)
                               : zero_row.data();
          }
          uint32_t* row = dst + (iy + p.pad_top) * sw * wq;
          if (sw == 1) {
            interleave4(src[0], src[1], src[2], src[3], s.w, flip, row + p.pad_left);
            continue;
          }
          auto word = [&](int64_t ix) {
            return (static_cast<uint32_t>(src[0][ix]) | static_cast<uint32_t>(src[1][ix]) << 8 |
                    static_cast<uint32_t>(src[2][ix]) << 16 | static_cast<uint32_t>(src[3][ix]) << 24) ^
                   flip;
          };
          // padded column col = ix + pad_left = q * sw + phase goes to row[phase * wq + q]
          for (int64_t phase = 0; phase < sw; ++phase) {
            const int64_t ix0 = ((phase - p.pad_left) % sw + sw) % sw;
            uint32_t* drow = row + phase * wq + (ix0 + p.pad_left) / sw;
            const int64_t count = ix0 < s.w ? (s.w - ix0 + sw - 1) / sw : 0;
            for (int64_t i = 0; i < count; ++i) drow[i] = word(ix0 + i * sw);
          }
        }
      }
      return -1;
    });
  }
  // word (ky * KW + kx) * cq + q of a weight row meets this offset of the group's input words
  std::vector<int64_t> goff(static_cast<size_t>(words));
  for (int64_t ky = 0; ky < s.kh; ++ky) {
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      const int64_t col = kx * p.dilation_w;
      for (int64_t q = 0; q < cq; ++q) {
        goff[(ky * s.kw + kx) * cq + q] = q * plane + ky * p.dilation_h * sw * wq + (col % sw) * wq + col / sw;
      }
    }
  }
  std::vector<uint32_t> constant(static_cast<size_t>(s.c_out));
  for (int64_t oc = 0; oc < s.c_out; ++oc) constant[oc] = pw.offsets.constant(oc, gm.depth, x_zp_packed);
  const Dot4Fn gemm = active_gemm_kernels().dot4_s8u8;
  // With acc_bits 32 every sink wraps sum + bias modulo 2^32, so a constant correction is one
  // more term of the bias (bias + constant mod 2^32 gives the same bits); wider accumulators
  // sign-extend the corrected int32 sum first, so there the sums are corrected in place.
  const bool fold = p.acc.acc_bits == 32 && !pw.offsets.any_zp;
  // rows [0, cog) of tmp (count columns each) from the words at `base`: raw sums, then corrected
  auto corrected_gemm = [&](int64_t g, const uint32_t* base, int64_t count, uint32_t* tmp, uint32_t* xsum) {
    gemm(pw.words.data() + g * gm.cog * words, words, base, kDot4TileCols, goff.data(), gm.cog, count, words, tmp,
         count);
    if (pw.offsets.any_zp) gemm(pw.ones.data(), words, base, kDot4TileCols, goff.data(), 1, count, words, xsum, count);
    if (fold) return;  // the constant goes with the bias (finish_row)
    for (int64_t m = 0; m < gm.cog; ++m) {
      const int64_t oc = g * gm.cog + m;
      uint32_t* row = tmp + m * count;
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
  const int64_t group_words = cq * plane;
  if ((p.stride_h == 1 && sw == 1) || pointwise_strided) {
    // Stride 1 (or a strided 1x1's gathered words): output (oy, ox) reads xq[base + oy * wq + ox + goff[g]], linear in
    // j = oy * wq + ox, so a whole output plane is one GEMM over (OH - 1) * wq + OW columns (the
    // wq - OW columns between rows are computed and dropped: in-buffer reads, a few % of work).
    // The tasks are the planes' 64-column tiles (the kernel's register tile): parallel_tasks
    // hands each thread a few runs of whole tiles, balanced to a tile (256-column tasks cut a
    // 56 x 56 plane into 13, i.e. 7 against 6 on two threads). A run is computed in pieces of
    // at most kChunk columns (a piece's sums, cog x kChunk words, stay in L1 / L2 for the sink).
    const int64_t cols = (gm.oh - 1) * wq + gm.ow;
    const int64_t tiles = (cols + kDot4TileCols - 1) / kDot4TileCols;
    constexpr int64_t kChunk = 4 * kDot4TileCols;
    const int64_t tile_work = gm.cog * kDot4TileCols * gm.depth;
    // Two runs per thread where each run interleaves its own columns first: longer runs of the
    // input rows per interleave (1x1 144 -> 24 at 56 x 56 on 2 threads: ~53.5 us against ~55.5
    // with four, at 1-minute load ~1.5).
    const int64_t pieces_per_thread = interleave_in_tasks ? 2 : kPiecesPerThread;
    const int64_t tile_count = s.n * groups * tiles;
    return parallel_tasks_in_pieces(tile_count, tile_work, pieces_per_thread, [&](int64_t t0, int64_t t1) -> int64_t {
      const int64_t chunk_cols = std::min(kChunk, (t1 - t0) * kDot4TileCols);
      uint32_t* const tmp = static_cast<uint32_t*>(
          thread_scratch(ScratchSlot::kTaskSums, gm.cog * chunk_cols * static_cast<int64_t>(sizeof(uint32_t))));
      uint32_t* const packed =
          static_cast<uint32_t*>(thread_scratch(ScratchSlot::kTaskPacked, chunk_cols * int64_t(sizeof(uint32_t))));
      uint32_t* const xsum = static_cast<uint32_t*>(
          thread_scratch(ScratchSlot::kTaskColumnSums, chunk_cols * int64_t(sizeof(uint32_t))));
      int64_t first = -1;
      for (int64_t t = t0; t < t1;) {
        // the tiles [t, t_end) of one (n, g) plane: columns [j_begin, j_end)
        const int64_t ng = t / tiles, g = ng % groups, n = ng / groups;
        const int64_t t_end = std::min(t1, (ng + 1) * tiles);
        const int64_t j_begin = (t - ng * tiles) * kDot4TileCols;
        const int64_t j_end = std::min(cols, (t_end - ng * tiles) * kDot4TileCols);
        t = t_end;
        if (interleave_in_tasks) {
          for (int64_t q = 0; q < cq; ++q) interleave_columns(ng * cq + q, j_begin, j_end - j_begin);
        }
        for (int64_t j0 = j_begin; j0 < j_end; j0 += chunk_cols) {
          const int64_t count = std::min(chunk_cols, j_end - j0);
          corrected_gemm(g, xq + ng * group_words + j0, count, tmp, xsum);
          for (int64_t m = 0; m < gm.cog; ++m) {
            const uint32_t* sums = tmp + m * count;
            if (wq == gm.ow) {  // no dropped columns between rows: the sums are consecutive outputs
              first = lower_bad(first, finish_row(sums, n, g, m, j0 / wq, j0 % wq, count));
              continue;
            }
            // columns [j0, j0 + count) cut into the pieces of output rows they hold; the pieces
            // are consecutive outputs of one plane (row oy + 1 follows row oy), so they go to the
            // sink packed, as one run (one requantization call per chunk, not one per row)
            int64_t packed_count = 0, oy0 = 0, ox0 = 0;
            for (int64_t j = j0; j < j0 + count;) {
              const int64_t oy = j / wq, ox = j % wq;
              const int64_t row_end = std::min(oy * wq + wq, j0 + count);
              if (ox < gm.ow) {
                const int64_t len = std::min(gm.ow - ox, row_end - j);
                if (packed_count == 0) oy0 = oy, ox0 = ox;
                std::copy_n(sums + (j - j0), len, packed + packed_count);
                packed_count += len;
              }
              j = row_end;
            }
            if (packed_count > 0) first = lower_bad(first, finish_row(packed, n, g, m, oy0, ox0, packed_count));
          }
        }
      }
      return first;
    });
  }
  return parallel_tasks(s.n * groups * gm.oh, gm.cog * gm.ow * gm.depth, [&](int64_t t0, int64_t t1) -> int64_t {
    uint32_t* const tmp = static_cast<uint32_t*>(
        thread_scratch(ScratchSlot::kTaskSums, gm.cog * gm.ow * static_cast<int64_t>(sizeof(uint32_t))));
    uint32_t* const xsum =
        static_cast<uint32_t*>(thread_scratch(ScratchSlot::kTaskColumnSums, gm.ow * int64_t(sizeof(uint32_t))));
    int64_t first = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t oy = t % gm.oh, ng = t / gm.oh;
      const int64_t g = ng % groups, n = ng / groups;
      corrected_gemm(g, xq + (n * groups + g) * group_words + oy * p.stride_h * sw * wq, gm.ow, tmp, xsum);
      for (int64_t m = 0; m < gm.cog; ++m) {
        first = lower_bad(first, finish_row(tmp + m * gm.ow, n, g, m, oy, 0, gm.ow));
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
  } pads[] = {{"pad_top", p.pad_top}, {"pad_left", p.pad_left}, {"pad_bottom", p.pad_bottom}, {"pad_right", p.pad_right}};
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
      // (w is the packed object's own copy of them when `packed` is given).
      if (depthwise_conv2d_applies(params, gm.s, gm.oh, gm.ow)) {
        depthwise_conv2d_wrap8(params, gm.s, gm.oh, gm.ow, x, x_zero_point, w, w_zero_point_count, w_zero_point, bias,
                               sink);
        return -1;
      }
      if (small_depth_conv2d_applies(params, gm.s, gm.oh, gm.ow)) {
        small_depth_conv2d_wrap8(params, gm.s, gm.oh, gm.ow, x, x_zero_point, w, w_zero_point_count, w_zero_point,
                                 bias, sink);
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

// The entry points' common body: validate, run (packed: null or w packed once), raise.
template <typename X, typename W, typename Out>
void accumulate_into(const char* kernel, const Conv2DParams& params, const Conv2DShape& shape, const X* x,
                     int32_t x_zero_point, const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point,
                     const PackedConvWeights* packed, const int64_t* bias, Out* out) {
  const IntRange range = checked_accumulate<Out>(kernel, params.acc);
  const Geometry gm = checked_geometry<X, W>(kernel, params, shape, x_zero_point, w_zero_point_count, w_zero_point);
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
