"""Elementwise add / sub / mul of two codes with rescale, one function per engine family.

Quantization contract: ``a`` and ``b`` are codes (Python ints) of their input encodings; each
function returns the output code, already clamped to ``[qmin, qmax]``. Integer families are
exact integer arithmetic (int32 wrap modelled where the engine's int32 arithmetic would wrap);
float families follow the engine's float32 expression operation by operation, each operation
rounded to binary32 exactly (``fxsim.reference.ieee``), fma rounded once. Preconditions raise
``ValueError``. The C++ kernels (csrc/fxsim/kernels/elementwise.h) must equal these with ``==``.
"""

from fractions import Fraction

from fxsim.constants import HALF_EVEN, HALF_UP
from fxsim.reference.fixedpoint import rounding_divide_by_pot, saturating_rounding_doubling_high_mul
from fxsim.reference.ieee import f32_add, f32_div, f32_mul, int_to_float32, is_float32, round_to_float32
from fxsim.reference.multiplier import multiply_by_quantized_multiplier_double_round
from fxsim.reference.rounding import as_int, clamp, round_fraction, rounding_shift_right, wrap_to_bits, x86_int32

__all__ = [
    "add_tflite",
    "mul_tflite",
    "ORT_EXPRESSIONS",
    "ort_binary",
    "add_align_pot",
]

#: The ONNX Runtime float expressions of :func:`ort_binary`.
ORT_EXPRESSIONS = ("add8", "add_raw", "mul8")


def _wrap32(v):
    return wrap_to_bits(v, 32, True)


def _mbqm_smaller_than_one(x, multiplier, shift):
    """TFLite ``MultiplyByQuantizedMultiplierSmallerThanOneExp``: ``RDBPOT(SRDHM(x, M), -shift)``, shift <= 0."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -shift)


def add_tflite(a, b, a_zero_point, b_zero_point, left_shift, a_multiplier, a_shift, b_multiplier, b_shift,
               out_multiplier, out_shift, out_zero_point, qmin, qmax, subtract=False):
    """TFLite integer ADD / SUB of two codes.

    ``ia = wrap32((a - a_zp) * 2^left_shift)``, ``sa = RDBPOT(SRDHM(ia, a_mult), -a_shift)``
    (likewise ``b``), ``raw = wrap32(sa + sb)`` (``sa - sb`` with ``subtract``),
    ``r = RDBPOT(SRDHM(raw, out_mult), -out_shift)``, code ``clamp(wrap32(r + out_zp))``.
    Shifts in ``[-31, 0]``, ``left_shift`` in ``[0, 30]`` (20 for 8-bit, 15 for 16-bit).
    Sources: tensorflow/lite/kernels/internal/reference/integer_ops/add.h AddFunc,
    reference/add.h AddElementwise (int16, left shift 15), reference/sub.h SubElementwise.
    """
    for name, s in (("a_shift", a_shift), ("b_shift", b_shift), ("out_shift", out_shift)):
        as_int(name, s, -31, 0)
    left_shift = as_int("left_shift", left_shift, 0, 30)
    ia = _wrap32((a - a_zero_point) << left_shift)
    ib = _wrap32((b - b_zero_point) << left_shift)
    sa = _mbqm_smaller_than_one(ia, a_multiplier, a_shift)
    sb = _mbqm_smaller_than_one(ib, b_multiplier, b_shift)
    raw = _wrap32(sa - sb if subtract else sa + sb)
    r = _mbqm_smaller_than_one(raw, out_multiplier, out_shift)
    return clamp(_wrap32(r + out_zero_point), qmin, qmax)


def mul_tflite(a, b, a_zero_point, b_zero_point, out_multiplier, out_shift, out_zero_point, qmin, qmax):
    """TFLite integer MUL of two codes: ``clamp(wrap32(MBQM(wrap32((a - a_zp) * (b - b_zp)), M, shift) + out_zp))``.

    ``MBQM`` is the default-build (double rounding) ``MultiplyByQuantizedMultiplier``, shift in
    ``[-31, 31]``. Source: tensorflow/lite/kernels/internal/reference/integer_ops/mul.h MulElementwise.
    """
    prod = _wrap32((a - a_zero_point) * (b - b_zero_point))
    r = multiply_by_quantized_multiplier_double_round(prod, out_multiplier, out_shift)
    return clamp(_wrap32(r + out_zero_point), qmin, qmax)


def _fma32(x, y, z):
    """binary32 ``fma(x, y, z)``: the exact ``x * y + z`` rounded once."""
    return round_to_float32(Fraction(x) * Fraction(y) + Fraction(z))


def _cvtps(v):
    """x86 ``cvtps2dq`` (default rounding): half to even; outside int32 gives INT32_MIN."""
    return x86_int32(round_fraction(Fraction(v), HALF_EVEN))


def ort_binary(a, b, expression, a_scale, a_zero_point, b_scale, b_zero_point, out_scale, out_zero_point,
               qmin, qmax, row_case=0):
    """ONNX Runtime's float32 expression for QLinearAdd / QLinearMul of two codes.

    Scales are float32 values (> 0). Every step is a binary32 operation:

    * ``"add8"`` (QLinearAdd int8/uint8, x86 AVX2 ``qladd_avx2.cpp``): ``rAC = sA / sC``,
      ``rBC = sB / sC``, ``F = float(zC) - (rAC * float(zA) + rBC * float(zB))``; with
      ``row_case`` 0 (both vary): ``v = fma(a, rAC, fma(b, rBC, F))``; 1 (a scalar along the
      row): ``v = fma(b, rBC, F + a * rAC)``; 2 (b scalar, or a one-element row):
      ``v = fma(a, rAC, F + b * rBC)`` (ONNX Runtime's broadcast spans, qlinear_binary_op.cc);
      code ``clamp(cvtps(v))`` (half even; INT32_MIN outside int32).
    * ``"add_raw"`` (``MlasQLinearAddKernelRawHelper``, int16): ``v = (sA * float(a - zA) +
      sB * float(b - zB)) / sC``, clamped to ``[qmin - zC, qmax - zC]``, half even, ``+ zC``.
    * ``"mul8"`` (QLinearMul int8/uint8, x86 SSE2 ``qlmul.cpp`` MlasQLinearMulVectorS16):
      ``r = (sA * sB) / sC``, ``v = float((a - zA) * (b - zB)) * r + float(zC)`` (a multiply
      and an add, each rounded: no fma), code ``clamp(cvtps(v))``: the output zero point is
      added in float BEFORE the rounding, so a tie is broken on ``v + zC`` (odd ``zC`` flips
      it) and the add's own rounding can make one (live ORT 1.32: 128 of 256 tie codes differ
      with ``cvtps(v) + zC`` at ``zC = 127``).
    """
    if expression not in ORT_EXPRESSIONS:
        raise ValueError(f"expression must be one of {ORT_EXPRESSIONS}, got {expression!r}")
    for name, s in (("a_scale", a_scale), ("b_scale", b_scale), ("out_scale", out_scale)):
        if not is_float32(s) or not s > 0:
            raise ValueError(f"{name} must be a float32 value > 0, got {s!r}")
    if expression == "add8":
        r_ac = f32_div(a_scale, out_scale)
        r_bc = f32_div(b_scale, out_scale)
        za = f32_mul(r_ac, int_to_float32(a_zero_point))
        zb = f32_mul(r_bc, int_to_float32(b_zero_point))
        fixed = f32_add(int_to_float32(out_zero_point), -f32_add(za, zb))
        fa, fb = int_to_float32(a), int_to_float32(b)
        if row_case == 1:
            v = _fma32(fb, r_bc, f32_add(fixed, f32_mul(fa, r_ac)))
        elif row_case == 2:
            v = _fma32(fa, r_ac, f32_add(fixed, f32_mul(fb, r_bc)))
        else:
            v = _fma32(fa, r_ac, _fma32(fb, r_bc, fixed))
        return clamp(_cvtps(v), qmin, qmax)
    if expression == "add_raw":
        va = f32_mul(a_scale, int_to_float32(a - a_zero_point))
        vb = f32_mul(b_scale, int_to_float32(b - b_zero_point))
        v = Fraction(f32_div(f32_add(va, vb), out_scale))
        v = clamp(v, qmin - out_zero_point, qmax - out_zero_point)
        return round_fraction(v, HALF_EVEN) + out_zero_point
    ratio = f32_div(f32_mul(a_scale, b_scale), out_scale)
    v = f32_mul(int_to_float32((a - a_zero_point) * (b - b_zero_point)), ratio)
    return clamp(_cvtps(f32_add(v, int_to_float32(out_zero_point))), qmin, qmax)


def add_align_pot(a, b, a_fix_point, b_fix_point, out_fix_point, qmin, qmax, subtract=False):
    """Vitis AI DPU elementwise add / sub at power-of-two positions.

    With ``m = max(fa, fb)``: ``s = a * 2^(m - fa) +- b * 2^(m - fb)`` exactly, then
    ``code = clamp(round_half_up(s * 2^(fo - m)))``. Fix points in ``[-32, 32]``. Source:
    Xilinx/Vitis-AI src/vai_library/cpu_task/ops/eltwise-fix/eltwise-fix.cpp (scales
    ``2^(max_fp - fp_i)`` and ``2^(fp_out - max_fp)``), cpu_task/ops/common/util.hpp ``fix``
    (DPU_ROUND: half up after the int8 clamp, equal to rounding then clamping).
    """
    for name, f in (("a_fix_point", a_fix_point), ("b_fix_point", b_fix_point), ("out_fix_point", out_fix_point)):
        as_int(name, f, -32, 32)
    m = max(a_fix_point, b_fix_point)
    xa = a << (m - a_fix_point)
    yb = b << (m - b_fix_point)
    s = xa - yb if subtract else xa + yb
    shift = out_fix_point - m
    r = s << shift if shift >= 0 else rounding_shift_right(s, -shift, HALF_UP)
    return clamp(r, qmin, qmax)

