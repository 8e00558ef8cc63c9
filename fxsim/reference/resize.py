"""Resize on integer codes: nearest index maps and gather, and the engines' bilinear arithmetic.

Quantization contract: codes in, codes of the same encoding out (TFLite and ONNX Runtime resize
codes without rescaling). Tensors are flat lists of Python ints; the bilinear functions take
``[outer, H, W, inner]`` planes (NCHW is ``outer = N * C, inner = 1``; NHWC ``outer = N, inner =
C``). Float32 steps are emulated exactly (``fxsim.reference.ieee``), one IEEE operation at a
time in the engine's order.

Sources (each function says which formula it models):

* ONNX Runtime: ``onnxruntime/core/providers/cpu/tensor/upsamplebase.h``
  (``GetOriginalCoordinateFromResizedCoordinate``, ``GetNearestPixelFromOriginal``) and
  ``upsample.h`` / ``upsample.cc`` (``UpsampleNearestSetupInputMappings``,
  ``SetupUpsampleBilinear`` and ``UpsampleBilinear``, ``SetupUpsampleBilinearInteger`` and
  ``NhwcUpsampleBilinearInteger``). The bilinear paths were checked element for element against
  onnxruntime 1.32 on x86 (tests/oracles/test_resize_oracles.py runs it live).
* TFLite: ``tensorflow/lite/kernels/internal/reference/resize_nearest_neighbor.h``
  (``GetNearestNeighbor``) and ``reference/resize_bilinear.h`` (``ResizeBilinearInteger``,
  ``ComputeInterpolationValuesInteger``; the ``TFLITE_SINGLE_ROUNDING`` variant as well).
"""

import math
from fractions import Fraction

from fxsim.constants import HALF_EVEN
from fxsim.reference.ieee import f32_add, f32_div, f32_mul, int_to_float32
from fxsim.reference.quantize import quantize

__all__ = [
    "COORDINATE_MODES",
    "NEAREST_MODES",
    "onnx_coordinate",
    "nearest_indices_onnx",
    "nearest_indices_tflite",
    "gather",
    "bilinear_tflite",
    "bilinear_ort_float",
    "bilinear_ort_integer",
    "bilinear_ort_dequantized",
]

COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                    "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")

_HALF = Fraction(1, 2)


def _f(n):
    return int_to_float32(n)


def _round_half_away(x):
    """std::round of an exact value: ties away from zero."""
    return math.floor(x + _HALF) if x >= 0 else -math.floor(-x + _HALF)


def _trunc(x):
    return math.floor(x) if x >= 0 else -math.floor(-x)


def _c_div(a, b):
    """C integer division (truncation toward zero), b > 0."""
    q = abs(a) // b
    return q if a >= 0 else -q


def onnx_coordinate(mode, o, out_size, in_size, scale):
    """ONNX Runtime's float32 input coordinate (a ``Fraction``) of output index ``o``:
    ``half_pixel`` (x + 0.5) / s - 0.5; ``half_pixel_symmetric`` offset + (x + 0.5) / s - 0.5 with
    offset = (I / 2) * (1 - L / (s * I)); ``pytorch_half_pixel`` as half_pixel when L > 1, else 0;
    ``align_corners`` x * (I - 1) / (L - 1) evaluated left to right (0 when L == 1);
    ``asymmetric`` x / s; ``tf_half_pixel_for_nn`` (x + 0.5) / s. ``scale`` must be a float32
    value (a ``Fraction`` or float)."""
    s = Fraction(scale)
    x = _f(o)
    length_resized, length_original = _f(out_size), _f(in_size)
    if mode == "half_pixel_symmetric":
        output_width = f32_mul(s, length_original)
        adjustment = f32_div(length_resized, output_width)
        center = f32_div(length_original, Fraction(2))
        offset = f32_mul(center, f32_add(Fraction(1), -adjustment))
        return f32_add(f32_add(offset, f32_div(f32_add(x, _HALF), s)), -_HALF)
    if mode == "pytorch_half_pixel":
        return f32_add(f32_div(f32_add(x, _HALF), s), -_HALF) if out_size > 1 else Fraction(0)
    if mode == "align_corners":
        if out_size == 1:
            return Fraction(0)
        return f32_div(f32_mul(x, f32_add(length_original, Fraction(-1))), f32_add(length_resized, Fraction(-1)))
    if mode == "asymmetric":
        return f32_div(x, s)
    if mode == "tf_half_pixel_for_nn":
        return f32_div(f32_add(x, _HALF), s)
    if mode == "half_pixel":
        return f32_add(f32_div(f32_add(x, _HALF), s), -_HALF)
    raise ValueError(f"unknown coordinate mode {mode!r}")


def nearest_indices_onnx(mode, nearest, in_size, out_size, scale):
    """ONNX Runtime's nearest input index of each output index of one axis: a scale of exactly 1
    maps o -> o; else the coordinate c rounded by ``nearest`` (``round_prefer_floor``: floor at
    c == int64(c) + 0.5 (int64 truncates), else std::round; ``round_prefer_ceil``: std::round;
    ``floor``; ``ceil``; ``simple`` (opset 10): ceil when downsampling (scale < 1), else
    truncation), clamped to [0, in_size - 1]."""
    if nearest not in NEAREST_MODES:
        raise ValueError(f"unknown nearest mode {nearest!r}")
    s = Fraction(scale)
    out = []
    for o in range(out_size):
        if s == 1:
            out.append(min(max(o, 0), in_size - 1))
            continue
        c = onnx_coordinate(mode, o, out_size, in_size, s)
        if nearest == "round_prefer_ceil":
            r = _round_half_away(c)
        elif nearest == "floor":
            r = math.floor(c)
        elif nearest == "ceil":
            r = math.ceil(c)
        elif nearest == "simple":
            r = math.ceil(c) if s < 1 else _trunc(c)
        else:  # the sum int64(c) + 0.5f is exact in float32 for these magnitudes
            r = math.floor(c) if c == _trunc(c) + _HALF else _round_half_away(c)
        out.append(min(max(r, 0), in_size - 1))
    return out


def nearest_indices_tflite(align_corners, half_pixel_centers, in_size, out_size):
    """TFLite's GetNearestNeighbor for each output index of one axis: float32 scale
    ``(I - 1) / (L - 1)`` (align_corners, L > 1) or ``I / L``; c = (o + offset) * scale with
    offset 0.5 for half_pixel_centers; ``min(align_corners ? round_half_away(c) : floor(c), I -
    1)``, then ``max(0, .)`` with half_pixel_centers."""
    if align_corners and half_pixel_centers:
        raise ValueError("align_corners and half_pixel_centers are exclusive")
    if align_corners and out_size > 1:
        scale = f32_div(_f(in_size - 1), _f(out_size - 1))
    else:
        scale = f32_div(_f(in_size), _f(out_size))
    offset = _HALF if half_pixel_centers else Fraction(0)
    out = []
    for o in range(out_size):
        c = f32_mul(f32_add(_f(o), offset), scale)
        v = min(_round_half_away(c) if align_corners else math.floor(c), in_size - 1)
        if half_pixel_centers:
            v = max(0, v)
        out.append(v)
    return out


def gather(values, in_shape, indices):
    """``out[o_0, ..., o_n] = in[indices[0][o_0], ..., indices[n][o_n]]`` over flat row-major lists."""
    strides = [1] * len(in_shape)
    for d in range(len(in_shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * in_shape[d + 1]
    offsets = [0]
    for d, idx in enumerate(indices):
        offsets = [base + i * strides[d] for base in offsets for i in idx]
    return [values[k] for k in offsets]


def _tflite_axis(align_corners, half_pixel, in_size, out_size):
    scale_10 = (1024 * in_size + out_size // 2) // out_size
    if align_corners and out_size > 1:
        scale_10 = (1024 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    axis = []
    for o in range(out_size):
        v = o * scale_10 + _c_div(scale_10, 2) - 512 if half_pixel else o * scale_10
        lo = max(_c_div(v, 1024), 0)
        hi = min(_c_div(v + 1023, 1024), in_size - 1)
        if lo > in_size - 1:
            raise ValueError(f"output index {o} maps to input row {lo} of {in_size} (TFLite reads outside the input)")
        axis.append((v, lo, hi))
    return axis


def bilinear_tflite(values, shape, out_h, out_w, align_corners, half_pixel_centers, single_round=False):
    """TFLite's ResizeBilinearInteger over ``shape = (outer, H, W, inner)``: Q10 coordinates
    (``_tflite_axis``), the four int64 products with Q10 weights, then ``(sum +- 2^19) / 2^20`` in
    C division (half away from zero; the default build) or ``(sum + 2^19) >> 20`` (half up;
    ``single_round``: TFLITE_SINGLE_ROUNDING)."""
    outer, h, w, inner = shape
    ay = _tflite_axis(align_corners, half_pixel_centers, h, out_h)
    ax = _tflite_axis(align_corners, half_pixel_centers, w, out_w)
    out = []
    for o in range(outer):
        for vy, y0, y1 in ay:
            fy = vy - 1024 * y0
            for vx, x0, x1 in ax:
                fx = vx - 1024 * x0
                for c in range(inner):
                    at = lambda y, x: values[((o * h + y) * w + x) * inner + c]  # noqa: E731
                    total = (at(y0, x0) * (1024 - fy) * (1024 - fx) + at(y1, x0) * fy * (1024 - fx)
                             + at(y0, x1) * (1024 - fy) * fx + at(y1, x1) * fy * fx)
                    if single_round:
                        out.append((total + (1 << 19)) >> 20)
                    else:
                        out.append(_c_div(total + ((1 << 19) if total > 0 else -(1 << 19)), 1 << 20))
    return out


def _ort_axis(mode, in_size, out_size, scale):
    """(i1, i2, d1, d2, e1, e2) per output index: ORT's clamped float32 coordinate, its two
    neighbours, the float32 weights |c - i| and the Q10 weights of the integer path."""
    s = Fraction(scale)
    axis = []
    top = _f(in_size - 1)
    for o in range(out_size):
        c = _f(o) if s == 1 else onnx_coordinate(mode, o, out_size, in_size, s)
        c = max(Fraction(0), min(c, top))
        i1 = min(_trunc(c), in_size - 1)
        i2 = min(i1 + 1, in_size - 1)
        d1, d2 = abs(f32_add(c, -_f(i1))), abs(f32_add(c, -_f(i2)))
        c10 = _trunc(f32_mul(c, Fraction(1024)))
        e1, e2 = abs(c10 - i1 * 1024), abs(c10 - i2 * 1024)
        if i1 == i2:
            d1 = d2 = _HALF
            e1 = e2 = 512
        axis.append((i1, i2, d1, d2, e1, e2))
    return axis


def _ort_planes(values, shape, out_h, out_w, mode, scale_h, scale_w, weights, combine):
    """Each output of ``(outer, H, W, inner)``: ``weights(y, x)`` once per output pixel (the axis
    entries of ``_ort_axis``), then ``combine(w, X11, X21, X12, X22)`` per channel."""
    outer, h, w, inner = shape
    ay = _ort_axis(mode, h, out_h, scale_h)
    ax = _ort_axis(mode, w, out_w, scale_w)
    out = []
    for o in range(outer):
        for y in ay:
            for x in ax:
                wts = weights(y, x)
                for c in range(inner):
                    at = lambda yy, xx: values[((o * h + yy) * w + xx) * inner + c]  # noqa: E731
                    out.append(combine(wts, at(y[0], x[0]), at(y[0], x[1]), at(y[1], x[0]), at(y[1], x[1])))
    return out


def bilinear_ort_float(values, shape, out_h, out_w, mode, scale_h, scale_w):
    """ONNX Runtime's UpsampleBilinear (NCHW / 2-D path) over ``(outer, H, W, inner)``:
    ``trunc((dx2 dy2) X11 + (dx1 dy2) X21 + (dx2 dy1) X12 + (dx1 dy1) X22)`` in float32, left to
    right (X21 = x[y1, x2], X12 = x[y2, x1])."""
    def weights(y, x):
        _, _, dy1, dy2, _, _ = y
        _, _, dx1, dx2, _, _ = x
        return f32_mul(dx2, dy2), f32_mul(dx1, dy2), f32_mul(dx2, dy1), f32_mul(dx1, dy1)

    def combine(wts, x11, x21, x12, x22):
        c11, c21, c12, c22 = wts
        v = f32_mul(c11, _f(x11))
        v = f32_add(v, f32_mul(c21, _f(x21)))
        v = f32_add(v, f32_mul(c12, _f(x12)))
        v = f32_add(v, f32_mul(c22, _f(x22)))
        return _trunc(v)

    return _ort_planes(values, shape, out_h, out_w, mode, scale_h, scale_w, weights, combine)


def bilinear_ort_integer(values, shape, out_h, out_w, mode, scale_h, scale_w):
    """ONNX Runtime's NhwcUpsampleBilinearInteger over ``(outer, H, W, inner)``: Q10 weights
    (``_ort_axis``), ``sum(w * X) / 2^20`` in C division (toward zero)."""
    def weights(y, x):
        _, _, _, _, ey1, ey2 = y
        _, _, _, _, ex1, ex2 = x
        return ex2 * ey2, ex1 * ey2, ex2 * ey1, ex1 * ey1

    def combine(wts, x11, x21, x12, x22):
        w11, w21, w12, w22 = wts
        return _c_div(w11 * x11 + w21 * x21 + w12 * x12 + w22 * x22, 1 << 20)

    return _ort_planes(values, shape, out_h, out_w, mode, scale_h, scale_w, weights, combine)


def bilinear_ort_dequantized(values, shape, out_h, out_w, mode, scale_h, scale_w, in_scale, in_zero_point,
                             out_scale, out_zero_point, qmin, qmax):
    """ONNX Runtime's float path of a QDQ ``DequantizeLinear -> Resize (linear) -> QuantizeLinear``
    group (ORT 1.32 fuses it at no optimisation level) over ``(outer, H, W, inner)`` codes:
    each tap ``X = float(q - in_zp) * in_scale`` (DequantizeLinear, float32), the float32
    UpsampleBilinear sum of :func:`bilinear_ort_float` without the truncation, then
    QuantizeLinear (MlasQuantizeLinear): ``v / out_scale`` in float32 clamped to ``[qmin - zp,
    qmax - zp]``, half to even, ``+ out_zp``. Scales are float32 values > 0.
    Sources: onnxruntime/core/providers/cpu/quantization/quantize_linear.cc (DequantizeLinear),
    onnxruntime/core/providers/cpu/tensor/upsample.h (UpsampleBilinear, T = float),
    onnxruntime/core/mlas/lib/quantize.cpp (MlasQuantizeLinear)."""
    def weights(y, x):
        _, _, dy1, dy2, _, _ = y
        _, _, dx1, dx2, _, _ = x
        return f32_mul(dx2, dy2), f32_mul(dx1, dy2), f32_mul(dx2, dy1), f32_mul(dx1, dy1)

    def combine(wts, *taps):
        v = 0
        for i, (w, q) in enumerate(zip(wts, taps)):
            term = f32_mul(w, f32_mul(_f(q - in_zero_point), in_scale))
            v = term if i == 0 else f32_add(v, term)
        return quantize(float(v), out_scale, out_zero_point, qmin, qmax, HALF_EVEN)

    return _ort_planes(values, shape, out_h, out_w, mode, scale_h, scale_w, weights, combine)
