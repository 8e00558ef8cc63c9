"""gemmlowp's two fixed-point primitives, defined from their real values.

Quantization contract: int32 operands hold Q0.31 or plain integers; each primitive is the
exact real result rounded once with a named tie rule and saturated where gemmlowp saturates.
These are the building blocks of TFLite's default ("double rounding") requantization.

Source: google/gemmlowp ``fixedpoint/fixedpoint.h`` (SaturatingRoundingDoublingHighMul,
RoundingDivideByPOT) and ``fixedpoint/fixedpoint_neon.h`` (the same semantics through
``vqrdmulhq_s32`` and a fixed-up ``vrshlq_s32``).
"""

from fractions import Fraction

from fxsim.constants import HALF_AWAY, HALF_UP, INT32_MAX, INT32_MIN
from fxsim.reference.rounding import as_int, round_fraction

__all__ = ["saturating_rounding_doubling_high_mul", "rounding_divide_by_pot"]


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SRDHM: ``a * b / 2^31`` rounded half up (toward +inf), saturated.

    ``a``, ``b`` int32. The high 32 bits of the doubled 64-bit product with rounding, i.e.
    ``round_half_up(a * b / 2^31)``; the only result outside int32, ``INT32_MIN * INT32_MIN``
    (real value 2^31), saturates to ``INT32_MAX``. The instruction it mimics is NEON
    ``SQRDMULH``. gemmlowp's scalar code uses a sign-dependent nudge and a truncating division;
    its value equals round-half-up (so -0.5 -> 0 and -1.5 -> -1), as the NEON instruction does.
    Source: google/gemmlowp fixedpoint/fixedpoint.h SaturatingRoundingDoublingHighMul.
    """
    a = as_int("a", a, INT32_MIN, INT32_MAX)
    b = as_int("b", b, INT32_MIN, INT32_MAX)
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    return round_fraction(Fraction(a * b, 1 << 31), HALF_UP)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: ``x / 2^exponent`` rounded half away from zero.

    ``x`` int32, ``exponent`` 0..31; the result always fits int32. Source: google/gemmlowp
    fixedpoint/fixedpoint.h RoundingDivideByPOT (mask/threshold form, whose value is
    round-half-away).
    """
    x = as_int("x", x, INT32_MIN, INT32_MAX)
    exponent = as_int("exponent", exponent, 0, 31)
    return round_fraction(Fraction(x, 1 << exponent), HALF_AWAY)
