"""The embedded end-to-end example behind ``fxsim demo``.

A small CNN trained on the UCI handwritten digits (``scripts/train_digits_cnn.py``: 8x8 images,
Conv -> BatchNorm -> Relu -> Conv stride 2 -> Relu -> Conv -> Relu -> Flatten -> Gemm, about
98.6% test accuracy in float) ships inside the package as ONNX with its test split. The demo

1. loads it (BatchNorm folded, Relu fused on simulation),
2. calibrates on 64 training images (``fxsim.calibrate``) with three activation quantizers:
   ``tf`` (min/max, the QNN default), ``enhanced`` (AIMET's tf_enhanced clipping search) and
   ``percentile`` (99.99%), weights int8 symmetric per channel,
3. simulates the test split with the integer arithmetic of several targets,
4. prints float accuracy beside each target's accuracy, the logits' SQNR, the worst layers, and
   the tie table that explains why targets differ,
5. writes an HTML report (per-layer SQNR, histograms with the clip ranges) and says where.

No network, no files needed; it runs in a few seconds.
"""

import os
import tempfile
from importlib import resources

import numpy as np

from .arith import Accumulate, Requant, RoundingMode, requantize
from .calib import calibrate
from .frontends import load
from .runtime import FloatReference, Simulator, compare
from .targets import load_target

#: onnxruntime (an x86 CPU without VNNI) beside onnxruntime-vnni: the same engine, whose u8 x s8
#: products are summed in int16-saturated pairs without VNNI and exactly with it
DEMO_TARGETS = ("tflite-int8", "onnxruntime", "onnxruntime-vnni", "htp", "tosa")
QUANTIZERS = ("tf", "enhanced", "percentile")


def _data():
    root = resources.files("fxsim") / "data"
    with resources.as_file(root / "digits_cnn.onnx") as model_path:
        model_bytes = model_path.read_bytes()
    with resources.as_file(root / "digits_test.npz") as npz_path, np.load(npz_path) as npz:
        return model_bytes, npz["x"], npz["y"], npz["calib"]


def _accuracy(logits, labels):
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def run_demo(samples=None, report=None, targets=DEMO_TARGETS, progress=None):
    """Run the example; returns ``(text, report_path)``. ``samples`` limits the test images
    (all by default); ``report`` is the HTML path (default: a file in the temp directory);
    ``progress(done, total)`` is called after each simulated (quantizer, target) pair."""
    model_bytes, x, y, calib = _data()
    if samples is not None:
        x, y = x[:samples], y[:samples]
    graph = load(model_bytes, input_shapes={"image": (len(x), 1, 8, 8)})
    calib_graph = load(model_bytes, input_shapes={"image": (len(calib), 1, 8, 8)})
    float_logits = FloatReference(graph).run({"image": x})["logits"]
    lines = [
        f"fxsim demo: a CNN trained on handwritten digits, {len(x)} test images, {len(graph.nodes)} nodes "
        f"after folding",
        f"float model accuracy: {_accuracy(float_logits, y):.2%}",
        "",
        f"{'target':16s} {'quantizer':11s} {'accuracy':>9s} {'logits SQNR':>12s}  integer / fallback nodes",
    ]
    comparisons = []
    for quantizer in QUANTIZERS:
        encs = calibrate(calib_graph, [{"image": calib}], act_quantizer=quantizer, param_quantizer="tf")
        for target in targets:
            sim = Simulator(graph, encs, target=target)
            logits = sim.run({"image": x}, dequantize=True)["logits"]
            noise = float(np.sum((logits.astype(np.float64) - float_logits) ** 2))
            sqnr = 10 * np.log10(float(np.sum(float_logits.astype(np.float64) ** 2)) / max(noise, 1e-30))
            kinds = [low.kind for low in sim.lowerings]
            lines.append(f"{target:16s} {quantizer:11s} {_accuracy(logits, y):9.2%} {sqnr:9.2f} dB  "
                         f"{kinds.count('integer') + kinds.count('data_movement')} / {kinds.count('float_fallback')}")
            if progress is not None:
                progress(len(lines) - 4, len(QUANTIZERS) * len(targets))
        if quantizer == "tf":
            comparisons.append(compare(graph, encs, {"image": x}, target=targets[0]))
            comparisons.append(compare(graph, encs, {"image": x}, target=targets[1]))
    worst = sorted(comparisons[0].tensors.values(), key=lambda m: m.sqnr_db)[:3]
    lines += ["", f"worst layers ({targets[0]}, tf):"]
    lines += [f"  {m.name:24s} {m.sqnr_db:6.2f} dB  clipped {m.clipped:.2%}  saturated {m.saturated:.2%}"
              for m in worst]

    pair_saturating = [t for t in targets if load_target(t).accumulator.policy is Accumulate.RAW_PAIR_SATURATE_16]
    if pair_saturating:
        lines += ["", "%s: sums u8 x s8 products in int16-saturated pairs (vpmaddubsw on CPUs without VNNI)," %
                  ", ".join(pair_saturating),
                  "  which costs SQNR with full-range 8-bit weights; such engines recommend 7-bit weights",
                  "  (reduce_range). On a VNNI CPU (onnxruntime-vnni) the sums are exact."]

    acc = np.array([-10, -6, -2, 2, 6, 10], np.int32)
    lines += ["", "why targets differ: the same ties, acc * 0.25 for acc in %s" % acc.tolist()]
    lines.append("  %-28s %s" % ("double round (TFLite)", requantize(acc, 0.25, Requant.DOUBLE_ROUND).tolist()))
    lines.append("  %-28s %s" % ("single round (ruy)", requantize(acc, 0.25, Requant.SINGLE_ROUND).tolist()))
    lines.append("  %-28s %s" % ("fp32 half even (ORT)", requantize(
        acc, np.float32(0.25), Requant.FP32, rounding=RoundingMode.HALF_EVEN).tolist()))

    from .report import write_report

    if report is None:
        folder = os.path.join(tempfile.gettempdir(), "fxsim-demo")
        os.makedirs(folder, exist_ok=True)
        report = os.path.join(folder, "report.html")
    write_report(report, comparisons, title="fxsim demo: digits CNN")
    lines += ["", f"report: {report}"]
    return "\n".join(lines), report
