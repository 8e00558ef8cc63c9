// The array kernels compiled with AVX2 (setup.py adds -mavx2 -mbmi2 to *_avx2.cc): see
// array_kernels.inc. Compiles to nothing off x86-64 or without the flags; dispatch.cc only
// uses it when the CPU reports AVX2.
#if defined(__x86_64__) && defined(__AVX2__)
#define FXSIM_ISA avx2
#include "fxsim/kernels/array_kernels.inc"
#endif
