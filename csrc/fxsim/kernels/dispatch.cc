// Run-time choice of the array-kernel ISA variant (see dispatch.h).
//
// Detection runs once, on first use: the best of avx512vnni (avx512bw plus AVX512_VNNI: the
// array kernels of avx512bw, the conv / matmul loop with vpdpwssd, gemm_kernels_avx512vnni.cc,
// and the byte lookup with vpermi2b where the CPU has AVX512_VBMI),
// avx512bw (AVX-512 F, BW, VL, DQ and BMI2), avx2 (AVX2 and BMI2) and baseline that the CPU
// supports and that the build contains. The environment variable
// FXSIM_ISA=baseline|avx2|avx512bw|avx512vnni selects a lower variant (tests compare variants
// bit for bit); a value naming a variant that is unknown or not available here is
// ignored. set_isa() changes the choice at run time (tests only; not meant to race with calls).
#include "fxsim/kernels/dispatch.h"
#include "fxsim/kernels/gemm_kernels.h"
#include "fxsim/kernels/parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

namespace fxsim {
namespace {

struct Variant {
  const char* name;
  const KernelTable* table;  // null when not compiled in or not supported by this CPU
};

// avx512vnni's table: avx512bw's array kernels under the name the conv / matmul dispatch reads
// (gemm_dispatch.cc), which picks their vpdpwssd loop, with VBMI's byte lookup where the CPU
// has it (a CPU with VNNI but without VBMI keeps the avx512bw lookup).
const KernelTable* vnni_table() {
  static const KernelTable table = [] {
    KernelTable t = *kernel_table_avx512bw();
    t.name = "avx512vnni";
#if defined(__x86_64__) && defined(__GNUC__)
    if (lookup_bytes_avx512vbmi != nullptr && __builtin_cpu_supports("avx512vbmi")) {
      t.lookup_bytes = lookup_bytes_avx512vbmi;
    }
#endif
    return t;
  }();
  return &table;
}

// Index 0 baseline, 1 avx2, 2 avx512bw, 3 avx512vnni.
std::vector<Variant> detect_variants() {
  std::vector<Variant> v = {
      {"baseline", kernel_table_baseline()}, {"avx2", nullptr}, {"avx512bw", nullptr}, {"avx512vnni", nullptr}};
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (avx2 && kernel_table_avx2 != nullptr) v[1].table = kernel_table_avx2();
  if (avx512 && kernel_table_avx512bw != nullptr) v[2].table = kernel_table_avx512bw();
  const bool vnni = avx512 && __builtin_cpu_supports("avx512vnni");
  if (vnni && v[2].table != nullptr && gemm_table_avx512vnni != nullptr) v[3].table = vnni_table();
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
  throw std::invalid_argument("set_isa: unknown ISA variant '" + name + "' (baseline, avx2, avx512bw, avx512vnni)");
}

namespace {

// Chunks of a split `inner` run are multiples of this many elements (whole vectors).
constexpr int64_t kChunkAlign = 64;

int threads_from_environment() {
  if (const char* env = std::getenv("FXSIM_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return std::min(n, 256);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
}

std::atomic<int>& threads_slot() {
  static std::atomic<int> slot{threads_from_environment()};
  return slot;
}

// The part of `job` that starts `first` elements in and covers `outer` blocks / `inner` elements.
KernelJob sub_job(const KernelJob& job, int64_t first, int64_t outer, int64_t inner) {
  KernelJob part = job;
  part.in = static_cast<const char*>(job.in) + first * job.in_bytes;
  part.out = static_cast<char*>(job.out) + first * out_type_bytes(job.out_type);
  part.outer = outer;
  part.inner = inner;
  part.index_base = job.index_base + first;
  return part;
}

}  // namespace

int kernel_threads() { return threads_slot().load(std::memory_order_relaxed); }

void set_kernel_threads(int n) {
  if (n < 1) throw std::invalid_argument("set_kernel_threads: the thread count must be >= 1");
  threads_slot().store(std::min(n, 256), std::memory_order_relaxed);
}

int out_type_bytes(OutType t) {
  switch (t) {
    case OutType::kInt8:
    case OutType::kUInt8: return 1;
    case OutType::kInt16:
    case OutType::kUInt16: return 2;
    case OutType::kInt32: return 4;
  }
  return 4;
}

int64_t run_kernel(KernelFn fn, const KernelJob& job) {
  const int64_t row = job.channels * job.inner;
  const int64_t total = job.outer * row;
  const int threads = kernel_threads();
  if (threads <= 1 || total < kParallelMinWork) return fn(job);

  std::vector<KernelJob> parts;
  if (job.outer >= 2) {
    const int64_t n = std::min<int64_t>(threads, job.outer);
    for (int64_t t = 0; t < n; ++t) {
      const int64_t o0 = job.outer * t / n, o1 = job.outer * (t + 1) / n;
      if (o1 > o0) parts.push_back(sub_job(job, o0 * row, o1 - o0, job.inner));
    }
  } else if (job.channels == 1 && !job.per_element) {
    const int64_t chunk = ((job.inner + threads - 1) / threads + kChunkAlign - 1) / kChunkAlign * kChunkAlign;
    for (int64_t b = 0; b < job.inner; b += chunk) {
      parts.push_back(sub_job(job, b, 1, std::min(chunk, job.inner - b)));
    }
  }
  if (parts.size() < 2) return fn(job);

  // one part per task: each runs the same loop over its own elements
  return parallel_tasks(static_cast<int64_t>(parts.size()), total / static_cast<int64_t>(parts.size()),
                        [&](int64_t begin, int64_t end) {
                          int64_t first = -1;
                          for (int64_t t = begin; t < end; ++t) {
                            const int64_t bad = fn(parts[static_cast<size_t>(t)]);
                            if (bad >= 0 && (first < 0 || bad < first)) first = bad;
                          }
                          return first;
                        });
}

}  // namespace fxsim
