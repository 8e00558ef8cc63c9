"""Plain constants shared by every layer, the exact reference included.

This module imports nothing. The integer codes below are the values of the C++ enums in
``csrc/fxsim/fixedpoint/rounding.h``; ``fxsim.arith`` wraps them in ``IntEnum`` classes, and
``fxsim.reference`` accepts either the enum members or these plain ints.
"""

# RoundingMode codes (DESIGN.md "Arithmetic names"). The C++ enum RoundingMode uses the same
# values; tests/test_constants.py checks the two agree through fxsim._kernels.
HALF_EVEN = 0         # ties to the even neighbour (IEEE default, np.rint, lrintf)
HALF_AWAY = 1         # ties away from zero (std::round, TfLiteRound)
HALF_UP = 2           # ties toward +inf (gemmlowp SRDHM, NEON vrshl, DPU half_up)
HALF_DOWN = 3         # ties toward -inf
HALF_TOWARD_ZERO = 4  # ties toward zero
FLOOR = 5             # toward -inf (arithmetic right shift)
CEIL = 6              # toward +inf
TRUNC = 7             # toward zero (C integer division, float->int casts)
STOCHASTIC = 8        # up with probability equal to the discarded fraction, seeded

ROUNDING_MODE_NAMES = {
    HALF_EVEN: "half_even",
    HALF_AWAY: "half_away",
    HALF_UP: "half_up",
    HALF_DOWN: "half_down",
    HALF_TOWARD_ZERO: "half_toward_zero",
    FLOOR: "floor",
    CEIL: "ceil",
    TRUNC: "trunc",
    STOCHASTIC: "stochastic",
}

# Constants of the counter-based generator behind STOCHASTIC rounding (splitmix64, Steele,
# Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014). Element i of
# a call with seed s draws splitmix64_mix(s + (i + 1) * GOLDEN_GAMMA mod 2^64): reproducible,
# independent of threading and blocking, and the same in C++ and in the Python reference.
SPLITMIX64_GOLDEN_GAMMA = 0x9E3779B97F4A7C15
SPLITMIX64_MUL1 = 0xBF58476D1CE4E5B9
SPLITMIX64_MUL2 = 0x94D049BB133111EB

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
