"""The integers a target computes, for checking your own kernel against it.

    from fxsim.testing.oracle import Oracle

    oracle = Oracle("tflite-int8")                      # a name, a TOML path or a Target
    params = oracle.multipliers(s_x, s_w, s_y)          # what the target's kernel is given
    y_ref = oracle.requantize(acc, s_x, s_w, y_enc)     # the target's codes for acc
    y_ref = oracle.conv2d(problem)                      # a whole ConvProblem / FullyConnectedProblem

Everything goes through the same lowering pieces fxsim's simulator uses for Conv, Gemm and
MatMul (``fxsim.ops._integer``): real multipliers ``s_x * s_w[c] / s_y`` in the target's
``multiplier.precision`` (double from float32 scales for TFLite, float32 for ONNX Runtime),
the target's multiplier derivation, ``requant`` method and rounding, its output stage (the
zero point, the clamp, HTP's zero point folded into the bias) and its accumulator policy, with
the target's per-op overrides (``op``: ``"conv2d"``, ``"depthwise_conv2d"``,
``"fully_connected"``, ...).
"""

import numpy as np

from ..arith import Encoding, Requant
from ..ops._integer import Rescale, accumulator_policy
from ..targets import Layer, Target, load_target

__all__ = ["Oracle"]


class Oracle:
    """A target's integer arithmetic for weighted ops, bound to one ``Target``."""

    def __init__(self, target):
        self.target = target if isinstance(target, Target) else load_target(target)

    def __repr__(self):
        return f"Oracle({self.target.name!r})"

    def _profile(self, op, output_encoding, layer=None):
        bits = 16 if output_encoding.bitwidth > 8 else 8
        return self.target.for_op(op, bits, layer)

    def _rescale(self, input_scale, weight_scales, output_encoding, op, qmin, qmax, name, layer=None):
        if not isinstance(output_encoding, Encoding):
            raise TypeError(f"Oracle({self.target.name!r}).{name}: output_encoding must be an fxsim Encoding, "
                            f"got {type(output_encoding).__name__}")
        ws = np.asarray(weight_scales, np.float64).reshape(-1)
        lo = int(output_encoding.qmin) if qmin is None else int(qmin)
        hi = int(output_encoding.qmax) if qmax is None else int(qmax)
        return Rescale(input_scale, ws, output_encoding, self._profile(op, output_encoding, layer), name, lo, hi,
                       ws.size)

    def multipliers(self, input_scale, weight_scales, output_scale, *, op="conv2d", layer=None):
        """What the target's kernel receives for the real multipliers ``s_x * s_w[c] / s_y``:
        a tuple of ``Multiplier`` (fixed-point and power-of-two methods) or a float32 array
        (``FP32``), one per channel; ``None`` for a target that rescales exactly (``exact``)."""
        enc = Encoding(float(output_scale), -128, bitwidth=8, signed=True)
        rescale = self._rescale(input_scale, weight_scales, enc, op, None, None, "multipliers", layer)
        if rescale.exact:
            return None
        if rescale.method is Requant.FP32:
            return np.asarray(rescale.scales, np.float32).copy()
        return tuple(rescale.multipliers)

    def requantize(self, acc, input_scale, weight_scales, output_encoding, *, axis=-1, op="conv2d",
                   qmin=None, qmax=None, layer=None):
        """The target's output codes for accumulators ``acc`` (int32 or int64): real multipliers
        ``s_x * s_w[c] / s_y`` (one per channel along ``axis`` when ``weight_scales`` has more
        than one), the target's requantization and output stage into ``output_encoding``
        (per-tensor), clamped to ``[qmin, qmax]`` (default: the encoding's range). ``layer`` (a
        ``fxsim.targets.Layer``) is required for an op the target routes per layer."""
        acc = np.asarray(acc)
        if acc.dtype not in (np.int32, np.int64):
            raise TypeError(f"Oracle({self.target.name!r}).requantize: acc must be int32 or int64, got {acc.dtype}")
        rescale = self._rescale(input_scale, weight_scales, output_encoding, op, qmin, qmax, "requantize", layer)
        if rescale.channels > 1:
            axis = axis % acc.ndim
            if acc.shape[axis] != rescale.channels:
                raise ValueError(f"Oracle({self.target.name!r}).requantize: {rescale.channels} weight scales "
                                 f"but acc has {acc.shape[axis]} channels on axis {axis}")
            return rescale(acc, axis)
        return rescale(acc, 0)

    def accumulator(self, problem, op=None):
        """``(policy name, bits)``: the target's accumulation for ``problem`` 's operand types."""
        profile = self._profile(op or _op_of(problem), problem.y_encoding, _layer_of(problem))
        return accumulator_policy(profile, problem.x.dtype, problem.w.dtype)

    def conv2d(self, problem, *, op=None, qmin=None, qmax=None):
        """The target's output codes ``[N, C_out, OH, OW]`` for a ``ConvProblem``: accumulation
        with the target's policy, then ``requantize`` per output channel. ``op`` defaults to
        ``"depthwise_conv2d"`` for a depthwise problem, else ``"conv2d"``."""
        op = op or _op_of(problem)
        policy, bits = self.accumulator(problem, op)
        acc = problem.accumulate(policy, bits)
        return self.requantize(acc, problem.x_encoding.scale, problem.weight_scales, problem.y_encoding,
                               axis=1, op=op, qmin=qmin, qmax=qmax, layer=_layer_of(problem))

    def fully_connected(self, problem, *, op="fully_connected", qmin=None, qmax=None):
        """The target's output codes ``[batch, N]`` for a ``FullyConnectedProblem``."""
        policy, bits = self.accumulator(problem, op)
        acc = problem.accumulate(policy, bits)
        return self.requantize(acc, problem.x_encoding.scale, problem.weight_scales, problem.y_encoding,
                               axis=1, op=op, qmin=qmin, qmax=qmax, layer=_layer_of(problem))


def _layer_of(problem):
    """The ``Layer`` a target's routes look at, from a conv or fully connected problem."""
    symmetric = not np.any(problem.w_zero_points)
    if not hasattr(problem, "groups"):
        return Layer(symmetric)
    return Layer(symmetric, int(problem.groups), int(problem.x.shape[1]), int(problem.w.shape[0]),
                 tuple(int(k) for k in problem.w.shape[2:]), tuple(int(v) for v in problem.stride),
                 tuple(int(v) for v in problem.dilation), tuple(int(v) for v in problem.pads))


def _op_of(problem):
    if hasattr(problem, "groups"):
        return "depthwise_conv2d" if problem.depthwise and problem.groups > 1 else "conv2d"
    return "fully_connected"
