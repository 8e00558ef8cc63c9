"""The simulator's Resize and int16 Sigmoid / Tanh lowerings on one-op graphs (fx.Simulator):
each target family runs its own integer kernel (TFLite's ResizeBilinearInteger and nearest rule,
ONNX Runtime's bilinear paths, TFLite's int16 logistic / tanh), the result equals the arith
function on the simulator's own input codes, and what a target does not model is the labelled
float fallback. The engines themselves: tests/oracles/test_resize_oracles.py (ORT, live, also
through fx.Simulator on QOperator models) and tests/oracles/test_tflite_ref_fixtures.py (LiteRT
BUILTIN_REF fixtures)."""

import numpy as np
import pytest

import fxsim as fx
from fxsim.arith.resize import nearest_indices, resize_bilinear, resize_nearest
from model_builders import one_op_model


def _resize_sim(target, attrs, scales, enc, x=None, out_enc=None, shape=(1, 3, 5, 6)):
    rng = np.random.default_rng(21)
    x = rng.standard_normal(shape).astype(np.float32) if x is None else x
    model, feeds = one_op_model("Resize", [("x", x), ("", None), ("s", None)], attrs,
                                constants={"s": np.array(scales, np.float32)}, opset=13)
    sim = fx.Simulator(fx.load(model), {"x": enc, "out0": out_enc or enc}, target=target)
    return sim, sim.run(feeds, keep=["x"])


TFLITE_LINEAR = [("half_pixel", (False, True)), ("align_corners", (True, False)), ("asymmetric", (False, False)),
                 ("pytorch_half_pixel", (False, True))]


@pytest.mark.parametrize("coordinate, flags", TFLITE_LINEAR)
@pytest.mark.parametrize("target, bits", [("tflite-int8", 8), ("tflite-int16x8", 16)])
def test_tflite_linear_resize_runs_resize_bilinear_integer(coordinate, flags, target, bits):
    enc = fx.Encoding.symmetric(absmax=3.0, bitwidth=bits) if bits == 16 else fx.Encoding.from_min_max(-3, 2.5,
                                                                                                        signed=True)
    sim, out = _resize_sim(target, {"mode": "linear", "coordinate_transformation_mode": coordinate},
                           [1, 1, 1.8, 2.5], enc)
    (low,) = sim.lowerings
    assert low.kind == "integer" and "TFLite ResizeBilinearInteger" in low.arithmetic
    want = resize_bilinear(out["x"], out["out0"].shape[2:], algorithm="tflite", align_corners=flags[0],
                           half_pixel_centers=flags[1])
    np.testing.assert_array_equal(out["out0"], want)
    assert out["out0"].shape == (1, 3, 9, 15) and len(np.unique(out["out0"])) > 20


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("coordinate", ["half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"])
def test_onnxruntime_linear_resize_runs_upsample_bilinear(signed, coordinate):
    enc = fx.Encoding.from_min_max(-3, 2.5, signed=signed)
    sim, out = _resize_sim("onnxruntime", {"mode": "linear", "coordinate_transformation_mode": coordinate},
                           [1, 1, 1.8, 0.7], enc)
    (low,) = sim.lowerings
    assert low.kind == "integer" and "UpsampleBilinear" in low.arithmetic
    want = resize_bilinear(out["x"], out["out0"].shape[2:], algorithm="ort_float", coordinate=coordinate,
                           scales=(np.float32(1.8), np.float32(0.7)))
    np.testing.assert_array_equal(out["out0"], want)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("coordinate", ["half_pixel", "align_corners", "tf_half_pixel_for_nn"])
def test_onnxruntime_nhwc_linear_resize_runs_the_integer_kernel(signed, coordinate):
    # scales[1] != 1: ORT's NhwcUpsampleBilinearInteger on axes 1, 2 (measured against ORT in
    # tests/oracles/test_resize_oracles.py)
    enc = fx.Encoding.from_min_max(-3, 2.5, signed=signed)
    sim, out = _resize_sim("onnxruntime", {"mode": "linear", "coordinate_transformation_mode": coordinate},
                           [1, 2.0, 1.5, 1], enc, shape=(1, 4, 5, 3))
    (low,) = sim.lowerings
    assert low.kind == "integer" and "NhwcUpsampleBilinearInteger" in low.arithmetic
    want = resize_bilinear(out["x"], (8, 7), algorithm="ort_integer", layout="nhwc", coordinate=coordinate,
                           scales=(np.float32(2.0), np.float32(1.5)))
    np.testing.assert_array_equal(out["out0"], want)
    assert out["out0"].shape == (1, 8, 7, 3)


def test_onnxruntime_half_pixel_symmetric_linear_resize_is_a_labelled_fallback():
    # ORT 1.32's bilinear weights for half_pixel_symmetric did not reproduce (either kernel)
    enc = fx.Encoding.from_min_max(-3, 2.5)
    for scales, shape in (([1, 2.0, 1.5, 1], (1, 4, 5, 3)), ([1, 1, 1.8, 0.7], (1, 3, 5, 6))):
        attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel_symmetric"}
        sim, _ = _resize_sim("onnxruntime", attrs, scales, enc, shape=shape)
        (low,) = sim.lowerings
        assert low.kind == "float_fallback" and "half_pixel_symmetric" in low.arithmetic


def test_nearest_uses_the_target_rule():
    enc = fx.Encoding.from_min_max(-3, 3, signed=True)
    attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    sim, out = _resize_sim("tflite-int8", attrs, [1, 1, 1.8, 2.5], enc)
    (low,) = sim.lowerings
    assert low.kind == "data_movement" and "TFLite GetNearestNeighbor" in low.arithmetic
    idx = [np.arange(1), np.arange(3), nearest_indices(5, 9, engine="tflite"), nearest_indices(6, 15, engine="tflite")]
    np.testing.assert_array_equal(out["out0"], resize_nearest(out["x"], idx))
    # another attribute set, or another target: ONNX Runtime's float32 rule
    attrs = {"mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_ceil"}
    for target in ("tflite-int8", "htp"):
        sim, out = _resize_sim(target, attrs, [1, 1, 1.8, 2.5], enc)
        assert "ONNX Runtime float32 coordinates" in sim.lowerings[0].arithmetic
        idx = [np.arange(1), np.arange(3),
               nearest_indices(5, 9, coordinate="half_pixel", nearest="round_prefer_ceil", scale=np.float32(1.8)),
               nearest_indices(6, 15, coordinate="half_pixel", nearest="round_prefer_ceil", scale=np.float32(2.5))]
        np.testing.assert_array_equal(out["out0"], resize_nearest(out["x"], idx))


@pytest.mark.parametrize("target, attrs, enc, out_enc, reason", [
    ("exact", {"mode": "linear"}, fx.Encoding.from_min_max(-3, 3), None, "not modelled"),
    ("htp", {"mode": "linear"}, fx.Encoding.from_min_max(-3, 3), None, "not modelled"),
    ("tflite-int8", {"mode": "linear", "coordinate_transformation_mode": "tf_half_pixel_for_nn"},
     fx.Encoding.from_min_max(-3, 3, signed=True), None, "int8/int16"),
    ("onnxruntime", {"mode": "linear", "coordinate_transformation_mode": "half_pixel_symmetric"},
     fx.Encoding.from_min_max(-3, 3), None, "not modelled"),
    ("onnxruntime", {"mode": "linear"}, fx.Encoding.from_min_max(-3, 3), fx.Encoding.from_min_max(-2, 2), "differ"),
    ("tflite-int8", {"mode": "nearest"}, fx.Encoding.from_min_max(-3, 3, signed=True),
     fx.Encoding.from_min_max(-1, 1, signed=True), "differ"),
])
def test_what_a_target_does_not_model_is_the_labelled_float_fallback(target, attrs, enc, out_enc, reason):
    sim, out = _resize_sim(target, attrs, [1, 1, 1.8, 2.5], enc, out_enc=out_enc)
    (low,) = sim.lowerings
    assert low.kind == "float_fallback" and reason in low.arithmetic
    assert out["out0"].shape == (1, 3, 9, 15)


@pytest.mark.parametrize("op_type, function", [("Sigmoid", fx.arith.logistic_int16), ("Tanh", fx.arith.tanh_int16)])
def test_tflite_int16x8_sigmoid_and_tanh_run_the_int16_reference_kernels(op_type, function):
    rng = np.random.default_rng(22)
    x = (rng.standard_normal((2, 50)) * 3).astype(np.float32)
    model, feeds = one_op_model(op_type, [("x", x)])
    graph = fx.load(model)
    enc_in = fx.Encoding.symmetric(absmax=8.0, bitwidth=16)
    enc_out = fx.Encoding.from_zero_point(2.0 ** -15, 0, "int16")
    sim = fx.Simulator(graph, {"x": enc_in, "out0": enc_out}, target="tflite-int16x8")
    (low,) = sim.lowerings
    assert low.kind == "integer" and "TFLite int16 reference kernel" in low.arithmetic
    out = sim.run(feeds, keep=["x"])
    np.testing.assert_array_equal(out["out0"], function(out["x"], enc_in))
    ref = fx.FloatReference(graph).run(feeds)["out0"]
    assert np.abs(fx.dequantize(out["out0"], enc_out) - ref).max() < 1e-3  # the table's accuracy
    # an output encoding TFLite's Prepare rejects: the float fallback, saying why
    other = fx.Encoding.symmetric(absmax=1.0, bitwidth=16)
    sim = fx.Simulator(graph, {"x": enc_in, "out0": other}, target="tflite-int16x8")
    assert sim.lowerings[0].kind == "float_fallback" and "2^-15" in sim.lowerings[0].arithmetic
