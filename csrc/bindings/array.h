// numpy argument checks shared by the binding files: exact dtypes (arrays are taken with
// noconvert(), nothing is coerced), C-contiguity, alignment, sizes, writability, no overlap
// between inputs and `out`. Failures throw std::invalid_argument (-> fxsim.errors.KernelError);
// `guarded` prefixes every message that leaves a kernel with the kernel's name.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "fxsim/kernels/kernel_job.h"

namespace fxsim_bind {

namespace py = pybind11;

enum class DType { kInt8, kUInt8, kInt16, kUInt16, kInt32, kUInt32, kInt64, kUInt64, kFloat32, kFloat64, kOther };

// Whether the dtype's byte order is this machine's: '=' native, '|' not applicable (one byte), or
// the explicit character of this machine's order. Read from the descriptor: the Python attribute
// `isnative` cost an attribute lookup by name per array of every call (~5% of a small kernel call).
inline bool native_byte_order(const py::dtype& dt) {
  const char order = dt.byteorder();
  const uint16_t probe = 1;
  const bool little = *reinterpret_cast<const unsigned char*>(&probe) == 1;
  return order == '=' || order == '|' || order == (little ? '<' : '>');
}

inline DType dtype_of(const py::array& a) {
  const py::dtype dt = a.dtype();
  if (!native_byte_order(dt)) return DType::kOther;
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'i') {
    switch (size) {
      case 1: return DType::kInt8;
      case 2: return DType::kInt16;
      case 4: return DType::kInt32;
      case 8: return DType::kInt64;
      default: return DType::kOther;
    }
  }
  if (kind == 'u') {
    switch (size) {
      case 1: return DType::kUInt8;
      case 2: return DType::kUInt16;
      case 4: return DType::kUInt32;
      case 8: return DType::kUInt64;
      default: return DType::kOther;
    }
  }
  if (kind == 'f') {
    if (size == 4) return DType::kFloat32;
    if (size == 8) return DType::kFloat64;
  }
  return DType::kOther;
}

template <typename T>
constexpr DType dtype_for();
template <> constexpr DType dtype_for<int8_t>() { return DType::kInt8; }
template <> constexpr DType dtype_for<uint8_t>() { return DType::kUInt8; }
template <> constexpr DType dtype_for<int16_t>() { return DType::kInt16; }
template <> constexpr DType dtype_for<uint16_t>() { return DType::kUInt16; }
template <> constexpr DType dtype_for<int32_t>() { return DType::kInt32; }
template <> constexpr DType dtype_for<int64_t>() { return DType::kInt64; }
template <> constexpr DType dtype_for<float>() { return DType::kFloat32; }
template <> constexpr DType dtype_for<double>() { return DType::kFloat64; }

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt16: return "int16";
    case DType::kUInt16: return "uint16";
    case DType::kInt32: return "int32";
    case DType::kUInt32: return "uint32";
    case DType::kInt64: return "int64";
    case DType::kUInt64: return "uint64";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kOther: return "other";
  }
  return "other";
}

[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

inline std::string actual_dtype(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// C-contiguous and aligned (required for every array argument).
inline void require_layout(const char* arg, const py::array& a) {
  if ((a.flags() & py::array::c_style) == 0) fail(std::string(arg) + " must be C-contiguous");
  // numpy's ALIGNED flag bit, read from the flags word (a.flags.aligned through Python attribute
  // lookups cost ~0.2 us per array per call)
  if ((a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) == 0) fail(std::string(arg) + " must be aligned");
}

// Pointer to the data of `a`, which must have exactly dtype T (native byte order).
template <typename T>
const T* data_as(const char* arg, const py::array& a) {
  if (dtype_of(a) != dtype_for<T>()) {
    fail(std::string(arg) + " must be a " + dtype_name(dtype_for<T>()) + " array, got " + actual_dtype(a));
  }
  require_layout(arg, a);
  return static_cast<const T*>(a.data());
}

template <typename T>
T* mutable_data_as(const char* arg, py::array& a) {
  const T* p = data_as<T>(arg, a);
  if (!a.writeable()) fail(std::string(arg) + " must be writeable");
  return const_cast<T*>(p);
}

inline int64_t size_of(const py::array& a) { return static_cast<int64_t>(a.size()); }

inline void require_size(const char* arg, const py::array& a, int64_t n) {
  if (size_of(a) != n) {
    fail(std::string(arg) + " must have " + std::to_string(n) + " elements, got " + std::to_string(size_of(a)));
  }
}

// Elementwise operands: the size of the first operand, or 1 (broadcast). Returns the stride (0 or 1).
inline int64_t operand_stride(const char* arg, const py::array& a, int64_t n) {
  if (size_of(a) == n) return 1;
  if (size_of(a) == 1) return 0;
  fail(std::string(arg) + " must have " + std::to_string(n) + " elements (or 1), got " + std::to_string(size_of(a)));
}

// `out` must not share memory with an input (kernels read and write in blocks).
inline void require_no_overlap(const char* arg, const py::array& in, const py::array& out) {
  const auto* a0 = static_cast<const char*>(in.data());
  const auto* a1 = a0 + in.nbytes();
  const auto* b0 = static_cast<const char*>(out.data());
  const auto* b1 = b0 + out.nbytes();
  if (in.nbytes() > 0 && out.nbytes() > 0 && a0 < b1 && b0 < a1) {
    fail(std::string("out must not overlap ") + arg);
  }
}

inline std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

inline int32_t int32_arg(const char* arg, int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) fail(std::string(arg) + " = " + std::to_string(v) + " does not fit int32");
  return static_cast<int32_t>(v);
}

// A scale given as a Python float that must be exactly a float32 value (np.float32 passes).
inline float float32_arg(const char* arg, double v) {
  const float f = static_cast<float>(v);
  if (static_cast<double>(f) != v) fail(std::string(arg) + " must be a float32 value (pass np.float32)");
  return f;
}

// Calls f(out_ptr) with the typed pointer of a code array `out` (int8, uint8, int16, uint16 or
// int32: the output types of requantize and quantize); any other dtype is an error.
template <class F>
auto with_code_out(py::array& out, F&& f) {
  switch (dtype_of(out)) {
    case DType::kInt8: return f(mutable_data_as<int8_t>("out", out));
    case DType::kUInt8: return f(mutable_data_as<uint8_t>("out", out));
    case DType::kInt16: return f(mutable_data_as<int16_t>("out", out));
    case DType::kUInt16: return f(mutable_data_as<uint16_t>("out", out));
    case DType::kInt32: return f(mutable_data_as<int32_t>("out", out));
    default: break;
  }
  fail("out must be an int8, uint8, int16, uint16 or int32 array, got " + actual_dtype(out));
}

// Calls f(ptr) with the typed data pointer of an 8/16-bit code input `x` (int8, uint8 or
// int16, the types of the elementwise, pooling and concat kernels); any other dtype is an error.
template <class F>
void with_code_in(const char* arg, const py::array& x, F&& f) {
  switch (dtype_of(x)) {
    case DType::kInt8: return f(data_as<int8_t>(arg, x));
    case DType::kUInt8: return f(data_as<uint8_t>(arg, x));
    case DType::kInt16: return f(data_as<int16_t>(arg, x));
    default: break;
  }
  fail(std::string(arg) + " must be an int8, uint8 or int16 array, got " + actual_dtype(x));
}

// The same for an input `x` and an array `other` that must have x's dtype: f(px, pother).
template <class F>
void with_code_pair(const char* arg, const py::array& x, const char* other_arg, const py::array& other, F&& f) {
  if (dtype_of(x) != dtype_of(other)) {
    fail(std::string(arg) + " and " + other_arg + " must have the same dtype, got " + actual_dtype(x) + " and " +
         actual_dtype(other));
  }
  with_code_in(arg, x, [&](const auto* px) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(px)>>;
    f(px, data_as<T>(other_arg, other));
  });
}

// The OutType of a writable int8, uint8 or int16 `out` array (else an error).
inline fxsim::OutType code_out_type(py::array& out) {
  switch (dtype_of(out)) {
    case DType::kInt8: mutable_data_as<int8_t>("out", out); return fxsim::OutType::kInt8;
    case DType::kUInt8: mutable_data_as<uint8_t>("out", out); return fxsim::OutType::kUInt8;
    case DType::kInt16: mutable_data_as<int16_t>("out", out); return fxsim::OutType::kInt16;
    default: break;
  }
  fail("out must be an int8, uint8 or int16 array, got " + actual_dtype(out));
}

// Runs f(); a std::invalid_argument / std::out_of_range leaving it gets the prefix "kernel: ".
template <class F>
auto guarded(const char* kernel, F&& f) -> decltype(f()) {
  const std::string prefix = std::string(kernel) + ": ";
  auto prefixed = [&](const char* what) {
    const std::string w(what);
    return w.compare(0, prefix.size(), prefix) == 0 ? w : prefix + w;
  };
  try {
    return f();
  } catch (const std::out_of_range& e) {
    throw std::out_of_range(prefixed(e.what()));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(prefixed(e.what()));
  }
}

// Runs f(i) for i in [0, n); an error names the index: "name: index i: rest" when the message
// starts with a function name ("name: rest"), else "index i: message".
inline std::string with_index(int64_t i, const char* what) {
  const std::string w(what);
  const std::string at = "index " + std::to_string(i) + ": ";
  const size_t colon = w.find(": ");
  const bool named = colon != std::string::npos && w.find(' ') > colon;  // "name: ..." with no space in name
  return named ? w.substr(0, colon + 2) + at + w.substr(colon + 2) : at + w;
}

template <class F>
void for_each_index(int64_t n, F&& f) {
  int64_t i = 0;
  try {
    for (; i < n; ++i) f(i);
  } catch (const std::out_of_range& e) {
    throw std::out_of_range(with_index(i, e.what()));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(with_index(i, e.what()));
  }
}

}  // namespace fxsim_bind
