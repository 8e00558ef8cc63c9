"""ONNX Runtime's QDQ s8-to-u8 rewrite as the ``onnxruntime`` profiles state it (``qdq.s8_pairs =
"as_u8"``), on one-op QDQ models run live in ORT's CPU provider at ``ORT_ENABLE_EXTENDED``.

The rule (onnxruntime/core/optimizer/qdq_transformer/qdq_s8_to_u8.cc, after
ensure_unique_dq_for_node_unit.cc): a QuantizeLinear -> DequantizeLinear pair of s8 codes whose
QuantizeLinear output has one consuming edge and is not a graph output, whose DequantizeLinear
output has at most one consuming edge (none if it is a graph output), with equal scalar constant
zero points, is retyped as u8 with the zero point + 128 before the QDQ groups are fused into
QLinear kernels. fxsim's ONNX frontend records those pairs (``graph.qdq_pairs``); the simulator
runs a node whose every 8-bit activation is one of them on u8 codes.

What each test pins: which pairs are rewritten (fxsim's set, and the u8 zero point ORT's fused
kernel reads); that QLinearAveragePool, whose float32 expression holds the zero point
(contrib_ops/cpu/quantization/qlinear_pool.cc: ``nearbyintf(y / y_scale + y_zero_point)``), gives
ORT's codes only with the rule; and that the other QLinear kernels a QDQ model fuses to
(QLinearGlobalAveragePool, QLinearAdd, QLinearMul, QLinearSigmoid, QLinearConcat) give ORT's codes
under the rule as well (measured on onnxruntime 1.32.0, AMD EPYC avx2 / avx512_vnni: for these
the s8 expression gives the same codes on the drawn cases: they add the zero point in integers,
or the float rounding it could move was not hit; QLinearMul adds it in float before the rounding,
qlmul.cpp, so an s8 tie could move: not hit here).
"""

import dataclasses
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import engines
import fxsim as fx
from fxsim.targets import load_target
from fxsim.targets.target import QDQ


def _qdq_model(op, inputs, attrs, scales, zero_points, out_scale, out_zp, shape, fanout=False):
    """``x0 [, x1] -> QuantizeLinear -> DequantizeLinear -> op -> QuantizeLinear -> DequantizeLinear
    -> y`` with s8 codes; ``fanout``: the first DequantizeLinear also feeds a second op (output y2)."""
    inits, nodes, dq = [], [], []
    for i in range(inputs):
        inits += [numpy_helper.from_array(np.float32(scales[i]), f"s{i}"),
                  numpy_helper.from_array(np.int8(zero_points[i]), f"z{i}")]
        nodes += [helper.make_node("QuantizeLinear", [f"x{i}", f"s{i}", f"z{i}"], [f"x{i}_q"]),
                  helper.make_node("DequantizeLinear", [f"x{i}_q", f"s{i}", f"z{i}"], [f"x{i}_dq"])]
        dq.append(f"x{i}_dq")
    inits += [numpy_helper.from_array(np.float32(out_scale), "so"), numpy_helper.from_array(np.int8(out_zp), "zo")]
    outputs = []
    for j in range(2 if fanout else 1):
        suffix = "2" if j else ""
        nodes += [helper.make_node(op, dq, [f"f{suffix}"], **attrs),
                  helper.make_node("QuantizeLinear", [f"f{suffix}", "so", "zo"], [f"y{suffix}_q"]),
                  helper.make_node("DequantizeLinear", [f"y{suffix}_q", "so", "zo"], [f"y{suffix}"])]
        outputs.append(onnx.ValueInfoProto(name=f"y{suffix}"))
    graph = helper.make_graph(nodes, op, [helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, list(shape))
                                          for i in range(inputs)], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    return onnx.shape_inference.infer_shapes(model)


def _ort_fused_input_zero_point(model):
    """The zero-point initializer name the fused QLinear kernel of ORT's optimised model reads
    for its first input, and the op types it ran."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    with tempfile.TemporaryDirectory() as tmp:
        options.optimized_model_filepath = os.path.join(tmp, "optimized.onnx")
        ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        optimized = onnx.load(options.optimized_model_filepath)
    fused = [n for n in optimized.graph.node if n.op_type.startswith("QLinear")]
    return (fused[0].input[2] if fused else None), sorted({n.op_type for n in optimized.graph.node})


_POOL = dict(kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
_SHAPE = (1, 8, 8, 8)


def test_pairs_are_the_ones_ort_rewrites():
    """Both pairs of a one-op pool model are rewritten (ORT's fused QLinearAveragePool reads a
    ``qdq_s8_to_u8_zp_conversion`` u8 zero point); when the input's DequantizeLinear feeds two ops,
    ORT gives each its own copy (EnsureUniqueDQForNodeUnit), the input's QuantizeLinear then has two
    consumers and is not rewritten, the groups' types disagree and ORT runs the pools in float:
    fxsim's pairs are then the outputs only."""
    plain = _qdq_model("AveragePool", 1, _POOL, [0.02], [5], 0.02, 5, _SHAPE)
    assert fx.load(plain).qdq_pairs == {"x0", "y"}
    zp_name, ran = _ort_fused_input_zero_point(plain)
    assert ran == ["DequantizeLinear", "QLinearAveragePool", "QuantizeLinear"] and zp_name.startswith("qdq_s8_to_u8")
    fanout = _qdq_model("AveragePool", 1, _POOL, [0.02], [5], 0.02, 5, _SHAPE, fanout=True)
    assert fx.load(fanout).qdq_pairs == {"y", "y2"}
    zp_name, ran = _ort_fused_input_zero_point(fanout)
    assert zp_name is None and "AveragePool" in ran
    # a QOperator model has no pairs
    from test_onnxruntime_golden import FIXTURES
    assert fx.load(onnx.load(FIXTURES / "pool.qop-u8s8-pc.onnx")).qdq_pairs == frozenset()


def _without_rule():
    return dataclasses.replace(load_target(engines.ort_target()), qdq=QDQ())


def _draw(rng, inputs, same_encoding):
    scales = rng.uniform(0.005, 0.05, inputs).astype(np.float32)
    zps = rng.integers(-60, 60, inputs)
    if same_encoding:
        return scales, zps, scales[0], zps[0]
    return scales, zps, np.float32(rng.uniform(0.005, 0.05)), int(rng.integers(-60, 60))


def _mismatches(op, inputs, attrs, trials, seed, same_encoding, out=None):
    """Elements where fxsim with the profile (rule) and without it differ from ORT at EXTENDED,
    over ``trials`` drawn one-op models; ORT must have fused the group into a QLinear kernel."""
    rng = np.random.default_rng(seed)
    ruled = unruled = total = 0
    for trial in range(trials):
        scales, zps, so, zo = _draw(rng, inputs, same_encoding and trial % 2 == 0)
        if out is not None:
            so, zo = out
        model = _qdq_model(op, inputs, attrs, scales, zps, so, zo, _SHAPE)
        feeds = {f"x{i}": rng.uniform(-1.5, 1.5, _SHAPE).astype(np.float32) for i in range(inputs)}
        theirs, ran = engines.run_ort(model, feeds, "extended")
        assert not (set(ran) - {"QuantizeLinear", "DequantizeLinear"}) - {f"QLinear{op}"}, ran
        with_rule, _ = engines.run_fxsim(model, feeds, engines.ort_target())
        without, _ = engines.run_fxsim(model, feeds, _without_rule())
        ruled += int((with_rule["y"] != theirs["y"]).sum())
        unruled += int((without["y"] != theirs["y"]).sum())
        total += theirs["y"].size
    return ruled, unruled, total


def test_average_pool_needs_the_rule():
    """QLinearAveragePool adds the zero point in float32 before rounding: on the rewritten u8
    pairs ORT's codes differ from the s8 expression's where a window mean sits near a tie
    (measured: 503 of 38,880 elements over 60 drawn models, 2x2 windows with padding, one
    encoding in and out on every other model); with the rule fxsim gives ORT's codes on every
    element."""
    ruled, unruled, total = _mismatches("AveragePool", 1, _POOL, 60, seed=3, same_encoding=True)
    # the rule is what makes them equal (the count without it is the measurement above; it rests
    # on ORT's float32 kernel, so only its being non-zero is asserted)
    assert ruled == 0 and unruled > 0 and total == 38880, (ruled, unruled, total)


@pytest.mark.parametrize("op, inputs, attrs, out", [
    ("GlobalAveragePool", 1, {}, None),
    ("Add", 2, {}, None),
    ("Mul", 2, {}, None),
    ("Sigmoid", 1, {}, (1 / 256, -128)),
    ("LeakyRelu", 1, {"alpha": 0.1}, None),
    ("Concat", 2, {"axis": 1}, None),
])
def test_other_fused_kernels_under_the_rule(op, inputs, attrs, out):
    """The other QLinear kernels a QDQ model fuses to run on the rewritten u8 pairs as well, and
    fxsim with the rule gives ORT's codes on every element of 20 drawn models (half with one
    encoding in and out)."""
    ruled, unruled, total = _mismatches(op, inputs, attrs, 20, seed=11, same_encoding=True, out=out)
    assert ruled == 0 and total > 0, (ruled, unruled, total)


def test_leaky_relu_table_is_quantized_in_float32():
    """QLinearLeakyRelu's table (contrib_ops/cpu/quantization/qlinear_lookup_table.cc,
    QlinearBuildLookupTable): ``X_scale * (x - X_zero_point)`` in float32, ``alpha * x`` in
    float32, then MlasQuantizeLinear, a float32 division rounded half to even. With one encoding in
    and out and alpha 0.1 the negative half of the table sits on ties (``0.1 * k`` for k = 5, 15
    ...), where a float32 and a float64 division round apart: fxsim builds the table with the
    profile's quantize rule (``quantize.precision = "float32"``) and gives ORT's codes on every
    element; the float64 table it built before misses some (measured: 135 of 10,240 elements over
    these 20 drawn models)."""
    from fxsim.arith.lut import build_lut

    rng = np.random.default_rng(5)
    float64_misses = total = 0
    for trial in range(20):
        scale, zp = np.float32(rng.uniform(0.005, 0.05)), int(rng.integers(-60, 60))
        model = _qdq_model("LeakyRelu", 1, {"alpha": 0.1}, [scale], [zp], scale, zp, _SHAPE)
        feeds = {"x0": rng.uniform(-1.5, 1.5, _SHAPE).astype(np.float32)}
        theirs, ran = engines.run_ort(model, feeds, "extended", intermediates=False)
        assert "QLinearLeakyRelu" in ran
        ours, sim = engines.run_fxsim(model, feeds, engines.ort_target(), ["x0"])
        assert np.array_equal(ours["y"], theirs["y"]), trial
        # the float64 table on the u8 codes ORT's kernel reads
        enc = fx.Encoding.from_zero_point(float(scale), zp + 128, "uint8")
        table = build_lut(lambda v: np.where(v >= 0, v, v.astype(np.float32) * np.float32(0.1)), enc, enc,
                          rounding="half_even")
        codes = table[(ours["x0"].astype(np.int16) + 128).astype(np.uint8)].astype(np.int16) - 128
        y64 = ((codes - zp).astype(np.float32) * scale).astype(np.float32)
        float64_misses += int((y64 != theirs["y"]).sum())
        total += y64.size
    assert float64_misses > 0 and total == 10240, (float64_misses, total)  # measured 135
