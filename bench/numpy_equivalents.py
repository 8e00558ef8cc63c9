"""The numpy expressions that compute what fxsim's array kernels compute.

Used by the benchmarks as the baseline a user would otherwise write, and checked equal to
fxsim's output before anything is timed (a benchmark of a wrong expression is worthless).
"""

import numpy as np


def _trunc_div_pow2(t, n):
    """C-style truncating division of int64 ``t`` by 2^n."""
    return np.where(t >= 0, t >> n, -((-t) >> n))


def requantize_double_round(acc, multiplier, shift, zero_point, qmin, qmax, out_dtype):
    """gemmlowp SRDHM then RDBPOT (TFLite default ``MultiplyByQuantizedMultiplier``)."""
    left, right = max(shift, 0), max(-shift, 0)
    x = (acc.astype(np.int64) << left).astype(np.int32).astype(np.int64)  # int32 wrap of x * 2^left
    ab = x * multiplier
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = _trunc_div_pow2(ab + nudge, 31)
    if right:
        mask = (1 << right) - 1
        rem = high & mask
        threshold = (mask >> 1) + (high < 0)
        high = (high >> right) + (rem > threshold)
    return np.clip(high + zero_point, qmin, qmax).astype(out_dtype)


def requantize_single_round(acc, multiplier, shift, zero_point, qmin, qmax, out_dtype):
    """Half-up rounding of ``acc * M / 2^(31 - shift)`` in int64 (fits for int32 acc)."""
    total = 31 - shift
    y = (acc.astype(np.int64) * multiplier + (1 << (total - 1))) >> total
    return np.clip(y + zero_point, qmin, qmax).astype(out_dtype)


def requantize_fp32(acc, scale_f32, zero_point, qmin, qmax, out_dtype):
    """``clamp(rint(float32(acc) * scale), qmin - zp, qmax - zp) + zp`` (MLAS / XNNPACK fp32)."""
    v = acc.astype(np.float32) * np.float32(scale_f32)
    v = np.clip(v, np.float32(qmin - zero_point), np.float32(qmax - zero_point))
    return (np.rint(v).astype(np.int32) + zero_point).astype(out_dtype)


def requantize_power_of_two_half_up(acc, right_shift, zero_point, qmin, qmax, out_dtype):
    """``(acc + 2^(n-1)) >> n`` (half up), + zp, clamp."""
    y = (acc.astype(np.int64) + (1 << (right_shift - 1))) >> right_shift
    return np.clip(y + zero_point, qmin, qmax).astype(out_dtype)


def quantize_half_even(x, scale_f32, zero_point, qmin, qmax, out_dtype):
    """ONNX ``QuantizeLinear``: ``saturate(rint(x / scale) + zp)`` in float32."""
    v = np.rint(x / np.float32(scale_f32))
    return np.clip(v + np.float32(zero_point), qmin, qmax).astype(out_dtype)


def quantize_half_away(x, scale_f32, zero_point, qmin, qmax, out_dtype):
    """TFLite ``AffineQuantize``: ``clamp(round_half_away(x / scale) + zp)`` in float32."""
    v = x / np.float32(scale_f32)
    a = np.abs(v)
    f = np.floor(a)
    v = np.copysign(f + (a - f >= np.float32(0.5)), v)  # exact: a - f is exact, no a + 0.5 rounding
    return np.clip(v + np.float32(zero_point), qmin, qmax).astype(out_dtype)
