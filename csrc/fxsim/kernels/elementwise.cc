// Elementwise add / sub / mul entry points: validate once, then run the family's per-element
// function over the broadcast iteration space, split by output rows (parallel_tasks).
// Contract and sources: elementwise.h.
#include "fxsim/kernels/elementwise.h"

// Without no-trapping-math gcc will not if-convert, hence not vectorize, the float rounding and
// clamping in the loops (as in array_kernels.inc); the results are unchanged: IEEE operations,
// no contraction, no reassociation.
#pragma GCC optimize("no-trapping-math")

#include <cstdint>
#include <string>

#include "fxsim/fixedpoint/multiplier.h"
#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/fixedpoint/saturate.h"
#include "fxsim/kernels/broadcast.h"
#include "fxsim/kernels/common.h"
#include "fxsim/kernels/dispatch.h"

FXSIM_NAMESPACE_BEGIN
namespace {

// ---- tflite ------------------------------------------------------------------------------

// The active ISA's row functions of one op (KernelTable::tflite_add_row ...: the scalar
// definitions and their SIMD lanes, array_kernels.inc), each reading its operands' codes and
// writing the output type.
struct TfliteRowOp {
  static constexpr bool kRow = true;  // broadcast.h: whole rows, not element by element
  const TfliteRowFn (*fns)[3];        // [In][Out], each indexed by its OutType (kInt8, kUInt8, kInt16)
  TfliteRowParams p;
  template <typename In, typename Out>
  void row(const In* a, int64_t sa, const In* b, int64_t sb, int64_t n, Out* out) const {
    fns[static_cast<int>(out_type_of<In>())][static_cast<int>(out_type_of<Out>())](a, sa, b, sb, n, p, out);
  }
};

void check_tflite_shift(const char* k, const char* name, int shift, int lo, int hi) {
  if (shift < lo || shift > hi) {
    throw_invalid(k, std::string(name) + " = " + std::to_string(shift) + " is outside [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
  }
}

// ---- ort ---------------------------------------------------------------------------------

// x86 cvtps2dq in the default MXCSR mode: round half to even; NaN or a value outside int32
// gives 0x80000000 (INT32_MIN).
inline int32_t cvtps_epi32(float v) { return x86_round_to_int32<RoundingMode::HALF_EVEN>(v); }

struct OrtConstants {
  float r_ac, r_bc, fixed, ratio, lo, hi;
};

OrtConstants ort_constants(const OrtParams& p) {
  OrtConstants c{};
  c.r_ac = p.a_scale / p.out_scale;
  c.r_bc = p.b_scale / p.out_scale;
  const float za_term = c.r_ac * static_cast<float>(p.a_zero_point);
  const float zb_term = c.r_bc * static_cast<float>(p.b_zero_point);
  c.fixed = static_cast<float>(p.out_zero_point) - (za_term + zb_term);
  const float ab = p.a_scale * p.b_scale;
  c.ratio = ab / p.out_scale;
  c.lo = static_cast<float>(static_cast<int64_t>(p.qmin) - p.out_zero_point);
  c.hi = static_cast<float>(static_cast<int64_t>(p.qmax) - p.out_zero_point);
  return c;
}

// kCase: 0 both operands vary along the row, 1 a is constant along it (MLAS "IsScalarA"),
// 2 b is constant along it (IsScalarB).
template <int kCase>
struct OrtAdd8Op {
  OrtParams p;
  OrtConstants c;
  int32_t operator()(int32_t x, int32_t y) const {
    const float fx = static_cast<float>(x), fy = static_cast<float>(y);
    float v;
    if constexpr (kCase == 1) {
      const float fixed = c.fixed + fx * c.r_ac;
      v = fma_float(fy, c.r_bc, fixed);
    } else if constexpr (kCase == 2) {
      const float fixed = c.fixed + fy * c.r_bc;
      v = fma_float(fx, c.r_ac, fixed);
    } else {
      v = fma_float(fx, c.r_ac, fma_float(fy, c.r_bc, c.fixed));
    }
    return clamp_to(cvtps_epi32(v), p.qmin, p.qmax);
  }
};

struct OrtAddRawOp {
  OrtParams p;
  OrtConstants c;
  int32_t operator()(int32_t x, int32_t y) const {
    const float va = p.a_scale * static_cast<float>(x - p.a_zero_point);
    const float vb = p.b_scale * static_cast<float>(y - p.b_zero_point);
    const float sum = va + vb;
    float v = sum / p.out_scale;
    v = v > c.lo ? v : c.lo;  // NaN cannot occur: finite scales, bounded codes
    v = v < c.hi ? v : c.hi;  // within [qmin - zC, qmax - zC]: the conversion is in range
    return x86_round_to_int32<RoundingMode::HALF_EVEN>(v) + p.out_zero_point;
  }
};

struct OrtMul8Op {
  OrtParams p;
  OrtConstants c;
  int32_t operator()(int32_t x, int32_t y) const {
    const int32_t prod = (x - p.a_zero_point) * (y - p.b_zero_point);  // |.| <= 255 * 255
    // _mm_mul_ps then _mm_add_ps of the zero point, then _mm_cvtps_epi32: zC is added in float
    // before the rounding (qlmul.cpp MlasQLinearMulVectorS16), two roundings, no fma.
    const float v = static_cast<float>(prod) * c.ratio + static_cast<float>(p.out_zero_point);
    return clamp_to(cvtps_epi32(v), p.qmin, p.qmax);
  }
};

// ---- align_pot ---------------------------------------------------------------------------

template <bool kSubtract>
struct AlignPotOp {
  int shift_a, shift_b, out_shift;  // left shifts of the alignment; out_shift: + left, - right
  int32_t qmin, qmax;
  int32_t operator()(int32_t x, int32_t y) const {
    const int64_t xa = int64_t(x) * (int64_t(1) << shift_a);  // |x| <= 2^15, shift <= 46: |.| <= 2^61
    const int64_t yb = int64_t(y) * (int64_t(1) << shift_b);
    const int64_t s = kSubtract ? xa - yb : xa + yb;  // |s| <= 2^62
    if (out_shift < -62) return clamp_to(0, qmin, qmax);  // |s| / 2^63 < 1/2 rounds to 0
    if (out_shift >= 0) {
      const __int128 r = static_cast<__int128>(s) * (static_cast<__int128>(1) << out_shift);
      return static_cast<int32_t>(r < qmin ? qmin : (r > qmax ? qmax : r));
    }
    const int64_t r = rounding_shift_right_mode<RoundingMode::HALF_UP>(s, -out_shift, 0);
    return clamp_to(r, qmin, qmax);
  }
};

// ---- checks ------------------------------------------------------------------------------

void check_codes(const char* k, int32_t qmin, int32_t qmax, OutType out_type) {
  if (out_type != OutType::kInt8 && out_type != OutType::kUInt8 && out_type != OutType::kInt16) {
    throw_invalid(k, std::string("out must be int8, uint8 or int16, got ") + out_type_name(out_type));
  }
  check_output_range(k, qmin, qmax, out_type);
}

}  // namespace

template <typename In>
void elementwise_add_tflite(const TfliteAddParams& params, const BroadcastShape& shape, const In* a, const In* b,
                            OutType out_type, void* out) {
  const char* k = params.subtract ? "elementwise_sub_tflite" : "elementwise_add_tflite";
  check_codes(k, params.qmin, params.qmax, out_type);
  check_code_value<In>(k, "a_zero_point", -static_cast<int64_t>(params.a_offset));
  check_code_value<In>(k, "b_zero_point", -static_cast<int64_t>(params.b_offset));
  if (params.left_shift < 0 || params.left_shift > 30) {
    throw_invalid(k, "left_shift = " + std::to_string(params.left_shift) + " is outside [0, 30]");
  }
  check_tflite_shift(k, "a_shift", params.a_shift, -31, 0);
  check_tflite_shift(k, "b_shift", params.b_shift, -31, 0);
  check_tflite_shift(k, "out_shift", params.out_shift, -31, 0);
  const TfliteRowParams row{params.a_offset,     params.b_offset,     params.left_shift, params.a_multiplier,
                            params.a_shift,      params.b_multiplier, params.b_shift,    params.out_multiplier,
                            params.out_shift,    params.out_zero_point, params.qmin,     params.qmax};
  const KernelTable& table = active_kernels();
  run_broadcast<In>(k, shape, a, b, out_type, out,
                    TfliteRowOp{params.subtract ? table.tflite_sub_row : table.tflite_add_row, row});
}

template <typename In>
void elementwise_mul_tflite(const TfliteMulParams& params, const BroadcastShape& shape, const In* a, const In* b,
                            OutType out_type, void* out) {
  const char* k = "elementwise_mul_tflite";
  check_codes(k, params.qmin, params.qmax, out_type);
  check_code_value<In>(k, "a_zero_point", -static_cast<int64_t>(params.a_offset));
  check_code_value<In>(k, "b_zero_point", -static_cast<int64_t>(params.b_offset));
  check_tflite_shift(k, "out_shift", params.out_shift, -31, 31);
  const TfliteRowParams row{params.a_offset, params.b_offset, 0, 0, 0, 0, 0, params.out_multiplier,
                            params.out_shift, params.out_zero_point, params.qmin, params.qmax};
  run_broadcast<In>(k, shape, a, b, out_type, out, TfliteRowOp{active_kernels().tflite_mul_row, row});
}

template <typename In>
void elementwise_ort(const OrtParams& params, const BroadcastShape& shape, const In* a, const In* b, OutType out_type,
                     void* out) {
  const char* k = "elementwise_ort";
  check_codes(k, params.qmin, params.qmax, out_type);
  check_scale(k, "a_scale", params.a_scale);
  check_scale(k, "b_scale", params.b_scale);
  check_scale(k, "out_scale", params.out_scale);
  check_code_value<In>(k, "a_zero_point", params.a_zero_point);
  check_code_value<In>(k, "b_zero_point", params.b_zero_point);
  int64_t olo = 0, ohi = 0;
  out_type_range(out_type, &olo, &ohi);
  if (params.out_zero_point < olo || params.out_zero_point > ohi) {
    throw_invalid(k, "out_zero_point = " + std::to_string(params.out_zero_point) + " is outside the output type");
  }
  const OrtConstants c = ort_constants(params);
  switch (params.expression) {
    case OrtExpression::kAdd8: {
      if (sizeof(In) != 1) throw_invalid(k, "the add8 expression takes 8-bit inputs (int16 uses add_raw)");
      // MLAS sees the rows as spans: a span where one input is constant goes to the IsScalarB kernel
      // with that input as B (qlinear_binary_op.cc swaps a constant input0 into B), and a span of
      // one element (a single-element output) takes MLAS's LengthA == 1 branch with B = a.
      const int scalar_case = shape.shape[shape.ndim - 1] == 1 ? 2 : broadcast_row_case(shape);
      if (scalar_case == 1) {
        run_broadcast<In>(k, shape, a, b, out_type, out, OrtAdd8Op<1>{params, c});
      } else if (scalar_case == 2) {
        run_broadcast<In>(k, shape, a, b, out_type, out, OrtAdd8Op<2>{params, c});
      } else {
        run_broadcast<In>(k, shape, a, b, out_type, out, OrtAdd8Op<0>{params, c});
      }
      return;
    }
    case OrtExpression::kAddRaw:
      run_broadcast<In>(k, shape, a, b, out_type, out, OrtAddRawOp{params, c});
      return;
    case OrtExpression::kMul8:
      if (sizeof(In) != 1) throw_invalid(k, "the mul8 expression takes 8-bit inputs");
      run_broadcast<In>(k, shape, a, b, out_type, out, OrtMul8Op{params, c});
      return;
  }
  throw_invalid(k, "unknown expression code " + std::to_string(static_cast<int>(params.expression)));
}

template <typename In>
void elementwise_add_align_pot(const AlignPotParams& params, const BroadcastShape& shape, const In* a, const In* b,
                               OutType out_type, void* out) {
  const char* k = params.subtract ? "elementwise_sub_align_pot" : "elementwise_add_align_pot";
  check_codes(k, params.qmin, params.qmax, out_type);
  const int fps[3] = {params.a_fix_point, params.b_fix_point, params.out_fix_point};
  const char* names[3] = {"a_fix_point", "b_fix_point", "out_fix_point"};
  for (int i = 0; i < 3; ++i) {
    if (fps[i] < -32 || fps[i] > 32) {
      throw_invalid(k, std::string(names[i]) + " = " + std::to_string(fps[i]) + " is outside [-32, 32]");
    }
  }
  const int m = params.a_fix_point > params.b_fix_point ? params.a_fix_point : params.b_fix_point;
  // Codes are at most 16-bit: alignment shifts up to 46 keep every sum within int64.
  const int shift_a = m - params.a_fix_point, shift_b = m - params.b_fix_point;
  if (shift_a > 46 || shift_b > 46) throw_invalid(k, "the input fix points differ by more than 46");
  const int out_shift = params.out_fix_point - m;  // [-64, 64]
  if (out_shift > 62) throw_invalid(k, "out_fix_point exceeds the input positions by more than 62");
  if (params.subtract) {
    run_broadcast<In>(k, shape, a, b, out_type, out,
                      AlignPotOp<true>{shift_a, shift_b, out_shift, params.qmin, params.qmax});
  } else {
    run_broadcast<In>(k, shape, a, b, out_type, out,
                      AlignPotOp<false>{shift_a, shift_b, out_shift, params.qmin, params.qmax});
  }
}

#define FXSIM_ELEMENTWISE_INSTANTIATE(In)                                                                       \
  template void elementwise_add_tflite<In>(const TfliteAddParams&, const BroadcastShape&, const In*, const In*, \
                                           OutType, void*);                                                     \
  template void elementwise_mul_tflite<In>(const TfliteMulParams&, const BroadcastShape&, const In*, const In*, \
                                           OutType, void*);                                                     \
  template void elementwise_ort<In>(const OrtParams&, const BroadcastShape&, const In*, const In*, OutType,     \
                                    void*);                                                                     \
  template void elementwise_add_align_pot<In>(const AlignPotParams&, const BroadcastShape&, const In*,          \
                                              const In*, OutType, void*);
FXSIM_ELEMENTWISE_INSTANTIATE(int8_t)
FXSIM_ELEMENTWISE_INSTANTIATE(uint8_t)
FXSIM_ELEMENTWISE_INSTANTIATE(int16_t)
#undef FXSIM_ELEMENTWISE_INSTANTIATE

FXSIM_NAMESPACE_END
