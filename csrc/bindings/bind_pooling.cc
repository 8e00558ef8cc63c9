// Pooling kernels (fxsim/kernels/pooling.h): avg_pool2d, max_pool2d, plane_sums, global_average_pool.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "bindings/array.h"
#include "fxsim/kernels/pooling.h"

namespace fxsim_bind {
namespace {

// Calls f(px, po) with typed pointers; x and out must both be int8, uint8 or int16 (same dtype).
template <class F>
void with_codes(const py::array& x, py::array& out, F&& f) {
  if (!out.writeable()) fail("out must be writeable");
  with_code_pair("x", x, "out", out, [&](const auto* px, const auto* po) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(px)>>;
    f(px, const_cast<T*>(po));
  });
}

void pool_geometry(const py::array& x, const py::array& out, const std::array<int64_t, 2>& kernel,
                   const std::array<int64_t, 2>& stride, const std::array<int64_t, 4>& pads, fxsim::Pool2DWindow* wd,
                   fxsim::Pool2DShape* s) {
  if (x.ndim() != 4) fail("x must be 4-d [N, C, H, W]");
  if (out.ndim() != 4) fail("out must be 4-d [N, C, OH, OW]");
  if (out.shape(0) != x.shape(0) || out.shape(1) != x.shape(1)) fail("out must have x's N and C");
  s->n = x.shape(0), s->c = x.shape(1), s->h = x.shape(2), s->w = x.shape(3);
  s->out_h = out.shape(2), s->out_w = out.shape(3);
  wd->kernel_h = kernel[0], wd->kernel_w = kernel[1], wd->stride_h = stride[0], wd->stride_w = stride[1];
  wd->pad_top = pads[0], wd->pad_left = pads[1], wd->pad_bottom = pads[2], wd->pad_right = pads[3];
  require_no_overlap("x", x, out);
}

}  // namespace

void bind_pooling(py::module_& m) {
  m.def(
      "avg_pool2d",
      [](const py::array& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride, std::array<int64_t, 4> pads,
         bool count_include_pad, const std::string& method, int64_t zero_point, int64_t qmin, int64_t qmax,
         int64_t dpu_n, int64_t dpu_m, int64_t dpu_shift, double in_scale, int64_t in_zero_point, double out_scale,
         int64_t out_zero_point, py::array& out) {
        guarded("avg_pool2d", [&] {
          fxsim::Pool2DWindow wd{};
          fxsim::Pool2DShape s{};
          pool_geometry(x, out, kernel, stride, pads, &wd, &s);
          fxsim::AvgPoolParams p{};
          if (method == "tflite") {
            p.method = fxsim::AvgPoolMethod::kTflite;
          } else if (method == "tosa") {
            p.method = fxsim::AvgPoolMethod::kTosa;
          } else if (method == "hexagon") {
            p.method = fxsim::AvgPoolMethod::kHexagon;
          } else if (method == "dpu") {
            p.method = fxsim::AvgPoolMethod::kDpu;
          } else if (method == "ort") {
            p.method = fxsim::AvgPoolMethod::kOrt;
          } else if (method == "pytorch") {
            p.method = fxsim::AvgPoolMethod::kPytorch;
          } else {
            fail("method must be 'tflite', 'tosa', 'hexagon', 'dpu', 'ort' or 'pytorch', got '" + method + "'");
          }
          p.count_include_pad = count_include_pad;
          p.zero_point = int32_arg("zero_point", zero_point);
          p.qmin = int32_arg("qmin", qmin);
          p.qmax = int32_arg("qmax", qmax);
          p.dpu_n = int32_arg("dpu_n", dpu_n);
          p.dpu_m = int32_arg("dpu_m", dpu_m);
          p.dpu_shift = int32_arg("dpu_shift", dpu_shift);
          p.in_scale = float32_arg("in_scale", in_scale);
          p.out_scale = float32_arg("out_scale", out_scale);
          p.in_zero_point = int32_arg("in_zero_point", in_zero_point);
          p.out_zero_point = int32_arg("out_zero_point", out_zero_point);
          with_codes(x, out, [&](const auto* px, auto* po) {
            py::gil_scoped_release release;
            fxsim::avg_pool2d(p, wd, s, px, po);
          });
        });
      },
      py::arg("x").noconvert(), py::arg("kernel"), py::arg("stride"), py::arg("pads"), py::arg("count_include_pad"),
      py::arg("method"), py::arg("zero_point"), py::arg("qmin"), py::arg("qmax"), py::arg("dpu_n"), py::arg("dpu_m"),
      py::arg("dpu_shift"), py::arg("in_scale"), py::arg("in_zero_point"), py::arg("out_scale"),
      py::arg("out_zero_point"), py::arg("out").noconvert(),
      "Average pool, NCHW codes (int8/uint8/int16), by an engine's division: 'tflite', 'tosa', 'hexagon', 'dpu' "
      "(shared encoding) or 'ort' (float32, its own in/out encodings); out [N, C, OH, OW] gives the output size.");

  m.def(
      "max_pool2d",
      [](const py::array& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride, std::array<int64_t, 4> pads,
         py::array& out) {
        guarded("max_pool2d", [&] {
          fxsim::Pool2DWindow wd{};
          fxsim::Pool2DShape s{};
          pool_geometry(x, out, kernel, stride, pads, &wd, &s);
          with_codes(x, out, [&](const auto* px, auto* po) {
            py::gil_scoped_release release;
            fxsim::max_pool2d(wd, s, px, po);
          });
        });
      },
      py::arg("x").noconvert(), py::arg("kernel"), py::arg("stride"), py::arg("pads"), py::arg("out").noconvert(),
      "Max pool, NCHW codes: the largest in-image code of each window (padding never wins).");

  m.def(
      "plane_sums",
      [](const py::array& x, int64_t cols, py::array& out) {
        guarded("plane_sums", [&] {
          if (cols < 1 || size_of(x) % cols != 0) fail("x must hold a whole number of rows of cols >= 1 codes");
          const int64_t rows = size_of(x) / cols;
          require_size("out", out, rows);
          int64_t* po = mutable_data_as<int64_t>("out", out);
          with_code_in("x", x, [&](const auto* px) {
            py::gil_scoped_release release;
            fxsim::plane_sums(rows, cols, px, po);
          });
        });
      },
      py::arg("x").noconvert(), py::arg("cols"), py::arg("out").noconvert(),
      "Exact int64 sum of each run of `cols` codes (global average pooling's window sums); out int64[size / cols].");

  m.def(
      "global_average_pool",
      [](const py::array& x, int64_t count, int method, int64_t in_zero_point, int64_t multiplier, int64_t shift,
         int64_t out_add, double scale, int64_t qmin, int64_t qmax, py::array& out) {
        guarded("global_average_pool", [&] {
          if (count < 1 || size_of(x) % count != 0) fail("x must hold a whole number of planes of count >= 1 codes");
          const int64_t planes = size_of(x) / count;
          require_size("out", out, planes);
          require_no_overlap("x", x, out);
          if (method < 0 || method > 4) fail("method must be 0 (tflite) .. 4 (pytorch), got " + std::to_string(method));
          fxsim::GlobalAverageParams p{};
          p.method = static_cast<fxsim::GlobalAverageMethod>(method);
          p.in_zero_point = int32_arg("in_zero_point", in_zero_point);
          p.multiplier = int32_arg("multiplier", multiplier);
          p.shift = int32_arg("shift", shift);
          p.out_add = int32_arg("out_add", out_add);
          p.scale = float32_arg("scale", scale);
          p.qmin = int32_arg("qmin", qmin);
          p.qmax = int32_arg("qmax", qmax);
          const fxsim::OutType out_type = code_out_type(out);
          void* po = out.mutable_data();
          with_code_in("x", x, [&](const auto* px) {
            py::gil_scoped_release release;
            switch (out_type) {
              case fxsim::OutType::kInt8: return fxsim::global_average_pool(p, planes, count, px, static_cast<int8_t*>(po));
              case fxsim::OutType::kUInt8:
                return fxsim::global_average_pool(p, planes, count, px, static_cast<uint8_t*>(po));
              default: return fxsim::global_average_pool(p, planes, count, px, static_cast<int16_t*>(po));
            }
          });
        });
      },
      py::arg("x").noconvert(), py::arg("count"), py::arg("method"), py::arg("in_zero_point"), py::arg("multiplier"),
      py::arg("shift"), py::arg("out_add"), py::arg("scale"), py::arg("qmin"), py::arg("qmax"),
      py::arg("out").noconvert(),
      "Global average pool of each run of `count` codes (int8/uint8/int16) into out[size / count] (int8/uint8/int16), "
      "method 0 tflite, 1 tflite_folded, 2 tflite_opt, 3 ort, 4 pytorch (fxsim/kernels/pooling.h).");
}

}  // namespace fxsim_bind
