// Resize kernels: contract, formulas and sources in resize.h. Float steps are IEEE float32 one
// operation at a time (the build uses -ffp-contract=off), as the engines compute them.
#include "fxsim/kernels/resize.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "fxsim/kernels/common.h"
#include "fxsim/kernels/parallel.h"

FXSIM_NAMESPACE_BEGIN
namespace {

// Sizes up to 2^24 keep every index exact in float32 and every float->int conversion defined.
constexpr int64_t kMaxAxis = int64_t(1) << 24;

void check_axis(const char* k, const char* what, int64_t in_size, int64_t out_size) {
  if (in_size < 1 || in_size > kMaxAxis || out_size < 1 || out_size > kMaxAxis) {
    throw_invalid(k, std::string(what) + ": sizes must be in [1, 2^24], got in " + std::to_string(in_size) + ", out " +
                         std::to_string(out_size));
  }
}

void check_scale_value(const char* k, float scale) {
  if (!(scale > 0.0f) || !std::isfinite(scale)) throw_invalid(k, "scale must be finite and > 0");
}

float round_half_away(float v) { return std::round(v); }

// ORT clamps the (finite) coordinate before converting; an int64 conversion of a float inside
// [-2^62, 2^62] is defined, wider values are clamped first (they clamp to an end index anyway).
int64_t to_int64_clamped(float v) {
  const float lim = 4611686018427387904.0f;  // 2^62
  if (v > lim) return int64_t(1) << 62;
  if (v < -lim) return -(int64_t(1) << 62);
  return static_cast<int64_t>(v);
}

int64_t clamp_index(int64_t v, int64_t in_size) { return v < 0 ? 0 : (v > in_size - 1 ? in_size - 1 : v); }

// One axis of ORT's bilinear setup: indices i1, i2 and the float32 weights (d1 toward i2).
struct OrtAxis {
  std::vector<int64_t> i1, i2;
  std::vector<float> d1, d2;
  std::vector<int32_t> e1, e2;  // the Q10 weights of the integer path
};

OrtAxis ort_axis(ResizeCoordinate mode, int64_t in_size, int64_t out_size, float scale) {
  OrtAxis a;
  a.i1.resize(out_size), a.i2.resize(out_size), a.d1.resize(out_size), a.d2.resize(out_size);
  a.e1.resize(out_size), a.e2.resize(out_size);
  for (int64_t o = 0; o < out_size; ++o) {
    float c = scale == 1.0f ? static_cast<float>(o) : onnx_resize_coordinate(mode, o, out_size, in_size, scale);
    const float top = static_cast<float>(in_size - 1);
    c = c < top ? c : top;  // std::max(0.0f, std::min(c, top)): a NaN cannot arise from finite sizes
    c = c > 0.0f ? c : 0.0f;
    const int64_t i1 = std::min<int64_t>(static_cast<int64_t>(c), in_size - 1);
    const int64_t i2 = std::min<int64_t>(i1 + 1, in_size - 1);
    a.i1[o] = i1, a.i2[o] = i2;
    a.d1[o] = std::fabs(c - static_cast<float>(i1));
    a.d2[o] = std::fabs(c - static_cast<float>(i2));
    const int32_t c10 = static_cast<int32_t>(c * 1024.0f);  // c <= 2^24: the product is exact and fits
    a.e1[o] = std::abs(c10 - static_cast<int32_t>(i1) * 1024);
    a.e2[o] = std::abs(c10 - static_cast<int32_t>(i2) * 1024);
    if (i1 == i2) {
      a.d1[o] = a.d2[o] = 0.5f;
      a.e1[o] = a.e2[o] = 512;
    }
  }
  return a;
}

void check_plane(const char* k, const ResizePlaneShape& s, const void* in, const void* out) {
  if (s.outer < 0 || s.inner < 1) throw_invalid(k, "outer must be >= 0 and inner >= 1");
  check_axis(k, "height", s.in_h, s.out_h);
  check_axis(k, "width", s.in_w, s.out_w);
  if (s.outer > 0 && (in == nullptr || out == nullptr)) throw_invalid(k, "null data pointer");
}

// Runs body(o, oy, ox) -> writes the `inner` outputs of output pixel (o, oy, ox); rows split
// across threads.
template <class F>
void for_each_output_pixel(const ResizePlaneShape& s, F&& body) {
  const int64_t rows = s.outer * s.out_h;
  parallel_tasks(rows, s.out_w * s.inner * 4, [&](int64_t r0, int64_t r1) -> int64_t {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = r / s.out_h, oy = r % s.out_h;
      for (int64_t ox = 0; ox < s.out_w; ++ox) body(o, oy, ox);
    }
    return -1;
  });
}

// TFLite's per-axis Q10 values (ComputeInterpolationValuesInteger).
struct TfliteAxis {
  std::vector<int32_t> v, lo, hi;
};

TfliteAxis tflite_axis(const char* k, const char* what, bool align_corners, bool half_pixel, int64_t in_size,
                       int64_t out_size) {
  // int32 arithmetic of TFLite: 1024 * I and o * scale_10 (+ scale_10 / 2) must fit
  if (in_size > (int64_t(INT32_MAX) - out_size) / 1024) {
    throw_invalid(k, std::string(what) + ": 1024 * input size overflows TFLite's int32 scale");
  }
  int64_t scale_10 = (1024 * in_size + out_size / 2) / out_size;
  if (align_corners && out_size > 1) scale_10 = (1024 * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
  if ((out_size - 1) * scale_10 + scale_10 / 2 > INT32_MAX) {
    throw_invalid(k, std::string(what) + ": output index * scale_10 overflows TFLite's int32 arithmetic");
  }
  TfliteAxis a;
  a.v.resize(out_size), a.lo.resize(out_size), a.hi.resize(out_size);
  for (int64_t o = 0; o < out_size; ++o) {
    const int64_t v = half_pixel ? o * scale_10 + scale_10 / 2 - 512 : o * scale_10;
    const int64_t lo = std::max<int64_t>(v / 1024, 0);  // C division: toward zero
    const int64_t hi = std::min<int64_t>((v + 1023) / 1024, in_size - 1);
    if (lo > in_size - 1) {
      throw_range(k, std::string(what) + ": output index " + std::to_string(o) + " maps to input row " +
                         std::to_string(lo) + " of " + std::to_string(in_size) +
                         " (TFLite's Q10 scale rounds up; its kernel would read outside the input)");
    }
    a.v[o] = static_cast<int32_t>(v), a.lo[o] = static_cast<int32_t>(lo), a.hi[o] = static_cast<int32_t>(hi);
  }
  return a;
}

template <typename T>
T saturate_cast(int64_t v) {
  const int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  return static_cast<T>(v < lo ? lo : (v > hi ? hi : v));
}

}  // namespace

float onnx_resize_coordinate(ResizeCoordinate mode, int64_t o, int64_t out_size, int64_t in_size, float scale) {
  const float x = static_cast<float>(o);
  const float length_resized = static_cast<float>(out_size), length_original = static_cast<float>(in_size);
  switch (mode) {
    case ResizeCoordinate::kHalfPixelSymmetric: {
      const float output_width = scale * length_original;
      const float adjustment = length_resized / output_width;
      const float center = length_original / 2.0f;
      const float offset = center * (1.0f - adjustment);
      return offset + (x + 0.5f) / scale - 0.5f;
    }
    case ResizeCoordinate::kPytorchHalfPixel: return length_resized > 1 ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case ResizeCoordinate::kAlignCorners:
      return length_resized == 1 ? 0.0f : x * (length_original - 1.0f) / (length_resized - 1.0f);
    case ResizeCoordinate::kAsymmetric: return x / scale;
    case ResizeCoordinate::kTfHalfPixelForNn: return (x + 0.5f) / scale;
    case ResizeCoordinate::kHalfPixel:
    default: return (x + 0.5f) / scale - 0.5f;
  }
}

void resize_nearest_indices_onnx(ResizeCoordinate mode, ResizeNearestMode nearest, int64_t in_size, int64_t out_size,
                                 float scale, int64_t* index) {
  const char* k = "resize_nearest_indices_onnx";
  check_axis(k, "axis", in_size, out_size);
  check_scale_value(k, scale);
  if (static_cast<int>(mode) < 0 || static_cast<int>(mode) > 5) throw_invalid(k, "unknown coordinate mode");
  if (static_cast<int>(nearest) < 0 || static_cast<int>(nearest) > 4) throw_invalid(k, "unknown nearest mode");
  for (int64_t o = 0; o < out_size; ++o) {
    if (scale == 1.0f) {  // UpsampleNearestSetupInputMappings: identity for a scale of 1
      index[o] = clamp_index(o, in_size);
      continue;
    }
    const float c = onnx_resize_coordinate(mode, o, out_size, in_size, scale);
    float r;
    switch (nearest) {
      case ResizeNearestMode::kRoundPreferCeil: r = round_half_away(c); break;
      case ResizeNearestMode::kFloor: r = std::floor(c); break;
      case ResizeNearestMode::kCeil: r = std::ceil(c); break;
      case ResizeNearestMode::kSimple: r = scale < 1.0f ? std::ceil(c) : std::trunc(c); break;
      case ResizeNearestMode::kRoundPreferFloor:
      default: {
        const float whole_plus_half = static_cast<float>(to_int64_clamped(c)) + 0.5f;
        r = c == whole_plus_half ? std::floor(c) : round_half_away(c);
      }
    }
    index[o] = clamp_index(to_int64_clamped(r), in_size);
  }
}

void resize_nearest_indices_tflite(bool align_corners, bool half_pixel_centers, int64_t in_size, int64_t out_size,
                                   int64_t* index) {
  const char* k = "resize_nearest_indices_tflite";
  check_axis(k, "axis", in_size, out_size);
  if (align_corners && half_pixel_centers) throw_invalid(k, "align_corners and half_pixel_centers are exclusive");
  const float scale = (align_corners && out_size > 1)
                          ? static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)
                          : static_cast<float>(in_size) / static_cast<float>(out_size);
  const float offset = half_pixel_centers ? 0.5f : 0.0f;
  for (int64_t o = 0; o < out_size; ++o) {
    const float c = (static_cast<float>(o) + offset) * scale;
    int64_t v = align_corners ? to_int64_clamped(round_half_away(c)) : to_int64_clamped(std::floor(c));
    v = v < in_size - 1 ? v : in_size - 1;
    if (half_pixel_centers && v < 0) v = 0;
    index[o] = v < 0 ? 0 : v;  // c >= 0 always: the guard only keeps the gather in bounds
  }
}

template <typename T>
void resize_gather(int ndim, const int64_t* in_shape, const int64_t* out_shape, const int64_t* const* index,
                   const T* input, T* output) {
  const char* k = "resize_gather";
  if (ndim < 1 || ndim > kResizeMaxDims) throw_invalid(k, "ndim must be in [1, 8], got " + std::to_string(ndim));
  int64_t in_stride[kResizeMaxDims];
  int64_t total = 1, stride = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (in_shape[d] < 1 || out_shape[d] < 0) {
      throw_invalid(k, "axis " + std::to_string(d) + ": input size must be >= 1 and output size >= 0");
    }
    in_stride[d] = stride;
    stride *= in_shape[d];
    total *= out_shape[d];
  }
  if (total == 0) return;
  if (input == nullptr || output == nullptr) throw_invalid(k, "null data pointer");
  // per-axis input offsets, validated once
  std::vector<std::vector<int64_t>> offset(ndim);
  for (int d = 0; d < ndim; ++d) {
    offset[d].resize(out_shape[d]);
    for (int64_t o = 0; o < out_shape[d]; ++o) {
      const int64_t i = index[d][o];
      if (i < 0 || i >= in_shape[d]) {
        throw_invalid(k, "axis " + std::to_string(d) + ": index " + std::to_string(i) + " at output " +
                             std::to_string(o) + " is outside [0, " + std::to_string(in_shape[d]) + ")");
      }
      offset[d][o] = i * in_stride[d];
    }
  }
  const int64_t last = out_shape[ndim - 1];
  const int64_t rows = total / last;
  const int64_t* last_offset = offset[ndim - 1].data();
  parallel_tasks(rows, last, [&](int64_t r0, int64_t r1) -> int64_t {
    int64_t previous_base = -1;
    const T* previous_row = nullptr;
    for (int64_t r = r0; r < r1; ++r) {
      int64_t base = 0, rest = r;
      for (int d = ndim - 2; d >= 0; --d) {
        base += offset[d][rest % out_shape[d]];
        rest /= out_shape[d];
      }
      T* dst = output + r * last;
      if (base == previous_base) {  // an upsampled row repeats the one before it: copy it
        std::memcpy(dst, previous_row, static_cast<size_t>(last) * sizeof(T));
        continue;
      }
      const T* src = input + base;
      for (int64_t o = 0; o < last; ++o) dst[o] = src[last_offset[o]];
      previous_base = base, previous_row = dst;
    }
    return -1;
  });
}

template <typename T>
void resize_bilinear_tflite(const ResizeBilinearTfliteParams& p, const ResizePlaneShape& s, const T* input,
                            T* output) {
  const char* k = "resize_bilinear_tflite";
  check_plane(k, s, input, output);
  if (p.align_corners && p.half_pixel_centers) throw_invalid(k, "align_corners and half_pixel_centers are exclusive");
  const TfliteAxis ay = tflite_axis(k, "height", p.align_corners, p.half_pixel_centers, s.in_h, s.out_h);
  const TfliteAxis ax = tflite_axis(k, "width", p.align_corners, p.half_pixel_centers, s.in_w, s.out_w);
  const int64_t row = s.in_w * s.inner, plane = s.in_h * row;
  for_each_output_pixel(s, [&](int64_t o, int64_t oy, int64_t ox) {
    const int64_t fy = ay.v[oy] - 1024 * int64_t(ay.lo[oy]), fx = ax.v[ox] - 1024 * int64_t(ax.lo[ox]);
    const T* p00 = input + o * plane + ay.lo[oy] * row + ax.lo[ox] * s.inner;
    const T* p10 = input + o * plane + ay.hi[oy] * row + ax.lo[ox] * s.inner;
    const T* p01 = input + o * plane + ay.lo[oy] * row + ax.hi[ox] * s.inner;
    const T* p11 = input + o * plane + ay.hi[oy] * row + ax.hi[ox] * s.inner;
    T* dst = output + ((o * s.out_h + oy) * s.out_w + ox) * s.inner;
    const int64_t w00 = (1024 - fy) * (1024 - fx), w10 = fy * (1024 - fx), w01 = (1024 - fy) * fx, w11 = fy * fx;
    for (int64_t c = 0; c < s.inner; ++c) {
      const int64_t sum = int64_t(p00[c]) * w00 + int64_t(p10[c]) * w10 + int64_t(p01[c]) * w01 + int64_t(p11[c]) * w11;
      int64_t v;
      if (p.single_round) {
        const int64_t t = sum + (int64_t(1) << 19);
        v = t >= 0 ? (t >> 20) : -((-t + (int64_t(1) << 20) - 1) >> 20);  // arithmetic shift: floor
      } else {
        v = (sum + (sum > 0 ? (int64_t(1) << 19) : -(int64_t(1) << 19))) / (int64_t(1) << 20);  // C division
      }
      dst[c] = saturate_cast<T>(v);  // a convex combination of codes: always within T
    }
  });
}

// ONNX Runtime's two bilinear paths share the setup (checks, the per-axis tables of ort_axis)
// and the four neighbours of each output pixel; `combine(ay, ax, oy, ox, x11, x21, x12, x22, dst)`
// writes the `inner` outputs of one pixel.
template <typename T, class F>
void resize_bilinear_ort(const char* k, const ResizeBilinearOrtParams& p, const ResizePlaneShape& s, const T* input,
                         T* output, F&& combine) {
  check_plane(k, s, input, output);
  check_scale_value(k, p.scale_h);
  check_scale_value(k, p.scale_w);
  const OrtAxis ay = ort_axis(p.coordinate, s.in_h, s.out_h, p.scale_h);
  const OrtAxis ax = ort_axis(p.coordinate, s.in_w, s.out_w, p.scale_w);
  const int64_t row = s.in_w * s.inner, plane = s.in_h * row;
  for_each_output_pixel(s, [&](int64_t o, int64_t oy, int64_t ox) {
    const T* base = input + o * plane;
    combine(ay, ax, oy, ox, base + ay.i1[oy] * row + ax.i1[ox] * s.inner, base + ay.i1[oy] * row + ax.i2[ox] * s.inner,
            base + ay.i2[oy] * row + ax.i1[ox] * s.inner, base + ay.i2[oy] * row + ax.i2[ox] * s.inner,
            output + ((o * s.out_h + oy) * s.out_w + ox) * s.inner);
  });
}

template <typename T>
void resize_bilinear_ort_float(const ResizeBilinearOrtParams& p, const ResizePlaneShape& s, const T* input,
                               T* output) {
  resize_bilinear_ort("resize_bilinear_ort_float", p, s, input, output,
                      [&](const OrtAxis& ay, const OrtAxis& ax, int64_t oy, int64_t ox, const T* x11, const T* x21,
                          const T* x12, const T* x22, T* dst) {
                        const float c11 = ax.d2[ox] * ay.d2[oy], c21 = ax.d1[ox] * ay.d2[oy];
                        const float c12 = ax.d2[ox] * ay.d1[oy], c22 = ax.d1[ox] * ay.d1[oy];
                        for (int64_t c = 0; c < s.inner; ++c) {
                          float v = c11 * static_cast<float>(x11[c]);
                          v = v + c21 * static_cast<float>(x21[c]);
                          v = v + c12 * static_cast<float>(x12[c]);
                          v = v + c22 * static_cast<float>(x22[c]);
                          // static_cast<T>(float) truncates; v is a convex combination of codes
                          // (within T up to a few ulps, so the int32 conversion -- cvttss2si,
                          // truncation toward zero -- is defined): the clamp only keeps the
                          // narrowing defined
                          dst[c] = saturate_cast<T>(static_cast<int32_t>(v));
                        }
                      });
}

template <typename T>
void resize_bilinear_ort_integer(const ResizeBilinearOrtParams& p, const ResizePlaneShape& s, const T* input,
                                 T* output) {
  resize_bilinear_ort("resize_bilinear_ort_integer", p, s, input, output,
                      [&](const OrtAxis& ay, const OrtAxis& ax, int64_t oy, int64_t ox, const T* x11, const T* x21,
                          const T* x12, const T* x22, T* dst) {
                        const int64_t w11 = int64_t(ax.e2[ox]) * ay.e2[oy], w21 = int64_t(ax.e1[ox]) * ay.e2[oy];
                        const int64_t w12 = int64_t(ax.e2[ox]) * ay.e1[oy], w22 = int64_t(ax.e1[ox]) * ay.e1[oy];
                        for (int64_t c = 0; c < s.inner; ++c) {
                          // |sum| < 2^28: ORT's int32 sum never overflows
                          const int64_t sum = w11 * x11[c] + w21 * x21[c] + w12 * x12[c] + w22 * x22[c];
                          dst[c] = saturate_cast<T>(sum / (int64_t(1) << 20));  // C division: toward zero
                        }
                      });
}

template <typename T>
void resize_bilinear_ort_dequantized(const ResizeBilinearOrtParams& p, const ResizeDequantizedParams& q,
                                     const ResizePlaneShape& s, const T* input, T* output) {
  const char* k = "resize_bilinear_ort_dequantized";
  check_scale_value(k, q.in_scale);
  check_scale_value(k, q.out_scale);
  constexpr int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  if (q.in_zero_point < lo || q.in_zero_point > hi || q.out_zero_point < lo || q.out_zero_point > hi) {
    throw_invalid(k, "zero points must be within the code type");
  }
  if (q.qmin < lo || q.qmax > hi || q.qmin > q.qmax) throw_invalid(k, "[qmin, qmax] must be a range within the code type");
  // MlasQuantizeLinear clamps the quotient in float before rounding: bounds exact in float32
  const float v_lo = static_cast<float>(q.qmin - q.out_zero_point);
  const float v_hi = static_cast<float>(q.qmax - q.out_zero_point);
  resize_bilinear_ort(k, p, s, input, output,
                      [&](const OrtAxis& ay, const OrtAxis& ax, int64_t oy, int64_t ox, const T* x11, const T* x21,
                          const T* x12, const T* x22, T* dst) {
                        const float c11 = ax.d2[ox] * ay.d2[oy], c21 = ax.d1[ox] * ay.d2[oy];
                        const float c12 = ax.d2[ox] * ay.d1[oy], c22 = ax.d1[ox] * ay.d1[oy];
                        auto value = [&](T code) {  // DequantizeLinear: (code - zp) exact, one product
                          return static_cast<float>(int32_t(code) - q.in_zero_point) * q.in_scale;
                        };
                        for (int64_t c = 0; c < s.inner; ++c) {
                          float v = c11 * value(x11[c]);
                          v = v + c21 * value(x21[c]);
                          v = v + c12 * value(x12[c]);
                          v = v + c22 * value(x22[c]);
                          // an overflow to +-inf (extreme scales) clamps to an end; NaN takes v_lo:
                          // the conversion below is always defined
                          float r = v / q.out_scale;
                          r = r > v_lo ? r : v_lo;
                          r = r < v_hi ? r : v_hi;
                          dst[c] = static_cast<T>(x86_round_to_int32<RoundingMode::HALF_EVEN>(r) + q.out_zero_point);
                        }
                      });
}

#define FXSIM_RESIZE_GATHER(T)                                                                                 \
  template void resize_gather<T>(int, const int64_t*, const int64_t*, const int64_t* const*, const T*, T*);
FXSIM_RESIZE_GATHER(int8_t)
FXSIM_RESIZE_GATHER(uint8_t)
FXSIM_RESIZE_GATHER(int16_t)
FXSIM_RESIZE_GATHER(uint16_t)
#undef FXSIM_RESIZE_GATHER

template void resize_bilinear_tflite<int8_t>(const ResizeBilinearTfliteParams&, const ResizePlaneShape&, const int8_t*,
                                             int8_t*);
template void resize_bilinear_tflite<int16_t>(const ResizeBilinearTfliteParams&, const ResizePlaneShape&,
                                              const int16_t*, int16_t*);
#define FXSIM_RESIZE_ORT(T)                                                                                         \
  template void resize_bilinear_ort_float<T>(const ResizeBilinearOrtParams&, const ResizePlaneShape&, const T*, T*); \
  template void resize_bilinear_ort_integer<T>(const ResizeBilinearOrtParams&, const ResizePlaneShape&, const T*, T*); \
  template void resize_bilinear_ort_dequantized<T>(const ResizeBilinearOrtParams&, const ResizeDequantizedParams&,      \
                                                   const ResizePlaneShape&, const T*, T*);
FXSIM_RESIZE_ORT(int8_t)
FXSIM_RESIZE_ORT(uint8_t)
#undef FXSIM_RESIZE_ORT

FXSIM_NAMESPACE_END
