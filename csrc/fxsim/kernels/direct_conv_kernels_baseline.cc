// The direct-conv inner loop for the portable baseline: see direct_conv_kernels.inc.
#define FXSIM_ISA baseline
static const char* const baseline_direct_name = "baseline";
#include "fxsim/kernels/direct_conv_kernels.inc"
