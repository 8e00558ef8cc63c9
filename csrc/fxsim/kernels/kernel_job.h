// The plain-data seam between the validated kernel entry points (requantize.cc, quantize.cc:
// baseline code) and the per-ISA loops (array_kernels.inc, compiled as array_kernels_baseline.cc,
// array_kernels_avx2.cc, array_kernels_avx512bw.cc). Only POD types in namespace fxsim: no code,
// no std:: templates, so every ISA variant can include it without ODR risk.
#pragma once

#include <cstdint>

namespace fxsim {

// Output storage types of requantize / quantize.
enum class OutType : int { kInt8 = 0, kUInt8 = 1, kInt16 = 2, kUInt16 = 3, kInt32 = 4 };

// Per-channel (or, with KernelJob::per_element, per-element) constants prepared once per call.
// Which fields a method reads is stated at each method in array_kernels.inc; unused ones are
// null. The result r of the method is clamped to [lo, hi] = [qmin - zp, qmax - zp] and zp is
// added: clamp(r + zp, qmin, qmax) without any overflow.
struct ChannelArrays {
  const int32_t* multiplier = nullptr;  // double_round, single_round, int64_reduced: M
  const int32_t* shift = nullptr;       // the method's shift (TFLite convention: left, negative = right)
  const int64_t* lo = nullptr;          // qmin - zp  (integer methods)
  const int64_t* hi = nullptr;          // qmax - zp
  const int32_t* lo32 = nullptr;        // lo, hi as int32 where the plan found both fit (double_round_int32)
  const int32_t* hi32 = nullptr;
  const int32_t* zero_point = nullptr;  // integer added after rounding (0 when zp is added in float)
  const void* fscale = nullptr;         // fp32 / quantize: scale (quantize reciprocal: 1/scale), type F
  const void* fadd = nullptr;           // fp32: zp in F when added in float, else 0
  const void* flo = nullptr;            // fp32 / quantize: lower clamp in F
  const void* fhi = nullptr;            // fp32 / quantize: upper clamp in F
};

// One array-kernel call: the input is [outer, channels, inner]; channel c of outer block o
// covers elements (o * channels + c) * inner + [0, inner) with the constants at index c.
// With per_element (only when inner == 1), a row of `channels` elements reads the constants
// at index j for element j (same thing, laid out for vector loads).
struct KernelJob {
  const void* in = nullptr;
  int64_t outer = 0, channels = 0, inner = 0;
  bool per_element = false;
  ChannelArrays p;
  bool check_input = false;  // integer inputs outside [in_lo, in_hi], or non-finite floats, stop the call
  int64_t in_lo = INT64_MIN, in_hi = INT64_MAX;
  uint64_t seed = 0;  // STOCHASTIC
  OutType out_type = OutType::kInt32;
  void* out = nullptr;
  int in_bytes = 4;          // size of one input element (4: int32/float, 8: int64/double)
  int64_t index_base = 0;    // flat index, in the whole call, of this job's first element: the
                             // STOCHASTIC draw and the index a failed check returns both use it,
                             // so a call split across threads gives the same bits and errors
};

// A loop over a job. Returns -1, or the flat index (index_base included) of the first input
// that failed the check (outputs from that block on are unspecified: the caller raises).
using KernelFn = int64_t (*)(const KernelJob&);

// TFLite's integer add / sub and mul of one row (elementwise.h TfliteAddParams / TfliteMulParams
// as plain data; mul reads the offsets, out_multiplier, out_shift and the output stage only).
struct TfliteRowParams {
  int32_t a_offset, b_offset;  // minus the input zero points
  int32_t left_shift;          // add / sub: 0..30
  int32_t a_multiplier, a_shift, b_multiplier, b_shift;  // add / sub: shifts in [-31, 0]
  int32_t out_multiplier, out_shift;                     // add / sub [-31, 0]; mul [-31, 31]
  int32_t out_zero_point, qmin, qmax;
};
// out[j] = the op's code of a[j * sa], b[j * sb] (strides 0 or 1), j < n: operand codes of the
// table entry's input type, out of its output type (KernelTable's [In][Out] index).
using TfliteRowFn = void (*)(const void* a, int64_t sa, const void* b, int64_t sb, int64_t n,
                             const TfliteRowParams& p, void* out);

// out[i] = table[in[i] ^ flip] for i < count: a lookup in a 256-byte table (flip 0x80 indexes an
// int8 code's byte from the type's minimum).
using LookupBytesFn = void (*)(const uint8_t* table, int64_t count, const uint8_t* in, uint8_t flip, uint8_t* out);

// The loops of one ISA variant. Index [acc] is 0 for int32_t, 1 for int64_t accumulators;
// [fdouble] 0 for float, 1 for double; [mode] a RoundingMode code.
struct KernelTable {
  const char* name;
  KernelFn double_round[2];
  // double_round on int32 accumulators when every clamp bound fits int32 (ChannelArrays lo32 /
  // hi32): explicit SIMD (multiplier_simd.h) writing the output type directly in the AVX2 and
  // AVX-512BW variants, the scalar loop of double_round[0] in the baseline; [OutType].
  KernelFn double_round_int32[5];
  KernelFn single_round_int32;  // int32 accumulators with every right shift <= 62
  KernelFn int64_reduced[2];
  KernelFn power_of_two[2][9];
  KernelFn fp32[2][2][8];         // [acc][fdouble][mode], modes 0..7 (STOCHASTIC is generic)
  KernelFn quantize[2][2][8];     // [fdouble][reciprocal][mode], modes 0..7
  // HALF_EVEN with every clamp bound within kRoundHalfEvenBound (rounding.h): one fused pass
  // (check, method, narrowing) writing the output type directly; [..][OutType].
  KernelFn fp32_half_even_bounded[2][2][5];      // [acc][fdouble][out]
  KernelFn quantize_half_even_bounded[2][2][5];  // [fdouble][reciprocal][out]
  // TFLite's add, sub and mul rows (elementwise.cc): explicit SIMD (multiplier_simd.h's double
  // round lanes) in the AVX2 and AVX-512BW variants, the scalar definition in the baseline.
  // [In][Out]: int8, uint8, int16 each, indexed by their OutType values (0, 1, 2).
  TfliteRowFn tflite_add_row[3][3], tflite_sub_row[3][3], tflite_mul_row[3][3];
  // 8-bit lookup tables (lut.cc, nonlinear.cc): vpshufb over the table's 16-byte rows in the AVX2
  // and AVX-512BW variants, the scalar loop in the baseline.
  LookupBytesFn lookup_bytes;
};

}  // namespace fxsim
