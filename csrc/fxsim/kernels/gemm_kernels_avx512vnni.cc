// The conv / matmul inner loop compiled with AVX-512 VNNI (setup.py adds the flags of
// *_avx512vnni.cc): gemm_kernels.inc with vpdpbusd (u8 x s8: four byte products added to the
// int32 accumulator in one instruction, wrapping modulo 2^32) in place of the vpmaddwd emulation.
// Compiles to nothing off x86-64 or without the flags; dispatch.cc only selects it when the CPU
// reports AVX512_VNNI besides the avx512bw set.
#if defined(__x86_64__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define FXSIM_ISA avx512vnni
#define FXSIM_GEMM_MR 6
static const char* const avx512vnni_name = "avx512vnni";
#include "fxsim/kernels/gemm_kernels.inc"
#endif
