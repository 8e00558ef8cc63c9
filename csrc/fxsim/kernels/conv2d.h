// conv2d_accumulate: the exact int32/int64 accumulators of an integer 2-D convolution (NCHW).
//
// Quantization contract (TFLite reference/integer_ops/conv.h, ONNX QLinearConv / ConvInteger,
// TOSA CONV2D; research/engine-semantics.md sections 4 and 8): with x the input codes, w the
// filter codes and zero points x_zp (scalar) and w_zp[oc] (per tensor or per output channel,
// the asymmetric per-channel weights FBGEMM allows through its row/column offsets),
//   acc[n, oc, oy, ox] = sum over (ky, kx, ic) of (x[n, g*Cig + ic, iy, ix] - x_zp) * (w[oc, ic, ky, kx] - w_zp[oc])
//                        + bias[oc]
//   iy = oy*stride_h - pad_top + ky*dilation_h,  ix = ox*stride_w - pad_left + kx*dilation_w,
//   g = oc / (C_out / groups), Cig = C_in / groups,
// where positions outside the input (padding) contribute 0: TFLite skips them, which equals
// padding with x_zp as ONNX QLinearConv does. Output size (ONNX Conv, explicit pads):
//   OH = floor((H + pad_top + pad_bottom - dilation_h*(KH-1) - 1) / stride_h) + 1, OW likewise.
// Grouped convolution: groups divides C_in and C_out; depthwise is groups == C_in with depth
// multiplier C_out / C_in (output channel oc reads input channel oc / multiplier).
//
// The policy (accumulate.h) is applied in the TFLite reference loop order: filter y, filter x,
// input channel, bias added last; padded positions take their place in that order (they matter
// to PAIR_SATURATE_16's pairing, as an im2col with x_zp padding would). That order is FBGEMM's
// NHWC im2col K order, and for a depthwise layer (one input channel per group) the row-major
// order of the filter taps, which FBGEMM's depthwise kernels pair. WRAP is order-free and
// takes a fast path (raw u8 x s8 products with the zero points restored by row / column sums,
// packed_weights.h; uint32 sums, per-ISA loops, threads) whose bits equal the definition; on
// AVX-512 depthwise and small-depth layers take the direct kernels of direct_conv2d.h (the same
// modular sums).
//
// Element types: x uint8, int8, uint16, int16; w int8 (also int4 values unpacked to int8),
// uint8, int16; out int32 (acc_bits 32 only) or int64. Products are exact in int64 (|p| < 2^33).
// Bad arguments: std::invalid_argument naming the argument; RAISE: std::out_of_range naming the
// first output index (flat, and as (n, oc, oy, ox)) whose exact sum leaves the range.
#pragma once

#include <cstdint>

#include "fxsim/kernels/accumulate.h"
#include "fxsim/kernels/kernel_job.h"
#include "fxsim/kernels/packed_weights.h"
#include "fxsim/kernels/requantize.h"

namespace fxsim {

struct Conv2DParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t groups = 1;
  AccumulateParams acc;
};

// x [n, c_in, h, w], w [c_out, c_in / groups, kh, kw].
struct Conv2DShape {
  int64_t n = 1, c_in = 1, h = 1, w = 1;
  int64_t c_out = 1, kh = 1, kw = 1;
};

struct Conv2DOutputSize {
  int64_t oh, ow;
};

// Validates shape and params (std::invalid_argument naming the argument) and returns OH, OW.
Conv2DOutputSize conv2d_output_size(const Conv2DParams& params, const Conv2DShape& shape);

// Writes out[n, c_out, OH, OW]. w_zero_point has w_zero_point_count (1 or c_out) values, each
// within W's range; x_zero_point within X's range; bias is null or c_out values.
template <typename X, typename W, typename Out>
void conv2d_accumulate(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point, const int64_t* bias,
                       Out* out);

// The same convolution with the requantization fused: each tile of accumulators (the values
// conv2d_accumulate writes, with acc_bits and the policy applied) goes through `rq`
// (requantize.h: every method, per tensor or per output channel, rq.channels 1 or c_out) and
// only the output codes are written, out [n, c_out, OH, OW] of type out_type. acc_offset is null
// or rq.channels int64 values added to each accumulator first (int64, two's-complement wrap:
// the zp_in_bias output stage); with it, or with acc_bits above 32, the requantization takes
// int64 accumulators (acc_bits 64), else int32 (acc_bits 32), exactly as requantizing
// conv2d_accumulate's int32 / int64 output would. Codes equal conv2d_accumulate then
// requantize_<method> bit for bit, STOCHASTIC draws included (the flat output index).
// Errors: as conv2d_accumulate (RAISE first, as accumulating before requantizing would); then an
// accumulator the method rejects raises std::out_of_range naming the lowest such output index
// and its value.
template <typename X, typename W>
void conv2d_requantize(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const W* w, int64_t w_zero_point_count, const int32_t* w_zero_point, const int64_t* bias,
                       const int64_t* acc_offset, const RequantizeArgs& rq, OutType out_type, void* out);

// The same two kernels with constant weights packed once (packed_weights.h; its zero points are
// the weights'): the WRAP path with 8-bit x reads the packed words, every other case the kept
// codes, so results equal the plain-array calls bit for bit. std::invalid_argument when the
// packed weights are not [c_out, c_in / groups, kh, kw] of `shape`.
template <typename X, typename Out>
void conv2d_accumulate(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const PackedConvWeights& w, const int64_t* bias, Out* out);
template <typename X>
void conv2d_requantize(const Conv2DParams& params, const Conv2DShape& shape, const X* x, int32_t x_zero_point,
                       const PackedConvWeights& w, const int64_t* bias, const int64_t* acc_offset,
                       const RequantizeArgs& rq, OutType out_type, void* out);

}  // namespace fxsim
