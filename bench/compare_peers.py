"""fxsim beside its peers, in one run: numpy, ONNX Runtime and PyTorch computing the same integers.

Two sections (``--section``, both by default):

* ``array``: quantize / requantize. For each case the script first checks that every peer
  produces exactly fxsim's integers (a speed comparison of different answers means nothing),
  then times each one and prints elements per second and the ratio to fxsim.
* ``conv``: the named Conv2D / MatMul layers of shapes.py (issue 3), 1 and 2 threads: fxsim's
  fused conv2d_requantize / matmul_requantize (u8 x s8, MLAS's float32 requantization; timed
  through the call object the simulator builds, Conv2DRequantizeCall / MatMulRequantizeCall,
  weights packed and arguments bound once) and its accumulators; ONNX Runtime QLinearConv / QLinearMatMul with u8 x s8, u8 x u8 and s8 x s8,
  ConvInteger / MatMulInteger; PyTorch's quantized Conv2d / Linear (fbgemm; skipped with a
  message when torch is absent: run with /work/venvs/torch/bin/python); numpy im2col + int64
  matmul; the ONNX reference evaluator (onnx.reference) on the u8 x s8 QLinear model. Every peer gets the same real values (u8 codes with zero point 128 are s8 codes + 128
  with zero point 0). Printed per layer: GMAC/s, the peer's time over fxsim's fused call, the
  percentage of the measured exact ceilings (bench/ceiling.py: int16 vpmaddwd and u8 x s8
  vpdpbusd micro-kernels, on the same thread count) and, for the batch-1 classifier, of the read
  roofline (1 MAC per weight byte); and whether the peer's integers equal the exact result:
  numpy's int64 accumulators, requantized by numpy with MLAS's float32 expression (round half
  even), independent of fxsim's kernels ("yes", or the share of equal outputs).

Times are the best of ``--repeats`` calls, inputs allocated outside the timed region. Run:

    python bench/compare_peers.py [--section array|conv|all] [--repeats R] [--threads T] [--isa ISA]

``--isa avx512bw`` (or the ``FXSIM_ISA`` environment variable) runs fxsim's kernels in that
variant: on an AVX-512 VNNI machine, fxsim's rows of a Skylake-class machine (AVX-512BW without
VNNI). The peers keep their own dispatch, so their rows do not change.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the in-tree fxsim

import fxsim as fx  # noqa: E402
import numpy_equivalents as npq  # noqa: E402
from peers_conv import best_time  # noqa: E402


def ort_session(graph_builder):
    """An ONNX Runtime session on one thread for a graph, or None when ORT is not installed."""
    try:
        import onnx
        import onnxruntime as ort
    except ImportError:
        return None
    model = graph_builder(onnx)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def quantize_linear_model(scale, zero_point):
    """ONNX QuantizeLinear(x, scale, zp) to int8: RHE(x / scale) + zp, saturated."""
    def build(onnx):
        from onnx import TensorProto, helper
        node = helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"])
        graph = helper.make_graph(
            [node], "q",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])],
            [helper.make_tensor_value_info("y", TensorProto.INT8, [None])],
            [helper.make_tensor("s", TensorProto.FLOAT, [], [scale]),
             helper.make_tensor("zp", TensorProto.INT8, [], [zero_point])],
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return build


def requantize_fp32_model(scale, zero_point):
    """Cast(int32 -> float) * scale, then QuantizeLinear(scale 1, zp): MLAS's fp32 requant."""
    def build(onnx):
        from onnx import TensorProto, helper
        nodes = [
            helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["accf", "m"], ["v"]),
            helper.make_node("QuantizeLinear", ["v", "one", "zp"], ["y"]),
        ]
        graph = helper.make_graph(
            nodes, "rq",
            [helper.make_tensor_value_info("acc", TensorProto.INT32, [None])],
            [helper.make_tensor_value_info("y", TensorProto.INT8, [None])],
            [helper.make_tensor("m", TensorProto.FLOAT, [], [scale]),
             helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
             helper.make_tensor("zp", TensorProto.INT8, [], [zero_point])],
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return build


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=["array", "conv", "all"], default="all")
    parser.add_argument("--elements", type=int, default=1 << 20)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--conv-repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3,
                        help="conv section: each peer's best over this many rounds, the engines taking turns")
    parser.add_argument("--layers", default="", help="comma-separated layer names of shapes.py (default: all)")
    parser.add_argument("--threads", type=int, default=1,
                        help="fxsim kernel threads in the array section (default 1, like the ONNX Runtime session)")
    parser.add_argument("--isa", default="", help="fxsim's kernel variant (default: the best this CPU runs)")
    args = parser.parse_args(argv)
    if args.isa:
        from fxsim import _kernels
        _kernels.set_isa(args.isa)
    failures = 0
    if args.section in ("array", "all"):
        failures += array_section(args)
    if args.section in ("conv", "all"):
        import peers_conv
        peers_conv.conv_section(args.conv_repeats, [n for n in args.layers.split(",") if n], rounds=args.rounds)
    return 1 if failures else 0


def array_section(args):
    """Quantize / requantize beside numpy and ONNX Runtime; returns the number of mismatches."""
    fx._kernels.set_num_threads(args.threads)
    n = args.elements
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 0.7).astype(np.float32)
    acc = rng.integers(-(1 << 20), 1 << 20, size=n, dtype=np.int32)
    scale, zp = np.float32(0.0123), -5
    rq_scale = 0.0072474273418486118
    enc = fx.Encoding.from_zero_point(float(scale), zp, "int8")
    m = fx.quantize_multiplier(rq_scale, derivation="tflite")

    cases = []
    ort_q = ort_session(quantize_linear_model(float(scale), zp))
    cases.append(("quantize int8 half_even (division)", {
        "fxsim": lambda: fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_EVEN),
        "numpy": lambda: npq.quantize_half_even(x, scale, zp, -128, 127, np.int8),
        **({"onnxruntime": lambda: ort_q.run(None, {"x": x})[0]} if ort_q else {}),
    }))
    cases.append(("quantize int8 half_away (TFLite)", {
        "fxsim": lambda: fx.quantize(x, enc, rounding=fx.RoundingMode.HALF_AWAY),
        "numpy": lambda: npq.quantize_half_away(x, scale, zp, -128, 127, np.int8),
    }))
    cases.append(("requantize double_round (TFLite)", {
        "fxsim": lambda: fx.requantize(acc, rq_scale, fx.Requant.DOUBLE_ROUND, zero_point=zp),
        "numpy": lambda: npq.requantize_double_round(acc, m.value, m.shift, zp, -128, 127, np.int8),
    }))
    cases.append(("requantize single_round (ruy)", {
        "fxsim": lambda: fx.requantize(acc, rq_scale, fx.Requant.SINGLE_ROUND, zero_point=zp),
        "numpy": lambda: npq.requantize_single_round(acc, m.value, m.shift, zp, -128, 127, np.int8),
    }))
    ort_rq = ort_session(requantize_fp32_model(float(np.float32(rq_scale)), zp))
    cases.append(("requantize fp32 half_even (MLAS)", {
        "fxsim": lambda: fx.requantize(acc, np.float32(rq_scale), fx.Requant.FP32,
                                       rounding=fx.RoundingMode.HALF_EVEN, zero_point=zp),
        "numpy": lambda: npq.requantize_fp32(acc, np.float32(rq_scale), zp, -128, 127, np.int8),
        **({"onnxruntime": lambda: ort_rq.run(None, {"acc": acc})[0]} if ort_rq else {}),
    }))

    print(f"fxsim ISA variant: {fx._kernels.isa()}  threads: {fx._kernels.num_threads()}  "
          f"elements: {n}  repeats: {args.repeats}  (onnxruntime: 1 thread)")
    print(f"{'case':40s} {'peer':12s} {'Melem/s':>10s} {'fxsim speedup':>14s}")
    failures = 0
    for title, peers in cases:
        expected = peers["fxsim"]()
        times = {}
        for peer, fn in peers.items():
            if not np.array_equal(np.asarray(fn()).reshape(-1), expected.reshape(-1)):
                print(f"{title:40s} {peer:12s} MISMATCH: different integers, not timed")
                failures += 1
                continue
            times[peer] = best_time(fn, args.repeats)
        for peer, t in times.items():
            ratio = t / times["fxsim"] if "fxsim" in times else float("nan")
            print(f"{title:40s} {peer:12s} {n / t / 1e6:10.1f} {ratio:13.2f}x")
    return failures


if __name__ == "__main__":
    sys.exit(main())
