"""Exact emulation of IEEE 754 binary32 and binary64 arithmetic on rationals.

Quantization contract: a float value is represented by the ``Fraction`` of its exact value
(or by ``float('inf')`` / ``float('-inf')`` after overflow). Every operation computes the
exact real result and rounds it once to the target format with roundTiesToEven, gradual
underflow (subnormals) and overflow to infinity, as IEEE 754-2019 section 4.3.1 and 7.4
define, which is what C++ ``float``/``double`` arithmetic does with FMA contraction off
(csrc/README.md: ``-ffp-contract=off``) in the default floating-point environment.

Limits of the model: there is no negative zero (a result that IEEE would spell ``-0`` is
``Fraction(0)``; no fxsim kernel lets the sign of zero reach an integer), and NaN is never
produced: an operation whose IEEE result is NaN raises ``ValueError``.

Operands must already be values of the format they are used in (checked; a value that is not
representable raises ``ValueError``): use :func:`round_to_float32` /
:func:`int_to_float32` first.
"""

import math
import operator
from fractions import Fraction

from fxsim.constants import HALF_EVEN
from fxsim.reference.rounding import round_fraction

__all__ = [
    "FLOAT32",
    "FLOAT64",
    "round_to_float32",
    "round_to_float64",
    "is_float32",
    "is_float64",
    "int_to_float32",
    "int_to_float64",
    "f32_add",
    "f32_mul",
    "f32_div",
    "f64_add",
    "f64_mul",
    "f64_div",
]

INF = float("inf")


class _Format:
    """An IEEE binary format: precision ``p`` (significand bits with the hidden one),
    exponent range ``[emin, emax]``."""

    def __init__(self, name, p, emin, emax):
        self.name = name
        self.p = p
        self.emin = emin
        self.emax = emax
        self.overflow = Fraction(1 << (emax + 1))  # smallest magnitude that is infinity


FLOAT32 = _Format("float32", 24, -126, 127)
FLOAT64 = _Format("float64", 53, -1022, 1023)


def _floor_log2(a):
    """``floor(log2(a))`` for an exact positive rational ``a``."""
    n, d = a.numerator, a.denominator
    e = n.bit_length() - d.bit_length()
    # a is in [2^(e-1), 2^(e+1)); decide a >= 2^e exactly
    ge = n >= (d << e) if e >= 0 else (n << -e) >= d
    return e if ge else e - 1


def _to_exact(name, x):
    """Fraction of a finite operand, or +-inf unchanged. NaN raises."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        raise ValueError(f"{name}: expected a number, got a bool")
    try:
        return Fraction(operator.index(x))
    except TypeError:
        pass
    f = float(x)
    if math.isnan(f):
        raise ValueError(f"{name}: NaN is not supported")
    if math.isinf(f):
        return f
    return Fraction(f)


def _round(fmt, q):
    """Round the exact rational ``q`` to ``fmt`` (ties to even, subnormals, overflow to inf)."""
    if q == 0:
        return Fraction(0)
    a = abs(q)
    # exponent of the binade, clamped at emin: below it the quantum stays 2^(emin - p + 1)
    e = max(_floor_log2(a), fmt.emin)
    quantum = Fraction(2) ** (e - fmt.p + 1)
    r = round_fraction(a / quantum, HALF_EVEN) * quantum
    if r >= fmt.overflow:
        return INF if q > 0 else -INF
    return r if q > 0 else -r


def round_to_float32(q):
    """The binary32 value nearest to the exact rational ``q`` (ties to even).

    Gradual underflow below 2^-126 (quantum 2^-149) and overflow to +-inf at magnitudes
    ``>= 2^128 - 2^103`` (half an ulp above FLT_MAX rounds to infinity). Source: IEEE
    754-2019 section 4.3.1 roundTiesToEven, section 7.4 overflow. ``q`` may be +-inf.
    """
    q = _to_exact("q", q)
    return q if isinstance(q, float) else _round(FLOAT32, q)


def round_to_float64(q):
    """The binary64 value nearest to the exact rational ``q`` (ties to even, subnormals,
    overflow to +-inf); IEEE 754-2019 section 4.3.1."""
    q = _to_exact("q", q)
    return q if isinstance(q, float) else _round(FLOAT64, q)


def is_float32(x):
    """True iff ``x`` is finite and exactly a binary32 value."""
    q = _to_exact("x", x)
    return not isinstance(q, float) and _round(FLOAT32, q) == q


def is_float64(x):
    """True iff ``x`` is finite and exactly a binary64 value."""
    q = _to_exact("x", x)
    return not isinstance(q, float) and _round(FLOAT64, q) == q


def _operand(fmt, name, x):
    q = _to_exact(name, x)
    if not isinstance(q, float) and _round(fmt, q) != q:
        raise ValueError(f"{name}: {x!r} is not a {fmt.name} value")
    return q


def int_to_float32(n):
    """``(float)n`` for an integer ``n``: ``n`` rounded to binary32, ties to even.

    Exact for ``|n| <= 2^24``; this is C/C++ integer-to-float conversion in the default
    rounding mode (ISO C 6.3.1.4; x86 ``cvtsi2ss``)."""
    if isinstance(n, bool):
        raise ValueError("n: expected an integer, got a bool")
    return _round(FLOAT32, Fraction(operator.index(n)))


def int_to_float64(n):
    """``(double)n`` for an integer ``n``: ``n`` rounded to binary64, ties to even (exact for
    ``|n| <= 2^53``)."""
    if isinstance(n, bool):
        raise ValueError("n: expected an integer, got a bool")
    return _round(FLOAT64, Fraction(operator.index(n)))


def _inf_result(r):
    if math.isnan(r):
        raise ValueError("the IEEE result is NaN")
    return r if math.isinf(r) else Fraction(r)


def _add(fmt, a, b):
    a = _operand(fmt, "a", a)
    b = _operand(fmt, "b", b)
    if isinstance(a, float) or isinstance(b, float):
        return _inf_result(float(a) + float(b))
    return _round(fmt, a + b)


def _mul(fmt, a, b):
    a = _operand(fmt, "a", a)
    b = _operand(fmt, "b", b)
    if isinstance(a, float) or isinstance(b, float):
        return _inf_result(float(a) * float(b))
    return _round(fmt, a * b)


def _div(fmt, a, b):
    a = _operand(fmt, "a", a)
    b = _operand(fmt, "b", b)
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, float) and isinstance(b, float):
            raise ValueError("the IEEE result of inf / inf is NaN")
        if isinstance(b, float):
            return Fraction(0)
        return a if b >= 0 else -a
    if b == 0:
        if a == 0:
            raise ValueError("the IEEE result of 0 / 0 is NaN")
        return INF if a > 0 else -INF  # division by +0 (the model has no -0)
    return _round(fmt, a / b)


def f32_add(a, b):
    """binary32 ``a + b``: the exact sum rounded once to binary32 (IEEE 754 section 5.4.1)."""
    return _add(FLOAT32, a, b)


def f32_mul(a, b):
    """binary32 ``a * b``: the exact product rounded once to binary32."""
    return _mul(FLOAT32, a, b)


def f32_div(a, b):
    """binary32 ``a / b``: the exact quotient rounded once to binary32; ``x / 0`` is +-inf
    (``0 / 0`` raises)."""
    return _div(FLOAT32, a, b)


def f64_add(a, b):
    """binary64 ``a + b``: the exact sum rounded once to binary64."""
    return _add(FLOAT64, a, b)


def f64_mul(a, b):
    """binary64 ``a * b``: the exact product rounded once to binary64."""
    return _mul(FLOAT64, a, b)


def f64_div(a, b):
    """binary64 ``a / b``: the exact quotient rounded once to binary64."""
    return _div(FLOAT64, a, b)
