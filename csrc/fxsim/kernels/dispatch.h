// Run-time choice of the ISA variant of the array kernels (see kernel_job.h for the tables).
#pragma once

#include <string>
#include <vector>

#include "fxsim/kernels/kernel_job.h"

namespace fxsim {

// The ISA tables (array_kernels_*.cc). The AVX variants are weak references: a build where
// their translation unit compiled to nothing (non-x86) leaves the function pointer null.
const KernelTable* kernel_table_baseline();
// lookup_bytes_avx512vbmi (lookup_bytes_avx512vbmi.cc): the avx512vnni table's byte lookup on
// CPUs with AVX512_VBMI.
#if defined(__GNUC__)
const KernelTable* kernel_table_avx2() __attribute__((weak));
const KernelTable* kernel_table_avx512bw() __attribute__((weak));
void lookup_bytes_avx512vbmi(const uint8_t* table, int64_t count, const uint8_t* in, uint8_t flip, uint8_t* out)
    __attribute__((weak));
#else
const KernelTable* kernel_table_avx2();
const KernelTable* kernel_table_avx512bw();
void lookup_bytes_avx512vbmi(const uint8_t* table, int64_t count, const uint8_t* in, uint8_t flip, uint8_t* out);
#endif

// The active table (detected once, overridable by the FXSIM_ISA environment variable with a
// variant no higher than detected, or by set_isa).
const KernelTable& active_kernels();
// Name of the active variant: "baseline", "avx2", "avx512bw" or "avx512vnni".
const char* active_isa();
// Variants this CPU can run, lowest first.
std::vector<std::string> available_isas();
// Makes `name` the active variant; std::invalid_argument if unknown or not available here.
void set_isa(const std::string& name);

// Runs `fn` over `job`, split across threads when the job is large enough (kernel_threads()):
// over `outer` blocks when there are several, else over `inner` for a per-tensor job. Every
// element is computed by the same loop whatever the split (WRAP-free, order-free arithmetic,
// stochastic draws by flat index), so results are bit-identical for any thread count. Returns
// the lowest failing index of all parts, or -1.
int64_t run_kernel(KernelFn fn, const KernelJob& job);
// Threads used by run_kernel: FXSIM_NUM_THREADS if set (>= 1), else the hardware's count.
int kernel_threads();
// Overrides kernel_threads() (tests compare thread counts bit for bit); n >= 1.
void set_kernel_threads(int n);
// Bytes of one element of an output storage type.
int out_type_bytes(OutType t);

}  // namespace fxsim
