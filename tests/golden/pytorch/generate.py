"""PyTorch quantized-op fixtures (FBGEMM engine) for the ``fbgemm`` / ``fbgemm-vnni`` profiles.

Run with a Python that has torch 2.13 CPU (``/work/venvs/torch/bin/python generate.py``); it writes,
beside this file, for every case of ``CASES``:

- ``<case>.onnx``: the same computation as a QDQ ONNX model (float input ``x``, every quantized
  tensor written by a ``QuantizeLinear`` named after the PyTorch layer, int8 weight codes and float
  biases as initializers), built from the exact parameters PyTorch used, so fxsim needs no torch;
- ``<case>.<path>.npz``: per kernel path (``vnni``: the ``fbgemm`` engine, FBGEMM's default
  dispatch on this AVX512-VNNI CPU; ``avx2``: the same run with ``FBGEMM_ENABLE_INSTRUCTIONS=AVX2``,
  FBGEMM's ``vpmaddubsw`` kernels, whose u8 x s8 pairs saturate to int16; ``x86``: the ``x86``
  engine, PyTorch's default on x86, which sends some convolutions to oneDNN), for each input kind (``realistic``: the
  distribution the scales were chosen on; ``full_range``: 4x wider, the input quantizer saturates
  and accumulators grow): ``<kind>/x`` (the float input) and ``<kind>/<tensor>`` (PyTorch's integer
  codes, ``int_repr()``, of every quantized tensor, the input's own quantization included);
- ``provenance.json``: torch version, quantized engine, the FBGEMM instruction set forced per path,
  ATen's CPU capability, the CPU flags, and per case the tensors recorded.

Each path runs in a subprocess (FBGEMM reads ``FBGEMM_ENABLE_INSTRUCTIONS`` once, at its first
dispatch). Scales and zero points are chosen by min/max over the realistic input's float values
(quint8, asymmetric), float32-representable so the ONNX file states them exactly. Weights are
qint8, per-tensor or per-channel (axis 0), with non-zero zero points where ``WEIGHT_ZP`` says
(FBGEMM accepts asymmetric weights: its row offsets subtract ``B_zp * sum(A)``).
"""

import json
import os
import subprocess
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 19
#: path -> (quantized engine, FBGEMM_ENABLE_INSTRUCTIONS)
PATHS = {"vnni": ("fbgemm", None), "avx2": ("fbgemm", "AVX2"), "x86": ("x86", None)}


def f32(v):
    return float(np.float32(v))


def qparams(values, qmin=0, qmax=255):
    """Asymmetric u8 scale / zero point from a float tensor's min/max (0 included), scale in float32."""
    lo, hi = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    scale = f32(max(hi - lo, 1e-6) / (qmax - qmin))
    zp = int(np.clip(round(qmin - lo / scale), qmin, qmax))
    return scale, zp


class Case:
    """One model built twice at once: PyTorch quantized ops (``run``) and the QDQ ONNX graph
    (``nodes``). ``calibrating`` picks each output's qparams from the float result; later runs
    reuse them."""

    def __init__(self, name, seed):
        import torch

        self.torch = torch
        self.name = name
        self.seed = seed
        self.gen = torch.Generator().manual_seed(seed)
        self.steps = []
        self.qp = {}
        self.nodes, self.inits = [], {}
        self.recorded = {}
        self.calibrating = True

    def randn(self, *shape, scale=1.0):
        return self.torch.randn(*shape, generator=self.gen) * scale

    # ------------------------------------------------------------ ONNX helpers
    def init(self, name, value):
        self.inits[name] = np.asarray(value)
        return name

    def node(self, op, inputs, outputs, **attrs):
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, outputs, name=f"{outputs[0]}_{op}", **attrs))
        return outputs[0]

    def quantize_node(self, src, name):
        s, zp = self.qp[name]
        self.init(f"{name}_scale", np.float32(s))
        self.init(f"{name}_zp", np.uint8(zp))
        self.node("QuantizeLinear", [src, f"{name}_scale", f"{name}_zp"], [name])
        return self.node("DequantizeLinear", [name, f"{name}_scale", f"{name}_zp"], [f"{name}_dq"])

    def requantize(self, name, float_value, fixed=None):
        """The output qparams of ``name``: fixed, or min/max of the float result when calibrating."""
        if self.calibrating and name not in self.qp:
            self.qp[name] = fixed if fixed is not None else qparams(float_value.numpy())
        return self.qp[name]

    def record(self, name, q):
        self.recorded[name] = q.int_repr().numpy().copy()
        return q


def build(case_fn, seed, inputs, qp=None):
    """Run ``case_fn`` on each input (the realistic one first: it calibrates, unless ``qp`` gives
    every output's scale and zero point) and return ``(case, {kind: {tensor: codes}})``."""
    case = Case(case_fn.__name__, seed)
    case.qp = dict(qp or {})
    records = {}
    first = qp is None
    for kind, x in inputs.items():
        case.recorded = {}
        case.nodes, case.inits = [], {}
        case.gen.manual_seed(case.seed)  # the same weights on every run
        case.calibrating = first
        case_fn(case, case.torch.from_numpy(x))
        records[kind] = dict(case.recorded)
        first = False
    return case, records


# ---------------------------------------------------------------- layers (torch + ONNX at once)


def quant_input(c, x, name="x_q"):
    s, zp = c.requantize(name, x)
    q = c.torch.quantize_per_tensor(x, s, zp, c.torch.quint8)
    c.record(name, q)
    dq = c.quantize_node("x", name)
    return q, dq


def _weights(c, name, w, per_channel, weight_zp):
    """qint8 weights (symmetric range from max|w|, zero points ``weight_zp`` per channel or tensor)
    and the ONNX initializers of their codes, scales and zero points (axis 0)."""
    torch = c.torch
    cout = w.shape[0]
    if per_channel:
        absmax = w.reshape(cout, -1).abs().amax(1).numpy()
        scales = np.array([f32(max(a, 1e-6) / 127) for a in absmax], np.float32)
        zps = np.array([(weight_zp * (i % 3 - 1)) for i in range(cout)], np.int64)
        qw = torch.quantize_per_channel(w, torch.from_numpy(scales.astype(np.float64)), torch.from_numpy(zps), 0,
                                        torch.qint8)
        c.init(f"{name}_w_scale", scales)
        c.init(f"{name}_w_zp", zps.astype(np.int8))
    else:
        scale = f32(float(w.abs().max()) / 127)
        qw = torch.quantize_per_tensor(w, scale, weight_zp, torch.qint8)
        c.init(f"{name}_w_scale", np.float32(scale))
        c.init(f"{name}_w_zp", np.int8(weight_zp))
    c.init(f"{name}_w", qw.int_repr().numpy())
    attrs = {"axis": 0} if per_channel else {}
    c.node("DequantizeLinear", [f"{name}_w", f"{name}_w_scale", f"{name}_w_zp"], [f"{name}_w_dq"], **attrs)
    return qw


def conv(c, q, dq, name, cin, cout, k, stride=1, padding=0, dilation=1, groups=1, relu=False, per_channel=True,
         weight_zp=0):
    import torch.ao.nn.quantized as nnq
    import torch.ao.nn.intrinsic.quantized as nniq

    torch = c.torch
    w = c.randn(cout, cin // groups, k, k, scale=float(np.sqrt(2.0 / (cin // groups * k * k))))
    b = c.randn(cout, scale=0.1)
    qw = _weights(c, name, w, per_channel, weight_zp)
    cls = nniq.ConvReLU2d if relu else nnq.Conv2d
    m = cls(cin, cout, k, stride=stride, padding=padding, dilation=dilation, groups=groups)
    m.set_weight_bias(qw, b)
    yf = torch.nn.functional.conv2d(q.dequantize(), qw.dequantize(), b, stride, padding, dilation, groups)
    if relu:
        yf = torch.relu(yf)
    m.scale, m.zero_point = c.requantize(name, yf)
    y = c.record(name, m(q))
    c.init(f"{name}_b", b.numpy().astype(np.float32))
    out = c.node("Conv", [dq, f"{name}_w_dq", f"{name}_b"], [f"{name}_conv"], kernel_shape=[k, k],
                 strides=[stride, stride], pads=[padding] * 4, dilations=[dilation, dilation], group=groups)
    if relu:
        out = c.node("Relu", [out], [f"{name}_relu"])
    return y, c.quantize_node(out, name)


def linear(c, q, dq, name, cin, cout, relu=False, per_channel=True, weight_zp=0):
    import torch.ao.nn.quantized as nnq
    import torch.ao.nn.intrinsic.quantized as nniq

    torch = c.torch
    w = c.randn(cout, cin, scale=float(np.sqrt(2.0 / cin)))
    b = c.randn(cout, scale=0.1)
    qw = _weights(c, name, w, per_channel, weight_zp)
    m = (nniq.LinearReLU if relu else nnq.Linear)(cin, cout)
    m.set_weight_bias(qw, b)
    yf = torch.nn.functional.linear(q.dequantize(), qw.dequantize(), b)
    if relu:
        yf = torch.relu(yf)
    m.scale, m.zero_point = c.requantize(name, yf)
    y = c.record(name, m(q))
    c.init(f"{name}_b", b.numpy().astype(np.float32))
    out = c.node("Gemm", [dq, f"{name}_w_dq", f"{name}_b"], [f"{name}_gemm"], transB=1)
    if relu:
        out = c.node("Relu", [out], [f"{name}_relu"])
    return y, c.quantize_node(out, name)


def binary(c, qa, dqa, qb, dqb, name, op):
    torch = c.torch
    yf = qa.dequantize() + qb.dequantize() if op == "Add" else qa.dequantize() * qb.dequantize()
    s, zp = c.requantize(name, yf)
    fn = torch.ops.quantized.add if op == "Add" else torch.ops.quantized.mul
    y = c.record(name, fn(qa, qb, s, zp))
    return y, c.quantize_node(c.node(op, [dqa, dqb], [f"{name}_{op.lower()}"]), name)


def same_qparams(c, q, dq, name, y, onnx_op, inputs=(), **attrs):
    """An op whose PyTorch output keeps its input's qparams (pooling, mean, reshape)."""
    c.requantize(name, None, fixed=(f32(q.q_scale()), int(q.q_zero_point())))
    c.record(name, y)
    return y, c.quantize_node(c.node(onnx_op, [dq, *inputs], [f"{name}_{onnx_op.lower()}"], **attrs), name)


# ---------------------------------------------------------------- cases


def conv_padding_strides(c, x):
    """Conv 3x3 pad 1 (per-channel weights, zero points -3/0/3) with fused ReLU; conv 3x3 stride 2
    dilation 2 pad 2 (per-tensor weights, zero point 5); conv 5x5 stride 3 no padding."""
    q, dq = quant_input(c, x)
    q, dq = conv(c, q, dq, "conv1", 4, 8, 3, padding=1, relu=True, weight_zp=3)
    q, dq = conv(c, q, dq, "conv2", 8, 8, 3, stride=2, padding=2, dilation=2, per_channel=False, weight_zp=5)
    conv(c, q, dq, "conv3", 8, 6, 5, stride=3)


def depthwise(c, x):
    """Depthwise 3x3 with multiplier 1 (groups 8) and ReLU, then multiplier 2 (8 -> 16) stride 2."""
    q, dq = quant_input(c, x)
    q, dq = conv(c, q, dq, "dw1", 8, 8, 3, padding=1, groups=8, relu=True)
    conv(c, q, dq, "dw2", 8, 16, 3, stride=2, padding=1, groups=8, weight_zp=2)


def depthwise_groups(c, x):
    """Which kernel a depthwise layer takes, by its group count (every weight zero point 0): a
    depthwise 3x3 with 104 groups (more than the x86 engine's oneDNN limit of 100; FBGEMM's
    depthwise kernel, 104 % 8 == 0), a pointwise 104 -> 96, a depthwise 3x3 with 96 groups (oneDNN
    on the x86 engine), a pointwise 96 -> 101, a depthwise 3x3 with 101 groups (not a multiple of
    8: FBGEMM's im2col GEMM, not its depthwise kernel); ReLU after each but the last."""
    q, dq = quant_input(c, x)
    q, dq = conv(c, q, dq, "dw104", 104, 104, 3, padding=1, groups=104, relu=True)
    q, dq = conv(c, q, dq, "pw96", 104, 96, 1, relu=True)
    q, dq = conv(c, q, dq, "dw96", 96, 96, 3, padding=1, groups=96, relu=True)
    q, dq = conv(c, q, dq, "pw101", 96, 101, 1, relu=True)
    conv(c, q, dq, "dw101", 101, 101, 3, padding=1, groups=101)


def linear_layers(c, x):
    """Linear per-tensor (weight zero point 4) with ReLU, then per-channel."""
    q, dq = quant_input(c, x)
    q, dq = linear(c, q, dq, "fc1", 64, 32, relu=True, per_channel=False, weight_zp=4)
    linear(c, q, dq, "fc2", 32, 10)


def conv_reshape_linear(c, x):
    """Conv 3x3 stride 2 + ReLU, flatten (a reshape of the codes), linear."""
    q, dq = quant_input(c, x)
    q, dq = conv(c, q, dq, "conv", 3, 4, 3, stride=2, padding=1, relu=True)
    shape = c.init("flat_shape", np.array([1, -1], np.int64))
    q, dq = same_qparams(c, q, dq, "flat", q.reshape(1, -1), "Reshape", [shape])
    linear(c, q, dq, "fc", 64, 6)


def add_mul(c, x):
    """Two convs of different output scales added, the sum multiplied by a third conv's output."""
    q, dq = quant_input(c, x)
    a, dqa = conv(c, q, dq, "conv_a", 3, 6, 3, padding=1, relu=True)
    b, dqb = conv(c, q, dq, "conv_b", 3, 6, 1)
    s, dqs = binary(c, a, dqa, b, dqb, "add", "Add")
    m, dqm = conv(c, q, dq, "conv_m", 3, 6, 1)
    binary(c, s, dqs, m, dqm, "mul", "Mul")


def pooling(c, x):
    """Avg pool 3x3 stride 2 pad 1 counting the padding, avg pool 2x2 pad 1 not counting it, max pool
    3x3 stride 2 pad 1, mean over H and W."""
    F = c.torch.nn.functional
    q, dq = quant_input(c, x)
    q, dq = conv(c, q, dq, "conv", 3, 8, 3, padding=1)
    q, dq = same_qparams(c, q, dq, "avg_incl", F.avg_pool2d(q, 3, 2, 1, count_include_pad=True), "AveragePool",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    q, dq = same_qparams(c, q, dq, "avg_excl", F.avg_pool2d(q, 2, 1, 1, count_include_pad=False), "AveragePool",
                         kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
    q, dq = same_qparams(c, q, dq, "max", F.max_pool2d(q, 3, 2, 1), "MaxPool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1])
    axes = c.init("mean_axes", np.array([2, 3], np.int64))
    same_qparams(c, q, dq, "mean", c.torch.mean(q, dim=(2, 3), keepdim=True), "ReduceMean", [axes], keepdims=1)


def activations(c, x):
    """Conv, hardswish (own output qparams), sigmoid (PyTorch's fixed 1/256, 0)."""
    import torch.ao.nn.quantized.functional as qF

    q, dq = quant_input(c, x)
    q, dq = conv(c, q, dq, "conv", 3, 8, 3, padding=1)
    s, zp = c.requantize("hardswish", c.torch.nn.functional.hardswish(q.dequantize()))
    h = c.record("hardswish", qF.hardswish(q, s, zp))
    dh = c.quantize_node(c.node("HardSwish", [dq], ["hardswish_f"]), "hardswish")
    c.requantize("sigmoid", None, fixed=(1.0 / 256, 0))
    c.record("sigmoid", c.torch.sigmoid(h))
    c.quantize_node(c.node("Sigmoid", [dh], ["sigmoid_f"]), "sigmoid")


def mobilenet_stack(c, x):
    """11 weighted layers: conv 3x3 s2, (depthwise 3x3, pointwise 1x1) x 4 with strides 1, 2, 1, 2,
    all with ReLU, mean over H and W, linear."""
    q, dq = quant_input(c, x)
    q, dq = conv(c, q, dq, "stem", 3, 8, 3, stride=2, padding=1, relu=True)
    ch = 8
    for i, (stride, out) in enumerate(((1, 16), (2, 24), (1, 24), (2, 32))):
        q, dq = conv(c, q, dq, f"dw{i}", ch, ch, 3, stride=stride, padding=1, groups=ch, relu=True)
        q, dq = conv(c, q, dq, f"pw{i}", ch, out, 1, relu=True, weight_zp=2 if i % 2 else 0)
        ch = out
    axes = c.init("pool_axes", np.array([2, 3], np.int64))
    q, dq = same_qparams(c, q, dq, "pool", c.torch.mean(q, dim=(2, 3), keepdim=True), "ReduceMean", [axes], keepdims=1)
    shape = c.init("flat_shape", np.array([1, -1], np.int64))
    q, dq = same_qparams(c, q, dq, "flat", q.reshape(1, -1), "Reshape", [shape])
    linear(c, q, dq, "fc", ch, 10)


#: case -> (builder, input shape)
CASES = {
    "conv_padding_strides": (conv_padding_strides, (1, 4, 13, 13)),
    "depthwise": (depthwise, (1, 8, 10, 10)),
    "depthwise_groups": (depthwise_groups, (1, 104, 6, 6)),
    "linear": (linear_layers, (2, 64)),
    "conv_reshape_linear": (conv_reshape_linear, (1, 3, 8, 8)),
    "add_mul": (add_mul, (1, 3, 8, 8)),
    "pooling": (pooling, (1, 3, 11, 11)),
    "activations": (activations, (1, 3, 8, 8)),
    "mobilenet_stack": (mobilenet_stack, (1, 3, 32, 32)),
}


def inputs_for(case):
    shape = CASES[case][1]
    x = np.random.default_rng(zlib.crc32(case.encode())).standard_normal(shape).astype(np.float32)
    return {"realistic": x, "full_range": (x * 4).astype(np.float32)}


def onnx_model(case, x_shape):
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(v, k) for k, v in case.inits.items()]
    outputs = [helper.make_tensor_value_info(name, TensorProto.UINT8, list(v.shape))
               for name, v in case.recorded.items() if name != "x_q"]
    graph = helper.make_graph(case.nodes, case.name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 9
    return model


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        flags = next(line.split(":", 1)[1].split() for line in f if line.startswith("flags"))
    return sorted(set(flags) & {"avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8"})


def run_path(path):
    """In a subprocess whose FBGEMM instruction set is already forced: every case's records."""
    import onnx
    import torch

    torch.backends.quantized.engine = PATHS[path][0]
    torch.set_num_threads(1)
    for name, (fn, shape) in CASES.items():
        inputs = inputs_for(name)
        # the first path chooses the scales; the others reuse them (a saturated accumulator
        # upstream would otherwise move a min/max and every scale after it)
        qp_file = os.path.join(HERE, f"{name}.qparams.json")
        qp = None
        if path != next(iter(PATHS)):
            with open(qp_file) as f:
                qp = {k: tuple(v) for k, v in json.load(f).items()}
        case, records = build(fn, zlib.crc32(name.encode()) & 0x7FFFFFFF, inputs, qp)
        if qp is None:
            with open(qp_file, "w") as f:
                json.dump(case.qp, f)
        arrays = {f"{kind}/x": inputs[kind] for kind in inputs}
        for kind, rec in records.items():
            arrays.update({f"{kind}/{t}": v for t, v in rec.items()})
        np.savez_compressed(os.path.join(HERE, f"{name}.{path}.npz"), **arrays)
        model = onnx_model(case, shape)
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(HERE, f"{name}.onnx"))
    return {"torch": torch.__version__, "engine": torch.backends.quantized.engine,
            "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "fbgemm_enable_instructions": os.environ.get("FBGEMM_ENABLE_INSTRUCTIONS", "(unset: FBGEMM's own dispatch)"),
            "cases": {name: sorted(np.load(os.path.join(HERE, f"{name}.{path}.npz")).files) for name in CASES}}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--path":
        print(json.dumps(run_path(sys.argv[2])))
        return
    provenance = {"generator": "tests/golden/pytorch/generate.py", "cpu_flags": cpu_flags(), "paths": {}}
    for path, (_, isa) in PATHS.items():
        env = dict(os.environ)
        env.pop("FBGEMM_ENABLE_INSTRUCTIONS", None)
        if isa:
            env["FBGEMM_ENABLE_INSTRUCTIONS"] = isa
        out = subprocess.run([sys.executable, __file__, "--path", path], env=env, check=True, capture_output=True,
                             text=True).stdout
        provenance["paths"][path] = json.loads(out.strip().splitlines()[-1])
    for name in CASES:
        os.remove(os.path.join(HERE, f"{name}.qparams.json"))
    with open(os.path.join(HERE, "provenance.json"), "w") as f:
        json.dump(provenance, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
