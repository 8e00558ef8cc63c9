"""Conv, ConvTranspose, Gemm and MatMul lower to one fused kernel call per node
(``_kernels.conv2d_requantize`` / ``matmul_requantize``) on every built-in target whose rescale
is a kernel method, and the codes equal the unfused lowering (``*_accumulate`` then
``_integer.Rescale``, which the comparison's statistics run uses) bit for bit: per-tensor and
per-channel weights, a fused Relu narrowing the clamp, the zp_in_bias output stage (htp), the
float32 and fixed-point methods of each target. The unfused path is itself tested against
exact integer definitions and engines elsewhere (tests/ops, tests/oracles)."""

import numpy as np
import pytest

import fxsim as fx
from fxsim import _kernels
from model_builders import one_op_model
from sim_helpers import minmax_encodings

TARGETS = list(fx.targets.list_targets())


def _cases(rng):
    x4 = rng.standard_normal((1, 6, 9, 8)).astype(np.float32)
    return {
        "conv": ("Conv", [("x", x4), ("w", None), ("b", None)], {"pads": [1, 1, 1, 1]},
                 {"w": (rng.standard_normal((5, 6, 3, 3)) * 0.3).astype(np.float32),
                  "b": (rng.standard_normal(5) * 0.2).astype(np.float32)}, 0),
        "depthwise_stride2": ("Conv", [("x", x4), ("w", None)], {"group": 6, "strides": [2, 2],
                                                                  "pads": [0, 1, 1, 0]},
                              {"w": (rng.standard_normal((6, 1, 3, 3)) * 0.5).astype(np.float32)}, 0),
        "conv_transpose": ("ConvTranspose", [("x", x4), ("w", None), ("b", None)], {"strides": [2, 2]},
                           {"w": (rng.standard_normal((6, 3, 3, 3)) * 0.3).astype(np.float32),
                            "b": (rng.standard_normal(3) * 0.1).astype(np.float32)}, 1),
        "gemm": ("Gemm", [("a", rng.standard_normal((4, 20)).astype(np.float32)), ("w", None), ("b", None)],
                 {"transB": 1}, {"w": (rng.standard_normal((7, 20)) * 0.3).astype(np.float32),
                                 "b": (rng.standard_normal(7) * 0.2).astype(np.float32)}, 0),
        "matmul_weight": ("MatMul", [("a", rng.standard_normal((2, 3, 20)).astype(np.float32)), ("w", None)], {},
                          {"w": (rng.standard_normal((20, 9)) * 0.3).astype(np.float32)}, 1),
        "matmul_activations": ("MatMul", [("a", rng.standard_normal((2, 5, 16)).astype(np.float32)),
                                          ("b2", rng.standard_normal((2, 16, 6)).astype(np.float32))], {}, {}, None),
    }


CASE_NAMES = list(_cases(np.random.default_rng(0)))


def _simulator(name, target, per_channel):
    rng = np.random.default_rng(CASE_NAMES.index(name) + 7)
    op, inputs, attrs, constants, axis = _cases(rng)[name]
    model, feeds = one_op_model(op, inputs, attrs, constants=constants)
    graph = fx.load(model)
    encs = minmax_encodings(graph, [feeds])
    if per_channel and axis is not None:
        w = constants["w"]
        reduce = tuple(i for i in range(w.ndim) if i != axis)
        absmax = np.abs(w).max(axis=reduce)
        encs["w"] = fx.Encoding.per_channel(absmax / 127, np.full(absmax.size, -128), axis=axis, signed=True)
    try:
        sim = fx.Simulator(graph, encs, target=target, adapt=True)
    except fx.FxsimError as error:  # a target that cannot take these encodings at all
        pytest.skip(f"{target}: {error}")
    return sim, feeds


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("per_channel", [False, True])
def test_fused_call_equals_the_unfused_lowering(target, name, per_channel, monkeypatch):
    sim, feeds = _simulator(name, target, per_channel)
    (low,) = sim.lowerings
    if low.kind != "integer":
        pytest.skip(f"{target} runs {name} as {low.kind}")
    low.stats["record"] = True  # the accumulator array is needed: accumulate, then Rescale
    unfused = sim.run(feeds)
    assert "acc_absmax" in low.stats
    low.stats.clear()
    low.stats["record"] = False
    calls = []
    for kernel in ("conv2d_accumulate", "matmul_accumulate"):
        original = getattr(_kernels, kernel)
        monkeypatch.setattr(_kernels, kernel, lambda *a, _o=original, _k=kernel: calls.append(_k) or _o(*a))
    fused = sim.run(feeds)
    for key in unfused:
        assert fused[key].dtype == unfused[key].dtype
        assert np.array_equal(fused[key], unfused[key]), key
    if low.info["fused_kernel"]:
        assert calls == [], f"{target} {name}: the fused run still called {calls}"
    else:  # the exact rational rescale or FBGEMM's float bias: accumulate, then Rescale in Python
        assert calls, f"{target} {name}"


def test_fused_relu_clamp_and_zp_in_bias():
    """A Conv + Relu on htp (output stage zp_in_bias: the zero point folded into the accumulator
    as an int64 offset) and on tflite-int8 (the Relu as the clamp [zp, qmax]): fused == unfused,
    and the Relu really narrows the codes."""
    rng = np.random.default_rng(3)
    from onnx import helper, numpy_helper
    x = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    w = (rng.standard_normal((8, 4, 3, 3)) * 0.4).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "conv_relu", [helper.make_tensor_value_info("x", 1, list(x.shape))],
                              [helper.make_tensor_value_info("y", 1, None)], [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    g = fx.load(model)
    encs = minmax_encodings(g, [{"x": x}])
    for target in ("htp", "tflite-int8"):
        sim = fx.Simulator(g, encs, target=target, adapt=True)
        conv = [low for low in sim.lowerings if low.kind == "integer"][0]
        conv.stats["record"] = True
        unfused = sim.run({"x": x})
        conv.stats["record"] = False
        fused = sim.run({"x": x})
        (key,) = fused
        assert np.array_equal(fused[key], unfused[key]), target
        assert fused[key].min() >= int(sim.encodings[key].zero_point), target


@pytest.mark.parametrize("name", ["conv", "depthwise_stride2", "conv_transpose", "gemm", "matmul_weight"])
@pytest.mark.parametrize("signed", [True, False], ids=["s4", "u4"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_int4_weights_reach_the_kernel_packed_two_to_a_byte(name, signed, per_channel, monkeypatch):
    """4-bit weights are handed to the packed-weights object as pack_int4 bytes and unpacked in
    its ``from_int4`` constructor (issue 3: int4 weights unpacked inside the kernel); the codes
    equal those of the same weights packed from their unpacked int8 / uint8 codes."""
    from fxsim.ops import _integer

    rng = np.random.default_rng(CASE_NAMES.index(name) + 40)
    op, inputs, attrs, constants, axis = _cases(rng)[name]
    model, feeds = one_op_model(op, inputs, attrs, constants=constants)
    graph = fx.load(model)
    encs = minmax_encodings(graph, [feeds])
    w = constants["w"]
    reduce = tuple(i for i in range(w.ndim) if i != axis)
    absmax = np.abs(w).max(axis=reduce) if per_channel else np.array([np.abs(w).max()])
    # offsets in DESIGN.md's sign (unsigned domain): -8 is symmetric s4 / zero point 8 on u4; a
    # per-tensor u4 puts its zero point at the range's end (15: every weight code <= 15)
    offsets = np.full(absmax.size, -8 if signed or per_channel else -15)
    scales = absmax / (7 if signed or per_channel else 15)
    encs["w"] = (fx.Encoding.per_channel(scales, offsets, axis=axis, bitwidth=4, signed=signed) if per_channel
                 else fx.Encoding(float(scales[0]), int(offsets[0]), 4, signed=signed))
    packed_calls = []
    original_pack_int4 = _integer.pack_int4
    monkeypatch.setattr(_integer, "pack_int4", lambda *a, **k: packed_calls.append(1) or original_pack_int4(*a, **k))
    sim = fx.Simulator(graph, encs, target="onnxruntime-vnni", adapt=True)
    (low,) = sim.lowerings
    assert low.kind == "integer", low.kind
    codes = low.info["weight_codes"]
    assert codes.dtype == (np.int8 if signed else np.uint8)
    assert codes.min() >= (-8 if signed else 0) and codes.max() <= (7 if signed else 15)
    assert len(np.unique(codes)) > 8  # the weights use the 4-bit range, not a corner of it
    assert packed_calls, "the 4-bit weights did not go through pack_int4 / from_int4"
    from_bytes = sim.run(feeds)

    original_pack = _integer.WeightedLowering.pack

    def pack_unpacked_codes(self, layout):  # the same weights handed over as int8 / uint8 codes
        self.weight_bitwidth = 8
        return original_pack(self, layout)

    monkeypatch.setattr(_integer.WeightedLowering, "pack", pack_unpacked_codes)
    packed_calls.clear()
    from_codes = fx.Simulator(graph, encs, target="onnxruntime-vnni", adapt=True).run(feeds)
    assert not packed_calls
    for key in from_bytes:
        assert np.array_equal(from_bytes[key], from_codes[key]), key
