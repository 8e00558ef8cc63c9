"""The fixed-point executor: a float graph plus encodings, run with a target's integer arithmetic.

``Simulator(graph, encodings, target)`` prepares everything that does not depend on the input
once (DESIGN.md "Performance approach"): it copies the graph, fuses Relu/Clip into their
producers (``fxsim.ir.passes.fuse_activations``), settles each tensor's encoding, and lowers
every node through its op module's ``lower_integer`` (``fxsim/ops``), which quantizes weights
and biases and derives multipliers with the target's rules. ``run`` then walks the nodes and
makes one lowered call per node on integer codes.

Each lowering is a prepared plan: the arguments of its kernels are checked and their parameters
derived at construction (``fxsim.arith``'s ``prepare_*`` functions), so a call checks only the
dtype and shape of the codes it is handed and runs the kernel; the walk itself is resolved once
(``_run_plan``: each node's input and output names and the tensors to drop after it), and so is
the quantization of each float graph input. Every run allocates the arrays it returns, so an
array returned by one run is never overwritten by a later one (``bench/bench_end_to_end.py``
measures what the walk costs beside the kernels).

Encodings (DESIGN.md "Encodings are authoritative"):

- every float tensor that a node computes, every float graph input, and the weight of every
  Conv / Gemm / MatMul needs an encoding; ``EncodingError`` lists the missing ones. Outputs of
  data-movement ops (Reshape, Transpose, Slice, Concat, MaxPool ...) without one take their
  input's; a fused activation's output takes the activation's encoding (or the producer's).
  Constants without an encoding are used as float values by the ops that read them in float;
- a lossless re-expression is silent: an 8- or 16-bit activation stored with the signedness the
  target does not allow is re-stored with the other one (the zero point shifts by 2^(bw-1));
- anything lossy (a bit width or a granularity the target does not support, an asymmetric
  encoding where the target is symmetric) raises ``TargetError`` naming the tensor and the
  constraint, unless ``adapt=True``, which re-derives an encoding over the same float range
  that satisfies the target and lists the tensor in ``sim.adapted``.

Mixed precision and INT32 overrides (the QNN document): a tensor whose encoding is a
``FloatEncoding`` runs in float (fp16-rounded at every op when its bit width is 16), one with an
``Int32Encoding`` in int32; ``fxsim.ir.passes.insert_conversions`` inserts the Dequantize /
Quantize / CastInt32 / CastFloat32 nodes where kinds meet (``sim.conversions`` lists them), so an
INT32-overridden op between quantized tensors runs as
``Dequantize -> Cast(INT32) -> op -> Cast(FP32) -> Quantize``.

Engine graph rewrites stated by the target: with ``qdq.s8_pairs = "as_u8"`` (ONNX Runtime's QDQ
s8-to-u8 transformer) a node whose every 8-bit activation is an s8 tensor of ``graph.qdq_pairs``
is lowered on u8 codes (zero point + 128, the same real values), its codes moved there and back
around the kernel; the tensors keep the file's s8 storage everywhere else (``sim.encodings``,
``run``'s results). Weighted layers pass their ``Layer`` (weight zero points, groups) to the
target, whose routes may pick another kernel's arithmetic for it (``Target.for_op``).

What ``run`` returns (DESIGN.md "Public contract"): codes in each tensor's storage dtype (float32
values with ``dequantize=True``); float tensors as float32, INT32-override tensors as int32;
tensors without an encoding (int64 indices, shapes) as they are. ``sim.lowerings`` says, per
node, how it ran: ``integer`` (the target's integer arithmetic), ``data_movement`` (codes moved),
``float_fallback`` (dequantize -> float op -> quantize), ``convert`` (an inserted conversion),
``float`` or ``int32`` (mixed precision).
"""

import numpy as np

from ..arith import Encoding, FloatEncoding, Int32Encoding
from ..arith import dequantize as dequantize_codes
from ..errors import EncodingError, FxsimError, GraphError, TargetError
from ..ir.passes import fuse_activations, insert_conversions
from ..ir.passes.activation_fusion import apply_fused_bounds
from ..ir.passes.mixed_precision import WEIGHTED_OPS, tensor_kind
from ..ops import get_op
from ..ops._integer import IntegerContext, Lowered, Operand, float_fallback, prepare_quantize_input
from ..ops.conversions import CONVERSIONS, cast_to_int32, round_to_half
from ..targets import load_target
from ._walk import checked_feeds, kept_names, release_plan
from .block_weights import lower_block_weights

__all__ = ["Simulator"]

_STORAGE_NAMES = {(8, False): "u8", (8, True): "s8", (16, False): "u16", (16, True): "s16"}


def _is_float(dtype):
    return np.issubdtype(np.dtype(dtype), np.floating)


class Simulator:
    """Runs ``graph`` (a ``fxsim.ir.Graph``, as ``fxsim.load`` returns it) with ``encodings``
    (a mapping tensor name -> ``Encoding``) and the integer arithmetic of ``target`` (a built-in
    profile name, a ``.toml`` path or a ``Target``). See the module docstring for the rules.
    For an already-quantized model ``encodings`` may be omitted: ``graph.encodings`` (read from
    the file) are used, and ``encodings`` passed override them tensor by tensor."""

    def __init__(self, graph, encodings=None, target="exact", adapt=False, fuse=True):
        self.target = load_target(target)
        graph.check_topological_order()
        g = graph.copy()
        self.fused = fuse_activations(g) if fuse else []
        self.graph = g
        self.aliases = dict(g.aliases)
        self.adapted = {}
        given = {}
        # an already-quantized model's own encodings (graph.encodings), overridden by those passed
        merged = {**getattr(graph, "encodings", {}), **dict(encodings or {})}
        # block-quantized weights: LPBQ -> exact per-channel codes; PER_BLOCK -> dequantized float
        # weights whose consumers run the float fallback (fxsim.runtime.block_weights)
        merged, self._float_weights = lower_block_weights(g, merged, self.target)
        for name, enc in merged.items():
            if not isinstance(enc, (Encoding, FloatEncoding, Int32Encoding)):
                raise EncodingError(f"encoding of {name!r}: expected an fxsim.Encoding (or FloatEncoding / "
                                    f"Int32Encoding), got {type(enc).__name__}")
            resolved = g.resolve(name) if name not in g.tensors else name
            if resolved not in g.tensors:
                raise EncodingError(f"encodings name {name!r}, which is not a tensor of graph {g.name!r}")
        # A tensor's own encoding wins over one given under a name a pass removed (the pre-ReLU
        # output of a fused Conv resolves to the ReLU's output but holds other values).
        given = {name: enc for name, enc in merged.items() if name in g.tensors}
        for name, enc in merged.items():
            if name not in g.tensors:
                given.setdefault(g.resolve(name), enc)
        self._removed_encodings = {name: enc for name, enc in merged.items() if name not in g.tensors}
        self.encodings = self._settle_encodings(given, adapt)
        self._release_stale_codes(given)
        self.conversions = insert_conversions(g, self.encodings)
        self.lowerings = [self._lower(node) for node in g.nodes]
        self._release = release_plan(g)
        self._plan = self._run_plan()
        self._feeds = self._input_plan()

    # ------------------------------------------------------------------ encodings

    def _settle_encodings(self, given, adapt):
        g = self.graph
        encs = {}
        missing = []
        for name in g.inputs:
            if _is_float(g.tensors[name].dtype):
                if name in given:
                    encs[name] = self._fit_activation(name, given[name], adapt)

                else:
                    missing.append(name)
        for node in g.nodes:
            op = get_op(node.op_type, node.name)
            weight_index = 1 if node.op_type in WEIGHTED_OPS else None  # the weight is input 1
            if isinstance(given.get(node.outputs[0]), FloatEncoding):
                weight_index = None  # a float output makes the weight float too (QNN rule)
            for i, name in enumerate(node.inputs):
                if name and g.constant(name) is not None and name in given:
                    encs[name] = self._fit_weight(name, given[name], adapt) if i == weight_index else given[name]
                elif (name and i == weight_index and g.constant(name) is not None and name not in given
                      and _is_float(g.tensors[name].dtype) and name not in self._float_weights):
                    missing.append(name)
            fused = node.meta.get("fused_activation")
            for k, name in enumerate(node.outputs):
                if not name or not _is_float(g.tensors[name].dtype):
                    continue
                enc = given.get(name)
                if enc is None and fused is not None and k == 0:
                    enc = self._removed_encodings.get(fused["removed_output"])
                if enc is None and getattr(op, "DATA_MOVEMENT", False) and node.inputs[0] in encs:
                    enc = encs[node.inputs[0]]
                    encs[name] = enc
                    continue
                if enc is None:
                    missing.append(name)
                    continue
                encs[name] = self._fit_activation(name, enc, adapt)
        if missing:
            shown = ", ".join(repr(m) for m in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise EncodingError(f"Simulator: no encoding for {shown}{more} (graph {g.name!r}): every float "
                                f"tensor a node computes, every float input and every Conv/Gemm/MatMul "
                                f"weight needs one")
        return encs

    def _release_stale_codes(self, given):
        """Integer weights and biases read from a quantized file are used as codes only while
        their encodings stand: a weight whose encoding was adapted (``adapt=True``) is dequantized
        with the file's encoding, to be requantized with the adapted one; an int32 bias whose scale
        is no longer ``s_in * s_w`` (an adapted input or weight) is dequantized, to be re-derived
        with the target's bias rule. Both are listed in ``sim.adapted``."""
        g = self.graph
        for node in g.nodes:
            if node.op_type not in WEIGHTED_OPS or len(node.inputs) < 2:
                continue
            x, w = node.inputs[0], node.inputs[1]
            for name in node.inputs[1:3]:
                value = g.constant(name)
                enc = given.get(name)
                if value is None or not np.issubdtype(value.dtype, np.integer) or not isinstance(enc, Encoding):
                    continue
                if name == w:
                    stale = self.encodings.get(name) != enc
                else:
                    xe, we = self.encodings.get(x), self.encodings.get(w)
                    if not isinstance(xe, Encoding) or not isinstance(we, Encoding):
                        continue
                    derived = np.float32(xe.scale) * np.asarray(we.scale, np.float32).reshape(-1)
                    stale = not np.array_equal(np.broadcast_to(np.asarray(enc.scale, np.float32).reshape(-1),
                                                               derived.shape), derived)
                if stale:
                    g.tensors[name].value = dequantize_codes(value, enc, name=name)
                    g.tensors[name].dtype = np.dtype(np.float32)
                    if name != w:
                        self.encodings.pop(name, None)
                    self.adapted.setdefault(name, {"from": enc, "to": self.encodings.get(name),
                                                   "constraint": "codes read from the file, requantized"})

    def _fit_activation(self, name, enc, adapt):
        if not isinstance(enc, Encoding):
            return enc  # FloatEncoding / Int32Encoding: not the target's activation storage
        spec = self.target.activations
        if enc.is_per_channel:
            return self._lossy(name, enc, adapt, "activations must be per-tensor", self._adapt_activation)
        key = _STORAGE_NAMES.get((enc.bitwidth, enc.signed))
        if key in spec.dtypes and not (spec.symmetric and not enc.is_symmetric):
            return enc
        other = _STORAGE_NAMES.get((enc.bitwidth, not enc.signed))
        if other in spec.dtypes and not (spec.symmetric and not enc.is_symmetric):
            return enc.with_storage(not enc.signed)  # lossless: the zero point shifts by 2^(bw-1)
        if key is not None and key in spec.dtypes or other in spec.dtypes:
            constraint = "symmetric activations (zero point 0)"
        else:
            constraint = f"activation storage {' or '.join(spec.dtypes)}"
        return self._lossy(name, enc, adapt, constraint, self._adapt_activation)

    def _fit_weight(self, name, enc, adapt):
        if not isinstance(enc, Encoding):
            return enc
        spec = self.target.weights
        if enc.is_per_channel and spec.granularity == "per_tensor":
            return self._lossy(name, enc, adapt, "per-tensor weights", self._adapt_weight)
        if spec.symmetric and not enc.is_symmetric:
            return self._lossy(name, enc, adapt, "symmetric weights", self._adapt_weight)
        return enc

    def _lossy(self, name, enc, adapt, constraint, adapter):
        if not adapt:
            raise TargetError(f"tensor {name!r}: target {self.target.name!r} needs {constraint}; its encoding "
                              f"{enc!r} cannot be re-expressed losslessly (pass adapt=True to requantize it)")
        new = adapter(enc)
        self.adapted[name] = {"from": enc, "to": new, "constraint": constraint}
        return new

    def _adapt_activation(self, enc):
        spec = self.target.activations
        lo = float(np.min(enc.min))
        hi = float(np.max(enc.max))
        storage = spec.dtypes[0]
        bits, signed = (8 if storage.endswith("8") else 16), storage.startswith("s")
        if spec.symmetric:
            return Encoding.symmetric(absmax=max(abs(lo), abs(hi)), bitwidth=bits, signed=signed)
        return Encoding.from_min_max(lo, hi, bitwidth=bits, signed=signed)

    def _adapt_weight(self, enc):
        spec = self.target.weights
        absmax = float(np.max(np.maximum(np.abs(enc.min), np.abs(enc.max))))
        return Encoding.symmetric(absmax=absmax, bitwidth=enc.bitwidth, strict=spec.narrow_range)

    # ------------------------------------------------------------------ lowering

    def _operand(self, name):
        if not name:
            return None
        t = self.graph.tensors[name]
        return Operand(name, tuple(t.shape) if t.shape is not None else None, np.dtype(t.dtype),
                       self.encodings.get(name), t.value)

    def _lower(self, node):
        if node.op_type in CONVERSIONS and "conversion_of" in node.meta:
            op = CONVERSIONS[node.op_type]
        else:
            op = get_op(node.op_type, node.name)
        kind = tensor_kind(self.encodings.get(node.outputs[0])) if node.outputs and node.outputs[0] else None
        if kind in ("float", "int32") and "conversion_of" not in node.meta:
            return self._lower_unquantized(node, op, kind)
        fused = node.meta.get("fused_activation")
        ctx = IntegerContext(node.name, node.op_type, node.attrs, [self._operand(n) for n in node.inputs],
                             [self._operand(n) for n in node.outputs], self.target,
                             fused["bounds"] if fused else None, self.graph)
        retyped = self._retyped_pairs(ctx)
        if retyped is not None:
            return self._lower_retyped(node, op, ctx, *retyped)
        return self._lower_ctx(node, op, ctx)

    def _lower_ctx(self, node, op, ctx):
        try:
            if node.op_type in WEIGHTED_OPS and len(node.inputs) > 1 and node.inputs[1] in self._float_weights:
                return float_fallback(ctx, op.run_float, self._float_weights[node.inputs[1]])
            if hasattr(op, "lower_integer"):
                return op.lower_integer(ctx)
            return float_fallback(ctx, op.run_float)
        except FxsimError as error:
            text = str(error)
            prefix = f"node {node.name!r}"
            raise type(error)(text if text.startswith(prefix) else f"{prefix} ({node.op_type}): {text}") from error

    def _retyped_pairs(self, ctx):
        """``(input positions, output positions)`` of the s8 tensors this node's kernel reads and
        writes as u8, or None: with a target whose engine retypes a QDQ model's s8 pairs
        (``qdq.s8_pairs = "as_u8"``, ONNX Runtime's QDQS8ToU8Transformer), a node whose every
        8-bit activation operand (computed, per-tensor) is one of ``graph.qdq_pairs`` stored as
        s8. A node that also touches another 8-bit activation keeps the file's storage (ORT's QDQ
        selectors fuse a group only when its Q/DQ types agree)."""
        if self.target.qdq.s8_pairs != "as_u8" or not self.graph.qdq_pairs:
            return None
        positions = ([], [])
        for side, operands in enumerate((ctx.inputs, ctx.outputs)):
            for i, operand in enumerate(operands):
                enc = operand.encoding if operand is not None else None
                if operand is None or operand.value is not None or not isinstance(enc, Encoding) or enc.bitwidth != 8:
                    continue
                if not enc.signed or enc.is_per_channel or operand.name not in self.graph.qdq_pairs:
                    return None
                positions[side].append(i)
        return positions if positions[0] or positions[1] else None

    def _lower_retyped(self, node, op, ctx, inputs, outputs):
        """The node lowered on u8 codes (zero point + 128; the same real values) for the
        positions ``_retyped_pairs`` found, its s8 codes moved there and back around the run:
        ORT runs the rewritten QDQ group's kernel on u8 tensors."""
        def as_u8(operand):
            enc = operand.encoding
            u8 = Encoding.from_zero_point(enc.scale, int(enc.zero_point) + 128, "uint8")
            return Operand(operand.name, operand.shape, np.dtype(np.uint8), u8, operand.value)

        ins = [as_u8(o) if i in inputs else o for i, o in enumerate(ctx.inputs)]
        outs = [as_u8(o) if i in outputs else o for i, o in enumerate(ctx.outputs)]
        lowered = self._lower_ctx(node, op, IntegerContext(ctx.node_name, ctx.op_type, ctx.attrs, ins, outs,
                                                           ctx.target, ctx.fused_activation, ctx.graph))
        inner, shift_in, shift_out = lowered.run, frozenset(inputs), frozenset(outputs)

        def run(values):
            values = [(v.view(np.uint8) ^ np.uint8(0x80)) if i in shift_in and v is not None else v
                      for i, v in enumerate(values)]
            results = inner(values)
            return [(r ^ np.uint8(0x80)).view(np.int8) if i in shift_out else r for i, r in enumerate(results)]

        lowered.run = run
        lowered.arithmetic = (lowered.arithmetic + " " if lowered.arithmetic else "") + \
            "(on u8 codes, zero point + 128: the engine's QDQ s8-to-u8 rewrite)"
        lowered.info = {**lowered.info, "qdq_s8_as_u8": True}
        return lowered

    def _lower_unquantized(self, node, op, kind):
        """A node whose output is a float (mixed precision) or INT32-override tensor: its float
        semantics on float (fp16: every value and result rounded to IEEE half) or int32 values;
        constants become fp16 or int32 the same way."""
        g = self.graph
        enc = self.encodings[node.outputs[0]]
        half = kind == "float" and enc.bitwidth == 16
        consts = []
        for name in node.inputs:
            value = g.constant(name) if name else None
            if value is not None and np.issubdtype(value.dtype, np.floating):
                value = round_to_half(value) if half else (cast_to_int32(value, name) if kind == "int32" else value)
            consts.append(value)
        fused = node.meta.get("fused_activation")
        attrs = node.attrs

        def run(inputs):
            values = [c if c is not None else x for c, x in zip(consts, inputs)]
            outs = op.run_float(attrs, values)
            if fused:
                outs[0] = apply_fused_bounds(outs[0], fused["bounds"])
            if half:
                outs = [round_to_half(o) if np.issubdtype(o.dtype, np.floating) else o for o in outs]
            elif kind == "int32":
                outs = [cast_to_int32(o, node.name) for o in outs]
            return outs

        what = "fp16" if half else ("fp32" if kind == "float" else "int32")
        return Lowered(run, kind=kind, arithmetic=f"{what} values (mixed precision)")

    # ------------------------------------------------------------------ running

    def _run_plan(self):
        """Per node, resolved once: its input and output names (and, for the common one-input or
        one-output node, that name alone, so a run indexes no list for it), its ``Lowered``
        (looked up as an object at run time, so that its ``run`` may be wrapped, as the benchmark
        does), and the computed tensors it reads for the last time that are not graph outputs.
        An absent optional input is named ``""``, which is never a key of the run's tensors, so
        fetching it gives None."""
        g = self.graph
        outputs = set(g.outputs)
        plan = []
        for node, lowered, release in zip(g.nodes, self.lowerings, self._release):
            names_in, names_out = tuple(name or "" for name in node.inputs), tuple(node.outputs)
            single_in = names_in[0] if len(names_in) == 1 else None
            single_out = names_out[0] if len(names_out) == 1 and names_out[0] else None
            plan.append((node, single_in, names_in, single_out, names_out, lowered,
                         tuple(name for name in release if name not in outputs)))
        return plan

    def _input_plan(self):
        """Per graph input with a quantized encoding: the target's quantize, prepared once."""
        g = self.graph
        plan = {}
        for name in g.inputs:
            enc = self.encodings.get(name)
            if isinstance(enc, Encoding):
                shape = g.tensors[name].shape
                plan[name] = prepare_quantize_input(enc, self.target, name, tuple(shape) if shape is not None else None)
        return plan

    def _input_codes(self, inputs):
        env = {}
        for name, x in checked_feeds(self.graph, inputs).items():
            enc = self.encodings.get(name)
            if enc is None:
                env[name] = x
            elif isinstance(enc, FloatEncoding):
                env[name] = round_to_half(x) if enc.bitwidth == 16 else np.asarray(x, np.float32)
            elif isinstance(enc, Int32Encoding):
                env[name] = cast_to_int32(x, name)
            elif np.issubdtype(x.dtype, np.floating):
                try:
                    env[name] = self._feeds[name](x)
                except FxsimError as error:  # NaN / Inf: name the graph input, not only the kernel
                    raise type(error)(f"input {name!r}: {error}") from error
            elif x.dtype == enc.dtype:
                if x.size and (x.min() < enc.qmin or x.max() > enc.qmax):
                    raise EncodingError(f"input {name!r}: codes outside [{enc.qmin}, {enc.qmax}]")
                env[name] = x
            elif x.dtype.kind in "iu":
                raise GraphError(f"input {name!r}: integer codes must be {enc.dtype}, got {x.dtype}")
            else:
                raise GraphError(f"input {name!r}: expected float values or {enc.dtype} codes, got dtype {x.dtype}")
        return env

    def run(self, inputs, dequantize=False, keep=None):
        """Run on ``inputs`` ({input name: array}): float inputs are quantized with their
        encoding and the target's quantize rule; integer inputs are taken as codes.

        Returns {name: array}: the graph outputs, then the ``keep``-ed tensors (``"all"`` or a
        list of names; a name a pass removed is looked up through ``sim.aliases``), as codes,
        or float32 values with ``dequantize=True``. The outputs of an already-quantized model
        come back in the dtype the model declares (``graph.declared``): float32 for an output
        that ends in DequantizeLinear (``(q - zero_point) * scale`` in float32, as the engine
        dequantizes), codes for an integer output.
        """
        g = self.graph
        env = self._input_codes(inputs)
        kept = kept_names(g, keep)
        protected = set(kept.values())  # (graph outputs are never in a release list)
        get, pop = env.get, env.pop
        for node, single_in, names_in, single_out, names_out, lowered, release in self._plan:
            try:
                results = lowered.run([get(single_in)] if single_in is not None else [get(n) for n in names_in])
            except FxsimError as error:
                raise type(error)(f"node {node.name!r} ({node.op_type}): {error}") from error
            if single_out is not None:
                env[single_out] = results[0]
            else:
                for name, value in zip(names_out, results):
                    if name:
                        env[name] = value
            for name in release:
                if name not in protected:
                    pop(name, None)
        out = {}
        for name in list(g.outputs) + [k for k in kept if k not in g.outputs]:
            resolved = kept.get(name, name)
            value = env[resolved] if resolved in env else g.constant(resolved)
            enc = self.encodings.get(resolved)
            declared = g.declared.get(name) if name in g.outputs else None
            wants_float = dequantize or (declared is not None and _is_float(declared))
            if wants_float and isinstance(enc, Encoding) and not _is_float(np.asarray(value).dtype):
                value = dequantize_codes(value, enc, name=resolved)
            out[name] = value
        return out

    def summary(self):
        """One line per node: name, op type, how it ran (integer / data_movement /
        float_fallback) and its arithmetic."""
        lines = [f"Simulator: target {self.target.name}, {len(self.graph.nodes)} nodes"]
        for node, low in zip(self.graph.nodes, self.lowerings):
            lines.append(f"  {node.name} ({node.op_type}): {low.kind}: {low.arithmetic}")
        return "\n".join(lines)

