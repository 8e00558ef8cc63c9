// Resize kernels (fxsim/kernels/resize.h): nearest index maps, the gather, and the engines'
// bilinear interpolations over [outer, H, W, inner] code planes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings/array.h"
#include "fxsim/kernels/resize.h"

namespace fxsim_bind {
namespace {

fxsim::ResizeCoordinate coordinate_mode(const std::string& name) {
  static const char* names[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                "align_corners", "asymmetric", "tf_half_pixel_for_nn"};
  for (int i = 0; i < 6; ++i) {
    if (name == names[i]) return static_cast<fxsim::ResizeCoordinate>(i);
  }
  fail("unknown coordinate_transformation_mode '" + name + "'");
}

fxsim::ResizeNearestMode nearest_mode(const std::string& name) {
  static const char* names[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple"};
  for (int i = 0; i < 5; ++i) {
    if (name == names[i]) return static_cast<fxsim::ResizeNearestMode>(i);
  }
  fail("unknown nearest_mode '" + name + "'");
}

// x [outer, H, W, inner] and out [outer, OH, OW, inner] (4-d, same dtype).
fxsim::ResizePlaneShape plane_shape(const py::array& x, const py::array& out) {
  if (x.ndim() != 4 || out.ndim() != 4) fail("x and out must be 4-d [outer, H, W, inner]");
  if (out.shape(0) != x.shape(0) || out.shape(3) != x.shape(3)) fail("out must have x's outer and inner sizes");
  require_no_overlap("x", x, out);
  if (!out.writeable()) fail("out must be writeable");
  return fxsim::ResizePlaneShape{x.shape(0), x.shape(1), x.shape(2), x.shape(3), out.shape(1), out.shape(2)};
}

template <class F>
void with_8bit_pair(const py::array& x, py::array& out, F&& f) {
  if (dtype_of(x) != dtype_of(out)) fail("x and out must have the same dtype");
  switch (dtype_of(x)) {
    case DType::kInt8: return f(data_as<int8_t>("x", x), mutable_data_as<int8_t>("out", out));
    case DType::kUInt8: return f(data_as<uint8_t>("x", x), mutable_data_as<uint8_t>("out", out));
    default: fail("x must be an int8 or uint8 array, got " + actual_dtype(x));
  }
}

}  // namespace

void bind_resize(py::module_& m) {
  m.def(
      "resize_nearest_indices_onnx",
      [](const std::string& coordinate, const std::string& nearest, int64_t in_size, int64_t out_size, double scale) {
        return guarded("resize_nearest_indices_onnx", [&] {
          const auto cm = coordinate_mode(coordinate);
          const auto nm = nearest_mode(nearest);
          const float s = float32_arg("scale", scale);
          if (out_size < 1) fail("out_size must be >= 1");
          py::array_t<int64_t> index(out_size);
          fxsim::resize_nearest_indices_onnx(cm, nm, in_size, out_size, s, index.mutable_data());
          return index;
        });
      },
      py::arg("coordinate"), py::arg("nearest"), py::arg("in_size"), py::arg("out_size"), py::arg("scale"),
      "ONNX Runtime's nearest input index of each output index of one axis (float32 coordinates), int64[out_size].");
  m.def(
      "resize_nearest_indices_tflite",
      [](bool align_corners, bool half_pixel_centers, int64_t in_size, int64_t out_size) {
        return guarded("resize_nearest_indices_tflite", [&] {
          if (out_size < 1) fail("out_size must be >= 1");
          py::array_t<int64_t> index(out_size);
          fxsim::resize_nearest_indices_tflite(align_corners, half_pixel_centers, in_size, out_size,
                                               index.mutable_data());
          return index;
        });
      },
      py::arg("align_corners"), py::arg("half_pixel_centers"), py::arg("in_size"), py::arg("out_size"),
      "TFLite RESIZE_NEAREST_NEIGHBOR's input index of each output index of one axis, int64[out_size].");
  m.def(
      "resize_gather",
      [](const py::array& x, const std::vector<py::array>& indices, py::array& out) {
        guarded("resize_gather", [&] {
          const int ndim = static_cast<int>(x.ndim());
          if (ndim < 1 || ndim > fxsim::kResizeMaxDims) fail("x must have 1 to 8 dimensions");
          if (out.ndim() != x.ndim()) fail("out must have x's rank");
          if (static_cast<int>(indices.size()) != ndim) fail("one index array per axis is required");
          require_no_overlap("x", x, out);
          std::array<int64_t, fxsim::kResizeMaxDims> in_shape{}, out_shape{};
          std::array<const int64_t*, fxsim::kResizeMaxDims> index{};
          for (int d = 0; d < ndim; ++d) {
            in_shape[d] = x.shape(d), out_shape[d] = out.shape(d);
            index[d] = data_as<int64_t>("indices", indices[d]);
            require_size("indices[d]", indices[d], out_shape[d]);
          }
          auto run = [&](const auto* px, auto* po) {
            py::gil_scoped_release release;
            fxsim::resize_gather(ndim, in_shape.data(), out_shape.data(), index.data(), px, po);
          };
          if (dtype_of(x) != dtype_of(out)) fail("x and out must have the same dtype");
          switch (dtype_of(x)) {
            case DType::kInt8: return run(data_as<int8_t>("x", x), mutable_data_as<int8_t>("out", out));
            case DType::kUInt8: return run(data_as<uint8_t>("x", x), mutable_data_as<uint8_t>("out", out));
            case DType::kInt16: return run(data_as<int16_t>("x", x), mutable_data_as<int16_t>("out", out));
            case DType::kUInt16: return run(data_as<uint16_t>("x", x), mutable_data_as<uint16_t>("out", out));
            default: fail("x must be an int8, uint8, int16 or uint16 array, got " + actual_dtype(x));
          }
        });
      },
      py::arg("x").noconvert(), py::arg("indices"), py::arg("out").noconvert(),
      "out[o0, ..., on] = x[indices[0][o0], ..., indices[n][on]] (nearest resize on codes).");
  m.def(
      "resize_bilinear_tflite",
      [](const py::array& x, bool align_corners, bool half_pixel_centers, bool single_round, py::array& out) {
        guarded("resize_bilinear_tflite", [&] {
          const fxsim::ResizePlaneShape s = plane_shape(x, out);
          const fxsim::ResizeBilinearTfliteParams p{align_corners, half_pixel_centers, single_round};
          if (dtype_of(x) != dtype_of(out)) fail("x and out must have the same dtype");
          auto run = [&](const auto* px, auto* po) {
            py::gil_scoped_release release;
            fxsim::resize_bilinear_tflite(p, s, px, po);
          };
          switch (dtype_of(x)) {
            case DType::kInt8: return run(data_as<int8_t>("x", x), mutable_data_as<int8_t>("out", out));
            case DType::kInt16: return run(data_as<int16_t>("x", x), mutable_data_as<int16_t>("out", out));
            default: fail("x must be an int8 or int16 array, got " + actual_dtype(x));
          }
        });
      },
      py::arg("x").noconvert(), py::arg("align_corners"), py::arg("half_pixel_centers"), py::arg("single_round"),
      py::arg("out").noconvert(),
      "TFLite ResizeBilinearInteger (Q10 coordinates, Q20 sum, half-away or single rounding) over [outer, H, W, "
      "inner] int8/int16 codes.");
  auto bind_ort = [&m](const char* name, bool integer, const char* doc) {
    m.def(
        name,
        [name, integer](const py::array& x, const std::string& coordinate, double scale_h, double scale_w,
                        py::array& out) {
          guarded(name, [&] {
            const fxsim::ResizePlaneShape s = plane_shape(x, out);
            const fxsim::ResizeBilinearOrtParams p{coordinate_mode(coordinate), float32_arg("scale_h", scale_h),
                                                   float32_arg("scale_w", scale_w)};
            with_8bit_pair(x, out, [&](const auto* px, auto* po) {
              py::gil_scoped_release release;
              if (integer) {
                fxsim::resize_bilinear_ort_integer(p, s, px, po);
              } else {
                fxsim::resize_bilinear_ort_float(p, s, px, po);
              }
            });
          });
        },
        py::arg("x").noconvert(), py::arg("coordinate"), py::arg("scale_h"), py::arg("scale_w"),
        py::arg("out").noconvert(), doc);
  };
  m.def(
      "resize_bilinear_ort_dequantized",
      [](const py::array& x, const std::string& coordinate, double scale_h, double scale_w, double in_scale,
         int32_t in_zero_point, double out_scale, int32_t out_zero_point, int32_t qmin, int32_t qmax, py::array& out) {
        guarded("resize_bilinear_ort_dequantized", [&] {
          const fxsim::ResizePlaneShape s = plane_shape(x, out);
          const fxsim::ResizeBilinearOrtParams p{coordinate_mode(coordinate), float32_arg("scale_h", scale_h),
                                                 float32_arg("scale_w", scale_w)};
          const fxsim::ResizeDequantizedParams q{float32_arg("in_scale", in_scale), float32_arg("out_scale", out_scale),
                                                 in_zero_point, out_zero_point, qmin, qmax};
          with_8bit_pair(x, out, [&](const auto* px, auto* po) {
            py::gil_scoped_release release;
            fxsim::resize_bilinear_ort_dequantized(p, q, s, px, po);
          });
        });
      },
      py::arg("x").noconvert(), py::arg("coordinate"), py::arg("scale_h"), py::arg("scale_w"), py::arg("in_scale"),
      py::arg("in_zero_point"), py::arg("out_scale"), py::arg("out_zero_point"), py::arg("qmin"), py::arg("qmax"),
      py::arg("out").noconvert(),
      "ONNX Runtime's float path of a QDQ linear Resize: DequantizeLinear, UpsampleBilinear<float>, "
      "QuantizeLinear (half even); [outer, H, W, inner] uint8/int8 codes in and out.");
  bind_ort("resize_bilinear_ort_float", false,
           "ONNX Runtime UpsampleBilinear (NCHW path): float32 weights, truncation; [outer, H, W, inner] uint8/int8.");
  bind_ort("resize_bilinear_ort_integer", true,
           "ONNX Runtime NhwcUpsampleBilinearInteger (NHWC 8-bit path): Q10 weights, sum / 2^20 truncated.");
}

}  // namespace fxsim_bind
