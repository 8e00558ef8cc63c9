"""ConvTranspose: N-d transposed convolution (ONNX ConvTranspose, opsets 1-11).

Each input pixel ``X[n, c, i]`` scatters ``X * W[c, o, k]`` to output position
``i * stride + k * dilation - pad_begin`` of channel ``g * (M / group) + o``, where weights
``W`` are ``[C, M/group, *kernel]`` (per-channel axis 1 per group; DESIGN.md). Output size per
axis: ``stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end``
(ONNX ConvTranspose). Attributes: ``group``, ``strides``, ``dilations``, ``pads``,
``output_padding``, ``kernel_shape`` (checked), ``output_shape`` and ``auto_pad``. When
``output_shape`` is given (or ``auto_pad`` is SAME_UPPER / SAME_LOWER, which asks for
``out = in * stride``), the pads are derived from the total
``max(0, stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - out)``, split as the
ONNX ConvTranspose document states: SAME_UPPER puts ``total // 2`` at the beginning (the odd
pixel at the end), anything else (SAME_LOWER, or NOTSET with ``output_shape``) puts the odd pixel
at the beginning; ONNX Runtime 1.32 agrees (tests/ops). ``auto_pad=VALID`` means zero pads.

Float semantics: one matrix product per group (float64) then a col2im scatter-add per kernel
tap, rounded once to float32.

Integer lowering (2-D and 1-D): as the equivalent correlation, which is exact on integers: the
input codes spread ``stride`` apart with the input zero point between them (a zero value), the
spatially flipped kernel with input and output channels swapped per group, padded by
``dilation * (k - 1) - pad`` (cropped where negative), through ``fxsim._kernels.conv2d_requantize``
with the target's accumulator policy and the target's requantization (``_integer.Rescale``) in
one call (``conv2d_accumulate`` then ``Rescale`` when the rescale runs in Python or statistics are
recorded).
Per-channel weight encodings (axis 1, the output channel within a group) repeat over groups.
"""

import dataclasses
import itertools

import numpy as np

from ..errors import GraphError, UnsupportedOpError
from ._common import int_list, kernel_window, optional_input, to_float32
from ._integer import Lowered, WeightedLowering, float_fallback

OP_TYPE = "ConvTranspose"


def canonicalize(attrs, opset, num_inputs, num_outputs):
    """Check ``auto_pad``."""
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise UnsupportedOpError(f"ConvTranspose auto_pad={attrs['auto_pad']!r}")
    return attrs


def geometry(attrs, x_shape, w_shape):
    """``(pads_begin, pads_end, strides, dilations, output_padding, out_spatial)``."""
    n, kernel, strides, dilations = kernel_window("ConvTranspose", attrs, x_shape, w_shape)
    output_padding = int_list(attrs.get("output_padding", [0] * n))
    auto_pad = attrs.get("auto_pad", "NOTSET") or "NOTSET"
    full = [s * (i - 1) + op + (k - 1) * d + 1
            for i, s, op, k, d in zip(x_shape[2:], strides, output_padding, kernel, dilations)]
    if "output_shape" in attrs or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        if "output_shape" in attrs:
            out = int_list(attrs["output_shape"])[-n:]
        else:
            out = [i * s for i, s in zip(x_shape[2:], strides)]
        begin, end = [], []
        for f, o, s in zip(full, out, strides):
            if o - f >= s:  # no input size gives this output (ONNX Runtime rejects it too)
                raise GraphError(f"ConvTranspose output_shape {out} is unreachable from input {list(x_shape[2:])}")
            total = max(0, f - o)
            small = total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else total - small)
            end.append(total - small if auto_pad == "SAME_UPPER" else small)
    else:
        pads = [0] * (2 * n) if auto_pad == "VALID" else int_list(attrs.get("pads", [0] * (2 * n)))
        begin, end = pads[:n], pads[n:]
        out = [f - b - e for f, b, e in zip(full, begin, end)]
    if min(out) < 1:
        raise GraphError(f"ConvTranspose output size {out} has an axis < 1")
    return begin, end, strides, dilations, output_padding, out


def infer_shapes(attrs, input_shapes, input_values):
    """``[N, M, *out_spatial]`` with ``M = W.shape[1] * group``."""
    x_shape, w_shape = tuple(input_shapes[0]), tuple(input_shapes[1])
    group = int(attrs.get("group", 1))
    if x_shape[1] != w_shape[0] or w_shape[0] % group:
        raise GraphError(f"ConvTranspose input channels {x_shape[1]}, weight {w_shape} and group {group} do not match")
    *_, out = geometry(attrs, x_shape, w_shape)
    return [(x_shape[0], w_shape[1] * group, *out)]


def run_float(attrs, inputs):
    """The transposed convolution, float64 accumulation rounded to float32."""
    x, w = inputs[0], inputs[1]
    bias = optional_input(inputs, 2)
    group = int(attrs.get("group", 1))
    begin, end, strides, dilations, output_padding, out = geometry(attrs, x.shape, w.shape)
    batch, channels = x.shape[:2]
    in_spatial = x.shape[2:]
    kernel = w.shape[2:]
    cg, mg = channels // group, w.shape[1]
    positions = int(np.prod(in_spatial))
    # cols[g] = X_g^T [N*positions, Cg] @ W_g [Cg, Mg*k]
    xg = x.astype(np.float64).reshape(batch, group, cg, positions).transpose(1, 0, 3, 2)
    xg = xg.reshape(group, batch * positions, cg)
    wg = w.astype(np.float64).reshape(group, cg, mg * int(np.prod(kernel)))
    cols = np.matmul(xg, wg).reshape(group, batch, *in_spatial, mg, *kernel)
    # Full (uncropped) output: every tap lands at i * stride + k * dilation.
    full = [s * (i - 1) + (k - 1) * d + 1 + op
            for i, s, k, d, op in zip(in_spatial, strides, kernel, dilations, output_padding)]
    # An output_shape larger than the taps reach leaves zeros (plus bias) at the end.
    size = [max(f, b + o) for f, b, o in zip(full, begin, out)]
    y = np.zeros((group, batch, mg, *size), dtype=np.float64)
    n = len(kernel)
    moved = np.moveaxis(cols, 2 + n, 2)  # [G, N, Mg, *in_spatial, *kernel]
    for taps in itertools.product(*[range(k) for k in kernel]):
        index = (slice(None),) * 3 + tuple(
            slice(t * d, t * d + (i - 1) * s + 1, s) for t, d, i, s in zip(taps, dilations, in_spatial, strides))
        y[index] += moved[(Ellipsis,) + tuple(taps)]
    crop = tuple(slice(b, b + o) for b, o in zip(begin, out))
    y = y[(slice(None),) * 3 + crop]
    y = y.transpose(1, 0, 2, *range(3, 3 + n)).reshape(batch, group * mg, *out)
    if bias is not None:
        y = y + bias.astype(np.float64).reshape((-1,) + (1,) * n)
    return [to_float32(y)]


def _as_correlation_weight(w, group):
    """[C_in, O/g, *k] -> [O, C_in/g, *k] flipped in space: w'[g*Og + o, c] = w[g*Cg + c, o, ::-1]."""
    cin, og = w.shape[:2]
    cg = cin // group
    flipped = w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]
    grouped = flipped.reshape(group, cg, og, *w.shape[2:]).swapaxes(1, 2)  # [G, Og, Cg, *k]
    return np.ascontiguousarray(grouped.reshape(group * og, cg, *w.shape[2:]))


def lower_integer(ctx):
    """ConvTranspose on codes as a correlation over the zero-point-spread input."""
    x, w = ctx.inputs[0], ctx.inputs[1]
    if w.value is None or len(x.shape) not in (3, 4):
        return float_fallback(ctx, run_float, "a computed weight or a 3-D transposed convolution")
    bias_operand = ctx.inputs[2] if len(ctx.inputs) > 2 else None
    if bias_operand is not None and bias_operand.value is None:
        return float_fallback(ctx, run_float, "a computed bias")
    group = int(ctx.attrs.get("group", 1))
    begin, end, strides, dilations, output_padding, out = geometry(ctx.attrs, x.shape, w.shape)
    weight = np.asarray(w.value, np.float32)
    enc = w.encoding
    if enc is not None and enc.is_per_channel:
        if enc.axis != 1:
            return float_fallback(ctx, run_float, "a per-channel weight axis other than 1")
        enc = dataclasses.replace(enc, scale=np.tile(np.asarray(enc.scale), group),
                                  offset=np.tile(np.asarray(enc.offset), group), axis=0)
    if len(x.shape) == 3:
        begin, end, strides, dilations, out = [0] + begin, [0] + end, [1] + strides, [1] + dilations, [1] + out
        weight = weight[:, :, None, :]
    kernel = weight.shape[2:]
    corr = _as_correlation_weight(weight, group)
    channels = corr.shape[0]
    bias = None if bias_operand is None else np.asarray(bias_operand.value, np.float32)
    prep = WeightedLowering(ctx, "transpose_conv2d", corr, enc, channels, bias)
    spread_shape = [(i - 1) * s + 1 for i, s in zip(x.shape[2:] if len(x.shape) == 4 else (1, x.shape[2]), strides)]
    lead = [(k - 1) * d - b for k, d, b in zip(kernel, dilations, begin)]
    trail = [o + (k - 1) * d - (l + n) for o, k, d, l, n in zip(out, kernel, dilations, lead, spread_shape)]
    crop = tuple(slice(max(-l, 0), n - max(-t, 0)) for l, t, n in zip(lead, trail, spread_shape))
    pads = (max(lead[0], 0), max(lead[1], 0), max(trail[0], 0), max(trail[1], 0))
    out_shape = tuple(ctx.outputs[0].shape)
    acc_shape = (out_shape[0], channels, out[0], out[1])
    zp = prep.input_zero_point
    sh, sw = strides
    prep.pack("conv")  # 8-bit WRAP: the (flipped) weights packed once, at preparation
    prep.kernel_arguments((1, 1), tuple(dilations), pads, group)
    stats = {"record": False}  # the Lowered's stats (compare sets "record" to collect accumulators)

    def run(inputs):
        xq = inputs[0] if inputs[0].ndim == 4 else inputs[0][:, :, None, :]
        spread = np.full(xq.shape[:2] + tuple(spread_shape), zp, dtype=xq.dtype)
        spread[:, :, ::sh, ::sw] = xq
        spread = np.ascontiguousarray(spread[(slice(None), slice(None)) + crop])
        return [prep.run_kernel(spread, acc_shape, 1, stats).reshape(out_shape)]

    return Lowered(run, arithmetic=prep.arithmetic(), info=prep.info(), stats=stats)
