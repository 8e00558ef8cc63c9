// The per-ISA inner loop of the direct 8-bit convolutions on the WRAP path: the depthwise kernel
// and the small-depth (first-layer) kernel of depthwise_conv2d.h (direct_conv_kernels.inc).
// Plain data only (no code, no std:: templates), so every ISA variant can include it.
#pragma once

#include <cstdint>

namespace fxsim {

// Output columns one unit computes: a run of up to kDirectConvUnit consecutive outputs of one
// output row (one zmm pair of int32 lanes).
constexpr int64_t kDirectConvUnit = 32;

// For m < rows, u < units, j < width[u] (1 <= width[u] <= kDirectConvUnit):
//   c[m * ldc + dst[u] + j] = sum_{p < pairs} w0(m, p) * b[src[u] + koff[2p] + j]
//                                             + w1(m, p) * b[src[u] + koff[2p + 1] + j]   (mod 2^32)
// with w0 / w1 the low / high int16 halves of wp[m * pairs + p] (the filter taps 2p and 2p + 1 of
// output channel m, the odd tail paired with a 0 weight). Reads b[src[u] + koff[k] + j] for every
// j < kDirectConvUnit (the caller sizes b for that), writes only j < width[u]. Every product of
// two int16 fits int32 and the sum is taken modulo 2^32 (uint32 arithmetic, or vpmaddwd /
// vpdpwssd pair sums, exact modulo 2^32: order-free), so every variant gives the same bits.
using DirectConvFn = void (*)(const int32_t* wp, int64_t pairs, int64_t rows, const int16_t* b, const int64_t* koff,
                              const int64_t* src, const int64_t* dst, const int32_t* width, int64_t units,
                              uint32_t* c, int64_t ldc);

// The same sums with the inputs of each tap pair already interleaved: b holds int32 elements
// whose low / high int16 halves are the inputs of taps 2p / 2p + 1, so tap pair p reads
// b[src[u] + koff[p] + j] (koff has `pairs` entries):
//   c[m * ldc + dst[u] + j] = sum_{p < pairs} w0(m, p) * lo16(b[src[u] + koff[p] + j])
//                                             + w1(m, p) * hi16(b[src[u] + koff[p] + j])   (mod 2^32)
// (the depthwise kernel pairs vertically adjacent taps this way: one interleaved copy of the
// plane serves every pair, and the loop needs no shuffle). Same reads, writes and exactness.
using DirectConvPairsFn = void (*)(const int32_t* wp, int64_t pairs, int64_t rows, const int32_t* b,
                                   const int64_t* koff, const int64_t* src, const int64_t* dst, const int32_t* width,
                                   int64_t units, uint32_t* c, int64_t ldc);

struct DirectConvTable {
  const char* name;
  DirectConvFn direct_conv_u32;
  DirectConvPairsFn direct_conv_paired_u32;
};

const DirectConvTable* direct_conv_table_baseline();
#if defined(__GNUC__)
const DirectConvTable* direct_conv_table_avx2() __attribute__((weak));
const DirectConvTable* direct_conv_table_avx512bw() __attribute__((weak));
const DirectConvTable* direct_conv_table_avx512vnni() __attribute__((weak));
#else
const DirectConvTable* direct_conv_table_avx2();
const DirectConvTable* direct_conv_table_avx512bw();
const DirectConvTable* direct_conv_table_avx512vnni();
#endif

// The variant matching active_isa() (dispatch.h), as active_gemm_kernels() picks the GEMM loop.
const DirectConvTable& active_direct_conv_kernels();

}  // namespace fxsim
