// The conv / matmul inner loop compiled with AVX2 (setup.py adds the flags of *_avx2.cc):
// see gemm_kernels.inc. Compiles to nothing off x86-64 or without the flags.
#if defined(__x86_64__) && defined(__AVX2__)
#define FXSIM_ISA avx2
static const char* const avx2_name = "avx2";
#include "fxsim/kernels/gemm_kernels.inc"
#endif
