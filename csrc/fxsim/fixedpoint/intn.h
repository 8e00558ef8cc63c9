// 4-bit packing: two values per byte, the first in the low nibble (DESIGN.md "Packed 4-bit").
//
// Dense packing runs over the whole tensor (TFLite portable_tensor_utils.cc
// UnpackDenseInt4IntoInt8: low nibble = even index; ONNX int4 docs); an odd count leaves the
// last high nibble 0. The QNN per-channel layout starts each of `channels` equal slices on a
// fresh byte (27 values per channel -> 14 bytes). Signed values are [-8, 7], stored as their
// two's-complement nibble and sign-extended on unpacking; unsigned values are [0, 15].
// Out-of-range values -> std::out_of_range naming the index; inconsistent sizes ->
// std::invalid_argument. Baseline-only code (it formats messages with std::string).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "fxsim/isa.h"

FXSIM_NAMESPACE_BEGIN

// Bytes holding `count` packed 4-bit values: ceil(count / 2).
inline int64_t packed_int4_bytes(int64_t count) { return count / 2 + count % 2; }

// Bytes of the QNN per-channel layout: channels * ceil((count / channels) / 2).
// std::invalid_argument unless channels >= 1 and count is a multiple of channels.
inline int64_t packed_int4_per_channel_bytes(int64_t count, int64_t channels) {
  if (channels < 1) throw std::invalid_argument("pack_int4_per_channel: channels must be >= 1");
  if (count < 0 || count % channels != 0) {
    throw std::invalid_argument("pack_int4_per_channel: " + std::to_string(count) +
                                " values do not split into " + std::to_string(channels) + " equal channels");
  }
  return channels * packed_int4_bytes(count / channels);
}

namespace detail {

template <typename T>
inline uint8_t int4_nibble(T value, bool is_signed, int64_t index) {
  const int v = static_cast<int>(value);
  const int lo = is_signed ? -8 : 0;
  const int hi = is_signed ? 7 : 15;
  if (v < lo || v > hi) {
    throw std::out_of_range("pack_int4: value " + std::to_string(v) + " at index " + std::to_string(index) +
                            " is outside the " + (is_signed ? "signed [-8, 7]" : "unsigned [0, 15]") +
                            " 4-bit range");
  }
  return static_cast<uint8_t>(static_cast<unsigned>(v) & 0xFu);
}

// Packs values[0..count) densely into out[0..ceil(count/2)); `base` is the flat index of
// values[0] (for messages).
template <typename T>
inline void pack_int4_run(const T* values, int64_t count, bool is_signed, int64_t base, uint8_t* out) {
  for (int64_t i = 0; i + 1 < count; i += 2) {
    const uint8_t low = int4_nibble(values[i], is_signed, base + i);
    const uint8_t high = int4_nibble(values[i + 1], is_signed, base + i + 1);
    out[i / 2] = static_cast<uint8_t>(low | (high << 4));
  }
  if (count % 2 != 0) out[count / 2] = int4_nibble(values[count - 1], is_signed, base + count - 1);
}

template <typename T>
inline void unpack_int4_run(const uint8_t* packed, int64_t count, bool is_signed, T* out) {
  for (int64_t i = 0; i < count; ++i) {
    const unsigned nibble = (packed[i / 2] >> ((i % 2) * 4)) & 0xFu;
    const int v = is_signed ? static_cast<int>(nibble ^ 8u) - 8 : static_cast<int>(nibble);  // sign-extend
    out[i] = static_cast<T>(v);
  }
}

template <typename T>
inline void check_unpack_target(bool is_signed, const char* name) {
  if (is_signed && static_cast<T>(-1) > 0) {
    throw std::invalid_argument(std::string(name) + ": signed 4-bit values need an int8 output");
  }
}

}  // namespace detail

// Packs `count` values densely, two per byte, first in the low nibble: out has
// ceil(count / 2) bytes. pack_int4([10, 4], unsigned) -> 0x4A; pack_int4([-6, 4], signed) -> 0x4A.
template <typename T>
inline void pack_int4(const T* values, int64_t count, bool is_signed, uint8_t* out) {
  if (count < 0) throw std::invalid_argument("pack_int4: negative count");
  detail::pack_int4_run(values, count, is_signed, 0, out);
}

// Packs `count` values as `channels` equal slices, each starting on a fresh byte (QNN
// per-channel 4-bit weights): out has channels * ceil((count / channels) / 2) bytes.
template <typename T>
inline void pack_int4_per_channel(const T* values, int64_t count, int64_t channels, bool is_signed, uint8_t* out) {
  const int64_t bytes = packed_int4_per_channel_bytes(count, channels);
  const int64_t per_channel = count / channels;
  const int64_t bytes_per_channel = bytes / channels;
  for (int64_t c = 0; c < channels; ++c) {
    detail::pack_int4_run(values + c * per_channel, per_channel, is_signed, c * per_channel,
                          out + c * bytes_per_channel);
  }
}

// Unpacks `count` values from ceil(count / 2) dense bytes, sign-extending when is_signed
// (TFLite UnpackDenseInt4IntoInt8). The padding nibble of an odd count is ignored. T is
// int8_t or uint8_t; signed values need int8_t (std::invalid_argument otherwise).
template <typename T>
inline void unpack_int4(const uint8_t* packed, int64_t count, bool is_signed, T* out) {
  detail::check_unpack_target<T>(is_signed, "unpack_int4");
  if (count < 0) throw std::invalid_argument("unpack_int4: negative count");
  detail::unpack_int4_run(packed, count, is_signed, out);
}

// Unpacks the QNN per-channel layout written by pack_int4_per_channel.
template <typename T>
inline void unpack_int4_per_channel(const uint8_t* packed, int64_t count, int64_t channels, bool is_signed, T* out) {
  detail::check_unpack_target<T>(is_signed, "unpack_int4_per_channel");
  const int64_t bytes = packed_int4_per_channel_bytes(count, channels);
  const int64_t per_channel = count / channels;
  const int64_t bytes_per_channel = bytes / channels;
  for (int64_t c = 0; c < channels; ++c) {
    detail::unpack_int4_run(packed + c * bytes_per_channel, per_channel, is_signed, out + c * per_channel);
  }
}

FXSIM_NAMESPACE_END
