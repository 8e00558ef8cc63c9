// Shared by the array kernels' entry points: channel indexing ([outer, C, inner]), argument
// checks, error messages. Baseline-only (it formats messages with std::string); the per-ISA
// loops never include it.
//
// Error contract (csrc/README.md): bad arguments -> std::invalid_argument, values outside an
// arithmetic range -> std::out_of_range; every message starts with the kernel's name.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/isa.h"
#include "fxsim/kernels/kernel_job.h"

FXSIM_NAMESPACE_BEGIN

[[noreturn]] inline void throw_invalid(const char* kernel, const std::string& what) {
  throw std::invalid_argument(std::string(kernel) + ": " + what);
}
[[noreturn]] inline void throw_range(const char* kernel, const std::string& what) {
  throw std::out_of_range(std::string(kernel) + ": " + what);
}

// A float for a message, with enough digits to identify it ("%.9g" / "%.17g").
inline std::string format_float(double v, bool is_double) {
  char buf[40];
  std::snprintf(buf, sizeof buf, is_double ? "%.17g" : "%.9g", v);
  return buf;
}

// The [outer, channels, inner] view of `count` elements with per-channel constants of length
// `channels`: element i uses channel (i / inner) % channels. channels == 1 is per-tensor and
// ignores inner. std::invalid_argument unless channels >= 1, inner >= 1 and
// count == outer * channels * inner for an integer outer.
struct ChannelLayout {
  int64_t outer, channels, inner;
};

// Calls f(i, c) for every flat index i of an [outer, channels, inner] array, in memory order,
// with c the element's channel: the scalar definition loops of the kernels walk arrays this way.
template <class F>
void for_each_element(const ChannelLayout& layout, F&& f) {
  for (int64_t o = 0; o < layout.outer; ++o) {
    for (int64_t c = 0; c < layout.channels; ++c) {
      const int64_t base = (o * layout.channels + c) * layout.inner;
      for (int64_t j = 0; j < layout.inner; ++j) f(base + j, c);
    }
  }
}

inline ChannelLayout channel_layout(const char* kernel, int64_t count, int64_t channels, int64_t inner) {
  if (count < 0) throw_invalid(kernel, "negative element count");
  if (channels < 1) throw_invalid(kernel, "the per-channel arrays are empty");
  if (channels == 1) return ChannelLayout{1, 1, count};
  if (inner < 1) throw_invalid(kernel, "inner must be >= 1, got " + std::to_string(inner));
  if (count / channels / inner * channels * inner != count || count % channels != 0) {
    throw_invalid(kernel, std::to_string(count) + " elements are not [outer, " + std::to_string(channels) + ", " +
                              std::to_string(inner) + "]");
  }
  return ChannelLayout{count / channels / inner, channels, inner};
}

// Zero points come as one value (per tensor) or one per channel.
inline void check_zero_point_count(const char* kernel, int64_t zero_point_count, int64_t channels) {
  if (zero_point_count != 1 && zero_point_count != channels) {
    throw_invalid(kernel, "zero_point must have 1 or " + std::to_string(channels) + " values, got " +
                              std::to_string(zero_point_count));
  }
}

inline int32_t zero_point_at(const int32_t* zero_point, int64_t zero_point_count, int64_t c) {
  return zero_point[zero_point_count == 1 ? 0 : c];
}

template <typename Out>
constexpr OutType out_type_of();
template <>
constexpr OutType out_type_of<int8_t>() { return OutType::kInt8; }
template <>
constexpr OutType out_type_of<uint8_t>() { return OutType::kUInt8; }
template <>
constexpr OutType out_type_of<int16_t>() { return OutType::kInt16; }
template <>
constexpr OutType out_type_of<uint16_t>() { return OutType::kUInt16; }
template <>
constexpr OutType out_type_of<int32_t>() { return OutType::kInt32; }

inline const char* out_type_name(OutType t) {
  switch (t) {
    case OutType::kInt8: return "int8";
    case OutType::kUInt8: return "uint8";
    case OutType::kInt16: return "int16";
    case OutType::kUInt16: return "uint16";
    case OutType::kInt32: return "int32";
  }
  return "?";
}

inline void out_type_range(OutType t, int64_t* lo, int64_t* hi) {
  switch (t) {
    case OutType::kInt8: *lo = INT8_MIN; *hi = INT8_MAX; return;
    case OutType::kUInt8: *lo = 0; *hi = UINT8_MAX; return;
    case OutType::kInt16: *lo = INT16_MIN; *hi = INT16_MAX; return;
    case OutType::kUInt16: *lo = 0; *hi = UINT16_MAX; return;
    case OutType::kInt32: *lo = INT32_MIN; *hi = INT32_MAX; return;
  }
}

// qmin <= qmax, both within the output type. std::invalid_argument otherwise.
inline void check_output_range(const char* kernel, int32_t qmin, int32_t qmax, OutType t) {
  int64_t lo = 0, hi = 0;
  out_type_range(t, &lo, &hi);
  if (qmin > qmax || qmin < lo || qmax > hi) {
    throw_invalid(kernel, "[qmin, qmax] = [" + std::to_string(qmin) + ", " + std::to_string(qmax) +
                              "] must be a non-empty range within " + out_type_name(t));
  }
}

// The signed range of an acc_bits-wide accumulator (32, 48 or 64).
struct IntRange {
  int64_t lo, hi;
};
inline IntRange accumulator_range(const char* kernel, int acc_bits) {
  if (acc_bits != 32 && acc_bits != 48 && acc_bits != 64) {
    throw_invalid(kernel, "acc_bits must be 32, 48 or 64, got " + std::to_string(acc_bits));
  }
  if (acc_bits == 64) return IntRange{INT64_MIN, INT64_MAX};
  const int64_t hi = static_cast<int64_t>((uint64_t(1) << (acc_bits - 1)) - 1);
  return IntRange{-hi - 1, hi};
}

inline RoundingMode checked_rounding_mode(const char* kernel, RoundingMode mode) {
  const int code = static_cast<int>(mode);
  if (!is_valid_rounding_mode(code)) throw_invalid(kernel, "unknown rounding mode code " + std::to_string(code));
  return mode;
}

// True when the integer v converts to F exactly and lies within int32 (so an integral F value
// clamped to it converts back to int32 without overflow).
template <typename F>
inline bool exact_int32_in(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) return false;
  return static_cast<int64_t>(static_cast<F>(v)) == v;
}

// An integer clamp bound as a float of type F, rounded outward: a lower bound toward -inf,
// an upper bound toward +inf. Clamping in F to the outward bounds never crosses an exact bound,
// so the exact integer clamp that follows the rounding gives the code of an exact clamp
// (rounding is monotone). Nearest rounding of the bounds would not: with an int32 output and
// float32, qmax - zp = -4294967289 rounds to -4294967296, below qmin - zp = -4294967295.
// |b| < 2^35 here, so the conversions back to int64 are exact.
template <typename F>
F float_bound_below(int64_t b) {
  F f = static_cast<F>(b);
  if (static_cast<int64_t>(f) > b) f = std::nextafter(f, -std::numeric_limits<F>::infinity());
  return f;
}

template <typename F>
F float_bound_above(int64_t b) {
  F f = static_cast<F>(b);
  if (static_cast<int64_t>(f) < b) f = std::nextafter(f, std::numeric_limits<F>::infinity());
  return f;
}

// A code or zero point `v` of the element type T (the range of T), else std::invalid_argument
// naming `name`.
template <typename T>
inline void check_code_value(const char* kernel, const char* name, int64_t v) {
  if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) || v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
    throw_invalid(kernel, std::string(name) + " = " + std::to_string(v) + " is outside the code type's range");
  }
}

// A float32 scale must be finite and > 0 (std::invalid_argument naming `name`).
inline bool scale_ok(float scale) { return fp_is_finite(scale) && scale > 0.0f; }
inline void check_scale(const char* kernel, const char* name, float scale) {
  if (!scale_ok(scale)) {
    throw_invalid(kernel, std::string(name) + " = " + format_float(scale, false) + " must be finite and > 0");
  }
}
// The same for element i of the array `array` (named "array[i]"): the name is built only for a
// bad scale (built for every channel it cost ~15 ns per channel: a 960-channel 7 x 7 depthwise
// call went 55 -> 40 us without it).
inline void check_scale_at(const char* kernel, const char* array, int64_t i, float scale) {
  if (!scale_ok(scale)) check_scale(kernel, (std::string(array) + "[" + std::to_string(i) + "]").c_str(), scale);
}

// v limited to [lo, hi].
inline int32_t clamp_to(int64_t v, int32_t lo, int32_t hi) {
  return static_cast<int32_t>(v < lo ? lo : (v > hi ? hi : v));
}

// Per-channel arrays at or below this `inner` are expanded to per-element arrays so the loop
// over a row of C*inner elements stays vectorized (inner == 1 is the common case: the channel
// is the last axis).
constexpr int64_t kPerElementMaxInner = 16;

FXSIM_NAMESPACE_END
