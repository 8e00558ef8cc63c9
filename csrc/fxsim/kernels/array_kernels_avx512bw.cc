// The array kernels compiled with AVX-512 F/BW/VL/DQ (setup.py adds the flags to
// *_avx512bw.cc): see array_kernels.inc. Compiles to nothing off x86-64 or without the flags;
// dispatch.cc only uses it when the CPU reports all four.
#if defined(__x86_64__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#define FXSIM_ISA avx512bw
#include "fxsim/kernels/array_kernels.inc"
#endif
