// The array kernels for the portable x86-64 (or any other) baseline: see array_kernels.inc.
#define FXSIM_ISA baseline
#include "fxsim/kernels/array_kernels.inc"
