"""Fixed-point multipliers and the engines' derivations of them from a real multiplier.

A ``Multiplier(value, shift, bits)`` stands for the real number

    real = value * 2^(shift - (bits - 1))

``value`` is a ``bits``-bit signed integer read as a fraction with ``bits - 1`` fractional bits,
and ``shift`` is a LEFT shift (TFLite's convention: negative means a right shift). TFLite's
``(M, e)`` is ``Multiplier(M, e, 32)``; TOSA's ``(M, S)`` (right shift ``S`` including the
2^31 position) is ``Multiplier(M, 31 - S, 32)`` for scale32 and ``Multiplier(M, 15 - S, 16)``
for scale16; FBGEMM's ``(q, s)`` (right shift) is ``Multiplier(q, 31 - s, 32)``; a Vitis AI
power-of-two position ``pos`` is ``Multiplier(1, -pos, 1)``.

The derivations reproduce each engine's own arithmetic step by step: in double where the
engine computes in double (TFLite, TOSA/MLIR), in float32 (numpy ``float32`` scalars, each
operation rounded once, as in C) where the engine computes in float (FBGEMM, MLAS/XNNPACK,
hexagon_nn).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from fractions import Fraction

import numpy as np

from fxsim.errors import EncodingError

__all__ = [
    "Multiplier",
    "DERIVATIONS",
    "quantize_multiplier",
    "quantize_multipliers",
    "real_multiplier",
]

#: The derivation names ``quantize_multiplier`` accepts (DESIGN.md "Arithmetic names").
DERIVATIONS = ("tflite", "tosa", "fbgemm", "mantissa24", "hexagon", "power_of_two")

_DERIVATION_OPTIONS = {
    "tflite": ("single_round",),
    "tosa": ("scale32", "max_shift"),
    "fbgemm": ("precision",),
    "mantissa24": (),
    "hexagon": (),
    "power_of_two": (),
}


@dataclasses.dataclass(frozen=True)
class Multiplier:
    """A fixed-point multiplier: ``real = value * 2^(shift - (bits - 1))``.

    ``value``: the integer multiplier, a signed ``bits``-bit integer (for ``bits == 1``, the
    power-of-two unit multiplier, 0 or 1). ``shift``: a left shift (negative = right shift),
    TFLite's convention. ``bits``: the multiplier width, 1..32 (32 for TFLite/TOSA scale32/
    FBGEMM/MLAS, 16 for TOSA scale16, 1 for power-of-two scales).

    ``m.real`` is the exact value as a ``Fraction``; ``float(m)`` the nearest double (exact
    for every multiplier a derivation returns, barring underflow below 2^-1074).
    """

    value: int
    shift: int
    bits: int = 32

    def __post_init__(self):
        for name in ("value", "shift", "bits"):
            v = getattr(self, name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                raise EncodingError(
                    f"Multiplier.{name}: expected an integer, got {type(v).__name__} {v!r}"
                )
            object.__setattr__(self, name, int(v))
        if not 1 <= self.bits <= 32:
            raise EncodingError(f"Multiplier.bits: expected 1..32, got {self.bits}")
        if self.bits == 1:
            lo, hi = 0, 1
        else:
            lo, hi = -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        if not lo <= self.value <= hi:
            raise EncodingError(
                f"Multiplier.value: {self.value} does not fit in {self.bits} bits "
                f"(expected {lo}..{hi})"
            )

    @property
    def real(self) -> Fraction:
        """The exact real value ``value * 2^(shift - (bits - 1))`` as a ``Fraction``."""
        e = self.shift - (self.bits - 1)
        return Fraction(self.value) * (Fraction(2) ** e)

    @property
    def right_shift(self) -> int:
        """The total right shift applied to ``x * value``: ``bits - 1 - shift`` (TOSA's
        ``shift``, FBGEMM's ``right_shift``)."""
        return self.bits - 1 - self.shift

    def __float__(self) -> float:
        return math.ldexp(self.value, self.shift - (self.bits - 1))


# ----------------------------------------------------------------------------- helpers

def _real_arg(real, what="real"):
    """Validate a scalar real multiplier; return it unchanged if it is an np.float32 (so
    float32 derivations keep its exact value), else as a Python float."""
    if isinstance(real, np.ndarray) and real.ndim == 0:
        real = real[()]
    if isinstance(real, (bool, np.bool_)) or not isinstance(real, numbers.Real):
        raise EncodingError(
            f"{what}: expected a real number (float, np.float64, np.float32), "
            f"got {type(real).__name__} {real!r}"
        )
    if not math.isfinite(float(real)):
        raise EncodingError(f"{what}: expected a finite real multiplier, got {real!r}")
    if isinstance(real, np.float32):
        return real
    return float(real)


def _to_float32(real, derivation):
    f = np.float32(real)
    if not np.isfinite(f):
        raise EncodingError(
            f"quantize_multiplier({derivation!r}): real {real!r} overflows float32"
        )
    if not f > 0:
        raise EncodingError(
            f"quantize_multiplier({derivation!r}): real must be > 0 (as a float32), got {real!r}"
        )
    return f


def _round_half_away(x: float) -> int:
    """Exact C ``round()`` of a double: nearest integer, ties away from zero."""
    r = math.floor(x)
    frac = x - r  # exact for doubles
    if frac > 0.5 or (frac == 0.5 and x > 0):
        r += 1
    return int(r)


# ----------------------------------------------------------------------------- derivations

def _tflite(real, single_round=False):
    # tensorflow/lite/kernels/internal/quantization_util.cc QuantizeMultiplier (double):
    #   q, e = frexp(m); q_fixed = TfLiteRound(q * 2^31)            (half away)
    #   if q_fixed == 2^31: q_fixed /= 2, ++e                        (positive side only)
    #   if e < -31: e = 0, q_fixed = 0                               (flush tiny multipliers)
    #   #if TFLITE_SINGLE_ROUNDING: if e > 30: e = 30, q_fixed = 2^31 - 1
    if not isinstance(single_round, (bool, np.bool_)):
        raise EncodingError(f"quantize_multiplier('tflite'): single_round must be a bool, "
                            f"got {single_round!r}")
    m = float(real)
    if m == 0.0:
        return Multiplier(0, 0, 32)
    q, e = math.frexp(m)
    q_fixed = _round_half_away(q * 2.0 ** 31)
    if q_fixed == 1 << 31:
        q_fixed //= 2
        e += 1
    if e < -31:
        e, q_fixed = 0, 0
    if single_round and e > 30:
        e, q_fixed = 30, (1 << 31) - 1
    return Multiplier(q_fixed, e, 32)


def _tosa(real, scale32=True, max_shift=62):
    # MLIR mlir/lib/Dialect/Tosa/Utils/QuantUtils.cpp computeMultiplierAndShiftTosaScale32/16
    # (also Arm NN's copy): m, e = frexp(scale); M = std::round(m * 2^B) (half away),
    # B = 31 (scale32) or 15 (scale16); M == 2^B -> M /= 2, e++; S = B - e (right shift);
    # if S > 62: M >>= min(31, S - 62), S = 62. TOSA RESCALE REQUIREs multiplier >= 0 and
    # 2 <= shift <= 62 (arm/tosa-specification pseudocode/library/scale_helpers.tosac).
    if not isinstance(scale32, (bool, np.bool_)):
        raise EncodingError(f"quantize_multiplier('tosa'): scale32 must be a bool, got {scale32!r}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, numbers.Integral) \
            or not 2 <= max_shift <= 63:
        raise EncodingError(
            f"quantize_multiplier('tosa'): max_shift must be an integer in 2..63, got {max_shift!r}")
    m = float(real)
    if m < 0.0:
        raise EncodingError(
            f"quantize_multiplier('tosa'): real must be >= 0 (TOSA RESCALE requires "
            f"multiplier >= 0), got {real!r}")
    b = 31 if scale32 else 15
    bits = b + 1
    q, e = math.frexp(m)
    mult = _round_half_away(q * float(1 << b))
    if mult == 1 << b:
        mult //= 2
        e += 1
    s = b - e
    if s > max_shift:
        mult >>= min(31, s - max_shift)
        s = int(max_shift)
    if s < 2:
        raise EncodingError(
            f"quantize_multiplier('tosa'): real {real!r} needs a right shift of {s}; TOSA "
            f"RESCALE requires 2 <= shift <= 62 (real < 2^{b - 2} for "
            f"{'scale32' if scale32 else 'scale16'})")
    return Multiplier(mult, b - s, bits)


def _fbgemm(real, precision=32):
    # pytorch/FBGEMM src/QuantUtils.cc ChooseRequantizationMultiplier(float, ..., precision):
    #   s = 31; while m < 0.5f: m *= 2.f, s++; while m > 1.f: m /= 2.f, s--   (float32)
    #   q = nearbyint(m * (1ll << (precision - 1)))   (half even; the float product is exact)
    #   if q == 2^(precision-1): q /= 2, s--;  assert 0 <= s < 64
    if isinstance(precision, bool) or not isinstance(precision, numbers.Integral) \
            or not 2 <= precision <= 32:
        raise EncodingError(
            f"quantize_multiplier('fbgemm'): precision must be an integer in 2..32, "
            f"got {precision!r}")
    precision = int(precision)
    m = _to_float32(real, "fbgemm")
    half, one, two = np.float32(0.5), np.float32(1.0), np.float32(2.0)
    s = 31
    while m < half:
        m = np.float32(m * two)
        s += 1
    while m > one:
        m = np.float32(m / two)
        s -= 1
    prod = np.float32(m * np.float32(1 << (precision - 1)))
    q = int(np.rint(prod))
    if q == 1 << (precision - 1):
        q //= 2
        s -= 1
    if not 0 <= s < 64:
        raise EncodingError(
            f"quantize_multiplier('fbgemm'): real {real!r} gives right shift {s}; FBGEMM "
            f"requires 0 <= right_shift < 64")
    return Multiplier(q, 31 - s, precision)


def _mantissa24(real):
    # microsoft/onnxruntime onnxruntime/core/mlas/inc/mlas.h MlasFloatToFixedPoint and
    # google/XNNPACK src/microparams-init.c (rndnu): the exact float32 mantissa
    #   multiplier = ((bits & 0x7FFFFF) | 0x800000) << 7   in [2^30, 2^31 - 128]
    #   real = multiplier * 2^(E - 157), E the biased exponent  ->  shift = E - 126
    f = _to_float32(real, "mantissa24")
    if f < np.float32(2.0 ** -126):
        raise EncodingError(
            f"quantize_multiplier('mantissa24'): real {real!r} is a float32 denormal; the "
            f"mantissa formula needs a normal float32 (>= 2^-126)")
    bits = int(np.array(f, dtype=np.float32).view(np.uint32))
    m24 = (bits & 0x7FFFFF) | 0x800000
    biased_exp = bits >> 23
    return Multiplier(m24 << 7, biased_exp - 126, 32)


def _hexagon(real):
    # XiaoMi/nnlib (hexagon_nn) hexagon/src/quantize.c nn_requantize_i32_to_qu8:
    #   gaini = roundf_i32(gain * (float)(1u << 31)), for 0 < gain < 1 (gain >= 1 takes a
    #   float path); hexagon/include/quantize.h roundf_i32(x) = (int)(x + copysignf(0.5f, x)):
    #   the float32 addition rounds (to nearest even) before the truncating cast.
    g = _to_float32(real, "hexagon")
    if not g < np.float32(1.0):
        raise EncodingError(
            f"quantize_multiplier('hexagon'): gain must be < 1 (hexagon_nn requantizes gains "
            f">= 1 in float, without a fixed-point multiplier), got {real!r}")
    x = np.float32(g * np.float32(2.0 ** 31))
    y = np.float32(x + np.copysign(np.float32(0.5), x))
    return Multiplier(int(np.trunc(y)), 0, 32)


def _power_of_two(real):
    # Xilinx/Vitis-AI vai_q_onnx quant_utils.py scale2pos: pos = int(np.rint(-np.log2(scale)))
    # (half even; log2 in the input's numpy precision: float32 for an np.float32 scale).
    if isinstance(real, np.float32):
        if not real > 0:
            raise EncodingError(f"quantize_multiplier('power_of_two'): real must be > 0, "
                                f"got {real!r}")
        lg = np.log2(real)
    else:
        if not real > 0.0:
            raise EncodingError(f"quantize_multiplier('power_of_two'): real must be > 0, "
                                f"got {real!r}")
        lg = np.log2(np.float64(real))
    pos = int(np.rint(-lg))
    return Multiplier(1, -pos, 1)


_DERIVE = {
    "tflite": _tflite,
    "tosa": _tosa,
    "fbgemm": _fbgemm,
    "mantissa24": _mantissa24,
    "hexagon": _hexagon,
    "power_of_two": _power_of_two,
}


def quantize_multiplier(real, derivation: str = "tflite", **options) -> Multiplier:
    """Derive the fixed-point ``Multiplier`` an engine uses for the real multiplier ``real``.

    ``real`` is a Python float, ``np.float64`` or ``np.float32`` (an ``np.float32`` keeps its
    exact value; float32 derivations round a double to float32 first, as a C cast does).

    Derivations (sources in the code):

    * ``"tflite"`` -- TFLite ``QuantizeMultiplier``: ``q, e = frexp(real)`` in double,
      ``M = round_half_away(q * 2^31)``, ``M == 2^31 -> (2^30, e + 1)``, flush to ``(0, 0)``
      when ``e < -31`` (real < 2^-32). Negative reals are allowed (the sign is on ``M``; the
      ``2^31`` fix applies to the positive side only, as in TFLite); 0 gives ``(0, 0)``.
      Option ``single_round=True``: the ``TFLITE_SINGLE_ROUNDING`` build's clamp
      ``e > 30 -> (2^31 - 1, 30)``. Returns ``bits=32``; ``M`` in ``[2^30, 2^31)``.
    * ``"tosa"`` -- MLIR's TOSA scale32 derivation: the same rounding, right shift
      ``31 - e`` capped at ``max_shift=62`` by shifting ``M`` right. Option ``scale32=False``:
      the 16-bit multiplier (``2^15``, ``bits=16``). Requires ``real >= 0`` and a resulting
      right shift >= 2 (TOSA RESCALE's range).
    * ``"fbgemm"`` -- FBGEMM ``ChooseRequantizationMultiplier``: float32 doubling/halving
      loop into ``[0.5, 1]``, ``q = nearbyint(m * 2^(precision-1))`` (half even), ``q ==
      2^(precision-1)`` halved. Option ``precision=32`` (gives ``bits``). Requires real > 0.
    * ``"mantissa24"`` -- MLAS ``MlasFloatToFixedPoint`` / XNNPACK rndnu: the exact float32
      mantissa ``<< 7``. Requires a positive normal float32.
    * ``"hexagon"`` -- hexagon_nn: ``roundf_i32(gain * 2^31)`` with its float32 addition of
      0.5, shift 0. Requires ``0 < real < 1``.
    * ``"power_of_two"`` -- Vitis AI: ``pos = rint(-log2 real)``; ``Multiplier(1, -pos, 1)``.

    Raises ``EncodingError`` for an unknown derivation (listing the valid ones), an unknown
    option, or a real multiplier the derivation does not accept (NaN, inf, <= 0...).
    """
    if not isinstance(derivation, str) or derivation not in _DERIVE:
        raise EncodingError(
            f"derivation: unknown multiplier derivation {derivation!r}; expected one of "
            f"{', '.join(repr(d) for d in DERIVATIONS)}")
    allowed = _DERIVATION_OPTIONS[derivation]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise EncodingError(
            f"quantize_multiplier({derivation!r}): unknown option(s) {', '.join(unknown)}; "
            f"this derivation accepts {', '.join(allowed) if allowed else 'no options'}")
    return _DERIVE[derivation](_real_arg(real), **options)


def quantize_multipliers(reals, derivation: str = "tflite", **options) -> tuple:
    """``quantize_multiplier`` over every element of ``reals`` (an array-like, e.g. per-channel
    real multipliers), in C order; returns a tuple of ``Multiplier``. A float32 array keeps
    float32 elements, so float32 derivations see the exact values."""
    arr = np.asarray(reals)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.float16:
        raise EncodingError(
            f"reals: expected an array of float32/float64 real multipliers, got dtype {arr.dtype}")
    return tuple(quantize_multiplier(r, derivation, **options) for r in arr.reshape(-1))


def _scale_array(value, what):
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise EncodingError(f"{what}: expected real scale(s), got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise EncodingError(f"{what}: expected finite scale(s) > 0, got {value!r}")
    return arr


def real_multiplier(input_scale, weight_scale, output_scale, precision: str = "double",
                    round_scales_to_float32: bool = True):
    """The real requantization multiplier ``s_in * s_w / s_out`` as an engine computes it.

    * ``precision="double"`` -- TFLite (``kernel_util.cc``): ``(double)s_in * (double)s_w /
      (double)s_out``; returns float64.
    * ``precision="float32"`` -- ONNX Runtime (``qlinearconv.cc``): ``s_in * s_w / s_out`` in
      float32, product first, each operation rounded to float32; returns float32.

    Vectorised: ``weight_scale`` (or any argument) may be an array of per-channel scales; the
    arguments broadcast. Scalars in, numpy scalar out. With ``round_scales_to_float32=True``
    (default) the scales are first rounded to float32, as both engines read float32 scales
    from the model file; pass False to use float64 scales as given. Scales must be finite and
    > 0 (``EncodingError`` naming the argument otherwise).
    """
    if precision not in ("double", "float32"):
        raise EncodingError(
            f"precision: expected 'double' or 'float32', got {precision!r}")
    xs = _scale_array(input_scale, "input_scale")
    ws = _scale_array(weight_scale, "weight_scale")
    ys = _scale_array(output_scale, "output_scale")
    if round_scales_to_float32 or precision == "float32":
        xs, ws, ys = (a.astype(np.float32) for a in (xs, ws, ys))
        for a, what in ((xs, "input_scale"), (ws, "weight_scale"), (ys, "output_scale")):
            if not np.all(np.isfinite(a)) or not np.all(a > 0):
                raise EncodingError(f"{what}: does not round to a finite float32 > 0")
    if precision == "double":
        out = (xs.astype(np.float64) * ws.astype(np.float64)) / ys.astype(np.float64)
    else:
        prod = np.multiply(xs, ws, dtype=np.float32)
        out = np.divide(prod, ys, dtype=np.float32)
    if out.ndim == 0:
        return out[()]
    return out
