// The broadcast loop shared by the binary elementwise kernels (baseline code; std:: allowed).
//
// run_broadcast(kernel, shape, a, b, out_type, out, op) validates a BroadcastShape against the
// operand sizes, then writes out[i] = op(a[offset_a(i)], b[offset_b(i)]) (op returns the code as
// int32, already clamped to the output range) for every output element i in C order. Rows (the
// last output dimension) are split across threads by parallel_tasks; each row is computed in
// blocks into an int32 buffer and narrowed to the output type, so results do not depend on the
// thread count. The last dimension's strides are 0 or 1, picked once per call (template), so
// the inner loops are plain or scalar-broadcast loops the compiler can vectorize; a row op (the
// ISA's explicit SIMD rows) takes each row whole.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "fxsim/isa.h"
#include "fxsim/kernels/common.h"
#include "fxsim/kernels/elementwise.h"
#include "fxsim/kernels/parallel.h"

FXSIM_NAMESPACE_BEGIN

// Checks ndim, extents, strides (>= 0, the last 0 or 1) and that every reachable offset lies
// inside its operand. Returns the number of output elements.
inline int64_t check_broadcast(const char* k, const BroadcastShape& s) {
  if (s.ndim < 1 || s.ndim > kMaxBroadcastDims) {
    throw_invalid(k, "ndim must be in [1, " + std::to_string(kMaxBroadcastDims) + "], got " + std::to_string(s.ndim));
  }
  int64_t count = 1, last_a = 0, last_b = 0;
  for (int d = 0; d < s.ndim; ++d) {
    if (s.shape[d] < 0) throw_invalid(k, "shape[" + std::to_string(d) + "] is negative");
    if (s.stride_a[d] < 0 || s.stride_b[d] < 0) throw_invalid(k, "strides must be >= 0");
    if (s.shape[d] == 0) return 0;
    if (count > INT64_MAX / s.shape[d]) throw_invalid(k, "too many elements");
    count *= s.shape[d];
    const int64_t ext = s.shape[d] - 1;
    if (s.stride_a[d] > 0 && ext > (INT64_MAX - last_a) / s.stride_a[d]) throw_invalid(k, "stride_a overflows");
    if (s.stride_b[d] > 0 && ext > (INT64_MAX - last_b) / s.stride_b[d]) throw_invalid(k, "stride_b overflows");
    last_a += ext * s.stride_a[d];
    last_b += ext * s.stride_b[d];
  }
  const int inner = s.ndim - 1;
  if (s.stride_a[inner] > 1 || s.stride_b[inner] > 1) throw_invalid(k, "the last dimension's strides must be 0 or 1");
  if (last_a >= s.size_a) throw_invalid(k, "a has " + std::to_string(s.size_a) + " elements, the strides reach " +
                                               std::to_string(last_a));
  if (last_b >= s.size_b) throw_invalid(k, "b has " + std::to_string(s.size_b) + " elements, the strides reach " +
                                               std::to_string(last_b));
  return count;
}

// Which operand is constant along the rows: 1 for a (its last stride is 0 and b's is 1), 2 for
// b, 0 otherwise (both vary, or both are constant).
inline int broadcast_row_case(const BroadcastShape& s) {
  const int64_t sa = s.stride_a[s.ndim - 1], sb = s.stride_b[s.ndim - 1];
  const bool row = s.shape[s.ndim - 1] > 1;
  if (row && sa == 0 && sb == 1) return 1;
  if (row && sa == 1 && sb == 0) return 2;
  return 0;
}

template <typename Out>
inline void store_block(const int32_t* buf, int64_t n, Out* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = static_cast<Out>(buf[j]);
}

// An op is either per element (op(x, y) -> code) or per row: an op with kRow and
// row(a, sa, b, sb, n, out) over the operands' own codes (a KernelTable row function, explicit
// SIMD, which widens and narrows in registers).
template <class Op, class = void>
struct IsRowOp : std::false_type {};
template <class Op>
struct IsRowOp<Op, std::void_t<decltype(Op::kRow)>> : std::true_type {};

// One row of `n` elements starting at a, b (strides kSa, kSb in {0, 1}).
template <typename In, int kSa, int kSb, typename Out, class Op>
inline void broadcast_row(const In* a, const In* b, int64_t n, Out* out, const Op& op) {
  if constexpr (IsRowOp<Op>::value) {
    op.row(a, kSa, b, kSb, n, out);
  } else {
    constexpr int64_t kBlock = 512;
    int32_t buf[kBlock];
    for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const int64_t m = n - j0 < kBlock ? n - j0 : kBlock;
      const In* pa = a + j0 * kSa;
      const In* pb = b + j0 * kSb;
      for (int64_t j = 0; j < m; ++j) buf[j] = op(static_cast<int32_t>(pa[j * kSa]), static_cast<int32_t>(pb[j * kSb]));
      store_block(buf, m, out + j0);
    }
  }
}

template <typename In, int kSa, int kSb, typename Out, class Op>
void broadcast_rows(const BroadcastShape& s, const In* a, const In* b, Out* out, const Op& op) {
  const int inner_dim = s.ndim - 1;
  const int64_t inner = s.shape[inner_dim];
  int64_t rows = 1;
  for (int d = 0; d < inner_dim; ++d) rows *= s.shape[d];
  parallel_tasks(rows, inner, [&](int64_t r0, int64_t r1) -> int64_t {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, oa = 0, ob = 0;
      for (int d = inner_dim - 1; d >= 0; --d) {
        const int64_t idx = rem % s.shape[d];
        rem /= s.shape[d];
        oa += idx * s.stride_a[d];
        ob += idx * s.stride_b[d];
      }
      broadcast_row<In, kSa, kSb>(a + oa, b + ob, inner, out + r * inner, op);
    }
    return -1;
  });
}

template <typename In, typename Out, class Op>
void broadcast_dispatch(const BroadcastShape& s, const In* a, const In* b, Out* out, const Op& op) {
  const int64_t sa = s.stride_a[s.ndim - 1], sb = s.stride_b[s.ndim - 1];
  if (sa == 1 && sb == 1) {
    broadcast_rows<In, 1, 1>(s, a, b, out, op);
  } else if (sa == 0 && sb == 1) {
    broadcast_rows<In, 0, 1>(s, a, b, out, op);
  } else if (sa == 1 && sb == 0) {
    broadcast_rows<In, 1, 0>(s, a, b, out, op);
  } else {
    broadcast_rows<In, 0, 0>(s, a, b, out, op);
  }
}

template <typename In, class Op>
void run_broadcast(const char* k, const BroadcastShape& s, const In* a, const In* b, OutType out_type, void* out,
                   const Op& op) {
  if (check_broadcast(k, s) == 0) return;
  switch (out_type) {
    case OutType::kInt8: broadcast_dispatch(s, a, b, static_cast<int8_t*>(out), op); return;
    case OutType::kUInt8: broadcast_dispatch(s, a, b, static_cast<uint8_t*>(out), op); return;
    case OutType::kInt16: broadcast_dispatch(s, a, b, static_cast<int16_t*>(out), op); return;
    default: throw_invalid(k, "out must be int8, uint8 or int16");
  }
}

FXSIM_NAMESPACE_END
