// The conv / matmul inner loop for the portable baseline: see gemm_kernels.inc.
#define FXSIM_ISA baseline
static const char* const baseline_name = "baseline";
#include "fxsim/kernels/gemm_kernels.inc"
