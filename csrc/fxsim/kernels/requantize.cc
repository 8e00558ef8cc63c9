// requantize_<method> entry points: validate once, prepare per-channel constants, run the
// active ISA loop (array_kernels.inc) or, for the cases it does not cover, the scalar generic
// loop below (single rounding of int64 accumulators in int128, float STOCHASTIC rounding,
// float clamp bounds that the float type cannot represent exactly). Contract: requantize.h.
#include "fxsim/kernels/requantize.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "fxsim/fixedpoint/multiplier.h"
#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/kernels/common.h"
#include "fxsim/kernels/dispatch.h"

FXSIM_NAMESPACE_BEGIN
namespace {

using Method = RequantizeMethod;

const char* kernel_name(Method m) {
  switch (m) {
    case Method::kDoubleRound: return "requantize_double_round";
    case Method::kSingleRound: return "requantize_single_round";
    case Method::kInt64Reduced: return "requantize_int64_reduced";
    case Method::kPowerOfTwo: return "requantize_power_of_two";
    case Method::kFp32: return "requantize_fp32";
  }
  return "requantize";
}

int64_t acc_at(const void* acc, bool acc64, int64_t i) {
  return acc64 ? static_cast<const int64_t*>(acc)[i] : static_cast<const int32_t*>(acc)[i];
}

// code is already within [qmin, qmax], which fits the output type.
void store_code(OutType out_type, void* out, int64_t i, int64_t code) {
  switch (out_type) {
    case OutType::kInt8: static_cast<int8_t*>(out)[i] = static_cast<int8_t>(code); return;
    case OutType::kUInt8: static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(code); return;
    case OutType::kInt16: static_cast<int16_t*>(out)[i] = static_cast<int16_t>(code); return;
    case OutType::kUInt16: static_cast<uint16_t*>(out)[i] = static_cast<uint16_t>(code); return;
    case OutType::kInt32: static_cast<int32_t*>(out)[i] = static_cast<int32_t>(code); return;
  }
}

template <typename T>
std::vector<T> expand_per_element(const std::vector<T>& per_channel, int64_t inner) {
  if (per_channel.empty() || inner == 1) return per_channel;
  std::vector<T> out(per_channel.size() * static_cast<size_t>(inner));
  for (size_t c = 0; c < per_channel.size(); ++c) {
    for (int64_t j = 0; j < inner; ++j) out[c * static_cast<size_t>(inner) + static_cast<size_t>(j)] = per_channel[c];
  }
  return out;
}

// Float constants of requantize_fp32 in precision F (scale, add, lo, hi per channel); *exact is
// false when a clamp bound is not exactly representable in F.
template <typename F>
void fp32_constants(const RequantizeArgs& a, const std::vector<int32_t>& zp, std::vector<F>* scale,
                    std::vector<F>* add, std::vector<F>* lo, std::vector<F>* hi, bool* exact) {
  const RequantizeParams& p = a.params;
  *exact = true;
  const size_t n = static_cast<size_t>(a.channels);
  for (auto* v : {scale, add, lo, hi}) v->resize(n);
  // restrict pointers: the stores could alias the inputs and each other for all the compiler knows
  F* __restrict scale_out = scale->data();
  F* __restrict add_out = add->data();
  F* __restrict lo_out = lo->data();
  F* __restrict hi_out = hi->data();
  for (size_t c = 0; c < n; ++c) scale_out[c] = static_cast<F>(a.scale[c]);
  F add_c = 0, lo_c = 0, hi_c = 0;  // in registers: copied from the arrays, a chain through memory
  for (size_t c = 0; c < n; ++c) {
    // the bounds of the channel before when its zero point is the same (per tensor: computed once)
    if (c == 0 || zp[c] != zp[c - 1]) {
      if (p.zero_point_in_float) {
        add_c = static_cast<F>(zp[c]);
        lo_c = float_bound_below<F>(p.qmin);
        hi_c = float_bound_above<F>(p.qmax);
        *exact = *exact && exact_int32_in<F>(p.qmin) && exact_int32_in<F>(p.qmax);
      } else {
        const int64_t l = static_cast<int64_t>(p.qmin) - zp[c];
        const int64_t h = static_cast<int64_t>(p.qmax) - zp[c];
        add_c = F(0);
        lo_c = float_bound_below<F>(l);
        hi_c = float_bound_above<F>(h);
        *exact = *exact && exact_int32_in<F>(l) && exact_int32_in<F>(h);
      }
    }
    add_out[c] = add_c, lo_out[c] = lo_c, hi_out[c] = hi_c;
  }
}

// Every clamp bound within kRoundHalfEvenBound (rounding.h): HALF_EVEN may take the fused loop.
template <typename F>
bool within_half_even_bound(const std::vector<F>& lo, const std::vector<F>& hi) {
  int outside = 0;  // an int reduction: vectorized
  for (size_t c = 0; c < lo.size(); ++c) {
    outside |= !(lo[c] >= -kRoundHalfEvenBound<F>) | !(hi[c] <= kRoundHalfEvenBound<F>);
  }
  return outside == 0;
}

// One fp32 element by the scalar definition (any mode, any bounds).
template <typename F>
int64_t fp32_code(const RequantizeParams& p, bool acc64, F scale, F add, F lo, F hi, int32_t zp_int, int64_t x,
                  uint64_t i) {
  const F xf = acc64 ? static_cast<F>(x) : static_cast<F>(static_cast<int32_t>(x));
  F v = xf * scale + add;  // two IEEE operations (-ffp-contract=off: no FMA)
  v = v > lo ? v : lo;
  v = v < hi ? v : hi;
  const F r = round_to_integral(v, p.rounding, stochastic_bits(p.seed, i));
  const int64_t code = static_cast<int64_t>(r) + zp_int;  // |r| < 2^35: the conversion is exact
  return code < p.qmin ? p.qmin : (code > p.qmax ? p.qmax : code);
}

template <typename T>
const T* at_or_null(const std::vector<T>& v, int64_t i) {
  return v.empty() ? nullptr : v.data() + i;
}


}  // namespace
FXSIM_NAMESPACE_END

namespace fxsim {

RequantizePlan::RequantizePlan(const RequantizeArgs& a, bool acc64, OutType out_type, const char* kernel)
    : kernel_(kernel != nullptr ? kernel : kernel_name(a.method)),
      method_(a.method),
      params_(a.params),
      channels_(a.channels),
      acc64_(acc64),
      out_type_(out_type) {
  const char* k = kernel_;
  const RequantizeParams& p = params_;
  const int64_t C = channels_;
  if (C < 1) throw_invalid(k, "the per-channel arrays are empty");
  check_zero_point_count(k, a.zero_point_count, C);
  check_output_range(k, p.qmin, p.qmax, out_type);
  const IntRange acc_range = accumulator_range(k, p.acc_bits);
  range_lo_ = acc_range.lo, range_hi_ = acc_range.hi;
  if (a.zero_point == nullptr) throw_invalid(k, "zero_point is null");
  const int code = static_cast<int>(a.method);
  if (code < 0 || code > 4) throw_invalid(k, "unknown requantization method code " + std::to_string(code));

  IntRange domain = acc_range;  // accumulators the method accepts
  if (a.method == Method::kDoubleRound) {
    domain = IntRange{domain.lo > INT32_MIN ? domain.lo : INT32_MIN, domain.hi < INT32_MAX ? domain.hi : INT32_MAX};
  } else if (a.method == Method::kInt64Reduced) {
    const int64_t lim = int64_t(1) << 47;
    domain = IntRange{domain.lo > -lim ? domain.lo : -lim, domain.hi < lim - 1 ? domain.hi : lim - 1};
  }
  domain_lo_ = domain.lo, domain_hi_ = domain.hi;

  lo_.resize(static_cast<size_t>(C));
  hi_.resize(static_cast<size_t>(C));
  if (a.zero_point_count == 1) {
    zp_.assign(static_cast<size_t>(C), a.zero_point[0]);
  } else {
    zp_.assign(a.zero_point, a.zero_point + C);
  }
  {
    // (through restrict pointers: stores into the members' vectors could alias zp_ for all the
    // compiler knows, which kept this loop scalar)
    const int32_t* __restrict zp = zp_.data();
    int64_t* __restrict lo = lo_.data();
    int64_t* __restrict hi = hi_.data();
    for (int64_t c = 0; c < C; ++c) {
      lo[c] = static_cast<int64_t>(p.qmin) - zp[c];
      hi[c] = static_cast<int64_t>(p.qmax) - zp[c];
    }
  }
  zp_int_ = zp_;
  auto check_shifts = [&](int32_t smin, int32_t smax) {
    if (a.shift == nullptr) throw_invalid(k, "shift is null");
    for (int64_t c = 0; c < C; ++c) {
      if (a.shift[c] < smin || a.shift[c] > smax) {
        throw_invalid(k, "shift[" + std::to_string(c) + "] = " + std::to_string(a.shift[c]) + " is outside [" +
                             std::to_string(smin) + ", " + std::to_string(smax) + "]");
      }
    }
    shift_.assign(a.shift, a.shift + C);
  };
  auto take_multipliers = [&](bool non_negative) {
    if (a.multiplier == nullptr) throw_invalid(k, "multiplier is null");
    for (int64_t c = 0; c < C; ++c) {
      if (non_negative && a.multiplier[c] < 0) {
        throw_invalid(k, "multiplier[" + std::to_string(c) + "] = " + std::to_string(a.multiplier[c]) +
                             " must be >= 0");
      }
    }
    multiplier_.assign(a.multiplier, a.multiplier + C);
  };

  switch (a.method) {
    case Method::kDoubleRound: {
      take_multipliers(false);
      check_shifts(-31, 31);
      // int32 accumulators with every clamp bound within int32: the SIMD loop and the fused
      // kernels' in-register form (int32_clamp_bounds)
      bool fits = !acc64;
      for (int64_t c = 0; c < C; ++c) fits = fits && lo_[c] >= INT32_MIN && hi_[c] <= INT32_MAX;
      if (fits) {
        lo32_.assign(lo_.begin(), lo_.end());
        hi32_.assign(hi_.begin(), hi_.end());
      }
      break;
    }
    case Method::kSingleRound:
      take_multipliers(false);
      check_shifts(-63, 30);
      fast_ = !acc64;
      for (int64_t c = 0; c < C; ++c) fast_ = fast_ && shift_[c] >= -31;  // right shift <= 62: int64 suffices
      break;
    case Method::kInt64Reduced:
      take_multipliers(true);
      check_shifts(-31, 7);
      break;
    case Method::kPowerOfTwo:
      checked_rounding_mode(k, p.rounding);
      check_shifts(-63, 63);
      break;
    case Method::kFp32: {
      checked_rounding_mode(k, p.rounding);
      if (a.scale == nullptr) throw_invalid(k, "scale is null");
      // scale_ok on each: 0 < scale < inf (NaN fails both), an int reduction GCC vectorizes (a
      // bool one it does not); the message only for a bad scale
      int bad_scale = 0;
      for (int64_t c = 0; c < C; ++c) bad_scale |= !(a.scale[c] > 0.0f) | !(a.scale[c] < HUGE_VALF);
      if (bad_scale != 0) {
        for (int64_t c = 0; c < C; ++c) check_scale_at(k, "scale", c, a.scale[c]);
      }
      fdouble_ = p.product_in_float64;
      bool exact = false;
      if (fdouble_) {
        fp32_constants<double>(a, zp_, &f64_scale_, &f64_add_, &f64_lo_, &f64_hi_, &exact);
      } else {
        fp32_constants<float>(a, zp_, &f32_scale_, &f32_add_, &f32_lo_, &f32_hi_, &exact);
      }
      if (p.zero_point_in_float) zp_int_.assign(static_cast<size_t>(C), 0);
      fast_ = exact && p.rounding != RoundingMode::STOCHASTIC;
      // HALF_EVEN with bounds within kRoundHalfEvenBound: the fused loop
      fp32_bounded_ = p.rounding == RoundingMode::HALF_EVEN && (fdouble_ ? within_half_even_bound(f64_lo_, f64_hi_)
                                                                         : within_half_even_bound(f32_lo_, f32_hi_));
      break;
    }
  }
  if (!fast_) return;
  const KernelTable& table = active_kernels();
  const int acc = acc64 ? 1 : 0;
  switch (a.method) {
    case Method::kDoubleRound:
      fn_ = lo32_.empty() ? table.double_round[acc] : table.double_round_int32[static_cast<int>(out_type)];
      break;
    case Method::kSingleRound: fn_ = table.single_round_int32; break;
    case Method::kInt64Reduced: fn_ = table.int64_reduced[acc]; break;
    case Method::kPowerOfTwo: fn_ = table.power_of_two[acc][static_cast<int>(p.rounding)]; break;
    case Method::kFp32:
      fn_ = fp32_bounded_ ? table.fp32_half_even_bounded[acc][fdouble_ ? 1 : 0][static_cast<int>(out_type)]
                         : table.fp32[acc][fdouble_ ? 1 : 0][static_cast<int>(p.rounding)];
      break;
  }
}

bool RequantizePlan::register_loop(RegisterLoop* out) const {
  if (!fast_ || acc64_) return false;
  if (method_ == Method::kFp32 && !fdouble_ && fp32_bounded_) {
    *out = RegisterLoop{RegisterForm::kFp32HalfEven, f32_scale_.data(), f32_add_.data(), f32_lo_.data(),
                        f32_hi_.data(), nullptr, nullptr, nullptr, nullptr, zp_int_.data()};
    return true;
  }
  if (method_ == Method::kDoubleRound && !lo32_.empty()) {
    *out = RegisterLoop{RegisterForm::kDoubleRound, nullptr, nullptr, nullptr, nullptr, multiplier_.data(),
                        shift_.data(), lo32_.data(), hi32_.data(), zp_int_.data()};
    return true;
  }
  return false;
}

int RequantizePlan::out_bytes() const { return out_type_bytes(out_type_); }

void RequantizePlan::throw_bad(int64_t i, int64_t v) const {
  const std::string at = "acc[" + std::to_string(i) + "] = " + std::to_string(v);
  if (v < range_lo_ || v > range_hi_) {
    throw_range(kernel_, at + " is outside the " + std::to_string(params_.acc_bits) + "-bit accumulator range");
  }
  if (method_ == Method::kDoubleRound) {
    throw_range(kernel_, at + " is outside int32 (double rounding is an int32 operation)");
  }
  if (method_ == Method::kInt64Reduced) {
    throw_range(kernel_, at + " is outside [-2^47, 2^47) (TFLite int64 reduced-multiplier precondition)");
  }
  throw_range(kernel_, at + " is outside the accepted range");
}

int64_t RequantizePlan::generic_code(int64_t x, int64_t c, uint64_t i) const {
  if (method_ == Method::kSingleRound) {
    const __int128 r = multiply_by_quantized_multiplier_single_round_exact(x, multiplier_[c], shift_[c]);
    const __int128 clamped = r < lo_[c] ? lo_[c] : (r > hi_[c] ? hi_[c] : r);
    return static_cast<int64_t>(clamped) + zp_[c];
  }
  if (method_ == Method::kFp32 && fdouble_) {
    return fp32_code<double>(params_, acc64_, f64_scale_[c], f64_add_[c], f64_lo_[c], f64_hi_[c], zp_int_[c], x, i);
  }
  if (method_ == Method::kFp32) {
    return fp32_code<float>(params_, acc64_, f32_scale_[c], f32_add_[c], f32_lo_[c], f32_hi_[c], zp_int_[c], x, i);
  }
  throw_invalid(kernel_, "internal error: no generic path for this method");
}

KernelJob RequantizePlan::base_job() const {
  KernelJob job;
  job.check_input = acc64_ && (domain_lo_ > INT64_MIN || domain_hi_ < INT64_MAX);
  job.in_lo = domain_lo_;
  job.in_hi = domain_hi_;
  job.seed = params_.seed;
  job.out_type = out_type_;
  job.in_bytes = acc64_ ? 8 : 4;
  return job;
}

int64_t RequantizePlan::run_job(int64_t c0, bool per_element, const void* acc, int64_t count, int64_t index_base,
                                void* out) const {
  if (count <= 0) return -1;
  if (!fast_) {
    for (int64_t j = 0; j < count; ++j) {
      const int64_t x = acc_at(acc, acc64_, j);
      if (x < domain_lo_ || x > domain_hi_) return index_base + j;
      const int64_t c = per_element ? c0 + j : c0;
      store_code(out_type_, out, j, generic_code(x, c, static_cast<uint64_t>(index_base + j)));
    }
    return -1;
  }
  KernelJob job = base_job();
  job.in = acc;
  job.out = out;
  job.outer = 1;
  job.channels = per_element ? count : 1;
  job.inner = per_element ? 1 : count;
  job.per_element = per_element;
  job.index_base = index_base;
  job.p.multiplier = at_or_null(multiplier_, c0);
  job.p.shift = at_or_null(shift_, c0);
  job.p.lo = at_or_null(lo_, c0);
  job.p.hi = at_or_null(hi_, c0);
  job.p.lo32 = at_or_null(lo32_, c0);
  job.p.hi32 = at_or_null(hi32_, c0);
  job.p.zero_point = at_or_null(zp_int_, c0);
  if (fdouble_) {
    job.p.fscale = at_or_null(f64_scale_, c0), job.p.fadd = at_or_null(f64_add_, c0);
    job.p.flo = at_or_null(f64_lo_, c0), job.p.fhi = at_or_null(f64_hi_, c0);
  } else {
    job.p.fscale = at_or_null(f32_scale_, c0), job.p.fadd = at_or_null(f32_add_, c0);
    job.p.flo = at_or_null(f32_lo_, c0), job.p.fhi = at_or_null(f32_hi_, c0);
  }
  return fn_(job);
}

int64_t RequantizePlan::run_channel(int64_t c, const void* acc, int64_t count, int64_t index_base, void* out) const {
  return run_job(channels_ == 1 ? 0 : c, false, acc, count, index_base, out);
}

int64_t RequantizePlan::run_row(int64_t c0, const void* acc, int64_t count, int64_t index_base, void* out) const {
  if (channels_ == 1) return run_job(0, false, acc, count, index_base, out);
  return run_job(c0, true, acc, count, index_base, out);
}

void RequantizePlan::run_array(const void* acc, int64_t count, int64_t inner, void* out) const {
  const ChannelLayout layout = channel_layout(kernel_, count, channels_, inner);
  const int64_t C = channels_;
  if (!fast_) {
    // the scalar definition, element by element
    for_each_element(layout, [&](int64_t i, int64_t c) {
      const int64_t x = acc_at(acc, acc64_, i);
      if (x < domain_lo_ || x > domain_hi_) throw_bad(i, x);
      store_code(out_type_, out, i, generic_code(x, c, static_cast<uint64_t>(i)));
    });
    return;
  }
  // Per-channel constants repeated per element when the channel runs are short, so the loop
  // reads them with vector loads (KernelJob::per_element).
  const bool per_element = C > 1 && layout.inner <= kPerElementMaxInner;
  const int64_t rep = per_element ? layout.inner : 1;
  const std::vector<int32_t> multiplier = expand_per_element(multiplier_, rep), shift = expand_per_element(shift_, rep),
                             zp_int = expand_per_element(zp_int_, rep);
  const std::vector<int64_t> lo = expand_per_element(lo_, rep), hi = expand_per_element(hi_, rep);
  const std::vector<int32_t> lo32 = expand_per_element(lo32_, rep), hi32 = expand_per_element(hi32_, rep);
  const std::vector<float> f32_scale = expand_per_element(f32_scale_, rep), f32_add = expand_per_element(f32_add_, rep),
                           f32_lo = expand_per_element(f32_lo_, rep), f32_hi = expand_per_element(f32_hi_, rep);
  const std::vector<double> f64_scale = expand_per_element(f64_scale_, rep),
                            f64_add = expand_per_element(f64_add_, rep), f64_lo = expand_per_element(f64_lo_, rep),
                            f64_hi = expand_per_element(f64_hi_, rep);
  KernelJob job = base_job();
  job.in = acc;
  job.out = out;
  job.outer = layout.outer;
  job.channels = per_element ? C * layout.inner : C;
  job.inner = per_element ? 1 : layout.inner;
  job.per_element = per_element;
  job.p.multiplier = at_or_null(multiplier, 0);
  job.p.shift = at_or_null(shift, 0);
  job.p.lo = lo.data();
  job.p.hi = hi.data();
  job.p.lo32 = at_or_null(lo32, 0);
  job.p.hi32 = at_or_null(hi32, 0);
  job.p.zero_point = zp_int.data();
  if (fdouble_) {
    job.p.fscale = at_or_null(f64_scale, 0), job.p.fadd = at_or_null(f64_add, 0);
    job.p.flo = at_or_null(f64_lo, 0), job.p.fhi = at_or_null(f64_hi, 0);
  } else {
    job.p.fscale = at_or_null(f32_scale, 0), job.p.fadd = at_or_null(f32_add, 0);
    job.p.flo = at_or_null(f32_lo, 0), job.p.fhi = at_or_null(f32_hi, 0);
  }
  const int64_t bad = run_kernel(fn_, job);
  if (bad >= 0) throw_bad(bad, acc_at(acc, acc64_, bad));
}

}  // namespace fxsim

FXSIM_NAMESPACE_BEGIN
namespace {

template <typename Acc, typename Out>
void requantize_impl(Method method, const RequantizeParams& params, int64_t channels, const int32_t* multiplier,
                     const int32_t* shift, const float* scale, int64_t zero_point_count, const int32_t* zero_point,
                     int64_t count, const Acc* acc, Out* out) {
  RequantizeArgs a;
  a.method = method;
  a.params = params;
  a.channels = channels;
  a.multiplier = multiplier;
  a.shift = shift;
  a.scale = scale;
  a.zero_point_count = zero_point_count;
  a.zero_point = zero_point;
  if (channels < 1) throw_invalid(kernel_name(method), "the per-channel arrays are empty");
  const RequantizePlan plan(a, sizeof(Acc) == 8, out_type_of<Out>(), kernel_name(method));
  plan.run_array(acc, count, params.inner, out);
}

}  // namespace

template <typename Acc, typename Out>
void requantize_double_round(const RequantizeParams& params, int64_t channels, const int32_t* multiplier,
                             const int32_t* shift, int64_t zero_point_count, const int32_t* zero_point,
                             int64_t count, const Acc* acc, Out* out) {
  requantize_impl(Method::kDoubleRound, params, channels, multiplier, shift, nullptr, zero_point_count,
                  zero_point, count, acc, out);
}

template <typename Acc, typename Out>
void requantize_single_round(const RequantizeParams& params, int64_t channels, const int32_t* multiplier,
                             const int32_t* shift, int64_t zero_point_count, const int32_t* zero_point,
                             int64_t count, const Acc* acc, Out* out) {
  requantize_impl(Method::kSingleRound, params, channels, multiplier, shift, nullptr, zero_point_count,
                  zero_point, count, acc, out);
}

template <typename Acc, typename Out>
void requantize_int64_reduced(const RequantizeParams& params, int64_t channels, const int32_t* multiplier,
                              const int32_t* shift, int64_t zero_point_count, const int32_t* zero_point,
                              int64_t count, const Acc* acc, Out* out) {
  requantize_impl(Method::kInt64Reduced, params, channels, multiplier, shift, nullptr, zero_point_count,
                  zero_point, count, acc, out);
}

template <typename Acc, typename Out>
void requantize_power_of_two(const RequantizeParams& params, int64_t channels, const int32_t* shift,
                             int64_t zero_point_count, const int32_t* zero_point, int64_t count, const Acc* acc,
                             Out* out) {
  requantize_impl(Method::kPowerOfTwo, params, channels, nullptr, shift, nullptr, zero_point_count,
                  zero_point, count, acc, out);
}

template <typename Acc, typename Out>
void requantize_fp32(const RequantizeParams& params, int64_t channels, const float* scale,
                     int64_t zero_point_count, const int32_t* zero_point, int64_t count, const Acc* acc, Out* out) {
  requantize_impl(Method::kFp32, params, channels, nullptr, nullptr, scale, zero_point_count,
                  zero_point, count, acc, out);
}

// The instantiated combinations: Acc in {int32, int64} x Out in {int8, uint8, int16, uint16, int32}.
#define FXSIM_REQUANTIZE_INSTANTIATE(Acc, Out)                                                                   \
  template void requantize_double_round<Acc, Out>(const RequantizeParams&, int64_t, const int32_t*,             \
                                                  const int32_t*, int64_t, const int32_t*, int64_t, const Acc*, \
                                                  Out*);                                                        \
  template void requantize_single_round<Acc, Out>(const RequantizeParams&, int64_t, const int32_t*,             \
                                                  const int32_t*, int64_t, const int32_t*, int64_t, const Acc*, \
                                                  Out*);                                                        \
  template void requantize_int64_reduced<Acc, Out>(const RequantizeParams&, int64_t, const int32_t*,            \
                                                   const int32_t*, int64_t, const int32_t*, int64_t,            \
                                                   const Acc*, Out*);                                           \
  template void requantize_power_of_two<Acc, Out>(const RequantizeParams&, int64_t, const int32_t*, int64_t,    \
                                                  const int32_t*, int64_t, const Acc*, Out*);                   \
  template void requantize_fp32<Acc, Out>(const RequantizeParams&, int64_t, const float*, int64_t,              \
                                          const int32_t*, int64_t, const Acc*, Out*);

#define FXSIM_REQUANTIZE_INSTANTIATE_ACC(Acc) \
  FXSIM_REQUANTIZE_INSTANTIATE(Acc, int8_t)   \
  FXSIM_REQUANTIZE_INSTANTIATE(Acc, uint8_t)  \
  FXSIM_REQUANTIZE_INSTANTIATE(Acc, int16_t)  \
  FXSIM_REQUANTIZE_INSTANTIATE(Acc, uint16_t) \
  FXSIM_REQUANTIZE_INSTANTIATE(Acc, int32_t)

FXSIM_REQUANTIZE_INSTANTIATE_ACC(int32_t)
FXSIM_REQUANTIZE_INSTANTIATE_ACC(int64_t)

FXSIM_NAMESPACE_END
