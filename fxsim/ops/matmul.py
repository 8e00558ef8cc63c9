"""MatMul: matrix product with numpy semantics (ONNX MatMul, opsets 9-13).

Covers a constant weight ``[K, N]`` (per-channel axis 1) and two activations (attention's
``Q @ K^T``), 1-D operands (promoted and the added axis removed) and batched broadcasting of
the leading dimensions, exactly as ``numpy.matmul`` (which the ONNX spec cites).

Float semantics: the product in float64, rounded once to float32.

Integer lowering: a constant ``[K, N]`` B (per-channel along N) is a fully connected layer
(``_integer.WeightedLowering``); two activations multiply with ``fxsim._kernels.matmul_requantize``
(batched, zero points of both, no bias, rescaled by ``s_a * s_b / s_out`` in the same call;
``matmul_accumulate`` then ``Rescale`` when the rescale runs in Python or statistics are recorded). Other forms (a
constant batched B, broadcasting batch dimensions) run as the float fallback.
"""

import dataclasses

import numpy as np

from ..errors import GraphError
from .. import _kernels
from ._common import broadcast_shapes, to_float32
from ._integer import (Lowered, Rescale, WeightedLowering, accumulator_policy, activation_clamp, float_fallback,
                       record_accumulator)

OP_TYPE = "MatMul"


def infer_shapes(attrs, input_shapes, input_values):
    """numpy.matmul's output shape."""
    a, b = list(input_shapes[0]), list(input_shapes[1])
    if not a or not b:
        raise GraphError("MatMul operands must have rank >= 1")
    a2 = [1] + a if len(a) == 1 else a
    b2 = b + [1] if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise GraphError(f"MatMul inner dimensions differ: {tuple(a)} @ {tuple(b)}")
    batch = broadcast_shapes(a2[:-2], b2[:-2])
    out = list(batch) + [a2[-2], b2[-1]]
    if len(a) == 1:
        out.pop(-2)
    if len(b) == 1:
        out.pop(-1)
    return [tuple(out)]


def run_float(attrs, inputs):
    """``A @ B`` in float64, rounded once."""
    return [to_float32(np.matmul(inputs[0].astype(np.float64), inputs[1].astype(np.float64)))]


def lower_integer(ctx):
    """MatMul on codes: by a constant weight, or between two activations."""
    a, b = ctx.inputs[0], ctx.inputs[1]
    out_shape = tuple(ctx.outputs[0].shape)
    if len(a.shape) < 2 or len(b.shape) < 2:
        return float_fallback(ctx, run_float, "a 1-D operand")
    if b.value is not None:
        if len(b.shape) != 2:
            return float_fallback(ctx, run_float, "a batched constant B")
        enc = b.encoding
        if enc is not None and enc.is_per_channel:
            if enc.axis not in (1, -1):
                return float_fallback(ctx, run_float, "B's per-channel axis is not N")
            enc = dataclasses.replace(enc, axis=1)
        prep = WeightedLowering(ctx, "matmul", np.asarray(b.value, np.float32), enc, b.shape[1])
        prep.pack("matmul")  # 8-bit WRAP: the weights packed once, at preparation
        last = len(out_shape) - 1
        prep.kernel_arguments()
        stats = {"record": False}  # the Lowered's stats (compare sets "record" to collect accumulators)

        def run_weight(inputs):
            a_codes = inputs[0] if inputs[0].flags.c_contiguous else np.ascontiguousarray(inputs[0])
            return [prep.run_kernel(a_codes, out_shape, last, stats)]

        return Lowered(run_weight, arithmetic=prep.arithmetic(), info=prep.info(), stats=stats)
    if tuple(a.shape[:-2]) != tuple(b.shape[:-2]):
        return float_fallback(ctx, run_float, "broadcast batch dimensions")
    y = ctx.outputs[0]
    for operand in (a, b, y):
        if operand.encoding is None or operand.encoding.is_per_channel:
            return float_fallback(ctx, run_float, f"{operand.name!r} has no per-tensor encoding")
    target = ctx.target_for("matmul")
    policy, bits = accumulator_policy(target, a.encoding.dtype, b.encoding.dtype)
    acc_dtype = np.int32 if bits == 32 else np.int64
    qmin, qmax = activation_clamp(y.encoding, ctx.fused_activation, target)
    rescale = Rescale(a.encoding.scale, b.encoding.scale, y.encoding, target, y.name, qmin, qmax, 1)
    a_zp = int(np.asarray(a.encoding.zero_point).reshape(-1)[0])
    b_zp = np.asarray(b.encoding.zero_point, np.int32).reshape(1)

    def run_activations(inputs):
        if rescale.fusable and not lowered.stats["record"]:  # one kernel call
            out = np.empty(out_shape, y.encoding.dtype)
            _kernels.matmul_requantize(np.ascontiguousarray(inputs[0]), np.ascontiguousarray(inputs[1]), a_zp, b_zp,
                                       None, policy, bits, *rescale.fused_arguments, out)
            return [out]
        acc = np.empty(out_shape, acc_dtype)
        _kernels.matmul_accumulate(np.ascontiguousarray(inputs[0]), np.ascontiguousarray(inputs[1]), a_zp,
                                   b_zp, None, policy, bits, acc)
        record_accumulator(lowered.stats, acc, bits)
        return [rescale(acc, axis=None)]

    lowered = Lowered(run_activations, arithmetic=f"accumulate {policy}/{bits}, requantize {rescale.describe}",
                      info={"fused_kernel": rescale.fusable})
    return lowered
