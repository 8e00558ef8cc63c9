"""Resize on integer codes with an engine's own arithmetic: nearest-neighbour index maps and
gather, and bilinear interpolation (csrc/fxsim/kernels/resize.h states every formula and its
source; fxsim/reference/resize.py is the exact model).

Codes keep their encoding: the engines resize codes without rescaling (TFLite requires equal
input and output quantization; ONNX Runtime resizes uint8/int8 tensors as they are). Inputs are
numpy code arrays, nothing is coerced.

Bilinear algorithms:

* ``"tflite"``: TFLite's ``ResizeBilinearInteger`` (int8, int16): Q10 coordinates, a Q20 sum of
  four products, rounded half away from zero (``single_round=True``: the
  ``TFLITE_SINGLE_ROUNDING`` build, half up).
* ``"ort_float"``: ONNX Runtime's ``UpsampleBilinear`` (the path of NCHW and 2-D inputs; uint8,
  int8): float32 weights, float32 sum, truncation.
* ``"ort_integer"``: ONNX Runtime's ``NhwcUpsampleBilinearInteger`` (the path of NHWC 8-bit
  inputs): Q10 weights, integer sum divided by 2^20 with truncation.

:func:`resize_bilinear_dequantized` is ONNX Runtime's float path of a QDQ group
(DequantizeLinear -> linear Resize -> QuantizeLinear, which ORT 1.32 never fuses): codes
dequantized in float32, ``UpsampleBilinear<float>``, quantized with the output encoding; the
one resize here that may change the encoding.
"""

import numpy as np

from .. import _kernels
from ..errors import EncodingError, FormatError

__all__ = ["COORDINATE_MODES", "NEAREST_MODES", "BILINEAR_ALGORITHMS", "nearest_indices", "resize_nearest",
           "resize_bilinear", "resize_bilinear_dequantized"]

COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                    "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")
BILINEAR_ALGORITHMS = ("tflite", "ort_float", "ort_integer")

_TYPES = {"tflite": (np.dtype(np.int8), np.dtype(np.int16)),
          "ort_float": (np.dtype(np.int8), np.dtype(np.uint8)),
          "ort_integer": (np.dtype(np.int8), np.dtype(np.uint8))}


def _float32_scale(scale, what):
    f = np.float32(scale)
    if not (np.isfinite(f) and f > 0) or float(f) != float(scale):
        raise EncodingError(f"{what}: scale {scale!r} must be a finite positive float32 value")
    return float(f)


def nearest_indices(in_size, out_size, *, engine="onnxruntime", coordinate="half_pixel",
                    nearest="round_prefer_floor", scale=None, align_corners=False, half_pixel_centers=False):
    """The input index of each output index along one axis, int64[out_size].

    ``engine="onnxruntime"``: ONNX Resize's ``coordinate`` (coordinate_transformation_mode) and
    ``nearest`` (nearest_mode; ``"simple"`` is opset 10's rule) with the axis ``scale`` (a float32
    value, ``out / in`` when the model gives sizes), in float32 as ONNX Runtime computes them.
    ``engine="tflite"``: RESIZE_NEAREST_NEIGHBOR with ``align_corners`` / ``half_pixel_centers``.
    """
    what = "nearest_indices"
    if engine == "onnxruntime":
        if coordinate not in COORDINATE_MODES:
            raise EncodingError(f"{what}: coordinate must be one of {COORDINATE_MODES}, got {coordinate!r}")
        if nearest not in NEAREST_MODES:
            raise EncodingError(f"{what}: nearest must be one of {NEAREST_MODES}, got {nearest!r}")
        s = _float32_scale(np.float32(out_size) / np.float32(in_size) if scale is None else scale, what)
        return _kernels.resize_nearest_indices_onnx(coordinate, nearest, int(in_size), int(out_size), s)
    if engine == "tflite":
        return _kernels.resize_nearest_indices_tflite(bool(align_corners), bool(half_pixel_centers), int(in_size),
                                                      int(out_size))
    raise EncodingError(f"{what}: engine must be 'onnxruntime' or 'tflite', got {engine!r}")


def resize_nearest(q, indices):
    """``out[o_0, ..., o_n] = q[indices[0][o_0], ..., indices[n][o_n]]``: nearest resize of a code
    array ``q`` (int8/uint8/int16/uint16) with one int64 index array per axis."""
    codes = np.asarray(q)
    if codes.dtype not in (np.int8, np.uint8, np.int16, np.uint16):
        raise FormatError(f"resize_nearest: q must be an 8/16-bit code array, got dtype {codes.dtype}")
    if len(indices) != codes.ndim:
        raise FormatError(f"resize_nearest: {codes.ndim} index arrays required, got {len(indices)}")
    idx = [np.ascontiguousarray(i, dtype=np.int64) for i in indices]
    out = np.empty(tuple(len(i) for i in idx), dtype=codes.dtype)
    _kernels.resize_gather(np.ascontiguousarray(codes), idx, out)
    return out


def resize_bilinear(q, out_hw, *, algorithm, layout="nchw", align_corners=False, half_pixel_centers=False,
                    single_round=False, coordinate="half_pixel", scales=None):
    """Bilinear resize of the two spatial axes of a 4-D code array ``q``.

    ``layout``: ``"nchw"`` (resize axes 2, 3) or ``"nhwc"`` (axes 1, 2). ``out_hw``: the output
    ``(height, width)``. ``algorithm``: see the module docstring. TFLite options:
    ``align_corners``, ``half_pixel_centers``, ``single_round``. ONNX Runtime options:
    ``coordinate`` (coordinate_transformation_mode) and ``scales = (scale_h, scale_w)`` as float32
    values (default ``out / in`` in float32, as ONNX Runtime derives them from sizes).
    """
    what = "resize_bilinear"
    if algorithm not in BILINEAR_ALGORITHMS:
        raise EncodingError(f"{what}: algorithm must be one of {BILINEAR_ALGORITHMS}, got {algorithm!r}")
    codes = np.ascontiguousarray(q)
    if codes.dtype not in _TYPES[algorithm]:
        raise FormatError(f"{what}: {algorithm} takes {[d.name for d in _TYPES[algorithm]]} codes, got {codes.dtype}")
    if codes.ndim != 4:
        raise FormatError(f"{what}: q must be 4-d, got shape {codes.shape}")
    oh, ow = (int(v) for v in out_hw)
    if layout == "nchw":
        n, c, h, w = codes.shape
        planes, out_shape = codes.reshape(n * c, h, w, 1), (n, c, oh, ow)
        out = np.empty((n * c, oh, ow, 1), dtype=codes.dtype)
    elif layout == "nhwc":
        n, h, w, c = codes.shape
        planes, out_shape = codes, (n, oh, ow, c)
        out = np.empty(out_shape, dtype=codes.dtype)
    else:
        raise EncodingError(f"{what}: layout must be 'nchw' or 'nhwc', got {layout!r}")
    if algorithm == "tflite":
        _kernels.resize_bilinear_tflite(planes, bool(align_corners), bool(half_pixel_centers), bool(single_round), out)
    else:
        if coordinate not in COORDINATE_MODES:
            raise EncodingError(f"{what}: coordinate must be one of {COORDINATE_MODES}, got {coordinate!r}")
        if scales is None:
            scales = (np.float32(oh) / np.float32(h), np.float32(ow) / np.float32(w))
        sh, sw = (_float32_scale(s, what) for s in scales)
        if (oh, ow) == (h, w):
            # ONNX Runtime copies a same-shape resize whatever the scales (measured on onnxruntime 1.32)
            return codes.copy()
        kernel = _kernels.resize_bilinear_ort_float if algorithm == "ort_float" else _kernels.resize_bilinear_ort_integer
        kernel(planes, coordinate, sh, sw, out)
    return out.reshape(out_shape)


def resize_bilinear_dequantized(q, out_hw, enc_in, enc_out, *, coordinate="half_pixel", scales=None):
    """ONNX Runtime's float path of a QDQ linear Resize of the axes 2, 3 of NCHW codes ``q``
    (uint8 / int8, per-tensor ``enc_in``): each code dequantized as ``float(q - zp) * scale``
    (DequantizeLinear, float32), ``UpsampleBilinear<float>`` (the ``"ort_float"`` weights and
    float32 sum, no truncation), then QuantizeLinear with ``enc_out`` (float32 division, half to
    even, saturated to ``enc_out``'s range). ``coordinate`` and ``scales`` as in
    :func:`resize_bilinear`. A same-shape resize is ORT's copy of the dequantized values,
    quantized with ``enc_out``. Returns ``enc_out``'s codes ``[N, C, *out_hw]``.
    """
    what = "resize_bilinear_dequantized"
    codes = np.ascontiguousarray(q)
    if codes.dtype not in (np.dtype(np.int8), np.dtype(np.uint8)) or codes.ndim != 4:
        raise FormatError(f"{what}: q must be 4-d int8 / uint8 codes, got {codes.dtype}{codes.shape}")
    for name, enc in (("enc_in", enc_in), ("enc_out", enc_out)):
        if enc.is_per_channel or np.dtype(enc.dtype) != codes.dtype:
            raise EncodingError(f"{what}: {name} must be a per-tensor encoding of {codes.dtype} codes")
    if coordinate not in COORDINATE_MODES:
        raise EncodingError(f"{what}: coordinate must be one of {COORDINATE_MODES}, got {coordinate!r}")
    n, c, h, w = codes.shape
    oh, ow = (int(v) for v in out_hw)
    if scales is None:
        scales = (np.float32(oh) / np.float32(h), np.float32(ow) / np.float32(w))
    sh, sw = (_float32_scale(s, what) for s in scales)
    if (oh, ow) == (h, w):  # ORT copies a same-shape resize: an identity scale 1 gives the same floats
        sh = sw = 1.0
    s_in, s_out = (_float32_scale(np.float32(e.scale), f"{what} {name}") for e, name in
                   ((enc_in, "enc_in"), (enc_out, "enc_out")))
    out = np.empty((n * c, oh, ow, 1), dtype=codes.dtype)
    _kernels.resize_bilinear_ort_dequantized(codes.reshape(n * c, h, w, 1), coordinate, sh, sw, s_in,
                                            int(enc_in.zero_point), s_out, int(enc_out.zero_point),
                                            int(enc_out.qmin), int(enc_out.qmax), out)
    return out.reshape(n, c, oh, ow)
