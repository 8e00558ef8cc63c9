"""The conv / matmul section of compare_peers.py (see its docstring): fxsim's fused kernels beside
ONNX Runtime, PyTorch (fbgemm) and numpy on the named layers of shapes.py, 1 and 2 threads."""

import time

import numpy as np

import fxsim as fx
from fxsim import _kernels

import bench_conv2d
import ceiling
import shapes

X_SCALE, W_SCALE = 0.02, 0.005


def best_time(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# ---------------------------------------------------------------- the layers and their exact result


class Layer:
    """One named layer: operands as u8 / s8 codes of the same real values, the exact accumulators
    (numpy int64) and the exact u8 output codes (MLAS's float32 requantization of them)."""

    def __init__(self, name, spec, kind):
        self.name, self.spec, self.kind = name, spec, kind
        rng = np.random.default_rng(0)
        if kind == "conv":
            self.macs = shapes.conv2d_macs(spec)
            x_shape, w_shape = spec["x"], spec["w"]
            self.depth = int(np.prod(w_shape[1:]))
        else:
            self.macs = shapes.matmul_macs(spec)
            x_shape, w_shape = (spec["m"], spec["k"]), (spec["k"], spec["n"])
            self.depth = spec["k"]
        self.x_u8 = rng.integers(0, 256, size=x_shape, dtype=np.uint8)  # zero point 128
        self.w_s8 = rng.integers(-127, 128, size=w_shape, dtype=np.int8)  # zero point 0
        self.x_s8 = (self.x_u8.astype(np.int16) - 128).astype(np.int8)  # zero point 0
        self.w_u8 = (self.w_s8.astype(np.int16) + 128).astype(np.uint8)  # zero point 128
        # output scale: the accumulators' spread (~74 * 73 * sqrt(depth)) over ~40 codes
        self.y_scale = float(np.float32(X_SCALE * W_SCALE * 74 * 73 * np.sqrt(self.depth) / 40))
        # MLAS: output scale = X_scale * W_scale / Y_scale in float32
        self.rq_scale = np.float32(np.float32(np.float32(X_SCALE) * np.float32(W_SCALE)) / np.float32(self.y_scale))
        self.no_bias = np.zeros(w_shape[0], np.int64)
        self.acc = self.numpy_acc()
        self.codes = requantize_mlas(self.acc, self.rq_scale, 128, 0, 255, np.uint8)

    def numpy_acc(self):
        """numpy's exact accumulators: int64 matmul, im2col per group for a conv
        (bench_conv2d.numpy_conv2d, which takes the input zero point 128 and a bias)."""
        if self.kind == "matmul":
            return (self.x_u8.astype(np.int64) - 128) @ self.w_s8.astype(np.int64)
        return bench_conv2d.numpy_conv2d(self.spec, self.x_u8, self.w_s8, self.no_bias)


def requantize_mlas(acc, scale, zp, qmin, qmax, dtype):
    """MlasRequantizeOutput: float32(acc) * scale, clamp to [qmin - zp, qmax - zp], round half
    even, + zp (onnxruntime/core/mlas/lib/quantize.cpp)."""
    v = acc.astype(np.float32) * np.float32(scale)
    v = np.clip(v, np.float32(qmin - zp), np.float32(qmax - zp))
    return (np.rint(v).astype(np.int64) + zp).astype(dtype)


def agreement(got, want):
    """"yes" when every integer equals the exact one, else the share that does."""
    got = np.asarray(got).reshape(-1).astype(np.int64)
    want = np.asarray(want).reshape(-1).astype(np.int64)
    if got.shape != want.shape:
        return "shape!"
    equal = float(np.mean(got == want))
    return "yes" if equal == 1.0 else f"{100 * equal:.1f}%"


# ---------------------------------------------------------------- fxsim


def fxsim_peers(layer):
    """{name: (callable, check)}: fxsim's fused call with the weights packed and the other
    arguments bound once (the call object the simulator builds at lowering, as ONNX Runtime
    prepacks a session's constant weights), the fused call with the plain weight array (packed
    inside every call), and the accumulators."""
    zero = np.zeros(1, np.int32)
    rq = (None, "fp32", None, None, np.array([layer.rq_scale], np.float32), np.array([128], np.int32), 0, 255,
          int(fx.RoundingMode.HALF_EVEN), 0, False, False)
    codes = np.empty(layer.acc.shape, np.uint8)
    acc = np.empty(layer.acc.shape, np.int32)
    if layer.kind == "conv":
        spec = layer.spec
        packed = _kernels.PackedConvWeights(layer.w_s8, zero)
        geometry = (spec["stride"], (1, 1), spec["pads"], spec["groups"], "wrap", 32)

        def kernel(fn, w, zp, *tail):
            return lambda: fn(layer.x_u8, w, 128, zp, None, *geometry, *tail)
        bound = _kernels.Conv2DRequantizeCall(packed, 128, None, None, *geometry, *rq)
        fused = lambda: bound(layer.x_u8, codes)  # noqa: E731
        fused_array = kernel(_kernels.conv2d_requantize, layer.w_s8, zero, *rq, codes)
        accumulate = kernel(_kernels.conv2d_accumulate, packed, None, acc)
    else:
        packed = _kernels.PackedMatMulWeights(layer.w_s8, zero)

        def kernel(fn, w, zp, *tail):
            return lambda: fn(layer.x_u8, w, 128, zp, None, "wrap", 32, *tail)
        bound = _kernels.MatMulRequantizeCall(packed, 128, None, None, "wrap", 32, *rq)
        fused = lambda: bound(layer.x_u8, codes)  # noqa: E731
        fused_array = kernel(_kernels.matmul_requantize, layer.w_s8, zero, *rq, codes)
        accumulate = kernel(_kernels.matmul_accumulate, packed, None, acc)

    def returning(call, y):
        def run():
            call()
            return y
        return run
    return {"fxsim fused u8s8 packed": (returning(fused, codes), lambda y: agreement(y, layer.codes)),
            "fxsim fused, array w": (returning(fused_array, codes), lambda y: agreement(y, layer.codes)),
            "fxsim accumulate packed": (returning(accumulate, acc), lambda y: agreement(y, layer.acc))}


# ---------------------------------------------------------------- ONNX Runtime


def _ort_model(layer, op, x, w, x_zp, w_zp, out_dtype_np=None, y_zp=None):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    type_of = {np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.int8): TensorProto.INT8}
    inits = [numpy_helper.from_array(w, "w")]
    attrs = {}
    if layer.kind == "conv":
        spec = layer.spec
        pt, pl, pb, pr = spec["pads"]
        attrs = dict(strides=list(spec["stride"]), pads=[pt, pl, pb, pr], group=spec["groups"],
                     kernel_shape=list(spec["w"][2:]))
    if op in ("QLinearConv", "QLinearMatMul"):
        inits += [numpy_helper.from_array(np.array(X_SCALE, np.float32), "xs"),
                  numpy_helper.from_array(np.array(x_zp, x.dtype), "xz"),
                  numpy_helper.from_array(np.array(W_SCALE, np.float32), "ws"),
                  numpy_helper.from_array(np.array(w_zp, w.dtype), "wz"),
                  numpy_helper.from_array(np.array(layer.y_scale, np.float32), "ys"),
                  numpy_helper.from_array(np.array(y_zp, out_dtype_np), "yz")]
        node = helper.make_node(op, ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"], **attrs)
        y_type = type_of[np.dtype(out_dtype_np)]
    else:  # ConvInteger / MatMulInteger
        inits += [numpy_helper.from_array(np.array(x_zp, x.dtype), "xz"),
                  numpy_helper.from_array(np.array(w_zp, w.dtype), "wz")]
        node = helper.make_node(op, ["x", "w", "xz", "wz"], ["y"], **attrs)
        y_type = TensorProto.INT32
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info("x", type_of[x.dtype], list(x.shape))],
                              [helper.make_tensor_value_info("y", y_type, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def ort_peers(layer, threads):
    """{name: (callable, check)} of the ONNX Runtime paths that load here."""
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: its rows are skipped")
        return {}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    qop, iop = ("QLinearConv", "ConvInteger") if layer.kind == "conv" else ("QLinearMatMul", "MatMulInteger")
    variants = [
        (f"ORT {qop} u8s8", qop, layer.x_u8, layer.w_s8, 128, 0, np.uint8, 128, 0),
        (f"ORT {qop} u8u8", qop, layer.x_u8, layer.w_u8, 128, 128, np.uint8, 128, 0),
        (f"ORT {qop} s8s8", qop, layer.x_s8, layer.w_s8, 0, 0, np.int8, 0, 128),
        (f"ORT {iop} u8s8", iop, layer.x_u8, layer.w_s8, 128, 0, None, None, None),
        (f"ORT {iop} u8u8", iop, layer.x_u8, layer.w_u8, 128, 128, None, None, None),
    ]
    peers = {}
    for name, op, x, w, x_zp, w_zp, y_dtype, y_zp, shift in variants:
        try:
            model = _ort_model(layer, op, x, w, x_zp, w_zp, y_dtype, y_zp)
            session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
            session.run(None, {"x": x})
        except Exception as error:  # noqa: BLE001 - an engine that lacks the type pair: say so
            print(f"{layer.name}: {name} does not run here ({str(error).splitlines()[0][:100]})")
            continue
        feeds = {"x": x}
        if shift is None:
            check = (lambda y: agreement(y, layer.acc))
        else:
            check = (lambda y, s=shift: agreement(y.astype(np.int64) + s, layer.codes))
        peers[name] = ((lambda s=session, f=feeds: s.run(None, f)[0]), check)
    return peers


def reference_peers(layer):
    """{name: (callable, check)}: the ONNX reference evaluator (onnx.reference) on the u8 x s8
    QLinearConv / QLinearMatMul model ORT runs: an exact peer path (numpy in Python)."""
    from onnx.reference import ReferenceEvaluator

    qop = "QLinearConv" if layer.kind == "conv" else "QLinearMatMul"
    evaluator = ReferenceEvaluator(_ort_model(layer, qop, layer.x_u8, layer.w_s8, 128, 0, np.uint8, 128))
    feeds = {"x": layer.x_u8}
    return {f"onnx reference {qop} u8s8": ((lambda: evaluator.run(None, feeds)[0]),
                                          lambda y: agreement(y, layer.codes))}


# ---------------------------------------------------------------- PyTorch


def torch_peers(layer, threads):
    """{name: (callable, check)}: torch.ao quantized Conv2d / Linear on fbgemm (u8 x s8), weights
    packed once at construction; {} with a message when torch is absent."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(threads)
    torch.backends.quantized.engine = "fbgemm"
    import torch.ao.nn.quantized as nnq

    if layer.kind == "conv":
        spec = layer.spec
        pt, pl, pb, pr = spec["pads"]
        c_out, cig, kh, kw = spec["w"]
        x = layer.x_u8
        if (pt, pl) != (pb, pr):  # torch pads symmetrically: pad with the zero point beforehand
            x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=128)
            pt = pl = 0
        module = nnq.Conv2d(spec["x"][1], c_out, (kh, kw), stride=spec["stride"], padding=(pt, pl),
                            groups=spec["groups"], bias=False)
        weight = torch.from_numpy(layer.w_s8.astype(np.float32) * W_SCALE)
        qw = torch.quantize_per_tensor(weight, W_SCALE, 0, torch.qint8)
        module.set_weight_bias(qw, None)
    else:
        x = layer.x_u8
        module = nnq.Linear(layer.spec["k"], layer.spec["n"], bias_=False)
        weight = torch.from_numpy(np.ascontiguousarray(layer.w_s8.T).astype(np.float32) * W_SCALE)
        module.set_weight_bias(torch.quantize_per_tensor(weight, W_SCALE, 0, torch.qint8), None)
    module.scale, module.zero_point = layer.y_scale, 128
    xq = torch._make_per_tensor_quantized_tensor(torch.from_numpy(np.ascontiguousarray(x)), X_SCALE, 128)

    def call():
        return module(xq)

    return {"torch fbgemm u8s8": (call, lambda y: agreement(y.int_repr().numpy(), layer.codes))}


# ---------------------------------------------------------------- the table


def conv_section(repeats, names=(), rounds=3):
    """Times every peer on every named layer, 1 and 2 threads, and prints the table. Each peer's
    time is its best over `rounds` rounds of `repeats` calls (the Python-speed peers: one round),
    the engines taking turns within a round: on a shared machine a burst of other work then
    slows one round of a peer, not the peer's only window."""
    import os

    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    print()
    print(f"== conv / matmul: fxsim ISA {_kernels.isa()} (available {', '.join(_kernels.available_isas())}), "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs, best of {rounds} rounds of {repeats} calls")
    if not have_torch:
        print("PyTorch is not installed: its rows are skipped (run with /work/venvs/torch/bin/python to include it)")
    ceilings = {}
    for threads in (1, 2):
        ceilings[threads] = (ceiling.mac_ceiling("int16", threads), ceiling.mac_ceiling("vnni", threads))
        print(f"ceiling, {threads} thread(s): int16 vpmaddwd {_fmt(ceilings[threads][0])} GMAC/s, "
              f"u8 x s8 vpdpbusd (VNNI) {_fmt(ceilings[threads][1])} GMAC/s")
    layers = [Layer(n, s, "conv") for n, s in sorted(shapes.CONV2D.items())]
    layers += [Layer(n, s, "matmul") for n, s in sorted(shapes.MATMUL.items())]
    if names:
        layers = [layer for layer in layers if layer.name in names]
    # the read roofline of each batch-1 layer (each weight byte read once: 1 MAC per byte),
    # measured up front with many repeats (a shared machine's noise lowers single timings)
    roofs = {}
    for layer in layers:
        if layer.kind == "matmul" and layer.spec["m"] == 1:
            for threads in (1, 2):
                roofs[layer.name, threads] = ceiling.read_bandwidth(layer.w_s8.nbytes, threads, repeats=40)
                print(f"read roofline of {layer.name} ({layer.w_s8.nbytes} weight bytes), {threads} thread(s): "
                      f"{_fmt(roofs[layer.name, threads])} GB/s = GMAC/s")
    header = (f"{'layer':34s} {'thr':>3s} {'peer':34s} {'GMAC/s':>8s} {'t/t_fx':>7s} {'%int16':>7s} "
              f"{'%vnni':>6s} {'%roof':>6s}  exact")
    print(header)
    for layer in layers:
        for threads in (1, 2):
            _kernels.set_num_threads(threads)
            # Each engine is set up only after the previous one was timed, and released before the
            # next: ONNX Runtime's intra-op threads (and OpenMP's) spin after every run while
            # their session lives, and on 2 CPUs a spinning peer thread took the second core from
            # fxsim's 2-thread calls (measured: 35.8 GMAC/s on the depthwise layer alone, 23.2
            # with ORT 2-thread sessions alive).
            engines = [lambda: fxsim_peers(layer), lambda: ort_peers(layer, threads)]
            if have_torch:
                engines.append(lambda: torch_peers(layer, threads))
            engines.append(lambda: {"numpy im2col int64": (layer.numpy_acc, lambda y: agreement(y, layer.acc))})
            engines.append(lambda: reference_peers(layer))
            roof = roofs.get((layer.name, threads))
            times, exact = {}, {}  # peer name -> best time, agreement (in the engines' order)
            for round_index in range(rounds):
                for make_peers in engines:
                    peers = make_peers()
                    for name, (call, check) in peers.items():
                        slow = "numpy" in name or "reference" in name  # Python-speed peers: fewer calls
                        if slow and round_index > 0:
                            continue
                        if name not in exact:
                            exact[name] = check(call())
                        t = best_time(call, max(2, repeats // 3) if slow else repeats)
                        times[name] = min(t, times.get(name, float("inf")))
                    del peers  # the engine's sessions and threads go before the next engine starts
            base = next(iter(times.values()))  # fxsim's fused call: the first peer
            c16, cv = ceilings[threads]
            for name, t in times.items():
                gmacs = layer.macs / t / 1e9
                print(f"{layer.name:34s} {threads:3d} {name:34s} {gmacs:8.2f} {t / base:7.2f} "
                      f"{_pct(gmacs, c16):>7s} {_pct(gmacs, cv):>6s} {_pct(gmacs, roof):>6s}  {exact[name]}")
    print("t/t_fx: the peer's time over fxsim's fused call (above 1: fxsim is faster). %roof: of the read "
          "roofline (weight bytes / read bandwidth of a buffer that size) for the batch-1 classifier.")


def _fmt(v):
    return "n/a" if v is None else f"{v:.1f}"


def _pct(v, ceiling_value):
    return "" if not ceiling_value else f"{100 * v / ceiling_value:.0f}%"
