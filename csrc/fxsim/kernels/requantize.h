// requantize_<method>: int32/int64 accumulators -> integer codes, per tensor or per channel.
//
// Quantization contract of this folder (stated once, as TFLite's reference kernels do):
// an accumulator `acc` of an [outer, C, inner] array, channel c = (i / inner) % C, becomes
//   code = clamp(method(acc, channel c constants) + zero_point[c], qmin, qmax)
// cast to the output type (int8, uint8, int16, uint16 or int32; qmin/qmax must fit it).
// The methods (csrc/README.md "Array kernels"; DESIGN.md "Arithmetic names" `Requant`):
//   double_round   TFLite default MultiplyByQuantizedMultiplier (int32 operation: int64
//                  accumulators must hold int32 values), shift in [-31, 31]
//   single_round   RHU(acc * M, 31 - shift) exactly (int128), shift in [-63, 30]
//   int64_reduced  TFLite 16x8 path: 16-bit multiplier, int32 wrap; |acc| < 2^47, M >= 0,
//                  shift in [-31, 8)
//   power_of_two   acc * 2^shift, shift in [-63, 63]: right shifts round with `rounding`,
//                  left shifts are exact
//   fp32           (float)acc * scale (float32, or float64 with product_in_float64), zero point
//                  added in float then clamp [qmin, qmax] (zero_point_in_float), or clamp to
//                  [qmin - zp, qmax - zp] in float then add zp after rounding with `rounding`
// Accumulators outside the signed acc_bits range (32, 48, 64), or outside the method's own
// domain, raise std::out_of_range naming the first such index. STOCHASTIC draws
// stochastic_bits(seed, i) with i the flat index. Bad arguments: std::invalid_argument.
// The caller owns `out` (count elements); kernels never allocate it.
#pragma once

#include <cstdint>

#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/isa.h"

namespace fxsim {

struct RequantizeParams {
  int32_t qmin;               // output clamp, storage domain (must fit the output type)
  int32_t qmax;
  int64_t inner;              // elements per channel run ([outer, C, inner]); ignored when C == 1
  int acc_bits;               // 32, 48 or 64
  RoundingMode rounding;      // power_of_two and fp32 (named, never defaulted)
  uint64_t seed;              // STOCHASTIC only
  bool product_in_float64;    // fp32: (double)acc * (double)scale (numpy promotion, ONNX reference)
  bool zero_point_in_float;   // fp32: add zp in float and clamp to [qmin, qmax] before rounding
};

}  // namespace fxsim

FXSIM_NAMESPACE_BEGIN

// Acc: int32_t or int64_t. Out: int8_t, uint8_t, int16_t, uint16_t or int32_t.
// multiplier/shift: `channels` values; zero_point: 1 or `channels` values.
template <typename Acc, typename Out>
void requantize_double_round(const RequantizeParams& params, int64_t channels, const int32_t* multiplier,
                             const int32_t* shift, int64_t zero_point_count, const int32_t* zero_point,
                             int64_t count, const Acc* acc, Out* out);

template <typename Acc, typename Out>
void requantize_single_round(const RequantizeParams& params, int64_t channels, const int32_t* multiplier,
                             const int32_t* shift, int64_t zero_point_count, const int32_t* zero_point,
                             int64_t count, const Acc* acc, Out* out);

template <typename Acc, typename Out>
void requantize_int64_reduced(const RequantizeParams& params, int64_t channels, const int32_t* multiplier,
                              const int32_t* shift, int64_t zero_point_count, const int32_t* zero_point,
                              int64_t count, const Acc* acc, Out* out);

template <typename Acc, typename Out>
void requantize_power_of_two(const RequantizeParams& params, int64_t channels, const int32_t* shift,
                             int64_t zero_point_count, const int32_t* zero_point, int64_t count, const Acc* acc,
                             Out* out);

template <typename Acc, typename Out>
void requantize_fp32(const RequantizeParams& params, int64_t channels, const float* scale,
                     int64_t zero_point_count, const int32_t* zero_point, int64_t count, const Acc* acc, Out* out);

FXSIM_NAMESPACE_END
