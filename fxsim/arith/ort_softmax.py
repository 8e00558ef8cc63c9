"""ONNX Runtime's quantized softmax (``com.microsoft`` QLinearSoftmax, CPU provider), the
algorithm onnxruntime 1.32.0's x86-64 wheel runs: a float32 table of exponentials indexed by the
codes (``contrib_ops/cpu/quantization/qlinear_softmax.cc``, ``QlinearBuildLookupTableUint32``), a
float32 row sum in element order, and a double-precision rescale (``QlinearSoftmaxCPU``). ORT
fuses a QDQ ``Softmax`` into this op at ``ORT_ENABLE_EXTENDED`` and above; QOperator models
name it.

For ``D`` the reduced length (the axis; opset < 13: every dimension from ``axis`` on):

- ``shift = max(0, logf(FLT_MAX / D) - 5) / x_scale``: ``FLT_MAX / D`` divides in float32 (``D``
  converted to float32) and ``log`` of that float is C++'s float overload (``logf``, one float32
  rounding of the natural log); the rest is double;
- ``table[i] = float32(exp((i - 255 + shift) * x_scale))`` for ``i = 0 .. 255``, in double;
  the table is stored at byte ``i`` (u8) or ``byte(i - 128)`` (s8); u8 codes read
  ``table[255 - max + x]``, s8 codes ``table[byte(127 - max + x)]`` (the row maximum lands on
  ``i = 255``);
- ``sum``: float32, one accumulator, elements in order from 0 (``vsum += table[...]``);
- ``Y = double(floorf(1.0f / y_scale))`` (float32 division and floor; when that is not finite, the
  same in double), ``y = nearbyint(double(t) * Y / double(sum)) + y_zp`` in double (the product
  ``t * Y`` is exact, the division rounds once, ``nearbyint`` rounds half to even), saturated to
  the storage range.

How this was pinned (onnxruntime 1.32.0, AMD EPYC with avx2 / avx512_vnni; the wheel has no
symbols): a hardware watchpoint on an output bound with ``io_binding`` stops in the kernel's
store loop, whose code is ``cvtss2sd table[x]; mulsd Y; divsd double(sum); call nearbyint;
addsd y_zp`` then a clamp by ``comisd`` against 0 / 255 (-128 / 127 for s8); the sum loop above
it is one ``addss`` per element; the caller computes ``Y`` with ``divss`` and an inlined
``floorf`` then ``cvtss2sd``, and falls back to ``1.0 / double(y_scale)`` floored when that is not
finite. The 256 table values read from the running session equal this model's table and differ
from a table whose ``log`` is taken in double (``x_scale`` 0.01516697, ``D`` 4: all 256 entries
one or more float32 steps apart), which is what made ``[158, 75, 194, 0]`` give 143 where the
older model (double ``log``, AVX2 MLAS ``qsoftmax_kernel_avx2.cpp`` lane order, float32 rescale)
gave 142. ``tests/oracles/test_ort_softmax.py`` compares this model with the live engine on random
and on engineered rows (ties of ``t * Y / sum``, sums whose order matters, ``floorf`` edges of
``1 / y_scale``). numpy float32 arithmetic is IEEE single precision per operation; Python floats
are IEEE doubles and ``math.log`` / ``math.exp`` call the C library's ``log`` / ``exp``, as ORT does.
"""


import math

import numpy as np

from ..errors import EncodingError, FormatError

__all__ = ["output_multiplier", "qlinear_softmax", "qlinear_softmax_table"]

_FLT_MAX = np.float32(np.finfo(np.float32).max)


def qlinear_softmax_table(x_scale, reduce_len, signed):
    """The 256 float32 exponentials of ``QlinearBuildLookupTableUint32``, indexed by the byte of
    the (shifted) code. ``logf(FLT_MAX / D)`` is one float32 rounding of the natural log (glibc's
    ``logf``, which ORT calls, equals ``float32(log(x))`` on every ``FLT_MAX / D`` for ``D`` up to
    200,000 and at the powers of two up to 2^40, checked on this machine; numpy's float32 ``log``
    does not)."""
    x_scale = np.float32(x_scale)
    if not (np.isfinite(x_scale) and x_scale > 0):
        raise EncodingError(f"qlinear_softmax: the input scale must be positive and finite, got {x_scale}")
    if int(reduce_len) < 1:
        raise FormatError(f"qlinear_softmax: the reduced length must be positive, got {reduce_len}")
    log_limit = float(np.float32(math.log(float(np.divide(_FLT_MAX, np.float32(reduce_len), dtype=np.float32)))))
    shift = max(0.0, log_limit - 5.0) / float(x_scale)
    table = np.empty(256, np.float32)
    for i in range(256):
        index = (i - 128) & 0xFF if signed else i
        table[index] = np.float32(math.exp((i - 255 + shift) * float(x_scale)))
    return table


def output_multiplier(y_scale):
    """``Y = floorf(1.0f / y_scale)`` as the kernel's double: float32 division and floor, or, when
    that is not finite (``y_scale`` below about 2.9e-39), ``floor(1.0 / y_scale)`` in double. The
    kernel never uses ``y_scale`` otherwise."""
    with np.errstate(divide="ignore", over="ignore"):
        multiplier = float(np.floor(np.divide(np.float32(1.0), np.float32(y_scale), dtype=np.float32)))
    if not math.isfinite(multiplier):
        multiplier = float(math.floor(1.0 / float(np.float32(y_scale))))
    return multiplier


def _sum_in_order(values):
    """The float32 row sums of ``QlinearSoftmaxCPU``'s ``vsum += table[...]``: one accumulator,
    elements in order from 0 (``np.add.accumulate`` adds each element to the running sum before
    it, so its last column is that sum)."""
    return np.add.accumulate(values, axis=1, dtype=np.float32)[:, -1]


def _normalize(values, total, enc_out, signed):
    """``y = nearbyint(double(t) * Y / double(sum)) + y_zp``, in double (``t * Y`` is exact for
    ``Y`` below 2^29; the division rounds once; ``np.rint`` rounds half to even as ``nearbyint`` in
    the default rounding mode), then saturated to the storage range as the kernel's two ``comisd``
    tests do."""
    multiplier = output_multiplier(enc_out.scale)
    v = np.rint(values.astype(np.float64) * multiplier / total.astype(np.float64)[:, None])
    v = v + float(enc_out.zero_point)
    lo, hi = (-128.0, 127.0) if signed else (0.0, 255.0)
    out = np.clip(v, lo, hi).astype(np.int64)
    return (out & 0xFF).astype(np.uint8).view(np.int8) if signed else out.astype(np.uint8)


def qlinear_softmax(q, enc_in, enc_out, axis=-1, coerce_to_2d=False):
    """ORT's QLinearSoftmax of uint8 / int8 codes ``q`` (per-tensor ``enc_in``) to ``enc_out``'s
    storage (the same dtype), over ``axis`` (with ``coerce_to_2d``, opset < 13: over every
    dimension from ``axis`` on). Returns an array shaped like ``q``."""
    q = np.asarray(q)
    if q.dtype not in (np.dtype(np.uint8), np.dtype(np.int8)):
        raise FormatError(f"qlinear_softmax: codes must be uint8 or int8, got {q.dtype}")
    if np.dtype(enc_out.dtype) != q.dtype or np.dtype(enc_in.dtype) != q.dtype:
        raise EncodingError(f"qlinear_softmax: input and output storage must both be {q.dtype} "
                            f"(got {enc_in.storage.name}, {enc_out.storage.name})")
    if enc_in.is_per_channel or enc_out.is_per_channel:
        raise EncodingError("qlinear_softmax: per-tensor encodings only")
    if q.ndim < 1:
        raise FormatError("qlinear_softmax: codes need at least one dimension")
    axis = axis + q.ndim if axis < 0 else axis
    if not 0 <= axis < q.ndim:
        raise FormatError(f"qlinear_softmax: axis {axis} out of range for rank {q.ndim}")
    if coerce_to_2d:
        rows = q.reshape(int(np.prod(q.shape[:axis], dtype=np.int64)), -1)
    else:
        rows = np.moveaxis(q, axis, -1)
        moved_shape = rows.shape
        rows = rows.reshape(-1, q.shape[axis])
    signed = q.dtype == np.dtype(np.int8)
    table = qlinear_softmax_table(enc_in.scale, rows.shape[1], signed)
    codes = rows.astype(np.int64)
    top = codes.max(axis=1, keepdims=True)
    index = (127 - top + codes) & 0xFF if signed else 255 - top + codes
    values = table[index]
    out = _normalize(values, _sum_in_order(values), enc_out, signed)
    if coerce_to_2d:
        return out.reshape(q.shape)
    return np.moveaxis(out.reshape(moved_shape), -1, axis)
