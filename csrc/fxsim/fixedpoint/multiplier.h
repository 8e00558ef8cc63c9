// Fixed-point multiplier arithmetic of the engines fxsim simulates: gemmlowp's two primitives,
// TFLite's three MultiplyByQuantizedMultiplier variants, TOSA's apply_scale_32 / apply_scale_16.
//
// Contract of the whole file: a multiplier M with a shift stands for the real factor
// M * 2^(shift - 31) (TFLite: `shift` is a left shift, negative = right); TOSA's `shift` is a
// right shift that includes the 2^31 (2^15) position, factor M * 2^-shift. Every function is
// exact integer arithmetic; products are formed in a type wide enough to hold them; where an
// engine's own int32 arithmetic overflows (and the engine relies on wrap-around), the wrap is
// modelled through unsigned arithmetic. Formulas are cited from the engines' sources
// (commit ids in the research notes): gemmlowp fixedpoint/fixedpoint.h, TFLite
// tensorflow/lite/kernels/internal/common.h, TOSA pseudocode/library/scale_helpers.tosac.
//
// The `nocheck` namespace holds the branch-free cores the array kernels call after validating
// their parameters once per call; the functions outside it check their preconditions and throw
// std::invalid_argument (bad multiplier / shift) or std::out_of_range (value outside the
// domain, TOSA REQUIRE failures).
#pragma once

#include <cstdint>
#include <stdexcept>

#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/fixedpoint/saturate.h"
#include "fxsim/isa.h"

FXSIM_NAMESPACE_BEGIN

namespace nocheck {

// round(a * b / 2^31) with ties toward +inf, saturating the single overflow case
// INT32_MIN * INT32_MIN -> INT32_MAX. gemmlowp fixedpoint.h SaturatingRoundingDoublingHighMul
// (its nudge-and-truncate form equals floor((a*b + 2^30) / 2^31)); equals NEON VQRDMULH.
// The low 32 bits of the floor shift are taken through uint64_t (no signed shift needed).
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  const int64_t ab = static_cast<int64_t>(a) * b;  // |ab| <= 2^62
  const uint64_t nudged = static_cast<uint64_t>(ab + (int64_t(1) << 30));
  const int32_t high = static_cast<int32_t>(static_cast<uint32_t>(nudged >> 31));
  const bool overflow = (a == INT32_MIN) & (b == INT32_MIN);
  return overflow ? INT32_MAX : high;
}

// round(x / 2^exponent) with ties away from zero, exponent in 0..31; never overflows.
// gemmlowp fixedpoint.h RoundingDivideByPOT: mask = 2^e - 1, remainder = x & mask,
// threshold = (mask >> 1) + (x < 0), result = (x >> e) + (remainder > threshold).
// (NEON VRSHL alone rounds ties up; gemmlowp adds a fixup to make it half-away.)
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((uint32_t(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * 2^left_shift in int32 with two's-complement wrap (left_shift 0..31): TFLite's
// `x * (1 << left_shift)` in MultiplyByQuantizedMultiplier, an int32 multiply that overflows
// (UB in C++) and wraps on every real target; modelled through uint32_t.
inline int32_t shift_left_wrapping_int32(int32_t x, int left_shift) {
  return static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
}

// TFLite default-build MultiplyByQuantizedMultiplier(int32 x, M, shift), shift in [-31, 31]:
// RDBPOT(SRDHM(wrap32(x * 2^max(shift,0)), M), max(-shift,0)). Double rounding: ties up at
// 2^-31, then ties away at 2^-(31-shift). Also gemmlowp OutputStageScaleInt32ByFixedPointAndExponent,
// CMSIS-NN arm_nn_requantize (default build), TOSA apply_scale_32(x, M, 31 - shift, true).
inline int32_t multiply_by_quantized_multiplier_double_round(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(shift_left_wrapping_int32(x, left), multiplier), right);
}

// The 16-bit multiplier of TFLite's int64 MultiplyByQuantizedMultiplier (16x8 path):
// M < 0x7FFF0000 ? (M + 2^15) >> 16 : 0x7FFF, for M >= 0 (round half up to 16 bits, capped).
inline int64_t reduced_multiplier_int16(int32_t multiplier) {
  return multiplier < 0x7FFF0000 ? (static_cast<int64_t>(multiplier) + (1 << 15)) >> 16 : 0x7FFF;
}

// TFLite MultiplyByQuantizedMultiplier(int64 x, M, shift) (common.h, used by int16x8 conv/FC):
// total = 15 - shift; (x * reduced + 2^(total-1)) >> total, then static_cast<int32_t>, which
// keeps the low 32 bits (no saturation; modelled as a wrap). Preconditions (TFLite DCHECKs):
// -2^47 <= x < 2^47, M >= 0, -31 <= shift < 8; then |x * reduced| < 2^62 and no step overflows.
inline int32_t multiply_by_quantized_multiplier_int64_reduced(int64_t x, int32_t multiplier, int shift) {
  const int64_t reduced = reduced_multiplier_int16(multiplier);
  const int total = 15 - shift;
  const int64_t rounded = (x * reduced + (int64_t(1) << (total - 1))) >> total;
  return wrap_int64_to_int32(rounded);
}

}  // namespace nocheck

// gemmlowp SaturatingRoundingDoublingHighMul; see nocheck:: for the contract. Total function.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  return nocheck::saturating_rounding_doubling_high_mul(a, b);
}

// gemmlowp RoundingDivideByPOT; std::invalid_argument unless 0 <= exponent <= 31.
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  if (exponent < 0 || exponent > 31) {
    throw std::invalid_argument("rounding_divide_by_pot: exponent must be in 0..31");
  }
  return nocheck::rounding_divide_by_pot(x, exponent);
}

// TFLite default (double-rounding) MultiplyByQuantizedMultiplier; see nocheck:: for the
// contract. Any int32 multiplier; std::invalid_argument unless -31 <= shift <= 31.
inline int32_t multiply_by_quantized_multiplier_double_round(int32_t x, int32_t multiplier, int shift) {
  if (shift < -31 || shift > 31) {
    throw std::invalid_argument("multiply_by_quantized_multiplier_double_round: shift must be in [-31, 31]");
  }
  return nocheck::multiply_by_quantized_multiplier_double_round(x, multiplier, shift);
}

// x * M * 2^(shift - 31) rounded once, ties toward +inf, computed exactly in __int128:
// RHU(x * M, 31 - shift) = (x*M + 2^(30-shift)) >> (31 - shift). TFLite
// TFLITE_SINGLE_ROUNDING MultiplyByQuantizedMultiplier (int64 product), ruy, CMSIS-NN single
// rounding, TOSA apply_scale_32 with double_round=false, XNNPACK/MLAS "rndnu". Any int32 M;
// shift in [-63, 30] (the right shift 31 - shift is then 1..94) else std::invalid_argument.
inline __int128 multiply_by_quantized_multiplier_single_round_exact(int64_t x, int32_t multiplier, int shift) {
  if (shift < -63 || shift > 30) {
    throw std::invalid_argument("multiply_by_quantized_multiplier_single_round: shift must be in [-63, 30]");
  }
  const __int128 product = static_cast<__int128>(x) * multiplier;  // |product| < 2^94
  return rounding_shift_right_mode<RoundingMode::HALF_UP>(product, 31 - shift, 0);
}

// As multiply_by_quantized_multiplier_single_round_exact, as int64: a result outside int64
// (possible only for |x| >= 2^32 with small right shifts) -> std::out_of_range.
inline int64_t multiply_by_quantized_multiplier_single_round(int64_t x, int32_t multiplier, int shift) {
  const __int128 r = multiply_by_quantized_multiplier_single_round_exact(x, multiplier, shift);
  if (r < INT64_MIN || r > INT64_MAX) {
    throw std::out_of_range("multiply_by_quantized_multiplier_single_round: result does not fit int64");
  }
  return static_cast<int64_t>(r);
}

// TFLite int64 (16x8) MultiplyByQuantizedMultiplier; see nocheck:: for the contract.
// std::out_of_range unless -2^47 <= x < 2^47; std::invalid_argument unless M >= 0 and
// -31 <= shift < 8.
inline int32_t multiply_by_quantized_multiplier_int64_reduced(int64_t x, int32_t multiplier, int shift) {
  if (multiplier < 0) {
    throw std::invalid_argument("multiply_by_quantized_multiplier_int64_reduced: multiplier must be >= 0");
  }
  if (shift < -31 || shift >= 8) {
    throw std::invalid_argument("multiply_by_quantized_multiplier_int64_reduced: shift must be in [-31, 8)");
  }
  if (x < -(int64_t(1) << 47) || x >= (int64_t(1) << 47)) {
    throw std::out_of_range("multiply_by_quantized_multiplier_int64_reduced: x must be in [-2^47, 2^47)");
  }
  return nocheck::multiply_by_quantized_multiplier_int64_reduced(x, multiplier, shift);
}

// TOSA apply_scale_32 (scale_helpers.tosac): value * multiplier * 2^-shift rounded half up
// (round = 2^(shift-1)); with double_round and shift > 31 the rounding constant is moved by
// 2^30 away from zero (+2^30 for value >= 0, -2^30 for value < 0), which reproduces TFLite's
// double rounding exactly (TFLite (M, e) = TOSA (M, 31 - e)). The REQUIREs of the spec are
// checked and a failure throws std::out_of_range naming it: multiplier >= 0,
// 2 <= shift <= 62, -2^(shift-1) <= value < 2^(shift-1). Under them the result fits int32.
inline int32_t tosa_apply_scale_32(int32_t value, int32_t multiplier, int shift, bool double_round) {
  if (multiplier < 0) throw std::out_of_range("apply_scale_32: REQUIRE(multiplier >= 0) failed");
  if (shift < 2 || shift > 62) {
    throw std::out_of_range("apply_scale_32: REQUIRE(2 <= shift && shift <= 62) failed");
  }
  const int64_t half = int64_t(1) << (shift - 1);
  if (value < -half || value >= half) {
    throw std::out_of_range(
        "apply_scale_32: REQUIRE(value >= (-1 << (shift - 1)) && value < (1 << (shift - 1))) failed");
  }
  int64_t round = half;
  if (double_round && shift > 31) round += value >= 0 ? (int64_t(1) << 30) : -(int64_t(1) << 30);
  const int64_t result = (static_cast<int64_t>(value) * multiplier + round) >> shift;  // |.| < 2^62
  return static_cast<int32_t>(result);
}

// TOSA apply_scale_16 (scale_helpers.tosac; the TOSA reference model's QuantUtil checks the
// same): an int48 value times an int16 multiplier, * 2^-shift rounded half up, single rounding
// only. Unlike apply_scale_32 there is no REQUIRE on the value range for the shift; the result
// must fit int32 instead. Checks, each std::out_of_range naming it: value within int48,
// multiplier within int16, REQUIRE(multiplier >= 0), REQUIRE(2 <= shift <= 62),
// REQUIRE(result within int32). |value * multiplier| <= 2^62 and round <= 2^61, so the int64
// arithmetic never overflows.
inline int32_t tosa_apply_scale_16(int64_t value, int32_t multiplier, int shift) {
  if (value < -(int64_t(1) << 47) || value >= (int64_t(1) << 47)) {
    throw std::out_of_range("apply_scale_16: value must be an int48 (in [-2^47, 2^47))");
  }
  if (multiplier < INT16_MIN || multiplier > INT16_MAX) {
    throw std::out_of_range("apply_scale_16: multiplier must be an int16");
  }
  if (multiplier < 0) throw std::out_of_range("apply_scale_16: REQUIRE(multiplier >= 0) failed");
  if (shift < 2 || shift > 62) {
    throw std::out_of_range("apply_scale_16: REQUIRE(2 <= shift && shift <= 62) failed");
  }
  const int64_t result = (value * multiplier + (int64_t(1) << (shift - 1))) >> shift;
  if (result < INT32_MIN || result > INT32_MAX) {
    throw std::out_of_range("apply_scale_16: REQUIRE(result within int32) failed");
  }
  return static_cast<int32_t>(result);
}

FXSIM_NAMESPACE_END
