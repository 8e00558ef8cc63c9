"""The embedded end-to-end example behind ``fxsim demo``.

A small two-layer network (16 -> 32 -> ReLU -> 10) with seeded weights is calibrated on its own
input data, quantized (uint8 asymmetric activations in tf mode, int8 symmetric per-channel
weights, int32 biases), and run with the integer arithmetic of four target families:

* TFLite reference kernels: quantize half away from zero, gemmlowp double rounding;
* ruy / TFLite single-rounding builds: one half-up rounding of the 64-bit product;
* ONNX Runtime (MLAS): quantize and requantize in float32, half to even;
* a power-of-two (DPU-style) target: every scale rounded to a power of two, shifts rounding
  half up, weights rounding half away.

The accumulators are exact integer matrix products; every requantization runs in fxsim's C++
kernels. The report gives each target's SQNR against the float model, how many output codes
the targets disagree on, and the tie table that explains why.
"""

import numpy as np

from .arith import Encoding, Multiplier, RoundingMode, Requant, dequantize, quantize, requantize

IN_FEATURES, HIDDEN, OUT_FEATURES = 16, 32, 10


def _network(seed):
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((HIDDEN, IN_FEATURES)) * 0.35).astype(np.float32)
    b1 = (rng.standard_normal(HIDDEN) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((OUT_FEATURES, HIDDEN)) * 0.25).astype(np.float32)
    b2 = (rng.standard_normal(OUT_FEATURES) * 0.05).astype(np.float32)
    return w1, b1, w2, b2


def _float_forward(x, w1, b1, w2, b2):
    h = np.maximum(x @ w1.T + b1, 0).astype(np.float32)
    return h, (h @ w2.T + b2).astype(np.float32)


def _sqnr_db(reference, approx):
    noise = float(np.sum((reference.astype(np.float64) - approx) ** 2))
    signal = float(np.sum(reference.astype(np.float64) ** 2))
    return float("inf") if noise == 0 else 10.0 * np.log10(signal / noise)


class _Target:
    """How one target family quantizes and rescales (a stand-in until fxsim.targets exists)."""

    def __init__(self, name, quantize_rounding, weight_rounding, method, rounding=None, power_of_two=False):
        self.name = name
        self.quantize_rounding = quantize_rounding
        self.weight_rounding = weight_rounding
        self.method = method
        self.rounding = rounding
        self.power_of_two = power_of_two


TARGETS = (
    _Target("tflite-int8 (double round)", RoundingMode.HALF_AWAY, RoundingMode.HALF_AWAY, Requant.DOUBLE_ROUND),
    _Target("ruy (single round)", RoundingMode.HALF_AWAY, RoundingMode.HALF_AWAY, Requant.SINGLE_ROUND),
    _Target("onnxruntime (fp32, half even)", RoundingMode.HALF_EVEN, RoundingMode.HALF_EVEN, Requant.FP32,
            rounding=RoundingMode.HALF_EVEN),
    _Target("power-of-two (DPU-style)", RoundingMode.HALF_UP, RoundingMode.HALF_AWAY, Requant.POWER_OF_TWO,
            rounding=RoundingMode.HALF_UP, power_of_two=True),
)


def _pot(scale):
    """The nearest power of two at or above ``scale`` (so the range is never clipped)."""
    return 2.0 ** np.ceil(np.log2(scale))


def _activation_encoding(values, target):
    lo, hi = float(values.min()), float(values.max())
    if not target.power_of_two:
        return Encoding.from_min_max(lo, hi, bitwidth=8)
    return Encoding.symmetric(absmax=_pot(max(abs(lo), abs(hi)) / 127) * 127, bitwidth=8)


def _weight_encoding(w, target):
    absmax = np.maximum(np.abs(w).max(axis=1).astype(np.float64), 1e-8)
    if target.power_of_two:
        scale = np.full(w.shape[0], _pot(absmax.max() / 127))   # DPU: per tensor, power of two
    else:
        scale = absmax / 127
    return Encoding.per_channel(scale, np.full(w.shape[0], -128), axis=0, bitwidth=8, signed=True)


def _rescale(in_enc, w_enc, out_enc, target):
    """The real rescale per output channel, and the multipliers or float32 scales for it."""
    real = float(in_enc.scale) * np.asarray(w_enc.scale, np.float64) / float(out_enc.scale)
    if target.method is Requant.FP32:
        return (np.float32(in_enc.scale) * np.asarray(w_enc.scale, np.float32)) / np.float32(out_enc.scale)
    if target.method is Requant.POWER_OF_TWO:
        return [Multiplier(1, int(round(np.log2(r))), 1) for r in real]
    return real


def _layer(q_in, in_enc, w, b, out_enc, target, relu):
    w_enc = _weight_encoding(w, target)
    q_w = quantize(w, w_enc, rounding=target.weight_rounding, name="weight")
    bias_scale = float(in_enc.scale) * np.asarray(w_enc.scale, np.float64)
    q_b = np.round(b / bias_scale).astype(np.int64)
    acc = (q_in.astype(np.int64) - int(in_enc.zero_point)) @ q_w.astype(np.int64).T + q_b
    if np.abs(acc).max() >= 1 << 31:
        raise OverflowError("accumulator left int32")   # cannot happen at these sizes; checked anyway
    qmin = int(out_enc.zero_point) if relu else None
    return requantize(acc.astype(np.int32), _rescale(in_enc, w_enc, out_enc, target), target.method,
                      rounding=target.rounding, zero_point=int(out_enc.zero_point),
                      dtype=np.dtype(out_enc.dtype).name, axis=1, qmin=qmin)


def run_demo(samples=512, seed=0):
    """Run the example and return its report as text."""
    w1, b1, w2, b2 = _network(seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((samples, IN_FEATURES)).astype(np.float32)
    h_float, y_float = _float_forward(x, w1, b1, w2, b2)

    lines = [
        "fxsim demo: a 16 -> 32 -> ReLU -> 10 network, %d samples, seed %d" % (samples, seed),
        "activations uint8 tf-mode (int8 power-of-two for the DPU-style target), weights int8",
        "symmetric per channel, biases int32; integer accumulators, C++ requantization kernels",
        "",
        "%-32s %12s %12s %14s" % ("target", "SQNR hidden", "SQNR output", "top-1 agrees"),
    ]
    outputs = {}
    for target in TARGETS:
        in_enc = _activation_encoding(x, target)
        h_enc = _activation_encoding(h_float, target)
        y_enc = _activation_encoding(y_float, target)
        q_x = quantize(x, in_enc, rounding=target.quantize_rounding, name="input")
        q_h = _layer(q_x, in_enc, w1, b1, h_enc, target, relu=True)
        q_y = _layer(q_h, h_enc, w2, b2, y_enc, target, relu=False)
        y = dequantize(q_y, y_enc)
        outputs[target.name] = q_y
        agree = float(np.mean(np.argmax(y, axis=1) == np.argmax(y_float, axis=1))) * 100
        lines.append("%-32s %10.2f dB %10.2f dB %13.1f%%" % (
            target.name, _sqnr_db(h_float, dequantize(q_h, h_enc)), _sqnr_db(y_float, y), agree))

    names = [t.name for t in TARGETS[:3]]   # the three that share encodings
    lines += ["", "output codes where targets with the same encodings disagree:"]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            diff = outputs[a].astype(np.int32) - outputs[b].astype(np.int32)
            lines.append("  %-30s vs %-30s %5d of %d differ (max %d code)" % (
                a, b, int(np.count_nonzero(diff)), diff.size, int(np.abs(diff).max())))

    acc = np.array([-10, -6, -2, 2, 6, 10], np.int32)
    lines += ["", "why: the same ties, acc * 0.25 for acc in %s" % acc.tolist()]
    lines.append("  %-28s %s" % ("double round (TFLite)", requantize(acc, 0.25, Requant.DOUBLE_ROUND).tolist()))
    lines.append("  %-28s %s" % ("single round (ruy)", requantize(acc, 0.25, Requant.SINGLE_ROUND).tolist()))
    lines.append("  %-28s %s" % ("fp32 half even (ORT)", requantize(
        acc, np.float32(0.25), Requant.FP32, rounding=RoundingMode.HALF_EVEN).tolist()))
    return "\n".join(lines)
