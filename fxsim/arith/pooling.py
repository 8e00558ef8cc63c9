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
from ..errors import EncodingError, FormatError, OverflowRangeError, UnsupportedOpError
from ._arguments import (CODE_DTYPES, activation_range, as_integer_array, per_tensor_encoding, power_of_two_position,
                         prepared_codes_check)

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


# --------------------------------------------------------------------------------------
# pooling over NCHW code tensors (csrc/fxsim/kernels/pooling.h)
# --------------------------------------------------------------------------------------

#: The methods of :func:`avg_pool2d`: the four integer divisions, ONNX Runtime's float path and
#: PyTorch's half-even division.
AVG_POOL_METHODS = AVERAGE_METHODS + ("ort", "pytorch")

#: The methods of :func:`global_average_pool`.
GLOBAL_AVERAGE_METHODS = ("tflite", "tflite_folded", "tflite_opt", "ort", "pytorch")


def _pair(value, name, what, lo=1):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise EncodingError(f"{what}: {name} must be an int or a pair, got {value!r}")
    return tuple(_int_param(v, name, lo, _I32.max, what) for v in value)


def _pads(pads, what):
    if not isinstance(pads, (tuple, list)) or len(pads) != 4:
        raise EncodingError(f"{what}: pads must be (top, left, bottom, right), got {pads!r}")
    return tuple(_int_param(p, "pads", 0, _I32.max, what) for p in pads)


def pool_output_size(size, kernel, stride, pad_before, pad_after, ceil_mode=False):
    """ONNX pooling output extent: ``floor((size + pads - kernel) / stride) + 1``, or with
    ``ceil_mode`` the ceiling, dropping a last window that would start in the trailing padding
    (the ONNX reference / PyTorch rule)."""
    span = size + pad_before + pad_after - kernel
    if span < 0:
        raise EncodingError(f"pooling: kernel {kernel} is larger than the padded input {size + pad_before + pad_after}")
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad_before:
        out -= 1
    return out


def _code_tensor(x, what):
    arr = as_integer_array(x, f"{what}(x)")
    if arr.dtype not in CODE_DTYPES:
        raise FormatError(f"{what}: x must hold int8, uint8 or int16 codes, got {arr.dtype}")
    if arr.ndim != 4:
        raise FormatError(f"{what}: x must be NCHW (4-d), got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _code_shape(shape, what):
    shape = tuple(int(d) for d in shape)
    if len(shape) != 4:
        raise FormatError(f"{what}: x must be NCHW (4-d), got shape {shape}")
    return shape


def _geometry(shape, kernel, stride, pads, ceil_mode, what):
    kh, kw = _pair(kernel, "kernel", what)
    sh, sw = _pair(kernel if stride is None else stride, "stride", what)
    pt, pl, pb, pr = _pads(pads, what)
    if pt >= kh or pb >= kh or pl >= kw or pr >= kw:
        raise EncodingError(f"{what}: pads {pads} must be smaller than the kernel {kh}x{kw}")
    oh = pool_output_size(shape[2], kh, sh, pt, pb, ceil_mode)
    ow = pool_output_size(shape[3], kw, sw, pl, pr, ceil_mode)
    return (kh, kw), (sh, sw), (pt, pl, pb, pr), (oh, ow)


def _per_tensor(enc, name, dtype, what):
    enc = per_tensor_encoding(enc, name, what)
    if dtype is not None and np.dtype(enc.dtype) != dtype:
        raise FormatError(f"{what}: x holds {dtype} codes but {name} stores {enc.storage.name}")
    return enc


def prepare_max_pool2d(shape, dtype, kernel, stride=None, pads=(0, 0, 0, 0), ceil_mode=False):
    """:func:`max_pool2d` prepared once for NCHW codes of ``shape`` and ``dtype``: arguments
    checked and the geometry derived here; the returned ``run(x)`` checks ``x``'s dtype and
    shape and calls the kernel."""
    what = "max_pool2d"
    shape = _code_shape(shape, what)
    dtype = np.dtype(dtype)
    if dtype not in CODE_DTYPES:
        raise FormatError(f"{what}: x must hold int8, uint8 or int16 codes, got {dtype}")
    k, s, p, (oh, ow) = _geometry(shape, kernel, stride, pads, ceil_mode, what)
    out_shape = (shape[0], shape[1], oh, ow)
    check = prepared_codes_check(shape, dtype, what)

    def run(x):
        out = np.empty(out_shape, dtype=dtype)
        _kernels.max_pool2d(check(x), k, s, p, out)
        return out

    return run


def max_pool2d(x, kernel, stride=None, pads=(0, 0, 0, 0), ceil_mode=False):
    """Max pool of NCHW codes (int8, uint8 or int16): the largest in-image code of each window,
    padding ignored (every engine's max pool; the encoding is unchanged). ``stride`` defaults to
    ``kernel``; ``pads = (top, left, bottom, right)``."""
    x = _code_tensor(x, "max_pool2d")
    return prepare_max_pool2d(x.shape, x.dtype, kernel, stride, pads, ceil_mode)(x)


def prepare_avg_pool2d(shape, enc_in, kernel, stride=None, pads=(0, 0, 0, 0), method="tflite", *, enc_out=None,
                       count_include_pad=False, ceil_mode=False, activation_min=None, activation_max=None):
    """:func:`avg_pool2d` prepared once for NCHW codes of ``shape`` (in ``enc_in``'s storage):
    every argument checked and every parameter derived here; the returned ``run(x)`` checks
    ``x``'s dtype and shape and calls the kernel."""
    what = f"avg_pool2d(method={method!r})"
    if method not in AVG_POOL_METHODS:
        raise EncodingError(f"avg_pool2d: method must be one of {AVG_POOL_METHODS}, got {method!r}")
    shape = _code_shape(shape, what)
    enc_in = _per_tensor(enc_in, "enc_in", None, what)
    dtype = np.dtype(enc_in.dtype)
    enc_out = enc_in if enc_out is None else _per_tensor(enc_out, "enc_out", dtype, what)
    k, s, p, (oh, ow) = _geometry(shape, kernel, stride, pads, ceil_mode, what)
    qmin, qmax = activation_range(enc_out, activation_min, activation_max, what)
    zp = int(enc_in.zero_point)
    dpu = (0, 0, 0)
    if method == "ort":
        if k == tuple(shape[2:]) and p == (0, 0, 0, 0):
            return prepare_global_average_pool(shape, enc_in, enc_out, "ort", activation_min=qmin,
                                               activation_max=qmax)
    elif method == "dpu":
        shift = power_of_two_position(enc_in, "enc_in", what) - power_of_two_position(enc_out, "enc_out", what)
        if not -62 <= shift <= 62:
            raise EncodingError(f"{what}: fix_point_in - fix_point_out = {shift} is outside [-62, 62]")
        if k[0] * k[1] >= 1 << 24:
            raise EncodingError(f"{what}: kernel {k} is too large for the DPU factor")
        n, m = _kernels.dpu_average_factor(np.array([k[0]], np.int32), np.array([k[1]], np.int32))
        dpu = (int(n[0]), int(m[0]), shift)
    elif float(np.float32(enc_out.scale)) != float(np.float32(enc_in.scale)) or int(enc_out.zero_point) != zp:
        raise EncodingError(f"{what}: the integer average pools keep the encoding (enc_out must equal enc_in, as "
                            "TFLite requires); use method='ort' to requantize")
    out_shape = (shape[0], shape[1], oh, ow)
    out_dtype = np.dtype(enc_out.dtype)
    tail = (bool(count_include_pad), method, zp, qmin, qmax, *dpu, float(np.float32(enc_in.scale)), zp,
            float(np.float32(enc_out.scale)), int(enc_out.zero_point))
    check = prepared_codes_check(shape, dtype, what)

    def run(x):
        out = np.empty(out_shape, dtype=out_dtype)
        _kernels.avg_pool2d(check(x), k, s, p, *tail, out)
        return out

    return run


def avg_pool2d(x, enc_in, kernel, stride=None, pads=(0, 0, 0, 0), method="tflite", *, enc_out=None,
               count_include_pad=False, ceil_mode=False, activation_min=None, activation_max=None):
    """Average pool of NCHW codes of ``enc_in`` with one engine's arithmetic.

    * ``"tflite"`` -- sum of the window's codes, ``round(sum / count)`` half away from zero;
    * ``"tosa"`` -- ``apply_scale_32(sum(code - zp), reciprocal_scale(count)) + zp``;
    * ``"hexagon"`` -- hexagon_nn's truncated Q15 reciprocal, rounded half up;
    * ``"dpu"`` -- the Vitis AI factor ``N / 2^M`` of the kernel size (power-of-two encodings,
      zero point 0; ``enc_out`` may move the fix point);
    * ``"pytorch"`` -- PyTorch's quantized avg_pool2d (it keeps the input's encoding): the sum as
      ``"tflite"`` (padded positions, when counted, hold the zero point), ``round(sum / count)``
      half to even (measured on torch 2.13 FBGEMM, ``tests/oracles/test_pytorch_golden.py``);
    * ``"ort"`` -- ONNX Runtime QLinearAveragePool: dequantize to float32, sum, divide, quantize
      with ``enc_out`` (half even). A kernel covering the whole image without pads takes ORT's
      global path (:func:`global_average_pool` ``"ort"``), as ORT does.

    ``count`` is the window's in-image elements, or with ``count_include_pad`` also its padded
    positions (``"ort"``: the kernel's size ``kh * kw``, also for a ``ceil_mode`` window that runs
    past the end pad, as QLinearAveragePool divides). The integer methods keep the encoding (``enc_out`` None or equal to ``enc_in``,
    as TFLite requires); use ``"ort"`` to requantize. ``stride`` defaults to ``kernel``; pads
    are ``(top, left, bottom, right)``, each smaller than the kernel; ``ceil_mode`` rounds the
    output size up. Returns codes in ``enc_in``'s (or ``enc_out``'s) dtype, ``[N, C, OH, OW]``.
    :func:`prepare_avg_pool2d` does the checks once for repeated calls.
    """
    what = f"avg_pool2d(method={method!r})"
    if method not in AVG_POOL_METHODS:
        raise EncodingError(f"avg_pool2d: method must be one of {AVG_POOL_METHODS}, got {method!r}")
    x = _code_tensor(x, what)
    _per_tensor(enc_in, "enc_in", x.dtype, what)
    return prepare_avg_pool2d(x.shape, enc_in, kernel, stride, pads, method, enc_out=enc_out,
                              count_include_pad=count_include_pad, ceil_mode=ceil_mode,
                              activation_min=activation_min, activation_max=activation_max)(x)


#: The kernel's method codes (csrc/fxsim/kernels/pooling.h GlobalAverageMethod).
_GLOBAL_AVERAGE_CODES = {"tflite": 0, "tflite_folded": 1, "tflite_opt": 2, "ort": 3, "pytorch": 4}


def prepare_global_average_pool(shape, enc_in, enc_out, method="tflite", *, activation_min=None,
                                activation_max=None):
    """:func:`global_average_pool` prepared once for NCHW codes of ``shape`` (in ``enc_in``'s
    storage): arguments checked and the multipliers, biases and scales derived here; the returned
    ``run(x)`` checks ``x``'s dtype and shape and makes one kernel call
    (``_kernels.global_average_pool``: the plane sums and the method's requantization)."""
    what = f"global_average_pool(method={method!r})"
    if method not in GLOBAL_AVERAGE_METHODS:
        raise EncodingError(f"global_average_pool: method must be one of {GLOBAL_AVERAGE_METHODS}, got {method!r}")
    shape = _code_shape(shape, what)
    enc_in = _per_tensor(enc_in, "enc_in", None, what)
    dtype = np.dtype(enc_in.dtype)
    enc_out = _per_tensor(enc_out, "enc_out", None, what)
    n, c, h, w = shape
    count = h * w
    qmin, qmax = activation_range(enc_out, activation_min, activation_max, what)
    zp_in = int(enc_in.zero_point)
    out_dtype = np.dtype(enc_out.dtype)
    zp_out = int(enc_out.zero_point)
    s_in, s_out = np.float32(enc_in.scale), np.float32(enc_out.scale)
    multiplier = shift = 0
    scale = 1.0
    out_add = zp_out
    if method in ("tflite", "tflite_opt", "tflite_folded"):
        from .multiplier import quantize_multiplier
    if method == "tflite":
        m = quantize_multiplier(float(s_in) / float(s_out), "tflite")
        multiplier, shift = m.value, m.shift
    elif method == "tflite_opt":
        t = np.float32(zp_in) * s_in / s_out
        t = t + np.float32(0.5) if t > 0 else t - np.float32(0.5)
        out_add = zp_out - int(t)  # (int32_t) truncates toward zero
        if not _I32.min <= out_add <= _I32.max:
            raise EncodingError(f"{what}: the folded bias {out_add} (zp_in * s_in / s_out) does not fit int32")
        m = quantize_multiplier(float(np.float32(s_in / (np.float32(count) * s_out))), "tflite")
        multiplier, shift = m.value, m.shift
    elif method == "tflite_folded":
        m = quantize_multiplier(float(s_in) / float(s_out), "tflite")
        k = min(count.bit_length() - 1, 32, 31 + m.shift)
        multiplier = (m.value << k) // count if k >= 0 else m.value
        shift = m.shift - k if k >= 0 else m.shift
    elif method == "pytorch":
        if dtype.itemsize != 1:
            raise FormatError(f"{what}: PyTorch's quantized mean takes 8-bit codes, got {dtype}")
        if s_out != s_in or zp_out != zp_in:
            raise EncodingError(f"{what}: torch.mean keeps the input's encoding; enc_out must equal enc_in")
        if not (s_in < np.float32(1e33) and np.isfinite(np.float32(1) / s_in)):
            raise EncodingError(f"{what}: scale {float(s_in)!r} is too large for float32 sums or too small to "
                                "invert in float32")
        scale = float(s_in)
    else:
        ort_scale = s_in / (s_out * np.float32(count))
        if count >= 1 << 24 or not (np.float32(2.0 ** -32) <= ort_scale < np.float32(256.0)):
            raise UnsupportedOpError(f"{what}: ONNX Runtime refuses this case (H*W = {count}, scale {ort_scale!r})")
        scale = float(ort_scale)
    check = prepared_codes_check(shape, dtype, what)
    out_shape = (n, c, 1, 1)
    tail = (_GLOBAL_AVERAGE_CODES[method], zp_in, multiplier, shift, out_add, scale, qmin, qmax)

    def run(x):
        out = np.empty(out_shape, out_dtype)
        _kernels.global_average_pool(check(x), count, *tail, out)
        return out

    return run


def global_average_pool(x, enc_in, enc_out, method="tflite", *, activation_min=None, activation_max=None):
    """Average over H and W of NCHW codes, requantized to ``enc_out``; returns ``[N, C, 1, 1]``.

    * ``"tflite"`` -- TFLite MEAN over (H, W) (reference/integer_ops/mean.h): ``acc = sum(code
      - zp_in)`` (int32), ``acc = MultiplyByQuantizedMultiplier(acc, QuantizeMultiplier(s_in /
      s_out))`` (double rounding), ``round(acc / (H W))`` half away from zero, ``+ zp_out``, clamp.
    * ``"tflite_folded"`` -- TFLite's general quantized MEAN (``reference_ops::QuantizedMeanOrSum``,
      tensorflow/lite/kernels/internal/reference/reduce.h; LiteRT runs it for int16 MEAN): the
      count folded into the multiplier, ``(M, e) = QuantizeMultiplier(s_in / s_out)``, ``k =
      min(floor(log2(H W)), 32, 31 + e)``, ``M' = (M << k) / (H W)`` (integer division), ``e' = e -
      k``, then one ``MultiplyByQuantizedMultiplier(sum(code) - zp_in H W, M', e')`` (double
      rounding), ``+ zp_out``, clamp. Verified on LiteRT 2.3.0 (tests/golden/tflite mean_int16x8).
    * ``"tflite_opt"`` -- TFLite's optimized int8 MEAN over (H, W) (``optimized_ops::MeanImpl``,
      tensorflow/lite/kernels/internal/optimized/optimized_ops.h; LiteRT's
      ``BUILTIN_WITHOUT_DEFAULT_DELEGATES``): the sum of the raw codes, ``(M, e) =
      QuantizeMultiplier(float32(s_in / (float32(H W) s_out)))``, ``bias = zp_out -
      (int)(t +- 0.5f)`` with ``t = zp_in s_in / s_out`` in float32, then
      ``MultiplyByQuantizedMultiplier(sum, M, e) + bias`` (double rounding), clamp. Verified on
      LiteRT 2.3.0 (tests/golden/tflite mean_int8, mobilenet_like_int8).
    * ``"ort"`` -- ONNX Runtime QLinearGlobalAveragePool (mlas/lib/qlgavgpool.cpp):
      ``acc = sum(code) - zp_in * H W`` (int32), ``scale = s_in / (s_out * float(H W))`` in
      float32, then MLAS's requantization: ``float(acc) * scale`` clamped to ``[qmin - zp_out,
      qmax - zp_out]``, half even, ``+ zp_out``. ORT refuses ``H W >= 2^24`` and scales outside
      ``[2^-32, 256)`` (``UnsupportedOpError`` here).
    * ``"pytorch"`` -- ``torch.mean`` over (H, W) of a quantized tensor, which keeps the input's
      encoding (``enc_out`` must equal ``enc_in``): each code dequantized as ATen's vectorized
      ``dequantize`` does, ``fma(code, s, -zp * s)`` in float32 (``-zp * s`` rounded first); the
      plane summed in float32 in element order; divided by ``H W`` in float32; quantized as
      ``rint(mean * (1 / s)) + zp`` (half even), clamped. Measured on torch 2.13 (FBGEMM and x86
      engines, ``tests/oracles/test_pytorch_golden.py``). Scales from 1e33 up, or whose float32
      reciprocal overflows, are refused.

    Every method is one kernel call, ``_kernels.global_average_pool`` (csrc/fxsim/kernels/
    pooling.h), whose exact models are ``fxsim.reference.pooling`` ``tflite_mean``,
    ``tflite_mean_folded``, ``tflite_mean_opt``, ``ort_global_average`` and ``pytorch_mean``. A
    window sum outside int32 (every method but ``"pytorch"``) raises ``OverflowRangeError``.
    :func:`prepare_global_average_pool` does the checks once for repeated calls.
    """
    what = f"global_average_pool(method={method!r})"
    if method not in GLOBAL_AVERAGE_METHODS:
        raise EncodingError(f"global_average_pool: method must be one of {GLOBAL_AVERAGE_METHODS}, got {method!r}")
    x = _code_tensor(x, what)
    _per_tensor(enc_in, "enc_in", x.dtype, what)
    return prepare_global_average_pool(x.shape, enc_in, enc_out, method, activation_min=activation_min,
                                       activation_max=activation_max)(x)
