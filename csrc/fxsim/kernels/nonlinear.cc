// softmax_tflite, logistic_tflite, tanh_tflite, hard_swish_tflite: validate once, evaluate the
// scalar definition once per possible 8-bit input (or per difference for softmax), then run
// the rows / elements across threads. Contract and sources: nonlinear.h.
#include "fxsim/kernels/nonlinear.h"

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "fxsim/fixedpoint/fixedpoint_math.h"
#include "fxsim/fixedpoint/multiplier.h"
#include "fxsim/kernels/common.h"
#include "fxsim/kernels/lut.h"
#include "fxsim/kernels/parallel.h"

FXSIM_NAMESPACE_BEGIN
namespace {

constexpr int kSoftmaxScaledDiffIntegerBits = 5;    // reference/softmax.h
constexpr int kSoftmaxAccumulationIntegerBits = 12;  // reference/softmax.h
constexpr int kLogisticTanhInputIntegerBits = 4;    // integer_ops/logistic.h, tanh.h

// TFLite CalculateInputRadius(ib, shift, 31) = floor((2^ib - 1) * 2^(31 - ib) / 2^shift), exact.
int64_t input_radius(int integer_bits, int left_shift) {
  return ((int64_t(1) << integer_bits) - 1) * (int64_t(1) << (31 - integer_bits)) >> left_shift;
}

template <typename T>
void check_in_type(const char* k, const char* name, int32_t v) {
  if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
    throw_invalid(k, std::string(name) + " = " + std::to_string(v) + " is outside the input type");
  }
}

void check_count(const char* k, int64_t count, const void* in, const void* out) {
  if (count < 0) throw_invalid(k, "negative element count");
  if (count > 0 && (in == nullptr || out == nullptr)) throw_invalid(k, "null data pointer");
}

void check_logistic_tanh(const char* k, const LogisticTanhParams& p) {
  if (p.input_left_shift < 0 || p.input_left_shift > 62) {
    throw_invalid(k, "input_left_shift = " + std::to_string(p.input_left_shift) + " is outside [0, 62]");
  }
  const int64_t bound = input_radius(kLogisticTanhInputIntegerBits, p.input_left_shift);
  if (p.input_range_radius < 0 || p.input_range_radius > bound) {
    throw_invalid(k, "input_range_radius = " + std::to_string(p.input_range_radius) + " is outside [0, " +
                         std::to_string(bound) + "] (CalculateInputRadius(4, input_left_shift))");
  }
  if (p.input_multiplier < 0) throw_invalid(k, "input_multiplier must be >= 0");
}

// q - zp in Q4 (MultiplyByQuantizedMultiplier with a left shift; |x| < radius keeps x * 2^shift
// below 15 * 2^27, so the int32 shift never overflows).
int32_t q4_input(const LogisticTanhParams& p, int32_t x) {
  return nocheck::multiply_by_quantized_multiplier_double_round(x, p.input_multiplier, p.input_left_shift);
}

template <typename T, class F>
void elementwise(const char* k, int64_t count, const T* input, T* output, F&& element) {
  static_assert(std::is_same<T, int8_t>::value || std::is_same<T, uint8_t>::value, "8-bit types only");
  check_count(k, count, input, output);
  T table[256];
  const int32_t lo = std::numeric_limits<T>::min();
  for (int32_t v = 0; v < 256; ++v) table[v] = static_cast<T>(element(v + lo));  // within T
  lut_apply<T, T>(256, table, count, input, output);  // the table from the type's minimum (lut.h)
}

// sigmoid(i / 24) in Q0.16 for i = 0..255 (the last entry saturated at 65535): the table of
// tensorflow/lite/kernels/internal/common.h (and CMSIS-NN arm_nntables.c), data copied as it is
// (it is not exactly round(65536 sigmoid(i/24)); tests compare it with the Python model's copy).
constexpr uint16_t kSigmoidTableUint16[256] = {
32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498,
    40149, 40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255,
    46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865,
    52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174,
    56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288,
    59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441,
    61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886,
    62990, 63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835,
    63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450,
    64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845,
    64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097,
    65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
    65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465,
    65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508,
    65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517, 65517, 65518,
    65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525,
    65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529,
    65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531,
    65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533,
    65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65535};

// The (multiplier, shift) the int16 kernels use: TFLite substitutes 3 << shift when the
// multiplier is 0 (power-of-two input scale).
void effective_int16_scaling(const LogisticTanhInt16Params& p, int64_t* m, int* s) {
  if (p.input_multiplier == 0) {
    *m = int64_t(3) << p.input_left_shift;
    *s = 0;
  } else {
    *m = p.input_multiplier;
    *s = p.input_left_shift;
  }
}

// v = (q * M + round) >> s: TFLite computes it in int32 (check_logistic_tanh_int16 keeps it in
// range), an arithmetic shift (floor).
int64_t scaled_int16_input(const LogisticTanhInt16Params& p, int32_t q) {
  int64_t m = 0;
  int s = 0;
  effective_int16_scaling(p, &m, &s);
  const int64_t round = s > 0 ? (int64_t(1) << (s - 1)) : 0;
  const int64_t t = int64_t(q) * m + round;
  return t >= 0 ? (t >> s) : -((-t + (int64_t(1) << s) - 1) >> s);  // floor division by 2^s
}

void check_logistic_tanh_int16(const char* k, const LogisticTanhInt16Params& p) {
  if (p.input_left_shift < 0 || p.input_left_shift > 31) {
    throw_invalid(k, "input_left_shift = " + std::to_string(p.input_left_shift) + " is outside [0, 31]");
  }
  if (p.input_multiplier < 0) throw_invalid(k, "input_multiplier must be >= 0");
  if (p.input_multiplier == 0 && p.input_left_shift > 14) {
    throw_invalid(k, "input_left_shift = " + std::to_string(p.input_left_shift) +
                         " with input_multiplier 0 (3 << shift) must be <= 14");
  }
  int64_t m = 0;
  int s = 0;
  effective_int16_scaling(p, &m, &s);
  const int64_t round = s > 0 ? (int64_t(1) << (s - 1)) : 0;
  // TFLite's int32 `q * M + round` for every int16 q, and |v| (abs of an int32) defined
  if (int64_t(INT16_MAX) * m + round > INT32_MAX || int64_t(INT16_MIN) * m + round <= INT32_MIN) {
    throw_invalid(k, "input_multiplier = " + std::to_string(p.input_multiplier) +
                         " overflows TFLite's int32 q * multiplier (input scale too large)");
  }
}

// The table interpolation both int16 kernels share: a = |v|, h = a >> frac_bits; r = saturated
// when h >= 255, else t[h] * 2^frac_bits + (a mod 2^frac_bits) * (t[h + 1] - t[h]) (the table is
// non-decreasing, so the difference is >= 0; r < 2^25).
int64_t interpolate_sigmoid_table(int64_t v, int frac_bits, int64_t saturated) {
  const uint32_t a = static_cast<uint32_t>(v < 0 ? -v : v);
  const uint32_t h = a >> frac_bits;
  if (h >= 255) return saturated;
  const int64_t ua = kSigmoidTableUint16[h], ub = kSigmoidTableUint16[h + 1];
  return (ua << frac_bits) + int64_t(a & ((1u << frac_bits) - 1)) * (ub - ua);
}

}  // namespace

const uint16_t* sigmoid_table_uint16() { return kSigmoidTableUint16; }

int32_t logistic_int16_tflite_element(const LogisticTanhInt16Params& p, int32_t q) {
  const int64_t v = scaled_int16_input(p, q);
  int64_t r = interpolate_sigmoid_table(v, 9, int64_t(0x7FFF) << 10);
  r = v >= 0 ? r + (1 << 9) : (int64_t(1) << 25) - r + (1 << 9) - 1;  // >= 0: r <= 2^25 - 2^10
  return static_cast<int32_t>(r >> 10);
}

int32_t tanh_int16_tflite_element(const LogisticTanhInt16Params& p, int32_t q) {
  const int64_t v = scaled_int16_input(p, q);
  int64_t r = interpolate_sigmoid_table(v, 8, int64_t(0xFFFF) << 8);
  r = v >= 0 ? r - (int64_t(1) << 23) + (1 << 7) : -r + (int64_t(1) << 23) + (1 << 7) - 1;
  return static_cast<int32_t>(r >= 0 ? (r >> 8) : -((-r + 255) >> 8));  // arithmetic shift: floor
}

namespace {

// The int16 twin of `elementwise`: 65,536 inputs make a table cost more than the call, so each
// element is computed (results lie in int16 by the element functions' construction).
template <class F>
void map_int16_elements(const char* k, int64_t count, const int16_t* input, int16_t* output, F&& element) {
  check_count(k, count, input, output);
  parallel_tasks(count, 4, [&](int64_t i0, int64_t i1) -> int64_t {
    for (int64_t i = i0; i < i1; ++i) output[i] = static_cast<int16_t>(element(input[i]));
    return -1;
  });
}

}  // namespace

void logistic_int16_tflite(const LogisticTanhInt16Params& params, int64_t count, const int16_t* input, int16_t* output) {
  const char* k = "logistic_int16_tflite";
  check_logistic_tanh_int16(k, params);
  map_int16_elements(k, count, input, output, [&](int32_t q) { return logistic_int16_tflite_element(params, q); });
}

void tanh_int16_tflite(const LogisticTanhInt16Params& params, int64_t count, const int16_t* input, int16_t* output) {
  const char* k = "tanh_int16_tflite";
  check_logistic_tanh_int16(k, params);
  map_int16_elements(k, count, input, output, [&](int32_t q) { return tanh_int16_tflite_element(params, q); });
}

int32_t logistic_tflite_element(const LogisticTanhParams& p, int32_t q, bool is_uint8) {
  const int32_t lo = is_uint8 ? 0 : -128, hi = is_uint8 ? 255 : 127;
  const int32_t x = q - p.input_zero_point;
  if (x <= -p.input_range_radius) return lo;
  if (x >= p.input_range_radius) return hi;
  const int32_t y = nocheck::rounding_divide_by_pot(fixedpoint_logistic(q4_input(p, x), kLogisticTanhInputIntegerBits), 23);
  const int32_t r = y + lo;
  return r < lo ? lo : (r > hi ? hi : r);
}

int32_t tanh_tflite_element(const LogisticTanhParams& p, int32_t q, bool is_uint8) {
  const int32_t lo = is_uint8 ? 0 : -128, hi = is_uint8 ? 255 : 127;
  const int32_t x = q - p.input_zero_point;
  if (x <= -p.input_range_radius) return lo;
  if (x >= p.input_range_radius) return hi;
  const int32_t y = nocheck::rounding_divide_by_pot(fixedpoint_tanh(q4_input(p, x), kLogisticTanhInputIntegerBits), 24);
  const int32_t r = y + (is_uint8 ? 128 : 0);
  return r < lo ? lo : (r > hi ? hi : r);
}

int32_t hard_swish_tflite_element(const HardSwishParams& p, int32_t q, bool is_uint8) {
  const int32_t lo = is_uint8 ? 0 : -128, hi = is_uint8 ? 255 : 127;
  const int16_t v = static_cast<int16_t>((q - p.input_zero_point) * 128);  // |q - zp| <= 255
  const int16_t m_out = static_cast<int16_t>(p.output_multiplier);
  const int16_t m_rel = static_cast<int16_t>(p.reluish_multiplier);
  const int16_t pre_out = srdhm16(v, m_out);
  int16_t r = v;
  if (p.reluish_exponent > 0) r = saturating_left_shift16(r, p.reluish_exponent - 1);
  r = srdhm16(r, m_rel);
  if (p.reluish_exponent > 0) r = saturating_left_shift16(r, 1);
  if (p.reluish_exponent < 0) r = rounding_divide_by_pot16(r, -p.reluish_exponent);
  r = static_cast<int16_t>((static_cast<int32_t>(r) + (1 << 15)) >> 1);  // [-1, 1] -> [0, 1]
  const int16_t pre = saturating_doubling_high_mul16(r, pre_out);
  const int32_t y = rounding_divide_by_pot16(pre, -p.output_exponent);
  // TFLite adds the zero point to an int16_t (`output_value += zp`): the sum wraps to int16.
  const int32_t wrapped = static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint32_t>(y + p.output_zero_point)));
  return wrapped < lo ? lo : (wrapped > hi ? hi : wrapped);
}

template <typename T>
void logistic_tflite(const LogisticTanhParams& params, int64_t count, const T* input, T* output) {
  const char* k = "logistic_tflite";
  check_logistic_tanh(k, params);
  check_in_type<T>(k, "input_zero_point", params.input_zero_point);
  const bool u8 = std::is_same<T, uint8_t>::value;
  elementwise(k, count, input, output, [&](int32_t q) { return logistic_tflite_element(params, q, u8); });
}

template <typename T>
void tanh_tflite(const LogisticTanhParams& params, int64_t count, const T* input, T* output) {
  const char* k = "tanh_tflite";
  check_logistic_tanh(k, params);
  check_in_type<T>(k, "input_zero_point", params.input_zero_point);
  const bool u8 = std::is_same<T, uint8_t>::value;
  elementwise(k, count, input, output, [&](int32_t q) { return tanh_tflite_element(params, q, u8); });
}

template <typename T>
void hard_swish_tflite(const HardSwishParams& params, int64_t count, const T* input, T* output) {
  const char* k = "hard_swish_tflite";
  check_in_type<T>(k, "input_zero_point", params.input_zero_point);
  check_in_type<T>(k, "output_zero_point", params.output_zero_point);
  if (params.reluish_multiplier < INT16_MIN || params.reluish_multiplier > INT16_MAX ||
      params.output_multiplier < INT16_MIN || params.output_multiplier > INT16_MAX) {
    throw_invalid(k, "reluish_multiplier and output_multiplier must be int16 values");
  }
  if (params.reluish_exponent < -31 || params.reluish_exponent > 31) {
    throw_invalid(k, "reluish_exponent = " + std::to_string(params.reluish_exponent) + " is outside [-31, 31]");
  }
  if (params.output_exponent < -31 || params.output_exponent > 0) {
    throw_invalid(k, "output_exponent = " + std::to_string(params.output_exponent) + " is outside [-31, 0]");
  }
  const bool u8 = std::is_same<T, uint8_t>::value;
  elementwise(k, count, input, output, [&](int32_t q) { return hard_swish_tflite_element(params, q, u8); });
}

template <typename In, typename Out>
void softmax_tflite(const SoftmaxParams& params, int64_t outer, int64_t depth, const In* input, Out* output) {
  const char* k = "softmax_tflite";
  if (outer < 0) throw_invalid(k, "negative outer size");
  if (depth < 1) throw_invalid(k, "depth (the last axis) must be >= 1, got " + std::to_string(depth));
  check_count(k, outer * depth, input, output);
  if (params.input_multiplier < 0) throw_invalid(k, "input_multiplier must be >= 0");
  if (params.input_left_shift < 0 || params.input_left_shift > 31) {
    throw_invalid(k, "input_left_shift = " + std::to_string(params.input_left_shift) + " is outside [0, 31]");
  }
  const int64_t radius = input_radius(kSoftmaxScaledDiffIntegerBits, params.input_left_shift);
  if (params.diff_min > 0 || -static_cast<int64_t>(params.diff_min) > radius) {
    throw_invalid(k, "diff_min = " + std::to_string(params.diff_min) + " is outside [-" + std::to_string(radius) +
                         ", 0] (-CalculateInputRadius(5, input_left_shift))");
  }
  // exp of every difference d = -t, t in 0..255 (Q0), and its Q12 summand; -1 marks d < diff_min.
  int32_t exp_q0[256];
  int32_t exp_q12[256];
  for (int32_t t = 0; t < 256; ++t) {
    if (-t >= params.diff_min) {
      const int32_t scaled = nocheck::saturating_rounding_doubling_high_mul(
          nocheck::shift_left_wrapping_int32(-t, params.input_left_shift), params.input_multiplier);  // Q5.26
      exp_q0[t] = exp_on_negative_values(scaled, kSoftmaxScaledDiffIntegerBits);
      exp_q12[t] = nocheck::rounding_divide_by_pot(exp_q0[t], kSoftmaxAccumulationIntegerBits);  // Rescale<12>
    } else {
      exp_q0[t] = -1;
      exp_q12[t] = 0;
    }
  }
  constexpr int kOutBits = 8 * static_cast<int>(sizeof(Out));
  const int32_t out_lo = std::numeric_limits<Out>::min(), out_hi = std::numeric_limits<Out>::max();
  const int64_t bad_row = parallel_tasks(outer, depth * 4, [&](int64_t r0, int64_t r1) -> int64_t {
    for (int64_t r = r0; r < r1; ++r) {
      const In* x = input + r * depth;
      Out* y = output + r * depth;
      int32_t top = x[0];
      for (int64_t c = 1; c < depth; ++c) top = x[c] > top ? x[c] : top;
      uint32_t sum = 0;  // Q12.19, int32 addition with wrap
      for (int64_t c = 0; c < depth; ++c) sum += static_cast<uint32_t>(exp_q12[top - x[c]]);
      if (sum == 0) return r;
      int num_bits_over_unit = 0;
      const int32_t recip = get_reciprocal(static_cast<int32_t>(sum), kSoftmaxAccumulationIntegerBits, &num_bits_over_unit);
      const int exponent = num_bits_over_unit + 31 - kOutBits;
      if (exponent < 0 || exponent > 31) return r;
      for (int64_t c = 0; c < depth; ++c) {
        const int32_t e = exp_q0[top - x[c]];
        if (e < 0) {
          y[c] = static_cast<Out>(out_lo);
        } else {
          const int32_t v = nocheck::rounding_divide_by_pot(nocheck::saturating_rounding_doubling_high_mul(recip, e), exponent) + out_lo;
          y[c] = static_cast<Out>(v < out_lo ? out_lo : (v > out_hi ? out_hi : v));
        }
      }
    }
    return -1;
  });
  if (bad_row >= 0) {
    const In* x = input + bad_row * depth;
    int32_t top = x[0];
    for (int64_t c = 1; c < depth; ++c) top = x[c] > top ? x[c] : top;
    uint32_t sum = 0;
    for (int64_t c = 0; c < depth; ++c) sum += static_cast<uint32_t>(exp_q12[top - x[c]]);
    throw_range(k, "row " + std::to_string(bad_row) + ": the int32 (Q12.19) sum of exponentials " +
                       std::to_string(static_cast<int32_t>(sum)) +
                       " gives an output exponent outside 0..31 (TFLite's TFLITE_CHECK fails: for an 8-bit "
                       "output the real sum must stay below 512)");
  }
}

void softmax_int16_tflite(const SoftmaxInt16Params& params, int64_t outer, int64_t depth, const int16_t* input,
                          const int16_t* exp_lut, const int16_t* one_over_one_plus_x_lut, int16_t* output) {
  const char* k = "softmax_int16_tflite";
  if (outer < 0) throw_invalid(k, "negative outer size");
  if (depth < 1) throw_invalid(k, "depth (the last axis) must be >= 1, got " + std::to_string(depth));
  check_count(k, outer * depth, input, output);
  if (exp_lut == nullptr || one_over_one_plus_x_lut == nullptr) throw_invalid(k, "null LUT");
  if (params.input_left_shift < -31 || params.input_left_shift > 31) {
    throw_invalid(k, "input_left_shift = " + std::to_string(params.input_left_shift) + " is outside [-31, 31]");
  }
  const int64_t bad_row = parallel_tasks(outer, depth * 8, [&](int64_t r0, int64_t r1) -> int64_t {
    for (int64_t r = r0; r < r1; ++r) {
      const int16_t* x = input + r * depth;
      int16_t* y = output + r * depth;
      int32_t top = x[0];
      for (int64_t c = 1; c < depth; ++c) top = x[c] > top ? x[c] : top;
      uint32_t sum = 0;  // int32 with wrap (Q16.15)
      for (int64_t c = 0; c < depth; ++c) {
        const int32_t scaled = nocheck::multiply_by_quantized_multiplier_double_round(
            x[c] - top, params.input_multiplier, params.input_left_shift);
        const int32_t sym = scaled > INT32_MAX - 32767 ? INT32_MAX : scaled + 32767;
        const int16_t sat = static_cast<int16_t>(sym < -32768 ? -32768 : (sym > 32767 ? 32767 : sym));
        y[c] = lut_lookup_int16(sat, exp_lut);  // exp cached in the output, as TFLite does
        sum += static_cast<uint32_t>(static_cast<int32_t>(y[c]));
      }
      const int32_t total = static_cast<int32_t>(sum);
      if (total <= 0) return r;
      const int h = count_leading_zeros32(static_cast<uint32_t>(total));  // 1..31
      const int32_t shifted =
          static_cast<int32_t>(((static_cast<int64_t>(total) << (h - 1)) + (1 << 13)) >> 14);
      const int32_t sym = shifted - ((1 << 15) + (1 << 16));
      const int16_t sat = static_cast<int16_t>(sym < -32768 ? -32768 : (sym > 32767 ? 32767 : sym));
      const int64_t recip = lut_lookup_int16(sat, one_over_one_plus_x_lut);
      const int right = 31 - h;  // 0..30
      const int64_t round = right > 0 ? (int64_t(1) << (right - 1)) : 0;
      for (int64_t c = 0; c < depth; ++c) {
        const int64_t v = (static_cast<int64_t>(y[c]) * recip + round) >> right;
        y[c] = static_cast<int16_t>(v < 0 ? 0 : (v > 32767 ? 32767 : v));
      }
    }
    return -1;
  });
  if (bad_row >= 0) {
    throw_range(k, "row " + std::to_string(bad_row) +
                       ": the int32 sum of exponentials is not positive (it wrapped; TFLite would shift by a "
                       "negative amount)");
  }
}

#define FXSIM_SOFTMAX(In, Out) \
  template void softmax_tflite<In, Out>(const SoftmaxParams&, int64_t, int64_t, const In*, Out*);
FXSIM_SOFTMAX(int8_t, int8_t)
FXSIM_SOFTMAX(int8_t, uint8_t)
FXSIM_SOFTMAX(int8_t, int16_t)
FXSIM_SOFTMAX(uint8_t, int8_t)
FXSIM_SOFTMAX(uint8_t, uint8_t)
FXSIM_SOFTMAX(uint8_t, int16_t)
#undef FXSIM_SOFTMAX

#define FXSIM_ELEMENTWISE(T)                                                                             \
  template void logistic_tflite<T>(const LogisticTanhParams&, int64_t, const T*, T*);                    \
  template void tanh_tflite<T>(const LogisticTanhParams&, int64_t, const T*, T*);                        \
  template void hard_swish_tflite<T>(const HardSwishParams&, int64_t, const T*, T*);
FXSIM_ELEMENTWISE(int8_t)
FXSIM_ELEMENTWISE(uint8_t)
#undef FXSIM_ELEMENTWISE

FXSIM_NAMESPACE_END
