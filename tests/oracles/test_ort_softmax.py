"""ONNX Runtime's QLinearSoftmax (``com.microsoft``) as the oracle of ``fxsim.arith.ort_softmax``
and of the ``onnxruntime`` profiles' ``softmax = "ort_lookup"``.

One-op models on drawn codes (u8 and s8, opsets 12 and 13, every axis, reduced lengths from 1,
blocks of 16 and tails, every zero point kind, output scale 1/256 and others) run in ORT's CPU
provider; fxsim must give the same codes on every element. Measured on onnxruntime 1.32.0 (AMD
EPYC, avx2 / avx512_vnni): identical on all of them.
"""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import fxsim as fx
from fxsim.arith.ort_softmax import qlinear_softmax


def _session(signed, x_scale, x_zp, y_scale, y_zp, shape, axis, opset):
    elem = TensorProto.INT8 if signed else TensorProto.UINT8
    node = helper.make_node("QLinearSoftmax", ["x", "xs", "xz", "ys", "yz"], ["y"], domain="com.microsoft", axis=axis,
                            opset=opset)
    graph = helper.make_graph(
        [node], "qlinear_softmax", [helper.make_tensor_value_info("x", elem, shape)],
        [helper.make_tensor_value_info("y", elem, None)],
        [helper.make_tensor("xs", TensorProto.FLOAT, [], [x_scale]), helper.make_tensor("xz", elem, [], [x_zp]),
         helper.make_tensor("ys", TensorProto.FLOAT, [], [y_scale]), helper.make_tensor("yz", elem, [], [y_zp])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19), helper.make_opsetid("com.microsoft", 1)])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _encoding(scale, zp, signed):
    return fx.Encoding(scale, -zp - 128 if signed else -zp, 8, signed=signed)


@pytest.mark.parametrize("signed", [False, True], ids=["u8", "s8"])
def test_qlinear_softmax_equals_onnxruntime(signed):
    rng = np.random.default_rng(7 + signed)
    lo, hi = (-128, 128) if signed else (0, 256)
    compared = saturated = 0
    for trial in range(120):
        shape = [int(rng.integers(1, 3)), int(rng.choice([1, 3, 16, 19, 40])), int(rng.integers(1, 5))]
        axis = int(rng.integers(-3, 3))
        opset = 12 if trial % 3 == 0 else 13
        x_scale = float(np.float32(rng.uniform(0.005, 0.5)))
        y_scale = float(np.float32(1 / 256 if trial % 2 else rng.uniform(0.001, 0.02)))
        x_zp, y_zp = int(rng.integers(lo, hi)), int(lo if trial % 4 else rng.integers(lo, hi))
        x = rng.integers(lo, hi, shape).astype(np.int8 if signed else np.uint8)
        theirs = _session(signed, x_scale, x_zp, y_scale, y_zp, shape, axis, opset).run(None, {"x": x})[0]
        ours = qlinear_softmax(x, _encoding(x_scale, x_zp, signed), _encoding(y_scale, y_zp, signed), axis,
                               coerce_to_2d=opset < 13)
        assert ours.dtype == theirs.dtype
        first = np.argwhere(ours != theirs)
        assert not first.size, (f"trial {trial} shape {shape} axis {axis} opset {opset} scales {x_scale}, {y_scale} zps "
                                f"{x_zp}, {y_zp}: first differing element {tuple(first[0])}: fxsim "
                                f"{ours[tuple(first[0])]}, ORT {theirs[tuple(first[0])]}")
        compared += x.size
        saturated += int((theirs == (127 if signed else 255)).sum())
    assert compared > 5000 and saturated > 0, (compared, saturated)


def test_onnxruntime_profile_runs_softmax_with_orts_algorithm():
    """A QOperator model's QLinearSoftmax through ``fx.load`` and the ``onnxruntime`` profile gives
    ORT's codes (the lowering reaches ``ort_lookup``, not the float fallback, which differs here: the
    output scale 0.003 enters ORT's kernel as floor(1 / 0.003) = 333)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (2, 40)).astype(np.uint8)
    session = _session(False, 0.2, 100, 0.003, 0, [2, 40], -1, 13)
    node = helper.make_node("QLinearSoftmax", ["x", "xs", "xz", "ys", "yz"], ["y"], domain="com.microsoft", axis=-1,
                            opset=13)
    graph = helper.make_graph(
        [node], "m", [helper.make_tensor_value_info("x", TensorProto.UINT8, [2, 40])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, [2, 40])],
        [helper.make_tensor("xs", TensorProto.FLOAT, [], [0.2]), helper.make_tensor("xz", TensorProto.UINT8, [], [100]),
         helper.make_tensor("ys", TensorProto.FLOAT, [], [0.003]), helper.make_tensor("yz", TensorProto.UINT8, [], [0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19), helper.make_opsetid("com.microsoft", 1)])
    theirs = session.run(None, {"x": x})[0]
    ours = fx.Simulator(fx.load(model), target="onnxruntime-vnni").run({"x": x})["y"]
    assert np.array_equal(ours, theirs)
    fallback = fx.Simulator(fx.load(model), target="onnx-reference").run({"x": x})["y"]
    assert not np.array_equal(fallback, theirs)


@pytest.mark.xfail(strict=True, reason=(
    "found by the QDQ s8-to-u8 probes (one element in 14,400): x codes [158, 75, 194, 0] (u8, scale "
    "0.01516697, zero point 95), y scale 1/256 zero point 0, reduced length 4 (all in MLAS's scalar tail): "
    "t * scale is 142.5 in float32 (142.50000214 exactly), fxsim rounds it half even to 142, ORT gives 143 "
    "(and 15 for the same row in s8, where fxsim gives 14). Not explained by the sum order (every order and "
    "association of the four terms gives 142.5), an fma or the tail's nearbyintf (the exact value is "
    "142.4999965); other exact float32 ties of the model go either way in ORT, in the vector part too "
    "(208.5 -> 209, -123.5 -> -123, 109.5 -> 109 in a tail): ORT's t * scale is not the model's on ties"))
def test_qlinear_softmax_tail_tie():
    """A measured QLinearSoftmax difference, kept as a strict xfail until it is explained."""
    x = np.array([[158, 75, 194, 0]], np.uint8)
    sess = _session(False, 0.01516697, 95, 1 / 256, 0, [1, 4], -1, 13)
    theirs = sess.run(None, {"x": x})[0]
    ours = qlinear_softmax(x, _encoding(0.01516697, 95, False), _encoding(1 / 256, 0, False), -1)
    assert np.array_equal(ours, theirs), (ours, theirs)


def test_unfused_qdq_softmax_runs_the_float_path():
    """At ORT_DISABLE_ALL / ORT_ENABLE_BASIC ORT leaves a QDQ Softmax unfused: DequantizeLinear ->
    float Softmax -> QuantizeLinear, not QLinearSoftmax's table algorithm (whose
    ``floor(1 / y_scale)`` factor moves codes when the output scale is not 1/256). The golden and
    live oracle tests compare such runs with ``engines.unfused_target`` (the profile with softmax
    as ``float_fallback``) under the one-code float-path bound. Pinned on one-op s8 QDQ models
    with drawn output scales in (0.5/255, 1/255): the float path's codes are within one code of
    ORT's (measured: equal on all 6,400 elements of 40 models), the fused algorithm's are not
    equal (measured: 365 elements one code apart)."""
    import engines
    from test_ort_qdq_s8_to_u8 import _qdq_model

    rng = np.random.default_rng(2)
    worst, differing = {}, {}
    for _ in range(40):
        ys = np.float32(rng.uniform(0.5, 1.0) / 255)
        model = _qdq_model("Softmax", 1, {"axis": 1}, [np.float32(rng.uniform(0.02, 0.1))],
                           [int(rng.integers(-60, 60))], ys, -128, (1, 10, 4, 4))
        feeds = {"x0": rng.uniform(-4, 4, (1, 10, 4, 4)).astype(np.float32)}
        theirs, ran = engines.run_ort(model, feeds, "disable_all")
        assert "Softmax" in ran and "QLinearSoftmax" not in ran, ran
        fused = engines.ort_target()
        for label, target in (("fused", fused), ("unfused", engines.unfused_target(fused, ran))):
            ours, _ = engines.run_fxsim(model, feeds, target)
            steps = np.abs(np.rint(ours["y"].astype(np.float64) / ys) - np.rint(theirs["y"].astype(np.float64) / ys))
            worst[label] = max(worst.get(label, 0), int(steps.max()))
            differing[label] = differing.get(label, 0) + int((steps > 0).sum())
    assert worst["unfused"] <= 1 and differing["fused"] > differing["unfused"], (worst, differing)
    assert differing["unfused"] == 0 and differing["fused"] > 0, differing  # measured: 0 and 365
