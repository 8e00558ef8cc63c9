// The conv / matmul inner loop for the portable baseline: see gemm_kernels.inc.
#define FXSIM_ISA baseline
#define FXSIM_GEMM_LANES 4
#define FXSIM_GEMM_NB 64
#define FXSIM_GEMM_REGISTER_TILE false
#define FXSIM_GEMM_MR 4
static const char* const baseline_name = "baseline";
#include "fxsim/kernels/gemm_kernels.inc"
