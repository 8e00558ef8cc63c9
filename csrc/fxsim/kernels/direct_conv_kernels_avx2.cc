// The direct-conv inner loop compiled with AVX2 (setup.py adds the flags of *_avx2.cc): the
// portable loop of direct_conv_kernels.inc, vectorized by gcc. Compiles to nothing off x86-64.
#if defined(__x86_64__) && defined(__AVX2__)
#define FXSIM_ISA avx2
static const char* const avx2_direct_name = "avx2";
#include "fxsim/kernels/direct_conv_kernels.inc"
#endif
