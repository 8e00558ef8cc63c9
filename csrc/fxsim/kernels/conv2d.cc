// conv2d_accumulate (conv2d.h): validation, the definition loop for every policy, and the WRAP
// fast path for 8-bit operands.
#include "fxsim/kernels/conv2d.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fxsim/kernels/accumulate_entry.h"
#include "fxsim/kernels/accumulator_sink.h"
#include "fxsim/kernels/direct_conv2d.h"
#include "fxsim/kernels/gemm_kernels.h"
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

// WRAP with 8-bit x and w: x - x_zp and w - w_zp[oc] widened to int16 (|v| <= 255), the input
// padded with zeros (= x_zp before the subtraction) and split into stride_w phases so that one
// output row reads contiguous int16 runs, then per (n, group, output row) one small GEMM
//   tmp[m, ox] = sum_k ws[g*cog + m, k] * xp[base + koff[k] + ox]  (mod 2^32, gemm_kernels.h)
// and bias + wrap (finish_wrapped_u32). Every output is computed by the same exact modular sum,
// so the ISA variant and the thread split cannot change a bit.
template <typename X, typename W, class Sink>
int64_t conv_wrap8(const Geometry& gm, const X* x, int32_t x_zp, const W* w, int64_t wzc, const int32_t* w_zp,
                   const int64_t* bias, const Sink& sink) {
  const Conv2DParams& p = gm.p;
  const Conv2DShape& s = gm.s;
  const int64_t hp = s.h + p.pad_top + p.pad_bottom;
  const int64_t wp = s.w + p.pad_left + p.pad_right;
  const int64_t sw = p.stride_w;
  const int64_t wq = (wp + sw - 1) / sw;
  const int64_t plane = hp * sw * wq;  // one padded, phase-split channel

  std::vector<int16_t> ws(static_cast<size_t>(s.c_out * gm.depth));
  for (int64_t oc = 0; oc < s.c_out; ++oc) {
    const int32_t wz = w_zp[wzc == 1 ? 0 : oc];
    for (int64_t k = 0; k < gm.depth; ++k) {
      ws[oc * gm.depth + k] = static_cast<int16_t>(static_cast<int32_t>(w[oc * gm.depth + k]) - wz);
    }
  }
  std::vector<int16_t> xp(static_cast<size_t>(s.n * s.c_in * plane), 0);
  parallel_tasks(s.n * s.c_in, plane, [&](int64_t c0, int64_t c1) -> int64_t {
    for (int64_t nc = c0; nc < c1; ++nc) {
      const X* src = x + nc * s.h * s.w;
      int16_t* dst = xp.data() + nc * plane;
      for (int64_t iy = 0; iy < s.h; ++iy) {
        int16_t* row = dst + (iy + p.pad_top) * sw * wq;
        const X* srow = src + iy * s.w;
        // padded column col = ix + pad_left = q * sw + phase goes to row[phase * wq + q]
        for (int64_t phase = 0; phase < sw; ++phase) {
          const int64_t ix0 = ((phase - p.pad_left) % sw + sw) % sw;
          int16_t* drow = row + phase * wq + (ix0 + p.pad_left) / sw;
          const int64_t count = ix0 < s.w ? (s.w - ix0 + sw - 1) / sw : 0;
          for (int64_t i = 0; i < count; ++i) {
            drow[i] = static_cast<int16_t>(static_cast<int32_t>(srow[ix0 + i * sw]) - x_zp);
          }
        }
      }
    }
    return -1;
  });
  // k = (ic * KH + ky) * KW + kx, the weights' own layout.
  std::vector<int64_t> koff(static_cast<size_t>(gm.depth));
  for (int64_t ic = 0; ic < gm.cig; ++ic) {
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        const int64_t col = kx * p.dilation_w;
        koff[(ic * s.kh + ky) * s.kw + kx] = ic * plane + ky * p.dilation_h * sw * wq + (col % sw) * wq + col / sw;
      }
    }
  }
  const GemmI16Fn gemm = active_gemm_kernels().gemm_i16_u32;
  const int64_t groups = p.groups;
  auto finish_row = [&](const uint32_t* src, int64_t n, int64_t g, int64_t m, int64_t oy, int64_t ox0, int64_t count) {
    const int64_t oc = g * gm.cog + m;
    const int64_t b = bias != nullptr ? bias[oc] : 0;
    return sink.wrapped(src, b, oc, ((n * s.c_out + oc) * gm.oh + oy) * gm.ow + ox0, count);
  };
  if (p.stride_h == 1 && sw == 1) {
    // Stride 1: output (oy, ox) reads xp[base + oy * wq + ox + koff[k]], linear in
    // j = oy * wq + ox, so a whole output plane is one GEMM over (OH - 1) * wq + OW columns (the
    // wq - OW columns between rows are computed and dropped: in-buffer reads, a few % of work).
    const int64_t cols = (gm.oh - 1) * wq + gm.ow;
    constexpr int64_t kChunk = 1024;  // columns per task
    const int64_t chunks = (cols + kChunk - 1) / kChunk;
    return parallel_tasks(s.n * groups * chunks, gm.cog * kChunk * gm.depth, [&](int64_t t0, int64_t t1) -> int64_t {
      std::vector<uint32_t> tmp(static_cast<size_t>(gm.cog * kChunk)), packed(static_cast<size_t>(kChunk));
      int64_t first = -1;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t chunk = t % chunks, ng = t / chunks;
        const int64_t g = ng % groups, n = ng / groups;
        const int64_t j0 = chunk * kChunk, count = std::min(kChunk, cols - j0);
        const int16_t* base = xp.data() + (n * s.c_in + g * gm.cig) * plane + j0;
        gemm(ws.data() + g * gm.cog * gm.depth, gm.depth, base, koff.data(), gm.cog, count, gm.depth, tmp.data(),
             count);
        for (int64_t m = 0; m < gm.cog; ++m) {
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
              std::copy_n(tmp.data() + m * count + (j - j0), len, packed.data() + packed_count);
              packed_count += len;
            }
            j = row_end;
          }
          if (packed_count > 0) first = lower_bad(first, finish_row(packed.data(), n, g, m, oy0, ox0, packed_count));
        }
      }
      return first;
    });
  }
  return parallel_tasks(s.n * groups * gm.oh, gm.cog * gm.ow * gm.depth, [&](int64_t t0, int64_t t1) -> int64_t {
    std::vector<uint32_t> tmp(static_cast<size_t>(gm.cog * gm.ow));
    int64_t first = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t oy = t % gm.oh, ng = t / gm.oh;
      const int64_t g = ng % groups, n = ng / groups;
      const int16_t* base = xp.data() + (n * s.c_in + g * gm.cig) * plane + oy * p.stride_h * sw * wq;
      gemm(ws.data() + g * gm.cog * gm.depth, gm.depth, base, koff.data(), gm.cog, gm.ow, gm.depth, tmp.data(), gm.ow);
      for (int64_t m = 0; m < gm.cog; ++m) {
        first = lower_bad(first, finish_row(tmp.data() + m * gm.ow, n, g, m, oy, 0, gm.ow));
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
template <typename X, typename W, class Sink>
int64_t conv_run(const Geometry& gm, IntRange range, const X* x, int32_t x_zero_point, const W* w,
                 int64_t w_zero_point_count, const int32_t* w_zero_point, const int64_t* bias, const Sink& sink) {
  const Conv2DParams& params = gm.p;
  if (sizeof(X) == 1 && sizeof(W) == 1 && params.acc.policy == AccumulatePolicy::kWrap &&
      (params.acc.acc_bits == 32 || gm.depth <= kExactInt32Depth8)) {
    if constexpr (sizeof(X) == 1 && sizeof(W) == 1) {  // depthwise and first-layer convs: direct_conv2d.h
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
    }
    conv_wrap8(gm, x, x_zero_point, w, w_zero_point_count, w_zero_point, bias, sink);
    return -1;
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

template <typename X, typename W, typename Out>
void conv2d_accumulate(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point, const int64_t* bias,
                       Out* out) {
  const IntRange range = checked_accumulate<Out>(kName, params.acc);
  const Geometry gm = checked_geometry<X, W>(kName, params, shape, x_zero_point, w_zero_point_count, w_zero_point);
  const AccumulatorSink<Out> sink{params.acc.acc_bits, out};
  const int64_t bad = conv_run(gm, range, x, x_zero_point, w, w_zero_point_count, w_zero_point, bias, sink);
  if (bad >= 0) throw_outside_accumulator(kName, gm, bad);
}

template <typename X, typename W>
void conv2d_requantize(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point, const int64_t* bias,
                       const int64_t* acc_offset, const RequantizeArgs& rq, OutType out_type, void* out) {
  constexpr const char* kFused = "conv2d_requantize";
  const IntRange range = checked_accumulate<int64_t>(kFused, params.acc);
  const Geometry gm = checked_geometry<X, W>(kFused, params, shape, x_zero_point, w_zero_point_count, w_zero_point);
  const RequantizePlan plan =
      fused_plan(kFused, rq, params.acc.acc_bits, acc_offset != nullptr, out_type, shape.c_out);
  FirstRejected rejected;
  const RequantizeSink sink{params.acc.acc_bits, &plan, acc_offset, static_cast<char*>(out), plan.out_bytes(),
                            &rejected};
  const int64_t bad = conv_run(gm, range, x, x_zero_point, w, w_zero_point_count, w_zero_point, bias, sink);
  if (bad >= 0) throw_outside_accumulator(kFused, gm, bad);
  if (rejected.index() >= 0) plan.throw_bad(rejected.index(), rejected.value());
}

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
