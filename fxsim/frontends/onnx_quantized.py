"""Quantized ONNX models (QDQ and QOperator) -> the float-op IR plus the model's own encodings.

``fx.load`` calls ``rewrite`` when a model contains a quantized op; the result is the same IR
as the float path (``Conv``, ``MatMul``, ``Gemm``, ``Add`` ... over float tensors), with:

- ``graph.encodings``: tensor name -> ``Encoding`` read from the file (scale and zero point of
  every QuantizeLinear / DequantizeLinear / QLinear* operand, per-tensor or per-axis, u8 / s8,
  u16 / s16, u4 / s4 codes), which ``fx.Simulator(g)`` uses when no encodings are passed;
- weight and bias initializers kept as the file's **integer codes** (int8 / uint8 / int4 in an
  8-bit container, int32 biases) with their encodings: never re-derived from float values
  (DESIGN.md "Encodings are authoritative");
- ``graph.declared``: the dtype the model declares for each graph input and output, so
  ``Simulator.run`` returns float32 for an output that ends in DequantizeLinear (the engine's
  dequantization of the codes) and codes for an output the model declares as integers.

The rules. Every integer tensor ``t_q`` of the model is the float tensor it encodes, with its
encoding: ``QuantizeLinear(a) -> q`` gives ``a`` the encoding of ``q`` and makes ``q`` an alias
of ``a``; ``DequantizeLinear(q) -> f`` makes ``f`` an alias of ``q``'s tensor (of the integer
initializer itself when ``q`` is a constant). QDQ graphs thereby become the float graph with
encodings on the tensors between Q and DQ; QOperator ops map to their float op:

=========================== ==============================================================
QLinearConv                 Conv (weight and int32 bias codes from the file)
QLinearMatMul               MatMul (a constant B is the weight, per-column scales on axis 1)
com.microsoft QGemm         Gemm (quantized or float output)
com.microsoft QLinearAdd    Add
com.microsoft QLinearMul    Mul
com.microsoft QLinearAveragePool, QLinearGlobalAveragePool    AveragePool, GlobalAveragePool
com.microsoft QLinearSigmoid, QLinearLeakyRelu                Sigmoid, LeakyRelu
com.microsoft QLinearConcat Concat
com.microsoft QLinearSoftmax Softmax (axis; opset < 13 only on the last axis)
=========================== ==============================================================

``graph.qdq_pairs``: the tensors of QuantizeLinear -> DequantizeLinear pairs as ONNX Runtime's
QDQ s8-to-u8 transformer finds them (onnxruntime/core/optimizer/qdq_transformer/qdq_s8_to_u8.cc,
``QDQ_S8_to_U8`` and its caller): the QuantizeLinear's output has exactly one consuming edge and
is not a graph output (``CheckOutputEdges(graph, node, 1)``), that consumer is a DequantizeLinear,
both nodes have three inputs and their zero points are constant, one element each, of one value
(the transformer also requires int8: the lowering checks the storage). It runs after
``EnsureUniqueDQForNodeUnit`` (ensure_unique_dq_for_node_unit.cc), which gives every consumer of
a DequantizeLinear with several consuming edges, or with one and a graph output, a copy of its
own fed by the same QuantizeLinear: so the DequantizeLinear must also have at most one consuming
edge, and none if its output is a graph output.

``graph.dequantized_nodes``: the names of the float ops a QDQ model computes on a
DequantizeLinear output (its first input is a float tensor with an encoding, not an integer
tensor of a QOperator model): an engine may fuse such a group into an integer kernel or run it in
float as the file says (ONNX Runtime 1.32 keeps a linear Resize in float at every level; a target
profile states which groups its engine leaves in float, ``qdq.float_ops``).

Outputs of float ops that no QuantizeLinear follows (float islands of a QDQ graph) get a
``FloatEncoding(32)``: they run in float, as the engine runs them. The names of removed tensors
are listed in ``graph.aliases``; a graph output that ends in DequantizeLinear names the tensor
that holds its codes (the model's output name is kept).

Errors: ``UnsupportedOpError`` naming the node for a quantized op this frontend does not map
(DynamicQuantizeLinear, ConvInteger and MatMulInteger compute their scales or raw int32
accumulators at run time: no static encoding describes them; a computed QLinearConv weight);
``EncodingError`` naming the tensor for scales or zero points that contradict each other (a
QLinear op's stated input encoding differing from the one its producer wrote, two
QuantizeLinear of one tensor with different parameters, a bias whose scale is not
``x_scale * w_scale``).
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..arith import Encoding, FloatEncoding
from ..errors import EncodingError, FormatError, UnsupportedOpError

__all__ = ["QUANTIZED_OPS", "is_quantized", "rewrite"]

#: op types this frontend maps (domain "" or "com.microsoft")
QUANTIZED_OPS = {
    "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd", "QLinearMul",
    "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearConcat",
    "QLinearSoftmax",
}
#: quantized op types recognised but not mapped (why: see the module docstring)
UNMAPPED_OPS = {
    "DynamicQuantizeLinear": "its scale and zero point are computed from each input at run time",
    "ConvInteger": "its int32 output is a raw accumulator without a scale (the dynamic-quantization pattern)",
    "MatMulInteger": "its int32 output is a raw accumulator without a scale (the dynamic-quantization pattern)",
    "MatMulIntegerToFloat": "a dynamic-quantization op without a static output encoding",
    "DynamicQuantizeMatMul": "a dynamic-quantization op without a static output encoding",
}

#: ops that move integer codes unchanged (QOperator graphs run them on uint8 / int8 tensors)
CODE_MOVING_OPS = {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather",
                   "Split", "Identity", "Expand", "DepthToSpace", "SpaceToDepth", "Tile",
                   "Resize"}  # ONNX Runtime resizes uint8/int8 codes without rescaling (fxsim/ops/resize.py)

_INT4 = {onnx.TensorProto.INT4: np.int8, onnx.TensorProto.UINT4: np.uint8}
_STORAGE = {np.dtype(np.uint8): "uint8", np.dtype(np.int8): "int8", np.dtype(np.uint16): "uint16",
            np.dtype(np.int16): "int16", np.dtype(np.int32): "int32"}


def is_quantized(model):
    """True when ``model`` holds an op this frontend maps or recognises as quantized."""
    return any(node.op_type in QUANTIZED_OPS or node.op_type in UNMAPPED_OPS for node in model.graph.node)


def _array(proto):
    """An initializer's value; 4-bit tensors in an int8 / uint8 container (with their width)."""
    value = numpy_helper.to_array(proto)
    if proto.data_type in _INT4:
        return value.astype(_INT4[proto.data_type]), 4
    return value, None


class _Rewriter:
    def __init__(self, model, what):
        self.model = model
        self.what = what
        g = model.graph
        self.consts = {}   # name -> numpy value
        self.widths = {}   # name -> 4 for 4-bit initializers
        for init in g.initializer:
            self.consts[init.name], width = _array(init)
            if width:
                self.widths[init.name] = width
        for node in g.node:  # Constant nodes holding scales and zero points
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and len(node.attribute) == 1 \
                    and node.attribute[0].name == "value":
                self.consts[node.output[0]], width = _array(node.attribute[0].t)
                if width:
                    self.widths[node.output[0]] = width
        self.alias = {}      # removed tensor -> the tensor that now holds its values
        self.encodings = {}  # IR tensor -> Encoding
        self.nodes = []      # new NodeProtos
        self.new_inits = {}  # name -> numpy value of initializers the rewrite creates or converts
        self.used_consts = set()
        self.declared = {}
        self.input_types = {vi.name: vi.type.tensor_type.elem_type for vi in g.input}
        self.quantized_outputs = set()  # IR tensors that a QuantizeLinear / QLinear op wrote
        self.integer_names = set()  # names of the model's integer (coded) activation tensors
        self.dequantized_nodes = set()  # float ops of QDQ groups: their data input was dequantized

    # ---------------------------------------------------------------- helpers

    def ir(self, name):
        seen = 0
        while name in self.alias:
            name = self.alias[name]
            seen += 1
            if seen > 10000:
                raise FormatError(f"{self.what}: alias cycle at tensor {name!r}")
        return name

    def const(self, name, node, what):
        if not name:
            return None
        if name not in self.consts:
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} ({node.op_type}): {what} {name!r} must be "
                                     f"a constant (an initializer or a Constant node)")
        return self.consts[name]

    def encoding(self, node, scale_name, zp_name, tensor, codes_dtype=None, axis=None, rank=None, width=None):
        """The Encoding of ``tensor`` from a scale and an optional zero point (constants)."""
        scale = np.asarray(self.const(scale_name, node, "scale"), np.float32)
        zp = self.const(zp_name, node, "zero point") if zp_name else None
        if zp is None:
            dtype = np.dtype(codes_dtype) if codes_dtype is not None else np.dtype(np.uint8)
            zp = np.zeros(scale.shape, dtype)
        zp = np.asarray(zp)
        dtype = zp.dtype
        if zp_name in self.widths:
            width = 4
        storage = _STORAGE.get(np.dtype(dtype))
        if storage is None:
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} ({node.op_type}): tensor {tensor!r} has "
                                     f"codes of type {dtype}, which fxsim does not simulate")
        if width == 4:
            storage = "int4" if storage == "int8" else "uint4"
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise EncodingError(f"{self.what}: tensor {tensor!r}: scale {scale.tolist()} is not positive and finite "
                                f"(node {node.name!r})")
        try:
            if scale.size == 1 and zp.size == 1:
                return Encoding.from_zero_point(float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0]), storage)
            if rank is None:
                raise EncodingError("a per-axis encoding on a tensor of unknown rank")
            axis = 1 if axis is None else int(axis)
            axis = axis + rank if axis < 0 else axis
            size = max(scale.size, zp.size)
            scales = np.broadcast_to(scale.reshape(-1), (size,)).astype(np.float64)
            zps = np.broadcast_to(zp.reshape(-1).astype(np.int64), (size,))
            return Encoding.from_zero_point(scales, zps, storage, axis=axis)
        except EncodingError as error:
            raise EncodingError(f"{self.what}: tensor {tensor!r} (node {node.name!r}): {error}") from None

    def rank(self, name):
        name = self.ir(name)
        if name in self.consts:
            return np.ndim(self.consts[name])
        return self.ranks.get(name)

    def set_encoding(self, tensor, enc, node):
        """Attach ``enc`` to IR tensor ``tensor``; EncodingError if it already has another one."""
        old = self.encodings.get(tensor)
        if old is not None and not _same(old, enc):
            raise EncodingError(f"{self.what}: tensor {tensor!r} has two encodings: {old!r} and {enc!r} "
                                f"(node {node.name!r} ({node.op_type}))")
        self.encodings[tensor] = enc

    def expect(self, name, enc, node):
        """A QLinear op's input ``name`` with its stated encoding ``enc``: attach it when the
        producer wrote none, check it otherwise; returns the IR name."""
        tensor = self.ir(name)
        if tensor in self.consts:
            value = self.consts[tensor]
            if not np.issubdtype(value.dtype, np.integer):
                raise EncodingError(f"{self.what}: tensor {name!r} read by node {node.name!r} ({node.op_type}) "
                                    f"holds float values where integer codes are expected")
            self.use_codes(tensor, value, enc, node)
            return tensor
        self.read_with(tensor, name, enc, node)
        return tensor

    def read_with(self, tensor, name, enc, node):
        """``node`` reads the activation ``name`` (IR ``tensor``) with ``enc``: attach it, or
        EncodingError if the producer wrote another one."""
        old = self.encodings.get(tensor)
        if old is not None and not _same(old, enc):
            raise EncodingError(f"{self.what}: tensor {name!r}: node {node.name!r} ({node.op_type}) reads it with "
                                f"{enc!r}, but it was written with {old!r}")
        self.encodings[tensor] = enc
        self.integer_input(tensor, enc)

    def integer_input(self, tensor, enc):
        """A graph input declared with integer codes becomes a float IR tensor with ``enc``."""
        if tensor in self.input_types and tensor not in self.declared:
            elem = self.input_types[tensor]
            if elem != onnx.TensorProto.FLOAT:
                self.declared[tensor] = helper.tensor_dtype_to_np_dtype(elem)
                self.integer_names.add(tensor)

    def use_codes(self, tensor, value, enc, node):
        """An integer initializer read as codes of ``enc``: range-checked, kept as it is."""
        if value.size and (int(value.min()) < enc.qmin or int(value.max()) > enc.qmax):
            raise EncodingError(f"{self.what}: tensor {tensor!r} (node {node.name!r}): codes span "
                                f"[{int(value.min())}, {int(value.max())}], outside [{enc.qmin}, {enc.qmax}]")
        self.set_encoding(tensor, enc, node)
        self.new_inits[tensor] = value

    def bias(self, node, name, x_enc, w_enc, channels):
        """An int32 bias initializer of a QLinear op: scale ``x_scale * w_scale`` (float32)."""
        if not name:
            return ""
        value = self.const(name, node, "bias")
        if value.dtype != np.int32:
            raise EncodingError(f"{self.what}: bias {name!r} of node {node.name!r} must be int32, got {value.dtype}")
        scale = np.float32(x_enc.scale) * np.asarray(w_enc.scale, np.float32).reshape(-1)
        if scale.size > 1:
            enc = Encoding.from_zero_point(scale.astype(np.float64), np.zeros(scale.size, np.int64), "int32",
                                           axis=0)
        else:
            enc = Encoding.from_zero_point(float(scale[0]), 0, "int32")
        self.use_codes(name, value.reshape(-1) if value.ndim else value, enc, node)
        return name

    def emit(self, node, op_type, inputs, outputs, attrs=None):
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=node.name or None, **(attrs or {})))
        for out in outputs:
            self.ranks.setdefault(out, None)

    # ---------------------------------------------------------------- the walk

    def qdq_pairs(self):
        """Output names of the QuantizeLinear nodes of the module docstring's ``qdq_pairs`` rule."""
        g = self.model.graph
        edges = {}
        for node in g.node:
            for name in node.input:
                if name:
                    edges.setdefault(name, []).append(node)
        outputs = {o.name for o in g.output}
        pairs = set()
        for node in g.node:
            if node.op_type != "QuantizeLinear" or node.domain not in ("", "ai.onnx"):
                continue
            q = node.output[0]
            users = edges.get(q, [])
            if q in outputs or len(users) != 1:
                continue
            dq = users[0]
            if dq.op_type != "DequantizeLinear" or dq.domain not in ("", "ai.onnx") or \
                    len(node.input) != 3 or len(dq.input) != 3:
                continue
            dq_edges = len(edges.get(dq.output[0], []))
            if dq_edges > 1 or (dq_edges == 1 and dq.output[0] in outputs):
                continue  # EnsureUniqueDQForNodeUnit gives the QuantizeLinear more consumers
            zq, zdq = self.consts.get(node.input[2]), self.consts.get(dq.input[2])
            if zq is None or zdq is None or zq.size != 1 or zdq.size != 1 or zq.dtype != zdq.dtype \
                    or zq.reshape(-1)[0] != zdq.reshape(-1)[0]:
                continue
            pairs.add(q)
        return pairs

    def run(self):
        g = self.model.graph
        self.ranks = {}
        for vi in g.input:
            t = vi.type.tensor_type
            self.ranks[vi.name] = len(t.shape.dim) if t.HasField("shape") else None
        for vi in list(g.value_info) + list(g.output):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                self.ranks[vi.name] = len(t.shape.dim)
        for index, node in enumerate(g.node):
            if not node.name:
                node = onnx.NodeProto.FromString(node.SerializeToString())
                node.name = f"{node.op_type}_{index}"
            if node.op_type == "Constant" and node.output[0] in self.consts:
                continue
            if node.op_type in UNMAPPED_OPS:
                raise UnsupportedOpError(f"{self.what}: node {node.name!r} ({node.op_type}) is not supported: "
                                         f"{UNMAPPED_OPS[node.op_type]}")
            handler = getattr(self, f"_{node.op_type}", None) if node.op_type in QUANTIZED_OPS else None
            if node.domain not in ("", "ai.onnx", "com.microsoft"):
                handler = None
            if handler is None:
                if node.domain == "com.microsoft":
                    raise UnsupportedOpError(f"{self.what}: node {node.name!r} (com.microsoft.{node.op_type}) is not "
                                             f"a quantized op fxsim maps; mapped: {', '.join(sorted(QUANTIZED_OPS))}")
                self.copy(node)
            else:
                handler(node)
        return self.finish()

    def copy(self, node):
        """A float op: inputs renamed to their IR tensors. A data-movement op that reads an
        integer tensor of a QOperator model (MaxPool, Reshape ... on uint8 codes) moves codes: its
        outputs are integer tensors with its input's encoding."""
        new = onnx.NodeProto.FromString(node.SerializeToString())
        del new.input[:]
        new.input.extend(self.ir(n) if n else "" for n in node.input)
        self.nodes.append(new)
        first = node.input[0] if node.input else ""
        if first and first not in self.integer_names and isinstance(self.encodings.get(self.ir(first)), Encoding):
            self.dequantized_nodes.add(new.name)  # a DequantizeLinear output: the file computes in float
        if node.op_type in CODE_MOVING_OPS and first in self.integer_names:
            enc = self.encodings.get(self.ir(first))
            for out in node.output:
                if out and enc is not None:
                    self.encodings[out] = enc
                    self.integer_names.add(out)

    # -- QuantizeLinear / DequantizeLinear

    def _QuantizeLinear(self, node):
        x, scale, zp = (list(node.input) + ["", ""])[:3]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if int(attrs.get("block_size", 0)):
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} (QuantizeLinear): blocked quantization")
        codes_dtype = None
        if "output_dtype" in attrs and attrs["output_dtype"]:
            codes_dtype = helper.tensor_dtype_to_np_dtype(attrs["output_dtype"])
        tensor = self.ir(x)
        enc = self.encoding(node, scale, zp, node.output[0], codes_dtype, attrs.get("axis", 1), self.rank(x))
        if tensor in self.consts and tensor not in self.new_inits:
            # a float constant quantized in the graph: its codes, as ONNX's QuantizeLinear computes them
            from ..arith import RoundingMode, quantize

            codes = quantize(np.asarray(self.consts[tensor], np.float32), enc, rounding=RoundingMode.HALF_EVEN,
                             name=tensor)
            name = node.output[0]
            self.consts[name] = codes
            self.use_codes(name, codes, enc, node)
            return
        old = self.encodings.get(tensor)
        if old is not None and not _same(old, enc):
            if tensor in self.quantized_outputs:
                raise UnsupportedOpError(
                    f"{self.what}: node {node.name!r} (QuantizeLinear) requantizes tensor {x!r} from {old!r} to "
                    f"{enc!r} (a DequantizeLinear -> QuantizeLinear pair with different parameters)")
            raise EncodingError(f"{self.what}: tensor {x!r} is quantized twice with different parameters: "
                                f"{old!r} and {enc!r} (node {node.name!r})")
        self.encodings[tensor] = enc
        self.quantized_outputs.add(tensor)
        self.integer_names.add(node.output[0])
        self.alias[node.output[0]] = tensor

    def _DequantizeLinear(self, node):
        q, scale, zp = (list(node.input) + ["", ""])[:3]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if int(attrs.get("block_size", 0)):
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} (DequantizeLinear): blocked quantization")
        tensor = self.ir(q)
        codes_dtype = self.consts[tensor].dtype if tensor in self.consts else None
        width = self.widths.get(tensor)
        enc = self.encoding(node, scale, zp, q, codes_dtype, attrs.get("axis", 1), self.rank(q), width)
        if tensor in self.consts:
            value = self.consts[tensor]
            if value.dtype == np.int32:  # an int32 bias: zero point 0, its own scale
                if np.any(np.asarray(enc.zero_point) != 0):
                    raise EncodingError(f"{self.what}: int32 tensor {q!r} (node {node.name!r}): a bias needs zero "
                                        f"point 0, got {np.asarray(enc.zero_point).tolist()}")
                enc = Encoding.from_zero_point(enc.scale, np.zeros(np.size(enc.scale), np.int64)
                                               if enc.is_per_channel else 0, "int32",
                                               axis=0 if enc.is_per_channel else None)
            self.use_codes(tensor, value, enc, node)
        else:
            self.read_with(tensor, q, enc, node)
        self.alias[node.output[0]] = tensor

    # -- QOperator ops

    def _out(self, node, scale, zp, index=0):
        name = node.output[index]
        codes = self.consts.get(zp) if zp else None
        enc = self.encoding(node, scale, zp, name, None if codes is not None else np.uint8)
        self.encodings[name] = enc
        self.quantized_outputs.add(name)
        self.integer_names.add(name)
        return name, enc

    def _conv_attrs(self, node):
        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def _QLinearConv(self, node):
        ins = list(node.input) + [""] * (9 - len(node.input))
        x, xs, xzp, w, ws, wzp, ys, yzp, b = ins[:9]
        x_enc = self.encoding(node, xs, xzp, x)
        x_ir = self.expect(x, x_enc, node)
        w_ir = self.ir(w)
        if w_ir not in self.consts:
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} (QLinearConv): a computed weight {w!r}")
        w_value = self.consts[w_ir]
        w_enc = self.encoding(node, ws, wzp, w, w_value.dtype, 0, w_value.ndim, self.widths.get(w_ir))
        self.use_codes(w_ir, w_value, w_enc, node)
        bias = self.bias(node, b, x_enc, w_enc, w_value.shape[0])
        out, _ = self._out(node, ys, yzp)
        self.emit(node, "Conv", [x_ir, w_ir] + ([bias] if bias else []), [out], self._conv_attrs(node))

    def _QLinearMatMul(self, node):
        a, as_, azp, b, bs, bzp, ys, yzp = list(node.input)[:8]
        a_ir = self.expect(a, self.encoding(node, as_, azp, a), node)
        b_ir = self.ir(b)
        if b_ir in self.consts:
            value = self.consts[b_ir]
            b_enc = self.encoding(node, bs, bzp, b, value.dtype, value.ndim - 1, value.ndim, self.widths.get(b_ir))
            self.use_codes(b_ir, value, b_enc, node)
        else:
            b_ir = self.expect(b, self.encoding(node, bs, bzp, b), node)
        out, _ = self._out(node, ys, yzp)
        self.emit(node, "MatMul", [a_ir, b_ir], [out])

    def _QGemm(self, node):
        ins = list(node.input) + [""] * (9 - len(node.input))
        a, as_, azp, b, bs, bzp, c, ys, yzp = ins[:9]
        attrs = {k: v for k, v in self._conv_attrs(node).items() if k in ("alpha", "transA", "transB")}
        a_enc = self.encoding(node, as_, azp, a)
        a_ir = self.expect(a, a_enc, node)
        b_ir = self.ir(b)
        if b_ir not in self.consts:
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} (QGemm): a computed B {b!r}")
        value = self.consts[b_ir]
        trans_b = int(attrs.get("transB", 0))
        b_enc = self.encoding(node, bs, bzp, b, value.dtype, 0 if trans_b else 1, value.ndim, self.widths.get(b_ir))
        self.use_codes(b_ir, value, b_enc, node)
        bias = self.bias(node, c, a_enc, b_enc, value.shape[0 if trans_b else 1])
        if ys:
            out, _ = self._out(node, ys, yzp)
        else:
            out = node.output[0]
            self.encodings[out] = FloatEncoding(32)
        self.emit(node, "Gemm", [a_ir, b_ir] + ([bias] if bias else []), [out], attrs)

    def _binary(self, node, op_type):
        a, as_, azp, b, bs, bzp, cs, czp = (list(node.input) + [""] * 8)[:8]
        a_ir = self.expect(a, self.encoding(node, as_, azp, a), node)
        b_ir = self.expect(b, self.encoding(node, bs, bzp, b), node)
        out, _ = self._out(node, cs, czp)
        self.emit(node, op_type, [a_ir, b_ir], [out])

    def _QLinearAdd(self, node):
        self._binary(node, "Add")

    def _QLinearMul(self, node):
        self._binary(node, "Mul")

    def _unary(self, node, op_type, keep=()):
        x, xs, xzp, ys, yzp = (list(node.input) + [""] * 5)[:5]
        attrs = {k: v for k, v in self._conv_attrs(node).items() if k in keep}
        x_ir = self.expect(x, self.encoding(node, xs, xzp, x), node)
        out, _ = self._out(node, ys, yzp)
        self.emit(node, op_type, [x_ir], [out], attrs)

    def _QLinearAveragePool(self, node):
        if int(self._conv_attrs(node).get("channels_last", 0)):
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} (QLinearAveragePool): channels_last=1")
        self._unary(node, "AveragePool", ("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
                                          "strides"))

    def _QLinearGlobalAveragePool(self, node):
        if int(self._conv_attrs(node).get("channels_last", 0)):
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} (QLinearGlobalAveragePool): channels_last=1")
        self._unary(node, "GlobalAveragePool")

    def _QLinearSigmoid(self, node):
        self._unary(node, "Sigmoid")

    def _QLinearLeakyRelu(self, node):
        self._unary(node, "LeakyRelu", ("alpha",))

    def _QLinearSoftmax(self, node):
        # com.microsoft QLinearSoftmax (X, X_scale, x_zero_point, Y_scale, Y_zero_point; attributes
        # axis, default -1, and opset, the opset of the Softmax it replaced: below 13 the input is
        # coerced to 2-D at axis, which equals the single-axis Softmax only on the last axis)
        attrs = self._conv_attrs(node)
        axis = int(attrs.get("axis", -1))
        rank = self.ranks.get(node.input[0])
        if int(attrs.get("opset", 13)) < 13 and axis != -1 and (rank is None or axis != rank - 1):
            raise UnsupportedOpError(f"{self.what}: node {node.name!r} (QLinearSoftmax): opset < 13 coerces the "
                                     f"input to 2-D at axis {axis}; only the last axis is mapped")
        x, xs, xzp, ys, yzp = (list(node.input) + [""] * 5)[:5]
        x_ir = self.expect(x, self.encoding(node, xs, xzp, x), node)
        out, _ = self._out(node, ys, yzp)
        self.emit(node, "Softmax", [x_ir], [out], {"axis": axis})

    def _QLinearConcat(self, node):
        ins = list(node.input)
        ys, yzp, rest = ins[0], ins[1], ins[2:]
        if len(rest) % 3:
            raise FormatError(f"{self.what}: node {node.name!r} (QLinearConcat) needs (tensor, scale, zero point) "
                              f"triples after Y_scale and Y_zero_point")
        inputs = [self.expect(rest[i], self.encoding(node, rest[i + 1], rest[i + 2], rest[i]), node)
                  for i in range(0, len(rest), 3)]
        out, _ = self._out(node, ys, yzp)
        self.emit(node, "Concat", inputs, [out], {"axis": self._conv_attrs(node)["axis"]})

    # ---------------------------------------------------------------- the new model

    def finish(self):
        g = self.model.graph
        renames = {}
        outputs = []
        for vi in g.output:
            tensor = self.ir(vi.name)
            if tensor != vi.name:
                if tensor in renames or tensor in [v.name for v in g.input]:
                    raise UnsupportedOpError(f"{self.what}: graph output {vi.name!r} is the same tensor as "
                                             f"{tensor!r} once Q/DQ pairs are folded")
                renames[tensor] = vi.name
            elem = vi.type.tensor_type.elem_type
            if elem:
                self.declared[vi.name] = helper.tensor_dtype_to_np_dtype(elem)
            outputs.append(vi)
        rename = lambda n: renames.get(n, n)  # noqa: E731
        for node in self.nodes:
            node.input[:] = [rename(n) for n in node.input]
            node.output[:] = [rename(n) for n in node.output]
        encodings = {rename(k): v for k, v in self.encodings.items()}
        aliases = {}
        for removed in self.alias:
            target = rename(self.ir(removed))
            if removed != target:
                aliases[removed] = target
        for old, new in renames.items():
            aliases[old] = new
        # the new model: float inputs (integer-coded inputs become float tensors with encodings)
        inputs = []
        for vi in g.input:
            if vi.name in self.consts:
                continue
            vi = onnx.ValueInfoProto.FromString(vi.SerializeToString())
            if vi.name in self.declared:
                vi.type.tensor_type.elem_type = onnx.TensorProto.FLOAT
            inputs.append(vi)
        new_outputs = []
        for vi in outputs:
            vi = onnx.ValueInfoProto.FromString(vi.SerializeToString())
            vi.type.tensor_type.elem_type = onnx.TensorProto.FLOAT
            new_outputs.append(vi)
        used = {n for node in self.nodes for n in node.input if n}
        inits = []
        for name in sorted(used):
            if name in self.new_inits:
                inits.append(numpy_helper.from_array(np.ascontiguousarray(self.new_inits[name]), name))
            elif name in self.consts:
                inits.append(numpy_helper.from_array(np.ascontiguousarray(self.consts[name]), name))
        float_nodes = [n for n in self.nodes if not (n.op_type == "Constant" and n.output[0] in self.consts)]
        graph = helper.make_graph(float_nodes, g.name or "graph", inputs, new_outputs, inits)
        opsets = [o for o in self.model.opset_import if o.domain in ("", "ai.onnx")]
        model = helper.make_model(graph, opset_imports=opsets)
        model.ir_version = self.model.ir_version
        # encodings only of tensors the new model still has, integer constants kept as codes
        present = used | {o for n in float_nodes for o in n.output} | {vi.name for vi in inputs}
        encodings = {k: v for k, v in encodings.items() if k in present}
        pairs = frozenset(rename(self.ir(q)) for q in self.qdq_pairs())
        return model, encodings, aliases, self.declared, pairs, frozenset(self.dequantized_nodes)


def _same(a, b):
    """Two encodings describe the same codes (scale compared as float32, zero points exactly)."""
    if isinstance(a, FloatEncoding) or isinstance(b, FloatEncoding):
        return type(a) is type(b)
    if a.bitwidth != b.bitwidth or a.signed != b.signed:
        return False
    sa, sb = np.asarray(a.scale, np.float32).reshape(-1), np.asarray(b.scale, np.float32).reshape(-1)
    za, zb = np.asarray(a.zero_point).reshape(-1), np.asarray(b.zero_point).reshape(-1)
    if sa.size != sb.size and min(sa.size, sb.size) != 1:
        return False
    return bool(np.all(sa == sb) and np.all(za == zb))


def rewrite(model, what="model"):
    """``(float model, encodings, aliases, declared dtypes, qdq pairs, dequantized nodes)`` of a
    quantized ``model``: see the module docstring."""
    return _Rewriter(model, what).run()


def finish_graph(graph, encodings, aliases, declared, qdq_pairs=(), dequantized_nodes=()):
    """Attach what ``rewrite`` read to ``graph`` after the IR passes: encodings re-keyed through
    the passes' aliases, ``FloatEncoding(32)`` on every float tensor a node computes without one
    (a float island), the aliases of the folded Q/DQ tensors, the declared dtypes, the QDQ pairs
    (``graph.qdq_pairs``, re-keyed likewise), the QDQ groups' float ops
    (``graph.dequantized_nodes``, those still in the graph); then check each integer bias against
    its layer's ``x_scale * w_scale``."""
    encs = {}
    for name, enc in encodings.items():
        resolved = graph.resolve(name)
        if resolved in graph.tensors:
            encs.setdefault(resolved, enc)
    for node in graph.nodes:
        for name in node.outputs:
            if name and name not in encs and np.issubdtype(np.dtype(graph.tensors[name].dtype), np.floating):
                encs[name] = FloatEncoding(32)
    for removed, target in aliases.items():
        if removed not in graph.tensors:
            graph.aliases.setdefault(removed, target)
    graph.encodings = encs
    graph.declared = dict(declared)
    graph.qdq_pairs = frozenset(graph.resolve(name) for name in qdq_pairs)
    graph.dequantized_nodes = frozenset(n.name for n in graph.nodes if n.name in dequantized_nodes)
    for node in graph.nodes:
        if node.op_type not in ("Conv", "Gemm") or len(node.inputs) < 3 or not node.inputs[2]:
            continue
        x, w, b = (encs.get(n) for n in node.inputs[:3])
        if not all(isinstance(e, Encoding) for e in (x, w, b)) or b.bitwidth != 32:
            continue
        expected = np.float32(x.scale) * np.asarray(w.scale, np.float32).reshape(-1)
        given = np.asarray(b.scale, np.float32).reshape(-1)
        if given.size not in (1, expected.size) or np.any(np.abs(given - expected) > 1e-5 * np.abs(expected)):
            raise EncodingError(f"bias {node.inputs[2]!r} of node {node.name!r} ({node.op_type}): its scale "
                                f"{given.tolist()} is not input scale x weight scale = {expected.tolist()}")
    return graph
