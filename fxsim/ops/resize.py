"""Resize: nearest and linear resampling (ONNX Resize, opsets 11-19; 1-D to N-D, separable).

Inputs ``X, roi?, scales?, sizes?`` (constants; an empty ``scales`` means absent). With
``sizes`` the output size is given and the scale of an axis is ``out / in`` (float32); with
``scales`` the output size is ``floor(in * scale)`` (float32 product). ``axes`` (opset 18)
limits ``scales`` / ``sizes`` to some axes.

Output coordinate ``x`` maps to the input coordinate (``coordinate_transformation_mode``, ONNX
Resize operator document), computed in float32 as ONNX Runtime does, so nearest-neighbour ties
fall the same way:

- ``half_pixel`` (default): ``(x + 0.5) / scale - 0.5``
- ``half_pixel_symmetric`` (19): ``offset + (x + 0.5) / scale - 0.5`` with
  ``offset = in / 2 * (1 - out / (scale * in))``
- ``pytorch_half_pixel``: like half_pixel, but 0 when the output size is 1
- ``align_corners``: ``x * (in - 1) / (out - 1)`` (0 when out is 1)
- ``asymmetric``: ``x / scale``
- ``tf_half_pixel_for_nn``: ``(x + 0.5) / scale``

``mode="nearest"`` picks ``nearest_mode`` of that coordinate: ``round_prefer_floor`` (default;
ties down), ``round_prefer_ceil``, ``floor``, ``ceil``; the index is clamped to ``[0, in - 1]``.
``mode="linear"`` clamps the coordinate to ``[0, in - 1]`` and interpolates between its floor
and the next sample, axis by axis (bilinear for two axes), in float64, rounded once.
Not supported (UnsupportedOpError at import): ``cubic``, ``tf_crop_and_resize``, ``antialias``,
``keep_aspect_ratio_policy`` other than ``stretch``.

Integer lowering (codes in, codes of the same encoding out: the engines resize codes and never
rescale; differing encodings or a fused activation run as the float fallback, labelled), by
the target's ``[resize]`` section (``Target.resize``):

- nearest: an index map per resized axis, then a gather of codes (``fxsim.arith.resize``).
  ``nearest = "onnx"``: the coordinate and nearest modes above in float32, as ONNX Runtime
  computes them (C++ ``resize_nearest_indices_onnx``). ``nearest = "tflite"``: TFLite's
  GetNearestNeighbor where the attributes are what the TFLite converter maps to its flags
  (asymmetric + floor: no flags; align_corners + round_prefer_ceil: align_corners;
  tf_half_pixel_for_nn + floor: half_pixel_centers); other attribute sets use the ONNX rule.
- linear, ``linear = "onnxruntime"``: ONNX Runtime picks the kernel by the scales: a 4-D input
  whose ``scales[1]`` is 1 (resized on axes 2, 3: NCHW) or a 2-D input runs ``UpsampleBilinear``
  (float32 weights, truncation); a 4-D input whose ``scales[1]`` is not 1 (resized on axes 1, 2:
  NHWC, ``scales[3]`` 1) runs ``NhwcUpsampleBilinearInteger`` (Q10 weights, the sum divided by 2^20
  toward zero), uint8 / int8 codes, every coordinate mode but half_pixel_symmetric (whose
  bilinear weights did not reproduce in ORT 1.32; nearest does), which is left to the float
  fallback. ORT 1.32 takes these paths for uint8/int8 Resize nodes (QOperator models; a QDQ
  DequantizeLinear -> Resize -> QuantizeLinear stays in float there). ``resize.layout_pass =
  "nhwc_after_conv"`` (the onnxruntime profiles: ``ORT_ENABLE_ALL``, ORT's default level): ORT's
  NHWC transformer makes a QLinearConv channels-last and its transpose optimizer pushes the
  Transpose on through the following nodes (always through an 8-bit MaxPool and a 4-D 8-bit
  linear Resize; through LeakyRelu, Sigmoid, AveragePool, Add, Mul by its cost count,
  ``_ort_runs_nhwc``), so an NCHW Resize the Transpose reaches runs on the transposed codes with
  the kernel the transposed scales pick (``_ort_transposed_linear``). Other ops stop it (not
  measured). Checked against ORT's optimised graphs and codes on Conv / MaxPool / LeakyRelu /
  Sigmoid / AveragePool / Add chains (tests/oracles/test_resize_oracles.py).
- linear, ``linear = "tflite"``: TFLite's ``ResizeBilinearInteger`` on int8 / int16 codes of a 4-D
  NCHW input resized on axes 2, 3: align_corners -> align_corners; half_pixel (and
  pytorch_half_pixel with both output sizes above 1) -> half_pixel_centers; asymmetric -> no
  flags; rounded half away from zero, or half up when the target's requantization is
  ``single_round`` (the ``TFLITE_SINGLE_ROUNDING`` build). TFLite derives its scale from the
  sizes, so an ONNX ``scales`` input only sets the output size.
- anything else (``float_fallback``, other ranks, axes, dtypes or modes) runs as the float
  fallback, labelled with the reason.

A linear Resize of a QDQ group (``graph.dequantized_nodes``) on a profile whose ``qdq.float_ops``
names Resize (the onnxruntime profiles: ORT 1.32 keeps DequantizeLinear -> Resize ->
QuantizeLinear in float at every level) runs ORT's float path exactly: dequantize in float32,
``UpsampleBilinear<float>``, quantize (``fxsim.arith.resize.resize_bilinear_dequantized``); the
input and output encodings may differ there.
"""

import numpy as np

from ..errors import GraphError, UnsupportedOpError
from ._common import int_list, normalize_axis, to_float32

OP_TYPE = "Resize"
_COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                     "asymmetric", "tf_half_pixel_for_nn")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def canonicalize(attrs, opset, num_inputs, num_outputs):
    """Reject the modes and options that are not supported."""
    mode = attrs.get("mode", "nearest")
    if mode not in ("nearest", "linear"):
        raise UnsupportedOpError(f"Resize mode {mode!r} (supported: nearest, linear)")
    coordinate = attrs.get("coordinate_transformation_mode", "half_pixel")
    if coordinate not in _COORDINATE_MODES:
        raise UnsupportedOpError(f"Resize coordinate_transformation_mode {coordinate!r} "
                                 f"(supported: {', '.join(_COORDINATE_MODES)})")
    if attrs.get("nearest_mode", "round_prefer_floor") not in _NEAREST_MODES:
        raise UnsupportedOpError(f"Resize nearest_mode {attrs['nearest_mode']!r}")
    if int(attrs.get("antialias", 0)):
        raise UnsupportedOpError("Resize antialias=1")
    if attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise UnsupportedOpError(f"Resize keep_aspect_ratio_policy {attrs['keep_aspect_ratio_policy']!r}")
    return attrs


def _present(value):
    return value is not None and np.asarray(value).size > 0


def plan(attrs, in_shape, scales_value, sizes_value):
    """Per axis ``(out_size, scale)``: the output shape and the float32 scale of each axis."""
    rank = len(in_shape)
    axes = [normalize_axis(a, rank, "Resize axis") for a in int_list(attrs["axes"])] if "axes" in attrs \
        else list(range(rank))
    out = list(in_shape)
    scales = [np.float32(1.0)] * rank
    if _present(sizes_value):
        sizes = int_list(sizes_value)
        if len(sizes) != len(axes):
            raise GraphError(f"Resize sizes {sizes} do not match {len(axes)} axes")
        for a, s in zip(axes, sizes):
            out[a] = s
            scales[a] = np.float32(s) / np.float32(in_shape[a])
    elif _present(scales_value):
        given = np.asarray(scales_value, dtype=np.float32).reshape(-1)
        if given.size != len(axes):
            raise GraphError(f"Resize scales {given.tolist()} do not match {len(axes)} axes")
        for a, s in zip(axes, given):
            scales[a] = np.float32(s)
            out[a] = int(np.floor(np.float32(in_shape[a]) * np.float32(s)))
    else:
        raise GraphError("Resize needs scales or sizes")
    return out, scales


def infer_shapes(attrs, input_shapes, input_values):
    """The resized shape (scales or sizes must be constant)."""
    values = list(input_values) + [None] * (4 - len(input_values))
    shapes = list(input_shapes) + [None] * (4 - len(input_shapes))
    for i in (2, 3):
        if values[i] is None and shapes[i] is not None and int(np.prod(shapes[i])) > 0:
            raise UnsupportedOpError("Resize needs constant scales and sizes")
    out, _ = plan(attrs, tuple(input_shapes[0]), values[2], values[3])
    return [tuple(out)]


# The same-shape rule: ONNX Runtime returns its input unchanged when the output shape equals the
# input shape, whatever the scales and the coordinate and nearest modes (measured on onnxruntime
# 1.32, float and 8-bit inputs, nearest and linear: scales (1, 1, 1, 1.25) on W = 2 would otherwise
# map output x = 1 to 0.7 with half_pixel). TFLite derives its scale from the sizes, so a
# same-size resize is the identity there too; fxsim applies the rule on every target.


def original_coordinate(mode, out_size, in_size, scale):
    """The float32 input coordinate of each output index along one axis."""
    f32 = np.float32
    x = np.arange(out_size, dtype=np.float32)
    half = f32(0.5)
    if mode == "half_pixel":
        return (x + half) / scale - half
    if mode == "half_pixel_symmetric":
        adjustment = f32(out_size) / (scale * f32(in_size))
        offset = f32(in_size) / f32(2) * (f32(1) - adjustment)
        return offset + (x + half) / scale - half
    if mode == "pytorch_half_pixel":
        return (x + half) / scale - half if out_size > 1 else np.zeros(out_size, dtype=np.float32)
    if mode == "align_corners":
        if out_size == 1:
            return np.zeros(1, dtype=np.float32)
        return x * f32(in_size - 1) / f32(out_size - 1)  # left to right, as ONNX Runtime
    if mode == "asymmetric":
        return x / scale
    return (x + half) / scale  # tf_half_pixel_for_nn


def _nearest_index(coordinate, nearest_mode, in_size):
    c = coordinate.astype(np.float64)  # exact widening; the ties are decided on the float32 value
    if nearest_mode == "floor":
        idx = np.floor(c)
    elif nearest_mode == "ceil":
        idx = np.ceil(c)
    elif nearest_mode == "round_prefer_ceil":
        idx = np.floor(c + 0.5)
    else:
        idx = np.where(c - np.floor(c) == 0.5, np.floor(c), np.floor(c + 0.5))
    return np.clip(idx, 0, in_size - 1).astype(np.int64)


def run_float(attrs, inputs):
    """The resized tensor."""
    x = np.asarray(inputs[0])
    values = list(inputs) + [None] * (4 - len(inputs))
    out, scales = plan(attrs, x.shape, values[2], values[3])
    if tuple(out) == tuple(x.shape):
        return [np.array(x)]  # the same-shape rule (above original_coordinate)
    mode = attrs.get("mode", "nearest")
    coordinate_mode = attrs.get("coordinate_transformation_mode", "half_pixel")
    nearest_mode = attrs.get("nearest_mode", "round_prefer_floor")
    y = x if mode == "nearest" else x.astype(np.float64)
    for axis, (in_size, out_size, scale) in enumerate(zip(x.shape, out, scales)):
        if in_size == out_size and scale == 1:
            continue
        coordinate = original_coordinate(coordinate_mode, out_size, in_size, scale)
        if mode == "nearest":
            y = np.take(y, _nearest_index(coordinate, nearest_mode, in_size), axis=axis)
            continue
        c = np.clip(coordinate.astype(np.float64), 0, in_size - 1)
        low = np.floor(c).astype(np.int64)
        high = np.minimum(low + 1, in_size - 1)
        weight = (c - low).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        y = np.take(y, low, axis=axis) * (1.0 - weight) + np.take(y, high, axis=axis) * weight
    if mode == "nearest":
        return [np.array(y)]
    return [to_float32(y) if np.issubdtype(x.dtype, np.floating) else y.astype(x.dtype)]


def _resized_axes(in_shape, out_shape, scales):
    return [a for a, (i, o, sc) in enumerate(zip(in_shape, out_shape, scales)) if i != o or sc != 1]


#: ONNX (coordinate_transformation_mode, nearest_mode) -> TFLite (align_corners, half_pixel_centers),
#: the attribute sets the TFLite converter produces for RESIZE_NEAREST_NEIGHBOR
_TFLITE_NEAREST_FLAGS = {("asymmetric", "floor"): (False, False), ("align_corners", "round_prefer_ceil"): (True, False),
                         ("tf_half_pixel_for_nn", "floor"): (False, True)}


def _nearest_lowering(ctx, in_shape, out_shape, scales):
    from ..arith.resize import nearest_indices, resize_nearest
    from ._integer import Lowered

    from ._integer import float_fallback

    coordinate = ctx.attrs.get("coordinate_transformation_mode", "half_pixel")
    nearest = ctx.attrs.get("nearest_mode", "round_prefer_floor")
    if coordinate == "half_pixel_symmetric" and ctx.target.resize.nearest == "onnx":
        # ONNX Runtime 1.32's indices for this mode differ from the opset-19 formula (6 of 128
        # probed axes: 5 -> 3 at scale 0.6, floor: ORT [0, 1, 3], the formula [0, 2, 3];
        # tests/oracles/test_resize_oracles.py): not modelled, so labelled
        return float_fallback(ctx, run_float, "ONNX Runtime's half_pixel_symmetric nearest indices are not "
                                              "modelled (they differ from the opset-19 formula)")
    sizes = ctx.inputs[3] if len(ctx.inputs) > 3 else None
    if nearest == "round_prefer_ceil" and ctx.target.resize.nearest == "onnx" and sizes is not None \
            and _present(sizes.value):
        # with sizes, ORT 1.32 rounds some near-ties up that the float32 out / in scale puts just
        # below x.5 (4 of 1,600 probed axes, all round_prefer_ceil: 7 -> 2, asymmetric, output 1:
        # ORT reads column 4, the float32 coordinate 3.4999998 gives 3): not modelled, labelled
        return float_fallback(ctx, run_float, "ONNX Runtime's round_prefer_ceil indices for a Resize given by "
                                              "sizes are not modelled (near-ties round differently)")
    flags = _TFLITE_NEAREST_FLAGS.get((coordinate, nearest)) if ctx.target.resize.nearest == "tflite" else None
    indices = []
    for in_size, out_size, scale in zip(in_shape, out_shape, scales):
        if in_size == out_size and scale == 1:
            indices.append(np.arange(out_size, dtype=np.int64))
        elif flags is not None:
            indices.append(nearest_indices(in_size, out_size, engine="tflite", align_corners=flags[0],
                                           half_pixel_centers=flags[1]))
        else:
            indices.append(nearest_indices(in_size, out_size, coordinate=coordinate, nearest=nearest, scale=scale))
    rule = "TFLite GetNearestNeighbor" if flags is not None else "ONNX Runtime float32 coordinates"

    def run(inputs):
        return [resize_nearest(inputs[0], indices)]

    return Lowered(run, kind="data_movement", arithmetic=f"nearest resize on codes ({rule})",
                   info={"indices": indices})


def _tflite_flags(coordinate, out_shape, axes):
    if coordinate == "align_corners":
        return True, False
    if coordinate == "half_pixel" or (coordinate == "pytorch_half_pixel" and all(out_shape[a] > 1 for a in axes)):
        return False, True
    if coordinate == "asymmetric":
        return False, False
    return None


def _linear_lowering(ctx, in_shape, out_shape, scales, dtype):
    from ..arith import Requant
    from ..arith.resize import resize_bilinear
    from ._integer import Lowered, float_fallback

    method = ctx.target.resize.linear
    coordinate = ctx.attrs.get("coordinate_transformation_mode", "half_pixel")
    axes = _resized_axes(in_shape, out_shape, scales)
    rank = len(in_shape)
    if method == "float_fallback":
        return float_fallback(ctx, run_float, "the target's integer linear resize is not modelled "
                                              "(resize.linear = float_fallback)")
    if method == "tflite":
        flags = _tflite_flags(coordinate, out_shape, axes)
        if rank != 4 or not set(axes) <= {2, 3} or dtype not in ("int8", "int16") or flags is None:
            return float_fallback(ctx, run_float, f"TFLite's ResizeBilinearInteger takes int8/int16 NCHW inputs "
                                                  f"resized on H, W with align_corners, half_pixel or asymmetric "
                                                  f"coordinates (got rank {rank}, axes {axes}, {dtype}, {coordinate})")
        single = ctx.target.requant.method is Requant.SINGLE_ROUND
        out_hw = (out_shape[2], out_shape[3])

        def run(inputs):
            return [resize_bilinear(inputs[0], out_hw, algorithm="tflite", layout="nchw", align_corners=flags[0],
                                    half_pixel_centers=flags[1], single_round=single)]

        return Lowered(run, arithmetic=f"TFLite ResizeBilinearInteger (Q10, "
                                       f"{'half up' if single else 'half away'})")
    # onnxruntime (upsample.h, Upsample<T>::BaseCompute): a 4-D input whose scales[1] is 1 runs
    # UpsampleBilinear on axes 2, 3 (NCHW, float32 weights), one whose scales[1] is not 1 (and
    # scales[3] is 1) NhwcUpsampleBilinearInteger on axes 1, 2 (NHWC, Q10 weights) for uint8 /
    # int8; a 2-D input UpsampleBilinear. ``axes`` counts an axis whose scale is not 1 even where
    # its size is kept, as ORT's test of scales[1] does. Measured against onnxruntime 1.32:
    # tests/oracles/test_resize_oracles.py (half_pixel_symmetric's weights did not reproduce)
    if dtype not in ("int8", "uint8") or coordinate == "half_pixel_symmetric":
        return float_fallback(ctx, run_float, f"ONNX Runtime's bilinear resize on {dtype} codes with "
                                              f"{coordinate} is not modelled")
    if rank == 4 and set(axes) <= {2, 3} and ctx.target.resize.layout_pass == "nhwc_after_conv" \
            and _ort_runs_nhwc(ctx.graph, ctx.inputs[0].name):
        return _ort_transposed_linear(in_shape, out_shape, scales, coordinate)
    if rank == 2:
        layout, algorithm, hw = "nchw", "ort_float", (0, 1)
    elif rank == 4 and set(axes) <= {2, 3}:
        layout, algorithm, hw = "nchw", "ort_float", (2, 3)
    elif rank == 4 and set(axes) <= {1, 2}:
        layout, algorithm, hw = "nhwc", "ort_integer", (1, 2)
    else:
        return float_fallback(ctx, run_float, f"ONNX Runtime's bilinear resize of rank {rank} on axes {axes} "
                                              f"is not modelled")
    out_hw = (out_shape[hw[0]], out_shape[hw[1]])
    sc = (scales[hw[0]], scales[hw[1]])

    def run(inputs):
        x = inputs[0]
        if rank == 2:
            return [resize_bilinear(x.reshape((1, 1) + x.shape), out_hw, algorithm=algorithm, layout=layout,
                                    coordinate=coordinate, scales=sc).reshape(out_hw)]
        return [resize_bilinear(x, out_hw, algorithm=algorithm, layout=layout, coordinate=coordinate, scales=sc)]

    path = "UpsampleBilinear (float32 weights, truncation)" if algorithm == "ort_float" else \
        "NhwcUpsampleBilinearInteger (Q10 weights, truncation)"
    return Lowered(run, arithmetic=f"ONNX Runtime {path}")


#: Ops ONNX Runtime's transpose optimizer moves a layout Transpose through when the cost check
#: allows it (ort_transpose_optimization.cc handlers; the QLinear ops as the ONNX frontend names
#: them): one data input, and two (QLinearAdd, QLinearMul).
_ORT_ONE_INPUT_OPS = ("LeakyRelu", "Sigmoid", "AveragePool", "Resize")
_ORT_TWO_INPUT_OPS = ("Add", "Mul")


def _ort_always_pushed(node):
    """``OrtEPCostCheck``: an 8-bit MaxPool (-> NhwcMaxPool) and a linear Resize take the
    Transpose whatever the cost (the tensors here are the 8-bit codes of the integer graph)."""
    return node.op_type == "MaxPool" or (node.op_type == "Resize" and node.attrs.get("mode") == "linear")


def _ort_runs_nhwc(graph, name):
    """Whether ONNX Runtime at ``ORT_ENABLE_ALL`` holds tensor ``name`` of ``graph`` (an
    ``fxsim.ir.Graph``) in NHWC (a pushed Transpose after it). Its NHWC transformer makes each
    QLinearConv channels-last (a Transpose to NCHW after it, one to NHWC before it); the
    transpose optimizer then pushes a Transpose through a node when ``OrtEPCostCheck`` says so
    (MaxPool, linear Resize: always) or its default cost check does: with one rank unit per
    Transpose, the ones it removes from the node's inputs (-1 each), adds to its other inputs
    that are not initializers (+1 each; initializers are transposed in place) and adds to its
    output (+1) sum below 0, or to 0 with the output leading to a Transpose (a Conv reached
    through such nodes). Measured on Conv -> {LeakyRelu, Sigmoid, AveragePool, Add, Mul,
    MaxPool}* -> Resize -> {..., Conv} chains (tests/oracles/test_resize_oracles.py); other ops
    stop the Transpose here (not measured: the Resize keeps the model's layout)."""
    if graph is None:
        return False
    producers = {out: n for n in graph.nodes for out in n.outputs if out}
    consumers = {}
    for n in graph.nodes:
        for t in n.inputs:
            if t:
                consumers.setdefault(t, []).append(n)
    pushable = _ORT_ONE_INPUT_OPS + _ORT_TWO_INPUT_OPS

    def initializer(tensor):
        t = graph.tensors.get(tensor)
        return tensor not in producers and t is not None and t.value is not None

    def leads(tensor):
        for node in consumers.get(tensor, ()):
            if node.op_type == "Conv":
                return True
            if (node.op_type in pushable or _ort_always_pushed(node)) and node.outputs and leads(node.outputs[0]):
                return True
        return False

    memo = {}

    def carries(tensor):
        if tensor not in memo:
            memo[tensor] = False  # the graph is acyclic: this only guards the recursion
            memo[tensor] = pushed(producers.get(tensor))
        return memo[tensor]

    def pushed(node):
        if node is None:
            return False
        if node.op_type == "Conv":
            return True
        data = [t for t in node.inputs[:2 if node.op_type in _ORT_TWO_INPUT_OPS else 1] if t]
        if not any(carries(t) for t in data):
            return False
        if _ort_always_pushed(node):
            return True
        if node.op_type not in pushable:
            return False
        cost = 1 + sum(-1 if carries(t) else (0 if initializer(t) else 1) for t in data)
        return cost < 0 or (cost == 0 and leads(node.outputs[0]))

    return carries(name)


def _ort_transposed_linear(in_shape, out_shape, scales, coordinate):
    """An NCHW linear Resize that a Conv's layout Transpose reaches (``_ort_runs_nhwc``), as ONNX
    Runtime runs it at ``ORT_ENABLE_ALL`` (``resize.layout_pass = "nhwc_after_conv"``): the
    transpose optimizer pushes the Transpose through the Resize
    (``OrtEPCostCheck``: always for a 4-D u8/s8 linear Resize), which then sees (N, H, W, C) with
    scales (1, s_h, s_w, 1) and picks its kernel by that second scale: s_h != 1 ->
    NhwcUpsampleBilinearInteger on (H, W); s_h == 1 -> UpsampleBilinear on the last two axes
    (W, C), float32 weights."""
    from ..arith.resize import resize_bilinear
    from ._integer import Lowered

    s_h, s_w = scales[2], scales[3]
    if s_h != 1:
        out_hw, sc, algorithm, layout = (out_shape[2], out_shape[3]), (s_h, s_w), "ort_integer", "nhwc"
        path = "NhwcUpsampleBilinearInteger (Q10 weights, truncation)"
    else:
        out_hw, sc, algorithm, layout = (out_shape[3], in_shape[1]), (s_w, np.float32(1.0)), "ort_float", "nchw"
        path = "UpsampleBilinear on (W, C) (float32 weights, truncation)"

    def run(inputs):
        nhwc = np.ascontiguousarray(np.transpose(inputs[0], (0, 2, 3, 1)))
        y = resize_bilinear(nhwc, out_hw, algorithm=algorithm, layout=layout, coordinate=coordinate, scales=sc)
        return [np.ascontiguousarray(np.transpose(y, (0, 3, 1, 2)))]

    return Lowered(run, arithmetic=f"ONNX Runtime {path}, in NHWC after the Conv (its NHWC transformer)")


def _dequantized_linear_lowering(ctx):
    """A linear Resize of a QDQ group on a profile whose engine keeps such groups in float
    (``qdq.float_ops``): DequantizeLinear, the float32 ``UpsampleBilinear``, QuantizeLinear, as
    ONNX Runtime 1.32 runs it at every level (``fxsim.arith.resize.resize_bilinear_dequantized``;
    verified element for element, tests/oracles/test_ort_qlinear_ops.py). Other shapes of the
    float path (a Resize of other axes, half_pixel_symmetric) are not modelled: the float
    fallback, labelled."""
    from ..arith import Encoding
    from ..arith.resize import resize_bilinear_dequantized
    from ._integer import Lowered, float_fallback

    x, y = ctx.inputs[0], ctx.outputs[0]
    values = [None if op is None else op.value for op in ctx.inputs] + [None] * (4 - len(ctx.inputs))
    out_shape, scales = plan(ctx.attrs, tuple(x.shape), values[2], values[3])
    in_shape = list(x.shape)
    axes = _resized_axes(in_shape, out_shape, scales)
    coordinate = ctx.attrs.get("coordinate_transformation_mode", "half_pixel")
    encs = (x.encoding, y.encoding)
    if not all(isinstance(e, Encoding) and not e.is_per_channel and np.dtype(e.dtype).name in ("int8", "uint8")
               for e in encs) or np.dtype(x.encoding.dtype) != np.dtype(y.encoding.dtype):
        return float_fallback(ctx, run_float, "ONNX Runtime's float path of a QDQ Resize is modelled for "
                                              "per-tensor 8-bit encodings of one type")
    rank = len(in_shape)
    nchw = rank == 4 and set(axes) <= {2, 3}
    if coordinate == "half_pixel_symmetric" or ctx.fused_activation is not None or not (nchw or rank == 2):
        return float_fallback(ctx, run_float, f"ONNX Runtime's float path of a QDQ linear Resize of rank {rank} on "
                                              f"axes {axes} with {coordinate} is not modelled")
    # ORT_ENABLE_ALL's layout pass may move the float Resize to NHWC (a QLinearConv after it): its
    # float NHWC kernel gave the same codes on every element of 48 QDQ Conv -> Resize [-> Conv]
    # runs (u8 / s8, three coordinate modes, tests/oracles/test_ort_qlinear_ops.py), so the
    # layout does not change this path
    hw = (2, 3) if rank == 4 else (0, 1)
    out_hw = (out_shape[hw[0]], out_shape[hw[1]])
    sc = (scales[hw[0]], scales[hw[1]])
    enc_in, enc_out = encs

    def run(inputs):
        q = inputs[0]
        q4 = q if rank == 4 else q.reshape((1, 1) + q.shape)
        out = resize_bilinear_dequantized(q4, out_hw, enc_in, enc_out, coordinate=coordinate, scales=sc)
        return [out if rank == 4 else out.reshape(out_hw)]

    return Lowered(run, arithmetic="ONNX Runtime's float path of a QDQ Resize (DequantizeLinear, "
                                   "UpsampleBilinear<float>, QuantizeLinear)")


def lower_integer(ctx):
    """Nearest: an index map and a gather of codes; linear: the target's integer bilinear
    algorithm, or the float fallback (see the module docstring)."""
    from ..arith import Encoding
    from ._integer import Lowered, float_fallback

    x, y = ctx.inputs[0], ctx.outputs[0]
    if ctx.attrs.get("mode", "nearest") == "linear" and "Resize" in (ctx.target.qdq.float_ops or ()) \
            and ctx.graph is not None and ctx.node_name in ctx.graph.dequantized_nodes:
        return _dequantized_linear_lowering(ctx)
    if not isinstance(x.encoding, Encoding) or x.encoding != y.encoding or x.encoding.is_per_channel:
        return float_fallback(ctx, run_float, "input and output encodings differ (the engines resize codes "
                                              "without rescaling)")
    if ctx.fused_activation is not None:
        return float_fallback(ctx, run_float, "a fused activation on a resize")
    values = [None if op is None else op.value for op in ctx.inputs] + [None] * (4 - len(ctx.inputs))
    out_shape, scales = plan(ctx.attrs, tuple(x.shape), values[2], values[3])
    in_shape = list(x.shape)
    if tuple(out_shape) == tuple(in_shape):  # the same-shape rule (above original_coordinate)
        return Lowered(lambda inputs: [np.array(inputs[0])], kind="data_movement",
                       arithmetic="same-shape resize: the input copied (ONNX Runtime's rule)")
    if ctx.attrs.get("mode", "nearest") == "nearest":
        return _nearest_lowering(ctx, in_shape, out_shape, scales)
    return _linear_lowering(ctx, in_shape, out_shape, scales, np.dtype(x.encoding.dtype).name)
