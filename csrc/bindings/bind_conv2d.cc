// conv2d_accumulate (fxsim/kernels/conv2d.h): writes the exact accumulators into `out`.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/array.h"
#include "bindings/bind_accumulate.h"
#include "fxsim/kernels/conv2d.h"

namespace fxsim_bind {

namespace {

// Shape and params of a conv2d call from the Python arguments, with the output shape checked.
struct ConvCall {
  fxsim::Conv2DShape s;
  fxsim::Conv2DParams p;
};

// w_shape: the weights' [C_out, C_in / groups, KH, KW].
ConvCall conv_call(const py::array& x, std::array<int64_t, 4> w_shape, std::array<int64_t, 2> stride,
                   std::array<int64_t, 2> dilation, std::array<int64_t, 4> pads, int64_t groups,
                   const std::string& policy, int acc_bits, const py::array& out) {
  require_ndim("x", x, 4);
  require_ndim("out", out, 4);
  ConvCall c;
  fxsim::Conv2DShape& s = c.s;
  fxsim::Conv2DParams& p = c.p;
  s.n = x.shape(0), s.c_in = x.shape(1), s.h = x.shape(2), s.w = x.shape(3);
  s.c_out = w_shape[0], s.kh = w_shape[2], s.kw = w_shape[3];
  p.stride_h = stride[0], p.stride_w = stride[1];
  p.dilation_h = dilation[0], p.dilation_w = dilation[1];
  p.pad_top = pads[0], p.pad_left = pads[1], p.pad_bottom = pads[2], p.pad_right = pads[3];
  p.groups = groups;
  p.acc = accumulate_params(policy, acc_bits);
  const fxsim::Conv2DOutputSize size = fxsim::conv2d_output_size(p, s);
  if (groups >= 1 && s.c_in % groups == 0 && w_shape[1] != s.c_in / groups) {
    fail("w has " + std::to_string(w_shape[1]) + " input channels, expected C_in / groups = " +
         std::to_string(s.c_in / groups));
  }
  const std::vector<py::ssize_t> want = {static_cast<py::ssize_t>(s.n), static_cast<py::ssize_t>(s.c_out),
                                         static_cast<py::ssize_t>(size.oh), static_cast<py::ssize_t>(size.ow)};
  if (shape_of(out) != want) {
    fail("out must have shape (" + std::to_string(s.n) + ", " + std::to_string(s.c_out) + ", " +
         std::to_string(size.oh) + ", " + std::to_string(size.ow) + ")");
  }
  require_no_overlap("x", x, out);
  return c;
}

std::array<int64_t, 4> weight_shape(const py::array& w, const py::array& out) {
  require_ndim("w", w, 4);
  require_no_overlap("w", w, out);
  return {w.shape(0), w.shape(1), w.shape(2), w.shape(3)};
}

std::array<int64_t, 4> weight_shape(const fxsim::PackedConvWeights& w) { return {w.c_out, w.cig, w.kh, w.kw}; }

// f(const T*) for 8-bit weight codes (uint8 or int8), the packed weights' element types.
template <class F>
void with_weight8(const py::array& w, F&& f) {
  switch (dtype_of(w)) {
    case DType::kUInt8: return f(data_as<uint8_t>("w", w));
    case DType::kInt8: return f(data_as<int8_t>("w", w));
    default: break;
  }
  fail("w must be a uint8 or int8 array, got " + actual_dtype(w));
}

// conv2d_requantize with PackedConvWeights and every argument but x and out bound once
// (BoundRequantize, bind_accumulate.h); a call checks x and out as conv2d_requantize does.
class Conv2DRequantizeCall {
 public:
  Conv2DRequantizeCall(const py::object& w, int64_t x_zero_point, const py::object& w_zero_point,
                       const py::object& bias, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
                       std::array<int64_t, 4> pads, int64_t groups, const std::string& policy, int acc_bits,
                       const BoundRequantize& requantize)
      : weights_(w),
        w_(&w.cast<const fxsim::PackedConvWeights&>()),
        x_zero_point_(int32_arg("x_zero_point", x_zero_point)),
        stride_(stride),
        dilation_(dilation),
        pads_(pads),
        groups_(groups),
        policy_(policy),
        acc_bits_(acc_bits),
        requantize_(requantize) {
    if (!w_zero_point.is_none()) fail("w_zero_point must be None with PackedConvWeights (they hold the zero points)");
    accumulate_params(policy, acc_bits);  // (checked here too, so a bad policy fails at once)
    bias_ = bias_values(bias, w_->c_out);
  }

  void operator()(const py::array& x, py::array& out) const {
    const ConvCall c = conv_call(x, weight_shape(*w_), stride_, dilation_, pads_, groups_, policy_, acc_bits_, out);
    fxsim::OutType out_type;
    void* const codes = requantized_out(out, &out_type);
    with_operand("x", x, true, [&](const auto* px) {
      py::gil_scoped_release release;
      fxsim::conv2d_requantize(c.p, c.s, px, x_zero_point_, *w_, bias_.empty() ? nullptr : bias_.data(),
                               requantize_.offset_data(), requantize_.rq, out_type, codes);
    });
  }

 private:
  py::object weights_;  // keeps *w_ alive
  const fxsim::PackedConvWeights* w_;
  int32_t x_zero_point_;
  std::array<int64_t, 2> stride_, dilation_;
  std::array<int64_t, 4> pads_;
  int64_t groups_;
  std::string policy_;
  int acc_bits_;
  std::vector<int64_t> bias_;
  BoundRequantize requantize_;
};

}  // namespace

void bind_conv2d(py::module_& m) {
  py::class_<fxsim::PackedConvWeights>(
      m, "PackedConvWeights",
      "Constant 8-bit Conv weights packed once for the exact WRAP path (u8 x s8 vpdpbusd words of 4 input "
      "channels, with the per-channel sums that restore the zero points; without VNNI also as int16 pair words, "
      "made on first use: csrc/fxsim/kernels/packed_weights.h). "
      "Pass it as `w` to conv2d_accumulate / conv2d_requantize with w_zero_point None (it holds them); every "
      "policy gives the bits of the plain-array call.")
      .def(py::init([](const py::array& w, const py::array& w_zero_point) {
             return guarded("PackedConvWeights", [&] {
               require_ndim("w", w, 4);
               const int32_t* zp = data_as<int32_t>("w_zero_point", w_zero_point);
               fxsim::PackedConvWeights packed;
               with_weight8(w, [&](const auto* pw) {
                 packed = fxsim::pack_conv_weights(pw, w.shape(0), w.shape(1), w.shape(2), w.shape(3),
                                                   size_of(w_zero_point), zp);
               });
               return packed;
             });
           }),
           py::arg("w").noconvert(), py::arg("w_zero_point").noconvert(),
           "Packs w [C_out, C_in/groups, KH, KW] int8 or uint8 with w_zero_point int32 (1 or C_out values).")
      .def_static(
          "from_int4",
          [](const py::array& packed, std::array<int64_t, 4> shape, bool is_signed, const py::array& w_zero_point,
             bool per_channel) {
            return guarded("PackedConvWeights", [&] {
              const uint8_t* bytes = data_as<uint8_t>("packed", packed);
              const int32_t* zp = data_as<int32_t>("w_zero_point", w_zero_point);
              return fxsim::pack_conv_weights_int4(bytes, size_of(packed), is_signed, per_channel, shape[0], shape[1],
                                                   shape[2], shape[3], size_of(w_zero_point), zp);
            });
          },
          py::arg("packed").noconvert(), py::arg("shape"), py::arg("signed"), py::arg("w_zero_point").noconvert(),
          py::arg("per_channel") = false,
          "Packs 4-bit weights of `shape` [C_out, C_in/groups, KH, KW] from fxsim's pack_int4 bytes (uint8, two "
          "values per byte, the first in the low nibble; per_channel: the QNN layout, each output channel on a "
          "fresh byte), unpacked here: signed values are int8 codes, unsigned uint8.")
      .def_property_readonly(
          "shape", [](const fxsim::PackedConvWeights& w) { return weight_shape(w); },
          "[C_out, C_in/groups, KH, KW] of the packed weights.")
      .def_property_readonly(
          "signed", [](const fxsim::PackedConvWeights& w) { return !w.offsets.w_unsigned; },
          "True when the codes are int8, False for uint8.");
  m.def(
      "conv2d_accumulate",
      [](const py::array& x, const py::array& w, int64_t x_zero_point, const py::array& w_zero_point,
         const py::object& bias, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
         std::array<int64_t, 4> pads, int64_t groups, const std::string& policy, int acc_bits, py::array& out) {
        const char* name = "conv2d_accumulate";
        guarded(name, [&] {
          const ConvCall c = conv_call(x, weight_shape(w, out), stride, dilation, pads, groups, policy, acc_bits, out);
          const OperandArgs o = operand_args("x_zero_point", x_zero_point, "w_zero_point", w_zero_point, bias, c.s.c_out);
          with_operand("x", x, true, [&](const auto* px) {
            with_operand("w", w, false, [&](const auto* pw) {
              with_acc_out(out, [&](auto* po) {
                py::gil_scoped_release release;
                fxsim::conv2d_accumulate(c.p, c.s, px, o.x_zero_point, pw, o.w_zero_point_count, o.w_zero_point,
                                         o.bias_data(), po);
              });
            });
          });
        });
      },
      py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("x_zero_point"), py::arg("w_zero_point").noconvert(),
      py::arg("bias").none(true), py::arg("stride"), py::arg("dilation"), py::arg("pads"), py::arg("groups"),
      py::arg("policy"), py::arg("acc_bits"), py::arg("out").noconvert(),
      "Exact Conv2D accumulators (NCHW): x [N, C_in, H, W] u8/s8/u16/s16, w [C_out, C_in/groups, KH, KW] "
      "s8/u8/s16, pads (top, left, bottom, right), policy 'wrap'|'saturate'|'raise'|'pair_saturate_16'|"
      "'raw_pair_saturate_16', out int32 (acc_bits 32) or int64 [N, C_out, OH, OW].");
  m.def(
      "conv2d_requantize",
      [](const py::array& x, const py::array& w, int64_t x_zero_point, const py::array& w_zero_point,
         const py::object& bias, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
         std::array<int64_t, 4> pads, int64_t groups, const std::string& policy, int acc_bits,
         const py::object& acc_offset, const std::string& method, const py::object& multiplier,
         const py::object& shift, const py::object& scale, const py::array& zero_point, int64_t qmin, int64_t qmax,
         int rounding, uint64_t seed, bool product_in_float64, bool zero_point_in_float, py::array& out) {
        const char* name = "conv2d_requantize";
        guarded(name, [&] {
          const ConvCall c = conv_call(x, weight_shape(w, out), stride, dilation, pads, groups, policy, acc_bits, out);
          const OperandArgs o = operand_args("x_zero_point", x_zero_point, "w_zero_point", w_zero_point, bias, c.s.c_out);
          const FusedArgs f = fused_args(acc_offset, method, multiplier, shift, scale, zero_point, qmin, qmax, rounding,
                                         seed, product_in_float64, zero_point_in_float, out);
          with_operand("x", x, true, [&](const auto* px) {
            with_operand("w", w, false, [&](const auto* pw) {
              py::gil_scoped_release release;
              fxsim::conv2d_requantize(c.p, c.s, px, o.x_zero_point, pw, o.w_zero_point_count, o.w_zero_point,
                                       o.bias_data(), f.offset_data(), f.rq, f.out_type, f.out);
            });
          });
        });
      },
      py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("x_zero_point"), py::arg("w_zero_point").noconvert(),
      py::arg("bias").none(true), py::arg("stride"), py::arg("dilation"), py::arg("pads"), py::arg("groups"),
      py::arg("policy"), py::arg("acc_bits"), py::arg("acc_offset").none(true), py::arg("method"),
      py::arg("multiplier").none(true), py::arg("shift").none(true), py::arg("scale").none(true),
      py::arg("zero_point").noconvert(), py::arg("qmin"), py::arg("qmax"), py::arg("rounding"), py::arg("seed"),
      py::arg("product_in_float64"), py::arg("zero_point_in_float"), py::arg("out").noconvert(),
      "Conv2D with the requantization fused (conv2d_accumulate's accumulators -> requantize_<method> codes, "
      "per tensor or per output channel, one tile at a time): method 'double_round'|'single_round'|"
      "'int64_reduced' (multiplier, shift int32), 'power_of_two' (shift), 'fp32' (scale float32); "
      "acc_offset None or int64 per channel added to the accumulators first; out int8/uint8/int16/uint16/int32 "
      "[N, C_out, OH, OW].");
  m.def(
      "conv2d_accumulate",
      [](const py::array& x, const fxsim::PackedConvWeights& w, int64_t x_zero_point, const py::object& w_zero_point, const py::object& bias,
         std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation, std::array<int64_t, 4> pads, int64_t groups,
         const std::string& policy, int acc_bits, py::array& out) {
        guarded("conv2d_accumulate", [&] {
          const ConvCall c = conv_call(x, weight_shape(w), stride, dilation, pads, groups, policy, acc_bits, out);
          const int32_t x_zp = int32_arg("x_zero_point", x_zero_point);
          if (!w_zero_point.is_none()) fail("w_zero_point must be None with PackedConvWeights (they hold the zero points)");
          const std::vector<int64_t> b = bias_values(bias, c.s.c_out);
          with_operand("x", x, true, [&](const auto* px) {
            with_acc_out(out, [&](auto* po) {
              py::gil_scoped_release release;
              fxsim::conv2d_accumulate(c.p, c.s, px, x_zp, w, b.empty() ? nullptr : b.data(), po);
            });
          });
        });
      },
      py::arg("x").noconvert(), py::arg("w"), py::arg("x_zero_point"), py::arg("w_zero_point").none(true), py::arg("bias").none(true), py::arg("stride"),
      py::arg("dilation"), py::arg("pads"), py::arg("groups"), py::arg("policy"), py::arg("acc_bits"),
      py::arg("out").noconvert(),
      "conv2d_accumulate with PackedConvWeights (w_zero_point None: they hold the weight zero points): the same accumulators.");
  m.def(
      "conv2d_requantize",
      [](const py::array& x, const fxsim::PackedConvWeights& w, int64_t x_zero_point, const py::object& w_zero_point, const py::object& bias,
         std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation, std::array<int64_t, 4> pads, int64_t groups,
         const std::string& policy, int acc_bits, const py::object& acc_offset, const std::string& method,
         const py::object& multiplier, const py::object& shift, const py::object& scale, const py::array& zero_point,
         int64_t qmin, int64_t qmax, int rounding, uint64_t seed, bool product_in_float64, bool zero_point_in_float,
         py::array& out) {
        guarded("conv2d_requantize", [&] {
          const ConvCall c = conv_call(x, weight_shape(w), stride, dilation, pads, groups, policy, acc_bits, out);
          const int32_t x_zp = int32_arg("x_zero_point", x_zero_point);
          if (!w_zero_point.is_none()) fail("w_zero_point must be None with PackedConvWeights (they hold the zero points)");
          const std::vector<int64_t> b = bias_values(bias, c.s.c_out);
          const FusedArgs f = fused_args(acc_offset, method, multiplier, shift, scale, zero_point, qmin, qmax, rounding,
                                         seed, product_in_float64, zero_point_in_float, out);
          with_operand("x", x, true, [&](const auto* px) {
            py::gil_scoped_release release;
            fxsim::conv2d_requantize(c.p, c.s, px, x_zp, w, b.empty() ? nullptr : b.data(), f.offset_data(), f.rq,
                                     f.out_type, f.out);
          });
        });
      },
      py::arg("x").noconvert(), py::arg("w"), py::arg("x_zero_point"), py::arg("w_zero_point").none(true), py::arg("bias").none(true), py::arg("stride"),
      py::arg("dilation"), py::arg("pads"), py::arg("groups"), py::arg("policy"), py::arg("acc_bits"),
      py::arg("acc_offset").none(true), py::arg("method"), py::arg("multiplier").none(true),
      py::arg("shift").none(true), py::arg("scale").none(true), py::arg("zero_point").noconvert(), py::arg("qmin"),
      py::arg("qmax"), py::arg("rounding"), py::arg("seed"), py::arg("product_in_float64"),
      py::arg("zero_point_in_float"), py::arg("out").noconvert(),
      "conv2d_requantize with PackedConvWeights (w_zero_point None: they hold the weight zero points): the same codes.");
  py::class_<Conv2DRequantizeCall>(
      m, "Conv2DRequantizeCall",
      "conv2d_requantize with PackedConvWeights and every argument but x and out given once, for a layer that runs "
      "many times: call(x, out) gives the codes of conv2d_requantize(x, w, ..., out) and checks x and out as it does, "
      "without converting the other arguments again.")
      .def(py::init([](const py::object& w, int64_t x_zero_point, const py::object& w_zero_point,
                       const py::object& bias, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
                       std::array<int64_t, 4> pads, int64_t groups, const std::string& policy, int acc_bits,
                       const py::object& acc_offset, const std::string& method, const py::object& multiplier,
                       const py::object& shift, const py::object& scale, const py::array& zero_point, int64_t qmin,
                       int64_t qmax, int rounding, uint64_t seed, bool product_in_float64, bool zero_point_in_float) {
             return guarded("conv2d_requantize", [&] {
               if (!py::isinstance<fxsim::PackedConvWeights>(w)) fail("w must be PackedConvWeights");
               return Conv2DRequantizeCall(w, x_zero_point, w_zero_point, bias, stride, dilation, pads, groups, policy,
                                           acc_bits,
                                           bound_requantize(acc_offset, method, multiplier, shift, scale, zero_point,
                                                            qmin, qmax, rounding, seed, product_in_float64,
                                                            zero_point_in_float));
             });
           }),
           py::arg("w"), py::arg("x_zero_point"), py::arg("w_zero_point").none(true), py::arg("bias").none(true),
           py::arg("stride"), py::arg("dilation"), py::arg("pads"), py::arg("groups"), py::arg("policy"),
           py::arg("acc_bits"), py::arg("acc_offset").none(true), py::arg("method"),
           py::arg("multiplier").none(true), py::arg("shift").none(true), py::arg("scale").none(true),
           py::arg("zero_point").noconvert(), py::arg("qmin"), py::arg("qmax"), py::arg("rounding"), py::arg("seed"),
           py::arg("product_in_float64"), py::arg("zero_point_in_float"),
           "The arguments of conv2d_requantize between x and out, in its order (w: PackedConvWeights).")
      .def(
          "__call__",
          [](const Conv2DRequantizeCall& call, const py::array& x, py::array& out) {
            guarded("conv2d_requantize", [&] { call(x, out); });
          },
          py::arg("x").noconvert(), py::arg("out").noconvert(),
          "Writes the codes of x [N, C_in, H, W] into out [N, C_out, OH, OW].");
}

}  // namespace fxsim_bind
