// Saturation and two's-complement wrap to an integer width of 2..64 bits.
//
// Contract of the whole file: values are held in int64_t; the width-`bits` range is
// [-2^(bits-1), 2^(bits-1) - 1] (signed) or [0, 2^bits - 1] (unsigned). Wrapping goes through
// uint64_t (modular by definition), never through signed overflow. No undefined behaviour on
// any input: bad widths throw std::invalid_argument.
#pragma once

#include <cstdint>
#include <stdexcept>

#include "fxsim/isa.h"

FXSIM_NAMESPACE_BEGIN

// std::invalid_argument unless 2 <= bits <= 64.
inline void check_width_bits(int bits) {
  if (bits < 2 || bits > 64) throw std::invalid_argument("bit width must be in 2..64");
}

// Largest value of a `bits`-wide integer, capped at INT64_MAX (unsigned 64-bit: every int64 fits).
inline int64_t int_max_of_bits(int bits, bool is_signed) {
  check_width_bits(bits);
  if (is_signed) return static_cast<int64_t>((uint64_t(1) << (bits - 1)) - 1);
  return bits == 64 ? INT64_MAX : static_cast<int64_t>((uint64_t(1) << bits) - 1);
}

// Smallest value of a `bits`-wide integer: -2^(bits-1) (signed) or 0 (unsigned).
inline int64_t int_min_of_bits(int bits, bool is_signed) {
  check_width_bits(bits);
  return is_signed ? -int_max_of_bits(bits, true) - 1 : 0;
}

// x clamped to the range of a `bits`-wide integer (signed or unsigned): saturating narrowing,
// as NEON VQMOVN / x86 PACKSS / gemmlowp SaturatingCast do for 8 and 16 bits.
inline int64_t saturate_to_bits(int64_t x, int bits, bool is_signed) {
  const int64_t lo = int_min_of_bits(bits, is_signed);
  const int64_t hi = int_max_of_bits(bits, is_signed);
  return x < lo ? lo : (x > hi ? hi : x);
}

// x reduced modulo 2^bits into the range of a `bits`-wide integer: the two's-complement
// truncation a narrowing integer cast performs (C++20 conversion rules, what int32 accumulators
// do on overflow on every target). Unsigned 64-bit results >= 2^63 do not fit the int64
// holder: std::out_of_range.
inline int64_t wrap_to_bits(int64_t x, int bits, bool is_signed) {
  check_width_bits(bits);
  const uint64_t mask = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  const uint64_t low = static_cast<uint64_t>(x) & mask;
  if (is_signed) {
    const uint64_t sign = uint64_t(1) << (bits - 1);
    const uint64_t extended = (low & sign) != 0 ? (low | ~mask) : low;  // sign-extend
    return static_cast<int64_t>(extended);  // modular conversion (value fits by construction)
  }
  if (low > static_cast<uint64_t>(INT64_MAX)) {
    throw std::out_of_range("wrap_to_bits: unsigned 64-bit result does not fit int64");
  }
  return static_cast<int64_t>(low);
}

// x clamped to [INT64_MIN, INT64_MAX]: the saturating narrowing of an exact 128-bit result.
inline int64_t saturate_int128_to_int64(__int128 x) {
  return x < INT64_MIN ? INT64_MIN : (x > INT64_MAX ? INT64_MAX : static_cast<int64_t>(x));
}

// x clamped to [INT32_MIN, INT32_MAX] (saturating int64 -> int32 narrowing, x86 PACKSSDW-like).
inline int32_t saturate_int64_to_int32(int64_t x) {
  return x < INT32_MIN ? INT32_MIN : (x > INT32_MAX ? INT32_MAX : static_cast<int32_t>(x));
}

// The low 32 bits of x as int32 (two's-complement wrap, what static_cast<int32_t> does on
// every target; modelled through uint32_t so it is defined behaviour in C++17).
inline int32_t wrap_int64_to_int32(int64_t x) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(x)));
}

FXSIM_NAMESPACE_END
