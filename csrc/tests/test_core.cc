// The core's own tests (no pybind11). Built with sanitizers by csrc/tests/build_and_run.sh.
//
// Three kinds of checks: documented vectors (each names its source: research notes 13.1 T1/T2/T6/T7
// from TFLite quantization_util_test.cc, TOSA type_conversion.adoc and Vitis AI pool-fix.cpp,
// 13.2 D1/D2/D4/D5/D8/D9/D10 derived from the cited formulas), edge tables (ties, extremes, widths 2 and 64, shifts 0 and
// 63), and the array kernels against a scalar loop of the primitives, every ISA variant
// available on this CPU bit-equal to the baseline on a few million random inputs.
// Ends with "N passed, 0 failed"; exits non-zero on any failure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__unix__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "fxsim/fixedpoint/division.h"
#include "fxsim/fixedpoint/fixedpoint_math.h"
#include "fxsim/fixedpoint/intn.h"
#include "fxsim/fixedpoint/multiplier.h"
#include "fxsim/fixedpoint/rounding.h"
#include "fxsim/fixedpoint/saturate.h"
#include "fxsim/kernels/conv2d.h"
#include "fxsim/kernels/dispatch.h"
#include "fxsim/kernels/gemm_kernels.h"
#include "fxsim/kernels/matmul.h"
#include "fxsim/kernels/nonlinear.h"
#include "fxsim/kernels/quantize.h"
#include "fxsim/kernels/requantize.h"
#include "fxsim/kernels/transpose.h"

using namespace fxsim;

namespace {

// Calls f() once per available ISA and kernel thread count 1..3 (the kernels' identity
// promise: every ISA variant and thread count gives the same bits), then restores both.
template <typename F>
void for_each_isa_and_thread_count(const F& f) {
  const std::string saved = active_isa();
  const int saved_threads = kernel_threads();
  for (const std::string& isa : available_isas()) {
    set_isa(isa);
    for (int threads = 1; threads <= 3; ++threads) {
      set_kernel_threads(threads);
      f();
    }
  }
  set_isa(saved);
  set_kernel_threads(saved_threads);
}

int g_passed = 0;
int g_failed = 0;

void report(bool ok, const char* file, int line, const std::string& what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("FAIL %s:%d: %s\n", file, line, what.c_str());
  }
}

std::string str(__int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}
template <typename T>
std::string str(T v) {
  if constexpr (std::is_floating_point<T>::value) {
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", static_cast<double>(v));
    return b;
  } else {
    return str(static_cast<__int128>(v));
  }
}

#define CHECK(cond) report((cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ(a, b)                                                                        \
  do {                                                                                        \
    const auto va_ = (a);                                                                     \
    const auto vb_ = (b);                                                                     \
    report(va_ == vb_, __FILE__, __LINE__, std::string(#a " == " #b ": ") + str(va_) + " vs " + str(vb_)); \
  } while (0)
#define CHECK_THROWS(expr, Type)                                                     \
  do {                                                                               \
    bool threw_ = false;                                                             \
    try {                                                                            \
      (void)(expr);                                                                  \
    } catch (const Type&) {                                                          \
      threw_ = true;                                                                 \
    } catch (...) {                                                                  \
    }                                                                                \
    report(threw_, __FILE__, __LINE__, std::string(#expr " throws " #Type));         \
  } while (0)
// Throws Type with a message containing `needle`.
#define CHECK_THROWS_MSG(expr, Type, needle)                                                    \
  do {                                                                                          \
    std::string msg_ = "<no throw>";                                                            \
    bool threw_ = false;                                                                        \
    try {                                                                                       \
      (void)(expr);                                                                             \
    } catch (const Type& e) {                                                                   \
      threw_ = true;                                                                            \
      msg_ = e.what();                                                                          \
    } catch (const std::exception& e) {                                                         \
      msg_ = std::string("wrong type: ") + e.what();                                            \
    }                                                                                           \
    report(threw_ && msg_.find(needle) != std::string::npos, __FILE__, __LINE__,                \
           std::string(#expr " throws " #Type " containing '") + (needle) + "', got: " + msg_); \
  } while (0)

constexpr RoundingMode kAllModes[] = {RoundingMode::HALF_EVEN, RoundingMode::HALF_AWAY, RoundingMode::HALF_UP,
                                      RoundingMode::HALF_DOWN, RoundingMode::HALF_TOWARD_ZERO, RoundingMode::FLOOR,
                                      RoundingMode::CEIL,      RoundingMode::TRUNC};

// TFLite QuantizeMultiplier (quantization_util.cc, default build): frexp in double,
// q_fixed = round(q * 2^31) half away, renormalise at 2^31, flush below 2^-31 to (0, 0).
void quantize_multiplier(double real, int32_t* m, int* shift) {
  if (real == 0.0) {
    *m = 0, *shift = 0;
    return;
  }
  int e = 0;
  const double q = std::frexp(real, &e);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t(1) << 31)));
  if (q_fixed == (int64_t(1) << 31)) q_fixed /= 2, ++e;
  if (e < -31) e = 0, q_fixed = 0;
  *m = static_cast<int32_t>(q_fixed);
  *shift = e;
}

// ---------------------------------------------------------------------------------------------
void test_constants() {
  // fxsim/constants.py codes.
  CHECK_EQ(static_cast<int>(RoundingMode::HALF_EVEN), 0);
  CHECK_EQ(static_cast<int>(RoundingMode::HALF_TOWARD_ZERO), 4);
  CHECK_EQ(static_cast<int>(RoundingMode::STOCHASTIC), 8);
  CHECK(std::string(kRoundingModeNames[5]) == "FLOOR");
  CHECK_THROWS(rounding_mode_from_code(9), std::invalid_argument);
  CHECK_THROWS(rounding_mode_from_code(-1), std::invalid_argument);
  // splitmix64 (Steele et al.; Vigna's splitmix64.c): the first output from state 0 is
  // mix(0 + GOLDEN_GAMMA) = 0xE220A8397B1DCDAF, i.e. stochastic_bits(seed 0, index 0).
  CHECK_EQ(stochastic_bits(0, 0), 0xE220A8397B1DCDAFull);
  CHECK_EQ(stochastic_bits(0, 1), splitmix64_mix(2 * kSplitmix64GoldenGamma));
}

// D10: plain ties x = +-0.5, +-1.5, +-2.5 (and +-0.25, +-0.75), every mode, as integer shifts
// (x * 2^n >> n for n = 1, 3, 40, 63-ish) and as float rounding.
void test_tie_table() {
  const double values[] = {0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.25, -0.25, 0.75, -0.75};
  // Rows: HALF_EVEN, HALF_AWAY, HALF_UP, HALF_DOWN, HALF_TOWARD_ZERO, FLOOR, CEIL, TRUNC.
  const int64_t expect[8][10] = {
      {0, 0, 2, -2, 2, -2, 0, 0, 1, -1},    // HALF_EVEN (RHE column of D10)
      {1, -1, 2, -2, 3, -3, 0, 0, 1, -1},   // HALF_AWAY (RHA column)
      {1, 0, 2, -1, 3, -2, 0, 0, 1, -1},    // HALF_UP (RHU column)
      {0, -1, 1, -2, 2, -3, 0, 0, 1, -1},   // HALF_DOWN
      {0, 0, 1, -1, 2, -2, 0, 0, 1, -1},    // HALF_TOWARD_ZERO
      {0, -1, 1, -2, 2, -3, 0, -1, 0, -1},  // FLOOR
      {1, 0, 2, -1, 3, -2, 1, 0, 1, 0},     // CEIL
      {0, 0, 1, -1, 2, -2, 0, 0, 0, 0},     // TRUNC
  };
  for (int m = 0; m < 8; ++m) {
    for (int k = 0; k < 10; ++k) {
      for (int n : {2, 3, 20, 40, 61}) {
        const int64_t x = static_cast<int64_t>(values[k] * 4.0) * (int64_t(1) << (n - 2));  // values[k] * 2^n
        CHECK_EQ(rounding_shift_right(x, n, kAllModes[m]), expect[m][k]);
        CHECK_EQ(rounding_shift_right(static_cast<__int128>(x) * (static_cast<__int128>(1) << 60), n + 60, kAllModes[m]),
                 expect[m][k]);
      }
      CHECK_EQ(round_to_integral(static_cast<float>(values[k]), kAllModes[m]), static_cast<float>(expect[m][k]));
      CHECK_EQ(round_to_integral(values[k], kAllModes[m]), static_cast<double>(expect[m][k]));
      const RoundingMode md = kAllModes[m];
      const bool sign_free = md != RoundingMode::HALF_AWAY && md != RoundingMode::HALF_TOWARD_ZERO &&
                             md != RoundingMode::TRUNC;  // shifting by an even integer keeps the answer
      if (sign_free) CHECK_EQ(round_to_integral(values[k] + 1e6, md), static_cast<double>(expect[m][k] + 1000000));
    }
  }
}

void test_rounding_edges() {
  for (RoundingMode m : kAllModes) {
    CHECK_EQ(rounding_shift_right(INT64_MIN, 63, m), -1);  // exactly -1
    CHECK_EQ(rounding_shift_right(INT64_MIN, 0, m), INT64_MIN);
    CHECK_EQ(rounding_shift_right(INT64_MAX, 0, m), INT64_MAX);
    CHECK_EQ(rounding_shift_right(INT64_MIN, 62, m), -2);
    CHECK_EQ(rounding_shift_right(int64_t(0), 63, m), 0);
    // 2^126 / 2^126 and -2^126 / 2^126
    CHECK_EQ(rounding_shift_right(static_cast<__int128>(1) << 126, 126, m), 1);
    CHECK_EQ(rounding_shift_right(-(static_cast<__int128>(1) << 126), 126, m), -1);
    // float extremes are integers already
    CHECK_EQ(round_to_integral(3.0e38f, m), 3.0e38f);
    CHECK_EQ(round_to_integral(-8388607.5f, m), m == RoundingMode::HALF_EVEN || m == RoundingMode::HALF_DOWN ||
                                                        m == RoundingMode::HALF_AWAY || m == RoundingMode::FLOOR
                                                    ? -8388608.0f
                                                    : -8388607.0f);
    CHECK_EQ(round_to_integral(-1e-45f, m), (m == RoundingMode::FLOOR) ? -1.0f : -0.0f);
  }
  // INT64_MAX / 2^63 = 1 - 2^-63
  CHECK_EQ(rounding_shift_right(INT64_MAX, 63, RoundingMode::HALF_EVEN), 1);
  CHECK_EQ(rounding_shift_right(INT64_MAX, 63, RoundingMode::FLOOR), 0);
  CHECK_EQ(rounding_shift_right(INT64_MAX, 63, RoundingMode::CEIL), 1);
  CHECK_EQ(rounding_shift_right(INT64_MAX, 63, RoundingMode::TRUNC), 0);
  CHECK_EQ(rounding_shift_right(INT64_MAX, 62, RoundingMode::HALF_UP), 2);
  CHECK_EQ(rounding_shift_right(INT64_MAX, 62, RoundingMode::FLOOR), 1);
  // Out of contract.
  CHECK_THROWS(rounding_shift_right(int64_t(1), 64, RoundingMode::FLOOR), std::invalid_argument);
  CHECK_THROWS(rounding_shift_right(int64_t(1), -1, RoundingMode::FLOOR), std::invalid_argument);
  CHECK_THROWS(rounding_shift_right(static_cast<__int128>(1), 127, RoundingMode::FLOOR), std::invalid_argument);
  CHECK_THROWS(rounding_shift_right(int64_t(1), 1, static_cast<RoundingMode>(9)), std::invalid_argument);
  CHECK_THROWS(round_to_integral(NAN, RoundingMode::HALF_EVEN), std::out_of_range);
  CHECK_THROWS(round_to_integral(-INFINITY, RoundingMode::FLOOR), std::out_of_range);
  CHECK_THROWS(round_to_integral(static_cast<double>(INFINITY), RoundingMode::CEIL), std::out_of_range);
}

// round_half_even_bounded (the add-and-subtract rounding of the fused HALF_EVEN loops) equals
// round_to_integral_mode<HALF_EVEN> on its whole domain's ties, their neighbours and the bound.
template <typename T>
void check_round_half_even_bounded_at(T v) {
  CHECK_EQ(round_half_even_bounded(v), round_to_integral_mode<RoundingMode::HALF_EVEN>(v, 0));
  CHECK_EQ(round_half_even_bounded(-v), round_to_integral_mode<RoundingMode::HALF_EVEN>(-v, 0));
}

template <typename T>
void test_round_half_even_bounded_type() {
  const T bound = kRoundHalfEvenBound<T>;
  for (T base : {T(0), T(1), T(2), T(3), T(126), T(127), T(32767), T(65535), bound / 2 - 1, bound - 2, bound - 1}) {
    for (T frac : {T(0), T(0.25), T(0.5), T(0.75)}) {
      const T v = base + frac;
      check_round_half_even_bounded_at(v);
      check_round_half_even_bounded_at(std::nextafter(v, T(0)));
      check_round_half_even_bounded_at(std::nextafter(v, bound));
    }
  }
  check_round_half_even_bounded_at(bound);
  check_round_half_even_bounded_at(std::nextafter(bound, T(0)));
  check_round_half_even_bounded_at(std::numeric_limits<T>::denorm_min());
  check_round_half_even_bounded_at(T(0.5) - std::numeric_limits<T>::epsilon() / 4);
  uint64_t state = 12345;
  for (int k = 0; k < 20000; ++k) {  // log-uniform magnitudes below the bound
    state = splitmix64_mix(state + kSplitmix64GoldenGamma);
    const int e = static_cast<int>(state % (sizeof(T) == 4 ? 24 : 53)) - 2;
    const T v = std::ldexp(static_cast<T>(state >> 40) / T(1 << 24), e);
    if (std::fabs(v) <= bound) check_round_half_even_bounded_at(v);
  }
}

void test_round_half_even_bounded() {
  test_round_half_even_bounded_type<float>();
  test_round_half_even_bounded_type<double>();
}

void test_stochastic() {
  // Integer: x = 1, n = 2 (0.25) rounds up with probability 1/4; the decision is exactly
  // (bits >> 62) < 1, i.e. the top two bits are zero.
  int up = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    const uint64_t bits = stochastic_bits(12345, i);
    const int64_t r = rounding_shift_right(int64_t(1), 2, RoundingMode::STOCHASTIC, bits);
    CHECK_EQ(r, (bits >> 62) < 1 ? 1 : 0);
    up += static_cast<int>(r);
  }
  CHECK(up > 24000 && up < 26000);
  // n = 0: never rounds; exact integers never round.
  CHECK_EQ(rounding_shift_right(int64_t(7), 0, RoundingMode::STOCHASTIC, ~0ull), 7);
  CHECK_EQ(rounding_shift_right(int64_t(8), 3, RoundingMode::STOCHASTIC, 0), 1);
  // n > 64 on int128: up iff bits * 2^(n-64) < rem.
  CHECK_EQ(rounding_shift_right(static_cast<__int128>(3), 65, RoundingMode::STOCHASTIC, 1), 1);  // 2 < 3
  CHECK_EQ(rounding_shift_right(static_cast<__int128>(3), 65, RoundingMode::STOCHASTIC, 2), 0);  // 4 >= 3
  // Float: 0.25 up with probability 1/4; decided exactly against (bits >> 11) * 2^-53.
  up = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    const uint64_t bits = stochastic_bits(99, i);
    const double r = round_to_integral(-1.75, RoundingMode::STOCHASTIC, bits);  // frac 0.25
    CHECK_EQ(r, (bits >> 11) < (uint64_t(1) << 51) ? -1.0 : -2.0);
    up += r == -1.0;
  }
  CHECK(up > 24000 && up < 26000);
  // Exactness where a double subtraction would round: v = -0.25 + 2^-55, frac = 0.75 + 2^-55
  // (not a double); a draw of exactly 0.75 must round up.
  const double v = -0.25 + std::ldexp(1.0, -55);
  const uint64_t bits_075 = (uint64_t(3) << 51) << 11;  // (bits >> 11) * 2^-53 == 0.75
  CHECK_EQ(round_to_integral(v, RoundingMode::STOCHASTIC, bits_075), 0.0);
  CHECK_EQ(round_to_integral(-0.25, RoundingMode::STOCHASTIC, bits_075), -1.0);  // 0.75 < 0.75 is false
  // Tiny negative float32: frac = 1 - 2^-149 > any draw < 1.
  CHECK_EQ(round_to_integral(-1e-45f, RoundingMode::STOCHASTIC, ~0ull), -0.0f);
}

void test_saturate_wrap() {
  CHECK_EQ(saturate_to_bits(5, 2, true), 1);
  CHECK_EQ(saturate_to_bits(-5, 2, true), -2);
  CHECK_EQ(saturate_to_bits(5, 2, false), 3);
  CHECK_EQ(saturate_to_bits(-1, 2, false), 0);
  CHECK_EQ(saturate_to_bits(INT64_MIN, 64, true), INT64_MIN);
  CHECK_EQ(saturate_to_bits(INT64_MAX, 64, true), INT64_MAX);
  CHECK_EQ(saturate_to_bits(INT64_MIN, 64, false), 0);
  CHECK_EQ(saturate_to_bits(INT64_MAX, 64, false), INT64_MAX);
  CHECK_EQ(saturate_to_bits(INT64_MAX, 63, false), INT64_MAX);
  CHECK_EQ(saturate_to_bits(INT64_MIN, 63, true), -(int64_t(1) << 62));
  CHECK_EQ(saturate_to_bits(200, 8, true), 127);
  CHECK_EQ(saturate_to_bits(-200, 8, false), 0);
  CHECK_EQ(wrap_to_bits(5, 2, true), 1);
  CHECK_EQ(wrap_to_bits(2, 2, true), -2);
  CHECK_EQ(wrap_to_bits(-1, 2, false), 3);
  CHECK_EQ(wrap_to_bits(-3, 2, true), 1);
  CHECK_EQ(wrap_to_bits(200, 8, true), -56);
  CHECK_EQ(wrap_to_bits(-56, 8, false), 200);
  CHECK_EQ(wrap_to_bits(INT64_MIN, 64, true), INT64_MIN);
  CHECK_EQ(wrap_to_bits(INT64_MAX, 64, false), INT64_MAX);
  CHECK_EQ(wrap_to_bits(INT64_MAX, 63, true), -1);
  CHECK_EQ(wrap_to_bits(INT64_MIN, 63, false), 0);
  CHECK_EQ(wrap_to_bits(int64_t(1) << 32, 32, true), 0);
  CHECK_THROWS(wrap_to_bits(-1, 64, false), std::out_of_range);
  CHECK_THROWS(wrap_to_bits(0, 1, true), std::invalid_argument);
  CHECK_THROWS(saturate_to_bits(0, 65, true), std::invalid_argument);
  CHECK_EQ(saturate_int128_to_int64(static_cast<__int128>(INT64_MAX) + 1), INT64_MAX);
  CHECK_EQ(saturate_int128_to_int64(static_cast<__int128>(INT64_MIN) - 1), INT64_MIN);
  CHECK_EQ(wrap_int64_to_int32(int64_t(1) << 31), INT32_MIN);
  // Random: wrap equals reduction mod 2^bits; saturate equals clamp.
  std::mt19937_64 rng(7);
  for (int k = 0; k < 20000; ++k) {
    const int64_t x = static_cast<int64_t>(rng());
    const int bits = 2 + static_cast<int>(rng() % 62);  // 2..63
    const __int128 mod = static_cast<__int128>(1) << bits;
    __int128 w = static_cast<__int128>(x) % mod;
    if (w < 0) w += mod;
    CHECK_EQ(wrap_to_bits(x, bits, false), static_cast<int64_t>(w));
    if (w >= mod / 2) w -= mod;
    CHECK_EQ(wrap_to_bits(x, bits, true), static_cast<int64_t>(w));
  }
}

// gemmlowp's own SRDHM and RDBPOT forms (fixedpoint.h), written as the research notes quote them,
// to check the floor-form primitives against.
int32_t gemmlowp_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t(1) << 31));  // C division truncates
}

void test_gemmlowp() {
  CHECK_EQ(saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
  CHECK_EQ(saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MAX), -INT32_MAX);
  CHECK_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);          // -0.5 -> 0 (ties up)
  CHECK_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);         // -1.5 -> -1
  CHECK_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);           // 0.5 -> 1
  CHECK_EQ(saturating_rounding_doubling_high_mul(5, 1 << 30), 3);           // 2.5 -> 3
  CHECK_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3 (ties away)
  CHECK_EQ(rounding_divide_by_pot(5, 1), 3);
  CHECK_EQ(rounding_divide_by_pot(-3, 1), -2);
  CHECK_EQ(rounding_divide_by_pot(-1, 1), -1);
  CHECK_EQ(rounding_divide_by_pot(1, 1), 1);
  CHECK_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5 -> -2
  CHECK_EQ(rounding_divide_by_pot(INT32_MIN, 31), -1);
  CHECK_EQ(rounding_divide_by_pot(INT32_MAX, 31), 1);
  CHECK_EQ(rounding_divide_by_pot(INT32_MIN, 0), INT32_MIN);
  CHECK_THROWS(rounding_divide_by_pot(1, 32), std::invalid_argument);
  CHECK_THROWS(rounding_divide_by_pot(1, -1), std::invalid_argument);
  std::mt19937 rng(11);
  for (int k = 0; k < 300000; ++k) {
    const int32_t a = static_cast<int32_t>(rng()), b = static_cast<int32_t>(k % 3 == 0 ? (rng() >> (rng() % 31)) : rng());
    CHECK_EQ(saturating_rounding_doubling_high_mul(a, b), gemmlowp_srdhm(a, b));
    const int e = static_cast<int>(rng() % 32);
    // RDBPOT = round half away from zero of a / 2^e (exact rational check).
    const int64_t x = a;
    const int64_t q = rounding_divide_by_pot(a, e);
    const int64_t twice_err = 2 * (x - q * (int64_t(1) << e));  // 2 * (x - q 2^e), |.| <= 2^e
    const bool ok = twice_err < (int64_t(1) << e) && twice_err > -(int64_t(1) << e);
    const bool tie_ok = (twice_err == (int64_t(1) << e) && x < 0) || (twice_err == -(int64_t(1) << e) && x > 0);
    report(ok || tie_ok, __FILE__, __LINE__, "RDBPOT half-away at a=" + str(a) + " e=" + str(e));
  }
}

void test_tflite_multipliers() {
  int32_t m = 0;
  int s = 0;
  // T1 (quantization_util_test.cc): checks the test's QuantizeMultiplier transcription.
  quantize_multiplier(0.25, &m, &s);
  CHECK(m == 1073741824 && s == -1);
  quantize_multiplier(0.75, &m, &s);
  CHECK(m == 1610612736 && s == 0);
  quantize_multiplier(1 - 1e-9, &m, &s);
  CHECK(m == 2147483646 && s == 0);
  quantize_multiplier(2 - 1e-9, &m, &s);
  CHECK(m == 2147483647 && s == 1);
  quantize_multiplier(2 - 1e-11, &m, &s);
  CHECK(m == 1073741824 && s == 2);
  quantize_multiplier(std::ldexp(1.0, -32), &m, &s);
  CHECK(m == 1073741824 && s == -31);
  quantize_multiplier(std::ldexp(1.0, -33), &m, &s);
  CHECK(m == 0 && s == 0);

  // T2 int32 (MultiplyByQuantizedMultiplier, default build).
  struct {
    int32_t x;
    double real;
    int32_t expect;
  } const t2[] = {{10000, 0.00097656, 10},   {-10000, 0.00097656, -10},   {10000, -0.00097656, -10},
                  {INT32_MIN, 0.00001, -21475}, {INT32_MAX, 0.00001, 21475}, {INT32_MIN, -0.00001, 21475}};
  for (const auto& v : t2) {
    quantize_multiplier(v.real, &m, &s);
    CHECK_EQ(multiply_by_quantized_multiplier_double_round(v.x, m, s), v.expect);
  }
  // T2 int64 (reduced-multiplier path).
  quantize_multiplier(0.00001, &m, &s);
  CHECK_EQ(multiply_by_quantized_multiplier_int64_reduced(-(int64_t(1) << 47), m, s), -1407385600);
  CHECK_EQ(multiply_by_quantized_multiplier_int64_reduced((int64_t(1) << 47) - 1, m, s), 1407385600);
  CHECK_EQ(multiply_by_quantized_multiplier_int64_reduced((int64_t(1) << 47) - 1, INT32_MAX, -31), 65534);
  CHECK_EQ(multiply_by_quantized_multiplier_int64_reduced(-((int64_t(1) << 47) - 1), INT32_MAX, -31), -65534);

  // D1 tie table, real 0.25 -> (1073741824, -1): DR column and SR column.
  const int32_t d1_acc[] = {-10, -6, -2, 2, 6, 10};
  const int32_t d1_dr[] = {-3, -2, -1, 1, 2, 3};
  const int32_t d1_sr[] = {-2, -1, 0, 1, 2, 3};
  for (int k = 0; k < 6; ++k) {
    CHECK_EQ(multiply_by_quantized_multiplier_double_round(d1_acc[k], 1073741824, -1), d1_dr[k]);
    CHECK_EQ(multiply_by_quantized_multiplier_single_round(d1_acc[k], 1073741824, -1), d1_sr[k]);
    CHECK_EQ(tosa_apply_scale_32(d1_acc[k], 1073741824, 32, true), d1_dr[k]);   // TOSA DOUBLE_ROUND
    CHECK_EQ(tosa_apply_scale_32(d1_acc[k], 1073741824, 32, false), d1_sr[k]);  // TOSA SINGLE_ROUND
  }
  // D2: double vs single rounding on non-ties.
  CHECK_EQ(multiply_by_quantized_multiplier_double_round(197, 1610612736, -3), 19);
  CHECK_EQ(multiply_by_quantized_multiplier_single_round(197, 1610612736, -3), 18);
  CHECK_EQ(multiply_by_quantized_multiplier_double_round(-197, 1610612736, -3), -19);
  CHECK_EQ(multiply_by_quantized_multiplier_single_round(-197, 1610612736, -3), -18);
  quantize_multiplier(0.0072474273418486118, &m, &s);
  CHECK(m == 1992157658 && s == -7);
  CHECK_EQ(multiply_by_quantized_multiplier_double_round(-96517, m, s), -700);
  CHECK_EQ(multiply_by_quantized_multiplier_single_round(-96517, m, s), -699);
  CHECK_EQ(multiply_by_quantized_multiplier_double_round(96517, m, s), 700);
  CHECK_EQ(multiply_by_quantized_multiplier_single_round(96517, m, s), 699);
  int mismatches = 0;
  for (int32_t x = -100000; x < 100000; ++x) {
    mismatches += multiply_by_quantized_multiplier_double_round(x, m, s) != multiply_by_quantized_multiplier_single_round(x, m, s);
  }
  CHECK_EQ(mismatches, 760);
  // D8: acc 123456789, real 0.0003: reduced 16-bit multiplier 37038, full 32-bit SR 37037.
  quantize_multiplier(0.0003, &m, &s);
  CHECK_EQ(multiply_by_quantized_multiplier_int64_reduced(123456789, m, s), 37038);
  CHECK_EQ(multiply_by_quantized_multiplier_single_round(123456789, m, s), 37037);
  CHECK_EQ(multiply_by_quantized_multiplier_int64_reduced(-123456789, m, s), -37038);
  CHECK_EQ(multiply_by_quantized_multiplier_single_round(-123456789, m, s), -37037);

  // Wrap of x * 2^left in the double-rounding path (TFLite's int32 overflow): 2^30 << 2 -> 0.
  CHECK_EQ(multiply_by_quantized_multiplier_double_round(1 << 30, INT32_MAX, 2), 0);
  CHECK_EQ(multiply_by_quantized_multiplier_double_round(INT32_MIN, INT32_MIN, 0), INT32_MAX);
  // Reduced path: the final int32 cast wraps: (2^47-1) * 0x7FFF / 2^8 ~ 2^54.
  {
    const int64_t x = (int64_t(1) << 47) - 1;
    const int64_t r = (x * 0x7FFF + (int64_t(1) << 7)) >> 8;
    CHECK_EQ(multiply_by_quantized_multiplier_int64_reduced(x, 0x7FFF0000, 7), wrap_int64_to_int32(r));
  }
  // Single rounding at the extremes of its shift range, exactly.
  CHECK_EQ(multiply_by_quantized_multiplier_single_round_exact(INT64_MIN, INT32_MIN, -63), 1);  // 2^94 / 2^94
  CHECK_EQ(multiply_by_quantized_multiplier_single_round_exact(INT64_MAX, INT32_MAX, 30),
           (static_cast<__int128>(INT64_MAX) * INT32_MAX + 1) >> 1);
  // Out of contract.
  CHECK_THROWS(multiply_by_quantized_multiplier_double_round(1, 1 << 30, 32), std::invalid_argument);
  CHECK_THROWS(multiply_by_quantized_multiplier_double_round(1, 1 << 30, -32), std::invalid_argument);
  CHECK_THROWS(multiply_by_quantized_multiplier_single_round(1, 1 << 30, 31), std::invalid_argument);
  CHECK_THROWS(multiply_by_quantized_multiplier_single_round(1, 1 << 30, -64), std::invalid_argument);
  CHECK_THROWS(multiply_by_quantized_multiplier_single_round(INT64_MAX, INT32_MAX, 30), std::out_of_range);
  CHECK_THROWS(multiply_by_quantized_multiplier_int64_reduced(int64_t(1) << 47, 1 << 30, 0), std::out_of_range);
  CHECK_THROWS(multiply_by_quantized_multiplier_int64_reduced(INT64_MIN, 1 << 30, 0), std::out_of_range);
  CHECK_THROWS(multiply_by_quantized_multiplier_int64_reduced(1, -1, 0), std::invalid_argument);
  CHECK_THROWS(multiply_by_quantized_multiplier_int64_reduced(1, 1 << 30, 8), std::invalid_argument);
  CHECK_THROWS(multiply_by_quantized_multiplier_int64_reduced(1, 1 << 30, -32), std::invalid_argument);
}

// TOSA reciprocal_scale (AVG_POOL2D.tosac): k = 32 - clz(count - 1) (clz(0) = 32),
// multiplier = ((2^30 + 1) << k) / count, shift = 30 + k.
void tosa_reciprocal_scale(int count, int32_t* m, int* shift) {
  const uint32_t c1 = static_cast<uint32_t>(count - 1);
  const int k = 32 - (c1 == 0 ? 32 : __builtin_clz(c1));
  *m = static_cast<int32_t>((((int64_t(1) << 30) + 1) << k) / count);
  *shift = 30 + k;
}

void test_tosa() {
  // T6: unity scale (1 << 30, 30) for scale32 and (1 << 14, 14) for scale16.
  for (int32_t v : {0, 1, -1, 127, -128, 123456, -123456}) {
    CHECK_EQ(tosa_apply_scale_32(v, 1 << 30, 30, false), v);
    CHECK_EQ(tosa_apply_scale_32(v, 1 << 30, 30, true), v);
    CHECK_EQ(tosa_apply_scale_16(v, 1 << 14, 14), v);
  }
  // m * 2^-n -> multiplier (1 << 30) * m, shift 30 + n: 1.5 * 2^-2 of 100 = 37.5 -> 38 (half up).
  CHECK_EQ(tosa_apply_scale_32(100, (1 << 30) + (1 << 29), 32, false), 38);
  CHECK_EQ(tosa_apply_scale_32(-100, (1 << 30) + (1 << 29), 32, false), -37);
  // D9: reciprocal_scale and averages.
  struct {
    int count;
    int32_t m;
    int shift;
  } const d9[] = {{1, 1073741825, 30}, {2, 1073741825, 31}, {3, 1431655766, 32}, {4, 1073741825, 32}, {9, 1908874355, 34}};
  for (const auto& v : d9) {
    int32_t m = 0;
    int s = 0;
    tosa_reciprocal_scale(v.count, &m, &s);
    CHECK(m == v.m && s == v.shift);
  }
  int32_t m = 0;
  int s = 0;
  tosa_reciprocal_scale(2, &m, &s);
  CHECK_EQ(tosa_apply_scale_32(-13, m, s, false), -7);
  CHECK_EQ(tosa_apply_scale_32(13, m, s, false), 7);
  tosa_reciprocal_scale(9, &m, &s);
  CHECK_EQ(tosa_apply_scale_32(-5, m, s, false), -1);
  int mismatches = 0;
  for (int n = 1; n <= 49; ++n) {
    tosa_reciprocal_scale(n, &m, &s);
    for (int32_t sum = -128 * n; sum <= 127 * n; ++sum) {
      const int32_t tflite = sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n;  // TFLite pooling.h
      mismatches += tosa_apply_scale_32(sum, m, s, false) != tflite;
    }
  }
  CHECK_EQ(mismatches, 0);
  // DOUBLE_ROUND equals TFLite double rounding: (M, e) -> (M, 31 - e), random.
  std::mt19937 rng(5);
  for (int k = 0; k < 200000; ++k) {
    const int32_t x = static_cast<int32_t>(rng());
    const int32_t mm = static_cast<int32_t>((rng() >> 1) | (1u << 30));
    const int e = -1 - static_cast<int>(rng() % 30);  // -1 .. -30: TOSA shift 32..61 (any int32 value)
    CHECK_EQ(tosa_apply_scale_32(x, mm, 31 - e, true), multiply_by_quantized_multiplier_double_round(x, mm, e));
    CHECK_EQ(tosa_apply_scale_32(x, mm, 31 - e, false),
             static_cast<int32_t>(multiply_by_quantized_multiplier_single_round(x, mm, e)));
  }
  // REQUIRE failures.
  CHECK_THROWS_MSG(tosa_apply_scale_32(1, -1, 30, false), std::out_of_range, "multiplier >= 0");
  CHECK_THROWS_MSG(tosa_apply_scale_32(1, 1, 1, false), std::out_of_range, "2 <= shift");
  CHECK_THROWS_MSG(tosa_apply_scale_32(1, 1, 63, false), std::out_of_range, "2 <= shift");
  CHECK_THROWS_MSG(tosa_apply_scale_32(2, 1, 2, false), std::out_of_range, "value >=");
  CHECK_THROWS_MSG(tosa_apply_scale_32(-3, 1, 2, false), std::out_of_range, "value >=");
  CHECK_EQ(tosa_apply_scale_32(-2, INT32_MAX, 2, false), -INT32_MAX / 2 - 0);  // -2 * (2^31-1) / 4 = -1073741823.5 -> up
  CHECK_THROWS_MSG(tosa_apply_scale_16(int64_t(1) << 47, 1, 62), std::out_of_range, "int48");
  CHECK_THROWS_MSG(tosa_apply_scale_16(1, 40000, 30), std::out_of_range, "int16");
  CHECK_THROWS_MSG(tosa_apply_scale_16(1, -1, 30), std::out_of_range, "multiplier >= 0");
  CHECK_THROWS_MSG(tosa_apply_scale_16(int64_t(1) << 46, 32767, 2), std::out_of_range, "result within int32");
  CHECK_EQ(tosa_apply_scale_16(-(int64_t(1) << 47), 32767, 62), -1);  // -2^47 * 32767 / 2^62 = -0.99997 -> -1
}

void test_int4() {
  uint8_t out[16] = {};
  const uint8_t u[] = {10, 4};
  pack_int4(u, 2, false, out);
  CHECK_EQ(out[0], 0x4A);  // QNN document example
  const int8_t sgn[] = {-6, 4};
  pack_int4(sgn, 2, true, out);
  CHECK_EQ(out[0], 0x4A);
  const int8_t odd[] = {-8, 7, -1};
  pack_int4(odd, 3, true, out);
  CHECK(out[0] == 0x78 && out[1] == 0x0F);
  int8_t back[3] = {};
  unpack_int4(out, 3, true, back);
  CHECK(back[0] == -8 && back[1] == 7 && back[2] == -1);
  // QNN per-channel: 27 values per channel -> 14 bytes each.
  CHECK_EQ(packed_int4_per_channel_bytes(54, 2), 28);
  std::vector<int8_t> v(54);
  for (int i = 0; i < 54; ++i) v[i] = static_cast<int8_t>((i % 16) - 8);
  std::vector<uint8_t> packed(28);
  pack_int4_per_channel(v.data(), 54, 2, true, packed.data());
  CHECK_EQ(packed[13] >> 4, 0);                       // channel 0's padding nibble
  CHECK_EQ(packed[14] & 0xF, static_cast<int>(v[27] & 0xF));  // channel 1 starts on byte 14
  std::vector<int8_t> v2(54);
  unpack_int4_per_channel(packed.data(), 54, 2, true, v2.data());
  CHECK(v == v2);
  std::vector<uint8_t> dense(27);
  pack_int4(v.data(), 54, true, dense.data());
  std::vector<int8_t> v3(54);
  unpack_int4(dense.data(), 54, true, v3.data());
  CHECK(v == v3);
  // Errors.
  const int8_t bad[] = {1, 8};
  CHECK_THROWS_MSG(pack_int4(bad, 2, true, out), std::out_of_range, "index 1");
  const uint8_t bad_u[] = {16};
  CHECK_THROWS_MSG(pack_int4(bad_u, 1, false, out), std::out_of_range, "index 0");
  CHECK_THROWS(pack_int4(sgn, 2, false, out), std::out_of_range);  // -6 is not unsigned
  CHECK_THROWS(pack_int4_per_channel(v.data(), 54, 4, true, packed.data()), std::invalid_argument);
  CHECK_THROWS(pack_int4_per_channel(v.data(), 54, 0, true, packed.data()), std::invalid_argument);
  uint8_t ub[2];
  CHECK_THROWS(unpack_int4(out, 2, true, ub), std::invalid_argument);  // signed needs int8
}

// ---- array kernels ----------------------------------------------------------------------------

struct Layout {
  int64_t channels, inner, outer;
  int64_t count() const { return channels * inner * outer; }
};

template <typename Out>
void out_range(int32_t* lo, int32_t* hi) {
  if (sizeof(Out) == 4) {
    *lo = INT32_MIN, *hi = INT32_MAX;
  } else {
    *lo = static_cast<int32_t>(static_cast<Out>(-1) < 0 ? -(1 << (8 * sizeof(Out) - 1)) : 0);
    *hi = static_cast<int32_t>(static_cast<Out>(-1) < 0 ? (1 << (8 * sizeof(Out) - 1)) - 1 : (1 << (8 * sizeof(Out))) - 1);
  }
}

// Accumulators that hit ties, powers of two and extremes.
template <typename Acc>
std::vector<Acc> random_acc(std::mt19937_64& rng, int64_t n, int64_t lo, int64_t hi) {
  std::vector<Acc> v(static_cast<size_t>(n));
  for (auto& x : v) {
    int64_t r;
    switch (rng() % 6) {
      case 0: r = static_cast<int64_t>(rng() % 2001) - 1000; break;
      case 1: r = static_cast<int64_t>((rng() % 64 + 1) << (rng() % 20)) * ((rng() & 1) ? 1 : -1); break;
      case 2: r = (rng() & 1) ? lo : hi; break;
      case 3: r = static_cast<int64_t>(rng() % (1u << 24)) - (1 << 23); break;
      default: r = static_cast<int64_t>(rng()); break;
    }
    r = r < lo ? lo + static_cast<int64_t>(rng() % 1000) : r;
    r = r > hi ? hi - static_cast<int64_t>(rng() % 1000) : r;
    x = static_cast<Acc>(r);
  }
  return v;
}

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Runs `run` under every ISA variant; checks each against `reference` and against the baseline.
int64_t g_kernel_elements = 0;  // elements run through the kernels, per ISA variant

template <typename Out>
void check_all_isas(const std::string& what, const std::vector<int64_t>& reference,
                    const std::function<void(Out*)>& run) {
  const int64_t n = static_cast<int64_t>(reference.size());
  std::vector<Out> baseline(static_cast<size_t>(n));
  g_kernel_elements += n;
  for (const std::string& isa : available_isas()) {
    set_isa(isa);
    std::vector<Out> out(static_cast<size_t>(n), Out(0x5A));
    run(out.data());
    int64_t first = -1;
    for (int64_t i = 0; i < n && first < 0; ++i) {
      if (static_cast<int64_t>(out[i]) != reference[i]) first = i;
    }
    report(first < 0, __FILE__, __LINE__,
           what + " [" + isa + "] equals the scalar reference" +
               (first < 0 ? "" : ": index " + str(first) + " got " + str(static_cast<int64_t>(out[first])) +
                                     " expected " + str(reference[first])));
    if (isa == "baseline") {
      baseline = out;
    } else {
      report(out == baseline, __FILE__, __LINE__, what + " [" + isa + "] equals baseline bit for bit");
    }
  }
  set_isa(available_isas().back());
}

template <typename Acc, typename Out>
void test_requantize_config(std::mt19937_64& rng, const Layout& L, int acc_bits, int64_t* total) {
  const int64_t n = L.count();
  *total += n;
  int32_t olo = 0, ohi = 0;
  out_range<Out>(&olo, &ohi);
  const int32_t qmin = olo + static_cast<int32_t>(rng() % 3), qmax = ohi - static_cast<int32_t>(rng() % 3);
  const int64_t alo = acc_bits == 64 ? INT64_MIN : -(int64_t(1) << (acc_bits - 1));
  const int64_t ahi = acc_bits == 64 ? INT64_MAX : (int64_t(1) << (acc_bits - 1)) - 1;
  const int64_t C = L.channels;
  std::vector<int32_t> mult(C), mult_dr(C), shift_dr(C), shift_sr(C), shift_red(C), shift_pot(C), zp(C);
  std::vector<float> scale(C);
  for (int64_t c = 0; c < C; ++c) {
    mult[c] = static_cast<int32_t>((1u << 30) | (rng() & 0x3FFFFFFF));
    shift_dr[c] = -static_cast<int32_t>(rng() % 32) + (rng() % 4 == 0 ? 3 : 0);
    // double_round takes any int32 multiplier and shifts in [-31, 31]: the corners too (the SIMD
    // loops' SRDHM saturation, the wrapping left shift, the largest right shift)
    const int32_t corners[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX};
    mult_dr[c] = rng() % 4 == 0 ? corners[rng() % 6] : (rng() % 3 == 0 ? static_cast<int32_t>(rng()) : mult[c]);
    if (rng() % 5 == 0) shift_dr[c] = rng() % 2 == 0 ? -31 : 31;
    shift_sr[c] = -static_cast<int32_t>(rng() % 64) + (rng() % 4 == 0 ? 30 : 0);
    shift_red[c] = -static_cast<int32_t>(rng() % 32) + (rng() % 4 == 0 ? 7 : 0);
    shift_pot[c] = static_cast<int32_t>(rng() % 127) - 63;  // [-63, 63]
    zp[c] = static_cast<int32_t>(qmin + static_cast<int64_t>(rng() % static_cast<uint64_t>(int64_t(qmax) - qmin + 1)));
    scale[c] = std::ldexp(static_cast<float>(rng() % 1000 + 1) / 1000.0f, -static_cast<int>(rng() % 30));
  }
  const std::string tag = std::string("acc") + str(8 * sizeof(Acc)) + "/out" + str(8 * sizeof(Out)) +
                          (static_cast<Out>(-1) < 0 ? "s" : "u") + " C=" + str(C) + " inner=" + str(L.inner) +
                          " bits=" + str(acc_bits);
  RequantizeParams p{qmin, qmax, L.inner, acc_bits, RoundingMode::HALF_EVEN, rng(), false, false};
  auto channel = [&](int64_t i) { return C == 1 ? 0 : (i / L.inner) % C; };

  // double_round (int32 operation: int64 accumulators restricted to int32 here).
  {
    const auto acc = random_acc<Acc>(rng, n, std::max<int64_t>(alo, INT32_MIN), std::min<int64_t>(ahi, INT32_MAX));
    std::vector<int64_t> ref(n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = channel(i);
      ref[i] = clamp64(int64_t(multiply_by_quantized_multiplier_double_round(static_cast<int32_t>(acc[i]), mult_dr[c], shift_dr[c])) + zp[c], qmin, qmax);
    }
    check_all_isas<Out>("double_round " + tag, ref, [&](Out* o) {
      requantize_double_round<Acc, Out>(p, C, mult_dr.data(), shift_dr.data(), C, zp.data(), n, acc.data(), o);
    });
  }
  // single_round.
  {
    const auto acc = random_acc<Acc>(rng, n, alo, ahi);
    std::vector<int64_t> ref(n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = channel(i);
      const __int128 r = multiply_by_quantized_multiplier_single_round_exact(acc[i], mult[c], shift_sr[c]) + zp[c];
      ref[i] = static_cast<int64_t>(r < qmin ? qmin : (r > qmax ? qmax : r));
    }
    check_all_isas<Out>("single_round " + tag, ref, [&](Out* o) {
      requantize_single_round<Acc, Out>(p, C, mult.data(), shift_sr.data(), C, zp.data(), n, acc.data(), o);
    });
  }
  // int64_reduced.
  {
    const auto acc = random_acc<Acc>(rng, n, std::max<int64_t>(alo, -(int64_t(1) << 47)),
                                     std::min<int64_t>(ahi, (int64_t(1) << 47) - 1));
    std::vector<int64_t> ref(n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = channel(i);
      ref[i] = clamp64(int64_t(multiply_by_quantized_multiplier_int64_reduced(acc[i], mult[c], shift_red[c])) + zp[c], qmin, qmax);
    }
    check_all_isas<Out>("int64_reduced " + tag, ref, [&](Out* o) {
      requantize_int64_reduced<Acc, Out>(p, C, mult.data(), shift_red.data(), C, zp.data(), n, acc.data(), o);
    });
  }
  // power_of_two and fp32, every rounding mode.
  const auto acc = random_acc<Acc>(rng, n, alo, ahi);
  for (int mode = 0; mode <= 8; ++mode) {
    RequantizeParams pm = p;
    pm.rounding = static_cast<RoundingMode>(mode);
    std::vector<int64_t> ref(n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = channel(i);
      const int64_t x = acc[i];
      const uint64_t bits = stochastic_bits(pm.seed, static_cast<uint64_t>(i));
      __int128 r;
      if (shift_pot[c] > 0) {
        r = static_cast<__int128>(x) * (static_cast<__int128>(1) << shift_pot[c]);
      } else {
        r = rounding_shift_right(x, -shift_pot[c], pm.rounding, bits);
      }
      r += zp[c];
      ref[i] = static_cast<int64_t>(r < qmin ? qmin : (r > qmax ? qmax : r));
    }
    check_all_isas<Out>("power_of_two mode " + str(mode) + " " + tag, ref, [&](Out* o) {
      requantize_power_of_two<Acc, Out>(pm, C, shift_pot.data(), C, zp.data(), n, acc.data(), o);
    });
    for (int variant = 0; variant < 4; ++variant) {
      pm.product_in_float64 = (variant & 1) != 0;
      pm.zero_point_in_float = (variant & 2) != 0;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t c = channel(i);
        const uint64_t bits = stochastic_bits(pm.seed, static_cast<uint64_t>(i));
        // The definition, independent of the kernel's bound handling: the float value is
        // rounded, then clamped as an integer (rounding is monotone, so this is the exact
        // clamp). A wide clamp at +-2^40 first keeps the integer conversion defined.
        double r;
        if (pm.product_in_float64) {
          double v = static_cast<double>(acc[i]) * static_cast<double>(scale[c]);
          if (pm.zero_point_in_float) v = v + zp[c];
          r = round_to_integral(std::min(std::max(v, -0x1p40), 0x1p40), pm.rounding, bits);
        } else {
          float v = static_cast<float>(acc[i]) * scale[c];
          if (pm.zero_point_in_float) v = v + static_cast<float>(zp[c]);
          r = round_to_integral(std::min(std::max(v, -0x1p40f), 0x1p40f), pm.rounding, bits);
        }
        ref[i] = clamp64(static_cast<int64_t>(r) + (pm.zero_point_in_float ? 0 : zp[c]), qmin, qmax);
      }
      check_all_isas<Out>("fp32 mode " + str(mode) + " variant " + str(variant) + " " + tag, ref, [&](Out* o) {
        requantize_fp32<Acc, Out>(pm, C, scale.data(), C, zp.data(), n, acc.data(), o);
      });
    }
  }
}

template <typename T, typename Out>
void test_quantize_config(std::mt19937_64& rng, const Layout& L, int64_t* total) {
  const int64_t n = L.count();
  *total += n;
  int32_t olo = 0, ohi = 0;
  out_range<Out>(&olo, &ohi);
  const int32_t qmin = olo, qmax = ohi;
  const int64_t C = L.channels;
  std::vector<T> scale(C);
  std::vector<int32_t> zp(C);
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = static_cast<T>(std::ldexp(static_cast<double>(rng() % 1000 + 1) / 997.0, -static_cast<int>(rng() % 12)));
    zp[c] = static_cast<int32_t>(qmin + static_cast<int64_t>(rng() % static_cast<uint64_t>(int64_t(qmax) - qmin + 1)));
  }
  std::vector<T> x(static_cast<size_t>(n));
  std::uniform_real_distribution<double> wide(-1e4, 1e4);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = C == 1 ? 0 : (i / L.inner) % C;
    switch (rng() % 4) {
      case 0: x[i] = static_cast<T>((static_cast<double>(static_cast<int64_t>(rng() % 2001) - 1000) + 0.5) * scale[c]); break;  // ties
      case 1: x[i] = static_cast<T>(wide(rng) * scale[c]); break;
      case 2: x[i] = static_cast<T>(wide(rng) * 1e6); break;
      default: x[i] = static_cast<T>(wide(rng) * 1e-3); break;
    }
  }
  const std::string tag = std::string(sizeof(T) == 4 ? "f32" : "f64") + "/out" + str(8 * sizeof(Out)) +
                          (static_cast<Out>(-1) < 0 ? "s" : "u") + " C=" + str(C) + " inner=" + str(L.inner);
  for (int mode = 0; mode <= 8; ++mode) {
    for (int recip = 0; recip < 2; ++recip) {
      QuantizeParams p{qmin, qmax, L.inner, static_cast<RoundingMode>(mode), 77, recip != 0};
      std::vector<int64_t> ref(n);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t c = C == 1 ? 0 : (i / L.inner) % C;
        T v = recip ? x[i] * (T(1) / scale[c]) : x[i] / scale[c];
        v = std::min<T>(std::max<T>(v, T(-0x1p40)), T(0x1p40));  // exact clamp follows the rounding
        const T r = round_to_integral(v, p.rounding, stochastic_bits(77, static_cast<uint64_t>(i)));
        ref[i] = clamp64(static_cast<int64_t>(r) + zp[c], qmin, qmax);
      }
      check_all_isas<Out>("quantize mode " + str(mode) + " recip " + str(recip) + " " + tag, ref, [&](Out* o) {
        quantize<T, Out>(p, C, scale.data(), C, zp.data(), n, x.data(), o);
      });
    }
  }
}

void test_kernels_random() {
  std::mt19937_64 rng(2024);
  int64_t total = 0;
  const Layout layouts[] = {{1, 1, 30000}, {3, 5, 1601}, {4, 1000, 8}, {7, 1, 1200}, {2, 17, 160}, {5, 3000, 1}};
  for (const Layout& L : layouts) {
    test_requantize_config<int32_t, int8_t>(rng, L, 32, &total);
    test_requantize_config<int32_t, uint8_t>(rng, L, 32, &total);
    test_requantize_config<int64_t, int16_t>(rng, L, 48, &total);
    test_requantize_config<int64_t, uint16_t>(rng, L, 64, &total);
    test_requantize_config<int64_t, int32_t>(rng, L, 64, &total);
    test_requantize_config<int32_t, int32_t>(rng, L, 32, &total);
    test_requantize_config<int32_t, int16_t>(rng, L, 32, &total);
    test_requantize_config<int32_t, uint16_t>(rng, L, 48, &total);
    test_quantize_config<float, int8_t>(rng, L, &total);
    test_quantize_config<float, uint16_t>(rng, L, &total);
    test_quantize_config<double, uint8_t>(rng, L, &total);
    test_quantize_config<double, int32_t>(rng, L, &total);
    test_quantize_config<float, int32_t>(rng, L, &total);
  }
  std::printf("array kernels: %lld random inputs, %lld kernel evaluations per ISA variant, variants:",
              static_cast<long long>(total), static_cast<long long>(g_kernel_elements));
  for (const std::string& isa : available_isas()) std::printf(" %s", isa.c_str());
  std::printf("\n");
}

void test_kernel_vectors_and_errors() {
  // D1 through the array kernels (int8 out, zp 0): DR, SR, fp32 HALF_EVEN.
  const int32_t acc[] = {-10, -6, -2, 2, 6, 10};
  const int32_t m = 1073741824, s = -1, zp = 0;
  const float scale = 0.25f;
  int8_t out[6];
  RequantizeParams p{-128, 127, 1, 32, RoundingMode::HALF_EVEN, 0, false, false};
  const int8_t dr[] = {-3, -2, -1, 1, 2, 3}, sr[] = {-2, -1, 0, 1, 2, 3}, rhe[] = {-2, -2, 0, 0, 2, 2};
  requantize_double_round<int32_t, int8_t>(p, 1, &m, &s, 1, &zp, 6, acc, out);
  CHECK(std::memcmp(out, dr, 6) == 0);
  requantize_single_round<int32_t, int8_t>(p, 1, &m, &s, 1, &zp, 6, acc, out);
  CHECK(std::memcmp(out, sr, 6) == 0);
  requantize_fp32<int32_t, int8_t>(p, 1, &scale, 1, &zp, 6, acc, out);
  CHECK(std::memcmp(out, rhe, 6) == 0);
  // T3 (ONNX QuantizeLinear, uint8, scale 2, zp 128) and D3 (TFLite: 1.25 / 0.5 HALF_AWAY = 3,
  // NEON reciprocal HALF_EVEN = 2).
  {
    const float x[] = {0, 2, 3, 1000, -254, -1000};
    const float two = 2.0f;
    const int32_t z = 128;
    uint8_t q[6];
    QuantizeParams qp{0, 255, 1, RoundingMode::HALF_EVEN, 0, false};
    quantize<float, uint8_t>(qp, 1, &two, 1, &z, 6, x, q);
    const uint8_t expect[] = {128, 129, 130, 255, 1, 0};
    CHECK(std::memcmp(q, expect, 6) == 0);
    const float d3[] = {1.25f, -1.25f};
    const float half = 0.5f;
    const int32_t z0 = 0;
    int8_t r[2];
    QuantizeParams away{-128, 127, 1, RoundingMode::HALF_AWAY, 0, false};
    quantize<float, int8_t>(away, 1, &half, 1, &z0, 2, d3, r);
    CHECK(r[0] == 3 && r[1] == -3);
    QuantizeParams even{-128, 127, 1, RoundingMode::HALF_EVEN, 0, true};
    quantize<float, int8_t>(even, 1, &half, 1, &z0, 2, d3, r);
    CHECK(r[0] == 2 && r[1] == -2);
    // T5 (FBGEMM): 0.273939937f / 0.00214854861f: reciprocal 127.5 -> 128, division 127.49999 -> 127.
    const float t5 = 0.273939937f, t5s = 0.00214854861f;
    QuantizeParams fb{-128, 127, 1, RoundingMode::HALF_EVEN, 0, true};
    quantize<float, int8_t>(fb, 1, &t5s, 1, &z0, 1, &t5, r);
    CHECK_EQ(r[0], 128 - 1);  // clamped to qmax 127 (128 would be out of int8)
    QuantizeParams fb_u{0, 255, 1, RoundingMode::HALF_EVEN, 0, true};
    uint8_t ru = 0;
    quantize<float, uint8_t>(fb_u, 1, &t5s, 1, &z0, 1, &t5, &ru);
    CHECK_EQ(ru, 128);
    fb_u.reciprocal = false;
    quantize<float, uint8_t>(fb_u, 1, &t5s, 1, &z0, 1, &t5, &ru);
    CHECK_EQ(ru, 127);
  }
  // Errors.
  int32_t o32[6];
  CHECK_THROWS_MSG((requantize_double_round<int32_t, int8_t>(RequantizeParams{-128, 127, 1, 40, RoundingMode::HALF_UP, 0, false, false},
                                                              1, &m, &s, 1, &zp, 6, acc, out)),
                   std::invalid_argument, "acc_bits");
  CHECK_THROWS_MSG((requantize_double_round<int32_t, int8_t>(RequantizeParams{-128, 200, 1, 32, RoundingMode::HALF_UP, 0, false, false},
                                                              1, &m, &s, 1, &zp, 6, acc, out)),
                   std::invalid_argument, "requantize_double_round");
  CHECK_THROWS((requantize_double_round<int32_t, int8_t>(RequantizeParams{5, 4, 1, 32, RoundingMode::HALF_UP, 0, false, false},
                                                          1, &m, &s, 1, &zp, 6, acc, out)),
               std::invalid_argument);
  const int32_t bad_shift = 32;
  CHECK_THROWS_MSG((requantize_double_round<int32_t, int32_t>(p, 1, &m, &bad_shift, 1, &zp, 6, acc, o32)),
                   std::invalid_argument, "shift[0]");
  const int32_t m3[] = {m, m, m}, s3[] = {s, s, s}, z2[] = {0, 0};
  CHECK_THROWS_MSG((requantize_double_round<int32_t, int32_t>(p, 3, m3, s3, 2, z2, 6, acc, o32)), std::invalid_argument,
                   "zero_point");
  CHECK_THROWS((requantize_double_round<int32_t, int32_t>(RequantizeParams{INT32_MIN, INT32_MAX, 4, 32, RoundingMode::HALF_UP, 0, false, false},
                                                           3, m3, s3, 1, &zp, 6, acc, o32)),
               std::invalid_argument);  // 6 elements are not [outer, 3, 4]
  const int64_t acc64[] = {0, 1, int64_t(1) << 47, 3};
  CHECK_THROWS_MSG((requantize_single_round<int64_t, int32_t>(RequantizeParams{INT32_MIN, INT32_MAX, 1, 48, RoundingMode::HALF_UP, 0, false, false},
                                                               1, &m, &s, 1, &zp, 4, acc64, o32)),
                   std::out_of_range, "acc[2]");
  CHECK_THROWS_MSG((requantize_double_round<int64_t, int32_t>(RequantizeParams{INT32_MIN, INT32_MAX, 1, 64, RoundingMode::HALF_UP, 0, false, false},
                                                               1, &m, &s, 1, &zp, 4, acc64, o32)),
                   std::out_of_range, "acc[2]");
  CHECK_THROWS_MSG((requantize_int64_reduced<int64_t, int32_t>(RequantizeParams{INT32_MIN, INT32_MAX, 1, 64, RoundingMode::HALF_UP, 0, false, false},
                                                                1, &m, &s, 1, &zp, 4, acc64, o32)),
                   std::out_of_range, "2^47");
  const int32_t neg_m = -5;
  CHECK_THROWS((requantize_int64_reduced<int32_t, int32_t>(p, 1, &neg_m, &s, 1, &zp, 6, acc, o32)), std::invalid_argument);
  const float bad_scale[] = {0.0f, NAN, INFINITY};
  for (const float& bs : bad_scale) {
    CHECK_THROWS((requantize_fp32<int32_t, int32_t>(p, 1, &bs, 1, &zp, 6, acc, o32)), std::invalid_argument);
  }
  RequantizeParams bad_mode = p;
  bad_mode.rounding = static_cast<RoundingMode>(9);
  CHECK_THROWS((requantize_power_of_two<int32_t, int32_t>(bad_mode, 1, &s, 1, &zp, 6, acc, o32)), std::invalid_argument);
  const int32_t pot64 = 64;
  CHECK_THROWS((requantize_power_of_two<int32_t, int32_t>(p, 1, &pot64, 1, &zp, 6, acc, o32)), std::invalid_argument);
  std::vector<float> xs(3000, 1.0f);
  xs[2500] = NAN;
  std::vector<int8_t> qs(3000);
  const float one = 1.0f;
  for (RoundingMode mode : {RoundingMode::HALF_EVEN, RoundingMode::STOCHASTIC}) {
    CHECK_THROWS_MSG((quantize<float, int8_t>(QuantizeParams{-128, 127, 1, mode, 0, false}, 1, &one, 1, &zp, 3000,
                                              xs.data(), qs.data())),
                     std::out_of_range, "x[2500]");
  }
  xs[2500] = -INFINITY;
  CHECK_THROWS_MSG((quantize<float, int8_t>(QuantizeParams{-128, 127, 1, RoundingMode::FLOOR, 0, true}, 1, &one, 1, &zp,
                                            3000, xs.data(), qs.data())),
                   std::out_of_range, "x[2500]");
  const float zero = 0.0f;
  CHECK_THROWS((quantize<float, int8_t>(QuantizeParams{-128, 127, 1, RoundingMode::FLOOR, 0, true}, 1, &zero, 1, &zp,
                                        3, xs.data(), qs.data())),
               std::invalid_argument);
  CHECK_THROWS(set_isa("sse9"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Average-pool division (fxsim/fixedpoint/division.h). Vectors: research notes 13.2 D4 (Hexagon
// op_avgpool.c vs TFLite pooling.h), D5 (DPU pool-fix.cpp 3x3), D9 (TOSA reciprocal_scale in
// scale_helpers.tosac), 13.1 T7 (the factors hard-coded in pool-fix.cpp).
void test_pooling_division() {
  // TFLite AveragePool: ties away from zero; the int64 extremes do not overflow.
  CHECK_EQ(divide_round_half_away(3, 6), 1);
  CHECK_EQ(divide_round_half_away(-3, 6), -1);
  CHECK_EQ(divide_round_half_away(2057, 9), 229);
  CHECK_EQ(divide_round_half_away(INT64_MAX, 2), int64_t(1) << 62);
  CHECK_EQ(divide_round_half_away(INT64_MIN, 2), -(int64_t(1) << 62));
  CHECK_EQ(divide_round_half_away(INT64_MIN, INT64_MAX), -1);
  CHECK_EQ(divide_round_half_away(INT64_MAX, INT64_MAX), 1);
  CHECK_EQ(divide_round_half_away(INT64_MIN, 3), -3074457345618258603);
  CHECK_THROWS(divide_round_half_away(1, 0), std::invalid_argument);
  CHECK_THROWS(divide_round_half_away(1, -2), std::invalid_argument);
  // PyTorch avg_pool2d: ties to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2, -3.5 -> -4);
  // the int64 extremes do not overflow.
  CHECK_EQ(divide_round_half_even(3, 6), 0);
  CHECK_EQ(divide_round_half_even(-3, 6), 0);
  CHECK_EQ(divide_round_half_even(9, 6), 2);
  CHECK_EQ(divide_round_half_even(5, 2), 2);
  CHECK_EQ(divide_round_half_even(-5, 2), -2);
  CHECK_EQ(divide_round_half_even(-7, 2), -4);
  CHECK_EQ(divide_round_half_even(2057, 9), 229);
  CHECK_EQ(divide_round_half_even(INT64_MAX, 2), int64_t(1) << 62);
  CHECK_EQ(divide_round_half_even(INT64_MIN, 2), -(int64_t(1) << 62));
  CHECK_EQ(divide_round_half_even(INT64_MIN, INT64_MAX), -1);
  CHECK_EQ(divide_round_half_even(INT64_MIN, 3), -3074457345618258603);
  CHECK_EQ(divide_round_half_even(INT64_MIN, 1), INT64_MIN);
  CHECK_THROWS(divide_round_half_even(1, 0), std::invalid_argument);
  int even_mismatches = 0;
  for (int n = 1; n <= 64; ++n) {
    for (int32_t acc = -128 * n; acc <= 127 * n; ++acc) {
      // floor((2 acc + n) / (2 n)), moved down by one on an exact tie whose result is odd
      const int64_t num = 2 * int64_t(acc) + n, den = 2 * int64_t(n);
      int64_t want = num >= 0 ? num / den : -((-num + den - 1) / den);
      if (num % den == 0 && (want & 1) != 0) want -= 1;
      even_mismatches += divide_round_half_even(acc, n) != want;
    }
  }
  CHECK_EQ(even_mismatches, 0);
  int mismatches = 0;
  for (int n = 1; n <= 64; ++n) {
    for (int32_t acc = -128 * n; acc <= 127 * n; ++acc) {
      const int32_t tflite = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;  // pooling.h, int32
      mismatches += divide_round_half_away(acc, n) != tflite;
    }
  }
  CHECK_EQ(mismatches, 0);

  // D9: TOSA reciprocal_scale and averages; equal to the test's own transcription for 1..4096.
  struct {
    int32_t count, multiplier;
    int shift;
  } const d9[] = {{1, 1073741825, 30}, {2, 1073741825, 31}, {3, 1431655766, 32}, {4, 1073741825, 32}, {9, 1908874355, 34}};
  for (const auto& v : d9) {
    const ReciprocalScale s = fxsim::tosa_reciprocal_scale(v.count);
    CHECK(s.multiplier == v.multiplier && s.shift == v.shift);
  }
  mismatches = 0;
  for (int32_t n = 1; n <= 4096; ++n) {
    int32_t m = 0;
    int s = 0;
    tosa_reciprocal_scale(n, &m, &s);
    const ReciprocalScale r = fxsim::tosa_reciprocal_scale(n);
    mismatches += r.multiplier != m || r.shift != s;
  }
  CHECK_EQ(mismatches, 0);
  CHECK_EQ(fxsim::tosa_reciprocal_scale(INT32_MAX).shift, 61);
  CHECK_EQ(fxsim::tosa_reciprocal_scale((1 << 30) + 2).multiplier, 2147483646);
  CHECK_THROWS_MSG(fxsim::tosa_reciprocal_scale((1 << 30) + 1), std::out_of_range, "2^31");
  CHECK_THROWS(fxsim::tosa_reciprocal_scale(0), std::invalid_argument);
  CHECK_EQ(tosa_average(-13, 2), -7);
  CHECK_EQ(tosa_average(13, 2), 7);
  CHECK_EQ(tosa_average(-5, 9), -1);
  mismatches = 0;
  for (int32_t n = 1; n <= 49; ++n) {
    for (int32_t acc = -128 * n; acc <= 127 * n; ++acc) mismatches += tosa_average(acc, n) != divide_round_half_away(acc, n);
  }
  CHECK_EQ(mismatches, 0);
  CHECK_THROWS_MSG(tosa_average(1 << 29, 1), std::out_of_range, "REQUIRE");  // shift 30: |acc| < 2^29
  CHECK_EQ(tosa_average((1 << 29) - 1, 1), (1 << 29) - 1);
  CHECK_EQ(tosa_average(INT32_MIN, 3), -715827883);  // -715827882.67

  // D4: Hexagon Q15 reciprocal (truncated, saturated at 32767) vs TFLite.
  CHECK_EQ(hexagon_average_q15(3, 6), 0);        // TFLite 1
  CHECK_EQ(hexagon_average_q15(2057, 9), 228);   // TFLite 229
  CHECK_EQ(hexagon_average_q15(255, 1), 255);    // 255 * 32767 + 16384 = 255.5 * 2^15 - 255
  CHECK_EQ(hexagon_average_q15(16385, 1), 16384);  // count 1 is not exact above 2^14
  CHECK_EQ(hexagon_average_q15(-1, 2), 0);       // -0.5 rounds up
  CHECK_EQ(hexagon_average_q15(-3, 2), -1);      // -1.5 rounds up
  CHECK_EQ(hexagon_average_q15(INT32_MAX, 32769), 0);  // recip 0
  CHECK_EQ(hexagon_average_q15(INT32_MIN, 1), INT32_MIN + 65536);
  CHECK_THROWS(hexagon_average_q15(1, 0), std::invalid_argument);

  // T7: the DPU factors hard-coded in pool-fix.cpp; the search for other windows.
  struct {
    int kh, kw;
    int32_t n;
    int m;
  } const t7[] = {{3, 3, 7, 6},   {5, 5, 10, 8},  {6, 6, 7, 8}, {7, 7, 21, 10}, {14, 14, 21, 12},
                  {1, 1, 1, 0},   {2, 2, 1, 2},   {9, 1, 57, 9}, {1, 9, 57, 9}, {2, 3, 85, 9},
                  {4, 4, 1, 4},   {8, 8, 1, 6}};
  for (const auto& v : t7) {
    const DpuAverageFactor f = dpu_average_factor(v.kh, v.kw);
    CHECK(f.n == v.n && f.m == v.m);
  }
  CHECK_THROWS(dpu_average_factor(0, 3), std::invalid_argument);
  CHECK_THROWS(dpu_average_factor(1 << 12, 1 << 12), std::invalid_argument);
  const DpuAverageFactor largest = dpu_average_factor((1 << 12) - 1, 1 << 12);  // k = 2^24 - 2^12
  CHECK(largest.n == 1 && largest.m == 24);  // 1/2^24 (64/2^30 is the same value at a larger M)
  // D5: 3x3 with fix_point_in == fix_point_out.
  CHECK_EQ(dpu_average(900, 7, 6, 0), 98);    // exact mean 100
  CHECK_EQ(dpu_average(1143, 7, 6, 0), 125);  // exact mean 127
  CHECK_EQ(dpu_average(900, 7, 6, 1), 49);    // 49.21875
  CHECK_EQ(dpu_average(-10, 1, 2, 0), -2);    // -2.5 rounds up (DPU_ROUND)
  CHECK_EQ(dpu_average(-2, 1, 2, 0), 0);      // -0.5 rounds up
  CHECK_EQ(dpu_average(10, 1, 2, 0), 3);
  CHECK_EQ(dpu_average(-5, 1, 0, -3), -40);   // negative m + shift: exact left shift
  CHECK_EQ(dpu_average(INT64_MIN, INT32_MAX, 62, 62), 0);  // about -2^-30: rounds up to 0
  CHECK_EQ(dpu_average(INT64_MAX, INT32_MAX, 31, 0), INT64_MAX - (int64_t(1) << 32));  // 2^63 - 2^32 - 1 + 2^-31
  CHECK_THROWS_MSG(dpu_average(INT64_MAX, 2, 0, 0), std::out_of_range, "int64");
  CHECK_THROWS_MSG(dpu_average(int64_t(1) << 62, 1, 0, -2), std::out_of_range, "int64");
  CHECK_THROWS(dpu_average(1, -1, 0, 0), std::invalid_argument);
  CHECK_THROWS(dpu_average(1, 1, 63, 0), std::invalid_argument);
  CHECK_THROWS(dpu_average(1, 1, 0, -63), std::invalid_argument);
}

// ---- conv2d_accumulate / matmul_accumulate (csrc/fxsim/kernels/conv2d.h, matmul.h) ----
// A naive loop of the definition here (independent of the kernels' own code) against the kernels
// on random layers, every policy's fixed corner, every ISA variant and thread count, errors.

// The exact conv sum of one output (int64; the layers below stay far from overflow).
template <typename X, typename W>
int64_t naive_conv_at(const Conv2DParams& p, const Conv2DShape& s, const std::vector<X>& x, int32_t xz,
                      const std::vector<W>& w, const std::vector<int32_t>& wz, const std::vector<int64_t>& bias,
                      int64_t n, int64_t oc, int64_t oy, int64_t ox) {
  const int64_t cig = s.c_in / p.groups, g = oc / (s.c_out / p.groups);
  int64_t sum = bias.empty() ? 0 : bias[oc];
  for (int64_t ic = 0; ic < cig; ++ic) {
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        const int64_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
        const int64_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
        if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
        const int64_t xv = x[((n * s.c_in + g * cig + ic) * s.h + iy) * s.w + ix] - int64_t(xz);
        const int64_t wv = w[((oc * cig + ic) * s.kh + ky) * s.kw + kx] - int64_t(wz[wz.size() == 1 ? 0 : oc]);
        sum += xv * wv;
      }
    }
  }
  return sum;
}

// zero_w_zp: weight zero points 0 (int8 weights then take the direct kernels' u8 x s8 paths,
// direct_conv2d.h: vpdpbusd on avx512vnni, its exact emulation on avx512bw and avx2; on avx2 only the
// register-blocked depthwise loops, other depthwise layers the int16 pairs)
template <typename X, typename W>
void check_conv_layer(std::mt19937_64& rng, const Conv2DShape& s, Conv2DParams p, bool per_channel,
                      bool zero_w_zp = false) {
  std::vector<X> x(static_cast<size_t>(s.n * s.c_in * s.h * s.w));
  std::vector<W> w(static_cast<size_t>(s.c_out * (s.c_in / p.groups) * s.kh * s.kw));
  for (auto& v : x) v = static_cast<X>(rng());
  for (auto& v : w) v = static_cast<W>(rng());
  const int32_t xz = static_cast<X>(rng());
  std::vector<int32_t> wz(per_channel ? s.c_out : 1);
  for (auto& v : wz) v = zero_w_zp ? 0 : static_cast<W>(rng());
  std::vector<int64_t> bias(static_cast<size_t>(s.c_out));
  for (auto& v : bias) v = static_cast<int32_t>(rng() % 200001) - 100000;
  const Conv2DOutputSize o = conv2d_output_size(p, s);
  std::vector<int64_t> want(static_cast<size_t>(s.n * s.c_out * o.oh * o.ow));
  size_t i = 0;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oc = 0; oc < s.c_out; ++oc)
      for (int64_t oy = 0; oy < o.oh; ++oy)
        for (int64_t ox = 0; ox < o.ow; ++ox) want[i++] = naive_conv_at(p, s, x, xz, w, wz, bias, n, oc, oy, ox);
  for_each_isa_and_thread_count([&] {
    for (const AccumulatePolicy policy : {AccumulatePolicy::kWrap, AccumulatePolicy::kRaise,
                                          AccumulatePolicy::kSaturate}) {
      p.acc = AccumulateParams{policy, 64};
      std::vector<int64_t> got(want.size(), -1);
      conv2d_accumulate(p, s, x.data(), xz, w.data(), static_cast<int64_t>(wz.size()), wz.data(), bias.data(),
                        got.data());
      CHECK(got == want);
    }
    p.acc = AccumulateParams{AccumulatePolicy::kWrap, 32};
    std::vector<int32_t> got32(want.size(), -1);
    conv2d_accumulate(p, s, x.data(), xz, w.data(), static_cast<int64_t>(wz.size()), wz.data(), bias.data(),
                      got32.data());
    bool same = true;
    for (size_t j = 0; j < want.size(); ++j) same = same && got32[j] == wrap_int64_to_int32(want[j]);
    CHECK(same);
    if constexpr (sizeof(X) == 1 && sizeof(W) == 1) {
      // the weights packed once (packed_weights.h): WRAP 32 and 64 read the packed words
      const PackedConvWeights pw = pack_conv_weights(w.data(), s.c_out, s.c_in / p.groups, s.kh, s.kw,
                                                     static_cast<int64_t>(wz.size()), wz.data());
      std::fill(got32.begin(), got32.end(), -1);
      conv2d_accumulate(p, s, x.data(), xz, pw, bias.data(), got32.data());
      same = true;
      for (size_t j = 0; j < want.size(); ++j) same = same && got32[j] == wrap_int64_to_int32(want[j]);
      CHECK(same);
      p.acc = AccumulateParams{AccumulatePolicy::kWrap, 64};
      std::vector<int64_t> got(want.size(), -1);
      conv2d_accumulate(p, s, x.data(), xz, pw, bias.data(), got.data());
      CHECK(got == want);
    }
  });
}

// transpose.h: the 16 x 16 blocks and the edges against the element loop, at offsets and strides
// wider than the matrix.
void test_transpose_bytes() {
  std::mt19937_64 rng(5);
  for (const auto& dims : {std::pair<int64_t, int64_t>{1, 1}, {16, 16}, {17, 33}, {256, 196}, {5, 40}, {48, 15}}) {
    const int64_t rows = dims.first, cols = dims.second, ss = cols + 3, ds = rows + 5;
    std::vector<uint8_t> src(static_cast<size_t>(rows * ss));
    for (auto& v : src) v = static_cast<uint8_t>(rng());
    std::vector<uint8_t> got(static_cast<size_t>(cols * ds), 0xAB), want(got);
    transpose_bytes(src.data(), rows, cols, ss, got.data(), ds);
    transpose_bytes_scalar(src.data(), rows, cols, ss, want.data(), ds);
    CHECK(got == want);
    bool moved = true;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) moved = moved && want[c * ds + r] == src[r * ss + c];
    }
    CHECK(moved);
  }
}

void test_conv2d_accumulate() {
  std::mt19937_64 rng(77);
  auto params = [](int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl, int64_t pb, int64_t pr,
                   int64_t groups) {
    Conv2DParams p;
    p.stride_h = sh, p.stride_w = sw, p.dilation_h = dh, p.dilation_w = dw;
    p.pad_top = pt, p.pad_left = pl, p.pad_bottom = pb, p.pad_right = pr, p.groups = groups;
    return p;
  };
  // regular 3x3 pad 1; strided, dilated, asymmetric pads; grouped; depthwise with multiplier 2
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{2, 8, 13, 70, 12, 3, 3}, params(1, 1, 1, 1, 1, 1, 1, 1, 1), true);
  check_conv_layer<int8_t, uint8_t>(rng, Conv2DShape{1, 5, 17, 19, 6, 3, 2}, params(2, 3, 2, 1, 0, 2, 1, 0, 1), false);
  check_conv_layer<uint8_t, uint8_t>(rng, Conv2DShape{1, 6, 9, 9, 9, 1, 3}, params(1, 2, 1, 2, 2, 0, 0, 3, 3), true);
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 16, 30, 30, 32, 3, 3}, params(1, 1, 1, 1, 1, 1, 1, 1, 16),
                                    true);
  check_conv_layer<int16_t, int16_t>(rng, Conv2DShape{1, 3, 6, 7, 4, 2, 2}, params(1, 1, 1, 1, 1, 0, 0, 1, 1), true);
  // the direct kernels (direct_conv2d.h) on AVX2 and AVX-512: depthwise through the int16 pairs (per-channel
  // zero points) and through u8 x s8 (zero points 0; KW 5: two groups of four taps), strided,
  // dilated, widths across the 32-column runs; small depth (first conv, 13 channels: every
  // channel block of the tile loop)
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 3, 11, 67, 6, 3, 3}, params(1, 1, 1, 1, 1, 1, 1, 1, 3), true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{2, 2, 12, 71, 4, 3, 5}, params(2, 2, 1, 2, 2, 3, 0, 1, 2), false,
                                   true);
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 4, 9, 40, 4, 4, 3}, params(1, 1, 3, 1, 0, 1, 2, 1, 4), false,
                                    true);
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 3, 21, 69, 13, 3, 3}, params(2, 2, 1, 1, 0, 0, 1, 1, 1), true);
  check_conv_layer<int8_t, uint8_t>(rng, Conv2DShape{1, 2, 9, 35, 5, 2, 3}, params(1, 3, 2, 1, 1, 2, 0, 1, 1), false);
  check_conv_layer<uint16_t, int8_t>(rng, Conv2DShape{1, 2, 5, 5, 2, 3, 3}, params(1, 1, 1, 1, 1, 1, 1, 1, 2), false);
  // the register-blocked depthwise loop (u8 x s8, zero points 0, stride 1): 10 and 7 rows (a last
  // block of 4 overlapping the one before), widths 68 and 61 across its 64-column block, 3x3
  // dilated along the width and 5x6 (two groups of four taps)
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 3, 10, 70, 6, 3, 3}, params(1, 1, 1, 2, 1, 1, 1, 1, 3), true,
                                    true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{1, 2, 7, 61, 4, 5, 6}, params(1, 1, 1, 1, 2, 3, 2, 2, 2), false,
                                   true);
  // narrow planes: their channels side by side (direct_conv2d.cc PackedChannels: 14 x 14 in lanes
  // of 16 columns, 7 x 7 with a 5x6 filter at batch 2 in lanes of 16, 11 channels at 7 x 7 in lanes
  // of 8: a partial second plane (on avx2 a half without channels), 5 x 5 dilated at 24 x 20 with a
  // multiplier in lanes of 32)
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 3, 14, 14, 6, 3, 3}, params(1, 1, 1, 1, 1, 1, 1, 1, 3), true,
                                    true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{2, 2, 7, 7, 4, 5, 6}, params(1, 1, 1, 1, 2, 3, 2, 2, 2), false,
                                   true);
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 11, 7, 7, 11, 3, 3}, params(1, 1, 1, 1, 1, 1, 1, 1, 11),
                                    true, true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{1, 3, 24, 20, 6, 5, 5}, params(1, 1, 1, 2, 2, 1, 2, 3, 3), false,
                                   true);
  // and at stride 2: 9 channels 14 -> 7 (8 per plane of 128 input bytes), a 5 x 5 28 -> 14 with a multiplier
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 9, 14, 14, 9, 3, 3}, params(2, 2, 1, 1, 0, 0, 1, 1, 9), true,
                                    true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{2, 3, 28, 28, 6, 5, 5}, params(2, 2, 1, 1, 1, 1, 2, 2, 3), false,
                                   true);
  // its stride-2 form: 11 rows x 31 columns (32-column blocks of 4 rows), 16 x 30 (blocks of 8),
  // 5x5 dilated along the width at 10 x 69 (64-column blocks)
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 3, 21, 61, 6, 3, 3}, params(2, 2, 1, 1, 1, 1, 1, 1, 3), true,
                                    true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{1, 4, 33, 60, 4, 3, 3}, params(2, 2, 1, 1, 1, 1, 0, 0, 4), false,
                                   true);
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 2, 19, 140, 4, 5, 5}, params(2, 2, 1, 2, 2, 3, 2, 2, 2), true,
                                    true);
  // narrow planes as a matmul with the pixels as rows (conv2d.cc conv_as_matmul, the packed
  // weights on the SIMD variants): 3x3 at 7 x 7 with per-channel zero points, 5 x 3 strided and dilated at
  // batch 2
  check_conv_layer<uint8_t, uint8_t>(rng, Conv2DShape{1, 8, 7, 7, 64, 3, 3}, params(1, 1, 1, 1, 1, 1, 1, 1, 1), true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{2, 12, 13, 11, 128, 5, 3}, params(2, 2, 1, 2, 2, 1, 1, 2, 1),
                                   false);
  // a strided 1x1 without padding (conv2d.cc: its strided columns gathered in each GEMM task,
  // Interleave4StridedFn): stride 2 on an odd plane (36 channels: a partial quad past the
  // small-depth bound), 3 x 4 grouped on s8 (16-word runs with tails), 1 x 5 (the plain loop)
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{2, 36, 15, 37, 10, 1, 1}, params(2, 2, 1, 1, 0, 0, 0, 0, 1), true);
  check_conv_layer<int8_t, uint8_t>(rng, Conv2DShape{1, 12, 10, 131, 9, 1, 1}, params(3, 4, 1, 1, 0, 0, 0, 0, 3),
                                    false);
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 34, 3, 41, 5, 1, 1}, params(1, 5, 1, 1, 0, 0, 0, 0, 1), true);
  // the u8 x s8 small-depth loop (zero points 0): at 32 bits its sums go straight into the output;
  // KW 3 (on avx512bw the odd taps of two filter rows share one vpmaddwd), then KW 5 (two tap
  // words per filter row, no such pairing) with 70 output channels (two passes of 64 + 6)
  check_conv_layer<uint8_t, int8_t>(rng, Conv2DShape{1, 3, 21, 69, 13, 3, 3}, params(2, 2, 1, 1, 0, 0, 1, 1, 1), true,
                                    true);
  check_conv_layer<int8_t, int8_t>(rng, Conv2DShape{1, 2, 9, 40, 70, 3, 5}, params(1, 1, 1, 1, 1, 2, 1, 2, 1), false,
                                   true);

  // Policies on int16 extremes: 4 products of (-32768)^2 = 2^30 each.
  const std::vector<int16_t> x4(4, INT16_MIN), w4(4, INT16_MIN);
  const int32_t zero = 0;
  Conv2DParams p;
  const Conv2DShape s{1, 4, 1, 1, 1, 1, 1};
  int64_t out = 0;
  p.acc = AccumulateParams{AccumulatePolicy::kWrap, 32};
  conv2d_accumulate(p, s, x4.data(), 0, w4.data(), 1, &zero, nullptr, &out);
  CHECK_EQ(out, 0);  // 2^32 wraps to 0
  p.acc = AccumulateParams{AccumulatePolicy::kSaturate, 32};
  conv2d_accumulate(p, s, x4.data(), 0, w4.data(), 1, &zero, nullptr, &out);
  CHECK_EQ(out, INT32_MAX);
  p.acc = AccumulateParams{AccumulatePolicy::kPairSaturate16, 32};
  conv2d_accumulate(p, s, x4.data(), 0, w4.data(), 1, &zero, nullptr, &out);
  CHECK_EQ(out, 2 * 32767);
  p.acc = AccumulateParams{AccumulatePolicy::kWrap, 48};
  conv2d_accumulate(p, s, x4.data(), 0, w4.data(), 1, &zero, nullptr, &out);
  CHECK_EQ(out, int64_t(1) << 32);
  p.acc = AccumulateParams{AccumulatePolicy::kRaise, 32};
  CHECK_THROWS_MSG(conv2d_accumulate(p, s, x4.data(), 0, w4.data(), 1, &zero, nullptr, &out), std::out_of_range,
                   "output index 0 (n=0, oc=0, oy=0, ox=0)");
  // RAW_PAIR_SATURATE_16 on a depthwise 3x3 (FBGEMM's depthwise kernels pair filter taps of raw
  // codes): a 1x1 input 255 with pads 1, x_zp 200 (held by the 8 padded taps), w 127, w_zp 3.
  // Taps 25400 x4, 32385, 25400 x4 pair to 4 * 32767 + 25400 = 156468; the zero-point terms are
  // exact: 156468 + (255 - 200) * (127 - 3) - (8 * 25400 + 32385) = -72297.
  {
    const uint8_t xd[2] = {255, 255};
    const std::vector<int8_t> wd(18, 127);
    const int32_t wz3 = 3;
    Conv2DParams pd;
    pd.pad_top = pd.pad_left = pd.pad_bottom = pd.pad_right = 1;
    pd.groups = 2;
    pd.acc = AccumulateParams{AccumulatePolicy::kRawPairSaturate16, 32};
    int32_t od[2] = {0, 0};
    conv2d_accumulate(pd, Conv2DShape{1, 2, 1, 1, 2, 3, 3}, xd, 200, wd.data(), 1, &wz3, nullptr, od);
    CHECK_EQ(od[0], -72297);
    CHECK_EQ(od[1], -72297);
  }
  // u16 x s16 with zero points: products near 2^32 stay exact (int64 products).
  const uint16_t xu = 65535;
  const int16_t wm = INT16_MIN;
  const int32_t wz_max = INT16_MAX;
  p.acc = AccumulateParams{AccumulatePolicy::kRaise, 64};
  conv2d_accumulate(p, Conv2DShape{1, 1, 1, 1, 1, 1, 1}, &xu, 0, &wm, 1, &wz_max, nullptr, &out);
  CHECK_EQ(out, int64_t(65535) * -65535);

  // Errors name the argument.
  int32_t out32 = 0;
  p.acc = AccumulateParams{AccumulatePolicy::kWrap, 64};
  CHECK_THROWS_MSG(conv2d_accumulate(p, s, x4.data(), 0, w4.data(), 1, &zero, nullptr, &out32), std::invalid_argument,
                   "out is int32");
  p.acc = AccumulateParams{AccumulatePolicy::kWrap, 32};
  p.groups = 3;
  CHECK_THROWS_MSG(conv2d_accumulate(p, s, x4.data(), 0, w4.data(), 1, &zero, nullptr, &out), std::invalid_argument,
                   "groups = 3 does not divide C_in");
  p.groups = 1;
  const uint8_t xb[4] = {0, 0, 0, 0};
  CHECK_THROWS_MSG(conv2d_accumulate(p, s, xb, 256, w4.data(), 1, &zero, nullptr, &out), std::invalid_argument,
                   "x_zero_point = 256");
  const int32_t big = 200;
  const int8_t wb[4] = {0, 0, 0, 0};
  CHECK_THROWS_MSG(conv2d_accumulate(p, s, xb, 0, wb, 1, &big, nullptr, &out), std::invalid_argument,
                   "w_zero_point = 200");
  p.stride_w = 0;
  CHECK_THROWS_MSG(conv2d_accumulate(p, s, xb, 0, wb, 1, &zero, nullptr, &out), std::invalid_argument, "stride_w");
  p.stride_w = 1;
  p.pad_bottom = -1;
  CHECK_THROWS_MSG(conv2d_accumulate(p, s, xb, 0, wb, 1, &zero, nullptr, &out), std::invalid_argument, "pad_bottom");
  p.pad_bottom = 0;
  CHECK_THROWS_MSG(conv2d_accumulate(p, Conv2DShape{1, 4, 1, 1, 1, 2, 1}, xb, 0, wb, 1, &zero, nullptr, &out),
                   std::invalid_argument, "output size < 1");
}

void test_matmul_accumulate() {
  // research/engine-semantics.md 13.1 T4: ONNX QLinearMatMul uint8, a_zp 113, b_zp 114.
  const uint8_t a[] = {208, 236, 0, 238, 3, 214, 255, 29};
  const uint8_t b[] = {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247};
  const int32_t bz = 114;
  const int32_t want[] = {11475, -778, 31402, -26914, -11872, 7513};  // the derived int32 accumulators
  for (const AccumulatePolicy policy : {AccumulatePolicy::kWrap, AccumulatePolicy::kSaturate,
                                        AccumulatePolicy::kRaise}) {
    int32_t out[6] = {0};
    matmul_accumulate(AccumulateParams{policy, 32}, MatMulShape{1, 2, 4, 3, false}, a, 113, b, 1, &bz, nullptr, out);
    CHECK(std::equal(out, out + 6, want));
  }
  // Random batched layers against a naive loop, every ISA and thread count.
  std::mt19937_64 rng(5);
  const MatMulShape shapes[] = {{1, 33, 300, 517, false}, {6, 37, 64, 41, true}, {4, 1, 1280, 300, false}};
  for (const MatMulShape& s : shapes) {
    std::vector<int8_t> av(static_cast<size_t>(s.batch * s.m * s.k));
    std::vector<uint8_t> bv(static_cast<size_t>((s.b_batched ? s.batch : 1) * s.k * s.n));
    for (auto& v : av) v = static_cast<int8_t>(rng());
    for (auto& v : bv) v = static_cast<uint8_t>(rng());
    std::vector<int32_t> zps(static_cast<size_t>(s.n));
    for (auto& v : zps) v = static_cast<uint8_t>(rng());
    std::vector<int64_t> bias(static_cast<size_t>(s.n));
    for (auto& v : bias) v = static_cast<int64_t>(rng() >> 20) - (int64_t(1) << 43);
    const int32_t az = -128;
    std::vector<int64_t> ref(static_cast<size_t>(s.batch * s.m * s.n));
    for (int64_t bi = 0; bi < s.batch; ++bi)
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) {
          int64_t sum = bias[j];
          for (int64_t k = 0; k < s.k; ++k) {
            sum += (av[(bi * s.m + i) * s.k + k] - int64_t(az)) *
                   (bv[(s.b_batched ? bi * s.k * s.n : 0) + k * s.n + j] - int64_t(zps[j]));
          }
          ref[(bi * s.m + i) * s.n + j] = sum;
        }
    for_each_isa_and_thread_count([&] {
      std::vector<int64_t> got(ref.size(), -1);
      matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 64}, s, av.data(), az, bv.data(), s.n, zps.data(),
                        bias.data(), got.data());
      CHECK(got == ref);
      matmul_accumulate(AccumulateParams{AccumulatePolicy::kRaise, 48}, s, av.data(), az, bv.data(), s.n, zps.data(),
                        bias.data(), got.data());
      CHECK(got == ref);
      if (!s.b_batched) {  // B packed once (packed_weights.h)
        const PackedMatMulWeights pb = pack_matmul_weights(bv.data(), s.k, s.n, s.n, zps.data());
        std::fill(got.begin(), got.end(), -1);
        matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 64}, s, av.data(), az, pb, bias.data(),
                          got.data());
        CHECK(got == ref);
      }
    });
  }
  // PAIR_SATURATE_16: 255 * 127 twice = 64770 clips to 32767; the odd last product alone.
  const uint8_t a5[5] = {255, 255, 255, 255, 255};
  const int8_t b5[5] = {127, 127, 127, 127, 127};
  const int32_t z0 = 0;
  int32_t o = 0;
  matmul_accumulate(AccumulateParams{AccumulatePolicy::kPairSaturate16, 32}, MatMulShape{1, 1, 5, 1, false}, a5, 0,
                    b5, 1, &z0, nullptr, &o);
  CHECK_EQ(o, 2 * 32767 + 255 * 127);
  // RAW_PAIR_SATURATE_16 (FBGEMM AVX2): the same pairs of the raw codes, then the zero-point terms
  // exactly. a_zp 255: every corrected product is 0 (pair_saturate_16 gives 0), the raw pairs
  // still clip: 2 * 32767 + 32385 - 5 * 32385 = -64006.
  matmul_accumulate(AccumulateParams{AccumulatePolicy::kRawPairSaturate16, 32}, MatMulShape{1, 1, 5, 1, false}, a5,
                    255, b5, 1, &z0, nullptr, &o);
  CHECK_EQ(o, -64006);
  matmul_accumulate(AccumulateParams{AccumulatePolicy::kPairSaturate16, 32}, MatMulShape{1, 1, 5, 1, false}, a5, 255,
                    b5, 1, &z0, nullptr, &o);
  CHECK_EQ(o, 0);
  const int8_t bm2[2] = {-128, -128};  // 255 * -128 * 2 = -65280 clips to -32768
  matmul_accumulate(AccumulateParams{AccumulatePolicy::kRawPairSaturate16, 32}, MatMulShape{1, 1, 2, 1, false}, a5, 0,
                    bm2, 1, &z0, nullptr, &o);
  CHECK_EQ(o, -32768);
  const int64_t bias_max = INT64_MAX;
  int64_t o64 = 0;
  CHECK_THROWS_MSG(matmul_accumulate(AccumulateParams{AccumulatePolicy::kRaise, 64}, MatMulShape{1, 1, 5, 1, false},
                                     a5, 0, b5, 1, &z0, &bias_max, &o64),
                   std::out_of_range, "output index 0 (batch=0, m=0, n=0)");
  matmul_accumulate(AccumulateParams{AccumulatePolicy::kSaturate, 64}, MatMulShape{1, 1, 5, 1, false}, a5, 0, b5, 1,
                    &z0, &bias_max, &o64);
  CHECK_EQ(o64, INT64_MAX);
  matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 64}, MatMulShape{1, 1, 5, 1, false}, a5, 0, b5, 1, &z0,
                    &bias_max, &o64);
  CHECK_EQ(o64, static_cast<int64_t>(static_cast<uint64_t>(INT64_MAX) + 5 * 255 * 127));
  CHECK_THROWS_MSG(matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 32}, MatMulShape{1, 1, 0, 1, false},
                                     a5, 0, b5, 1, &z0, nullptr, &o),
                   std::invalid_argument, "K must be >= 1");
  const int32_t z2[2] = {0, 0};
  CHECK_THROWS_MSG(matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 32}, MatMulShape{1, 1, 5, 1, false},
                                     a5, 0, b5, 2, z2, nullptr, &o),
                   std::invalid_argument, "zero_point must have 1 or 1");
  CHECK_THROWS_MSG(matmul_accumulate(AccumulateParams{static_cast<AccumulatePolicy>(7), 32},
                                     MatMulShape{1, 1, 5, 1, false}, a5, 0, b5, 1, &z0, nullptr, &o),
                   std::invalid_argument, "policy");
}

// ---- conv2d_requantize / matmul_requantize: fused == accumulate, then requantize_<method> ----
// Every method per channel (STOCHASTIC draws by flat output index included), WRAP at 32 bits
// (int32 tiles) and SATURATE at 64 bits with an accumulator offset (int64 tiles), every ISA
// variant and thread count, against the two unfused calls.

// requantize_<method> over `acc` (unfused), with the fused call's arguments.
template <typename Acc>
void unfused_requantize(const RequantizeArgs& a, int64_t inner, const std::vector<Acc>& acc, std::vector<int8_t>* out) {
  RequantizeParams p = a.params;
  p.inner = inner;
  p.acc_bits = sizeof(Acc) == 8 ? 64 : 32;
  const int64_t n = static_cast<int64_t>(acc.size());
  switch (a.method) {
    case RequantizeMethod::kDoubleRound:
      requantize_double_round(p, a.channels, a.multiplier, a.shift, a.zero_point_count, a.zero_point, n, acc.data(),
                              out->data());
      break;
    case RequantizeMethod::kSingleRound:
      requantize_single_round(p, a.channels, a.multiplier, a.shift, a.zero_point_count, a.zero_point, n, acc.data(),
                              out->data());
      break;
    case RequantizeMethod::kInt64Reduced:
      requantize_int64_reduced(p, a.channels, a.multiplier, a.shift, a.zero_point_count, a.zero_point, n,
                               acc.data(), out->data());
      break;
    case RequantizeMethod::kPowerOfTwo:
      requantize_power_of_two(p, a.channels, a.shift, a.zero_point_count, a.zero_point, n, acc.data(), out->data());
      break;
    case RequantizeMethod::kFp32:
      requantize_fp32(p, a.channels, a.scale, a.zero_point_count, a.zero_point, n, acc.data(), out->data());
      break;
  }
}

// The direct u8 x s8 loops' in-register requantization (direct_conv_kernels.h RegisterCodes),
// both forms: fp32 HALF_EVEN and double_round. The register-blocked depthwise loops (3x3 and 5x6,
// stride 1, rows not a multiple of its 4-row block, widths across its 64-column block; stride 2)
// and the small-depth loop (3->13 stride 2), per-channel scales (powers of two: exact ties) or
// multipliers and shifts (the corners INT32_MIN, negative, INT32_MAX, shifts -31 and 31, a half
// multiplier at shift -9: ties of the final shift), u8 and s8 codes, the zero point added after
// rounding or in float (fp32), a Relu clamp, every ISA variant and thread count, against
// conv2d_accumulate then requantize_fp32 / requantize_double_round on the baseline.
void test_direct_in_register_requantize() {
  std::mt19937_64 rng(101);
  struct Layer {
    Conv2DShape s;
    int64_t stride, pad_top, pad_left, pad_bottom, pad_right, groups;
  };
  // the stride-2 loop: 32-column blocks of 8 and 4 rows (16 and 11 rows, width 30: two rows'
  // codes per vector, stored whole within the channel) and 64-column blocks (5x5, width 69)
  const Layer layers[] = {{Conv2DShape{1, 3, 10, 70, 6, 3, 3}, 1, 1, 1, 1, 1, 3},
                          {Conv2DShape{1, 2, 7, 61, 4, 5, 6}, 1, 2, 3, 2, 2, 2},
                          {Conv2DShape{1, 3, 21, 69, 13, 3, 3}, 2, 0, 0, 1, 1, 1},
                          {Conv2DShape{1, 4, 33, 60, 4, 3, 3}, 2, 1, 1, 0, 0, 4},
                          {Conv2DShape{1, 3, 21, 59, 6, 3, 3}, 2, 1, 1, 1, 1, 3},
                          {Conv2DShape{1, 2, 19, 140, 4, 5, 5}, 2, 2, 3, 2, 2, 2},
                          // narrow planes, their channels side by side (PackedChannels)
                          {Conv2DShape{1, 3, 14, 14, 6, 3, 3}, 1, 1, 1, 1, 1, 3},
                          {Conv2DShape{2, 2, 7, 7, 4, 5, 6}, 1, 2, 3, 2, 2, 2}};
  const std::string saved = active_isa();
  const int saved_threads = kernel_threads();
  for (const Layer& l : layers) {
    const Conv2DShape& s = l.s;
    Conv2DParams p;
    p.stride_h = p.stride_w = l.stride;
    p.pad_top = l.pad_top, p.pad_left = l.pad_left, p.pad_bottom = l.pad_bottom, p.pad_right = l.pad_right;
    p.groups = l.groups;
    p.acc = AccumulateParams{AccumulatePolicy::kWrap, 32};
    std::vector<uint8_t> x(static_cast<size_t>(s.n * s.c_in * s.h * s.w));
    std::vector<int8_t> w(static_cast<size_t>(s.c_out * (s.c_in / p.groups) * s.kh * s.kw));
    for (auto& v : x) v = static_cast<uint8_t>(rng());
    for (auto& v : w) v = static_cast<int8_t>(rng());
    const int32_t wz = 0;  // w - w_zp within int8: the u8 x s8 loops
    std::vector<int64_t> bias(static_cast<size_t>(s.c_out));
    for (auto& v : bias) v = static_cast<int32_t>(rng() % 200001) - 100000;
    const Conv2DOutputSize o = conv2d_output_size(p, s);
    const int64_t plane = o.oh * o.ow, total = s.n * s.c_out * plane;
    std::vector<float> scale(static_cast<size_t>(s.c_out));
    for (int64_t c = 0; c < s.c_out; ++c) scale[c] = std::ldexp(1.0f, -9 - static_cast<int>(c % 4));
    const int32_t corner_mult[] = {1 << 30, INT32_MIN, 1518500250, -1073741824, INT32_MAX, 1 << 30, 1};
    const int32_t corner_shift[] = {-9, 0, -12, -31, 31, -14, 3};
    std::vector<int32_t> mult(static_cast<size_t>(s.c_out)), shift(static_cast<size_t>(s.c_out));
    for (int64_t c = 0; c < s.c_out; ++c) mult[c] = corner_mult[c % 7], shift[c] = corner_shift[c % 7];
    for (const bool double_round : {false, true})
    for (const bool is_signed : {false, true}) {
      for (const bool zp_in_float : {false, true}) {
        if (double_round && zp_in_float) continue;  // an fp32 option
        for (const bool relu : {false, true}) {
          const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255, zp = is_signed ? -3 : 131;
          RequantizeArgs args;
          args.method = double_round ? RequantizeMethod::kDoubleRound : RequantizeMethod::kFp32;
          args.params = RequantizeParams{relu ? zp : lo, hi, 1, 32, RoundingMode::HALF_EVEN, 0, false, zp_in_float};
          args.channels = s.c_out;
          args.scale = double_round ? nullptr : scale.data();
          args.multiplier = double_round ? mult.data() : nullptr;
          args.shift = double_round ? shift.data() : nullptr;
          args.zero_point_count = 1;
          args.zero_point = &zp;
          const OutType type = is_signed ? OutType::kInt8 : OutType::kUInt8;
          set_isa("baseline");
          set_kernel_threads(1);
          std::vector<int32_t> acc(static_cast<size_t>(total));
          conv2d_accumulate(p, s, x.data(), 7, w.data(), 1, &wz, bias.data(), acc.data());
          RequantizeParams rp = args.params;
          rp.inner = plane;
          std::vector<uint8_t> want(static_cast<size_t>(total));
          if (double_round && is_signed) {
            requantize_double_round(rp, s.c_out, mult.data(), shift.data(), 1, &zp, total, acc.data(),
                                    reinterpret_cast<int8_t*>(want.data()));
          } else if (double_round) {
            requantize_double_round(rp, s.c_out, mult.data(), shift.data(), 1, &zp, total, acc.data(), want.data());
          } else if (is_signed) {
            requantize_fp32(rp, s.c_out, scale.data(), 1, &zp, total, acc.data(), reinterpret_cast<int8_t*>(want.data()));
          } else {
            requantize_fp32(rp, s.c_out, scale.data(), 1, &zp, total, acc.data(), want.data());
          }
          for (const std::string& isa : available_isas()) {
            set_isa(isa);
            for (int threads = 1; threads <= 3; ++threads) {
              set_kernel_threads(threads);
              std::vector<uint8_t> got(static_cast<size_t>(total), 99);
              conv2d_requantize(p, s, x.data(), 7, w.data(), 1, &wz, bias.data(), nullptr, args, type, got.data());
              CHECK(got == want);
            }
          }
        }
      }
    }
  }
  set_isa(saved);
  set_kernel_threads(saved_threads);
}

void test_fused_requantize() {
  std::mt19937_64 rng(99);
  Conv2DShape s;
  s.n = 2, s.c_in = 8, s.h = 13, s.w = 70, s.c_out = 6, s.kh = 3, s.kw = 3;
  Conv2DParams p;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  std::vector<uint8_t> x(static_cast<size_t>(s.n * s.c_in * s.h * s.w));
  std::vector<int8_t> w(static_cast<size_t>(s.c_out * s.c_in * s.kh * s.kw));
  for (auto& v : x) v = static_cast<uint8_t>(rng());
  for (auto& v : w) v = static_cast<int8_t>(rng());
  const std::vector<int32_t> wz = {0, 3, -128, 127, -5, 9};
  std::vector<int64_t> bias(static_cast<size_t>(s.c_out));
  for (auto& v : bias) v = static_cast<int32_t>(rng() % 200001) - 100000;
  const int64_t plane = s.h * s.w;  // stride 1, pad 1, 3x3: the output plane is the input's
  const int64_t count = s.n * s.c_out * plane;
  // matmul: [2, 5, 40] x [40, 70], channels along the 70 columns
  MatMulShape ms;
  ms.batch = 2, ms.m = 5, ms.k = 40, ms.n = 70;
  std::vector<int8_t> a(static_cast<size_t>(ms.batch * ms.m * ms.k)), b(static_cast<size_t>(ms.k * ms.n));
  for (auto& v : a) v = static_cast<int8_t>(rng());
  for (auto& v : b) v = static_cast<int8_t>(rng());
  std::vector<int64_t> mm_bias(static_cast<size_t>(ms.n));
  for (auto& v : mm_bias) v = static_cast<int32_t>(rng() % 200001) - 100000;
  const int32_t bzero = 0;

  std::vector<int32_t> mult(70), shift(70), pot_shift(70), zp = {-3};
  std::vector<float> scale(70);
  std::vector<int64_t> offset(70);
  for (int c = 0; c < 70; ++c) {
    mult[c] = static_cast<int32_t>((int64_t(1) << 30) + static_cast<int64_t>(rng() % (int64_t(1) << 30)));
    shift[c] = -static_cast<int32_t>(8 + rng() % 6);
    pot_shift[c] = -static_cast<int32_t>(6 + rng() % 8);
    scale[c] = static_cast<float>(1e-4 * (1 + static_cast<double>(rng() % 1000) / 100));
    offset[c] = static_cast<int64_t>(rng() % 2001) - 1000;
  }
  const std::string saved = active_isa();
  const int saved_threads = kernel_threads();
  const RequantizeMethod methods[] = {RequantizeMethod::kDoubleRound, RequantizeMethod::kSingleRound,
                                      RequantizeMethod::kInt64Reduced, RequantizeMethod::kPowerOfTwo,
                                      RequantizeMethod::kFp32};
  for (const RequantizeMethod method : methods) {
    for (const bool wide : {false, true}) {  // WRAP/32, int32 tiles; SATURATE/64 + offset, int64 tiles
      for (const bool is_conv : {true, false}) {
        const int64_t channels = is_conv ? s.c_out : ms.n;
        RequantizeArgs args;
        args.method = method;
        args.params = RequantizeParams{-128, 127, 1, 32, method == RequantizeMethod::kFp32 ? RoundingMode::STOCHASTIC
                                                                                          : RoundingMode::HALF_EVEN,
                                       12345, false, false};
        args.channels = channels;
        args.multiplier = mult.data();
        args.shift = method == RequantizeMethod::kPowerOfTwo ? pot_shift.data() : shift.data();
        args.scale = scale.data();
        args.zero_point_count = 1;
        args.zero_point = zp.data();
        const AccumulateParams acc{wide ? AccumulatePolicy::kSaturate : AccumulatePolicy::kWrap, wide ? 64 : 32};
        const int64_t* off = wide ? offset.data() : nullptr;
        const int64_t total = is_conv ? count : ms.batch * ms.m * ms.n;
        const int64_t inner = is_conv ? plane : 1;
        // the unfused result on the baseline, one thread
        set_isa("baseline");
        set_kernel_threads(1);
        std::vector<int8_t> want(static_cast<size_t>(total));
        std::vector<int64_t> acc64(static_cast<size_t>(total));
        std::vector<int32_t> acc32(static_cast<size_t>(total));
        p.acc = acc;
        if (wide) {
          if (is_conv) {
            conv2d_accumulate(p, s, x.data(), 7, w.data(), 6, wz.data(), bias.data(), acc64.data());
          } else {
            matmul_accumulate(acc, ms, a.data(), -2, b.data(), 1, &bzero, mm_bias.data(), acc64.data());
          }
          for (int64_t i = 0; i < total; ++i) acc64[i] += offset[is_conv ? i / plane % channels : i % channels];
          unfused_requantize(args, inner, acc64, &want);
        } else {
          if (is_conv) {
            conv2d_accumulate(p, s, x.data(), 7, w.data(), 6, wz.data(), bias.data(), acc32.data());
          } else {
            matmul_accumulate(acc, ms, a.data(), -2, b.data(), 1, &bzero, mm_bias.data(), acc32.data());
          }
          unfused_requantize(args, inner, acc32, &want);
        }
        for (const std::string& isa : available_isas()) {
          set_isa(isa);
          for (int threads = 1; threads <= 3; ++threads) {
            set_kernel_threads(threads);
            std::vector<int8_t> got(static_cast<size_t>(total), 99);
            if (is_conv) {
              conv2d_requantize(p, s, x.data(), 7, w.data(), 6, wz.data(), bias.data(), off, args, OutType::kInt8,
                                got.data());
            } else {
              matmul_requantize(acc, ms, a.data(), -2, b.data(), 1, &bzero, mm_bias.data(), off, args,
                                OutType::kInt8, got.data());
            }
            CHECK(got == want);
          }
        }
      }
    }
  }
  set_isa(saved);
  set_kernel_threads(saved_threads);
  // a requantization whose channel count fits neither 1 nor C_out
  RequantizeArgs bad;
  bad.method = RequantizeMethod::kDoubleRound;
  bad.params = RequantizeParams{-128, 127, 1, 32, RoundingMode::HALF_UP, 0, false, false};
  bad.channels = 4;
  bad.multiplier = mult.data();
  bad.shift = shift.data();
  bad.zero_point = zp.data();
  std::vector<int8_t> out(static_cast<size_t>(count));
  p.acc = AccumulateParams{};
  CHECK_THROWS_MSG(conv2d_requantize(p, s, x.data(), 7, w.data(), 6, wz.data(), nullptr, nullptr, bad,
                                     OutType::kInt8, out.data()),
                   std::invalid_argument, "expected 1 or 6");
}

// ---------------------------------------------------------------------------------------------
// gemmlowp fixed-point math and TFLite's integer softmax / logistic / tanh / hard-swish.
// Expected raw values come from fxsim/reference/fixedpoint_math.py (exact Python ints).

void test_fixedpoint_math() {
  CHECK_EQ(exp_on_negative_values(0, 5), INT32_MAX);
  CHECK_EQ(exp_on_negative_values(-(int32_t(1) << 26), 5), 790015308);  // exp(-1) in Q0.31
  CHECK_EQ(exp_on_negative_values(INT32_MIN, 0), 790015308);            // -1.0 in Q0
  CHECK_EQ(exp_on_negative_values(INT32_MIN, 5), 0);
  CHECK_EQ(exp_on_negative_values(INT32_MIN, 6), 0);   // below -32: clamped to 0
  CHECK_EQ(exp_on_negative_values(INT32_MIN, 29), 0);
  CHECK_EQ(exp_on_interval_between_negative_one_quarter_and_0_excl(-(int32_t(1) << 29)), 1672462419);
  CHECK_EQ(fixedpoint_logistic(0, 4), int32_t(1) << 30);
  CHECK_EQ(fixedpoint_logistic(int32_t(1) << 27, 4), 1569936226);   // logistic(1)
  CHECK_EQ(fixedpoint_logistic(-(int32_t(1) << 27), 4), 577547421);  // logistic(-1)
  CHECK_EQ(fixedpoint_logistic(INT32_MIN, 4), 241);                  // -|INT32_MIN| wraps to itself
  CHECK_EQ(fixedpoint_logistic(INT32_MIN, 29), 0);
  CHECK_EQ(fixedpoint_tanh(0, 4), 0);
  CHECK_EQ(fixedpoint_tanh(int32_t(1) << 27, 4), 1635510876);  // tanh(1)
  CHECK_EQ(fixedpoint_tanh(INT32_MIN, 4), -2147483647);
  CHECK_EQ(fixedpoint_tanh(INT32_MIN, 28), -2147483647);
  CHECK_EQ(one_over_one_plus_x_for_x_in_0_1(0), INT32_MAX);
  CHECK_EQ(one_over_one_plus_x_for_x_in_0_1(int32_t(1) << 30), 1431655762);        // 2/3
  CHECK_EQ(one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t(1) << 30), 715827876);  // 1/3
  int n = 0;
  CHECK_EQ(get_reciprocal(3 << 19, 12, &n), 1431655762);  // 1/3 = (2/3) / 2^1
  CHECK_EQ(n, 1);
  CHECK_EQ(get_reciprocal(-1, 12, &n), 1073741820);
  CHECK_EQ(n, 12);
  CHECK_EQ(get_reciprocal(1, 12, &n), INT32_MAX);
  CHECK_EQ(n, -19);
  CHECK_EQ(rounding_half_sum(INT32_MAX, INT32_MAX), INT32_MAX);
  CHECK_EQ(rounding_half_sum(INT32_MIN, INT32_MIN), INT32_MIN);
  CHECK_EQ(rounding_half_sum(-3, 0), -2);  // -1.5 -> -2 (half away)
  CHECK_EQ(rounding_half_sum(3, 0), 2);
  CHECK_EQ(saturating_rounding_multiply_by_pot(-(int32_t(1) << 29), 2), INT32_MIN);  // gemmlowp threshold
  CHECK_EQ(saturating_rounding_multiply_by_pot((int32_t(1) << 29) - 1, 2), INT32_MAX - 3);
  CHECK_EQ(saturating_rounding_multiply_by_pot(1, 31), INT32_MAX);
  CHECK_EQ(saturating_rounding_multiply_by_pot(-5, -1), -3);
  CHECK_EQ(saturating_rounding_multiply_by_pot(INT32_MIN, -31), -1);
  CHECK_EQ(srdhm16(INT16_MIN, INT16_MIN), INT16_MAX);
  CHECK_EQ(srdhm16(-16384, 1), 0);   // -0.5 -> 0 (ties toward +inf)
  CHECK_EQ(srdhm16(-16384, 3), -1);  // -1.5 -> -1
  CHECK_EQ(saturating_doubling_high_mul16(-16384, 3), -1);  // truncation toward zero
  CHECK_EQ(saturating_doubling_high_mul16(INT16_MIN, INT16_MIN), INT16_MAX);
  CHECK_EQ(rounding_divide_by_pot16(-3, 1), -2);
  CHECK_EQ(rounding_divide_by_pot16(INT16_MIN, 15), -1);
  CHECK_EQ(rounding_divide_by_pot16(0, 16), 1);  // gemmlowp int16 mask truncation
  CHECK_EQ(rounding_divide_by_pot16(-7, 31), -1);
  CHECK_EQ(saturating_left_shift16(3, 30), INT16_MAX);
  CHECK_EQ(saturating_left_shift16(-3, 30), INT16_MIN);
  // total on int32: every integer-bit count on extremes (the sanitizer build checks for UB)
  const int32_t extremes[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX};
  for (int32_t a : extremes) {
    for (int ib = 0; ib <= 29; ++ib) {
      (void)exp_on_negative_values(a, ib);
      (void)fixedpoint_logistic(a, ib);
      if (ib <= 28) (void)fixedpoint_tanh(a, ib);
    }
    (void)one_over_one_plus_x_for_x_in_0_1(a);
    (void)one_minus_x_over_one_plus_x_for_x_in_0_1(a);
    (void)exp_on_interval_between_negative_one_quarter_and_0_excl(a);
    if (a != 0) (void)get_reciprocal(a, 31, &n);
  }
}

void test_nonlinear_kernels() {
  // CMSIS-NN's s8 softmax test vectors (bit-exact with TFLite Micro's reference Softmax by the
  // CMSIS-NN README), as carried by Zephyr's CMSIS-NN integration test (test_softmax):
  // 2 rows of 5, input_mult 1077952640, left shift 19, diff_min -3968.
  const int8_t in1[10] = {101, 49, 6, -34, -75, -79, -38, 120, -55, 115};
  const int8_t want1[10] = {-57, -70, -79, -86, -92, -94, -88, -54, -91, -56};
  int8_t out1[10] = {0};
  softmax_tflite(SoftmaxParams{1077952640, 19, -3968}, 2, 5, in1, out1);
  for (int i = 0; i < 10; ++i) CHECK_EQ(static_cast<int>(out1[i]), static_cast<int>(want1[i]));
  // the older CMSIS_5 vector: 1 row of 5, input_mult 1077952576, left shift 23, diff_min -248
  const int8_t in2[5] = {-80, -48, 16, 0, -96};
  const int8_t want2[5] = {-128, -125, 56, -60, -128};
  int8_t out2[5] = {0};
  softmax_tflite(SoftmaxParams{1077952576, 23, -248}, 1, 5, in2, out2);
  for (int i = 0; i < 5; ++i) CHECK_EQ(static_cast<int>(out2[i]), static_cast<int>(want2[i]));
  // depth 1 (probability one) for each output type
  int16_t o16 = 0;
  uint8_t o8u = 0;
  softmax_tflite(SoftmaxParams{1077952576, 23, -248}, 1, 1, in2, &o16);
  softmax_tflite(SoftmaxParams{1077952576, 23, -248}, 1, 1, in2, &o8u);
  CHECK_EQ(static_cast<int>(o16), 32767);
  CHECK_EQ(static_cast<int>(o8u), 255);
  // 512 equal maxima: a real sum of 512 needs exponent 32 for an 8-bit output (TFLITE_CHECK)
  std::vector<int8_t> flat(1024, 3);
  std::vector<int8_t> flat_out(1024);
  CHECK_THROWS_MSG(softmax_tflite(SoftmaxParams{1077952576, 23, -248}, 2, 512, flat.data(), flat_out.data()),
                   std::out_of_range, "row 0");
  std::vector<int16_t> flat_out16(1024);
  softmax_tflite(SoftmaxParams{1077952576, 23, -248}, 2, 512, flat.data(), flat_out16.data());
  CHECK_EQ(static_cast<int>(flat_out16[0]), 128 - 32768);  // 1/512 on the 1/65536 scale
  CHECK_THROWS_MSG(softmax_tflite(SoftmaxParams{1077952576, 23, -249}, 1, 5, in2, out2), std::invalid_argument,
                   "diff_min");
  CHECK_THROWS_MSG(softmax_tflite(SoftmaxParams{1077952576, 23, -248}, 1, 0, in2, out2), std::invalid_argument,
                   "depth");
  CHECK_THROWS_MSG(softmax_tflite(SoftmaxParams{-1, 23, -248}, 1, 5, in2, out2), std::invalid_argument,
                   "input_multiplier");

  // the lookup-table kernels equal the scalar definitions on every code, for drawn parameters
  std::mt19937_64 rng(42);
  int8_t codes[256];
  uint8_t ucodes[256];
  for (int v = 0; v < 256; ++v) codes[v] = static_cast<int8_t>(v - 128), ucodes[v] = static_cast<uint8_t>(v);
  int8_t out[256];
  uint8_t uout[256];
  for (int trial = 0; trial < 200; ++trial) {
    const int shift = static_cast<int>(rng() % 63);
    const int64_t bound = (int64_t(15) << 27) >> shift;
    const int32_t radius = static_cast<int32_t>(bound == 0 ? 0 : static_cast<int64_t>(rng() % (bound + 1)));
    const LogisticTanhParams p{static_cast<int32_t>(rng() % 256) - 128, radius,
                               static_cast<int32_t>(rng() % (uint64_t(1) << 31)), shift};
    logistic_tflite(p, 256, codes, out);
    for (int v = 0; v < 256; ++v) CHECK_EQ(static_cast<int>(out[v]), logistic_tflite_element(p, v - 128, false));
    tanh_tflite(p, 256, codes, out);
    for (int v = 0; v < 256; ++v) CHECK_EQ(static_cast<int>(out[v]), tanh_tflite_element(p, v - 128, false));
    const LogisticTanhParams pu{p.input_zero_point + 128, p.input_range_radius, p.input_multiplier, shift};
    tanh_tflite(pu, 256, ucodes, uout);
    for (int v = 0; v < 256; ++v) CHECK_EQ(static_cast<int>(uout[v]), tanh_tflite_element(pu, v, true));
    const HardSwishParams h{static_cast<int32_t>(rng() % 256) - 128, static_cast<int32_t>(rng() % 256) - 128,
                            static_cast<int32_t>(rng() % 65536) - 32768, static_cast<int>(rng() % 63) - 31,
                            static_cast<int32_t>(rng() % 65536) - 32768, -static_cast<int>(rng() % 32)};
    hard_swish_tflite(h, 256, codes, out);
    for (int v = 0; v < 256; ++v) CHECK_EQ(static_cast<int>(out[v]), hard_swish_tflite_element(h, v - 128, false));
  }
  // logistic(0) = 1/2 -> code 0 (int8, zero point -128); tanh(0) = 0; saturation outside the radius
  const LogisticTanhParams l{0, 120, 1073741824, 24};  // scale 1/16
  CHECK_EQ(logistic_tflite_element(l, 0, false), 0);
  CHECK_EQ(logistic_tflite_element(l, -128, false), -128);
  CHECK_EQ(logistic_tflite_element(l, 127, false), 127);
  CHECK_EQ(tanh_tflite_element(l, 0, false), 0);
  CHECK_EQ(tanh_tflite_element(LogisticTanhParams{128, 120, 1073741824, 24}, 128, true), 128);
  CHECK_THROWS_MSG(logistic_tflite(LogisticTanhParams{0, 121, 1073741824, 24}, 256, codes, out),
                   std::invalid_argument, "input_range_radius");
  CHECK_THROWS_MSG(hard_swish_tflite(HardSwishParams{0, 0, 1, 0, 1, 1}, 256, codes, out), std::invalid_argument,
                   "output_exponent");

  // int16 softmax on synthetic tables (exp_lut[i] = min(64 i, 32767), recip_lut[i] = 32767 - 32 i);
  // expected values from fxsim/reference/nonlinear.py softmax_int16 / lut_lookup_int16
  int16_t exp_lut[513], recip_lut[513];
  for (int i = 0; i < 513; ++i) {
    exp_lut[i] = static_cast<int16_t>(std::min(64 * i, 32767));
    recip_lut[i] = static_cast<int16_t>(32767 - 32 * i);
  }
  CHECK_EQ(static_cast<int>(lut_lookup_int16(INT16_MIN, exp_lut)), 0);
  CHECK_EQ(static_cast<int>(lut_lookup_int16(INT16_MAX, exp_lut)), 32767);
  CHECK_EQ(static_cast<int>(lut_lookup_int16(100, recip_lut)), 24550);
  CHECK_EQ(static_cast<int>(lut_lookup_int16(-1, recip_lut)), 24575);
  const int16_t x16[5] = {0, -1000, -20000, -32768, 1000};
  const int16_t want16[5] = {7947, 7824, 5484, 3912, 8070};
  int16_t y16[5] = {0};
  softmax_int16_tflite(SoftmaxInt16Params{1 << 30, 1}, 1, 5, x16, exp_lut, recip_lut, y16);
  for (int i = 0; i < 5; ++i) CHECK_EQ(static_cast<int>(y16[i]), static_cast<int>(want16[i]));
  softmax_int16_tflite(SoftmaxInt16Params{1 << 30, 1}, 1, 1, x16, exp_lut, recip_lut, y16);
  CHECK_EQ(static_cast<int>(y16[0]), 32767);
  int16_t zero_lut[513] = {0};
  CHECK_THROWS_MSG(softmax_int16_tflite(SoftmaxInt16Params{1 << 30, 1}, 1, 5, x16, zero_lut, recip_lut, y16),
                   std::out_of_range, "row 0");
  CHECK_THROWS_MSG(softmax_int16_tflite(SoftmaxInt16Params{1 << 30, 32}, 1, 5, x16, exp_lut, recip_lut, y16),
                   std::invalid_argument, "input_left_shift");
}

}  // namespace

#include "test_elementwise_pooling.inc"
#include "test_resize_nonlinear16.inc"

// ---- packed weights (csrc/fxsim/kernels/packed_weights.h) ----
// int4 bytes unpacked by the constructor equal the unpacked codes packed; raw sums wrap modulo
// 2^32 and the offset formula still gives wrap(exact); a shape mismatch is an invalid_argument.
void test_packed_weights() {
  // 2 x 3 x 1 x 3 signed 4-bit weights, dense: 18 values in 9 bytes
  const int8_t w4[18] = {-8, 7, 0, 1, -1, 3, 5, -6, 2, 7, 7, -8, 0, 0, 4, -3, 1, 6};
  uint8_t bytes[9];
  pack_int4(w4, 18, true, bytes);
  const int32_t zp4[2] = {-8, 7};
  const PackedConvWeights from4 = pack_conv_weights_int4(bytes, 9, true, false, 2, 3, 1, 3, 2, zp4);
  const PackedConvWeights from8 = pack_conv_weights(w4, 2, 3, 1, 3, 2, zp4);
  CHECK(from4.words == from8.words && from4.pairs().words == from8.pairs().words && from4.codes == from8.codes &&
        from4.offsets.sum == from8.offsets.sum);
  CHECK_THROWS_MSG(pack_conv_weights_int4(bytes, 8, true, false, 2, 3, 1, 3, 2, zp4), std::invalid_argument,
                   "the shape needs 9");
  // K = 70001 products (255 - 0) * (-128 - 127): the exact sum wraps at 32 bits
  const int64_t k = 70001;
  std::vector<uint8_t> a(static_cast<size_t>(k), 255);
  std::vector<int8_t> b(static_cast<size_t>(k), -128);
  const int32_t bz = 127;
  const PackedMatMulWeights pb = pack_matmul_weights(b.data(), k, 1, 1, &bz);
  const int64_t exact = int64_t(255) * (-255) * k;
  const std::string saved = active_isa();
  for (const std::string& isa : available_isas()) {
    set_isa(isa);
    int32_t out = 0;
    matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 32}, MatMulShape{1, 1, k, 1, false}, a.data(), 0, pb,
                      nullptr, &out);
    CHECK_EQ(out, wrap_int64_to_int32(exact));
  }
  set_isa(saved);
  int32_t out = 0;
  CHECK_THROWS_MSG(matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 32}, MatMulShape{1, 1, k - 1, 1, false},
                                     a.data(), 0, pb, nullptr, &out),
                   std::invalid_argument, "the packed weights are [70001, 1]");
}

// ---- the word interleaves (gemm_kernels.h Interleave4Fn, InterleavePairsFn) ----
// Every variant's interleave equals its definition for every count up to past three vector steps
// (the tails: 0..63 words after the last whole step), at unaligned offsets, with each flip byte
// pattern the callers pass (int8 codes: 0x80 in the real channels' bytes).
void test_interleave_words() {
  const std::string saved = active_isa();
  std::mt19937 rng(23);
  const uint32_t flips[] = {0u, 0x80808080u, 0x00008080u, 0x80u, 0xFFFFFFFFu};
  for (const std::string& isa : available_isas()) {
    set_isa(isa);
    const GemmTable& k = active_gemm_kernels();
    for (int64_t count = 0; count <= 200; ++count) {
      const int64_t offset = count % 7;
      std::vector<uint8_t> rows[4];
      for (auto& row : rows) {
        row.resize(static_cast<size_t>(offset + count + 1));
        for (auto& v : row) v = static_cast<uint8_t>(rng());
      }
      const uint32_t flip = flips[count % 5];
      // a sentinel word past the end: nothing is written past count
      std::vector<uint32_t> got(static_cast<size_t>(count + 1), 0xDEADBEEFu), want(got);
      for (int64_t i = 0; i < count; ++i) {
        const size_t at = static_cast<size_t>(offset + i);
        want[i] = (rows[0][at] | rows[1][at] << 8 | rows[2][at] << 16 | static_cast<uint32_t>(rows[3][at]) << 24) ^ flip;
      }
      k.interleave4(rows[0].data() + offset, rows[1].data() + offset, rows[2].data() + offset,
                    rows[3].data() + offset, count, flip, got.data());
      report(got == want, __FILE__, __LINE__, isa + " interleave4, count " + str(count));
      if (k.interleave_pairs == nullptr) continue;
      const uint8_t pair_flip = static_cast<uint8_t>(flip);
      for (int64_t i = 0; i < count; ++i) {
        const size_t at = static_cast<size_t>(offset + i);
        want[i] = static_cast<uint32_t>(rows[0][at] ^ pair_flip) | static_cast<uint32_t>(rows[2][at] ^ pair_flip) << 16;
      }
      std::fill(got.begin(), got.end(), 0xDEADBEEFu);
      k.interleave_pairs(rows[0].data() + offset, rows[2].data() + offset, count, pair_flip, got.data());
      report(got == want, __FILE__, __LINE__, isa + " interleave_pairs, count " + str(count));
    }
  }
  set_isa(saved);
}

// ---- the row tiles' heights (gemm_kernels.inc row_tiles) ----
// Every count of rows a register tile loop meets, 1..45 (past the matmul's 32-row tasks: each
// task's rows split into tiles of balanced heights), as matmul rows (A rows broadcast, the
// in-register epilogue and the int32 sums) and as conv output channels (the weight rows), on
// every ISA and thread count against the WRAP-64 definition.
void test_row_tile_heights() {
  std::mt19937_64 rng(31);
  const int64_t k = 20, n = 70;  // a whole and a partial 64-column tile
  std::vector<int8_t> b(static_cast<size_t>(k * n));
  for (auto& v : b) v = static_cast<int8_t>(rng());
  const int32_t bz = 0, zp = 3;
  const PackedMatMulWeights pb = pack_matmul_weights(b.data(), k, n, 1, &bz);
  const float scale = 1.0f / 64;
  RequantizeArgs args;
  args.method = RequantizeMethod::kFp32;
  args.params = RequantizeParams{0, 255, 1, 32, RoundingMode::HALF_EVEN, 0, false, false};
  args.channels = 1, args.scale = &scale, args.zero_point_count = 1, args.zero_point = &zp;
  for (int64_t m = 1; m <= 45; ++m) {
    MatMulShape ms;
    ms.batch = 1, ms.m = m, ms.k = k, ms.n = n;
    std::vector<uint8_t> a(static_cast<size_t>(m * k));
    for (auto& v : a) v = static_cast<uint8_t>(rng());
    std::vector<int64_t> acc64(static_cast<size_t>(m * n));
    matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 64}, ms, a.data(), 9, b.data(), 1, &bz, nullptr,
                      acc64.data());
    const std::vector<int32_t> want_acc(acc64.begin(), acc64.end());  // |acc| < 2^31 here
    std::vector<uint8_t> want(want_acc.size());
    requantize_fp32(args.params, 1, &scale, 1, &zp, static_cast<int64_t>(want.size()), want_acc.data(), want.data());
    for_each_isa_and_thread_count([&] {
      std::vector<int32_t> got_acc(want_acc.size(), 5);
      matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 32}, ms, a.data(), 9, pb, nullptr, got_acc.data());
      report(got_acc == want_acc, __FILE__, __LINE__, std::string(active_isa()) + " matmul sums, m " + str(m));
      std::vector<uint8_t> got(want.size(), 5);
      matmul_requantize(AccumulateParams{AccumulatePolicy::kWrap, 32}, ms, a.data(), 9, pb, nullptr, nullptr, args,
                        OutType::kUInt8, got.data());
      report(got == want, __FILE__, __LINE__, std::string(active_isa()) + " matmul codes, m " + str(m));
    });
  }
  Conv2DParams p;
  p.acc = AccumulateParams{AccumulatePolicy::kWrap, 32};
  Conv2DParams p64 = p;
  p64.acc.acc_bits = 64;
  for (int64_t c_out = 1; c_out <= 45; ++c_out) {
    const Conv2DShape s{1, 12, 5, 14, c_out, 1, 1};
    std::vector<uint8_t> x(static_cast<size_t>(s.c_in * s.h * s.w));
    for (auto& v : x) v = static_cast<uint8_t>(rng());
    std::vector<int8_t> w(static_cast<size_t>(c_out * s.c_in));
    for (auto& v : w) v = static_cast<int8_t>(rng());
    std::vector<int64_t> acc64(static_cast<size_t>(c_out * s.h * s.w));
    conv2d_accumulate(p64, s, x.data(), 200, w.data(), 1, &bz, nullptr, acc64.data());
    const std::vector<int32_t> want(acc64.begin(), acc64.end());
    const PackedConvWeights pw = pack_conv_weights(w.data(), c_out, s.c_in, 1, 1, 1, &bz);
    for_each_isa_and_thread_count([&] {
      std::vector<int32_t> got(want.size(), 5);
      conv2d_accumulate(p, s, x.data(), 200, pw, nullptr, got.data());
      report(got == want, __FILE__, __LINE__, std::string(active_isa()) + " conv sums, c_out " + str(c_out));
    });
  }
}

// The double-round plans (Dot4Epilogue::multiplier) the tile-epilogue tests run after their fp32
// one, with their reference codes of `want_acc`: s8 codes per channel with the corners INT32_MIN,
// negative and INT32_MAX multipliers, both shift ends, a half multiplier at right shifts 8..10
// (and 11 with 8 corners: ties of the final shift) and a Relu6-like clamp; then int16 codes per
// tensor (the vector-by-vector store). `base` gives the rest of the arguments. The plans point
// into this object, which therefore stays where it is built.
struct DoubleRoundEpilogueCases {
  DoubleRoundEpilogueCases(const RequantizeArgs& base, int64_t channels, int64_t inner, int corners,
                           const std::vector<int32_t>& want_acc)
      : mult(static_cast<size_t>(channels)), shift(static_cast<size_t>(channels)) {
    const int32_t corner_mult[] = {1 << 30, INT32_MIN, 1 << 30, -1073741824, INT32_MAX, 1 << 30, 1518500250, 1 << 30};
    const int32_t corner_shift[] = {-8, 0, -9, -31, 31, -10, -13, -11};
    for (int64_t c = 0; c < channels; ++c) mult[c] = corner_mult[c % corners], shift[c] = corner_shift[c % corners];
    const int64_t total = static_cast<int64_t>(want_acc.size());
    const RequantizeParams rp8{-100, -100 + 72, inner, 32, RoundingMode::HALF_AWAY, 0, false, false};
    want8.resize(want_acc.size());
    requantize_double_round(rp8, channels, mult.data(), shift.data(), 1, &zp8, total, want_acc.data(), want8.data());
    s8 = base;
    s8.method = RequantizeMethod::kDoubleRound;
    s8.params = rp8;
    s8.scale = nullptr;
    s8.multiplier = mult.data();
    s8.shift = shift.data();
    s8.zero_point = &zp8;
    const RequantizeParams rp16{INT16_MIN, INT16_MAX, inner, 32, RoundingMode::HALF_AWAY, 0, false, false};
    want16.resize(want_acc.size());
    requantize_double_round(rp16, 1, &m16, &s16_shift, 1, &zp16, total, want_acc.data(), want16.data());
    s16 = s8;
    s16.params = rp16;
    s16.channels = 1;
    s16.multiplier = &m16;
    s16.shift = &s16_shift;
    s16.zero_point = &zp16;
  }
  DoubleRoundEpilogueCases(const DoubleRoundEpilogueCases&) = delete;
  DoubleRoundEpilogueCases& operator=(const DoubleRoundEpilogueCases&) = delete;

  std::vector<int32_t> mult, shift;
  const int32_t zp8 = -100, zp16 = 7, m16 = 1518500250, s16_shift = -6;
  RequantizeArgs s8, s16;
  std::vector<int8_t> want8;
  std::vector<int16_t> want16;
};

// A conv's exact int32 sums (WRAP 32 as int64 accumulators wrapped: the sink path, checked
// against a naive loop by check_conv_layer) and the codes the fused calls must give for them: u8
// codes of per-channel float32 HALF_EVEN scales with zero point `zp` (requantize_fp32), and
// DoubleRoundEpilogueCases's int8 / int16 double-round codes.
struct ConvEpilogueCases {
  template <typename X>
  ConvEpilogueCases(Conv2DParams p, const Conv2DShape& s, const X* x, int32_t x_zp, const int8_t* w, int32_t wz,
                    const int64_t* bias, std::vector<float> scales, int32_t zp_u8, int corners)
      : want_acc(wrapped_sums(p, s, x, x_zp, w, wz, bias)), scale(std::move(scales)), zp(zp_u8),
        rp{0, 255, plane(p, s), 32, RoundingMode::HALF_EVEN, 0, false, false}, args(fp32_args()),
        dr(args, s.c_out, plane(p, s), corners, want_acc) {
    want.resize(want_acc.size());
    requantize_fp32(rp, s.c_out, scale.data(), 1, &zp, static_cast<int64_t>(want_acc.size()), want_acc.data(),
                    want.data());
  }
  ConvEpilogueCases(const ConvEpilogueCases&) = delete;
  ConvEpilogueCases& operator=(const ConvEpilogueCases&) = delete;

  static int64_t plane(const Conv2DParams& p, const Conv2DShape& s) {
    const Conv2DOutputSize o = conv2d_output_size(p, s);
    return o.oh * o.ow;
  }
  template <typename X>
  static std::vector<int32_t> wrapped_sums(Conv2DParams p, const Conv2DShape& s, const X* x, int32_t x_zp,
                                           const int8_t* w, int32_t wz, const int64_t* bias) {
    p.acc = AccumulateParams{AccumulatePolicy::kWrap, 64};
    const int64_t total = s.n * s.c_out * plane(p, s);
    std::vector<int64_t> acc64(static_cast<size_t>(total));
    conv2d_accumulate(p, s, x, x_zp, w, 1, &wz, bias, acc64.data());
    std::vector<int32_t> sums(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) sums[i] = wrap_int64_to_int32(acc64[i]);
    return sums;
  }
  RequantizeArgs fp32_args() const {
    RequantizeArgs a;
    a.method = RequantizeMethod::kFp32;
    a.params = rp;
    a.channels = static_cast<int64_t>(scale.size());
    a.scale = scale.data();
    a.zero_point = &zp;
    return a;
  }

  std::vector<int32_t> want_acc;
  std::vector<float> scale;
  int32_t zp;
  RequantizeParams rp;
  RequantizeArgs args;  // the u8 requantization
  std::vector<uint8_t> want;
  DoubleRoundEpilogueCases dr;
};

// ---- the matmul tile epilogue (gemm_kernels.h Dot4Epilogue) ----
// u8 activations with K % 4 == 0 read in place from a buffer misaligned by one byte, per-column
// weight zero points (the activations' row sums), per-column float32 HALF_EVEN scales into u8
// codes (full 64-column rows take the packed store, the 6 last columns the masked one), and the
// int32 accumulators: equal to matmul_accumulate at 64 bits, then requantize_fp32, on every ISA
// and 1-3 threads; then per-column zero points into u8 and s8 codes (the codes clamped as bytes)
// and the double-round form (requantize_double_round).
void test_matmul_tile_epilogue() {
  std::mt19937_64 rng(7);
  MatMulShape ms;
  ms.batch = 1, ms.m = 14, ms.k = 48, ms.n = 134;
  std::vector<uint8_t> storage(static_cast<size_t>(ms.m * ms.k + 1));
  for (auto& v : storage) v = static_cast<uint8_t>(rng());
  const uint8_t* a = storage.data() + 1;
  std::vector<int8_t> b(static_cast<size_t>(ms.k * ms.n));
  for (auto& v : b) v = static_cast<int8_t>(rng());
  std::vector<int32_t> bz(static_cast<size_t>(ms.n)), zp = {120};
  for (auto& v : bz) v = static_cast<int32_t>(rng() % 256) - 128;
  std::vector<int64_t> bias(static_cast<size_t>(ms.n));
  for (auto& v : bias) v = static_cast<int64_t>(rng() % 400001) - 200000;
  std::vector<float> scale(static_cast<size_t>(ms.n));
  for (auto& v : scale) v = static_cast<float>(1e-4 * (1 + static_cast<double>(rng() % 1000) / 50));
  scale[3] = 0.5f;  // exact ties on odd accumulators
  const int64_t total = ms.m * ms.n;
  std::vector<int64_t> acc64(static_cast<size_t>(total));
  matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 64}, ms, a, 101, b.data(), ms.n, bz.data(),
                    bias.data(), acc64.data());
  std::vector<int32_t> want_acc(acc64.begin(), acc64.end());  // |acc| < 2^31 here
  std::vector<uint8_t> want(static_cast<size_t>(total));
  RequantizeParams rp{0, 255, 1, 32, RoundingMode::HALF_EVEN, 0, false, false};
  requantize_fp32(rp, ms.n, scale.data(), 1, zp.data(), total, want_acc.data(), want.data());
  RequantizeArgs args;
  args.method = RequantizeMethod::kFp32;
  args.params = rp;
  args.channels = ms.n;
  args.scale = scale.data();
  args.zero_point_count = 1;
  args.zero_point = zp.data();
  const PackedMatMulWeights pb = pack_matmul_weights(b.data(), ms.k, ms.n, ms.n, bz.data());
  // the fused call's codes (of tag's type) under rq, into a buffer filled with 3 first
  auto fused = [&](const RequantizeArgs& rq, OutType type, auto tag) {
    std::vector<decltype(tag)> got(static_cast<size_t>(total), 3);
    matmul_requantize(AccumulateParams{AccumulatePolicy::kWrap, 32}, ms, a, 101, pb, bias.data(), nullptr, rq, type,
                      got.data());
    return got;
  };
  for_each_isa_and_thread_count([&] {
    CHECK(fused(args, OutType::kUInt8, uint8_t{}) == want);
    std::vector<int32_t> got_acc(static_cast<size_t>(total), 3);
    matmul_accumulate(AccumulateParams{AccumulatePolicy::kWrap, 32}, ms, a, 101, pb, bias.data(), got_acc.data());
    CHECK(got_acc == want_acc);
  });
  // The codes packed and clamped as bytes per column (Dot4Epilogue::codes_clamp, every scale
  // <= 0.5 here): per-column zero points at both ends and between, s8 and u8 codes, the full
  // range and a Relu6-like one, the zero point added after rounding or in float (a float add).
  std::vector<int32_t> zps(static_cast<size_t>(ms.n));
  for (int64_t j = 0; j < ms.n; ++j) zps[j] = j % 3 == 0 ? 0 : j % 3 == 1 ? 255 : static_cast<int32_t>(rng() % 256);
  for (const bool zp_in_float : {false, true}) {
    for (const bool relu6 : {false, true}) {
      RequantizeParams rpu{relu6 ? 120 : 0, relu6 ? 126 : 255, 1, 32, RoundingMode::HALF_EVEN, 0, false, zp_in_float};
      std::vector<uint8_t> want_u8(static_cast<size_t>(total));
      requantize_fp32(rpu, ms.n, scale.data(), ms.n, zps.data(), total, want_acc.data(), want_u8.data());
      RequantizeArgs au = args;
      au.params = rpu;
      au.zero_point_count = ms.n;
      au.zero_point = zps.data();
      std::vector<int32_t> zps8(zps);
      for (auto& z : zps8) z -= 128;
      RequantizeParams rps = rpu;
      rps.qmin -= 128, rps.qmax -= 128;
      std::vector<int8_t> want_s8(static_cast<size_t>(total));
      requantize_fp32(rps, ms.n, scale.data(), ms.n, zps8.data(), total, want_acc.data(), want_s8.data());
      RequantizeArgs as = au;
      as.params = rps;
      as.zero_point = zps8.data();
      for_each_isa_and_thread_count([&] {
        CHECK(fused(au, OutType::kUInt8, uint8_t{}) == want_u8);
        CHECK(fused(as, OutType::kInt8, int8_t{}) == want_s8);
      });
    }
  }
  // the double-round form, per column (8 corners: a half multiplier at right shift 11 too)
  const DoubleRoundEpilogueCases dr(args, ms.n, 1, 8, want_acc);
  for_each_isa_and_thread_count([&] {
    CHECK(fused(dr.s8, OutType::kInt8, int8_t{}) == dr.want8);
    CHECK(fused(dr.s16, OutType::kInt16, int16_t{}) == dr.want16);
  });
}

// ---- the conv tile epilogue (gemm_kernels.h Dot4Epilogue, rows_are_channels) ----
// conv2d.cc conv_dot4's `tiled` path: 1x1 convs whose GEMM columns are consecutive outputs
// (stride 1 with a ragged channel count: a partial quad, a half-real int16 pair, 2 images; a
// grouped strided 1x1: the gathered words) and a padded, strided, dilated 3x2 kernel whose
// columns include the dropped ones between output rows (codes through a tile, runs copied
// out); 14, 5 and 9 output channels per group (partial register tiles of rows), 99, 63 and 91
// pixels (partial column tiles). Per-channel float32
// HALF_EVEN into u8 (odd accumulators at scale 0.5: ties), per-channel double rounding into s8
// with the corner multipliers and shifts, per-tensor double rounding into int16, and the int32
// accumulators: equal to the 64-bit accumulators (the sink path) requantized by
// requantize_fp32 / requantize_double_round over [n, c_out, OH * OW], on every ISA and 1-3
// threads. A weight zero point takes the sink path (no tile epilogue): the same check covers it.
void test_conv_tile_epilogue() {
  std::mt19937_64 rng(11);
  struct Layer {
    Conv2DShape s;
    int64_t stride, groups, pad, dilation;
    bool w_zp;
  };
  const Layer layers[] = {{Conv2DShape{2, 10, 9, 11, 14, 1, 1}, 1, 1, 0, 1, false},
                          {Conv2DShape{1, 12, 13, 17, 10, 1, 1}, 2, 2, 0, 1, false},
                          {Conv2DShape{1, 12, 13, 17, 10, 1, 1}, 2, 2, 0, 1, true},
                          {Conv2DShape{1, 18, 15, 26, 9, 3, 2}, 2, 1, 1, 2, false}};
  for (const Layer& layer : layers) {
    const Conv2DShape& s = layer.s;
    Conv2DParams p;
    p.stride_h = p.stride_w = layer.stride;
    p.groups = layer.groups;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = layer.pad;
    p.dilation_h = p.dilation_w = layer.dilation;
    const int64_t cig = s.c_in / p.groups;
    std::vector<uint8_t> x(static_cast<size_t>(s.n * s.c_in * s.h * s.w));
    for (auto& v : x) v = static_cast<uint8_t>(rng());
    std::vector<int8_t> w(static_cast<size_t>(s.c_out * cig * s.kh * s.kw));
    for (auto& v : w) v = static_cast<int8_t>(rng());
    const int32_t wz = layer.w_zp ? 3 : 0;
    std::vector<int64_t> bias(static_cast<size_t>(s.c_out));
    for (auto& v : bias) v = static_cast<int64_t>(rng() % 400001) - 200000;
    bias[1] = int64_t(1) << 40;  // wraps modulo 2^32 like every WRAP 32 path
    p.acc = AccumulateParams{AccumulatePolicy::kWrap, 32};
    std::vector<float> scale(static_cast<size_t>(s.c_out));
    for (auto& v : scale) v = static_cast<float>(1e-4 * (1 + static_cast<double>(rng() % 1000) / 50));
    scale[3] = 0.5f;
    const ConvEpilogueCases cases(p, s, x.data(), 77, w.data(), wz, bias.data(), scale, 120, 7);
    const int64_t total = static_cast<int64_t>(cases.want.size());
    const RequantizeArgs& args = cases.args;
    const DoubleRoundEpilogueCases& dr = cases.dr;
    const std::vector<uint8_t>& want = cases.want;
    const std::vector<int32_t>& want_acc = cases.want_acc;
    const PackedConvWeights pw = pack_conv_weights(w.data(), s.c_out, cig, s.kh, s.kw, 1, &wz);
    for_each_isa_and_thread_count([&] {
      std::vector<uint8_t> got(static_cast<size_t>(total), 3);
      conv2d_requantize(p, s, x.data(), 77, pw, bias.data(), nullptr, args, OutType::kUInt8, got.data());
      CHECK(got == want);
      std::vector<int8_t> got8(static_cast<size_t>(total), 3);
      conv2d_requantize(p, s, x.data(), 77, pw, bias.data(), nullptr, dr.s8, OutType::kInt8, got8.data());
      CHECK(got8 == dr.want8);
      std::vector<int16_t> got16(static_cast<size_t>(total), 3);
      conv2d_requantize(p, s, x.data(), 77, pw, bias.data(), nullptr, dr.s16, OutType::kInt16, got16.data());
      CHECK(got16 == dr.want16);
      std::vector<int32_t> got_acc(static_cast<size_t>(total), 3);
      conv2d_accumulate(p, s, x.data(), 77, pw, bias.data(), got_acc.data());
      CHECK(got_acc == want_acc);
    });
  }
}

#if defined(__unix__)
// `count` elements ending where a PROT_NONE page begins: a read or write past the end faults
// (the masked vector loads and stores are not seen by AddressSanitizer, a guard page sees them).
template <typename T>
class GuardedArray {
 public:
  explicit GuardedArray(int64_t count) : count_(count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = static_cast<size_t>(count) * sizeof(T);
    data_pages_ = (bytes + page - 1) / page * page;
    size_ = data_pages_ + page;
    base_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED) throw std::runtime_error("mmap failed");
    if (mprotect(static_cast<char*>(base_) + data_pages_, page, PROT_NONE) != 0) {
      throw std::runtime_error("mprotect failed");
    }
    data_ = reinterpret_cast<T*>(static_cast<char*>(base_) + data_pages_ - bytes);
  }
  GuardedArray(const GuardedArray&) = delete;
  GuardedArray& operator=(const GuardedArray&) = delete;
  ~GuardedArray() { munmap(base_, size_); }
  T* data() { return data_; }
  std::vector<T> vector() const { return std::vector<T>(data_, data_ + count_); }

 private:
  int64_t count_;
  size_t data_pages_ = 0, size_ = 0;
  void* base_ = nullptr;
  T* data_ = nullptr;
};

// A 1x1 stride-1 conv without padding reads its input's rows of bytes in the GEMM tiles
// (conv2d.cc from_rows, gemm_kernels.h Dot4ByteRows): input channels that are not a multiple of
// 4 per group (the last quad's rows past the group are never read) and partial 64-column tiles
// (masked loads), with the input and the output each ending at a guard page; codes equal the
// accumulators then requantize_fp32 / requantize_double_round on every ISA and thread count.
template <typename X>
void check_conv_rows_inside_input(std::mt19937_64& rng, const Conv2DShape& s, int64_t groups) {
  Conv2DParams p;
  p.groups = groups;
  const int64_t cig = s.c_in / groups, in_count = s.n * s.c_in * s.h * s.w;
  GuardedArray<X> x(in_count);
  for (int64_t i = 0; i < in_count; ++i) x.data()[i] = static_cast<X>(rng());
  std::vector<int8_t> w(static_cast<size_t>(s.c_out * cig));
  for (auto& v : w) v = static_cast<int8_t>(rng());
  std::vector<int64_t> bias(static_cast<size_t>(s.c_out));
  for (auto& v : bias) v = static_cast<int64_t>(rng() % 400001) - 200000;
  const int32_t wz = 0, x_zp = std::is_signed<X>::value ? -3 : 131;
  p.acc = AccumulateParams{AccumulatePolicy::kWrap, 32};
  std::vector<float> scale(static_cast<size_t>(s.c_out));
  for (auto& v : scale) v = static_cast<float>(1e-3 * (1 + static_cast<double>(rng() % 1000) / 50));
  const std::vector<X> x_copy = x.vector();
  const ConvEpilogueCases cases(p, s, x_copy.data(), x_zp, w.data(), wz, bias.data(), scale, 17, 8);
  const int64_t total = static_cast<int64_t>(cases.want.size());
  const RequantizeArgs& args = cases.args;
  const DoubleRoundEpilogueCases& dr = cases.dr;
  const std::vector<uint8_t>& want = cases.want;
  const PackedConvWeights pw = pack_conv_weights(w.data(), s.c_out, cig, 1, 1, 1, &wz);
  for_each_isa_and_thread_count([&] {
    GuardedArray<uint8_t> got(total);
    conv2d_requantize(p, s, x.data(), x_zp, pw, bias.data(), nullptr, args, OutType::kUInt8, got.data());
    CHECK(got.vector() == want);
    GuardedArray<int8_t> got8(total);
    conv2d_requantize(p, s, x.data(), x_zp, pw, bias.data(), nullptr, dr.s8, OutType::kInt8, got8.data());
    CHECK(got8.vector() == dr.want8);
    GuardedArray<int16_t> got16(total);
    conv2d_requantize(p, s, x.data(), x_zp, pw, bias.data(), nullptr, dr.s16, OutType::kInt16, got16.data());
    CHECK(got16.vector() == dr.want16);
  });
}

void test_conv_rows_inside_input() {
  std::mt19937_64 rng(29);
  // (N, C_in, H, W, C_out, 1, 1), groups: 35 and 99 columns (one partial tile; a whole tile and
  // a partial one), 10 / 5 / 7 / 2 channels per group (the last quad 2, 1, 3 or 2 channels)
  const struct {
    Conv2DShape s;
    int64_t groups;
  } layers[] = {{Conv2DShape{2, 10, 5, 7, 9, 1, 1}, 1},
                {Conv2DShape{1, 10, 9, 11, 14, 1, 1}, 2},
                {Conv2DShape{3, 7, 3, 41, 13, 1, 1}, 1},
                {Conv2DShape{1, 6, 8, 8, 6, 1, 1}, 3}};
  for (const auto& layer : layers) {
    check_conv_rows_inside_input<uint8_t>(rng, layer.s, layer.groups);
    check_conv_rows_inside_input<int8_t>(rng, layer.s, layer.groups);
  }
}
#else
void test_conv_rows_inside_input() {}
#endif

int main() {
  test_constants();
  test_tie_table();
  test_rounding_edges();
  test_round_half_even_bounded();
  test_stochastic();
  test_saturate_wrap();
  test_gemmlowp();
  test_tflite_multipliers();
  test_tosa();
  test_int4();
  test_pooling_division();
  test_kernel_vectors_and_errors();
  test_kernels_random();
  test_transpose_bytes();
  test_conv2d_accumulate();
  test_packed_weights();
  test_matmul_accumulate();
  test_fused_requantize();
  test_interleave_words();
  test_row_tile_heights();
  test_matmul_tile_epilogue();
  test_conv_tile_epilogue();
  test_conv_rows_inside_input();
  test_direct_in_register_requantize();
  test_fma_float();
  test_x86_round_to_int32();
  test_elementwise_vectors();
  test_elementwise_random();
  test_pooling_kernels();
  test_concat_lut_kernels();
  test_fixedpoint_math();
  test_nonlinear_kernels();
  test_resize_kernels();
  test_logistic_tanh_int16_kernels();
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
