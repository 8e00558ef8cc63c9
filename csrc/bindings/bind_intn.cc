// 4-bit packing (fxsim/fixedpoint/intn.h): write into `out`, return None.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "bindings/array.h"
#include "fxsim/fixedpoint/intn.h"

namespace fxsim_bind {

namespace {

// Calls f(typed values pointer) for an int8 or uint8 array.
template <class F>
void with_int4_container(const char* arg, const py::array& a, F&& f) {
  switch (dtype_of(a)) {
    case DType::kInt8: return f(data_as<int8_t>(arg, a));
    case DType::kUInt8: return f(data_as<uint8_t>(arg, a));
    default: fail(std::string(arg) + " must be an int8 or uint8 array, got " + actual_dtype(a));
  }
}

template <class F>
void with_int4_container_out(py::array& out, F&& f) {
  switch (dtype_of(out)) {
    case DType::kInt8: return f(mutable_data_as<int8_t>("out", out));
    case DType::kUInt8: return f(mutable_data_as<uint8_t>("out", out));
    default: fail("out must be an int8 or uint8 array, got " + actual_dtype(out));
  }
}

}  // namespace

void bind_intn(py::module_& m) {
  m.def(
      "pack_int4",
      [](const py::array& values, bool is_signed, py::array& out) {
        guarded("pack_int4", [&] {
          const int64_t n = size_of(values);
          uint8_t* po = mutable_data_as<uint8_t>("out", out);
          require_size("out", out, fxsim::packed_int4_bytes(n));
          require_no_overlap("values", values, out);
          with_int4_container("values", values, [&](const auto* pv) {
            py::gil_scoped_release release;
            fxsim::pack_int4(pv, n, is_signed, po);
          });
        });
      },
      py::arg("values").noconvert(), py::arg("signed"), py::arg("out").noconvert(),
      "Two 4-bit values per byte, first in the low nibble; out has ceil(n/2) bytes.");

  m.def(
      "pack_int4_per_channel",
      [](const py::array& values, int64_t channels, bool is_signed, py::array& out) {
        guarded("pack_int4_per_channel", [&] {
          const int64_t n = size_of(values);
          uint8_t* po = mutable_data_as<uint8_t>("out", out);
          require_size("out", out, fxsim::packed_int4_per_channel_bytes(n, channels));
          require_no_overlap("values", values, out);
          with_int4_container("values", values, [&](const auto* pv) {
            py::gil_scoped_release release;
            fxsim::pack_int4_per_channel(pv, n, channels, is_signed, po);
          });
        });
      },
      py::arg("values").noconvert(), py::arg("channels"), py::arg("signed"), py::arg("out").noconvert(),
      "QNN per-channel 4-bit layout: each of `channels` equal slices starts on a fresh byte.");

  m.def(
      "unpack_int4",
      [](const py::array& packed, bool is_signed, py::array& out) {
        guarded("unpack_int4", [&] {
          const uint8_t* pp = data_as<uint8_t>("packed", packed);
          const int64_t n = size_of(out);
          require_size("packed", packed, fxsim::packed_int4_bytes(n));
          require_no_overlap("packed", packed, out);
          with_int4_container_out(out, [&](auto* po) {
            py::gil_scoped_release release;
            fxsim::unpack_int4(pp, n, is_signed, po);
          });
        });
      },
      py::arg("packed").noconvert(), py::arg("signed"), py::arg("out").noconvert(),
      "Unpacks out.size 4-bit values (sign-extended when signed; signed needs an int8 out).");

  m.def(
      "unpack_int4_per_channel",
      [](const py::array& packed, int64_t channels, bool is_signed, py::array& out) {
        guarded("unpack_int4_per_channel", [&] {
          const uint8_t* pp = data_as<uint8_t>("packed", packed);
          const int64_t n = size_of(out);
          require_size("packed", packed, fxsim::packed_int4_per_channel_bytes(n, channels));
          require_no_overlap("packed", packed, out);
          with_int4_container_out(out, [&](auto* po) {
            py::gil_scoped_release release;
            fxsim::unpack_int4_per_channel(pp, n, channels, is_signed, po);
          });
        });
      },
      py::arg("packed").noconvert(), py::arg("channels"), py::arg("signed"), py::arg("out").noconvert(),
      "Unpacks the QNN per-channel 4-bit layout.");
}

}  // namespace fxsim_bind
