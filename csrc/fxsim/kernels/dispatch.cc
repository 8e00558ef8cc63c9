// Run-time choice of the array-kernel ISA variant (see dispatch.h).
//
// Detection runs once, on first use: the best of avx512bw (AVX-512 F, BW, VL, DQ and BMI2),
// avx2 (AVX2 and BMI2) and baseline that the CPU supports and that the build contains. The
// environment variable FXSIM_ISA=baseline|avx2|avx512bw selects a lower variant (tests compare
// variants bit for bit); a value naming a variant that is unknown or not available here is
// ignored. set_isa() changes the choice at run time (tests only; not meant to race with calls).
#include "fxsim/kernels/dispatch.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace fxsim {
namespace {

struct Variant {
  const char* name;
  const KernelTable* table;  // null when not compiled in or not supported by this CPU
};

// Index 0 baseline, 1 avx2, 2 avx512bw.
std::vector<Variant> detect_variants() {
  std::vector<Variant> v = {{"baseline", kernel_table_baseline()}, {"avx2", nullptr}, {"avx512bw", nullptr}};
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (avx2 && kernel_table_avx2 != nullptr) v[1].table = kernel_table_avx2();
  if (avx512 && kernel_table_avx512bw != nullptr) v[2].table = kernel_table_avx512bw();
#endif
  return v;
}

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = detect_variants();
  return v;
}

const KernelTable* initial_table() {
  const auto& v = variants();
  const KernelTable* best = v[0].table;
  for (const auto& variant : v) {
    if (variant.table != nullptr) best = variant.table;
  }
  if (const char* forced = std::getenv("FXSIM_ISA")) {
    for (const auto& variant : v) {
      if (variant.table != nullptr && std::string(forced) == variant.name) return variant.table;
    }
  }
  return best;
}

std::atomic<const KernelTable*>& active_slot() {
  static std::atomic<const KernelTable*> slot{initial_table()};
  return slot;
}

}  // namespace

const KernelTable& active_kernels() { return *active_slot().load(std::memory_order_acquire); }

const char* active_isa() { return active_kernels().name; }

std::vector<std::string> available_isas() {
  std::vector<std::string> names;
  for (const auto& variant : variants()) {
    if (variant.table != nullptr) names.emplace_back(variant.name);
  }
  return names;
}

void set_isa(const std::string& name) {
  for (const auto& variant : variants()) {
    if (name == variant.name) {
      if (variant.table == nullptr) {
        throw std::invalid_argument("set_isa: ISA variant '" + name + "' is not available on this CPU/build");
      }
      active_slot().store(variant.table, std::memory_order_release);
      return;
    }
  }
  throw std::invalid_argument("set_isa: unknown ISA variant '" + name + "' (baseline, avx2, avx512bw)");
}

}  // namespace fxsim
