// quantize array kernel (fxsim/kernels/quantize.h): writes into `out`, returns None.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "bindings/array.h"
#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/kernels/quantize.h"

namespace fxsim_bind {

namespace {

template <typename T>
void run_quantize_out(const fxsim::QuantizeParams& params, const py::array& x, const py::array& scale,
                      const py::array& zero_point, py::array& out) {
  const T* px = data_as<T>("x", x);
  const T* ps = data_as<T>("scale", scale);
  const int32_t* pz = data_as<int32_t>("zero_point", zero_point);
  const int64_t channels = size_of(scale);
  const int64_t zc = size_of(zero_point);
  const int64_t n = size_of(x);
  with_code_out(out, [&](auto* po) {
    py::gil_scoped_release release;
    fxsim::quantize(params, channels, ps, zc, pz, n, px, po);
  });
}

}  // namespace

void bind_quantize(py::module_& m) {
  m.def(
      "quantize",
      [](const py::array& x, const py::array& scale, const py::array& zero_point, int64_t qmin, int64_t qmax,
         int64_t inner, int mode, uint64_t seed, bool reciprocal, py::array& out) {
        guarded("quantize", [&] {
          const fxsim::QuantizeParams params{int32_arg("qmin", qmin), int32_arg("qmax", qmax), inner,
                                             fxsim::rounding_mode_from_code(mode), seed, reciprocal};
          require_size("out", out, size_of(x));
          require_no_overlap("x", x, out);
          switch (dtype_of(x)) {
            case DType::kFloat32: return run_quantize_out<float>(params, x, scale, zero_point, out);
            case DType::kFloat64: return run_quantize_out<double>(params, x, scale, zero_point, out);
            default: fail("x must be a float32 or float64 array, got " + actual_dtype(x));
          }
        });
      },
      py::arg("x").noconvert(), py::arg("scale").noconvert(), py::arg("zero_point").noconvert(), py::arg("qmin"),
      py::arg("qmax"), py::arg("inner"), py::arg("mode"), py::arg("seed"), py::arg("reciprocal"),
      py::arg("out").noconvert(),
      "x / scale (or x * (1/scale)) in x's precision, clamped to [qmin - zp, qmax - zp], rounded with `mode`, + zp.");
}

}  // namespace fxsim_bind
