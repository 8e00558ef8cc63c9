// Resize on integer codes: nearest-neighbour index maps and gather, and bilinear interpolation
// in each engine's own arithmetic.
//
// Quantization contract of this file: input and output hold codes of one type and one
// encoding (the engines resize codes and never rescale: TFLite requires equal input and output
// quantization, ONNX Runtime runs Resize on uint8/int8 tensors as they are). Every arithmetic
// step below is the engine's, read at its source:
//
// Nearest (one axis; in_size, out_size >= 1; the output index o maps to an input index):
//   ONNX Runtime (onnxruntime/core/providers/cpu/tensor/upsamplebase.h GetOriginalCoordinate /
//   GetNearestPixel, upsample.cc UpsampleNearestSetupInputMappings): a scale of exactly 1 maps
//   o -> o; else c = original_coordinate(o) in float32 (below), then
//     round_prefer_floor  c == float(int64(c)) + 0.5f ? floor(c) : round_half_away(c)
//     round_prefer_ceil   round_half_away(c) (std::round)
//     floor / ceil        floor(c) / ceil(c)
//     simple (opset 10)   scale < 1 ? ceil(c) : trunc(c)
//   clamped to [0, in_size - 1].
//   TFLite RESIZE_NEAREST_NEIGHBOR (tensorflow/lite/kernels/internal/reference/
//   resize_nearest_neighbor.h GetNearestNeighbor): s = align_corners && out > 1 ?
//   float(in - 1) / float(out - 1) : float(in) / float(out); c = (float(o) + offset) * s with
//   offset 0.5f for half_pixel_centers; index = min(align_corners ? round_half_away(c) :
//   floor(c), in - 1), and max(0, .) with half_pixel_centers.
// ONNX original coordinate (float32, x = float(o), s the axis scale, L = out, I = in):
//   half_pixel (x + 0.5) / s - 0.5; half_pixel_symmetric offset + (x + 0.5) / s - 0.5 with
//   offset = (I / 2) * (1 - L / (s * I)); pytorch_half_pixel L > 1 ? (x + 0.5) / s - 0.5 : 0;
//   align_corners L == 1 ? 0 : x * (I - 1) / (L - 1) (left to right); asymmetric x / s;
//   tf_half_pixel_for_nn (x + 0.5) / s.
//
// Bilinear over [outer, H, W, inner] planes (NCHW: outer = N*C, inner = 1; NHWC: outer = N,
// inner = C; the arithmetic is per element, so the layout is only the strides):
//   resize_bilinear_tflite: reference_ops::ResizeBilinearInteger (reference/resize_bilinear.h,
//     tensorflow/tensorflow 08df8c4; int8 and int16). Per axis, in Q10: scale_10 = (1024 * I +
//     L / 2) / L (align_corners, L > 1: (1024 * (I - 1) + (L - 1) / 2) / (L - 1)), C division;
//     v = o * scale_10 (+ scale_10 / 2 - 512 with half_pixel_centers); i0 = max(v / 1024, 0),
//     i1 = min((v + 1023) / 1024, I - 1) (C division truncates toward zero); f = v - 1024 * i0.
//     sum = x[y0,x0] (1024 - fy)(1024 - fx) + x[y1,x0] fy (1024 - fx) + x[y0,x1] (1024 - fy) fx
//           + x[y1,x1] fy fx (int64);
//     out = double rounding build: (sum + (sum > 0 ? 2^19 : -2^19)) / 2^20 (C division: half
//           away from zero); TFLITE_SINGLE_ROUNDING: (sum + 2^19) >> 20 (half up).
//     Sizes whose i0 would reach I (TFLite would read outside the input: possible only when
//     L > 2048) or whose int32 products overflow raise std::out_of_range / invalid_argument.
//   resize_bilinear_ort_float: ONNX Runtime's UpsampleBilinear (NCHW and 2-D inputs; upsample.h
//     SetupUpsampleBilinear), verified against onnxruntime 1.32 on x86: per axis c =
//     original_coordinate(o) (o itself when the scale is 1), clamped to [0, I - 1]; i1 =
//     min(int(c), I - 1), i2 = min(i1 + 1, I - 1); d1 = |c - i1|, d2 = |c - i2| (float32), both
//     0.5 when i1 == i2. out = trunc((dx2 dy2) X11 + (dx1 dy2) X21 + (dx2 dy1) X12 + (dx1 dy1) X22)
//     in float32, products and sums left to right (X21 = x[y1, x2], X12 = x[y2, x1]).
//   resize_bilinear_ort_integer: ONNX Runtime's NhwcUpsampleBilinearInteger (the NHWC path ORT
//     takes for int8/uint8; upsample.h SetupUpsampleBilinearInteger), verified the same way: c as
//     above; c10 = int(c * 1024.0f); d1 = |c10 - 1024 i1|, d2 = |c10 - 1024 i2| (512 each when
//     i1 == i2); out = (sum of the four w * X with w = dx * dy, int32) / 2^20, C division
//     (truncation toward zero).
//   resize_bilinear_ort_dequantized: ONNX Runtime's float path of a QDQ DequantizeLinear ->
//     Resize (linear) -> QuantizeLinear group, which ORT 1.32 fuses at no optimisation level
//     (measured): each tap X = float(code - in_zero_point) * in_scale (DequantizeLinear,
//     quantize_linear.cc), the float32 sum of resize_bilinear_ort_float without the truncation
//     (UpsampleBilinear<float>), then QuantizeLinear (mlas/lib/quantize.cpp MlasQuantizeLinear):
//     v = sum / out_scale (float32), clamped to [qmin - out_zero_point, qmax - out_zero_point],
//     rounded half to even, + out_zero_point. Input and output encodings may differ.
// Bad arguments: std::invalid_argument. The GIL is released by the binding; calls split across
// threads by output rows, bit-identically.
#pragma once

#include <cstdint>

#include "fxsim/isa.h"

namespace fxsim {

enum class ResizeCoordinate {
  kHalfPixel = 0,
  kHalfPixelSymmetric = 1,
  kPytorchHalfPixel = 2,
  kAlignCorners = 3,
  kAsymmetric = 4,
  kTfHalfPixelForNn = 5,
};

enum class ResizeNearestMode { kRoundPreferFloor = 0, kRoundPreferCeil = 1, kFloor = 2, kCeil = 3, kSimple = 4 };

// [outer, in_h, in_w, inner] -> [outer, out_h, out_w, inner]
struct ResizePlaneShape {
  int64_t outer, in_h, in_w, inner, out_h, out_w;
};

struct ResizeBilinearTfliteParams {
  bool align_corners;
  bool half_pixel_centers;
  bool single_round;  // TFLITE_SINGLE_ROUNDING build: half up instead of half away
};

struct ResizeBilinearOrtParams {
  ResizeCoordinate coordinate;
  float scale_h, scale_w;  // the axis scales ONNX Runtime uses (float32, > 0)
};

// The encodings of resize_bilinear_ort_dequantized: scales finite float32 > 0, zero points and
// [qmin, qmax] within the code type.
struct ResizeDequantizedParams {
  float in_scale, out_scale;
  int32_t in_zero_point, out_zero_point, qmin, qmax;
};

constexpr int kResizeMaxDims = 8;

}  // namespace fxsim

FXSIM_NAMESPACE_BEGIN

// The float32 input coordinate of output index `o` along one axis (ONNX Runtime's formulas).
float onnx_resize_coordinate(ResizeCoordinate mode, int64_t o, int64_t out_size, int64_t in_size, float scale);

// Nearest input index of every output index of one axis into `index[out_size]`.
void resize_nearest_indices_onnx(ResizeCoordinate mode, ResizeNearestMode nearest, int64_t in_size, int64_t out_size,
                                 float scale, int64_t* index);
void resize_nearest_indices_tflite(bool align_corners, bool half_pixel_centers, int64_t in_size, int64_t out_size,
                                   int64_t* index);

// out[o_0, ..., o_{n-1}] = in[index_0[o_0], ..., index_{n-1}[o_{n-1}]] over `ndim` axes
// (1..kResizeMaxDims); index_d has out_shape[d] entries in [0, in_shape[d]). T: any 1/2-byte code.
template <typename T>
void resize_gather(int ndim, const int64_t* in_shape, const int64_t* out_shape, const int64_t* const* index,
                   const T* input, T* output);

template <typename T>
void resize_bilinear_tflite(const ResizeBilinearTfliteParams& params, const ResizePlaneShape& shape, const T* input,
                            T* output);

template <typename T>
void resize_bilinear_ort_float(const ResizeBilinearOrtParams& params, const ResizePlaneShape& shape, const T* input,
                               T* output);

template <typename T>
void resize_bilinear_ort_integer(const ResizeBilinearOrtParams& params, const ResizePlaneShape& shape, const T* input,
                                 T* output);

template <typename T>
void resize_bilinear_ort_dequantized(const ResizeBilinearOrtParams& params, const ResizeDequantizedParams& codes,
                                     const ResizePlaneShape& shape, const T* input, T* output);

FXSIM_NAMESPACE_END
