// Elementwise add / sub / mul of two quantized tensors with rescale, numpy broadcasting.
//
// Quantization contract of this file: codes a, b (int8, uint8 or int16; both the same type)
// are combined per output element and written as a code of the output type (int8, uint8 or
// int16) clamped to [qmin, qmax]. Each family models one engine's arithmetic exactly:
//
//   tflite     TFLite reference kernels. Add/sub (integer_ops/add.h AddFunc, reference/add.h
//              AddElementwise for int16 with left_shift 15, reference/sub.h SubElementwise):
//                ia = wrap32((a + a_offset) * 2^left_shift)
//                sa = MultiplyByQuantizedMultiplierSmallerThanOneExp(ia, a_mult, a_shift)
//                     (= RDBPOT(SRDHM(ia, a_mult), -a_shift), a_shift <= 0; likewise sb)
//                raw = wrap32(sa + sb)  (subtract: wrap32(sa - sb), as sub.h does; the NNAPI
//                                        form negates b_mult instead, pass a negative b_mult)
//                r = MultiplyByQuantizedMultiplierSmallerThanOneExp(raw, out_mult, out_shift)
//                code = clamp(wrap32(r + out_zero_point), qmin, qmax)
//              Mul (integer_ops/mul.h MulElementwise):
//                code = clamp(wrap32(MultiplyByQuantizedMultiplier(wrap32((a + a_offset) *
//                       (b + b_offset)), out_mult, out_shift) + out_zero_point), qmin, qmax)
//              (offsets are minus the zero points; MultiplyByQuantizedMultiplier is the default
//              double-rounding build). int32 overflow, which TFLite leaves to the hardware,
//              wraps (two's complement), modelled through uint32.
//   ort        ONNX Runtime MLAS float expressions (IEEE float32, each operation rounded once,
//              no contraction except the fma the source names):
//              add8  (QLinearAdd int8/uint8, x86 AVX2: onnxruntime/core/mlas/lib/intrinsics/
//                    avx2/qladd_avx2.cpp MlasQLinearAddKernelAvx2Helper), rAC = sA / sC,
//                    rBC = sB / sC, F = float(zC) - (rAC * float(zA) + rBC * float(zB)):
//                      both vectors:  v = fma(float(a), rAC, fma(float(b), rBC, F))
//                      a scalar:      v = fma(float(b), rBC, F + float(a) * rAC)
//                      b scalar:      v = fma(float(a), rAC, F + float(b) * rBC)
//                    per output row (ORT's broadcast span, onnxruntime/contrib_ops/cpu/
//                    quantization/qlinear_binary_op.cc): "a scalar" when a is constant along
//                    the row and b is not, "b scalar" when b is, or when the row is one element;
//                    then cvtps (round half to even; a value outside int32 gives INT32_MIN,
//                    the x86 "integer indefinite"), then saturating packs = clamp.
//              add_raw (MlasQLinearAddKernelRawHelper, the int16 path and the fallback):
//                    v = (sA * float(a - zA) + sB * float(b - zB)) / sC, clamped in float to
//                    [qmin - zC, qmax - zC], nearbyintf (half even), + zC.
//              mul8  (QLinearMul int8/uint8, x86 SSE2: onnxruntime/core/mlas/lib/qlmul.cpp):
//                    r = sA * sB / sC (left to right, float32);
//                    v = float((a - zA) * (b - zB)) * r + float(zC) (mul_ps then add_ps: two
//                    roundings, no fma; zC is added BEFORE the rounding, MlasQLinearMulVectorS16);
//                    cvtps (half even, INT32_MIN outside int32), saturating packs = clamp.
//   align_pot  Vitis AI DPU eltwise-fix add (src/vai_library/cpu_task/ops/eltwise-fix/
//              eltwise-fix.cpp): power-of-two positions; with m = max(fa, fb):
//                s = a * 2^(m - fa) +- b * 2^(m - fb)   (exact, the alignment shifts)
//                code = clamp(round_half_up(s * 2^(fo - m)), qmin, qmax)  (DPU_ROUND, util.hpp fix)
//              computed exactly in integers (the CPU reference does this in float32, which
//              agrees while |s| < 2^24).
//
// Broadcasting: the caller gives the output shape (ndim <= kMaxBroadcastDims) and, for each
// operand, an element stride per output dimension (0 where the operand is broadcast). The
// last dimension's strides must be 0 or 1. Bad arguments: std::invalid_argument.
// The caller owns `out`; the GIL is released by the binding; calls split across threads by
// output rows with bit-identical results.
#pragma once

#include <cstdint>

#include "fxsim/isa.h"
#include "fxsim/kernels/kernel_job.h"

namespace fxsim {

constexpr int kMaxBroadcastDims = 8;

// The iteration space of a broadcast binary op: output shape and per-operand element strides.
struct BroadcastShape {
  int ndim;
  int64_t shape[kMaxBroadcastDims];
  int64_t stride_a[kMaxBroadcastDims];
  int64_t stride_b[kMaxBroadcastDims];
  int64_t size_a, size_b;  // elements of each operand (every reachable offset must be below)
};

struct TfliteAddParams {
  int32_t a_offset, b_offset;  // minus the input zero points
  int left_shift;              // 20 (8-bit) or 15 (16-bit); 0..30
  int32_t a_multiplier, b_multiplier, out_multiplier;
  int a_shift, b_shift, out_shift;  // <= 0 (MultiplyByQuantizedMultiplierSmallerThanOneExp), >= -31
  int32_t out_zero_point, qmin, qmax;
  bool subtract;  // raw = sa - sb (reference/sub.h)
};

struct TfliteMulParams {
  int32_t a_offset, b_offset;
  int32_t out_multiplier;
  int out_shift;  // [-31, 31] (MultiplyByQuantizedMultiplier)
  int32_t out_zero_point, qmin, qmax;
};

enum class OrtExpression { kAdd8 = 0, kAddRaw = 1, kMul8 = 2 };

struct OrtParams {
  OrtExpression expression;
  float a_scale, b_scale, out_scale;  // finite, > 0
  int32_t a_zero_point, b_zero_point, out_zero_point, qmin, qmax;
};

struct AlignPotParams {
  int a_fix_point, b_fix_point, out_fix_point;  // each in [-32, 32]
  int32_t qmin, qmax;
  bool subtract;
};

}  // namespace fxsim

FXSIM_NAMESPACE_BEGIN

// In: int8_t, uint8_t or int16_t (a and b). out_type: kInt8, kUInt8 or kInt16.
template <typename In>
void elementwise_add_tflite(const TfliteAddParams& params, const BroadcastShape& shape, const In* a, const In* b,
                            OutType out_type, void* out);
template <typename In>
void elementwise_mul_tflite(const TfliteMulParams& params, const BroadcastShape& shape, const In* a, const In* b,
                            OutType out_type, void* out);
template <typename In>
void elementwise_ort(const OrtParams& params, const BroadcastShape& shape, const In* a, const In* b, OutType out_type,
                     void* out);
template <typename In>
void elementwise_add_align_pot(const AlignPotParams& params, const BroadcastShape& shape, const In* a, const In* b,
                               OutType out_type, void* out);

FXSIM_NAMESPACE_END
