"""Conv: N-d convolution, regular, grouped and depthwise (ONNX Conv, opsets 1-11, 1-D/2-D/3-D).

``Y[n, o, p] = B[o] + sum_{c, k} X_pad[n, g*Cg + c, p*stride + k*dilation] * W[o, c, k]`` with
``g = o // (M / group)``, ``Cg = C / group``; weights ``W`` are ``[M, C/group, *kernel]``
(per-channel axis 0). Attributes: ``group`` (1; ``group == C`` is depthwise), ``strides`` and
``dilations`` (1 per axis), ``pads`` (``[x1_begin, ..., x1_end, ...]``, asymmetric allowed),
``auto_pad`` (NOTSET, VALID, SAME_UPPER, SAME_LOWER; see ``_common.spatial_pads``),
``kernel_shape`` (checked against W). Output size per axis:
``floor((in + pad_begin + pad_end - ((k - 1) * dilation + 1)) / stride) + 1``.

Float semantics: im2col windows and a batched matrix product per group, accumulated in float64
and rounded once to float32 (see ``fxsim/ops/__init__.py`` on precision).

Integer lowering (2-D and 1-D): ``fxsim._kernels.conv2d_requantize``, one call: the target's
accumulator policy over the weight codes (per-channel zero points allowed), the bias codes added
last, and the target's requantization (``_integer.Rescale``) with a fused Relu/Clip as the output
clamp, applied tile by tile. When the rescale runs in Python (exact rationals, a float bias) or
accumulator statistics are recorded, ``conv2d_accumulate`` then ``Rescale`` (the same codes).
3-D convolutions run as the float fallback.
"""

import numpy as np

from ..errors import GraphError
from ._common import kernel_window, optional_input, sliding_windows, spatial_pads, to_float32
from ._integer import Lowered, WeightedLowering, float_fallback

OP_TYPE = "Conv"


def geometry(attrs, x_shape, w_shape):
    """``(pads_begin, pads_end, strides, dilations, out_spatial)`` of a Conv.

    Shared with the integer lowering to come, so both use one reading of the attributes.
    """
    _, kernel, strides, dilations = kernel_window("Conv", attrs, x_shape, w_shape)
    begin, end = spatial_pads(attrs, x_shape[2:], kernel, strides, dilations)
    out = []
    for size, b, e, k, s, d in zip(x_shape[2:], begin, end, kernel, strides, dilations):
        o = (size + b + e - ((k - 1) * d + 1)) // s + 1
        if o < 1:
            raise GraphError(f"Conv output size {o} < 1 (input {size}, kernel {k}, dilation {d})")
        out.append(o)
    return begin, end, strides, dilations, out


def infer_shapes(attrs, input_shapes, input_values):
    """``[N, M, *out_spatial]``."""
    x_shape, w_shape = tuple(input_shapes[0]), tuple(input_shapes[1])
    group = int(attrs.get("group", 1))
    if x_shape[1] != w_shape[1] * group or w_shape[0] % group:
        raise GraphError(f"Conv input channels {x_shape[1]}, weight {w_shape} and group {group} do not match")
    *_, out = geometry(attrs, x_shape, w_shape)
    return [(x_shape[0], w_shape[0], *out)]


def run_float(attrs, inputs):
    """The convolution, float64 accumulation rounded to float32."""
    x, w = inputs[0], inputs[1]
    bias = optional_input(inputs, 2)
    group = int(attrs.get("group", 1))
    begin, end, strides, dilations, out = geometry(attrs, x.shape, w.shape)
    n_spatial = len(out)
    pad_width = [(0, 0), (0, 0)] + list(zip(begin, end))
    xp = np.pad(x.astype(np.float64), pad_width)
    windows = sliding_windows(xp, w.shape[2:], strides, dilations, out)  # [N, C, *out, *k]
    batch, channels = x.shape[:2]
    cg, mg = channels // group, w.shape[0] // group
    ksize = int(np.prod(w.shape[2:]))
    positions = int(np.prod(out))
    # [N, G, Cg, *out, *k] -> [G, N*positions, Cg*ksize]
    win = windows.reshape((batch, group, cg, positions, ksize))
    cols = win.transpose(1, 0, 3, 2, 4).reshape(group, batch * positions, cg * ksize)
    wg = w.astype(np.float64).reshape(group, mg, cg * ksize).transpose(0, 2, 1)  # [G, Cg*k, Mg]
    y = np.matmul(cols, wg)  # [G, N*positions, Mg]
    y = y.reshape(group, batch, positions, mg).transpose(1, 0, 3, 2).reshape(batch, group * mg, *out)
    if bias is not None:
        y = y + bias.astype(np.float64).reshape((-1,) + (1,) * n_spatial)
    return [to_float32(y)]


def lower_integer(ctx):
    """Conv on codes: exact accumulation with the target's policy, then its requantization."""
    x, w = ctx.inputs[0], ctx.inputs[1]
    if w.value is None or len(x.shape) not in (3, 4):
        return float_fallback(ctx, run_float, "a computed weight or a 3-D convolution")
    group = int(ctx.attrs.get("group", 1))
    channels = w.shape[0]
    depthwise = group > 1 and group == x.shape[1]
    begin, end, strides, dilations, _ = geometry(ctx.attrs, x.shape, w.shape)
    weight = np.asarray(w.value, np.float32)
    if len(x.shape) == 3:  # 1-D as 2-D with height 1
        begin, end, strides, dilations = [0] + begin, [0] + end, [1] + strides, [1] + dilations
        weight = weight[:, :, None, :]
    bias = ctx.inputs[2].value if len(ctx.inputs) > 2 and ctx.inputs[2] is not None else None
    if len(ctx.inputs) > 2 and ctx.inputs[2] is not None and bias is None:
        return float_fallback(ctx, run_float, "a computed bias")
    out_shape = tuple(ctx.outputs[0].shape)
    stride, dilation = tuple(strides), tuple(dilations)
    pads = (begin[0], begin[1], end[0], end[1])
    conv_geometry = dict(in_channels=int(x.shape[1]), out_channels=int(out_shape[1]),
                         kernel=tuple(int(k) for k in weight.shape[2:]), strides=tuple(int(s) for s in stride),
                         dilations=tuple(int(d) for d in dilation), pads=tuple(int(p) for p in pads))
    prep = WeightedLowering(ctx, "depthwise_conv2d" if depthwise else "conv2d", weight, w.encoding,
                            channels, bias, conv_geometry)
    prep.pack("conv")  # 8-bit WRAP: the weights packed once, at preparation
    acc_shape = out_shape if len(out_shape) == 4 else (out_shape[0], out_shape[1], 1, out_shape[2])
    prep.kernel_arguments(stride, dilation, pads, group)
    one_d = len(x.shape) == 3
    reshape_out = acc_shape != out_shape
    stats = {"record": False}  # the Lowered's stats (compare sets "record" to collect accumulators)

    def run(inputs):
        xq = inputs[0][:, :, None, :] if one_d else inputs[0]
        if not xq.flags.c_contiguous:
            xq = np.ascontiguousarray(xq)
        codes = prep.run_kernel(xq, acc_shape, 1, stats)
        return [codes.reshape(out_shape) if reshape_out else codes]

    return Lowered(run, arithmetic=prep.arithmetic(), info=prep.info(), stats=stats)
