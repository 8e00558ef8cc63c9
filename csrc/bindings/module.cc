// fxsim._kernels: the pybind11 module. Registers the error mapping (std::invalid_argument ->
// fxsim.errors.KernelError, std::out_of_range -> fxsim.errors.OverflowRangeError), the
// rounding-mode table and the ISA controls, then each area's bindings (bind_<area>.cc).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/kernels/dispatch.h"
#include "fxsim/kernels/parallel.h"

namespace py = pybind11;

namespace {

// The kernels' worker pool as a C function, for fxsim.calib._stats (Cython; DESIGN.md: the
// calibration layer builds on the binding): fn(ctx, begin, end) runs over contiguous ranges
// covering [0, count) on the pool's threads (fxsim.set_num_threads / FXSIM_NUM_THREADS) as
// parallel_tasks does; fn must not throw or touch Python objects (it runs with the GIL
// released). Returns the lowest non-negative value fn returned, or -1.
extern "C" int64_t fxsim_parallel_ranges(int64_t count, int64_t work_per_task,
                                          int64_t (*fn)(void*, int64_t, int64_t), void* ctx) {
  return fxsim::parallel_tasks(count, work_per_task, [&](int64_t begin, int64_t end) { return fn(ctx, begin, end); });
}

}  // namespace

namespace fxsim_bind {
void bind_fixedpoint(py::module_& m);
void bind_requantize(py::module_& m);
void bind_quantize(py::module_& m);
void bind_intn(py::module_& m);
void bind_conv2d(py::module_& m);
void bind_matmul(py::module_& m);
void bind_elementwise(py::module_& m);
void bind_pooling(py::module_& m);
void bind_concat(py::module_& m);
void bind_lut(py::module_& m);
void bind_nonlinear(py::module_& m);
void bind_resize(py::module_& m);
}  // namespace fxsim_bind

PYBIND11_MODULE(_kernels, m) {
  m.doc() = "fxsim's C++ integer arithmetic core (csrc/README.md is the API reference).";

  // Kept for the life of the process (never released: the interpreter may outlive module state).
  py::module_ errors = py::module_::import("fxsim.errors");
  static PyObject* kernel_error = py::object(errors.attr("KernelError")).release().ptr();
  static PyObject* overflow_error = py::object(errors.attr("OverflowRangeError")).release().ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(kernel_error, e.what());
    } catch (const std::out_of_range& e) {
      PyErr_SetString(overflow_error, e.what());
    }
  });

  m.def(
      "rounding_mode_codes",
      []() {
        py::dict d;
        for (int code = 0; code < fxsim::kNumRoundingModes; ++code) d[fxsim::kRoundingModeNames[code]] = code;
        return d;
      },
      "{name: code} of the C++ RoundingMode enum (must equal fxsim/constants.py).");
  m.def("isa", []() { return std::string(fxsim::active_isa()); }, "Name of the active kernel ISA variant.");
  m.def("available_isas", &fxsim::available_isas, "ISA variants this CPU and build can run, lowest first.");
  m.def(
      "set_isa", [](const std::string& name) { fxsim::set_isa(name); }, py::arg("name"),
      "Select the kernel ISA variant (tests): 'baseline', 'avx2' or 'avx512bw'.");
  m.def("num_threads", &fxsim::kernel_threads,
        "Threads a large array kernel call is split across (FXSIM_NUM_THREADS, else the hardware's).");
  m.def(
      "set_num_threads", [](int n) { fxsim::set_kernel_threads(n); }, py::arg("n"),
      "Set the number of kernel threads (>= 1); results are bit-identical for every count.");

  m.attr("_parallel_ranges") = py::capsule(reinterpret_cast<void*>(&fxsim_parallel_ranges),
                                           "fxsim._kernels._parallel_ranges");

  fxsim_bind::bind_fixedpoint(m);
  fxsim_bind::bind_requantize(m);
  fxsim_bind::bind_quantize(m);
  fxsim_bind::bind_intn(m);
  fxsim_bind::bind_conv2d(m);
  fxsim_bind::bind_matmul(m);
  fxsim_bind::bind_elementwise(m);
  fxsim_bind::bind_pooling(m);
  fxsim_bind::bind_concat(m);
  fxsim_bind::bind_lut(m);
  fxsim_bind::bind_nonlinear(m);
  fxsim_bind::bind_resize(m);
}
