"""Running a quantized ONNX model in the real engines and in fxsim, for the oracle suite.

- ``run_ort(model, feeds, level, intermediates)``: ONNX Runtime's CPU provider, one intra-op and
  one inter-op thread, at ``level`` (``disable_all``, ``basic``, ``extended``, ``all``); with
  ``intermediates`` the integer tensors that QuantizeLinear and the QLinear ops write are added
  as graph outputs. Also returns the op types of the graph ORT actually ran (its optimised
  model), which says whether it fused the QDQ groups into QLinear ops (integer path) or ran
  them as DequantizeLinear -> float op -> QuantizeLinear (float path).
- ``run_reference(model, feeds, intermediates)``: ``onnx.reference.ReferenceEvaluator``.
- ``run_fxsim(model, feeds, target, names)``: ``fx.Simulator(fx.load(model), target=target)``,
  the graph outputs plus the codes of ``names``.
- ``describe_mismatch(name, difference, sim)``: the report of one differing tensor (first
  differing element, both values, fxsim's accumulator there).
- ``cpu_features()``: the x86 flags the u8 x s8 arithmetic depends on; ``ort_target()`` the
  fxsim profile for this CPU (``onnxruntime-vnni`` when AVX512-VNNI or AVX-VNNI is present,
  ``onnxruntime`` otherwise).
"""

import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx.reference import ReferenceEvaluator

import fxsim as fx

LEVELS = {
    "disable_all": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}

_QUANTIZED_PRODUCERS = {"QuantizeLinear", "QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul",
                        "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearConcat", "QGemm",
                        "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax"}


def cpu_features():
    """The x86 flags of this CPU that change integer results (``/proc/cpuinfo``)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    return sorted(set(flags) & {"avx2", "avx512bw", "avx512_vnni", "avx_vnni", "avx512f"})


def has_vnni():
    return bool({"avx512_vnni", "avx_vnni"} & set(cpu_features()))


def ort_target():
    """The fxsim profile of ONNX Runtime on this CPU."""
    return "onnxruntime-vnni" if has_vnni() else "onnxruntime"


def integer_tensors(model):
    """Names of the integer tensors QuantizeLinear and the QLinear ops write, in node order
    (graph outputs excluded)."""
    outputs = {o.name for o in model.graph.output}
    return [n.output[0] for n in model.graph.node
            if n.op_type in _QUANTIZED_PRODUCERS and n.output[0] not in outputs]


def _with_outputs(model, names):
    model = onnx.ModelProto.FromString(model.SerializeToString())
    present = {o.name for o in model.graph.output}
    for name in names:
        if name not in present:
            model.graph.output.append(onnx.ValueInfoProto(name=name))
    return model


def run_ort(model, feeds, level, intermediates=False):
    """``(results, op types ORT ran)``; see the module docstring."""
    if intermediates:
        model = _with_outputs(model, integer_tensors(model))
    options = ort.SessionOptions()
    options.graph_optimization_level = LEVELS[level]
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    with tempfile.TemporaryDirectory() as tmp:
        options.optimized_model_filepath = os.path.join(tmp, "optimized.onnx")
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        ran = sorted({n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node})
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds))), ran


def run_reference(model, feeds, intermediates=False):
    if intermediates:
        model = _with_outputs(model, integer_tensors(model))
    names = [o.name for o in model.graph.output]
    return dict(zip(names, ReferenceEvaluator(model).run(None, feeds)))


#: ORT float op -> the ``Target.nonlinear`` key of the fused QLinear kernel whose own algorithm the
#: ORT profiles model (``ort_lookup``): a run that kept the float op computed DequantizeLinear ->
#: float op -> QuantizeLinear instead
_UNFUSED_ALGORITHMS = {"Softmax": "softmax"}
#: ORT float op -> the profile section and field whose value names the fused QLinear kernel's rule,
#: and the value that runs the float fallback instead: an unfused QDQ AveragePool is ORT's float
#: AveragePool, whose count past a ceil_mode end pad is not QLinearAveragePool's kernel size
#: (measured: 48 codes apart there, test_ort_qlinear_ops.py)
_UNFUSED_SECTIONS = {"AveragePool": ("average_pool", "method", "exact")}


def unfused_target(target, ran):
    """The profile of an ORT run that left QDQ groups unfused (ORT_DISABLE_ALL / ORT_ENABLE_BASIC,
    ``ran`` the op types of its optimised graph): ``target`` with each op ORT ran as a float op,
    where the profile names ORT's fused integer algorithm for it (QLinearSoftmax's
    ``ort_lookup``; AveragePool's QLinearAveragePool rule, ``_UNFUSED_SECTIONS``), switched to
    the float fallback (DequantizeLinear -> float op -> QuantizeLinear, what that run computed);
    the target itself when there is none."""
    import dataclasses

    from fxsim.targets import load_target
    from fxsim.targets.target import FrozenMap

    base = load_target(target)
    keys = [key for op, key in _UNFUSED_ALGORITHMS.items()
            if op in ran and base.nonlinear.get(key) not in (None, "float_fallback")]
    sections = [(op, rule) for op, rule in _UNFUSED_SECTIONS.items() if op in ran]
    if not keys and not sections:
        return target
    changes = {"nonlinear": FrozenMap({**base.nonlinear, **{key: "float_fallback" for key in keys}})}
    for _, (section, field, value) in sections:
        changes[section] = dataclasses.replace(getattr(base, section), **{field: value})
    names = keys + [section for _, (section, _, _) in sections]
    return dataclasses.replace(base, name=f"{base.name} (unfused: {', '.join(names)} in float)", **changes)


def run_fxsim(model, feeds, target, names=()):
    """``(results, simulator)``: the graph outputs in the model's declared dtypes, and the codes
    of ``names`` (tensors the frontend folded are found through ``sim.aliases``). The int32/int64
    accumulators of the weighted ops (Conv, Gemm, MatMul) are kept in ``sim.accumulators`` by
    output tensor, for mismatch reports."""
    from fxsim.ops import _integer

    sim = fx.Simulator(fx.load(model), target=target)
    sim.accumulators = {}
    original = _integer.Rescale.__call__

    def recording(self, acc, axis=1):
        sim.accumulators[self.name] = np.array(acc)
        return original(self, acc, axis)

    _integer.Rescale.__call__ = recording
    try:
        return sim.run(feeds, keep=list(names) or None), sim
    finally:
        _integer.Rescale.__call__ = original


def describe_mismatch(name, difference, sim=None, engine="engine"):
    """The mismatch report of one tensor: its name, how many elements differ, the first differing
    element's index, fxsim's and the engine's values there and, for the output of a Conv / Gemm /
    MatMul (``sim.accumulators``, kept by ``run_fxsim``), fxsim's int32 accumulator at that element."""
    first = tuple(int(i) for i in difference.indices[0])
    text = (f"{name}: {difference.count} of {difference.total} elements differ (max |a - b| "
            f"{difference.max_abs:g}); first at {first}: fxsim {difference.a_values[0]}, {engine} "
            f"{difference.b_values[0]}")
    acc = getattr(sim, "accumulators", {}).get(sim.graph.resolve(name)) if sim is not None else None
    if acc is not None and acc.ndim == len(first):
        text += f", fxsim accumulator {int(acc[first])}"
    elif sim is not None:
        text += " (no accumulator: not a Conv / Gemm / MatMul output)"
    return text


def mismatches(ours, theirs, names):
    """``{name: fx.diff result}`` for each of ``names`` whose values differ (exactly)."""
    found = {}
    for name in names:
        d = fx.diff({name: ours[name]}, {name: theirs[name]})
        if d is not None:
            found[name] = d
    return found


def compare(ours, theirs, names, sim, exact, where, engine="engine"):
    """``(problems, max_codes)``: each tensor of ``names`` must be equal (``exact``: an integer
    path) or at most one code apart (a float path: a float32 sum can move a value across one
    rounding boundary). A float tensor (a DequantizeLinear output) is compared through the codes it
    was dequantized from (``rint(value / scale)`` with fxsim's encoding). ``problems`` holds one
    ``describe_mismatch`` line per failing tensor; ``max_codes`` the largest code difference seen
    (the measured number the float-path bound is checked against)."""
    problems, max_codes = [], 0
    for name in names:
        a, b = np.asarray(ours[name]), np.asarray(theirs[name])
        assert a.shape == b.shape and a.dtype == b.dtype, f"{where}: {name}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        difference = fx.diff({name: a}, {name: b})
        if difference is None:
            continue
        if not np.issubdtype(a.dtype, np.integer):  # the float output: the codes it was dequantized from
            enc = sim.encodings[sim.graph.resolve(name)]
            a, b = (np.rint(v.astype(np.float64) / np.float32(enc.scale)).astype(np.int64) for v in (a, b))
        steps = int(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64))))
        max_codes = max(max_codes, steps)
        if exact:
            problems.append(describe_mismatch(name, difference, sim, engine))
        elif steps > 1:
            problems.append(describe_mismatch(name, difference, sim, engine) + f" ({steps} codes apart; the bound is 1)")
    return problems, max_codes
