// Shared by bind_conv2d.cc and bind_matmul.cc: typed dispatch of the operand and accumulator
// arrays, the policy name, the optional bias.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bindings/array.h"
#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/kernels/accumulate.h"
#include "fxsim/kernels/kernel_job.h"
#include "fxsim/kernels/requantize.h"

namespace fxsim_bind {

// f(const T*) for an operand array of dtype uint8, int8, uint16 or int16 (int16 weights carry
// int4 values unpacked into int8 as well); `allow_u16` false rejects uint16.
template <class F>
void with_operand(const char* arg, const py::array& a, bool allow_u16, F&& f) {
  switch (dtype_of(a)) {
    case DType::kUInt8: return f(data_as<uint8_t>(arg, a));
    case DType::kInt8: return f(data_as<int8_t>(arg, a));
    case DType::kInt16: return f(data_as<int16_t>(arg, a));
    case DType::kUInt16:
      if (allow_u16) return f(data_as<uint16_t>(arg, a));
      break;
    default: break;
  }
  fail(std::string(arg) + " must be a uint8, int8, " + (allow_u16 ? "uint16, " : "") + "or int16 array, got " +
       actual_dtype(a));
}

// f(T*) for an accumulator output of dtype int32 or int64.
template <class F>
void with_acc_out(py::array& out, F&& f) {
  switch (dtype_of(out)) {
    case DType::kInt32: return f(mutable_data_as<int32_t>("out", out));
    case DType::kInt64: return f(mutable_data_as<int64_t>("out", out));
    default: break;
  }
  fail("out must be an int32 or int64 array, got " + actual_dtype(out));
}

inline fxsim::AccumulateParams accumulate_params(const std::string& policy, int acc_bits) {
  fxsim::AccumulateParams p;
  if (policy == "wrap") {
    p.policy = fxsim::AccumulatePolicy::kWrap;
  } else if (policy == "saturate") {
    p.policy = fxsim::AccumulatePolicy::kSaturate;
  } else if (policy == "raise") {
    p.policy = fxsim::AccumulatePolicy::kRaise;
  } else if (policy == "pair_saturate_16") {
    p.policy = fxsim::AccumulatePolicy::kPairSaturate16;
  } else if (policy == "raw_pair_saturate_16") {
    p.policy = fxsim::AccumulatePolicy::kRawPairSaturate16;
  } else {
    fail("policy must be 'wrap', 'saturate', 'raise', 'pair_saturate_16' or 'raw_pair_saturate_16', got '" + policy +
         "'");
  }
  p.acc_bits = acc_bits;
  return p;
}

// The bias (None, or `count` int32 / int64 values) as int64 values; empty when None.
inline std::vector<int64_t> bias_values(const py::object& bias, int64_t count) {
  std::vector<int64_t> values;
  if (bias.is_none()) return values;
  if (!py::isinstance<py::array>(bias)) fail("bias must be None or an int32 / int64 array");
  const py::array arr = py::reinterpret_borrow<py::array>(bias);
  require_size("bias", arr, count);
  values.resize(static_cast<size_t>(count));
  switch (dtype_of(arr)) {
    case DType::kInt32: {
      const int32_t* p = data_as<int32_t>("bias", arr);
      for (int64_t i = 0; i < count; ++i) values[i] = p[i];
      break;
    }
    case DType::kInt64: {
      const int64_t* p = data_as<int64_t>("bias", arr);
      for (int64_t i = 0; i < count; ++i) values[i] = p[i];
      break;
    }
    default: fail("bias must be an int32 or int64 array, got " + actual_dtype(arr));
  }
  return values;
}

// The requantization of a fused conv2d / matmul call: `method` 'double_round', 'single_round',
// 'int64_reduced' (multiplier and shift), 'power_of_two' (shift), 'fp32' (scale); the arrays of
// the other methods are None. channels = the size of the method's arrays; the pointers borrow
// the caller's arrays, which outlive the call.
inline fxsim::RequantizeArgs requantize_args(const std::string& method, const py::object& multiplier,
                                             const py::object& shift, const py::object& scale,
                                             const py::array& zero_point, int64_t qmin, int64_t qmax, int rounding,
                                             uint64_t seed, bool product_in_float64, bool zero_point_in_float) {
  fxsim::RequantizeArgs a;
  auto array_of = [](const char* arg, const py::object& o) {
    if (o.is_none() || !py::isinstance<py::array>(o)) fail(std::string(arg) + " must be an array for this method");
    return py::reinterpret_borrow<py::array>(o);
  };
  if (method == "double_round" || method == "single_round" || method == "int64_reduced") {
    a.method = method == "double_round"  ? fxsim::RequantizeMethod::kDoubleRound
               : method == "single_round" ? fxsim::RequantizeMethod::kSingleRound
                                          : fxsim::RequantizeMethod::kInt64Reduced;
    const py::array m = array_of("multiplier", multiplier), sh = array_of("shift", shift);
    a.channels = size_of(m);
    require_size("shift", sh, a.channels);
    a.multiplier = data_as<int32_t>("multiplier", m);
    a.shift = data_as<int32_t>("shift", sh);
  } else if (method == "power_of_two") {
    a.method = fxsim::RequantizeMethod::kPowerOfTwo;
    const py::array sh = array_of("shift", shift);
    a.channels = size_of(sh);
    a.shift = data_as<int32_t>("shift", sh);
  } else if (method == "fp32") {
    a.method = fxsim::RequantizeMethod::kFp32;
    const py::array sc = array_of("scale", scale);
    a.channels = size_of(sc);
    a.scale = data_as<float>("scale", sc);
  } else {
    fail("method must be 'double_round', 'single_round', 'int64_reduced', 'power_of_two' or 'fp32', got '" + method +
         "'");
  }
  a.params = fxsim::RequantizeParams{int32_arg("qmin", qmin), int32_arg("qmax", qmax), 1, 32,
                                     fxsim::rounding_mode_from_code(rounding), seed, product_in_float64,
                                     zero_point_in_float};
  a.zero_point = data_as<int32_t>("zero_point", zero_point);
  a.zero_point_count = size_of(zero_point);
  return a;
}

// The output codes of a fused call (int8, uint8, int16, uint16 or int32, writeable, contiguous):
// its data pointer, and its type in *type.
inline void* requantized_out(py::array& out, fxsim::OutType* type) {
  switch (dtype_of(out)) {
    case DType::kInt8: *type = fxsim::OutType::kInt8; return mutable_data_as<int8_t>("out", out);
    case DType::kUInt8: *type = fxsim::OutType::kUInt8; return mutable_data_as<uint8_t>("out", out);
    case DType::kInt16: *type = fxsim::OutType::kInt16; return mutable_data_as<int16_t>("out", out);
    case DType::kUInt16: *type = fxsim::OutType::kUInt16; return mutable_data_as<uint16_t>("out", out);
    case DType::kInt32: *type = fxsim::OutType::kInt32; return mutable_data_as<int32_t>("out", out);
    default: break;
  }
  fail("out must be an int8, uint8, int16, uint16 or int32 array, got " + actual_dtype(out));
}

// acc_offset: None or `count` int64 values (empty when None).
inline std::vector<int64_t> offset_values(const py::object& offset, int64_t count) {
  std::vector<int64_t> values;
  if (offset.is_none()) return values;
  if (!py::isinstance<py::array>(offset)) fail("acc_offset must be None or an int64 array");
  const py::array arr = py::reinterpret_borrow<py::array>(offset);
  require_size("acc_offset", arr, count);
  const int64_t* p = data_as<int64_t>("acc_offset", arr);
  values.assign(p, p + count);
  return values;
}

// The operand arguments of a conv2d / matmul call: the activation zero point, the weight zero
// points (1 or `channels`, checked by the kernel) and the bias (None or `channels` values).
struct OperandArgs {
  int32_t x_zero_point;
  const int32_t* w_zero_point;
  int64_t w_zero_point_count;
  std::vector<int64_t> bias;
  const int64_t* bias_data() const { return bias.empty() ? nullptr : bias.data(); }
};

inline OperandArgs operand_args(const char* x_zp_name, int64_t x_zero_point, const char* w_zp_name,
                                const py::array& w_zero_point, const py::object& bias, int64_t channels) {
  return OperandArgs{int32_arg(x_zp_name, x_zero_point), data_as<int32_t>(w_zp_name, w_zero_point),
                     size_of(w_zero_point), bias_values(bias, channels)};
}

// The requantization part of a fused call: its arguments, the accumulator offsets, the output.
struct FusedArgs {
  fxsim::RequantizeArgs rq;
  std::vector<int64_t> offset;
  fxsim::OutType out_type = fxsim::OutType::kInt32;
  void* out = nullptr;
  const int64_t* offset_data() const { return offset.empty() ? nullptr : offset.data(); }
};

inline FusedArgs fused_args(const py::object& acc_offset, const std::string& method, const py::object& multiplier,
                            const py::object& shift, const py::object& scale, const py::array& zero_point,
                            int64_t qmin, int64_t qmax, int rounding, uint64_t seed, bool product_in_float64,
                            bool zero_point_in_float, py::array& out) {
  FusedArgs f;
  f.rq = requantize_args(method, multiplier, shift, scale, zero_point, qmin, qmax, rounding, seed, product_in_float64,
                         zero_point_in_float);
  f.offset = offset_values(acc_offset, f.rq.channels);
  f.out = requantized_out(out, &f.out_type);
  return f;
}

// The requantization arguments of a fused call converted once, for a call object that binds
// every argument but the input and the output (Conv2DRequantizeCall, MatMulRequantizeCall): a
// graph runs each layer many times, and converting conv2d_requantize's two dozen Python arguments
// took ~0.9 us of every call (a 1x1 conv on one pixel: 2.0 us in all). `rq` points into the
// arrays, which `arrays` keeps alive.
struct BoundRequantize {
  std::vector<py::object> arrays;
  fxsim::RequantizeArgs rq;
  std::vector<int64_t> offset;
  const int64_t* offset_data() const { return offset.empty() ? nullptr : offset.data(); }
};

inline BoundRequantize bound_requantize(const py::object& acc_offset, const std::string& method,
                                        const py::object& multiplier, const py::object& shift, const py::object& scale,
                                        const py::array& zero_point, int64_t qmin, int64_t qmax, int rounding,
                                        uint64_t seed, bool product_in_float64, bool zero_point_in_float) {
  BoundRequantize b;
  b.arrays = {multiplier, shift, scale, zero_point};
  b.rq = requantize_args(method, multiplier, shift, scale, zero_point, qmin, qmax, rounding, seed, product_in_float64,
                         zero_point_in_float);
  b.offset = offset_values(acc_offset, b.rq.channels);
  return b;
}

inline void require_ndim(const char* arg, const py::array& a, py::ssize_t ndim) {
  if (a.ndim() != ndim) {
    fail(std::string(arg) + " must have " + std::to_string(ndim) + " dimensions, got " + std::to_string(a.ndim()));
  }
}

}  // namespace fxsim_bind
