// The per-ISA inner loop of the exact 8-bit conv / matmul WRAP path (gemm_kernels.inc).
// Plain data only (no code, no std:: templates), so every ISA variant can include it.
#pragma once

#include <cstdint>

namespace fxsim {

// Columns per tile of the dot4 kernels' second operand: a fixed layout constant (not per ISA),
// since packed weights made once must serve every variant set_isa may pick later.
constexpr int64_t kDot4TileCols = 64;

// dot4(p, q): the four byte products of two 32-bit words summed, p's bytes read as one type and
// q's as the other (u8 x s8): sum_{i < 4} byte_i(p) * byte_i(q), exact in int32 (|sum| <= 4 * 255 *
// 128). This is one int32 lane of x86 VPDPBUSD (Intel SDM: "multiply groups of 4 adjacent pairs of
// unsigned 8-bit integers in the first source with corresponding signed 8-bit integers in the
// second source, sum, and add to the doubleword accumulator" without saturation, i.e. modulo 2^32).
//
//   c[r * ldc + j] = sum_{g < groups} dot4(p[r * ldp + g], q[(j / 64) * q_tile + goff[g] + j % 64])
//                    (mod 2^32)
// for r < rows, j < cols: the rows of p are broadcast, the columns of q are the vector lanes, 64
// columns (kDot4TileCols) per tile with the next tile q_tile words further on (64 for a linear q,
// groups * 64 for the packed matmul weights). Sums are uint32 (two's-complement wrap, order-free),
// so every variant gives the same bits. c is overwritten.
// Dot4S8U8Fn: p holds s8 bytes (weights), q u8 bytes (activations); Dot4U8S8Fn the other way.
using Dot4Fn = void (*)(const uint32_t* p, int64_t ldp, const uint32_t* q, int64_t q_tile, const int64_t* goff,
                        int64_t rows, int64_t cols, int64_t groups, uint32_t* c, int64_t ldc);

// dst[i] = (r0[i] | r1[i] << 8 | r2[i] << 16 | r3[i] << 24) ^ flip for i < count: four rows of
// bytes interleaved into the words the dot4 kernels read (byte b of word i from row b).
using Interleave4Fn = void (*)(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, const uint8_t* r3,
                               int64_t count, uint32_t flip, uint32_t* dst);

struct GemmTable {
  const char* name;
  Dot4Fn dot4_s8u8;  // p signed bytes, q unsigned bytes
  Dot4Fn dot4_u8s8;  // p unsigned bytes, q signed bytes
  Interleave4Fn interleave4;
};

const GemmTable* gemm_table_baseline();
#if defined(__GNUC__)
const GemmTable* gemm_table_avx2() __attribute__((weak));
const GemmTable* gemm_table_avx512bw() __attribute__((weak));
const GemmTable* gemm_table_avx512vnni() __attribute__((weak));
#else
const GemmTable* gemm_table_avx2();
const GemmTable* gemm_table_avx512bw();
const GemmTable* gemm_table_avx512vnni();
#endif

// The variant matching active_isa() (dispatch.h): one choice for both kernel families.
const GemmTable& active_gemm_kernels();

}  // namespace fxsim
