// matmul_accumulate: the exact int32/int64 accumulators of an integer matrix product.
//
// Quantization contract (TFLite reference/integer_ops/fully_connected.h, ONNX QLinearMatMul /
// MatMulInteger; research/engine-semantics.md sections 4 and 6):
//   acc[b, m, n] = sum_{k ascending} (A[b, m, k] - a_zp) * (B[b or 0, k, n] - b_zp[n]) + bias[n]
// A is [batch, M, K] (the leading batch dimensions flattened); B is one [K, N] matrix shared by
// every batch (constant weights; FullyConnected is batch = 1 with the weights transposed to
// [K, N]) or batched like A, [batch, K, N] (two activation tensors, as in attention). b_zp has 1
// or N values (per-column weight zero points); bias is null or N values.
//
// The policy (accumulate.h) is applied in the order k ascending, bias last; WRAP takes the
// order-free fast path for 8-bit operands (raw u8 x s8 products with the zero points restored by
// row / column sums, packed_weights.h; uint32 sums, per-ISA loops, threads).
// Element types: A and B uint8, int8, uint16, int16 (int4 values in int8); out int32 (acc_bits
// 32 only) or int64. Products are exact in int64. Errors as in conv2d.h.
#pragma once

#include <cstdint>

#include "fxsim/kernels/accumulate.h"
#include "fxsim/kernels/kernel_job.h"
#include "fxsim/kernels/packed_weights.h"
#include "fxsim/kernels/requantize.h"

namespace fxsim {

struct MatMulShape {
  int64_t batch = 1, m = 1, k = 1, n = 1;
  bool b_batched = false;  // B is [batch, K, N] rather than one [K, N]
};

// Validates the shape (std::invalid_argument naming the argument).
void matmul_check_shape(const MatMulShape& shape);

template <typename A, typename B, typename Out>
void matmul_accumulate(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const B* b, int64_t b_zero_point_count, const int32_t* b_zero_point, const int64_t* bias,
                       Out* out);

// The same product with the requantization fused (as conv2d_requantize, conv2d.h): channels of
// `rq` are the columns (rq.channels 1 or N), acc_offset null or rq.channels values; out
// [batch, M, N] of out_type. Codes equal matmul_accumulate then requantize_<method> bit for bit.
template <typename A, typename B>
void matmul_requantize(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const B* b, int64_t b_zero_point_count, const int32_t* b_zero_point, const int64_t* bias,
                       const int64_t* acc_offset, const RequantizeArgs& rq, OutType out_type, void* out);

// The same two kernels with constant weights packed once (packed_weights.h; its zero points are
// B's): the WRAP path with 8-bit A reads the packed words, every other case the kept codes, so
// results equal the plain-array calls bit for bit. std::invalid_argument when the packed weights
// are not the [K, N] of `shape` or shape.b_batched.
template <typename A, typename Out>
void matmul_accumulate(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const PackedMatMulWeights& b, const int64_t* bias, Out* out);
template <typename A>
void matmul_requantize(const AccumulateParams& acc, const MatMulShape& shape, const A* a, int32_t a_zero_point,
                       const PackedMatMulWeights& b, const int64_t* bias, const int64_t* acc_offset,
                       const RequantizeArgs& rq, OutType out_type, void* out);

}  // namespace fxsim
