// Per-ISA namespacing of the core.
//
// The array kernels are compiled three times (portable baseline, AVX2, AVX-512BW) from the same
// headers. Every inline function of fxsim therefore lives in `fxsim::FXSIM_ISA` (an inline
// namespace), so the three copies have different mangled names and the linker can never pick
// an AVX-512 copy of a helper for the baseline code (an ODR clash that would crash on older
// CPUs). A per-ISA translation unit defines FXSIM_ISA before including anything; everything
// else gets `baseline`. Plain data types and enums stay in `fxsim` itself (they emit no code).
//
// Per-ISA translation units must not instantiate std:: templates or std containers either
// (their weak symbols are shared across translation units): they use raw pointers, builtins
// and the helpers below.
#pragma once

#ifndef FXSIM_ISA
#define FXSIM_ISA baseline
#endif

#define FXSIM_NAMESPACE_BEGIN \
  namespace fxsim {           \
  inline namespace FXSIM_ISA {
#define FXSIM_NAMESPACE_END \
  }                         \
  }

// For the SIMD lane helpers a loop's body is made of (multiplier_simd.h, the GEMM epilogue):
// gcc's heuristics left some of them out of line, with their constant vectors passed through
// memory (TFLite's mul rows spent a third of their time in the call to the double rounding).
#define FXSIM_ALWAYS_INLINE inline __attribute__((always_inline))
