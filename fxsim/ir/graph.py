"""The graph IR: tensors, nodes and the graph that orders them.

A ``Graph`` is plain data that the passes rewrite in place and the executors walk:

- ``nodes``: the nodes in a topological order (``check_topological_order`` verifies it);
- ``tensors``: name -> ``Tensor`` for every tensor the nodes use: graph inputs, node outputs
  and constants (initializers and folded values, ``Tensor.value`` set);
- ``inputs`` / ``outputs``: the model's input and output names, in the model's order
  (constant inputs, i.e. initializers listed as inputs, are not inputs);
- ``aliases``: name of a tensor a pass removed -> name of the tensor that now holds the same
  values (Identity / Dropout removal). Look names up through ``resolve``;
- ``removed``: name of a tensor a pass removed whose values exist nowhere any more -> why
  (the pre-BN output of a Conv that BN folding rewrote); asking for one is an error that says so;
- ``opset``: the model's default-domain opset;
- ``encodings``: tensor name -> ``Encoding`` (or ``FloatEncoding`` for a tensor the model computes
  in float) read from an already-quantized model (QDQ / QOperator, see
  ``fxsim.frontends.onnx_quantized``); empty for a float model. ``fx.Simulator(graph)`` uses them
  when no encodings are passed. Constants with an ``Encoding`` whose value is an integer array
  hold the file's codes (weights, int32 biases), not float values;
- ``layouts``: tensor name -> the axis permutation that takes the IR value (NCHW) to the model's
  own layout (NHWC), for the 4-D intermediates of a TFLite model (``fxsim.frontends.tflite``);
  empty otherwise;
- ``declared``: graph input / output name -> the numpy dtype a quantized model declares for it
  (the IR tensor is float with an encoding); ``Simulator.run`` returns that dtype (float32 for an
  output that ends in DequantizeLinear, codes for an integer output). Empty for a float model.
- ``qdq_pairs``: the tensors a QDQ model carries through a QuantizeLinear -> DequantizeLinear
  pair that an engine's graph optimiser may retype: the QuantizeLinear's only consumer is one
  DequantizeLinear, both with one constant zero point of the same value, and its output is not a
  graph output (ONNX Runtime's QDQ s8-to-u8 rewrite acts on exactly these; a target profile says
  whether its engine does, ``qdq.s8_pairs``). Look names up through ``resolve``. Empty otherwise.
- ``dequantized_nodes``: names of the nodes a QDQ model computes in float between a
  DequantizeLinear and a QuantizeLinear (not QOperator ops on integer tensors); a target profile
  says which of them its engine runs in float (``qdq.float_ops``). Empty otherwise.

Nodes carry ONNX op types and attribute dicts (see ``fxsim/ops/__init__.py`` for the op
interface) and a free ``meta`` dict where passes record what they did, e.g. BN folding's
``node.meta["folded_batchnorm"]``.
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..errors import GraphError


@dataclass
class Tensor:
    """A tensor of the graph: name, static shape, dtype, and the value of a constant.

    ``shape`` is a tuple of ints once shape inference has run (None before); ``value`` is a
    numpy array for constants (initializers and folded tensors) and None for computed ones.
    """

    name: str
    shape: tuple = None
    dtype: np.dtype = np.dtype(np.float32)
    value: np.ndarray = None

    @property
    def is_constant(self):
        """True when the tensor has a constant value."""
        return self.value is not None

    def __repr__(self):
        kind = "const " if self.is_constant else ""
        shape = list(self.shape) if self.shape is not None else "[?]"
        return f"Tensor({self.name!r}: {kind}{np.dtype(self.dtype).name}{shape})"


@dataclass
class Node:
    """One operator application.

    ``inputs`` and ``outputs`` are tensor names; an absent optional input or output is ``""``.
    ``attrs`` holds the ONNX attributes as Python values (ints, floats, strings, lists, numpy
    arrays for tensor attributes), canonicalised by the op's ``canonicalize`` hook. ``opset`` is
    the default-domain opset the node was read at. ``meta`` records what passes did to the node.
    """

    name: str
    op_type: str
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)
    opset: int = None
    meta: dict = field(default_factory=dict)

    def __repr__(self):
        ins = ", ".join(self.inputs)
        outs = ", ".join(self.outputs)
        return f"Node({self.name!r}: {self.op_type}({ins}) -> {outs})"


class Graph:
    """An ordered graph of nodes over a table of tensors (see the module docstring).

    ``Graph(name, nodes, tensors, inputs, outputs, opset)``: ``nodes`` a list of ``Node`` in
    topological order, ``tensors`` a dict name -> ``Tensor``, ``inputs`` / ``outputs`` lists of
    tensor names; ``aliases``, ``removed``, ``encodings`` and ``declared`` start empty.
    """

    def __init__(self, name="graph", nodes=None, tensors=None, inputs=None, outputs=None, opset=None):
        self.name = name
        self.nodes = list(nodes or [])
        self.tensors = dict(tensors or {})
        self.inputs = list(inputs or [])
        self.outputs = list(outputs or [])
        self.aliases = {}
        self.removed = {}
        self.opset = opset
        self.encodings = {}
        self.declared = {}
        self.layouts = {}
        self.qdq_pairs = frozenset()
        self.dequantized_nodes = frozenset()

    def copy(self):
        """A copy whose nodes, tensor table, lists and aliases can be edited without touching
        this graph (constant arrays and attribute values are shared: treat them as read-only)."""
        other = Graph(self.name, [Node(n.name, n.op_type, list(n.inputs), list(n.outputs), dict(n.attrs), n.opset,
                                       dict(n.meta)) for n in self.nodes],
                      {k: Tensor(t.name, t.shape, t.dtype, t.value) for k, t in self.tensors.items()},
                      self.inputs, self.outputs, self.opset)
        other.aliases = dict(self.aliases)
        other.removed = dict(self.removed)
        other.encodings = dict(self.encodings)
        other.declared = dict(self.declared)
        other.layouts = dict(self.layouts)
        other.qdq_pairs = self.qdq_pairs
        other.dequantized_nodes = self.dequantized_nodes
        return other

    # -- lookups -----------------------------------------------------------------------------

    def tensor(self, name):
        """The ``Tensor`` called ``name`` (through ``aliases``); GraphError if there is none."""
        resolved = self.resolve(name)
        try:
            return self.tensors[resolved]
        except KeyError:
            if resolved in self.removed:
                raise GraphError(f"tensor {name!r} of graph {self.name!r} was removed: "
                                 f"{self.removed[resolved]}") from None
            raise GraphError(f"graph {self.name!r} has no tensor {name!r}") from None

    def resolve(self, name):
        """``name``, or the tensor that holds its values if a pass removed it."""
        seen = set()
        while name in self.aliases:
            if name in seen:
                raise GraphError(f"alias cycle at tensor {name!r}")
            seen.add(name)
            name = self.aliases[name]
        return name

    def constant(self, name):
        """The constant value of tensor ``name``, or None when it is computed."""
        if not name:
            return None
        t = self.tensors.get(name)
        return None if t is None else t.value

    def producers(self):
        """Tensor name -> the node that produces it."""
        return {out: node for node in self.nodes for out in node.outputs if out}

    def consumers(self):
        """Tensor name -> the nodes that read it (in node order, a node once per input use)."""
        table = {}
        for node in self.nodes:
            for name in node.inputs:
                if name:
                    table.setdefault(name, []).append(node)
        return table

    def op_types(self):
        """``Counter`` of op types over the nodes."""
        return Counter(node.op_type for node in self.nodes)

    # -- edits ---------------------------------------------------------------------------------

    def add_constant(self, name, value):
        """Add (or replace) the constant tensor ``name`` with ``value``; returns the Tensor."""
        value = np.asarray(value)
        self.tensors[name] = Tensor(name, tuple(value.shape), value.dtype, value)
        return self.tensors[name]

    def unique_name(self, base):
        """A tensor/node name starting with ``base`` that no tensor or node uses yet."""
        taken = set(self.tensors) | {n.name for n in self.nodes}
        if base not in taken:
            return base
        i = 1
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"

    def replace_input(self, old, new):
        """Make every node that reads ``old`` read ``new`` instead."""
        for node in self.nodes:
            node.inputs = [new if name == old else name for name in node.inputs]

    def remove_unused(self):
        """Drop nodes whose outputs nobody uses, and tensors no node, input or output uses.

        Returns the names of the removed nodes.
        """
        removed = []
        needed = set(self.outputs)
        kept = []
        for node in reversed(self.nodes):
            if any(out in needed for out in node.outputs if out):
                kept.append(node)
                needed.update(name for name in node.inputs if name)
            else:
                removed.append(node.name)
        self.nodes = kept[::-1]
        used = needed | set(self.inputs) | {o for n in self.nodes for o in n.outputs if o}
        self.tensors = {name: t for name, t in self.tensors.items() if name in used}
        return removed[::-1]

    # -- checks and display ---------------------------------------------------------------------

    def check_topological_order(self):
        """Raise GraphError unless every node input is a graph input, a constant or produced earlier.

        Also checks that each tensor is produced once and every graph output exists.
        """
        available = set(self.inputs) | {name for name, t in self.tensors.items() if t.is_constant}
        for node in self.nodes:
            for name in node.inputs:
                if name and name not in available:
                    raise GraphError(f"node {node.name!r} ({node.op_type}) reads {name!r} before it is produced")
            for name in node.outputs:
                if name in available:
                    raise GraphError(f"tensor {name!r} is produced twice (again by node {node.name!r})")
                if name:
                    available.add(name)
        for name in self.outputs:
            if name not in available:
                raise GraphError(f"graph output {name!r} is never produced")

    def summary(self):
        """A multi-line text listing: inputs, outputs, one line per node with output shapes."""
        def _fmt(name):
            t = self.tensors.get(name)
            if t is None or t.shape is None:
                return name
            return f"{name}{list(t.shape)}"

        lines = [f"Graph {self.name!r} (opset {self.opset}): {len(self.nodes)} nodes, "
                 f"{sum(t.is_constant for t in self.tensors.values())} constants"]
        lines.append("  inputs:  " + ", ".join(_fmt(n) for n in self.inputs))
        lines.append("  outputs: " + ", ".join(_fmt(n) for n in self.outputs))
        for node in self.nodes:
            ins = ", ".join(("const " if self.constant(n) is not None else "") + n for n in node.inputs)
            outs = ", ".join(_fmt(n) for n in node.outputs if n)
            lines.append(f"  {node.name}: {node.op_type}({ins}) -> {outs}")
        if self.aliases:
            lines.append("  aliases: " + ", ".join(f"{a} -> {b}" for a, b in self.aliases.items()))
        return "\n".join(lines)

    def __repr__(self):
        counts = ", ".join(f"{op}x{n}" for op, n in sorted(self.op_types().items()))
        return (f"Graph({self.name!r}, opset={self.opset}, inputs={self.inputs}, outputs={self.outputs}, "
                f"{len(self.nodes)} nodes: {counts})")
