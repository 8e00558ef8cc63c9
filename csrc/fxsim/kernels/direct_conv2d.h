// The direct (im2col-free) convolutions of the exact 8-bit WRAP path, picked by conv2d.cc's
// conv_run for the layers the generic grouped GEMM serves badly:
//   depthwise_conv2d_wrap8    groups == C_in (one input channel per group: depthwise with any
//                             depth multiplier C_out / C_in), any kernel, stride, dilation, pads
//   small_depth_conv2d_wrap8  groups == 1 and C_in * KH * KW <= kSmallConvDepth (a network's
//                             first conv, 3 x 3 x 3 = 27), any kernel, stride, dilation, pads
// Both compute conv2d.h's definition with 8-bit x and w under WRAP, as conv2d.cc's conv_wrap8
// does and with the same arithmetic: x - x_zp and w - w_zp[oc] widened to int16 (|v| <= 255),
// padding as 0 (= x_zp before the subtraction: ONNX QLinearConv pads with the zero point,
// TFLite skips the position, both give a 0 product), products summed modulo 2^32 in any order
// (direct_conv_kernels.h), then bias + wrap to acc_bits (finish_wrapped_u32) in the sink. Every
// output is the same exact modular sum whatever the ISA variant, tile or thread split, so these
// equal conv_wrap8 and the reference bit for bit.
//
// Layout: each padded input plane is split into stride_w phases (padded column q * stride_w +
// phase at [phase][q]) so that a run of output columns reads a contiguous run of each tap's
// inputs; output runs of 32 columns go to the ISA's tile loop (direct_conv_kernels.h); the
// accumulators of a whole plane (depthwise) or of a band of rows for every output channel (small
// depth) go to the sink in one call per channel.
//
// When every w - w_zp is an int8 value (symmetric int8 weights, the usual case, or uint8 with
// zero point 128), both take a u8 x s8 path instead: raw u8 codes (int8 codes + 128) in planes
// padded with the zero point, four taps per vpdpbusd (exact products summed modulo 2^32, like the
// int16 path; on avx512bw its exact emulation, two vpmaddwd), and sum (x - x_zp)(w - w_zp) =
// sum x (w - w_zp) - x_zp sum (w - w_zp) modulo 2^32 with the second term (and at acc_bits 32
// the bias) as the start value.
// Depthwise layers with stride 1 or 2 and 3 x (1-4) or 5 x (5-8) filters take a register-blocked
// form of that loop (DepthwiseU8S8FastFn, one per stride); it and the small-depth loop hand their
// sums straight to an int32 output, or requantize them in registers (RegisterCodes) into 8-bit
// codes when the sink's plan has a register form (RequantizePlan::register_loop): the bounded
// HALF_EVEN float32 loop (ONNX Runtime's QLinearConv requantization, MLAS's MlasRequantizeOutput:
// float32 product, clamp, round half even, + zero point) or TFLite's double rounding
// (MultiplyByQuantizedMultiplier), with that loop's own operations, so the codes equal the
// sink's; any other sink gets the sums as before.
#pragma once

#include <cstdint>

#include "fxsim/kernels/conv2d.h"
#include "fxsim/kernels/gemm_kernels.h"
#include "fxsim/kernels/packed_weights.h"

namespace fxsim {

// The largest C_in * KH * KW the small-depth kernel takes (issue 3: "C_in * KH * KW small, e.g.
// <= 32"): above it every output channel's filter is long enough for the GEMM path.
constexpr int64_t kSmallConvDepth = 32;

// Whether the direct kernels take this layer (8-bit types and the WRAP policy are the caller's
// condition): an AVX-512 ISA variant active (direct_conv_kernels.h), the geometry above, and the padded, phase-split plane and the per-task
// accumulator buffer within a bound (a few times the input plane, at most 2^24 elements), so
// a pathological stride or pad keeps the generic path instead of a huge buffer.
bool depthwise_conv2d_applies(const Conv2DParams& params, const Conv2DShape& shape, int64_t oh, int64_t ow);
bool small_depth_conv2d_applies(const Conv2DParams& params, const Conv2DShape& shape, int64_t oh, int64_t ow);

// conv2d.h's definition under WRAP into `sink` (accumulator_sink.h: AccumulatorSink<int32_t>,
// AccumulatorSink<int64_t> or RequantizeSink), X and W each uint8_t or int8_t, for a layer the
// matching *_applies accepts; oh, ow from conv2d_output_size. The sums are exact modulo 2^32,
// so acc_bits must be 32 or C_in * KH * KW / groups <= kExactInt32Depth8 (conv_run's condition).
// `packed` is null or w's packed weights (w: their codes), whose filter rows are made once
// (PackedConvWeights::filter_rows) instead of on every call.
// Returns the lowest output index the sink rejected, or -1.
template <typename X, typename W, class Sink>
int64_t depthwise_conv2d_wrap8(const Conv2DParams& params, const Conv2DShape& shape, int64_t oh, int64_t ow,
                               const X* x, int32_t x_zero_point, const W* w, int64_t w_zero_point_count,
                               const int32_t* w_zero_point, const PackedConvWeights* packed, const int64_t* bias,
                               const Sink& sink);
template <typename X, typename W, class Sink>
int64_t small_depth_conv2d_wrap8(const Conv2DParams& params, const Conv2DShape& shape, int64_t oh, int64_t ow,
                                 const X* x, int32_t x_zero_point, const W* w, int64_t w_zero_point_count,
                                 const int32_t* w_zero_point, const PackedConvWeights* packed, const int64_t* bias,
                                 const Sink& sink);

// Whether the conv GEMM's tile epilogue `e` (accumulator_sink.h tile_epilogue: its float32 form
// with 8-bit codes) may clamp its codes after the packs as the direct loops do (Dot4Epilogue::
// codes_clamp): each of its `channels` channels (1 when not per_channel) within RegisterCodes's
// limits and under fp32_clamp_in_codes. *has_add: some channel's add is not +0.0f. Read once per
// call.
bool epilogue_clamps_in_codes(const Dot4Epilogue& e, int64_t channels, bool* has_add);

}  // namespace fxsim
