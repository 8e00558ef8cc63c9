"""Gemm: ``Y = alpha * A' @ B' + beta * C`` (ONNX Gemm, opsets 11-13).

``A' = A^T`` if ``transA`` else ``A`` (``[M, K]``), ``B' = B^T`` if ``transB`` else ``B``
(``[K, N]``); ``C`` is optional (opset 11+) and broadcasts unidirectionally to ``[M, N]``.
Defaults ``alpha = beta = 1``, ``transA = transB = 0``. The weight's output-channel axis is 0
with ``transB=1`` and 1 with ``transB=0`` (DESIGN.md).

Float semantics: the product in float64, scaled and biased in float64, rounded once.

Integer lowering (``alpha = beta = 1``, a constant B, C absent or a constant bias of N values):
``fxsim._kernels.matmul_requantize`` of A's codes by B's codes laid out ``[K, N]`` (per-channel
weights along N: axis 0 of B with ``transB=1``, axis 1 without), the bias codes added last, and
the target's requantization, in one call (``matmul_accumulate`` then ``Rescale`` when the rescale
runs in Python or accumulator statistics are recorded). Anything else runs as the float fallback.
"""

import dataclasses

import numpy as np

from ..errors import GraphError
from ._common import broadcast_shapes, optional_input, to_float32
from ._integer import Lowered, WeightedLowering, float_fallback

OP_TYPE = "Gemm"


def infer_shapes(attrs, input_shapes, input_values):
    """``[M, N]``."""
    a, b = tuple(input_shapes[0]), tuple(input_shapes[1])
    if len(a) != 2 or len(b) != 2:
        raise GraphError(f"Gemm needs 2-D A and B, got {a} and {b}")
    m, k = (a[1], a[0]) if attrs.get("transA", 0) else a
    k2, n = (b[1], b[0]) if attrs.get("transB", 0) else b
    if k != k2:
        raise GraphError(f"Gemm inner dimensions differ: A' is {m}x{k}, B' is {k2}x{n}")
    c = input_shapes[2] if len(input_shapes) > 2 else None
    if c is not None and broadcast_shapes(c, (m, n)) != (m, n):
        raise GraphError(f"Gemm C shape {tuple(c)} does not broadcast to {(m, n)}")
    return [(m, n)]


def run_float(attrs, inputs):
    """``alpha * A' @ B' + beta * C`` rounded once to float32."""
    a = inputs[0].astype(np.float64)
    b = inputs[1].astype(np.float64)
    if attrs.get("transA", 0):
        a = a.T
    if attrs.get("transB", 0):
        b = b.T
    y = float(np.float32(attrs.get("alpha", 1.0))) * (a @ b)
    c = optional_input(inputs, 2)
    if c is not None:
        y = y + float(np.float32(attrs.get("beta", 1.0))) * c.astype(np.float64)
    return [to_float32(y)]



def lower_integer(ctx):
    """Gemm on codes as a fully connected layer."""
    attrs = ctx.attrs
    a, b = ctx.inputs[0], ctx.inputs[1]
    c = ctx.inputs[2] if len(ctx.inputs) > 2 else None
    if (float(attrs.get("alpha", 1.0)) != 1.0 or float(attrs.get("beta", 1.0)) != 1.0 or b.value is None
            or int(attrs.get("transA", 0)) or (c is not None and c.value is None)):
        return float_fallback(ctx, run_float, "alpha/beta != 1, transA, or a computed B or C")
    trans_b = int(attrs.get("transB", 0))
    weight = np.asarray(b.value, np.float32)
    weight = weight.T if trans_b else weight  # [K, N]
    channels = weight.shape[1]
    enc = b.encoding
    if enc is not None and enc.is_per_channel:
        if enc.axis != (0 if trans_b else 1):
            return float_fallback(ctx, run_float, "B's per-channel axis is not its output channel")
        enc = dataclasses.replace(enc, axis=1)  # the channel axis of the [K, N] layout
    bias = None
    if c is not None:
        bias = np.asarray(c.value, np.float32)
        if bias.size not in (1, channels):
            return float_fallback(ctx, run_float, "C is not a bias of N values")
        bias = np.broadcast_to(bias.reshape(-1), (channels,))
    prep = WeightedLowering(ctx, "fully_connected", weight, enc, channels, bias)
    prep.pack("matmul")  # 8-bit WRAP: the weights packed once, at preparation
    out_shape = tuple(ctx.outputs[0].shape)
    prep.kernel_arguments()
    stats = {"record": False}  # the Lowered's stats (compare sets "record" to collect accumulators)

    def run(inputs):
        x = inputs[0] if inputs[0].flags.c_contiguous else np.ascontiguousarray(inputs[0])
        return [prep.run_kernel(x, out_shape, 1, stats)]

    return Lowered(run, arithmetic=prep.arithmetic(), info=prep.info(), stats=stats)
