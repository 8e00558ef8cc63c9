// matmul_accumulate (fxsim/kernels/matmul.h): writes the exact accumulators into `out`.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/array.h"
#include "bindings/bind_accumulate.h"
#include "fxsim/kernels/matmul.h"

namespace fxsim_bind {

namespace {

// The MatMulShape of a call from a, b and out, checked.
fxsim::MatMulShape matmul_shape(const py::array& a, const py::array& b, const py::array& out) {
  if (a.ndim() < 2) fail("a must have at least 2 dimensions [..., M, K], got " + std::to_string(a.ndim()));
  if (b.ndim() != 2 && b.ndim() != a.ndim()) {
    fail("b must be [K, N] or batched like a (" + std::to_string(a.ndim()) + " dimensions), got " +
         std::to_string(b.ndim()) + " dimensions");
  }
  const std::vector<py::ssize_t> as = shape_of(a), bs = shape_of(b);
  fxsim::MatMulShape s;
  s.m = as[as.size() - 2];
  s.k = as[as.size() - 1];
  s.n = bs[bs.size() - 1];
  s.b_batched = b.ndim() > 2;
  s.batch = 1;
  for (size_t i = 0; i + 2 < as.size(); ++i) {
    s.batch *= as[i];
    if (s.b_batched && bs[i] != as[i]) fail("b's batch dimensions must equal a's");
  }
  if (bs[bs.size() - 2] != s.k) {
    fail("b has K = " + std::to_string(bs[bs.size() - 2]) + " rows, a has K = " + std::to_string(s.k));
  }
  std::vector<py::ssize_t> want(as.begin(), as.end() - 1);
  want.push_back(static_cast<py::ssize_t>(s.n));
  if (shape_of(out) != want) fail("out must have a's shape with the last dimension N = " + std::to_string(s.n));
  fxsim::matmul_check_shape(s);
  require_no_overlap("a", a, out);
  require_no_overlap("b", b, out);
  return s;
}

// The MatMulShape of a call with packed weights [K, N] (one matrix shared by every batch).
fxsim::MatMulShape packed_matmul_shape(const py::array& a, const fxsim::PackedMatMulWeights& b, const py::array& out) {
  if (a.ndim() < 2) fail("a must have at least 2 dimensions [..., M, K], got " + std::to_string(a.ndim()));
  const std::vector<py::ssize_t> as = shape_of(a);
  fxsim::MatMulShape s;
  s.m = as[as.size() - 2];
  s.k = as[as.size() - 1];
  s.n = b.n;
  for (size_t i = 0; i + 2 < as.size(); ++i) s.batch *= as[i];
  if (b.k != s.k) fail("the packed b has K = " + std::to_string(b.k) + " rows, a has K = " + std::to_string(s.k));
  std::vector<py::ssize_t> want(as.begin(), as.end() - 1);
  want.push_back(static_cast<py::ssize_t>(s.n));
  if (shape_of(out) != want) fail("out must have a's shape with the last dimension N = " + std::to_string(s.n));
  fxsim::matmul_check_shape(s);
  require_no_overlap("a", a, out);
  return s;
}

// matmul_requantize with PackedMatMulWeights and every argument but a and out bound once
// (BoundRequantize, bind_accumulate.h); a call checks a and out as matmul_requantize does.
class MatMulRequantizeCall {
 public:
  MatMulRequantizeCall(const py::object& b, int64_t a_zero_point, const py::object& b_zero_point,
                       const py::object& bias, const std::string& policy, int acc_bits,
                       const BoundRequantize& requantize)
      : weights_(b),
        b_(&b.cast<const fxsim::PackedMatMulWeights&>()),
        a_zero_point_(int32_arg("a_zero_point", a_zero_point)),
        params_(accumulate_params(policy, acc_bits)),
        requantize_(requantize) {
    if (!b_zero_point.is_none()) fail("b_zero_point must be None with PackedMatMulWeights (they hold the zero points)");
    bias_ = bias_values(bias, b_->n);
  }

  void operator()(const py::array& a, py::array& out) const {
    const fxsim::MatMulShape s = packed_matmul_shape(a, *b_, out);
    fxsim::OutType out_type;
    void* const codes = requantized_out(out, &out_type);
    with_operand("a", a, true, [&](const auto* pa) {
      py::gil_scoped_release release;
      fxsim::matmul_requantize(params_, s, pa, a_zero_point_, *b_, bias_.empty() ? nullptr : bias_.data(),
                               requantize_.offset_data(), requantize_.rq, out_type, codes);
    });
  }

 private:
  py::object weights_;  // keeps *b_ alive
  const fxsim::PackedMatMulWeights* b_;
  int32_t a_zero_point_;
  fxsim::AccumulateParams params_;
  std::vector<int64_t> bias_;
  BoundRequantize requantize_;
};

}  // namespace

void bind_matmul(py::module_& m) {
  py::class_<fxsim::PackedMatMulWeights>(
      m, "PackedMatMulWeights",
      "Constant 8-bit MatMul weights B [K, N] packed once for the exact WRAP path (u8 x s8 vpdpbusd words of 4 "
      "rows of k in 64-column tiles, with the per-column sums that restore the zero points; without VNNI also as "
      "int16 pair words, made on first use: csrc/fxsim/kernels/packed_weights.h). Pass it as `b` to matmul_accumulate / matmul_requantize with "
      "b_zero_point None (it holds them); every policy gives the bits of the plain-array call.")
      .def(py::init([](const py::array& b, const py::array& b_zero_point) {
             return guarded("PackedMatMulWeights", [&] {
               require_ndim("b", b, 2);
               const int32_t* zp = data_as<int32_t>("b_zero_point", b_zero_point);
               fxsim::PackedMatMulWeights packed;
               switch (dtype_of(b)) {
                 case DType::kUInt8:
                   packed = fxsim::pack_matmul_weights(data_as<uint8_t>("b", b), b.shape(0), b.shape(1),
                                                       size_of(b_zero_point), zp);
                   break;
                 case DType::kInt8:
                   packed = fxsim::pack_matmul_weights(data_as<int8_t>("b", b), b.shape(0), b.shape(1),
                                                       size_of(b_zero_point), zp);
                   break;
                 default: fail("b must be a uint8 or int8 array, got " + actual_dtype(b));
               }
               return packed;
             });
           }),
           py::arg("b").noconvert(), py::arg("b_zero_point").noconvert(),
           "Packs b [K, N] int8 or uint8 with b_zero_point int32 (1 or N values).")
      .def_static(
          "from_int4",
          [](const py::array& packed, std::array<int64_t, 2> shape, bool is_signed, const py::array& b_zero_point) {
            return guarded("PackedMatMulWeights", [&] {
              const uint8_t* bytes = data_as<uint8_t>("packed", packed);
              const int32_t* zp = data_as<int32_t>("b_zero_point", b_zero_point);
              return fxsim::pack_matmul_weights_int4(bytes, size_of(packed), is_signed, shape[0], shape[1],
                                                     size_of(b_zero_point), zp);
            });
          },
          py::arg("packed").noconvert(), py::arg("shape"), py::arg("signed"), py::arg("b_zero_point").noconvert(),
          "Packs 4-bit weights of `shape` [K, N] from fxsim's dense pack_int4 bytes (uint8, two values per byte, "
          "the first in the low nibble), unpacked here: signed values are int8 codes, unsigned uint8.")
      .def_property_readonly(
          "shape", [](const fxsim::PackedMatMulWeights& b) { return std::array<int64_t, 2>{b.k, b.n}; },
          "[K, N] of the packed weights.")
      .def_property_readonly(
          "signed", [](const fxsim::PackedMatMulWeights& b) { return !b.offsets.w_unsigned; },
          "True when the codes are int8, False for uint8.");
  m.def(
      "matmul_accumulate",
      [](const py::array& a, const py::array& b, int64_t a_zero_point, const py::array& b_zero_point,
         const py::object& bias, const std::string& policy, int acc_bits, py::array& out) {
        const char* name = "matmul_accumulate";
        guarded(name, [&] {
          const fxsim::MatMulShape s = matmul_shape(a, b, out);
          const fxsim::AccumulateParams p = accumulate_params(policy, acc_bits);
          const OperandArgs o = operand_args("a_zero_point", a_zero_point, "b_zero_point", b_zero_point, bias, s.n);
          with_operand("a", a, true, [&](const auto* pa) {
            with_operand("b", b, true, [&](const auto* pbm) {
              with_acc_out(out, [&](auto* po) {
                py::gil_scoped_release release;
                fxsim::matmul_accumulate(p, s, pa, o.x_zero_point, pbm, o.w_zero_point_count, o.w_zero_point,
                                         o.bias_data(), po);
              });
            });
          });
        });
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("a_zero_point"), py::arg("b_zero_point").noconvert(),
      py::arg("bias").none(true), py::arg("policy"), py::arg("acc_bits"), py::arg("out").noconvert(),
      "Exact MatMul accumulators: a [..., M, K] x b [K, N] (shared) or [..., K, N] (batched), u8/s8/u16/s16, "
      "b_zero_point 1 or N values, bias None or N int32/int64, out int32 (acc_bits 32) or int64 [..., M, N].");
  m.def(
      "matmul_requantize",
      [](const py::array& a, const py::array& b, int64_t a_zero_point, const py::array& b_zero_point,
         const py::object& bias, const std::string& policy, int acc_bits, const py::object& acc_offset,
         const std::string& method, const py::object& multiplier, const py::object& shift, const py::object& scale,
         const py::array& zero_point, int64_t qmin, int64_t qmax, int rounding, uint64_t seed,
         bool product_in_float64, bool zero_point_in_float, py::array& out) {
        const char* name = "matmul_requantize";
        guarded(name, [&] {
          const fxsim::MatMulShape s = matmul_shape(a, b, out);
          const fxsim::AccumulateParams p = accumulate_params(policy, acc_bits);
          const OperandArgs o = operand_args("a_zero_point", a_zero_point, "b_zero_point", b_zero_point, bias, s.n);
          const FusedArgs f = fused_args(acc_offset, method, multiplier, shift, scale, zero_point, qmin, qmax, rounding,
                                         seed, product_in_float64, zero_point_in_float, out);
          with_operand("a", a, true, [&](const auto* pa) {
            with_operand("b", b, true, [&](const auto* pbm) {
              py::gil_scoped_release release;
              fxsim::matmul_requantize(p, s, pa, o.x_zero_point, pbm, o.w_zero_point_count, o.w_zero_point,
                                       o.bias_data(), f.offset_data(), f.rq, f.out_type, f.out);
            });
          });
        });
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("a_zero_point"), py::arg("b_zero_point").noconvert(),
      py::arg("bias").none(true), py::arg("policy"), py::arg("acc_bits"), py::arg("acc_offset").none(true),
      py::arg("method"), py::arg("multiplier").none(true), py::arg("shift").none(true), py::arg("scale").none(true),
      py::arg("zero_point").noconvert(), py::arg("qmin"), py::arg("qmax"), py::arg("rounding"), py::arg("seed"),
      py::arg("product_in_float64"), py::arg("zero_point_in_float"), py::arg("out").noconvert(),
      "MatMul with the requantization fused (matmul_accumulate's accumulators -> requantize_<method> codes, "
      "per tensor or per column), arguments as conv2d_requantize; out [..., M, N].");
  m.def(
      "matmul_accumulate",
      [](const py::array& a, const fxsim::PackedMatMulWeights& b, int64_t a_zero_point, const py::object& b_zero_point, const py::object& bias,
         const std::string& policy, int acc_bits, py::array& out) {
        guarded("matmul_accumulate", [&] {
          const fxsim::MatMulShape s = packed_matmul_shape(a, b, out);
          const fxsim::AccumulateParams p = accumulate_params(policy, acc_bits);
          const int32_t a_zp = int32_arg("a_zero_point", a_zero_point);
          if (!b_zero_point.is_none()) fail("b_zero_point must be None with PackedMatMulWeights (they hold the zero points)");
          const std::vector<int64_t> bv = bias_values(bias, s.n);
          with_operand("a", a, true, [&](const auto* pa) {
            with_acc_out(out, [&](auto* po) {
              py::gil_scoped_release release;
              fxsim::matmul_accumulate(p, s, pa, a_zp, b, bv.empty() ? nullptr : bv.data(), po);
            });
          });
        });
      },
      py::arg("a").noconvert(), py::arg("b"), py::arg("a_zero_point"), py::arg("b_zero_point").none(true), py::arg("bias").none(true), py::arg("policy"),
      py::arg("acc_bits"), py::arg("out").noconvert(),
      "matmul_accumulate with PackedMatMulWeights (b_zero_point None: they hold the zero points of b): the same accumulators.");
  m.def(
      "matmul_requantize",
      [](const py::array& a, const fxsim::PackedMatMulWeights& b, int64_t a_zero_point, const py::object& b_zero_point, const py::object& bias,
         const std::string& policy, int acc_bits, const py::object& acc_offset, const std::string& method,
         const py::object& multiplier, const py::object& shift, const py::object& scale, const py::array& zero_point,
         int64_t qmin, int64_t qmax, int rounding, uint64_t seed, bool product_in_float64, bool zero_point_in_float,
         py::array& out) {
        guarded("matmul_requantize", [&] {
          const fxsim::MatMulShape s = packed_matmul_shape(a, b, out);
          const fxsim::AccumulateParams p = accumulate_params(policy, acc_bits);
          const int32_t a_zp = int32_arg("a_zero_point", a_zero_point);
          if (!b_zero_point.is_none()) fail("b_zero_point must be None with PackedMatMulWeights (they hold the zero points)");
          const std::vector<int64_t> bv = bias_values(bias, s.n);
          const FusedArgs f = fused_args(acc_offset, method, multiplier, shift, scale, zero_point, qmin, qmax, rounding,
                                         seed, product_in_float64, zero_point_in_float, out);
          with_operand("a", a, true, [&](const auto* pa) {
            py::gil_scoped_release release;
            fxsim::matmul_requantize(p, s, pa, a_zp, b, bv.empty() ? nullptr : bv.data(), f.offset_data(), f.rq,
                                     f.out_type, f.out);
          });
        });
      },
      py::arg("a").noconvert(), py::arg("b"), py::arg("a_zero_point"), py::arg("b_zero_point").none(true), py::arg("bias").none(true), py::arg("policy"),
      py::arg("acc_bits"), py::arg("acc_offset").none(true), py::arg("method"), py::arg("multiplier").none(true),
      py::arg("shift").none(true), py::arg("scale").none(true), py::arg("zero_point").noconvert(), py::arg("qmin"),
      py::arg("qmax"), py::arg("rounding"), py::arg("seed"), py::arg("product_in_float64"),
      py::arg("zero_point_in_float"), py::arg("out").noconvert(),
      "matmul_requantize with PackedMatMulWeights (b_zero_point None: they hold the zero points of b): the same codes.");
  py::class_<MatMulRequantizeCall>(
      m, "MatMulRequantizeCall",
      "matmul_requantize with PackedMatMulWeights and every argument but a and out given once, for a layer that runs "
      "many times: call(a, out) gives the codes of matmul_requantize(a, b, ..., out) and checks a and out as it does, "
      "without converting the other arguments again.")
      .def(py::init([](const py::object& b, int64_t a_zero_point, const py::object& b_zero_point,
                       const py::object& bias, const std::string& policy, int acc_bits, const py::object& acc_offset,
                       const std::string& method, const py::object& multiplier, const py::object& shift,
                       const py::object& scale, const py::array& zero_point, int64_t qmin, int64_t qmax, int rounding,
                       uint64_t seed, bool product_in_float64, bool zero_point_in_float) {
             return guarded("matmul_requantize", [&] {
               if (!py::isinstance<fxsim::PackedMatMulWeights>(b)) fail("b must be PackedMatMulWeights");
               return MatMulRequantizeCall(b, a_zero_point, b_zero_point, bias, policy, acc_bits,
                                           bound_requantize(acc_offset, method, multiplier, shift, scale, zero_point,
                                                            qmin, qmax, rounding, seed, product_in_float64,
                                                            zero_point_in_float));
             });
           }),
           py::arg("b"), py::arg("a_zero_point"), py::arg("b_zero_point").none(true), py::arg("bias").none(true),
           py::arg("policy"), py::arg("acc_bits"), py::arg("acc_offset").none(true), py::arg("method"),
           py::arg("multiplier").none(true), py::arg("shift").none(true), py::arg("scale").none(true),
           py::arg("zero_point").noconvert(), py::arg("qmin"), py::arg("qmax"), py::arg("rounding"), py::arg("seed"),
           py::arg("product_in_float64"), py::arg("zero_point_in_float"),
           "The arguments of matmul_requantize between a and out, in its order (b: PackedMatMulWeights).")
      .def(
          "__call__",
          [](const MatMulRequantizeCall& call, const py::array& a, py::array& out) {
            guarded("matmul_requantize", [&] { call(a, out); });
          },
          py::arg("a").noconvert(), py::arg("out").noconvert(),
          "Writes the codes of a [..., M, K] into out [..., M, N].");
}

}  // namespace fxsim_bind
