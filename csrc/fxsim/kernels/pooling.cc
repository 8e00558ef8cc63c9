// Pooling entry points: validate once, then loop over planes (parallel_tasks). Contract: pooling.h.
#include "fxsim/kernels/pooling.h"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "fxsim/fixedpoint/division.h"
#include "fxsim/fixedpoint/multiplier.h"
#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/kernels/common.h"
#include "fxsim/kernels/parallel.h"

FXSIM_NAMESPACE_BEGIN
namespace {

// Half-open in-image range of one window along an axis, and its extent inside the padding.
struct Span {
  int64_t begin, end, padded;
};

inline Span window_span(int64_t o, int64_t stride, int64_t pad_before, int64_t pad_after, int64_t kernel,
                        int64_t size) {
  const int64_t start = o * stride - pad_before;
  const int64_t stop = start + kernel;
  const int64_t padded_stop = stop < size + pad_after ? stop : size + pad_after;
  return Span{start > 0 ? start : 0, stop < size ? stop : size, padded_stop - start};
}

void check_pool(const char* k, const Pool2DWindow& wd, const Pool2DShape& s) {
  if (s.n < 0 || s.c < 0 || s.h < 1 || s.w < 1) throw_invalid(k, "x must be [N, C, H, W] with H, W >= 1");
  if (s.out_h < 1 || s.out_w < 1) throw_invalid(k, "the output size must be at least 1x1");
  if (wd.kernel_h < 1 || wd.kernel_w < 1) throw_invalid(k, "kernel sizes must be >= 1");
  if (wd.kernel_h > (int64_t(1) << 16) / wd.kernel_w) throw_invalid(k, "kernel_h * kernel_w must be <= 65536");
  if (wd.stride_h < 1 || wd.stride_w < 1) throw_invalid(k, "strides must be >= 1");
  if (wd.pad_top < 0 || wd.pad_left < 0 || wd.pad_bottom < 0 || wd.pad_right < 0) {
    throw_invalid(k, "pads must be >= 0");
  }
  if (s.out_h > (int64_t(1) << 31) || s.out_w > (int64_t(1) << 31) || wd.stride_h > (int64_t(1) << 31) ||
      wd.stride_w > (int64_t(1) << 31) || wd.pad_top > (int64_t(1) << 31) || wd.pad_left > (int64_t(1) << 31) ||
      wd.pad_bottom > (int64_t(1) << 31) || wd.pad_right > (int64_t(1) << 31)) {
    throw_invalid(k, "sizes, strides and pads must be below 2^31");
  }
  // Windows are monotone in o: the first and last along each axis bound every other one.
  for (const int64_t oy : {int64_t(0), s.out_h - 1}) {
    const Span sp = window_span(oy, wd.stride_h, wd.pad_top, wd.pad_bottom, wd.kernel_h, s.h);
    if (sp.end <= sp.begin) {
      throw_invalid(k, "output row " + std::to_string(oy) + " has a window with no input row");
    }
  }
  for (const int64_t ox : {int64_t(0), s.out_w - 1}) {
    const Span sp = window_span(ox, wd.stride_w, wd.pad_left, wd.pad_right, wd.kernel_w, s.w);
    if (sp.end <= sp.begin) {
      throw_invalid(k, "output column " + std::to_string(ox) + " has a window with no input column");
    }
  }
}

// One average by method kMethod for a window; may throw (dpu_average out of int64).
template <AvgPoolMethod kMethod, typename T>
int32_t average_window(const AvgPoolParams& p, const T* plane, int64_t w, const Span& sy, const Span& sx,
                       int64_t kernel_taps) {
  const int64_t valid = (sy.end - sy.begin) * (sx.end - sx.begin);
  const int64_t padded = sy.padded * sx.padded;
  int64_t count = p.count_include_pad ? padded : valid;
  if constexpr (kMethod == AvgPoolMethod::kOrt) {
    // QLinearAveragePool divides by kernel_shape[0] * kernel_shape[1] with count_include_pad, also
    // for a ceil_mode window that runs past the end pad (qlinear_pool.cc QLinearPool2DTask:
    // Finalize(kernel_shape[0] * kernel_shape[1], ...); measured on ORT 1.32).
    if (p.count_include_pad) count = kernel_taps;
    float sum = 0.0f;
    for (int64_t y = sy.begin; y < sy.end; ++y) {
      for (int64_t x = sx.begin; x < sx.end; ++x) {
        sum = sum + p.in_scale * static_cast<float>(static_cast<int32_t>(plane[y * w + x]) - p.in_zero_point);
      }
    }
    const float avg = sum / static_cast<float>(count);
    const float v = avg / p.out_scale + static_cast<float>(p.out_zero_point);
    return clamp_to(x86_round_to_int32<RoundingMode::HALF_EVEN>(v), p.qmin, p.qmax);
  } else {
    int64_t acc = 0;
    for (int64_t y = sy.begin; y < sy.end; ++y) {
      for (int64_t x = sx.begin; x < sx.end; ++x) acc += plane[y * w + x];
    }
    if constexpr (kMethod == AvgPoolMethod::kTosa) {
      acc -= valid * p.zero_point;  // TOSA sums in int32: a larger sum is outside its domain
      if (acc < INT32_MIN || acc > INT32_MAX) throw std::out_of_range("the int32 window sum overflows (TOSA)");
      const int32_t r = tosa_average(static_cast<int32_t>(acc), static_cast<int32_t>(count));
      return clamp_to(int64_t(r) + p.zero_point, p.qmin, p.qmax);
    } else {
      if (p.count_include_pad) acc += (padded - valid) * p.zero_point;
      if constexpr (kMethod == AvgPoolMethod::kTflite) {
        return clamp_to(divide_round_half_away(acc, count), p.qmin, p.qmax);
      } else if constexpr (kMethod == AvgPoolMethod::kPytorch) {
        return clamp_to(divide_round_half_even(acc, count), p.qmin, p.qmax);
      } else if constexpr (kMethod == AvgPoolMethod::kHexagon) {
        return clamp_to(hexagon_average_q15(static_cast<int32_t>(acc), static_cast<int32_t>(count)), p.qmin, p.qmax);
      } else {
        static_assert(kMethod == AvgPoolMethod::kDpu, "method");
        return clamp_to(dpu_average(acc, p.dpu_n, p.dpu_m, p.dpu_shift), p.qmin, p.qmax);
      }
    }
  }
}

template <AvgPoolMethod kMethod, typename T>
void avg_pool_planes(const char* k, const AvgPoolParams& p, const Pool2DWindow& wd, const Pool2DShape& s, const T* x,
                     T* out) {
  const int64_t planes = s.n * s.c;
  const int64_t per_plane = s.out_h * s.out_w;
  auto one = [&](int64_t plane, int64_t oy, int64_t ox) {
    const Span sy = window_span(oy, wd.stride_h, wd.pad_top, wd.pad_bottom, wd.kernel_h, s.h);
    const Span sx = window_span(ox, wd.stride_w, wd.pad_left, wd.pad_right, wd.kernel_w, s.w);
    return average_window<kMethod>(p, x + plane * s.h * s.w, s.w, sy, sx, wd.kernel_h * wd.kernel_w);
  };
  const int64_t bad = parallel_tasks(planes, per_plane * wd.kernel_h * wd.kernel_w, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      T* o = out + plane * per_plane;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        for (int64_t ox = 0; ox < s.out_w; ++ox) {
          try {
            o[oy * s.out_w + ox] = static_cast<T>(one(plane, oy, ox));
          } catch (const std::exception&) {
            return plane * per_plane + oy * s.out_w + ox;
          }
        }
      }
    }
    return int64_t(-1);
  });
  if (bad >= 0) {  // recompute the first failing output on this thread: its exception names the cause
    const int64_t plane = bad / per_plane, oy = (bad % per_plane) / s.out_w, ox = bad % s.out_w;
    try {
      (void)one(plane, oy, ox);
    } catch (const std::out_of_range& e) {
      throw_range(k, "output index " + std::to_string(bad) + ": " + e.what());
    } catch (const std::invalid_argument& e) {
      throw_invalid(k, "output index " + std::to_string(bad) + ": " + e.what());
    }
  }
}

}  // namespace

template <typename T>
void avg_pool2d(const AvgPoolParams& params, const Pool2DWindow& window, const Pool2DShape& shape, const T* x,
                T* out) {
  const char* k = "avg_pool2d";
  check_pool(k, window, shape);
  check_code_value<T>(k, "qmin", params.qmin);
  check_code_value<T>(k, "qmax", params.qmax);
  if (params.qmin > params.qmax) throw_invalid(k, "qmin must be <= qmax");
  switch (params.method) {
    case AvgPoolMethod::kTflite:
      check_code_value<T>(k, "zero_point", params.zero_point);
      return avg_pool_planes<AvgPoolMethod::kTflite>(k, params, window, shape, x, out);
    case AvgPoolMethod::kPytorch:
      check_code_value<T>(k, "zero_point", params.zero_point);
      return avg_pool_planes<AvgPoolMethod::kPytorch>(k, params, window, shape, x, out);
    case AvgPoolMethod::kTosa:
      check_code_value<T>(k, "zero_point", params.zero_point);
      return avg_pool_planes<AvgPoolMethod::kTosa>(k, params, window, shape, x, out);
    case AvgPoolMethod::kHexagon:
      check_code_value<T>(k, "zero_point", params.zero_point);
      return avg_pool_planes<AvgPoolMethod::kHexagon>(k, params, window, shape, x, out);
    case AvgPoolMethod::kDpu:
      check_code_value<T>(k, "zero_point", params.zero_point);
      if (params.dpu_n < 0) throw_invalid(k, "dpu_n must be >= 0");
      if (params.dpu_m < 0 || params.dpu_m > 62) throw_invalid(k, "dpu_m must be in [0, 62]");
      if (params.dpu_shift < -62 || params.dpu_shift > 62) throw_invalid(k, "dpu_shift must be in [-62, 62]");
      return avg_pool_planes<AvgPoolMethod::kDpu>(k, params, window, shape, x, out);
    case AvgPoolMethod::kOrt: {
      check_code_value<T>(k, "in_zero_point", params.in_zero_point);
      check_code_value<T>(k, "out_zero_point", params.out_zero_point);
      check_scale(k, "in_scale", params.in_scale);
      check_scale(k, "out_scale", params.out_scale);
      return avg_pool_planes<AvgPoolMethod::kOrt>(k, params, window, shape, x, out);
    }
  }
  throw_invalid(k, "unknown method code " + std::to_string(static_cast<int>(params.method)));
}

template <typename T>
void max_pool2d(const Pool2DWindow& wd, const Pool2DShape& s, const T* x, T* out) {
  check_pool("max_pool2d", wd, s);
  const int64_t per_plane = s.out_h * s.out_w;
  parallel_tasks(s.n * s.c, per_plane * wd.kernel_h * wd.kernel_w, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const T* in = x + plane * s.h * s.w;
      T* o = out + plane * per_plane;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        const Span sy = window_span(oy, wd.stride_h, wd.pad_top, wd.pad_bottom, wd.kernel_h, s.h);
        for (int64_t ox = 0; ox < s.out_w; ++ox) {
          const Span sx = window_span(ox, wd.stride_w, wd.pad_left, wd.pad_right, wd.kernel_w, s.w);
          T best = std::numeric_limits<T>::min();
          for (int64_t y = sy.begin; y < sy.end; ++y) {
            for (int64_t xx = sx.begin; xx < sx.end; ++xx) {
              const T v = in[y * s.w + xx];
              best = v > best ? v : best;
            }
          }
          o[oy * s.out_w + ox] = best;
        }
      }
    }
    return int64_t(-1);
  });
}

namespace {

// The exact sum of n codes (8- or 16-bit): int32 partial sums over blocks of 2^16 codes, which
// cannot overflow (|code| <= 2^15, and 2^16 * -2^15 is INT32_MIN itself), added in int64. gcc
// vectorizes the int32 loop; with the int64 accumulator the baseline (SSE2) code widened every
// 8-bit code three times (a global average pool of 576 planes of 7 x 7: ~10 ns per plane).
template <typename T>
int64_t sum_codes(const T* in, int64_t n) {
  static_assert(sizeof(T) <= 2, "8- and 16-bit codes");
  constexpr int64_t kBlock = int64_t(1) << 16;
  int64_t total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = n - b < kBlock ? n - b : kBlock;
    int32_t partial = 0;
    for (int64_t j = 0; j < m; ++j) partial += in[b + j];
    total += partial;
  }
  return total;
}

}  // namespace

template <typename T>
void plane_sums(int64_t rows, int64_t cols, const T* x, int64_t* out) {
  if (rows < 0 || cols < 0) throw_invalid("plane_sums", "rows and cols must be >= 0");
  parallel_tasks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      out[r] = sum_codes(x + r * cols, cols);
    }
    return int64_t(-1);
  });
}

namespace {

// One plane's output code by method kMethod (pooling.h "global_average_pool"); the int32 sum
// check is the caller's. `acc` is the zero-point adjusted (raw for tflite_opt) exact sum.
template <GlobalAverageMethod kMethod>
int32_t global_average_code(const GlobalAverageParams& p, int64_t count, int64_t acc) {
  if constexpr (kMethod == GlobalAverageMethod::kTflite) {
    const int32_t v = nocheck::multiply_by_quantized_multiplier_double_round(static_cast<int32_t>(acc), p.multiplier,
                                                                             p.shift);
    return clamp_to(divide_round_half_away(v, count) + p.out_add, p.qmin, p.qmax);
  } else if constexpr (kMethod == GlobalAverageMethod::kOrt) {
    float v = static_cast<float>(static_cast<int32_t>(acc)) * p.scale;
    const float lo = static_cast<float>(int64_t(p.qmin) - p.out_add);  // |bounds| < 2^17: exact floats
    const float hi = static_cast<float>(int64_t(p.qmax) - p.out_add);
    v = v > lo ? v : lo;
    v = v < hi ? v : hi;
    return clamp_to(static_cast<int64_t>(round_half_even_bounded(v)) + p.out_add, p.qmin, p.qmax);
  } else {
    static_assert(kMethod == GlobalAverageMethod::kTfliteFolded || kMethod == GlobalAverageMethod::kTfliteOpt,
                  "method");
    (void)count;
    const int32_t v = nocheck::multiply_by_quantized_multiplier_double_round(static_cast<int32_t>(acc), p.multiplier,
                                                                             p.shift);
    return clamp_to(int64_t(v) + p.out_add, p.qmin, p.qmax);
  }
}

// torch.mean of one plane (pooling.h "global_average_pool", pytorch).
template <typename T>
int32_t pytorch_mean_code(const GlobalAverageParams& p, int64_t count, const T* in) {
  const float premul = static_cast<float>(-p.in_zero_point) * p.scale;
  const double scale = static_cast<double>(p.scale), add = static_cast<double>(premul);
  float total = 0.0f;
  for (int64_t j = 0; j < count; ++j) {
    // fma(code, scale, premul): code * scale (<= 16 + 24 bits) and the sum are exact in double
    total = total + static_cast<float>(static_cast<double>(in[j]) * scale + add);
  }
  const float mean = total / static_cast<float>(count);
  const float v = mean * (1.0f / p.scale);
  if (!(v > -2147483648.0f)) return p.qmin;  // NaN or below int32
  if (!(v < 2147483648.0f)) return p.qmax;
  return clamp_to(static_cast<int64_t>(round_to_integral_mode<RoundingMode::HALF_EVEN>(v, 0)) + p.out_add, p.qmin,
                  p.qmax);
}

template <GlobalAverageMethod kMethod, typename T, typename U>
void global_average_planes(const GlobalAverageParams& p, int64_t planes, int64_t count, const T* x, U* out) {
  const int64_t offset = kMethod == GlobalAverageMethod::kTfliteOpt ? 0 : int64_t(p.in_zero_point) * count;
  const int64_t bad = parallel_tasks(planes, count, [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const T* in = x + plane * count;
      if constexpr (kMethod == GlobalAverageMethod::kPytorch) {
        out[plane] = static_cast<U>(pytorch_mean_code(p, count, in));
      } else {
        const int64_t acc = sum_codes(in, count) - offset;
        if (acc < INT32_MIN || acc > INT32_MAX) return plane;
        out[plane] = static_cast<U>(global_average_code<kMethod>(p, count, acc));
      }
    }
    return int64_t(-1);
  });
  if (bad >= 0) {
    const int64_t acc = sum_codes(x + bad * count, count) - offset;
    throw_range("global_average_pool", "plane " + std::to_string(bad) + ": the window sum " + std::to_string(acc) +
                                           " does not fit the engines' int32 accumulator");
  }
}

}  // namespace

template <typename T, typename U>
void global_average_pool(const GlobalAverageParams& params, int64_t planes, int64_t count, const T* x, U* out) {
  const char* k = "global_average_pool";
  if (planes < 0 || count < 1) throw_invalid(k, "planes must be >= 0 and count >= 1");
  if (count > (int64_t(1) << 40)) throw_invalid(k, "count must be below 2^40");
  check_code_value<U>(k, "qmin", params.qmin);
  check_code_value<U>(k, "qmax", params.qmax);
  if (params.qmin > params.qmax) throw_invalid(k, "qmin must be <= qmax");
  check_code_value<T>(k, "in_zero_point", params.in_zero_point);
  const GlobalAverageMethod m = params.method;
  if (m == GlobalAverageMethod::kOrt || m == GlobalAverageMethod::kPytorch) {
    check_code_value<U>(k, "out zero point", params.out_add);
    check_scale(k, "scale", params.scale);
    // pytorch: |code * scale + premul| <= 2^17 scale must stay a finite float (no overflowing cast)
    if (m == GlobalAverageMethod::kPytorch && !(params.scale < 1.0e33f)) throw_invalid(k, "scale must be below 1e33");
  } else if (params.shift < -31 || params.shift > 31) {
    throw_invalid(k, "shift must be in [-31, 31], got " + std::to_string(params.shift));
  }
  switch (m) {
    case GlobalAverageMethod::kTflite:
      check_code_value<U>(k, "out zero point", params.out_add);
      return global_average_planes<GlobalAverageMethod::kTflite>(params, planes, count, x, out);
    case GlobalAverageMethod::kTfliteFolded:
      check_code_value<U>(k, "out zero point", params.out_add);
      return global_average_planes<GlobalAverageMethod::kTfliteFolded>(params, planes, count, x, out);
    case GlobalAverageMethod::kTfliteOpt:  // out_add is a bias: any int32
      return global_average_planes<GlobalAverageMethod::kTfliteOpt>(params, planes, count, x, out);
    case GlobalAverageMethod::kOrt:
      return global_average_planes<GlobalAverageMethod::kOrt>(params, planes, count, x, out);
    case GlobalAverageMethod::kPytorch:
      return global_average_planes<GlobalAverageMethod::kPytorch>(params, planes, count, x, out);
  }
  throw_invalid(k, "unknown method code " + std::to_string(static_cast<int>(m)));
}

#define FXSIM_GLOBAL_AVERAGE_INSTANTIATE(T)                                                                    \
  template void global_average_pool<T, int8_t>(const GlobalAverageParams&, int64_t, int64_t, const T*, int8_t*); \
  template void global_average_pool<T, uint8_t>(const GlobalAverageParams&, int64_t, int64_t, const T*,        \
                                                uint8_t*);                                                     \
  template void global_average_pool<T, int16_t>(const GlobalAverageParams&, int64_t, int64_t, const T*, int16_t*);
FXSIM_GLOBAL_AVERAGE_INSTANTIATE(int8_t)
FXSIM_GLOBAL_AVERAGE_INSTANTIATE(uint8_t)
FXSIM_GLOBAL_AVERAGE_INSTANTIATE(int16_t)
#undef FXSIM_GLOBAL_AVERAGE_INSTANTIATE

#define FXSIM_POOLING_INSTANTIATE(T)                                                                           \
  template void avg_pool2d<T>(const AvgPoolParams&, const Pool2DWindow&, const Pool2DShape&, const T*, T*); \
  template void max_pool2d<T>(const Pool2DWindow&, const Pool2DShape&, const T*, T*);                        \
  template void plane_sums<T>(int64_t, int64_t, const T*, int64_t*);
FXSIM_POOLING_INSTANTIATE(int8_t)
FXSIM_POOLING_INSTANTIATE(uint8_t)
FXSIM_POOLING_INSTANTIATE(int16_t)
#undef FXSIM_POOLING_INSTANTIATE

FXSIM_NAMESPACE_END
