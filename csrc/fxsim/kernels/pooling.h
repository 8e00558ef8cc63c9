// Integer pooling over NCHW planes: average pool (each engine's division), max pool, and the
// per-plane sums behind global average pooling.
//
// Quantization contract of this file: x and out hold codes of one type (int8, uint8 or int16).
// A window of output (oy, ox) covers input rows oy*stride_h - pad_top + [0, kernel_h) and
// columns ox*stride_w - pad_left + [0, kernel_w); `valid` is the number of its positions inside
// the image and `padded` the number inside the padded extent [-pad_top, H + pad_bottom) x
// [-pad_left, W + pad_right). count = count_include_pad ? padded : valid. Every window must
// hold at least one input element. The caller gives the output size (ceil_mode is its choice).
//
// avg_pool2d methods (the integer ones require the input and output encodings to be equal, as
// TFLite does; `zero_point` is that shared zero point):
//   tflite   acc = sum of the window's codes (padded positions, when counted, hold zero_point);
//            code = clamp(round_half_away(acc / count))
//            (tensorflow/lite/kernels/internal/reference/integer_ops/pooling.h AveragePool)
//   tosa     acc = sum of (code - zero_point) (padded positions contribute 0);
//            code = clamp(apply_scale_32(acc, reciprocal_scale(count), single round) + zero_point)
//            (TOSA pseudocode/operators/AVG_POOL2D.tosac)
//   hexagon  acc as tflite; code = clamp((acc * sat16(0x8000 / count) + 0x4000) >> 15)
//            (hexagon_nn hexagon/ops/src/op_avgpool.c)
//   dpu      acc as tflite (the DPU is symmetric: zero_point 0); code =
//            clamp(round_half_up(acc * n / 2^(m + shift))), (n, m) the DPU factor of the kernel
//            (Vitis AI pool-fix.cpp: the true count is never used)
//   pytorch  acc as tflite; code = clamp(round_half_even(acc / count)) (PyTorch's quantized
//            avg_pool2d, which keeps the input's encoding; measured on torch 2.13 FBGEMM,
//            tests/oracles/test_pytorch_golden.py)
//   ort      ONNX Runtime QLinearAveragePool (onnxruntime/contrib_ops/cpu/quantization/
//            qlinear_pool.cc), float32 with its own encodings: each in-image code becomes
//            in_scale * float(code - in_zero_point); the window is summed from 0.0f in row-major
//            order; y = sum / float(count); code = clamp(nearbyintf(y / out_scale +
//            float(out_zero_point))) (half even; a value outside int32 gives INT32_MIN, the x86
//            conversion result). With count_include_pad, count = kernel_h * kernel_w (ORT's
//            divisor; it differs from `padded` where a ceil_mode window runs past the end pad).
// Scalar primitives: fxsim/fixedpoint/division.h. max_pool2d: the largest code of the window's
// in-image positions (padding never wins). plane_sums: the exact int64 sum of each of `rows`
// contiguous runs of `cols` codes.
//
// global_average_pool: the mean of each of `planes` contiguous runs of `count` codes (the H*W
// planes of an NCHW tensor) requantized to the output encoding in one call (the whole of an
// engine's global average / spatial MEAN, so an executor node is one kernel call). Methods
// (GlobalAverageParams; `out_add` is the output zero point unless said otherwise):
//   tflite         acc = sum(code) - in_zero_point * count (TFLite sums in int32: a sum outside
//                  int32 is std::out_of_range); v = MultiplyByQuantizedMultiplier(acc,
//                  multiplier, shift) (double rounding); code = clamp(round_half_away(v / count)
//                  + out_add) (tensorflow/lite/kernels/internal/reference/integer_ops/mean.h)
//   tflite_folded  acc as tflite; code = clamp(MBQM(acc, multiplier, shift) + out_add), the
//                  caller having folded 1/count into the multiplier (reference_ops::
//                  QuantizedMeanOrSum, tensorflow/lite/kernels/internal/reference/reduce.h)
//   tflite_opt     acc = sum(code), the raw codes (int32 as above); code = clamp(MBQM(acc,
//                  multiplier, shift) + out_add) with out_add the caller's folded bias
//                  (optimized_ops::MeanImpl, tensorflow/lite/kernels/internal/optimized/
//                  optimized_ops.h)
//   ort            acc as tflite; v = float(acc) * scale in float32 (scale = s_in / (s_out *
//                  float(count)), computed by the caller), clamped in float to [qmin - out_add,
//                  qmax - out_add], rounded half even, + out_add (onnxruntime/core/mlas/lib/
//                  qlgavgpool.cpp and MLAS's requantization)
//   pytorch        torch.mean of a quantized tensor (ATen, measured on torch 2.13): each code
//                  dequantized as fma(code, scale, premul) with premul = float(-in_zero_point) *
//                  scale rounded to float32 first (one rounding: the product and sum are exact
//                  in double, then rounded to float); summed in float32 in element order from
//                  0.0f; mean = sum / float(count); code = clamp(rint(mean * (1.0f / scale)) +
//                  out_add), half even; a NaN product gives qmin and one beyond int32 the clamp
//                  end of its sign (no undefined conversion); scale below 1e33.
// Multipliers: shift in [-31, 31]; scales finite and > 0; zero points within the code types.
// Bad arguments: std::invalid_argument; a DPU result outside int64: std::out_of_range.
// The GIL is released by the binding; calls split across threads by planes, bit-identically.
#pragma once

#include <cstdint>

#include "fxsim/isa.h"

namespace fxsim {

enum class AvgPoolMethod { kTflite = 0, kTosa = 1, kHexagon = 2, kDpu = 3, kOrt = 4, kPytorch = 5 };

enum class GlobalAverageMethod { kTflite = 0, kTfliteFolded = 1, kTfliteOpt = 2, kOrt = 3, kPytorch = 4 };

struct GlobalAverageParams {
  GlobalAverageMethod method;
  int32_t in_zero_point;       // tflite, tflite_folded, ort (subtracted count times), pytorch
  int32_t multiplier;          // tflite, tflite_folded, tflite_opt: MBQM multiplier ...
  int shift;                   // ... and left shift in [-31, 31]
  int32_t out_add;             // output zero point (tflite_opt: its bias)
  float scale;                 // ort: s_in / (s_out * count); pytorch: the shared scale
  int32_t qmin, qmax;          // output clamp within the output code type
};

struct Pool2DShape {
  int64_t n, c, h, w;
  int64_t out_h, out_w;
};

struct Pool2DWindow {
  int64_t kernel_h, kernel_w, stride_h, stride_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
};

struct AvgPoolParams {
  AvgPoolMethod method;
  bool count_include_pad;
  int32_t zero_point;          // tflite, tosa, hexagon, dpu, pytorch
  int32_t qmin, qmax;          // output clamp within the code type
  int32_t dpu_n;               // dpu: factor n >= 0 ...
  int dpu_m;                   // ... and m in [0, 62] (division.h dpu_average_factor)
  int dpu_shift;               // dpu: fix_point_in - fix_point_out, [-62, 62]
  float in_scale, out_scale;   // ort: finite, > 0
  int32_t in_zero_point, out_zero_point;  // ort
};

}  // namespace fxsim

FXSIM_NAMESPACE_BEGIN

// T: int8_t, uint8_t or int16_t. x [n, c, h, w], out [n, c, out_h, out_w].
template <typename T>
void avg_pool2d(const AvgPoolParams& params, const Pool2DWindow& window, const Pool2DShape& shape, const T* x,
                T* out);
template <typename T>
void max_pool2d(const Pool2DWindow& window, const Pool2DShape& shape, const T* x, T* out);
template <typename T>
void plane_sums(int64_t rows, int64_t cols, const T* x, int64_t* out);
// T, U: int8_t, uint8_t or int16_t. x [planes, count], out [planes].
template <typename T, typename U>
void global_average_pool(const GlobalAverageParams& params, int64_t planes, int64_t count, const T* x, U* out);

FXSIM_NAMESPACE_END
