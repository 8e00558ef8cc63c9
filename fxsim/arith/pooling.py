"""Average-pool division: a window sum divided by its count the way each target does it.

The integer average pools of the engines differ only in this step (the window sum itself is
exact): TFLite rounds ``acc / count`` half away from zero, TOSA multiplies by
``reciprocal_scale(count)`` and rounds half up, hexagon_nn multiplies by a truncated Q15
reciprocal, and the Vitis AI DPU multiplies by a power-of-two factor ``N / 2^M`` fixed by the
kernel size (it never divides by the true count, so padded windows are not corrected). The
arithmetic is in csrc/fxsim/fixedpoint/division.h; the exact models in fxsim/reference/pooling.py.
Nothing here saturates: add the output zero point and clamp afterwards.
"""

import numpy as np

from .. import _kernels
from ..errors import EncodingError, OverflowRangeError
from ._arguments import as_integer_array

#: The division methods of :func:`average_divide`.
AVERAGE_METHODS = ("tflite", "tosa", "hexagon", "dpu")

_I32 = np.iinfo(np.int32)


def _fit(arr, dtype, name, what, error):
    info = np.iinfo(dtype)
    if arr.size and (int(arr.min()) < info.min or int(arr.max()) > info.max):
        bad = int(np.flatnonzero((arr < info.min) | (arr > info.max))[0])
        value = int(arr.reshape(-1)[bad])
        raise error(f"{what}: {name} value {value} at index {bad} does not fit {np.dtype(dtype).name}")
    return np.ascontiguousarray(arr.astype(dtype, copy=False))


def _int_param(value, name, lo, hi, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise EncodingError(f"{what}: {name} must be an int, got {value!r}")
    if not lo <= int(value) <= hi:
        raise EncodingError(f"{what}: {name} must be in [{lo}, {hi}], got {int(value)}")
    return int(value)


def average_divide(acc, count=None, method="tflite", *, kernel=None, shift=0):
    """Window sums ``acc`` divided into window averages by ``method``'s integer arithmetic.

    * ``"tflite"``: ``round(acc / count)`` ties away from zero (TFLite reference
      ``integer_ops/pooling.h`` AveragePool); ``acc`` and ``count`` int64.
    * ``"tosa"``: ``apply_scale_32(acc, reciprocal_scale(count))``, single rounding (TOSA
      ``AVG_POOL2D``); int32, and the spec's REQUIREs (for count 1 or 2 ``|acc|`` below 2^29 or
      2^30) raise ``OverflowRangeError``.
    * ``"hexagon"``: ``(acc * sat16(0x8000 // count) + 0x4000) >> 15`` (hexagon_nn
      ``op_avgpool.c``); int32.
    * ``"dpu"``: ``acc * N / 2^(M + shift)`` rounded half up, with ``(N, M)`` the DPU factor of
      ``kernel=(kernel_h, kernel_w)`` (Vitis AI ``pool-fix.cpp``); ``shift`` is
      ``fix_point_in - fix_point_out``. Takes ``kernel``, not ``count``.

    ``count`` broadcasts against ``acc`` (a scalar or an array, every entry ``>= 1``: in
    TFLite, TOSA and Hexagon it is the number of in-image elements of the window). Returns
    int64 averages shaped like the broadcast inputs; integer inputs only (a float array is an
    error, never rounded).
    """
    what = f"average_divide(method={method!r})"
    if method not in AVERAGE_METHODS:
        raise EncodingError(f"average_divide: method must be one of {AVERAGE_METHODS}, got {method!r}")
    values = as_integer_array(acc, f"{what}(acc)")
    if method == "dpu":
        if count is not None:
            raise EncodingError(f"{what}: the DPU multiplies by the factor of the kernel size; pass kernel=, not count")
        if not isinstance(kernel, (tuple, list)) or len(kernel) != 2:
            raise EncodingError(f"{what}: kernel must be (kernel_h, kernel_w), got {kernel!r}")
        kh = _int_param(kernel[0], "kernel_h", 1, _I32.max, what)
        kw = _int_param(kernel[1], "kernel_w", 1, _I32.max, what)
        if kh * kw >= 1 << 24:
            raise EncodingError(f"{what}: kernel {kh}x{kw} is too large (kernel_h * kernel_w * 128 must fit int32)")
        sh = _int_param(shift, "shift", -62, 62, what)
        n, m = _kernels.dpu_average_factor(np.array([kh], np.int32), np.array([kw], np.int32))
        flat = _fit(values, np.int64, "acc", what, OverflowRangeError).reshape(-1)
        out = _kernels.dpu_average(flat, n, m, np.array([sh], np.int32))
        return out.reshape(values.shape)
    if kernel is not None:
        raise EncodingError(f"{what}: kernel= applies to method='dpu' only")
    if shift != 0:
        raise EncodingError(f"{what}: shift= applies to method='dpu' only")
    if count is None:
        raise EncodingError(f"{what}: count is required")
    counts = as_integer_array(count, f"{what}(count)")
    if counts.size and int(counts.min()) < 1:
        raise EncodingError(f"{what}: count must be >= 1, got {int(counts.min())}")
    dtype = np.int64 if method == "tflite" else np.int32
    values = _fit(values, dtype, "acc", what, OverflowRangeError)
    counts = _fit(counts, dtype, "count", what, EncodingError)
    values, counts = np.broadcast_arrays(values, counts)
    shape = values.shape
    a = np.ascontiguousarray(values).reshape(-1)
    c = np.ascontiguousarray(counts).reshape(-1)
    kernel_fn = {
        "tflite": _kernels.divide_round_half_away,
        "tosa": _kernels.tosa_average,
        "hexagon": _kernels.hexagon_average_q15,
    }[method]
    return kernel_fn(a, c).astype(np.int64, copy=False).reshape(shape)
