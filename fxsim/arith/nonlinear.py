"""Nonlinear activations with an engine's own integer algorithm: softmax, logistic, tanh, hard-swish.

``algorithm="tflite"`` is TFLite's reference integer kernels as TFLite Micro runs them (and
CMSIS-NN's s8 softmax reproduces): gemmlowp fixed-point exp / logistic / tanh / reciprocal,
with the parameters TFLite's ``Prepare`` derives from the scales (csrc/fxsim/kernels/nonlinear.h
states the formulas; fxsim/reference/nonlinear.py is the exact model and says which TFLite
versions and runtimes use this path and which use float tables instead).

Outputs are integer codes in the encoding TFLite requires for the op (see
:func:`output_quantization`): softmax and logistic ``scale 1/256`` with zero point -128 (int8) /
0 (uint8), an int16 softmax output ``1/65536`` with -32768; tanh ``1/128`` with 0 / 128;
hard-swish the output encoding given. Inputs are int8 or uint8 codes with a per-tensor encoding;
nothing is coerced (a float or int32 array is an error).
"""

import math
from typing import NamedTuple

import numpy as np

import functools

from .. import _kernels
from ..errors import EncodingError, FormatError
from ..reference.nonlinear import softmax_int16_luts as _reference_int16_luts
from ._arguments import memoized, prepared_codes_check
from .lut import prepared_gather
from .multiplier import quantize_multiplier

__all__ = [
    "NONLINEAR_ALGORITHMS",
    "SoftmaxParams",
    "LogisticTanhParams",
    "HardSwishParams",
    "softmax_params",
    "softmax_int16_params",
    "softmax_int16_luts",
    "logistic_params",
    "tanh_params",
    "hard_swish_params",
    "output_quantization",
    "softmax",
    "logistic",
    "tanh",
    "hard_swish",
    "prepare_softmax",
    "prepare_logistic",
    "prepare_tanh",
    "prepare_hard_swish",
    "LogisticTanhInt16Params",
    "logistic_tanh_int16_params",
    "logistic_int16",
    "tanh_int16",
]

#: The integer algorithms these functions implement.
NONLINEAR_ALGORITHMS = ("tflite",)

_CODE_DTYPES = {"int8": np.dtype(np.int8), "uint8": np.dtype(np.uint8)}
_INT32_MAX = (1 << 31) - 1


class SoftmaxParams(NamedTuple):
    """TFLite softmax parameters: ``input_multiplier`` (Q0.31), ``input_left_shift``, ``diff_min``."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int


class LogisticTanhParams(NamedTuple):
    """TFLite int8 logistic/tanh parameters (``input_zero_point`` is the input's own)."""

    input_multiplier: int
    input_left_shift: int
    input_range_radius: int


class HardSwishParams(NamedTuple):
    """TFLite HardSwishParams: int16 multipliers and their exponents (left shifts)."""

    reluish_multiplier: int
    reluish_exponent: int
    output_multiplier: int
    output_exponent: int


def _float32_param(value, name, what, positive=True):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise EncodingError(f"{what}: {name} must be a number, got {value!r}")
    f = np.float32(value)
    if not np.isfinite(f) or (positive and not f > 0):
        raise EncodingError(f"{what}: {name} must be a finite {'positive ' if positive else ''}float32, "
                            f"got {value!r}")
    return float(f)


def _check_algorithm(algorithm, what):
    if algorithm not in NONLINEAR_ALGORITHMS:
        raise EncodingError(f"{what}: algorithm must be one of {NONLINEAR_ALGORITHMS}, got {algorithm!r}")


def _round_half_away(x):
    r = math.floor(x)
    frac = x - r
    return int(r + 1) if frac > 0.5 or (frac == 0.5 and x > 0) else int(r)


def _input_radius(integer_bits, left_shift):
    # TFLite CalculateInputRadius(ib, shift, 31): floor((2^ib - 1) * 2^(31 - ib) / 2^shift)
    return (((1 << integer_bits) - 1) << (31 - integer_bits)) >> left_shift


@memoized
def softmax_params(beta, input_scale) -> SoftmaxParams:
    """The parameters TFLite derives for an 8-bit-input softmax (kScaledDiffIntegerBits = 5).

    ``real = min(beta * input_scale * 2^26, 2^31 - 1)`` in double from the float32 ``beta`` and
    scale; ``(M, shift) = QuantizeMultiplierGreaterThanOne(real)`` (``real > 1`` required: beta *
    input_scale > 2^-26); ``diff_min = -CalculateInputRadius(5, shift)``. Raises
    ``EncodingError`` naming the argument. Source: tflite-micro
    micro/kernels/softmax_common.cc CalculateSoftmaxParams; tensorflow/lite/kernels/internal/
    quantization_util.cc PreprocessSoftmaxScaling, CalculateInputRadius.
    """
    what = "softmax_params"
    b = _float32_param(beta, "beta", what)
    s = _float32_param(input_scale, "input_scale", what)
    real = min(b * s * float(1 << 26), float((1 << 31) - 1))
    if not real > 1.0:
        raise EncodingError(f"{what}: beta * input_scale = {b * s!r} must exceed 2^-26 "
                            "(TFLite QuantizeMultiplierGreaterThanOne requires a multiplier > 1)")
    m = quantize_multiplier(real, derivation="tflite")
    return SoftmaxParams(int(m.value), int(m.shift), -_input_radius(5, int(m.shift)))


class SoftmaxInt16Params(NamedTuple):
    """TFLite int16 softmax parameters: the multiplier of ``input_scale * beta / (10 / 65535)``."""

    input_multiplier: int
    input_left_shift: int


@memoized
def softmax_int16_params(beta, input_scale) -> SoftmaxInt16Params:
    """The parameters TFLite's SoftmaxPrepare derives for int16 input: QuantizeMultiplier of
    ``input_scale * beta / (10 / 65535)`` (the interpreter multiplies the two floats in float32,
    then divides in double), so that a difference of -65535 maps to -10.0 in the exp table.
    Source: tensorflow/lite/kernels/activations.cc SoftmaxPrepare (int16 branch).
    """
    what = "softmax_int16_params"
    b = np.float32(_float32_param(beta, "beta", what))
    s = np.float32(_float32_param(input_scale, "input_scale", what))
    with np.errstate(over="ignore", under="ignore"):
        product = b * s  # float32
    real = float(product) / (10.0 / 65535.0)
    if not (math.isfinite(real) and real > 0):
        raise EncodingError(f"{what}: beta * input_scale = {float(product)!r} must be a positive finite float32")
    m = quantize_multiplier(real, derivation="tflite")
    if not -31 <= m.shift <= 31:
        raise EncodingError(f"{what}: beta * input_scale = {float(product)!r} gives a shift {m.shift} outside [-31, 31]")
    return SoftmaxInt16Params(int(m.value), int(m.shift))


@functools.lru_cache(maxsize=1)
def softmax_int16_luts():
    """``(exp_lut, one_over_one_plus_x_lut)``, int16 arrays of 513 entries: the tables TFLite's
    SoftmaxPrepare builds with its double ``gen_lut`` (``exp`` on [-10, 0], ``1/(1+x)`` on [0, 1])
    on this machine's C library (read-only; fxsim/reference/nonlinear.py gen_lut_int16 documents
    the formula and the TFLite versions it belongs to)."""
    exp_lut, recip_lut = _reference_int16_luts()
    tables = (np.array(exp_lut, dtype=np.int16), np.array(recip_lut, dtype=np.int16))
    for t in tables:
        t.flags.writeable = False
    return tables


@memoized
def logistic_params(input_scale) -> LogisticTanhParams:
    """The parameters TFLite Micro derives for int8 logistic (kInputIntegerBits = 4).

    ``q, e = frexp(input_scale * 2^27)`` (double from the float32 scale);
    ``M = TfLiteRound(q * 2^31)``; ``radius = CalculateInputRadius(4, e, 31)``. The scale must
    be at least 2^-28 (TFLite shifts by ``e``, which must not be negative). Source:
    tflite-micro micro/kernels/logistic_common.cc CalculateArithmeticOpDataLogistic.
    """
    return _logistic_tanh_params(input_scale, "logistic_params")


@memoized
def tanh_params(input_scale) -> LogisticTanhParams:
    """As :func:`logistic_params` (tflite-micro micro/kernels/tanh.cc CalculateArithmeticOpData)."""
    return _logistic_tanh_params(input_scale, "tanh_params")


def _logistic_tanh_params(input_scale, what):
    s = _float32_param(input_scale, "input_scale", what)
    q, e = math.frexp(s * float(1 << 27))
    if not 0 <= e <= 62:
        raise EncodingError(f"{what}: input_scale {s!r} is below 2^-28 (TFLite's CalculateInputRadius "
                            "would shift by a negative amount)")
    m = _round_half_away(q * float(1 << 31))  # exact: q has at most 24 significant bits
    return LogisticTanhParams(m, e, _input_radius(4, e))


def _downscale_int16(m):
    # TFLite activations.cc DownScaleInt32ToInt16Multiplier
    return 32767 if m >= _INT32_MAX - (1 << 15) else (m + (1 << 15)) >> 16


@memoized
def hard_swish_params(input_scale, output_scale) -> HardSwishParams:
    """The parameters TFLite's HardSwishPrepare derives (float32 arithmetic, then QuantizeMultiplier
    and DownScaleInt32ToInt16Multiplier).

    ``hires = input_scale / 128``; ``output = hires / output_scale`` (its exponent must be <= 0:
    ``output_scale > input_scale / 128``); ``reluish = hires / (3 / 32768)``. Source:
    tensorflow/lite/kernels/activations.cc HardSwishPrepare.
    """
    what = "hard_swish_params"
    si = np.float32(_float32_param(input_scale, "input_scale", what))
    so = np.float32(_float32_param(output_scale, "output_scale", what))
    with np.errstate(over="ignore", under="ignore"):
        hires = np.float32(1.0 / 128.0) * si
        out_real = hires / so
        rel_real = hires / (np.float32(3.0) / np.float32(32768.0))
    if not (np.isfinite(out_real) and np.isfinite(rel_real)):
        raise EncodingError(f"{what}: a multiplier overflows float32 (input_scale {float(si)!r}, "
                            f"output_scale {float(so)!r})")
    mo = quantize_multiplier(float(out_real), derivation="tflite")
    mr = quantize_multiplier(float(rel_real), derivation="tflite")
    if mo.shift > 0:
        raise EncodingError(f"{what}: output_scale {float(so)!r} must exceed input_scale / 128 "
                            f"(output multiplier exponent {mo.shift} > 0; TFLite's Prepare rejects it)")
    if mr.shift > 31:
        raise EncodingError(f"{what}: input_scale {float(si)!r} is too large (reluish exponent {mr.shift} > 31)")
    return HardSwishParams(_downscale_int16(int(mr.value)), int(mr.shift), _downscale_int16(int(mo.value)),
                           int(mo.shift))


class LogisticTanhInt16Params(NamedTuple):
    """TFLite int16 logistic/tanh parameters: ``input_multiplier`` (0 for a power-of-two input
    scale, when the kernel uses ``3 << input_left_shift``) and ``input_left_shift``."""

    input_multiplier: int
    input_left_shift: int


def _checked_log2(x):
    # TFLite CheckedLog2 (quantization_util.h): log(x) * (1 / log(2)) in float32, TfLiteRound,
    # power of two when |fraction| < 1e-3
    with np.errstate(all="ignore"):
        l2 = np.float32(np.log(np.float32(x))) * (np.float32(1.0) / np.float32(np.log(np.float32(2.0))))
    r = np.float32(np.sign(l2) * np.floor(np.abs(l2) + np.float32(0.5)))
    return int(r), bool(abs(np.float32(l2 - r)) < np.float32(1e-3))


@memoized
def logistic_tanh_int16_params(op, input_scale) -> LogisticTanhInt16Params:
    """The parameters TFLite's int16 SigmoidPrepare / TanhPrepare derive (activations.cc; TFLite
    Micro's logistic_common.cc and tanh_common.cc agree): ``shift = 12 + CheckedLog2(scale)``; a
    power-of-two scale with shift 0 (logistic) or 0..1 (tanh) keeps multiplier 0; otherwise
    ``m = double(scale) * 4096 * 3`` doubled while ``m <= 32767 / 2`` and ``shift <= 30``,
    multiplier ``int(m)``. ``EncodingError`` when the scale is so large that TFLite's int32
    ``q * multiplier`` would overflow (scale above about 5.3)."""
    what = "logistic_tanh_int16_params"
    if op not in ("logistic", "tanh"):
        raise EncodingError(f"{what}: op must be 'logistic' or 'tanh', got {op!r}")
    s = _float32_param(input_scale, "input_scale", what)
    log2r, pot = _checked_log2(s)
    shift = 12 + log2r
    if pot and (shift == 0 if op == "logistic" else shift in (0, 1)):
        return LogisticTanhInt16Params(0, shift)
    m = s * 4096.0 * 3.0  # double, exact
    shift = 0
    while m <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        m *= 2.0
    multiplier = int(m)
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    if 32767 * multiplier + rnd > _INT32_MAX or -32768 * multiplier + rnd <= -_INT32_MAX - 1:
        raise EncodingError(f"{what}: input_scale {s!r} is too large (TFLite's int32 q * {multiplier} overflows)")
    return LogisticTanhInt16Params(multiplier, shift)


def _int16_logistic_tanh(op, kernel, q, enc_in):
    what = op + "_int16"
    codes = np.asarray(q)
    if codes.dtype != np.int16:
        raise FormatError(f"{what}: q must be an int16 array of codes, got dtype {codes.dtype}")
    codes = np.ascontiguousarray(codes)
    scale, zp = _scale_and_zero_point(enc_in, codes, what)
    if zp != 0:
        raise EncodingError(f"{what}: TFLite's int16 {op} requires input zero point 0, got {zp}")
    p = logistic_tanh_int16_params(op, scale)
    out = np.empty(codes.shape, dtype=np.int16)
    kernel(codes, p.input_multiplier, p.input_left_shift, out)
    return out


def logistic_int16(q, enc_in):
    """Logistic of int16 codes (zero point 0), TFLite's reference integer kernel (a 256-entry
    Q0.16 sigmoid table with linear interpolation, reference_integer_ops::Logistic). ``enc_in``:
    the input's per-tensor ``Encoding`` or its scale. Output int16 codes, scale 2^-15, zero
    point 0."""
    return _int16_logistic_tanh("logistic", _kernels.logistic_int16_tflite, q, enc_in)


def tanh_int16(q, enc_in):
    """Tanh of int16 codes (zero point 0), TFLite's reference integer kernel
    (reference_integer_ops::Tanh: the sigmoid table read at twice the argument). Output int16
    codes, scale 2^-15, zero point 0."""
    return _int16_logistic_tanh("tanh", _kernels.tanh_int16_tflite, q, enc_in)


def output_quantization(op, dtype="int8"):
    """``(scale, zero_point)`` TFLite requires for the output of ``op`` ("softmax", "logistic",
    "tanh") stored as ``dtype`` ("int8", "uint8"; softmax also "int16" for an 8-bit input), or
    ("softmax_int16_input", "int16") for TFLite's int16-in, int16-out softmax."""
    table = {
        ("softmax", "int8"): (1.0 / 256, -128),
        ("softmax", "uint8"): (1.0 / 256, 0),
        ("softmax", "int16"): (1.0 / 65536, -32768),
        ("softmax_int16_input", "int16"): (1.0 / 32768, 0),
        ("logistic", "int8"): (1.0 / 256, -128),
        ("logistic", "uint8"): (1.0 / 256, 0),
        ("tanh", "int8"): (1.0 / 128, 0),
        ("tanh", "uint8"): (1.0 / 128, 128),
        ("logistic", "int16"): (1.0 / 32768, 0),
        ("tanh", "int16"): (1.0 / 32768, 0),
    }
    if (op, dtype) not in table:
        raise EncodingError(f"output_quantization: no fixed output encoding for {op!r} with dtype {dtype!r} "
                            f"(known: {sorted(table)})")
    return table[(op, dtype)]


def _codes(q, what, int16=False):
    arr = np.asarray(q)
    allowed = (np.dtype(np.int8), np.dtype(np.uint8)) + ((np.dtype(np.int16),) if int16 else ())
    if arr.dtype not in allowed:
        names = "int8, uint8 or int16" if int16 else "int8 or uint8"
        raise FormatError(f"{what}: q must be an {names} array of codes, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr)


def _scale_and_zero_point(enc, codes, what):
    """(scale, zero_point) of a per-tensor 8-bit encoding ``enc`` (an Encoding, or a scale)."""
    if hasattr(enc, "scale") and hasattr(enc, "zero_point"):
        if getattr(enc, "axis", None) is not None:
            raise EncodingError(f"{what}: enc_in must be per-tensor (TFLite activations are), got axis {enc.axis}")
        if np.dtype(enc.dtype) != codes.dtype:
            raise EncodingError(f"{what}: enc_in stores {np.dtype(enc.dtype)} codes but q is {codes.dtype}")
        return float(np.asarray(enc.scale).reshape(-1)[0]), int(enc.zero_point)
    return float(enc), 0


def _zero_point(zp, codes, what, name):
    if isinstance(zp, bool) or not isinstance(zp, (int, np.integer)):
        raise EncodingError(f"{what}: {name} must be an int, got {zp!r}")
    info = np.iinfo(codes.dtype)
    if not info.min <= int(zp) <= info.max:
        raise EncodingError(f"{what}: {name} {int(zp)} is outside the {codes.dtype} range")
    return int(zp)


def _code_dtype(dtype, what, int16=False):
    dtype = np.dtype(dtype)
    allowed = (np.dtype(np.int8), np.dtype(np.uint8)) + ((np.dtype(np.int16),) if int16 else ())
    if dtype not in allowed:
        names = "int8, uint8 or int16" if int16 else "int8 or uint8"
        raise FormatError(f"{what}: q must be an {names} array of codes, got dtype {dtype}")
    return dtype


def prepare_softmax(shape, in_dtype, enc_in, beta=1.0, dtype=None, algorithm="tflite"):
    """:func:`softmax` prepared once for codes of ``shape`` and ``in_dtype``: arguments checked
    and TFLite's parameters derived here; the returned ``run(q)`` checks ``q``'s dtype and shape
    and calls the kernel."""
    what = "softmax"
    _check_algorithm(algorithm, what)
    in_dtype = _code_dtype(in_dtype, what, int16=True)
    shape = tuple(shape)
    check = prepared_codes_check(shape, in_dtype, what)
    probe = np.empty(0, in_dtype)
    if in_dtype == np.dtype(np.int16):
        if dtype not in (None, "int16"):
            raise EncodingError(f"{what}: an int16 input gives an int16 output (scale 1/32768), got dtype {dtype!r}")
        if len(shape) < 1 or shape[-1] < 1:
            raise FormatError(f"{what}: q must have a non-empty last axis (softmax runs over it)")
        scale, _ = _scale_and_zero_point(enc_in, probe, what)
        p = softmax_int16_params(beta, scale)
        exp_lut, recip_lut = softmax_int16_luts()

        def run16(q):
            out = np.empty(shape, dtype=np.int16)
            _kernels.softmax_int16_tflite(check(q), p.input_multiplier, p.input_left_shift, exp_lut, recip_lut, out)
            return out

        return run16
    dtype = "int8" if dtype is None else dtype
    if len(shape) < 1:
        raise FormatError(f"{what}: q must have at least one dimension (softmax runs over the last axis)")
    if shape[-1] < 1:
        raise FormatError(f"{what}: the last axis of q must not be empty")
    if dtype not in ("int8", "uint8", "int16"):
        raise EncodingError(f"{what}: dtype must be 'int8', 'uint8' or 'int16', got {dtype!r}")
    scale, _ = _scale_and_zero_point(enc_in, probe, what)
    p = softmax_params(beta, scale)
    out_dtype = np.dtype(dtype)

    def run(q):
        out = np.empty(shape, dtype=out_dtype)
        _kernels.softmax_tflite(check(q), p.input_multiplier, p.input_left_shift, p.diff_min, out)
        return out

    return run


def softmax(q, enc_in, beta=1.0, dtype=None, algorithm="tflite"):
    """Softmax over the last axis of int8/uint8/int16 codes, TFLite's integer algorithm.

    ``enc_in``: the input's per-tensor ``Encoding`` (its storage must be ``q``'s dtype) or its
    scale (the zero point cancels in ``x - max``). ``beta``: the op's beta (float32).
    ``dtype``: the output codes. For int8/uint8 input (gemmlowp fixed point): "int8" (scale
    1/256, zero point -128; the default), "uint8" (1/256, 0) or "int16" (1/65536, -32768). For
    int16 input (TFLite's SoftmaxInt16 with its exp and 1/(1+x) tables): "int16" only (scale
    1/32768, zero point 0; the default). Returns an array shaped like ``q``. A row whose sum of
    exponentials makes TFLite's kernel abort (an 8-bit output with a real sum >= 512) raises
    ``OverflowRangeError`` naming the row. :func:`prepare_softmax` does the checks once.
    """
    _check_algorithm(algorithm, "softmax")
    codes = _codes(q, "softmax", int16=True)
    return prepare_softmax(codes.shape, codes.dtype, enc_in, beta, dtype, algorithm)(codes)


def _prepared_code_map(kernel, params, shape, dtype, what):
    """``run(q)`` of an 8-bit elementwise kernel prepared once: the kernel's own codes for every
    code of ``dtype`` (a 256-entry table computed here, once), gathered per call by
    ``_kernels.lut_apply``. The same codes as the kernel called on ``q``, without the table the
    kernel builds on every call (~1.3 us of a 2 us hard-swish of 576 x 7 x 7 codes)."""
    info = np.iinfo(dtype)
    table = np.empty(256, dtype)
    kernel(np.arange(info.min, info.max + 1, dtype=dtype), *params, table)
    return prepared_gather(shape, dtype, table, what)


def _prepare_logistic_tanh(kernel, derive, shape, dtype, enc_in, zero_point, algorithm, what):
    _check_algorithm(algorithm, what)
    dtype = _code_dtype(dtype, what)
    probe = np.empty(0, dtype)
    scale, zp = _scale_and_zero_point(enc_in, probe, what)
    if zero_point is not None:
        if hasattr(enc_in, "zero_point"):
            raise EncodingError(f"{what}: give the zero point through enc_in or zero_point, not both")
        zp = _zero_point(zero_point, probe, what, "zero_point")
    p = derive(scale)
    params = (zp, p.input_range_radius, p.input_multiplier, p.input_left_shift)
    return _prepared_code_map(getattr(_kernels, kernel), params, tuple(shape), dtype, what)


def prepare_logistic(shape, dtype, enc_in, *, zero_point=None, algorithm="tflite"):
    """:func:`logistic` prepared once for codes of ``shape`` and ``dtype`` (the kernel's codes
    for all 256 inputs computed here); ``run(q)`` per call looks them up."""
    return _prepare_logistic_tanh("logistic_tflite", logistic_params, shape, dtype, enc_in, zero_point,
                                  algorithm, "logistic")


def prepare_tanh(shape, dtype, enc_in, *, zero_point=None, algorithm="tflite"):
    """:func:`tanh` prepared once for codes of ``shape`` and ``dtype`` (the kernel's codes for all
    256 inputs computed here); ``run(q)`` per call looks them up."""
    return _prepare_logistic_tanh("tanh_tflite", tanh_params, shape, dtype, enc_in, zero_point,
                                  algorithm, "tanh")


def logistic(q, enc_in, *, zero_point=None, algorithm="tflite"):
    """Logistic (sigmoid) of int8/uint8 codes, TFLite's integer algorithm.

    ``enc_in``: the input's per-tensor ``Encoding``, or its scale together with ``zero_point``.
    Output codes in ``q``'s dtype with scale 1/256 and zero point -128 (int8) / 0 (uint8).
    """
    _check_algorithm(algorithm, "logistic")
    codes = _codes(q, "logistic")
    return prepare_logistic(codes.shape, codes.dtype, enc_in, zero_point=zero_point, algorithm=algorithm)(codes)


def tanh(q, enc_in, *, zero_point=None, algorithm="tflite"):
    """Tanh of int8/uint8 codes, TFLite's integer algorithm.

    ``enc_in``: the input's per-tensor ``Encoding``, or its scale together with ``zero_point``.
    Output codes in ``q``'s dtype with scale 1/128 and zero point 0 (int8) / 128 (uint8).
    """
    _check_algorithm(algorithm, "tanh")
    codes = _codes(q, "tanh")
    return prepare_tanh(codes.shape, codes.dtype, enc_in, zero_point=zero_point, algorithm=algorithm)(codes)


def prepare_hard_swish(shape, dtype, enc_in, enc_out, *, zero_point=None, output_zero_point=None,
                       algorithm="tflite"):
    """:func:`hard_swish` prepared once for codes of ``shape`` and ``dtype``: arguments checked,
    TFLite's parameters derived and the kernel's codes for all 256 inputs computed here;
    ``run(q)`` checks ``q``'s dtype and shape and looks its codes up."""
    what = "hard_swish"
    _check_algorithm(algorithm, what)
    dtype = _code_dtype(dtype, what)
    probe = np.empty(0, dtype)
    s_in, zp_in = _scale_and_zero_point(enc_in, probe, what)
    s_out, zp_out = _scale_and_zero_point(enc_out, probe, what)
    if zero_point is not None:
        zp_in = _zero_point(zero_point, probe, what, "zero_point")
    if output_zero_point is not None:
        zp_out = _zero_point(output_zero_point, probe, what, "output_zero_point")
    p = hard_swish_params(s_in, s_out)
    params = (zp_in, zp_out, p.reluish_multiplier, p.reluish_exponent, p.output_multiplier, p.output_exponent)
    return _prepared_code_map(_kernels.hard_swish_tflite, params, tuple(shape), dtype, what)


def hard_swish(q, enc_in, enc_out, *, zero_point=None, output_zero_point=None, algorithm="tflite"):
    """HardSwish ``x * relu6(x + 3) / 6`` of int8/uint8 codes, TFLite's integer algorithm.

    ``enc_in`` / ``enc_out``: per-tensor ``Encoding`` objects of the input and output (same
    storage as ``q``), or their scales together with ``zero_point`` / ``output_zero_point``.
    Returns codes in ``q``'s dtype. :func:`prepare_hard_swish` does the checks once.
    """
    _check_algorithm(algorithm, "hard_swish")
    codes = _codes(q, "hard_swish")
    return prepare_hard_swish(codes.shape, codes.dtype, enc_in, enc_out, zero_point=zero_point,
                              output_zero_point=output_zero_point, algorithm=algorithm)(codes)
