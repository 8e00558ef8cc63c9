"""Average-pool division: how each engine turns a window sum into the window average.

Quantization contract: ``acc`` is the integer sum of one pooling window's (zero-point adjusted)
values and the real result is ``acc / count``; the DPU instead multiplies by a power-of-two
factor ``N / 2^M`` chosen for the kernel size and never divides by the true count. Each function
rounds that real value with the rule of the engine named in its docstring, computed exactly
with ``Fraction``; none saturates (the caller adds the output zero point and clamps). Every
precondition raises ``ValueError``.
"""

from fractions import Fraction

from fxsim.constants import HALF_AWAY, HALF_UP, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN
from fxsim.reference.ieee import round_to_float32
from fxsim.reference.multiplier import tosa_apply_scale_32
from fxsim.reference.rounding import as_int, round_fraction

__all__ = [
    "divide_round_half_away",
    "tosa_reciprocal_scale",
    "tosa_average",
    "hexagon_average_q15",
    "DPU_HARD_CODED_FACTORS",
    "dpu_average_factor",
    "dpu_average",
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
