"""``fx.calibrate``: encodings for every float tensor of a graph from calibration batches.

What gets an encoding (what ``fx.Simulator`` needs, DESIGN.md "Encodings"):

* every float graph input and every float tensor a node computes: ``act_quantizer`` over the
  profile of the batches, ``act_bw`` bits, per-tensor;
* the weight of every Conv / ConvTranspose / Gemm / MatMul whose weight is a constant:
  ``param_quantizer`` over the weight's full values (never clipped by a histogram: weights are
  observed exactly, per channel along DESIGN.md's axis when ``per_channel``), ``weight_bw`` bits;
* their constant bias, when the bias is quantized to 8 or 32 bits: ``Encoding.for_bias(s_in *
  s_w[c], bias_bw)`` (per-channel when the weights are); 64-bit biases (``bias_bw=64``, int64
  bias targets) get none: the simulator derives them from the scales.

Defaults without a target (the QNN document's): activations unsigned asymmetric (tf);
per-channel weights signed symmetric with offset ``-2^(bw-1)`` (the QNN per-channel rule,
kept with every target: per-channel weights are always symmetric); per-tensor weights
unsigned asymmetric unless ``param_quantizer="symmetric"``.

With ``target`` the encodings satisfy its constraints (TARGETS.md fields): activation storage
(the dtype of the target with ``act_bw`` bits, else its first dtype) and symmetry; weight
storage, symmetry (a symmetric target makes every weight quantizer use the symmetric grid),
narrow range (strict symmetric), granularity (per-tensor targets get per-tensor weights); bias
storage (s32 / s64 / s8; none for a float bias); power-of-two scales where the target
requantizes by shifts (``multiplier.derivation == "power_of_two"``): each scale is rounded up
to the next power of two, so the chosen range stays covered (``pot`` chooses the exponent by
error instead).

``compat="aimet"`` follows aimet-onnx 2.x (research notes sections 0, 2.3, 3.1, 6; checked
exactly against aimet-onnx 2.42.0 in tests/golden/aimet_calibration): two phases, weights first
(AIMET 2.x formulas, float32 scales; symmetric per-tensor too, as AIMET's default configs), then
activation statistics collected on the graph with fake-quantized weights (AIMET's float32
quantize-dequantize with ties rounding up in the unsigned domain), run in ONNX Runtime as AIMET
runs it (``onnxruntime_forward``); ``enhanced`` uses AIMET 2.x's first-batch-fixed PDF (order
dependent; ``observers.AimetPdfObserver``); a Relu / AveragePool output whose input AIMET
quantizes shares that input's encoding (``aimet_tied_outputs``).
"""

from __future__ import annotations

import numpy as np

from ..arith import Encoding
from ..errors import EncodingError
from ..io.encodings import Encodings
from ..runtime import FloatReference
from ..targets import Target, load_target
from .algorithms import (QUANTIZERS, adjusted_encoding, distfit_range, encoding_for, encoding_from_range,
                         enhanced_search, kl_range, mse_range, percentile_range, pot_encoding, pot_exponent_of_values)
from .observers import AimetPdfObserver, HistogramObserver, as_f32_flat
from ._compiled import stats
from .onnxruntime_forward import OnnxRuntimeReference
from .profile import CalibrationError, Profile, profile_graph

__all__ = ["calibrate", "weight_axis", "aimet_fake_quantize", "aimet_tied_outputs", "CalibrationError"]

_WEIGHTED = ("Conv", "ConvTranspose", "Gemm", "MatMul")
ACT_BITWIDTHS = (8, 16)
WEIGHT_BITWIDTHS = (4, 8, 16)
BIAS_BITWIDTHS = (8, 32, 64)


def weight_axis(node, weight):
    """The output-channel axis of ``node``'s weight (DESIGN.md "Per-channel axis by op")."""
    if node.op_type == "Conv":
        return 0
    if node.op_type == "ConvTranspose":
        return 1
    if node.op_type == "Gemm":
        return 0 if node.attrs.get("transB", 0) else 1
    return weight.ndim - 1  # MatMul constant [K, N]: the last axis


def aimet_fake_quantize(x, enc):
    """AIMET-onnx's QcQuantizeOp quantize-dequantize in float32 (research notes section 6,
    ``trim_functions.cpp::quantizeValueCpu``): ``x = clamp(x, f32(d * off), f32(d * (off +
    N)))``; ``t = f32(f32(x / d) - off)``; ``q = round_half_away(t)`` (ties up: ``t >= 0``);
    ``y = f32(d * f32(q + off))``. Per-channel encodings broadcast along ``enc.axis``."""
    x = np.asarray(x, np.float32)
    n = float((1 << enc.bitwidth) - 1)
    shape = [1] * x.ndim
    if enc.axis is not None:
        shape[enc.axis] = -1
    d = np.asarray(enc.scale, np.float32).reshape(shape) if enc.axis is not None else np.float32(enc.scale)
    off = np.asarray(enc.offset, np.float32).reshape(shape) if enc.axis is not None else np.float32(enc.offset)
    lo = (d * off).astype(np.float32)
    hi = (d * (off + np.float32(n))).astype(np.float32)
    xc = np.minimum(np.maximum(x, lo), hi)
    t = ((xc / d).astype(np.float32) - off).astype(np.float32)
    # t >= 0, so C round() (half away from zero) is floor(t + 0.5), exact in float64
    q = np.floor(t.astype(np.float64) + 0.5).astype(np.float32)
    return (d * (q + off).astype(np.float32)).astype(np.float32)


#: AIMET's default supergroups (default_config*.json ``supergroups``): no quantizer between the
#: two ops, so the second op's output is the only one observed
AIMET_SUPERGROUPS = (("Conv", "Relu"), ("Conv", "Clip"), ("ConvTranspose", "Relu"), ("Add", "Relu"),
                     ("Gemm", "Relu"))
#: aimet-onnx quantsim.py ``op_types_to_tie_qtzrs`` that propagate forward (Concat propagates
#: backward and is not modelled): the output shares its input's quantizer
AIMET_TIED_FORWARD = ("Relu", "AveragePool")


def _aimet_excluded_from_supergroups(node, graph):
    """aimet-onnx ``graph_searcher._check_if_conv3d_or_depthwise_conv``: a depthwise (one input
    channel per group) or 3-D Conv / ConvTranspose forms no supergroup ("until HTP support")."""
    if node.op_type not in ("Conv", "ConvTranspose") or len(node.inputs) < 2:
        return False
    w = graph.tensors[node.inputs[1]]
    shape = None if w.shape is None else tuple(w.shape)
    if shape is not None and len(shape) == 5:
        return True
    group = int(node.attrs.get("group", 1))
    if group == 1 or shape is None:
        return False
    return shape[1] == 1 if node.op_type == "Conv" else shape[0] == group


def aimet_tied_outputs(graph):
    """``{output: input}`` for the ops whose output quantizer aimet-onnx 2.x ties to its input's
    (``QuantizationSimModel._tie_quantizers_for_op_types`` -> ``_propagate_input_encodings``):
    a Relu or AveragePool whose input has an enabled quantizer, i.e. is a graph input or the
    output of an op that is not the head of a supergroup with it (``AIMET_SUPERGROUPS``, the
    producer's only consumer; depthwise and 3-D convolutions excluded). Its output then carries
    the input's encoding: measured on aimet-onnx 2.42, a depthwise Conv -> Relu exports the
    Relu output with the Conv output's (negative-range) encoding."""
    producer = {o: node for node in graph.nodes for o in node.outputs if o}
    consumers = {}
    for node in graph.nodes:
        for name in node.inputs:
            if name:
                consumers[name] = consumers.get(name, 0) + 1
    tied = {}
    for node in graph.nodes:
        if node.op_type not in AIMET_TIED_FORWARD or not node.inputs or not node.outputs:
            continue
        source = node.inputs[0]
        head = producer.get(source)
        if head is not None and (head.op_type, node.op_type) in AIMET_SUPERGROUPS and consumers.get(source) == 1 \
                and not _aimet_excluded_from_supergroups(head, graph):
            continue  # inside a supergroup: the input has no quantizer
        if head is None and source not in graph.inputs:
            continue  # a constant input
        tied[node.outputs[0]] = tied.get(source, source)
    return tied


def _check_choice(value, allowed, what):
    if value not in allowed:
        raise EncodingError(f"{what}: expected one of {', '.join(map(str, allowed))}, got {value!r}")
    return value


def _needs_pot(target):
    return target is not None and target.multiplier.derivation == "power_of_two"


def _round_up_pot(enc):
    """``enc`` with each scale rounded up to a power of two (symmetric grids keep their offset;
    asymmetric ones are re-derived over the same minimum)."""
    scale = np.asarray(enc.scale, np.float64)
    pot = 2.0 ** np.ceil(np.log2(scale))
    if enc.axis is None:
        pot = float(pot)
    return Encoding(pot, enc.offset, enc.bitwidth, enc.signed, enc.qmin, enc.qmax, enc.axis, enc.kind)


class _Spec:
    """Storage decisions for one kind of tensor."""

    def __init__(self, bitwidth, signed, symmetric, strict=False, per_channel=False):
        self.bitwidth, self.signed, self.symmetric = bitwidth, signed, symmetric
        self.strict, self.per_channel = strict, per_channel


def _pick_dtype(dtypes, bitwidth):
    for d in dtypes:
        if int(d[1:]) == bitwidth:
            return d
    return dtypes[0]


def _activation_spec(target, act_bw, act_quantizer):
    if target is None:
        signed = act_quantizer == "symmetric"
        return _Spec(act_bw, signed, act_quantizer in ("symmetric", "pot", "pot_mode"))
    spec = target.activations
    d = _pick_dtype(spec.dtypes, act_bw)
    pot = _needs_pot(target)
    return _Spec(int(d[1:]), d.startswith("s"), spec.symmetric or pot or act_quantizer in ("symmetric", "pot", "pot_mode"))


def _weight_spec(target, weight_bw, per_channel, param_quantizer, compat="qnn"):
    if target is None:
        # AIMET's default configs (default_config.json, default_config_per_channel.json) make
        # every param quantizer symmetric, per-tensor ones included
        symmetric = per_channel or param_quantizer in ("symmetric", "pot") or compat == "aimet"
        return _Spec(weight_bw, symmetric, symmetric, False, per_channel)
    spec = target.weights
    d = _pick_dtype(spec.dtypes, weight_bw)
    granular = per_channel and spec.granularity != "per_tensor"
    # per-channel weights are symmetric (the QNN rule; ONNX Runtime also needs one zero point
    # shared by the channels, which a symmetric grid gives)
    symmetric = spec.symmetric or granular or _needs_pot(target) or param_quantizer in ("symmetric", "pot")
    return _Spec(int(d[1:]), d.startswith("s"), symmetric, bool(spec.narrow_range and symmetric), granular)


def _reduced_range_spec(spec):
    """``spec`` one bit narrower: ONNX Runtime's ``reduce_range`` (quant_utils
    ``get_qmin_qmax_for_qType``: 7-bit weights, so that no int16 pair of u8 x s8 products can
    saturate in vpmaddubsw on x86 CPUs without VNNI: 255 * 64 * 2 < 32767)."""
    return _Spec(spec.bitwidth - 1, spec.signed, spec.symmetric, spec.strict, spec.per_channel)


def _stored_at(enc, bitwidth):
    """The encoding ``enc`` (of ``bitwidth - 1`` bits) re-expressed, value for value, in
    ``bitwidth``-bit storage: the same scale and zero point, the full storage range. The
    unsigned-domain offset moves by ``2^(bw-2)`` for signed storage (the signed code is
    ``u - 2^(bw-1)`` at either width)."""
    shift = (1 << (bitwidth - 2)) if enc.signed else 0
    offset = np.asarray(enc.offset) - shift if enc.axis is not None else int(enc.offset) - shift
    return Encoding(enc.scale, offset, bitwidth, enc.signed, None, None, enc.axis, enc.kind)


def _weight_encoding(w, axis, quantizer, spec, compat, percentile):
    """The encoding of constant weights ``w`` (exact statistics of the whole tensor)."""
    w = np.asarray(w, np.float32)
    channel_axis = axis if spec.per_channel else None
    if quantizer == "pot":
        e = pot_exponent_of_values(w, spec.bitwidth, spec.strict)
        enc = pot_encoding(e, spec.bitwidth, spec.signed, spec.strict)
        if channel_axis is not None:
            enc = enc.to_per_channel(w.shape[axis], axis)
        return enc
    if channel_axis is None:
        slices = [w.reshape(-1)]
    else:
        moved = np.moveaxis(w, axis, 0)
        slices = [moved[c].reshape(-1) for c in range(moved.shape[0])]
    los, his = [], []
    for part in slices:
        flat = as_f32_flat(part)
        lo, hi, bad = stats.minmax_f32(flat)
        if bad:
            raise CalibrationError(f"weights hold {bad} NaN/Inf value(s)")
        if quantizer in ("tf", "symmetric", "adjusted"):
            pass
        else:
            hist = HistogramObserver()
            hist.update(flat, lo, hi)
            if quantizer == "percentile":
                lo, hi = percentile_range(hist, percentile)
            elif quantizer == "mse":
                lo, hi = mse_range(hist, spec.bitwidth, spec.symmetric)
            elif quantizer == "kl":
                lo, hi = kl_range(hist, spec.bitwidth)
            elif quantizer == "distfit":
                lo, hi, _ = distfit_range(hist, spec.bitwidth)
            elif quantizer == "enhanced":
                if compat == "aimet":
                    # AIMET feeds the weight tensor to its PDF (observers.AimetPdfObserver)
                    pdf = AimetPdfObserver()
                    pdf.update(flat, lo, hi)
                    lefts, p, step = pdf.lefts64, pdf.pdf, None
                else:
                    lefts, p = hist.edges[:-1].astype(np.float32), hist.probabilities()[1]
                    step = np.float32((hist.hi - hist.lo) / hist.bins)
                delta, offset = enhanced_search(lefts, p, step, spec.bitwidth, spec.symmetric,
                                                unsigned_symmetric=not spec.signed, strict=spec.strict,
                                                asymmetric_float64=compat == "aimet")
                if spec.symmetric:
                    half = 1 << (spec.bitwidth - 1)
                    # a range whose symmetric formula gives back delta (qnn: absmax / (2^(bw-1) - 1);
                    # aimet: max(max / (2^(bw-1) - 1), -min / 2^(bw-1)))
                    lo, hi = -delta * (half - 1), delta * (half - 1)
                else:
                    lo, hi = delta * offset, delta * (offset + (1 << spec.bitwidth) - 1)
        los.append(lo)
        his.append(hi)
    if quantizer == "adjusted" and not spec.symmetric:
        parts = [adjusted_encoding(lo, hi, spec.bitwidth, spec.signed) for lo, hi in zip(los, his)]
        if channel_axis is None:
            return parts[0]
        return Encoding.per_channel([e.scale for e in parts], [e.offset for e in parts], channel_axis,
                                    spec.bitwidth, spec.signed)
    if channel_axis is None:
        enc = encoding_from_range(los[0], his[0], spec.bitwidth, spec.signed, spec.symmetric, compat, spec.strict)
    else:
        enc = encoding_from_range(np.array(los), np.array(his), spec.bitwidth, spec.signed, spec.symmetric, compat,
                                  spec.strict, axis=channel_axis)
    if compat == "aimet":
        # AIMET exports param scales float32-rounded (research notes section 2.3)
        scale = np.asarray(enc.scale, np.float32).astype(np.float64)
        enc = Encoding(float(scale) if enc.axis is None else scale, enc.offset, enc.bitwidth, enc.signed,
                       enc.qmin, enc.qmax, enc.axis, enc.kind)
    return enc


def _activation_encoding(name, obs, votes, quantizer, spec, compat, percentile):
    if quantizer == "pot_mode":
        counter = votes.get(name)
        if not counter:
            raise CalibrationError(f"tensor {name!r}: no per-batch power-of-two votes")
        # the most common exponent wins; ties go to the larger scale (fewer clipped values)
        best = max(counter.items(), key=lambda kv: (kv[1], kv[0]))[0]
        return pot_encoding(best, spec.bitwidth, spec.signed, spec.strict)
    return encoding_for(obs, quantizer, spec.bitwidth, spec.signed, spec.symmetric, compat, spec.strict,
                        percentile)


def calibrate(graph, batches, act_quantizer="tf", param_quantizer="tf", target=None, per_channel=True,
              act_bw=8, weight_bw=8, bias_bw=32, compat="qnn", progress=None, percentile=99.99,
              skip_nonfinite=False, reduce_range=False):
    """Encodings for ``graph`` from calibration ``batches`` (an iterable of ``{input name:
    array}``, read once, streaming); returns an ``Encodings`` mapping that ``fx.Simulator``
    accepts. See the module docstring for what gets an encoding and how targets constrain it.

    ``batches`` may also be a ``fxsim.calib.Profile`` (``profile_graph`` over part of the data,
    possibly ``merge``d with others: parallel calibration); tf / symmetric / adjusted results
    then equal those of one run over all the data, histogram-based modes use the merged
    histogram (``fxsim.calib.observers``). Not with ``compat="aimet"``.

    ``act_quantizer`` / ``param_quantizer``: one of ``tf``, ``symmetric``, ``enhanced``,
    ``adjusted``, ``percentile`` (``percentile=``, default 99.99), ``mse``, ``kl``, ``distfit``,
    ``pot``, ``pot_mode`` (activations: the most common per-batch power of two); see
    ``fxsim.calib.algorithms``. ``act_bw`` 8 or 16, ``weight_bw`` 4,
    8 or 16, ``bias_bw`` 8, 32 or 64. ``compat`` ``"qnn"`` or ``"aimet"``. ``progress(done,
    total)`` after each batch. ``skip_nonfinite``: leave out batches with NaN/Inf instead of
    raising ``CalibrationError`` (``encs.report["skipped"]`` lists them). ``reduce_range``:
    weights computed with one bit less (7 of 8) and stored at ``weight_bw``, ONNX Runtime's
    ``reduce_range`` (what its users deploy on x86 CPUs without VNNI, where the ``onnxruntime``
    and ``fbgemm`` profiles saturate int16 pairs of full-range 8-bit products).
    """
    _check_choice(act_quantizer, QUANTIZERS, "act_quantizer")
    _check_choice(param_quantizer, tuple(q for q in QUANTIZERS if q != "pot_mode"), "param_quantizer")
    _check_choice(act_bw, ACT_BITWIDTHS, "act_bw")
    _check_choice(weight_bw, WEIGHT_BITWIDTHS, "weight_bw")
    _check_choice(bias_bw, BIAS_BITWIDTHS, "bias_bw")
    _check_choice(compat, ("qnn", "aimet"), "compat")
    tgt = None if target is None else (target if isinstance(target, Target) else load_target(target))
    aspec = _activation_spec(tgt, act_bw, act_quantizer)
    wspec = _weight_spec(tgt, weight_bw, per_channel, param_quantizer, compat)
    if not isinstance(reduce_range, bool):
        raise CalibrationError(f"reduce_range: expected True or False, got {reduce_range!r}")
    if reduce_range and compat == "aimet":
        raise CalibrationError("reduce_range is ONNX Runtime's option; compat='aimet' follows AIMET, which has none")
    computed_wspec = _reduced_range_spec(wspec) if reduce_range else wspec
    bias_storage = tgt.bias.storage if tgt is not None else f"s{bias_bw}"
    if tgt is not None and bias_storage in ("s32", "s64"):
        bias_bits = int(bias_storage[1:])
    elif tgt is not None and bias_storage.startswith("s8"):
        bias_bits = 8
    elif tgt is not None:
        bias_bits = None  # float bias
    else:
        bias_bits = bias_bw
    graph.check_topological_order()

    # phase 1: weights (exact statistics of the constants)
    encs, params, weight_of = {}, set(), {}
    for node in graph.nodes:
        if node.op_type not in _WEIGHTED or len(node.inputs) < 2:
            continue
        w = graph.constant(node.inputs[1])
        if w is None or w.ndim < 2 or not np.issubdtype(w.dtype, np.floating):
            continue
        name = node.inputs[1]
        try:
            enc = _weight_encoding(w, weight_axis(node, w), param_quantizer, computed_wspec, compat, percentile)
            if reduce_range:
                enc = _stored_at(enc, wspec.bitwidth)
        except CalibrationError as error:
            raise CalibrationError(f"weight {name!r} of node {node.name!r}: {error}") from None
        if _needs_pot(tgt) and param_quantizer != "pot":
            enc = _round_up_pot(enc)
        encs[name] = enc
        params.add(name)
        weight_of[node.name] = name

    # phase 2: activations (AIMET: on the graph with fake-quantized weights)
    run_graph = graph
    if compat == "aimet":
        run_graph = graph.copy()
        for name in params:
            run_graph.add_constant(name, aimet_fake_quantize(graph.constant(name), encs[name]))
    if isinstance(batches, Profile):
        if compat == "aimet":
            raise CalibrationError("compat='aimet' profiles the graph with fake-quantized weights (and its "
                                   "order-dependent PDF): pass the batches, not a Profile")
        prof = batches
    else:
        prof = profile_graph(run_graph, batches, histogram=True,
                             aimet_pdf=(compat == "aimet" and act_quantizer == "enhanced"),
                             pot_votes=(act_quantizer == "pot_mode"), skip_nonfinite=skip_nonfinite,
                             progress=progress, reference=(OnnxRuntimeReference(run_graph) if compat == "aimet"
                                                           else FloatReference(run_graph)))
    for name, obs in prof.items():
        if not obs.seen:
            raise CalibrationError(f"tensor {name!r}: no finite value in {prof.batches} batches")
        enc = _activation_encoding(name, obs, prof.votes, act_quantizer, aspec, compat, percentile)
        if _needs_pot(tgt) and act_quantizer not in ("pot", "pot_mode"):
            enc = _round_up_pot(enc)
        encs[name] = enc
    if compat == "aimet":
        for out, source in aimet_tied_outputs(graph).items():
            if source in encs and out in encs:
                encs[out] = encs[source]

    # biases: s_in * s_w[c] (DESIGN.md "Bias"). 64-bit biases are left to the simulator's own
    # derivation from the scales: fxsim's quantize takes codes up to 32 bits, and an op that
    # falls back to float would quantize a given bias encoding
    if bias_bits is not None and bias_bits <= 32:
        for node in graph.nodes:
            if node.name not in weight_of or len(node.inputs) < 3 or not node.inputs[2]:
                continue
            b = graph.constant(node.inputs[2])
            x_enc = encs.get(node.inputs[0])
            if b is None or x_enc is None:
                continue
            w_enc = encs[weight_of[node.name]]
            scale = float(x_enc.scale) * np.asarray(w_enc.scale, np.float64)
            if w_enc.axis is None:
                enc = Encoding.for_bias(float(scale), bias_bits)
            else:
                enc = Encoding.for_bias(scale, bias_bits, axis=0)
            encs[node.inputs[2]] = enc
            params.add(node.inputs[2])
    report = {"skipped": prof.skipped, "batches": prof.batches}
    meta = {"act_quantizer": act_quantizer, "param_quantizer": param_quantizer, "act_bw": aspec.bitwidth,
            "weight_bw": wspec.bitwidth, "bias_bw": bias_bits, "per_channel": wspec.per_channel,
            "reduce_range": reduce_range, "compat": compat, "target": tgt.name if tgt is not None else None}
    return Encodings(encs, source="fx.calibrate", report=report, params=params, meta=meta)
