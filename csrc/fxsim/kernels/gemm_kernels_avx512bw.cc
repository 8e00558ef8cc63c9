// The conv / matmul inner loop compiled with AVX-512BW (setup.py adds the flags of
// *_avx512bw.cc): see gemm_kernels.inc. Compiles to nothing off x86-64 or without the flags.
#if defined(__x86_64__) && defined(__AVX512BW__)
#define FXSIM_ISA avx512bw
#define FXSIM_GEMM_MR 4
static const char* const avx512bw_name = "avx512bw";
#include "fxsim/kernels/gemm_kernels.inc"
#endif
