"""PyTorch's quantized ops (FBGEMM engine) against the ``fbgemm`` / ``fbgemm-vnni`` profiles, from
the committed fixtures of ``tests/golden/pytorch`` (no torch needed; ``generate.py`` there
regenerates them with torch 2.13.0 CPU, provenance in ``provenance.json``).

Each case is a QDQ ONNX model written from the exact parameters PyTorch used (u8 activations,
s8 weights with per-tensor or per-channel zero points, float biases) and PyTorch's integer codes of
every tensor, on three paths of this AVX512-VNNI CPU: ``vnni`` (the ``fbgemm`` engine, FBGEMM's own
dispatch, ``vpdpbusd``) against ``fbgemm-vnni``, ``avx2`` (``FBGEMM_ENABLE_INSTRUCTIONS=AVX2``,
``vpmaddubsw``) against ``fbgemm``, and ``x86`` (the ``x86`` engine, PyTorch's default on x86,
which routes conv layers with all-zero weight zero points and at most 100 groups to oneDNN)
against ``pytorch_x86_engine.toml`` (``fbgemm-vnni`` plus that choice as a route,
``[routing.onednn]``); a realistic and a full-range (4x) input each. ``fbgemm-vnni`` itself
routes the depthwise layers of the shape FBGEMM's depthwise kernels take (``takeDepthWiseFastPath``)
to their tap pairs; other depthwise layers run FBGEMM's im2col GEMM.

``test_fbgemm_profiles`` runs ``fx.Simulator(fx.load(case.onnx), target=...)`` and requires every
element of every recorded tensor equal, the model input's quantization included; a mismatch
report names the tensor, the first differing element, both values and fxsim's accumulator there.
Tensors are compared in graph order and the report lists each differing one (a difference
upstream moves everything after it).

The rules are also proven separately, layer by layer from PyTorch's own input codes, by
``fbgemm_model`` (numpy): ``test_fbgemm_weighted_layer_rule`` (raw-code pairs, the profiles'
``raw_pair_saturate_16``) and ``test_pytorch_average_pool_rule``. What a profile cannot state is a
strict xfail (``KNOWN_GAPS``) with the measured numbers.
"""

import json
import pathlib

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import engines
import fbgemm_model
import fxsim as fx

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "golden" / "pytorch"
PROVENANCE = json.loads((FIXTURES / "provenance.json").read_text())
CASES = sorted(p.stem for p in FIXTURES.glob("*.onnx"))
#: kernel path -> the fxsim profile that models it
#: (the x86 engine: fbgemm-vnni, and oneDNN's exact sums for the layers its route selects)
PATH_TARGETS = {"vnni": "fbgemm-vnni", "avx2": "fbgemm", "x86": str(HERE / "pytorch_x86_engine.toml")}
KINDS = ("realistic", "full_range")

#: (case, path) -> measured reason (strict xfail). None left: the x86 engine's per-layer choice
#: between oneDNN and FBGEMM is the x86 profile's route (test_x86_engine_routes_by_weight_zero_points).
KNOWN_GAPS = {}


def _records(case, path):
    data = np.load(FIXTURES / f"{case}.{path}.npz")
    return {kind: {key.split("/", 1)[1]: data[key] for key in data.files if key.startswith(kind + "/")}
            for kind in KINDS}


def _params():
    out = []
    for case in CASES:
        for path in PATH_TARGETS:
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[case, path])] if (case, path) in KNOWN_GAPS else []
            out.append(pytest.param(case, path, marks=marks, id=f"{case}-{path}"))
    return out


def test_fixtures_are_complete_and_recorded():
    """Every case has its model and both paths' records, and the provenance names the engine,
    the version and the kernel path of each."""
    assert len(CASES) == 9
    for path, info in PROVENANCE["paths"].items():
        assert info["torch"].startswith("2.13.0") and info["engine"] == ("x86" if path == "x86" else "fbgemm"), info
        assert set(info["cases"]) == set(CASES)
    assert PROVENANCE["paths"]["avx2"]["fbgemm_enable_instructions"] == "AVX2"
    assert PROVENANCE["paths"]["x86"]["engine"] == "x86"
    assert "avx512_vnni" in PROVENANCE["cpu_flags"]
    for case in CASES:
        for path in PATH_TARGETS:
            rec = _records(case, path)
            assert rec["realistic"].keys() == rec["full_range"].keys() and "x_q" in rec["realistic"]


def test_paths_differ_where_pairs_saturate():
    """The two kernel paths are different engines: the AVX2 run differs from the VNNI run on the
    weighted layers (measured: conv_padding_strides conv1 3 of 1352 elements on the realistic
    input, 57 on the full-range one), so each profile is checked against its own path."""
    vnni, avx2 = _records("conv_padding_strides", "vnni"), _records("conv_padding_strides", "avx2")
    assert np.array_equal(vnni["realistic"]["x_q"], avx2["realistic"]["x_q"])
    assert int((vnni["realistic"]["conv1"] != avx2["realistic"]["conv1"]).sum()) == 3
    assert int((vnni["full_range"]["conv1"] != avx2["full_range"]["conv1"]).sum()) == 57


@pytest.mark.parametrize("case, path", _params())
def test_fbgemm_profiles(case, path):
    target = PATH_TARGETS[path]
    model = onnx.load(FIXTURES / f"{case}.onnx")
    order = ["x_q"] + [o.name for o in model.graph.output]
    problems = []
    for kind, rec in _records(case, path).items():
        names = [n for n in order if n in rec and n != "x"]
        assert len(names) == len(rec) - 1
        ours, sim = engines.run_fxsim(model, {"x": rec["x"]}, target, names)
        for name in names:
            a, b = np.asarray(ours[name]), rec[name]
            assert a.shape == b.shape and a.dtype == b.dtype, f"{case} {name}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
            difference = fx.diff({name: a}, {name: b})
            if difference is not None:
                problems.append(f"{kind} input: " + engines.describe_mismatch(name, difference, sim, "PyTorch"))
    assert not problems, f"{case} on FBGEMM's {path} path vs target {target}:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------- the rules, layer by layer


def _initializers(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def _weighted_layers(model):
    """(layer name, Conv / Gemm node, input tensor name, fused relu) of each weighted layer: the
    layer is the QuantizeLinear its output feeds, the input the QuantizeLinear its input came from."""
    producers = {o: n for n in model.graph.node for o in n.output}
    layers = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        src = producers[node.input[0]].input[0]  # DequantizeLinear(src)
        consumer = next(n for n in model.graph.node if node.output[0] in n.input)
        relu = consumer.op_type == "Relu"
        if relu:
            consumer = next(n for n in model.graph.node if consumer.output[0] in n.input)
        layers.append((consumer.output[0], node, src, relu))
    return layers


@pytest.mark.parametrize("path", list(PATH_TARGETS))
def test_fbgemm_weighted_layer_rule(path):
    """``fbgemm_model`` (raw-code products, depthwise tap pairs on every path, GEMM pairs on AVX2,
    float-bias lrintf requantization) reproduces every element of every conv and linear output of
    every case, both inputs, from PyTorch's own input codes; the exact int32 sum does not (the
    depthwise and AVX2 layers differ: the rule is not vacuous)."""
    checked, exact_differs = 0, 0
    for case in CASES:
        model = onnx.load(FIXTURES / f"{case}.onnx")
        inits = _initializers(model)
        for layer, node, src, relu in _weighted_layers(model):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            w = inits[f"{layer}_w"]
            w_zp = inits[f"{layer}_w_zp"]
            for kind, rec in _records(case, path).items():
                x, y = rec[src], rec[layer]
                x_zp = int(inits[f"{src}_zp"])
                for gemm in (("pairs" if path == "avx2" else "exact"), "exact_everywhere"):
                    if node.op_type == "Conv":
                        args = dict(stride=attrs["strides"][0], pads=tuple(attrs["pads"]), dilation=attrs["dilations"][0],
                                    groups=attrs["group"])
                        if gemm == "exact_everywhere":
                            acc = _exact_conv(x, w, x_zp, w_zp, **args)
                        else:
                            pairs = fbgemm_model.depthwise_pairs(path, w_zp, w.shape[0], x.shape[1], **args)
                            acc = fbgemm_model.conv_accumulators(x, w, x_zp, w_zp, gemm=gemm, depthwise_pairs=pairs,
                                                                 **args)
                    else:
                        acc = fbgemm_model.linear_accumulators(x, w, x_zp, w_zp,
                                                               gemm="exact" if gemm == "exact_everywhere" else gemm)
                    codes = fbgemm_model.requantize_float_bias(acc, inits[f"{layer}_b"], inits[f"{src}_scale"],
                                                               inits[f"{layer}_w_scale"], inits[f"{layer}_scale"],
                                                               int(inits[f"{layer}_zp"]), relu)
                    differ = int((codes != y).sum())
                    if gemm == "exact_everywhere":
                        exact_differs += differ
                        continue
                    first = tuple(int(i) for i in np.argwhere(codes != y)[0]) if differ else None
                    assert differ == 0, (f"{case} {layer} ({path}, {kind}): {differ} of {y.size} differ, first at {first}: "
                                         f"model {codes[first]}, PyTorch {y[first]}, accumulator {acc[first]}")
                    checked += y.size
    assert checked > 20000 and exact_differs > 0, (checked, exact_differs)


def _exact_conv(x, w, x_zp, w_zp, stride, pads, dilation, groups):
    """The exact int32 accumulators ``sum (x - x_zp)(w - w_zp)`` (no pair saturation anywhere)."""
    oc = w.shape[0]
    wz = np.broadcast_to(np.asarray(w_zp, np.int64).reshape(-1), (oc,))
    w_corr = np.asarray(w, np.int64) - wz[:, None, None, None]
    patches = fbgemm_model._patches(np.asarray(x, np.int64) - x_zp, w.shape[2], w.shape[3], stride, pads, dilation, 0)
    cpg, per_group = w.shape[1], oc // groups
    return np.stack([np.einsum("ncyxhw,chw->nyx", patches[:, (o // per_group) * cpg:(o // per_group + 1) * cpg],
                               w_corr[o]) for o in range(oc)], axis=1)


@pytest.mark.parametrize("path", list(PATH_TARGETS))
def test_pytorch_average_pool_rule(path):
    """``fbgemm_model.average_pool_same_encoding`` (half-even mean of the raw codes) and fxsim's
    kernel ``fxsim.arith.pooling.avg_pool2d(method="pytorch")`` (the ``fbgemm`` profiles'
    ``round_half_even_div``) reproduce both average pools of the pooling case on every element,
    both inputs; rounding ``mean - zp`` half to even instead (what a dequantize -> mean ->
    quantize computes) does not."""
    from fxsim.arith import pooling
    model = onnx.load(FIXTURES / "pooling.onnx")
    nodes = {n.output[0]: n for n in model.graph.node}
    zp = int(_initializers(model)["conv_zp"])
    assert zp % 2 == 1  # odd: the two roundings differ on ties
    shifted_differs = 0
    for rec in _records("pooling", path).values():
        for name, src in (("avg_incl", "conv"), ("avg_excl", "avg_incl")):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in nodes[f"{name}_averagepool"].attribute}
            args = (attrs["kernel_shape"][0], attrs["strides"][0], tuple(attrs["pads"]), bool(attrs["count_include_pad"]))
            ours = fbgemm_model.average_pool_same_encoding(rec[src], zp, *args)
            assert np.array_equal(ours, rec[name]), name
            enc = fx.Encoding.from_zero_point(float(_initializers(model)["conv_scale"]), zp, "uint8")
            kernel = pooling.avg_pool2d(rec[src], enc, args[0], args[1], args[2], "pytorch", count_include_pad=args[3])
            assert np.array_equal(kernel, rec[name]), name
            shifted = fbgemm_model.average_pool_same_encoding(rec[src].astype(np.int64) - zp, 0, *args) + zp
            shifted_differs += int((shifted != rec[name]).sum())
    assert shifted_differs > 0


def test_pytorch_mean_rule():
    """``fbgemm_model.spatial_mean`` (fma dequantize, float32 sum in order, reciprocal quantize) and
    fxsim's ``global_average_pool(method="pytorch")`` (the ReduceMean lowering of the ``fbgemm``
    profiles) reproduce every quantized mean of the fixtures (pooling and MobileNet stack, every
    path, both inputs) from PyTorch's input codes; dequantizing as ``(code - zp) * s`` instead (one
    rounding of the exact difference, what fxsim's float fallback did) misses two of them
    (measured: pooling on the vnni path, the MobileNet stack on the x86 path, one element each)."""
    from fxsim.arith import pooling

    plain_differs = 0
    for case, src, dst in (("pooling", "max", "mean"), ("mobilenet_stack", "pw3", "pool")):
        inits = _initializers(onnx.load(FIXTURES / f"{case}.onnx"))
        scale, zp = inits[f"{dst}_scale"], int(inits[f"{dst}_zp"])
        for path in PATH_TARGETS:
            for rec in _records(case, path).values():
                assert np.array_equal(fbgemm_model.spatial_mean(rec[src], scale, zp), rec[dst]), (case, path)
                enc = fx.Encoding.from_zero_point(float(scale), zp, "uint8")
                assert np.array_equal(pooling.global_average_pool(rec[src], enc, enc, "pytorch"), rec[dst]), (case, path)
                x = rec[src].astype(np.int64)
                values = ((x - zp).astype(np.float32) * np.float32(scale)).reshape(x.shape[0], x.shape[1], -1)
                total = np.zeros(values.shape[:2], np.float32)
                for i in range(values.shape[2]):
                    total = np.add(total, values[:, :, i], dtype=np.float32)
                mean = np.divide(total, np.float32(values.shape[2]), dtype=np.float32)
                codes = np.rint(mean * (np.float32(1) / np.float32(scale))).astype(np.int64) + zp
                plain_differs += int((np.clip(codes, 0, 255).reshape(rec[dst].shape) != rec[dst]).sum())
    assert plain_differs == 2


# ---------------------------------------------------------------- the x86 engine's routing


def test_x86_engine_routes_by_weight_zero_points():
    """PyTorch's x86 engine picks the kernel library per conv layer
    (``qconv_prepack.cpp`` -> ``onednn_utils::should_use_onednn_quant``): oneDNN, which sums
    exactly, when every weight zero point is 0 and groups <= 100 (on Linux with AVX512-VNNI),
    FBGEMM otherwise. The depthwise case has one layer of each kind (dw1: zero points 0, dw2:
    -2/0/2), and only the routed profile reproduces both: FBGEMM everywhere (``fbgemm-vnni``)
    misses dw1 (measured: 16 of 800 elements on the realistic input, 55 on the full-range one),
    exact depthwise sums everywhere (the former x86 profile) miss dw2 (5 of 400, full range)."""
    model = onnx.load(FIXTURES / "depthwise.onnx")
    everywhere_exact = HERE / "pytorch_x86_engine.toml"
    import dataclasses

    from fxsim.targets import load_target
    from fxsim.targets.target import FrozenMap

    routed = load_target(everywhere_exact)
    assert routed.routing["onednn"].weight_zero_points == "all_zero" and routed.routing["onednn"].max_groups == 100
    exact_depthwise = dataclasses.replace(
        routed, routing=FrozenMap(), overrides=FrozenMap({"depthwise_conv2d": routed.overrides["onednn"]}))
    counts = {}
    for target, label in ((routed, "routed"), ("fbgemm-vnni", "fbgemm"), (exact_depthwise, "exact")):
        for kind, rec in _records("depthwise", "x86").items():
            ours, _ = engines.run_fxsim(model, {"x": rec["x"]}, target, ["dw1", "dw2"])
            counts[label, kind] = tuple(int((np.asarray(ours[n]) != rec[n]).sum()) for n in ("dw1", "dw2"))
    assert counts["routed", "realistic"] == counts["routed", "full_range"] == (0, 0), counts
    assert counts["fbgemm", "realistic"][0] == 16 and counts["fbgemm", "full_range"][0] == 55, counts
    assert counts["exact", "realistic"] == (0, 0) and counts["exact", "full_range"] == (0, 5), counts


def _depthwise_model(channels, weight_zero_points, seed):
    """One QDQ depthwise 3x3 conv (u8 input zero point 100, scale 1/8; s8 per-channel weights
    with ``weight_zero_points``; float bias; u8 output), and its weight codes and parameters."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    w = rng.integers(-128, 128, (channels, 1, 3, 3)).astype(np.int8)
    w_scale = (rng.uniform(0.5, 1.5, channels) / 256).astype(np.float32)
    bias = rng.uniform(-1, 1, channels).astype(np.float32)
    zps = np.asarray(weight_zero_points, np.int8)
    inits = [numpy_helper.from_array(np.float32(0.125), "x_scale"), numpy_helper.from_array(np.uint8(100), "x_zp"),
             numpy_helper.from_array(w, "w"), numpy_helper.from_array(w_scale, "w_scale"),
             numpy_helper.from_array(zps, "w_zp"), numpy_helper.from_array(bias, "b"),
             numpy_helper.from_array(np.float32(0.5), "y_scale"), numpy_helper.from_array(np.uint8(128), "y_zp")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["x_q"]),
             helper.make_node("DequantizeLinear", ["x_q", "x_scale", "x_zp"], ["x_dq"]),
             helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zp"], ["w_dq"], axis=0),
             helper.make_node("Conv", ["x_dq", "w_dq", "b"], ["conv"], group=channels, kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("QuantizeLinear", ["conv", "y_scale", "y_zp"], ["y"])]
    graph = helper.make_graph(nodes, "depthwise", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                 [1, channels, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.UINT8, [1, channels, 6, 6])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return model, w, zps, w_scale, bias


@pytest.mark.parametrize("channels, asymmetric, pairs", [
    (8, False, False),    # every weight zero point 0, 8 groups: oneDNN (exact sums)
    (8, True, True),      # one non-zero weight zero point: FBGEMM's depthwise kernel (raw tap pairs)
    (100, False, False),  # groups == 100: still oneDNN
    (104, False, True),   # groups > 100: FBGEMM even with zero points 0; 104 % 8 == 0: its depthwise kernel
    (101, False, False),  # groups > 100 and 101 % 8 != 0: FBGEMM's im2col GEMM, exact with VNNI
])
def test_x86_route_on_one_depthwise_layer(channels, asymmetric, pairs):
    """The routes of ``pytorch_x86_engine.toml`` (oneDNN) and of ``fbgemm-vnni`` (FBGEMM's
    depthwise kernel) on one depthwise layer, against ``fbgemm_model`` (tap pairs or the exact
    sum, then the float-bias requantization): inputs at the ends of the u8 range make the tap
    pairs saturate, so the kernels give different codes and the test sees which one the profile
    picked (the other is checked to differ)."""
    zps = np.zeros(channels, np.int64)
    if asymmetric:
        zps[1] = 3
    model, w, zps, w_scale, bias = _depthwise_model(channels, zps, seed=channels)
    rng = np.random.default_rng(channels + 1)
    x_q = rng.choice(np.array([0, 1, 254, 255]), (1, channels, 6, 6))
    x = ((x_q - 100) * 0.125).astype(np.float32)  # exact: the input quantizes back to x_q
    ours, _ = engines.run_fxsim(model, {"x": x}, str(HERE / "pytorch_x86_engine.toml"), ["y"])
    codes = {}
    for paired in (False, True):
        acc = fbgemm_model.conv_accumulators(x_q, w, 100, zps, pads=(1, 1, 1, 1), groups=channels,
                                             gemm="exact", depthwise_pairs=paired)
        codes[paired] = fbgemm_model.requantize_float_bias(acc, bias, np.float32(0.125), w_scale, np.float32(0.5),
                                                          128, False)
    assert np.array_equal(ours["y"], codes[pairs])
    assert not np.array_equal(codes[True], codes[False])  # the two kernels differ on this input


def test_x86_engine_routes_by_group_count():
    """The depthwise_groups case (every weight zero point 0): on the x86 engine the 96-group layer
    sums exactly (oneDNN, groups <= 100) and the 104-group one pairs taps (FBGEMM); FBGEMM's
    101-group layer is outside its depthwise kernels' shape (101 % 8 != 0) and runs the im2col
    GEMM, exact with VNNI, on the vnni and x86 paths. Each rule is needed (measured, realistic
    input): without the group limit (oneDNN for every symmetric layer) dw104 misses 36 of 3,744
    elements on the x86 path; with FBGEMM's tap pairs for every depthwise layer (no shape
    condition) dw101 misses 25 of 3,636 on the vnni path."""
    import dataclasses

    from fxsim.targets import Route, load_target
    from fxsim.targets.target import FrozenMap

    model = onnx.load(FIXTURES / "depthwise_groups.onnx")
    x86 = load_target(PATH_TARGETS["x86"])
    vnni = load_target("fbgemm-vnni")
    no_limit = dataclasses.replace(x86, routing=FrozenMap(
        {**x86.routing, "onednn": dataclasses.replace(x86.routing["onednn"], max_groups=None)}))
    every_depthwise = dataclasses.replace(vnni, routing=FrozenMap(
        {"fbgemm_depthwise_kernel": Route(ops=("depthwise_conv2d",))}))
    counts = {}
    for label, target, path in (("x86", x86, "x86"), ("no_limit", no_limit, "x86"), ("vnni", vnni, "vnni"),
                                ("every_depthwise", every_depthwise, "vnni")):
        rec = _records("depthwise_groups", path)["realistic"]
        ours, _ = engines.run_fxsim(model, {"x": rec["x"]}, target, ["dw104", "dw96", "dw101"])
        counts[label] = tuple(int((np.asarray(ours[n]) != rec[n]).sum()) for n in ("dw104", "dw96", "dw101"))
    assert counts["x86"] == counts["vnni"] == (0, 0, 0), counts
    assert counts["no_limit"][0] == 36 and counts["every_depthwise"][2] == 25, counts
