// requantize_<method> array kernels (fxsim/kernels/requantize.h): write into `out`, return None.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "bindings/array.h"
#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/kernels/requantize.h"

namespace fxsim_bind {

namespace {

// Calls f(acc_ptr, out_ptr) with the typed pointers of acc (int32/int64) and out (int8, uint8,
// int16, uint16, int32), after the checks every array kernel shares; GIL released around f.
template <class F>
void with_acc_and_out(const py::array& acc, py::array& out, F&& f) {
  require_size("out", out, size_of(acc));
  require_no_overlap("acc", acc, out);
  auto with_out = [&](const auto* acc_ptr) {
    return with_code_out(out, [&](auto* out_ptr) {
      py::gil_scoped_release release;
      return f(acc_ptr, out_ptr);
    });
  };
  switch (dtype_of(acc)) {
    case DType::kInt32: return with_out(data_as<int32_t>("acc", acc));
    case DType::kInt64: return with_out(data_as<int64_t>("acc", acc));
    default: fail("acc must be an int32 or int64 array, got " + actual_dtype(acc));
  }
}

fxsim::RequantizeParams make_params(int64_t qmin, int64_t qmax, int64_t inner, int acc_bits, int mode, uint64_t seed,
                                    bool product_in_float64, bool zero_point_in_float) {
  return fxsim::RequantizeParams{int32_arg("qmin", qmin),
                                 int32_arg("qmax", qmax),
                                 inner,
                                 acc_bits,
                                 fxsim::rounding_mode_from_code(mode),
                                 seed,
                                 product_in_float64,
                                 zero_point_in_float};
}

// The three multiplier methods share their signature.
enum class MultiplierMethod { kDoubleRound, kSingleRound, kInt64Reduced };

void bind_multiplier_method(py::module_& m, const char* name, MultiplierMethod method, const char* doc) {
  m.def(
      name,
      [name, method](const py::array& acc, const py::array& multiplier, const py::array& shift,
                     const py::array& zero_point, int64_t qmin, int64_t qmax, int64_t inner, int acc_bits,
                     py::array& out) {
        guarded(name, [&] {
          const int32_t* pm = data_as<int32_t>("multiplier", multiplier);
          const int32_t* ps = data_as<int32_t>("shift", shift);
          const int32_t* pz = data_as<int32_t>("zero_point", zero_point);
          const int64_t channels = size_of(multiplier);
          require_size("shift", shift, channels);
          // The rounding mode is not used by these methods; HALF_UP names what they do.
          const fxsim::RequantizeParams params =
              make_params(qmin, qmax, inner, acc_bits, static_cast<int>(fxsim::RoundingMode::HALF_UP), 0, false, false);
          const int64_t zc = size_of(zero_point);
          const int64_t n = size_of(acc);
          with_acc_and_out(acc, out, [&](const auto* a, auto* o) {
            switch (method) {
              case MultiplierMethod::kDoubleRound:
                fxsim::requantize_double_round(params, channels, pm, ps, zc, pz, n, a, o);
                break;
              case MultiplierMethod::kSingleRound:
                fxsim::requantize_single_round(params, channels, pm, ps, zc, pz, n, a, o);
                break;
              case MultiplierMethod::kInt64Reduced:
                fxsim::requantize_int64_reduced(params, channels, pm, ps, zc, pz, n, a, o);
                break;
            }
          });
        });
      },
      py::arg("acc").noconvert(), py::arg("multiplier").noconvert(), py::arg("shift").noconvert(),
      py::arg("zero_point").noconvert(), py::arg("qmin"), py::arg("qmax"), py::arg("inner"), py::arg("acc_bits"),
      py::arg("out").noconvert(), doc);
}

}  // namespace

void bind_requantize(py::module_& m) {
  bind_multiplier_method(m, "requantize_double_round", MultiplierMethod::kDoubleRound,
                         "TFLite default double rounding (int32 operation), shift in [-31, 31].");
  bind_multiplier_method(m, "requantize_single_round", MultiplierMethod::kSingleRound,
                         "Single rounding RHU(acc * M, 31 - shift) exactly, shift in [-63, 30].");
  bind_multiplier_method(m, "requantize_int64_reduced", MultiplierMethod::kInt64Reduced,
                         "TFLite int64 (16x8) reduced-multiplier path, |acc| < 2^47, M >= 0, shift in [-31, 8).");

  m.def(
      "requantize_power_of_two",
      [](const py::array& acc, const py::array& shift, const py::array& zero_point, int64_t qmin, int64_t qmax,
         int64_t inner, int acc_bits, int mode, uint64_t seed, py::array& out) {
        const char* name = "requantize_power_of_two";
        guarded(name, [&] {
          const int32_t* ps = data_as<int32_t>("shift", shift);
          const int32_t* pz = data_as<int32_t>("zero_point", zero_point);
          const fxsim::RequantizeParams params = make_params(qmin, qmax, inner, acc_bits, mode, seed, false, false);
          const int64_t channels = size_of(shift);
          const int64_t zc = size_of(zero_point);
          const int64_t n = size_of(acc);
          with_acc_and_out(acc, out, [&](const auto* a, auto* o) {
            fxsim::requantize_power_of_two(params, channels, ps, zc, pz, n, a, o);
          });
        });
      },
      py::arg("acc").noconvert(), py::arg("shift").noconvert(), py::arg("zero_point").noconvert(), py::arg("qmin"),
      py::arg("qmax"), py::arg("inner"), py::arg("acc_bits"), py::arg("mode"), py::arg("seed"),
      py::arg("out").noconvert(),
      "acc * 2^shift (shift in [-63, 63]; right shifts round with `mode`, left shifts are exact).");

  m.def(
      "requantize_fp32",
      [](const py::array& acc, const py::array& scale, const py::array& zero_point, int64_t qmin, int64_t qmax,
         int64_t inner, int acc_bits, int mode, uint64_t seed, bool product_in_float64, bool zero_point_in_float,
         py::array& out) {
        const char* name = "requantize_fp32";
        guarded(name, [&] {
          const float* pscale = data_as<float>("scale", scale);
          const int32_t* pz = data_as<int32_t>("zero_point", zero_point);
          const fxsim::RequantizeParams params =
              make_params(qmin, qmax, inner, acc_bits, mode, seed, product_in_float64, zero_point_in_float);
          const int64_t channels = size_of(scale);
          const int64_t zc = size_of(zero_point);
          const int64_t n = size_of(acc);
          with_acc_and_out(acc, out, [&](const auto* a, auto* o) {
            fxsim::requantize_fp32(params, channels, pscale, zc, pz, n, a, o);
          });
        });
      },
      py::arg("acc").noconvert(), py::arg("scale").noconvert(), py::arg("zero_point").noconvert(), py::arg("qmin"),
      py::arg("qmax"), py::arg("inner"), py::arg("acc_bits"), py::arg("mode"), py::arg("seed"),
      py::arg("product_in_float64"), py::arg("zero_point_in_float"), py::arg("out").noconvert(),
      "(float)acc * scale in float32 (or float64), zero point in float or after rounding, rounded with `mode`.");
}

}  // namespace fxsim_bind
