"""A derived bound for comparing fxsim's integer lowering with an engine's float path through a QDQ
graph (the ONNX reference evaluator's DequantizeLinear -> float op -> QuantizeLinear), through depth.

The stated float-path bound is one code for a layer whose input codes agree: fxsim rounds the
exact value once (its integer requantization), the engine rounds its float computation of the
same value once, and the two codes are at most one apart (each within half a code of the real
value, up to float error; measured: every layer of the oracle models alone on the engine's own
input codes, ``test_u16_float_path_bound_holds_layer_by_layer``).

Through depth the inputs of a layer may already differ. If the codes of the layer's integer input
``i`` differ by ``d_i`` (elementwise, ``|fxsim - engine|``), their real values differ by
``d_i * s_i``; the ops between the layer's integer inputs and its QuantizeLinear move an
elementwise real difference by at most their elementwise absolute-value bound, so the real value
before the layer's rounding differs at each element by at most ``D = P(d * s)``, and the layer's
codes by at most

    ``b = 1 + ceil(D / s_out)``

(the layer's one code plus the propagated difference in output steps, rounded up). ``P`` replaces
each op by a monotone map that bounds how far it moves its output given how far its inputs moved:

- ``Conv`` / ``Gemm`` / ``MatMul``: the same op with the weights ``|w_q - zp_w| * s_w`` and no
  bias (``|sum w (x - x')| <= sum |w| |x - x'|``; padding is equal in both runs);
- ``Relu``, ``Clip``, ``Tanh``: identity (1-Lipschitz); ``LeakyRelu``: times ``max(1, |alpha|)``;
  ``Sigmoid``: times 1/4 (its largest slope);
- ``Mul`` of two dequantized activations: ``|da| max|b| + |db| max|a| + |da| |db|``, the
  magnitudes from the operands' code ranges;
- ``MaxPool`` (``|max x - max x'| <= max |x - x'|``), ``AveragePool``, ``GlobalAveragePool``,
  ``ReduceMean`` (a mean of differences), ``Add``, ``Concat``, ``Reshape``, ``Flatten``,
  ``Transpose``, ``Squeeze``, ``Unsqueeze``: themselves.

Any other op raises (no bound derived for it). ``P`` runs in float64 in the ONNX reference
evaluator. The bound depends on the model's weights, scales and op types and on the differences
the layer's inputs actually carry (each layer is judged on what it was given), never on the layer's
own measured difference. (Propagating the worst case instead, each input bounded by its own bound
everywhere rather than by its actual difference, is derived too but exceeds the 16-bit code range
after seven layers of the MobileNet-like stack, 1.3e9 codes at its output: a check that cannot
fail.)
"""

import math

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

_SAME = {"MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Add", "Concat", "Reshape", "Flatten",
         "Transpose", "Squeeze", "Unsqueeze"}
_IDENTITY = {"Relu", "Clip", "Tanh"}


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _abs_weight(dq, inits):
    """``|w_q - zp_w| * s_w`` (float64) of a weight DequantizeLinear."""
    w = inits[dq.input[0]].astype(np.float64)
    scale = inits[dq.input[1]].astype(np.float64)
    zp = inits[dq.input[2]].astype(np.float64) if len(dq.input) > 2 and dq.input[2] else np.zeros(1)
    if scale.size > 1:
        shape = [1] * w.ndim
        shape[_attrs(dq).get("axis", 1)] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return np.abs(w - zp) * scale


def _magnitude(dq, inits, node):
    """The largest ``|(q - zp) * s|`` over the code range of the activation a DequantizeLinear
    ``dq`` reads (a Mul operand's magnitude bound)."""
    if dq is None or dq.op_type != "DequantizeLinear" or dq.input[0] in inits:
        raise NotImplementedError(f"no derived bound for Mul (node {node.name!r}) of an operand that is not "
                                  f"a dequantized activation")
    scale = float(inits[dq.input[1]])
    zp = inits[dq.input[2]]
    info = np.iinfo(zp.dtype)
    return scale * max(abs(int(info.min) - int(zp)), abs(int(info.max) - int(zp)))


class BoundModel:
    """``P`` of the module docstring for a QDQ ``model``: ``codes(deltas)`` maps ``{integer tensor:
    |fxsim codes - engine codes|}`` of every QuantizeLinear output to ``{integer tensor: derived
    bound in codes}`` (elementwise arrays)."""

    def __init__(self, model):
        inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        nodes, new_inits, inputs, outputs = [], [], [], []
        producers = {o: n for n in model.graph.node for o in n.output}
        self.scales = {}
        for node in model.graph.node:
            op = node.op_type
            if op == "DequantizeLinear":
                if node.input[0] in inits:  # a weight or a bias: |w| for weights; biases cancel
                    new_inits.append(numpy_helper.from_array(_abs_weight(node, inits), node.output[0]))
                else:  # an integer activation: its real difference d * s is an input of P
                    delta = f"delta/{node.input[0]}"
                    if delta not in inputs:
                        inputs.append(delta)
                    scale = f"scale/{node.output[0]}"
                    new_inits.append(numpy_helper.from_array(np.float64(inits[node.input[1]]), scale))
                    nodes.append(helper.make_node("Mul", [delta, scale], [node.output[0]]))
            elif op == "QuantizeLinear":
                if node.input[0] in inits:
                    continue
                self.scales[node.output[0]] = float(inits[node.input[1]])
                outputs.append((node.output[0], node.input[0]))
            elif op in ("Conv", "Gemm", "MatMul"):
                attrs = _attrs(node)
                if op == "Gemm":
                    attrs = {k: v for k, v in attrs.items() if k in ("transA", "transB")}
                nodes.append(helper.make_node(op, list(node.input[:2]), list(node.output), **attrs))
            elif op in _IDENTITY:
                nodes.append(helper.make_node("Identity", [node.input[0]], list(node.output)))
            elif op in ("LeakyRelu", "Sigmoid"):
                gain = max(1.0, abs(_attrs(node).get("alpha", 0.01))) if op == "LeakyRelu" else 0.25
                name = f"gain/{node.output[0]}"
                new_inits.append(numpy_helper.from_array(np.float64(gain), name))
                nodes.append(helper.make_node("Mul", [node.input[0], name], list(node.output)))
            elif op == "Mul":  # |a b - a' b'| <= |da| max|b| + |db| max|a| + |da| |db|
                magnitudes = [_magnitude(producers.get(i), inits, node) for i in node.input[:2]]
                for k, (i, m) in enumerate(zip(node.input[:2], magnitudes)):
                    new_inits.append(numpy_helper.from_array(np.float64(m), f"max/{node.output[0]}/{k}"))
                out = node.output[0]
                nodes += [helper.make_node("Mul", [node.input[0], f"max/{out}/1"], [f"{out}/a"]),
                          helper.make_node("Mul", [node.input[1], f"max/{out}/0"], [f"{out}/b"]),
                          helper.make_node("Mul", [node.input[0], node.input[1]], [f"{out}/ab"]),
                          helper.make_node("Sum", [f"{out}/a", f"{out}/b", f"{out}/ab"], [out])]
            elif op in _SAME:
                nodes.append(onnx.NodeProto.FromString(node.SerializeToString()))
            else:
                raise NotImplementedError(f"no derived bound for {op} (node {node.name!r})")
        for name, value in inits.items():
            if value.dtype == np.int64:
                new_inits.append(numpy_helper.from_array(value, name))  # shapes and axes
        computed = {o for n in nodes for o in n.output}
        # a QuantizeLinear of a graph input: the same float values in both runs, one code
        self.unit = [q for q, pre in outputs if pre not in computed]
        outputs = [(q, pre) for q, pre in outputs if pre in computed]
        self.outputs = outputs
        graph = helper.make_graph(nodes, "float_path_bound",
                                  [helper.make_tensor_value_info(n, onnx.TensorProto.DOUBLE, None) for n in inputs],
                                  [helper.make_tensor_value_info(pre, onnx.TensorProto.DOUBLE, None)
                                   for _, pre in outputs], new_inits)
        self.inputs = [n.split("/", 1)[1] for n in inputs]
        self.evaluator = ReferenceEvaluator(helper.make_model(graph, opset_imports=model.opset_import))

    def codes(self, deltas):
        """The derived bound of every integer tensor, given the code differences ``deltas``."""
        feeds = {f"delta/{n}": np.abs(np.asarray(deltas[n], np.float64)) for n in self.inputs}
        reals = self.evaluator.run(None, feeds)
        bounds = {q: 1 + np.ceil(np.asarray(real) / self.scales[q] - 1e-9).astype(np.int64)
                  for (q, _), real in zip(self.outputs, reals)}
        bounds.update({q: np.int64(1) for q in self.unit})
        return bounds


def check(model, ours, theirs, names):
    """``(problems, worst bound)``: each of ``names`` (QuantizeLinear outputs) within its derived
    bound, given the differences of its inputs."""
    bound_model = BoundModel(model)
    deltas = {n: np.abs(np.asarray(ours[n], np.int64) - np.asarray(theirs[n], np.int64)) for n in names}
    bounds = bound_model.codes(deltas)
    problems, worst = [], 0
    for name in names:
        bound = np.broadcast_to(bounds[name], deltas[name].shape)
        worst = max(worst, int(bound.max()))
        over = np.argwhere(deltas[name] > bound)
        if over.size:
            first = tuple(int(i) for i in over[0])
            problems.append(f"{name}: {len(over)} elements beyond the derived bound; first at {first}: fxsim "
                            f"{ours[name][first]}, engine {theirs[name][first]}, bound {bound[first]} codes")
    return problems, worst
