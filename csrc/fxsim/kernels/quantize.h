// quantize: float32/float64 values -> integer codes, per tensor or per channel.
//
// For element i of an [outer, C, inner] array, channel c = (i / inner) % C, in the input's
// own precision T (no promotion):
//   v = reciprocal ? x * (T(1) / scale[c]) : x / scale[c]
//   code = round(clamp(v, T(qmin - zp[c]), T(qmax - zp[c])), rounding) + zp[c]
// clamped once more to [qmin, qmax] (this only matters where T cannot represent the clamp
// bounds exactly, float32 beyond 2^24), cast to the output type.
// TFLite reference AffineQuantize is division + HALF_AWAY; its NEON path and FBGEMM multiply
// by the reciprocal and round HALF_EVEN; ONNX QuantizeLinear divides and rounds HALF_EVEN
// (research notes 1(1), 1(8).4, T3, T5, D3). NaN or +-Inf inputs -> std::out_of_range naming the
// flat index; scale must be finite and > 0 (std::invalid_argument). STOCHASTIC draws
// stochastic_bits(seed, i).
#pragma once

#include <cstdint>

#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/isa.h"

namespace fxsim {

struct QuantizeParams {
  int32_t qmin;           // output clamp, storage domain (must fit the output type)
  int32_t qmax;
  int64_t inner;          // elements per channel run; ignored when C == 1
  RoundingMode rounding;  // named, never defaulted
  uint64_t seed;          // STOCHASTIC only
  bool reciprocal;        // multiply by T(1)/scale instead of dividing by scale
};

}  // namespace fxsim

FXSIM_NAMESPACE_BEGIN

// T: float or double. Out: int8_t, uint8_t, int16_t, uint16_t or int32_t.
template <typename T, typename Out>
void quantize(const QuantizeParams& params, int64_t channels, const T* scale, int64_t zero_point_count,
              const int32_t* zero_point, int64_t count, const T* x, Out* out);

FXSIM_NAMESPACE_END
