// The direct-conv inner loop compiled with AVX-512 VNNI (setup.py adds the flags of
// *_avx512vnni.cc): direct_conv_kernels.inc with vpdpwssd in place of vpmaddwd + vpaddd.
// Compiles to nothing off x86-64 or without the flags; selected only when the CPU has VNNI.
#if defined(__x86_64__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define FXSIM_ISA avx512vnni
static const char* const avx512vnni_direct_name = "avx512vnni";
#include "fxsim/kernels/direct_conv_kernels.inc"
#endif
