"""ONNX float models -> ``fxsim.ir.Graph``.

``load(path_or_model, input_shapes=None, fold_batchnorm=True)`` reads a float ONNX model of
default-domain opset 11 to 21 (a path, the model's bytes, or an ``onnx.ModelProto``), binds its
dynamic input dimensions, reads the initializers, checks every op against the registry
(``fxsim.ops``), canonicalises the attributes, and runs the IR passes:

1. ``remove_identity_and_dropout`` (recorded in ``graph.aliases``),
2. ``fold_constants`` (shape subgraphs included; infers shapes as it goes),
3. ``fold_batchnorm`` when ``fold_batchnorm`` is true (into Conv / ConvTranspose / Gemm, or a
   per-channel Mul + Add for a standalone BN; see ``fxsim.ir.passes.batchnorm_folding``),
4. ``infer_shapes`` over the final graph (every tensor gets a static shape and dtype).

Errors: ``FormatError`` for a file that is not a readable ONNX model (naming the file),
``UnsupportedOpError`` for an opset outside 11..21, or for ops of another domain or not in the
registry (naming every such node and its op type, and listing the supported ops),
``GraphError`` for input shapes that are missing, unbound or do not match the model (naming
the input).

Initializers stored as external data are read from beside the model file when a path is given;
from bytes or a ``ModelProto`` whose data was not loaded they are a ``FormatError``.
"""

import os

import onnx
from onnx import external_data_helper, numpy_helper

from ..errors import FormatError, FxsimError, GraphError, UnsupportedOpError
from ..ir import Graph, Node, Tensor
from ..ir.passes import fold_batchnorm as fold_batchnorm_pass
from ..ir.passes import fold_constants, infer_shapes, remove_identity_and_dropout
from ..ops import get_op, supported_ops
from ..ops._dtypes import numpy_dtype
from . import onnx_quantized
from ._files import read_model_bytes

#: The default-domain opsets this frontend reads.
MIN_OPSET, MAX_OPSET = 11, 21


def _read_model(path_or_model):
    """``(ModelProto, description for messages)``."""
    if isinstance(path_or_model, onnx.ModelProto):
        return path_or_model, f"model {path_or_model.graph.name!r}"
    data, what = read_model_bytes(path_or_model, "ONNX")
    try:
        model = onnx.ModelProto()
        model.ParseFromString(data)
    except Exception as error:  # protobuf raises DecodeError and others
        raise FormatError(f"{what} is not an ONNX model: {error}") from None
    if not model.HasField("graph") or len(model.opset_import) == 0:
        raise FormatError(f"{what} is not an ONNX model (no graph or no opset_import)")
    if not isinstance(path_or_model, (bytes, bytearray)) and _uses_external_data(model):
        base = os.path.dirname(os.path.abspath(os.fspath(path_or_model)))
        try:
            external_data_helper.load_external_data_for_model(model, base)
        except (OSError, ValueError) as error:
            raise FormatError(f"{what}: cannot read its external tensor data: {error}") from None
    return model, what


def _uses_external_data(model):
    return any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer)


def _default_opset(model, what):
    versions = {imp.domain: imp.version for imp in model.opset_import}
    version = versions.get("", versions.get("ai.onnx"))
    if version is None:
        raise FormatError(f"{what} imports no default-domain (ai.onnx) opset")
    if not MIN_OPSET <= version <= MAX_OPSET:
        raise UnsupportedOpError(f"{what} uses opset {version}; fxsim reads opsets {MIN_OPSET} to {MAX_OPSET}")
    return version


def _attribute_value(attribute):
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8") for v in value]
    if isinstance(value, (onnx.GraphProto, onnx.SparseTensorProto)) or (
            isinstance(value, list) and value and isinstance(value[0], onnx.GraphProto)):
        raise UnsupportedOpError(f"attribute {attribute.name!r} holds a graph or sparse tensor")
    return list(value) if isinstance(value, list) else value


def _input_shape(value_info, input_shapes, what):
    """The static shape of graph input ``value_info``, bound from ``input_shapes``."""
    name = value_info.name
    ttype = value_info.type.tensor_type
    declared = None
    if ttype.HasField("shape"):
        declared = [d.dim_value if d.HasField("dim_value") else None for d in ttype.shape.dim]
    given = input_shapes.get(name)
    if given is not None:
        given = tuple(int(d) for d in given)
        if declared is not None:
            if len(given) != len(declared):
                raise GraphError(f"{what}: input_shapes[{name!r}] = {given} has rank {len(given)}, "
                                 f"the model declares rank {len(declared)} ({_fmt(declared)})")
            for i, (g, d) in enumerate(zip(given, declared)):
                if d is not None and d != g:
                    raise GraphError(f"{what}: input_shapes[{name!r}] = {given} differs from the model's "
                                     f"{_fmt(declared)} at axis {i}")
        if min(given, default=1) < 1:
            raise GraphError(f"{what}: input_shapes[{name!r}] = {given} has a dimension < 1")
        return given
    if declared is None or any(d is None for d in declared):
        raise GraphError(f"{what}: input {name!r} has dynamic or unknown dimensions "
                         f"({_fmt(declared) if declared is not None else 'no shape'}); "
                         f"bind them with input_shapes={{{name!r}: (...)}}")
    return tuple(declared)


def _fmt(dims):
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


def to_graph(model, what="model", input_shapes=None):
    """The IR of ``model`` before any pass: tensors, nodes (checked and canonicalised), inputs."""
    opset = _default_opset(model, what)
    g = model.graph
    input_shapes = dict(input_shapes or {})
    tensors = {}
    for init in g.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            raise FormatError(f"{what}: initializer {init.name!r} is stored as external data, which is only "
                              f"read when the model is loaded from its file path")
        try:
            value = numpy_helper.to_array(init)
        except Exception as error:
            raise FormatError(f"{what}: initializer {init.name!r} cannot be read: {error}") from None
        tensors[init.name] = Tensor(init.name, tuple(value.shape), value.dtype, value)
    inputs = []
    for vi in g.input:
        if vi.name in tensors:  # an initializer listed as input (IR < 4): a constant
            continue
        shape = _input_shape(vi, input_shapes, what)
        dtype = numpy_dtype(vi.type.tensor_type.elem_type, f"{what}: input {vi.name!r}")
        tensors[vi.name] = Tensor(vi.name, shape, dtype)
        inputs.append(vi.name)
    unknown = sorted(set(input_shapes) - set(inputs))
    if unknown:
        raise GraphError(f"{what}: input_shapes names {unknown}, which are not inputs of the model "
                         f"(inputs: {inputs})")
    nodes = []
    names = set()
    unsupported = []  # (node name, op type): all of them are reported at once
    for index, proto in enumerate(g.node):
        name = proto.name or f"{proto.op_type}_{index}"
        while name in names:
            name = f"{name}_{index}"
        names.add(name)
        if proto.domain not in ("", "ai.onnx"):
            unsupported.append((name, f"{proto.domain}.{proto.op_type}"))
            continue
        try:
            op = get_op(proto.op_type, name)
        except UnsupportedOpError:
            unsupported.append((name, proto.op_type))
            continue
        node_inputs = list(proto.input)
        while node_inputs and not node_inputs[-1]:  # trailing absent optional inputs ("")
            node_inputs.pop()
        try:
            attrs = {a.name: _attribute_value(a) for a in proto.attribute}
            if hasattr(op, "canonicalize"):
                attrs = op.canonicalize(attrs, opset, len(node_inputs), len(proto.output))
        except FxsimError as error:
            raise type(error)(f"node {name!r} ({proto.op_type}): {error}") from None
        nodes.append(Node(name, proto.op_type, node_inputs, list(proto.output), attrs, opset))
    if len(unsupported) == 1 and "." not in unsupported[0][1]:
        get_op(unsupported[0][1], unsupported[0][0])  # raises the registry's own message
    if unsupported:
        listed = ", ".join(f"node {n!r} ({t!r})" for n, t in unsupported)
        raise UnsupportedOpError(f"{what}: unsupported ops (only the default ONNX domain is read): {listed}; "
                                 f"supported ops: {', '.join(supported_ops())}")
    outputs = [vi.name for vi in g.output]
    graph = Graph(g.name or "graph", nodes, tensors, inputs, outputs, opset)
    graph.check_topological_order()
    return graph


def load(path_or_model, input_shapes=None, fold_batchnorm=True):
    """Read a float ONNX model into a ``Graph`` with static shapes, constants folded.

    ``path_or_model``: a path, the model's bytes, or an ``onnx.ModelProto``.
    ``input_shapes``: ``{input name: shape tuple}``, required for inputs with dynamic
    dimensions, checked against the model's declared dimensions otherwise.
    ``fold_batchnorm``: fold BatchNormalization into Conv / ConvTranspose / Gemm (default), or
    keep the BN nodes (False).
    See the module docstring for the passes and the errors. A quantized model (QDQ or
    QOperator) is read by ``fxsim.frontends.onnx_quantized``: the same float-op IR, with the
    file's encodings in ``graph.encodings`` and its integer weights kept as codes.
    """
    model, what = _read_model(path_or_model)
    quantized = onnx_quantized.is_quantized(model)
    if quantized:  # QDQ / QOperator: the float-op IR plus the file's encodings and integer weights
        model, encodings, aliases, declared, qdq_pairs, dequantized_nodes = onnx_quantized.rewrite(model, what)
    graph = to_graph(model, what, input_shapes)
    remove_identity_and_dropout(graph)
    fold_constants(graph)
    if fold_batchnorm and not quantized:  # never rescale a quantized model's integer weights
        fold_batchnorm_pass(graph)
    infer_shapes(graph)
    if quantized:
        onnx_quantized.finish_graph(graph, encodings, aliases, declared, qdq_pairs, dequantized_nodes)
    return graph
