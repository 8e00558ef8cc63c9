// The direct-conv inner loop compiled with AVX-512BW (setup.py adds the flags of *_avx512bw.cc):
// vpmaddwd tiles, and the u8 x s8 loops through vpdpbusd's exact emulation (dot4_avx512.h), see
// direct_conv_kernels.inc. Compiles to nothing off x86-64 or without the flags.
#if defined(__x86_64__) && defined(__AVX512BW__)
#define FXSIM_ISA avx512bw
static const char* const avx512bw_direct_name = "avx512bw";
#include "fxsim/kernels/direct_conv_kernels.inc"
#endif
