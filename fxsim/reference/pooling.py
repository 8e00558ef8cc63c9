"""Average-pool division: how each engine turns a window sum into the window average.

Quantization contract: ``acc`` is the integer sum of one pooling window's (zero-point adjusted)
values and the real result is ``acc / count``; the DPU instead multiplies by a power-of-two
factor ``N / 2^M`` chosen for the kernel size and never divides by the true count. Each function
rounds that real value with the rule of the engine named in its docstring, computed exactly
with ``Fraction``; none saturates (the caller adds the output zero point and clamps). Every
precondition raises ``ValueError``.
"""

import math
from fractions import Fraction

from fxsim.constants import HALF_AWAY, HALF_EVEN, HALF_UP, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN
from fxsim.reference.ieee import f32_add, f32_div, f32_mul, int_to_float32, round_to_float32
from fxsim.reference.multiplier import (
    derive_tflite,
    multiply_by_quantized_multiplier_double_round,
    tosa_apply_scale_32,
)
from fxsim.reference.requantize import requantize_fp32
from fxsim.reference.rounding import as_int, clamp, round_fraction, x86_int32

__all__ = [
    "tflite_mean",
    "ort_global_average",
    "pytorch_mean",
    "tflite_mean_folded",
    "tflite_mean_opt",
    "divide_round_half_away",
    "tosa_reciprocal_scale",
    "tosa_average",
    "hexagon_average_q15",
    "DPU_HARD_CODED_FACTORS",
    "dpu_average_factor",
    "dpu_average",
    "AVG_POOL_METHODS",
    "avg_pool2d",
    "max_pool2d",
]

#: Vitis AI pool-fix.cpp get_avgpool_dpu_factors: ``(kernel_h, kernel_w) -> (N, M)``.
DPU_HARD_CODED_FACTORS = {
    (3, 3): (7, 6),
    (5, 5): (10, 8),
    (6, 6): (7, 8),
    (7, 7): (21, 10),
    (14, 14): (21, 12),
}


def divide_round_half_away(acc, count):
    """TFLite AveragePool: ``acc / count`` rounded half away from zero.

    ``acc`` int64, ``count >= 1``. Source: tensorflow/lite/kernels/internal/reference/
    integer_ops/pooling.h AveragePool (``(acc +- count/2) / count`` with truncating division,
    whose value is this rounding).
    """
    acc = as_int("acc", acc, INT64_MIN, INT64_MAX)
    count = as_int("count", count, 1, INT64_MAX)
    return round_fraction(Fraction(acc, count), HALF_AWAY)


def tosa_reciprocal_scale(count):
    """TOSA ``reciprocal_scale(count) -> (multiplier, shift)``, ``1/count ~= multiplier * 2^-shift``.

    ``k`` is the least integer with ``count <= 2^k`` (the spec's ``32 - clz(count - 1)``, which
    is the bit length of ``count - 1``); ``multiplier = floor((2^30 + 1) * 2^k / count)`` and
    ``shift = 30 + k``. ``count`` in ``[1, 2^31 - 1]``; the multiplier must fit int32, which
    fails only for ``count = 2^30 + 1`` (multiplier exactly 2^31). Source: arm/tosa-specification
    pseudocode/library/scale_helpers.tosac reciprocal_scale.
    """
    count = as_int("count", count, 1, INT32_MAX)
    k = (count - 1).bit_length()
    multiplier = ((1 << 30) + 1) * (1 << k) // count
    if multiplier > INT32_MAX:
        raise ValueError(f"tosa_reciprocal_scale: multiplier {multiplier} for count {count} does not fit int32")
    return multiplier, 30 + k


def tosa_average(acc, count):
    """TOSA AVG_POOL2D integer average: ``apply_scale_32(acc, *reciprocal_scale(count), False)``.

    That is ``acc * multiplier / 2^shift`` rounded half up; the REQUIREs of ``apply_scale_32``
    (``acc`` within ``[-2^(shift-1), 2^(shift-1))``) raise. Source: arm/tosa-specification
    pseudocode/operators/AVG_POOL2D.tosac and library/scale_helpers.tosac.
    """
    acc = as_int("acc", acc, INT32_MIN, INT32_MAX)
    multiplier, shift = tosa_reciprocal_scale(count)
    return tosa_apply_scale_32(acc, multiplier, shift, False)


def hexagon_average_q15(acc, count):
    """hexagon_nn QuantizedAvgPool_8: ``acc * r / 2^15`` rounded half up, ``r = min(floor(2^15 / count), 2^15 - 1)``.

    The Q15 reciprocal is truncated and saturated to int16 (``count = 1`` gives 32767), then the
    product is rounded half up by ``+0x4000, >> 15``. ``acc`` int32, ``count`` in
    ``[1, 2^31 - 1]``. Source: XiaoMi/nnlib (hexagon_nn copy) hexagon/ops/src/op_avgpool.c.
    """
    acc = as_int("acc", acc, INT32_MIN, INT32_MAX)
    count = as_int("count", count, 1, INT32_MAX)
    recip = min((1 << 15) // count, (1 << 15) - 1)
    return round_fraction(Fraction(acc * recip, 1 << 15), HALF_UP)


def _round_half_away_positive(num, den):
    return round_fraction(Fraction(num, den), HALF_AWAY)


def dpu_average_factor(kernel_h, kernel_w):
    """Vitis AI DPU ``(N, M)`` with ``1 / (kernel_h * kernel_w) ~= N / 2^M``.

    The windows of ``DPU_HARD_CODED_FACTORS`` use their table entry. Any other window, with
    ``k = kernel_h * kernel_w``: among ``M = 0, 1, ...`` while ``2^M < 128 k`` (the source's
    ``M < ceil(log2(k * 128))``) with ``N = round_half_away(2^M / k)``, the pair whose ``N / 2^M``
    is nearest to ``float32(1 / k)`` (the source divides ``1.f / rec`` in float32), the smallest
    ``M`` on equal distances (the source keeps its best unless strictly beaten). Kernel sizes
    ``>= 1`` and ``k * 128`` within int32 (``k < 2^24``). Source: Xilinx/Vitis-AI
    src/vai_library/cpu_task/ops/pool-fix/pool-fix.cpp get_avgpool_dpu_factors.
    """
    kernel_h = as_int("kernel_h", kernel_h, 1, INT32_MAX)
    kernel_w = as_int("kernel_w", kernel_w, 1, INT32_MAX)
    k = kernel_h * kernel_w
    if k >= 1 << 24:
        raise ValueError(f"dpu_average_factor: window {kernel_h}x{kernel_w}: k * 128 does not fit int32")
    if (kernel_h, kernel_w) in DPU_HARD_CODED_FACTORS:
        return DPU_HARD_CODED_FACTORS[(kernel_h, kernel_w)]
    target = round_to_float32(Fraction(1, k))
    best = None
    m = 0
    while (1 << m) < 128 * k:
        n = _round_half_away_positive(1 << m, k)
        distance = abs(Fraction(n, 1 << m) - target)
        if best is None or distance < best[0]:
            best = (distance, n, m)
        m += 1
    return best[1], best[2]


def dpu_average(acc, n, m, shift):
    """DPU average: ``acc * n / 2^(m + shift)`` rounded half up (DPU_ROUND), not saturated.

    ``shift = fix_point_in - fix_point_out``; a negative ``m + shift`` multiplies exactly.
    ``acc`` int64, ``n`` in ``[0, 2^31 - 1]``, ``m`` in 0..62, ``shift`` in [-62, 62]. The
    result is exact and unbounded (the C++ kernel refuses results outside int64). Source:
    Xilinx/Vitis-AI src/vai_library/cpu_task/ops/pool-fix/pool-fix.cpp (``sum * N / 2^M``, then
    ``/ 2^shift_cut``, then ``fix``: round half up after clamping to int8) and
    cpu_task/ops/common/util.hpp.
    """
    acc = as_int("acc", acc, INT64_MIN, INT64_MAX)
    n = as_int("n", n, 0, INT32_MAX)
    m = as_int("m", m, 0, 62)
    shift = as_int("shift", shift, -62, 62)
    return round_fraction(Fraction(acc * n) / Fraction(2) ** (m + shift), HALF_UP)


# --------------------------------------------------------------------------------------
# whole pooling windows (NCHW), built on the divisions above
# --------------------------------------------------------------------------------------

#: The methods of :func:`avg_pool2d`.
AVG_POOL_METHODS = ("tflite", "tosa", "hexagon", "dpu", "ort", "pytorch")


def _span(o, stride, pad_before, pad_after, kernel, size):
    """In-image ``range`` of one window along an axis, and its extent inside the padding."""
    start = o * stride - pad_before
    stop = start + kernel
    return range(max(start, 0), min(stop, size)), min(stop, size + pad_after) - start


def _windows(shape, out_size, kernel, stride, pads):
    n, c, h, w = shape
    out_h, out_w = out_size
    (kh, kw), (sh, sw), (pt, pl, pb, pr) = kernel, stride, pads
    for plane in range(n * c):
        for oy in range(out_h):
            ys, py = _span(oy, sh, pt, pb, kh, h)
            for ox in range(out_w):
                xs, px = _span(ox, sw, pl, pr, kw, w)
                if not ys or not xs:
                    raise ValueError(f"output ({oy}, {ox}) has a window with no input element")
                yield plane * h * w, ys, xs, py * px


def avg_pool2d(x, shape, out_size, kernel, stride, pads, count_include_pad, method, zero_point=0, qmin=-128,
               qmax=127, dpu=(0, 0, 0), ort=None):
    """Average pool of NCHW codes ``x`` (a flat list, ``shape = (N, C, H, W)``) -> flat list of
    ``N * C * out_h * out_w`` codes clamped to ``[qmin, qmax]``.

    A window's ``valid`` positions are those inside the image, its ``padded`` ones those inside
    ``[-pad_top, H + pad_bottom) x [-pad_left, W + pad_right)``; ``count = padded`` with
    ``count_include_pad`` else ``valid``. Methods (``pads = (top, left, bottom, right)``):

    * ``"tflite"``: ``acc`` = sum of the codes, counted padded positions holding ``zero_point``;
      ``divide_round_half_away(acc, count)`` (reference/integer_ops/pooling.h).
    * ``"tosa"``: ``acc`` = sum of ``code - zero_point`` (padding 0), int32;
      ``tosa_average(acc, count) + zero_point`` (AVG_POOL2D.tosac).
    * ``"hexagon"``: ``acc`` as tflite; ``hexagon_average_q15(acc, count)`` (op_avgpool.c).
    * ``"dpu"``: ``acc`` as tflite; ``dpu_average(acc, n, m, shift)`` with ``dpu = (n, m, shift)``.
    * ``"pytorch"``: ``acc`` as tflite; ``acc / count`` rounded half to even (PyTorch's quantized
      avg_pool2d, measured on torch 2.13).
    * ``"ort"``: ONNX Runtime QLinearAveragePool in float32 with ``ort = (in_scale,
      in_zero_point, out_scale, out_zero_point)``: ``sum += in_scale * float(code - in_zp)``
      (row-major, from 0), ``y = sum / float(count)``, code ``nearbyintf(y / out_scale +
      float(out_zp))`` (half even; outside int32 gives INT32_MIN), then the clamp. ORT's
      ``count`` with ``count_include_pad`` is the kernel's size ``kh * kw``, also where a
      ``ceil_mode`` window runs past the end pad (onnxruntime/contrib_ops/cpu/quantization/
      qlinear_pool.cc QLinearPool2DTask ``Finalize(kernel_shape[0] * kernel_shape[1], ...)``).
    """
    if method not in AVG_POOL_METHODS:
        raise ValueError(f"method must be one of {AVG_POOL_METHODS}, got {method!r}")
    w = shape[3]
    out = []
    for base, ys, xs, padded in _windows(shape, out_size, kernel, stride, pads):
        valid = len(ys) * len(xs)
        count = padded if count_include_pad else valid
        values = [x[base + y * w + xx] for y in ys for xx in xs]
        if method == "ort":
            in_scale, in_zp, out_scale, out_zp = ort
            count = kernel[0] * kernel[1] if count_include_pad else valid
            total = 0
            for v in values:
                total = f32_add(total, f32_mul(in_scale, int_to_float32(v - in_zp)))
            y = f32_add(f32_div(f32_div(total, int_to_float32(count)), out_scale), int_to_float32(out_zp))
            r = x86_int32(round_fraction(Fraction(y), HALF_EVEN))
        elif method == "tosa":
            acc = sum(v - zero_point for v in values)
            r = tosa_average(acc, count) + zero_point
        else:
            acc = sum(values) + ((padded - valid) * zero_point if count_include_pad else 0)
            if method == "tflite":
                r = divide_round_half_away(acc, count)
            elif method == "pytorch":
                r = round_fraction(Fraction(acc, count), HALF_EVEN)
            elif method == "hexagon":
                r = hexagon_average_q15(acc, count)
            else:
                r = dpu_average(acc, *dpu)
        out.append(clamp(r, qmin, qmax))
    return out


def max_pool2d(x, shape, out_size, kernel, stride, pads):
    """Max pool of NCHW codes (flat list): the largest in-image code of each window."""
    w = shape[3]
    return [max(x[base + y * w + xx] for y in ys for xx in xs)
            for base, ys, xs, _ in _windows(shape, out_size, kernel, stride, pads)]


def tflite_mean_folded(codes, zp_in, scale_in, zp_out, scale_out, qmin, qmax):
    """TFLite's general quantized MEAN of one output element (``reference_ops::QuantizedMeanOrSum``,
    tensorflow/lite/kernels/internal/reference/reduce.h): ``codes`` the ``n`` input codes averaged;
    ``(M, e) = QuantizeMultiplier(double(s_in) / double(s_out))`` (float32 scales), ``k = min(
    floor(log2 n), 32, 31 + e)``, ``M' = (M << k) // n``, then ``clamp(MBQM(sum(codes) - zp_in n,
    M', e - k) + zp_out)`` with TFLite's double-rounding ``MultiplyByQuantizedMultiplier``."""
    n = len(codes)
    m, e = derive_tflite(float(round_to_float32(Fraction(scale_in))) / float(round_to_float32(Fraction(scale_out))))
    k = min(n.bit_length() - 1, 32, 31 + e)
    folded = (m << k) // n
    acc = sum(int(c) for c in codes) - int(zp_in) * n
    return clamp(multiply_by_quantized_multiplier_double_round(acc, folded, e - k) + int(zp_out), qmin, qmax)


def tflite_mean_opt(codes, zp_in, scale_in, zp_out, scale_out, qmin, qmax):
    """TFLite's optimized int8 MEAN over (H, W) with keep_dims (``optimized_ops::MeanImpl``,
    tensorflow/lite/kernels/internal/optimized/optimized_ops.h) for one output element: in float32
    ``t = zp_in * s_in / s_out``, ``t += 0.5`` (``t > 0``) or ``-= 0.5``, ``bias = zp_out - (int)t``
    (truncation); ``(M, e) = QuantizeMultiplier(s_in / (float(n) * s_out))`` in float32; then
    ``clamp(MBQM(sum(codes), M, e) + bias)`` (double rounding, the raw code sum)."""
    n = len(codes)
    s_in, s_out = round_to_float32(Fraction(scale_in)), round_to_float32(Fraction(scale_out))
    t = f32_div(f32_mul(int_to_float32(int(zp_in)), s_in), s_out)
    t = f32_add(t, 0.5) if t > 0 else f32_add(t, -0.5)
    bias = int(zp_out) - int(t)
    m, e = derive_tflite(float(f32_div(s_in, f32_mul(int_to_float32(n), s_out))))
    return clamp(multiply_by_quantized_multiplier_double_round(sum(int(c) for c in codes), m, e) + bias, qmin, qmax)


def tflite_mean(codes, zp_in, scale_in, zp_out, scale_out, qmin, qmax):
    """TFLite's int8 reference MEAN over (H, W) of one output element
    (tensorflow/lite/kernels/internal/reference/integer_ops/mean.h): ``acc = sum(codes) - zp_in n``
    (int32: a sum outside it raises ``ValueError``), ``acc = MBQM(acc, QuantizeMultiplier(double(s_in)
    / double(s_out)))`` (float32 scales, double rounding), then ``round(acc / n)`` half away from
    zero, ``+ zp_out``, clamped to ``[qmin, qmax]``."""
    n = len(codes)
    acc = as_int("acc", sum(int(c) for c in codes) - int(zp_in) * n, INT32_MIN, INT32_MAX)
    m, e = derive_tflite(float(round_to_float32(Fraction(scale_in))) / float(round_to_float32(Fraction(scale_out))))
    scaled = multiply_by_quantized_multiplier_double_round(acc, m, e)
    return clamp(divide_round_half_away(scaled, n) + int(zp_out), qmin, qmax)


def ort_global_average(codes, zp_in, scale_in, zp_out, scale_out, qmin, qmax):
    """ONNX Runtime QLinearGlobalAveragePool of one output element (onnxruntime/core/mlas/lib/
    qlgavgpool.cpp): ``acc = sum(codes) - zp_in n`` (int32: ``ValueError`` outside it), ``scale =
    float32(s_in / float32(s_out * float32(n)))`` computed in float32, then MLAS's requantization
    (:func:`fxsim.reference.requantize.requantize_fp32`: float32 product, clamp to ``[qmin - zp_out,
    qmax - zp_out]``, half even, ``+ zp_out``)."""
    n = len(codes)
    acc = as_int("acc", sum(int(c) for c in codes) - int(zp_in) * n, INT32_MIN, INT32_MAX)
    s_in, s_out = round_to_float32(Fraction(scale_in)), round_to_float32(Fraction(scale_out))
    scale = f32_div(s_in, f32_mul(s_out, int_to_float32(n)))
    return requantize_fp32(acc, float(scale), int(zp_out), qmin, qmax, HALF_EVEN)


def pytorch_mean(codes, zp, scale, qmin, qmax):
    """``torch.mean`` over (H, W) of a quantized tensor, one output element (the encoding is kept):
    each code dequantized as ATen's vectorized dequantize does, ``fma(code, s, premul)`` rounded
    once to float32 with ``premul = float32(-zp * s)``; summed in float32 in element order from 0;
    ``mean = sum / float32(n)``; ``rint(mean * float32(1 / s)) + zp`` (half even), clamped. Every
    step is one IEEE float32 operation, computed exactly here and rounded. A NaN product gives
    ``qmin``, one beyond int32 the clamp bound of its sign. Measured on torch 2.13
    (tests/oracles/test_pytorch_golden.py)."""
    s = round_to_float32(Fraction(scale))
    premul = f32_mul(int_to_float32(-int(zp)), s)
    total = 0.0
    for c in codes:
        total = f32_add(total, round_to_float32(Fraction(int(c)) * Fraction(s) + Fraction(premul)))
    mean = f32_div(total, int_to_float32(len(codes)))
    inverse = f32_div(1.0, s)  # Inf for a subnormal scale below 2^-128
    if mean == 0 and math.isinf(inverse):
        return qmin  # 0 * Inf: NaN in IEEE arithmetic
    v = f32_mul(mean, inverse)
    if v <= -2.0 ** 31:
        return qmin
    if v >= 2.0 ** 31:
        return qmax
    return clamp(round_fraction(Fraction(v), HALF_EVEN) + int(zp), qmin, qmax)
