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
#include <vector>

#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/isa.h"
#include "fxsim/kernels/kernel_job.h"

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

enum class RequantizeMethod : int { kDoubleRound = 0, kSingleRound = 1, kInt64Reduced = 2, kPowerOfTwo = 3, kFp32 = 4 };

// The arguments of one requantization, as the requantize_<method> entry points take them
// (multiplier and shift for the fixed-point methods, shift alone for power_of_two, scale for
// fp32; the others null). `params.inner` is ignored by RequantizePlan.
struct RequantizeArgs {
  RequantizeMethod method = RequantizeMethod::kDoubleRound;
  RequantizeParams params{};
  int64_t channels = 1;
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  const float* scale = nullptr;
  int64_t zero_point_count = 1;
  const int32_t* zero_point = nullptr;
};

// A requantization validated and prepared once (per-channel constants, the active ISA loop or
// the scalar definition), then applied to runs of accumulators: what requantize_<method> runs
// over a whole array and what the fused conv2d / matmul kernels run on each tile of
// accumulators, so both give the same codes by construction. The per-element STOCHASTIC draw
// and the index of a rejected accumulator are the flat output index (`index_base` + j).
class RequantizePlan {
 public:
  // std::invalid_argument (prefixed with `kernel`) for bad arguments, as requantize_<method>.
  RequantizePlan(const RequantizeArgs& args, bool acc64, OutType out_type, const char* kernel);

  // out[j] = code of acc[j] (Acc int32 or int64 as acc64 says), j < count, all in channel c
  // (any c when the plan is per tensor).
  // Returns -1, or the flat index of the first accumulator outside the method's domain (the
  // outputs from there on are unspecified). Runs on the calling thread (no thread split).
  int64_t run_channel(int64_t c, const void* acc, int64_t count, int64_t index_base, void* out) const;
  // The same with element j in channel c0 + j (a matmul row, channels along columns).
  int64_t run_row(int64_t c0, const void* acc, int64_t count, int64_t index_base, void* out) const;
  // std::out_of_range naming the flat index and the value of a rejected accumulator.
  [[noreturn]] void throw_bad(int64_t index, int64_t value) const;

  int64_t channels() const { return channels_; }
  bool acc64() const { return acc64_; }

  // The loops a fused kernel can apply to int32 accumulators in its own registers (the matmul
  // tile epilogue, gemm_kernels.h; the direct depthwise / small-depth loops,
  // direct_conv_kernels.h), with this plan's per-channel constants (channels() values each):
  //   kFp32HalfEven: the float32 fp32 method with HALF_EVEN rounding and every clamp bound within
  //     kRoundHalfEvenBound<float> (array_kernels.inc Fp32Op<int32_t, float, HALF_EVEN, bounded>):
  //       code = (int32)round_half_even_bounded(min(max((float)acc * scale + add, lo), hi)) + zero_point
  //   kDoubleRound: TFLite's double rounding with every clamp bound within int32
  //     (array_kernels.inc double_round_int32, multiplier_simd.h):
  //       code = clamp(multiply_by_quantized_multiplier_double_round(acc, multiplier, shift),
  //                    lo32, hi32) + zero_point
  // Each is the plan's own loop element for element, so a fused kernel that applies it gives the
  // plan's codes; neither rejects an int32 accumulator. False, with nothing written, for every
  // other plan (other methods, int64 accumulators, the generic scalar path).
  enum class RegisterForm : int { kFp32HalfEven = 0, kDoubleRound = 1 };
  struct RegisterLoop {
    RegisterForm form;
    const float *scale, *add, *lo, *hi;              // kFp32HalfEven, else null
    const int32_t *multiplier, *shift, *lo32, *hi32;  // kDoubleRound, else null
    const int32_t* zero_point;
  };
  bool register_loop(RegisterLoop* out) const;
  OutType out_type() const { return out_type_; }
  int out_bytes() const;

  // requantize_<method> over a whole [outer, channels, inner] array, split across threads.
  void run_array(const void* acc, int64_t count, int64_t inner, void* out) const;

 private:
  int64_t run_job(int64_t c0, bool per_element, const void* acc, int64_t count, int64_t index_base,
                  void* out) const;
  int64_t generic_code(int64_t x, int64_t c, uint64_t i) const;
  KernelJob base_job() const;

  const char* kernel_;
  RequantizeMethod method_;
  RequantizeParams params_;
  int64_t channels_;
  bool acc64_;
  OutType out_type_;
  int64_t domain_lo_, domain_hi_, range_lo_, range_hi_;
  bool fast_ = true, fdouble_ = false;
  bool fp32_bounded_ = false;  // the fp32 method's HALF_EVEN loop with bounds within kRoundHalfEvenBound
  KernelFn fn_ = nullptr;
  std::vector<int32_t> multiplier_, shift_, zp_, zp_int_;
  std::vector<int32_t> lo32_, hi32_;  // lo_, hi_ as int32: double_round on int32 accumulators when all fit
  std::vector<int64_t> lo_, hi_;
  std::vector<float> f32_scale_, f32_add_, f32_lo_, f32_hi_;
  std::vector<double> f64_scale_, f64_add_, f64_lo_, f64_hi_;
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
