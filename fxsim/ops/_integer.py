"""Integer lowering: what an op's ``lower_integer`` receives, and the target arithmetic the
lowerings share (quantize with the target's rule, weight and bias codes, the rescale of an
accumulator, clamps of fused activations, the float fallback).

An op module that runs on integers defines ``lower_integer(ctx) -> Lowered`` next to its
``run_float``. ``ctx`` is an ``IntegerContext``: plain data (attributes, operands with their
encodings and constant values, the target profile), never the IR. The returned ``Lowered``
holds ``run(inputs) -> outputs``: codes in, codes out (each tensor in its encoding's storage
dtype; tensors without an encoding, such as int64 indices, as they are). Everything that does
not depend on the input (weight codes, bias codes, multipliers) is computed once, at lowering.

Ops without an integer lowering run as ``float_fallback``: dequantize the inputs, the op's float
semantics, quantize the outputs with the target's quantize rule (TARGETS.md "nonlinear ops":
``float_fallback`` = Dequantize -> float op -> Quantize). ``Lowered.kind`` says which it was, so
a report never passes a float fallback off as the target's integer arithmetic.
"""

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Optional

import numpy as np

from ..arith import (
    Accumulate,
    Encoding,
    Requant,
    RoundingMode,
    dequantize,
    pack_int4,
    quantize,
    quantize_multipliers,
    real_multiplier,
    requantize,
)
from .. import _kernels
from ..arith.quantize import prepare_dequantize, prepare_quantize
from ..arith.requantize import FIXED_POINT_KERNELS
from ..errors import EncodingError, FxsimError, TargetError
from ..targets import Layer
from ..reference.rounding import round_fraction  # the exact oracle's rounding, shared with the tests

__all__ = [
    "Operand",
    "IntegerContext",
    "Lowered",
    "quantize_input",
    "prepare_quantize_input",
    "fake_quantize",
    "weight_codes",
    "stored_codes",
    "bias_codes",
    "activation_clamp",
    "Rescale",
    "accumulator_policy",
    "float_fallback",
    "clamp_codes_lowering",
    "WeightedLowering",
    "record_accumulator",
]


@dataclass
class Operand:
    """One input or output of a node as a lowering sees it.

    ``encoding`` is the tensor's ``Encoding`` (None for tensors that are not quantized: int64
    indices and shapes, or absent optional inputs); ``value`` the constant value (float weights,
    int64 shapes) or None for computed tensors.
    """

    name: str
    shape: tuple
    dtype: np.dtype
    encoding: Optional[Encoding] = None
    value: Optional[np.ndarray] = None


@dataclass
class IntegerContext:
    """Everything a lowering may use: the node's name, op type and attributes, its operands
    (``None`` for an absent optional input), the target profile, ``fused_activation``:
    ``(low, high)`` float bounds of a Relu / Clip that was fused into this node's output clamp
    (either may be None), or None, and ``graph``: the ``fxsim.ir.Graph`` the node belongs to (read
    only; None outside a simulator), for rules of an engine's graph passes that depend on the
    nodes around this one (``resize.layout_pass``)."""

    node_name: str
    op_type: str
    attrs: dict
    inputs: list
    outputs: list
    target: object
    fused_activation: Optional[tuple] = None
    graph: Optional[object] = None

    def target_for(self, op_stem, layer=None):
        """The profile this op's kernel runs with: the target's overrides for ``op_stem`` (see
        ``Target.for_op``) at the activation width of the first output, and those of the routes
        that select ``layer`` (a ``fxsim.targets.Layer``: weighted ops)."""
        enc = self.outputs[0].encoding if self.outputs else None
        bits = 16 if enc is not None and enc.bitwidth > 8 else 8
        return self.target.for_op(op_stem, bits, layer)

    def where(self, what=None):
        """``node 'name' (OpType)`` plus ``what``: the prefix of every error a lowering raises."""
        text = f"node {self.node_name!r} ({self.op_type})"
        return f"{text}: {what}" if what else text


@dataclass
class Lowered:
    """A lowered node: ``run(inputs) -> outputs`` over codes; ``kind`` is ``"integer"`` (the
    target's integer arithmetic), ``"data_movement"`` (codes moved, not changed),
    ``"float_fallback"``, ``"convert"`` (an inserted conversion), or ``"float"`` / ``"int32"``
    (mixed precision); ``arithmetic`` a short description for reports."""

    run: Callable
    kind: str = "integer"
    arithmetic: str = ""
    info: dict = field(default_factory=dict)
    #: run-time statistics a lowering records when ``stats["record"]`` is set (the comparison
    #: turns it on): ``acc_absmax`` (largest |accumulator|) and ``acc_bits`` for weighted ops
    stats: dict = field(default_factory=lambda: {"record": False})


# ---------------------------------------------------------------- quantize with the target's rule


def quantize_input(x, encoding, target, name):
    """Float values to codes with the target's quantize rule (TARGETS.md "quantize"): division
    or reciprocal multiplication in the stated precision, the target's rounding mode. Clamping
    before or after adding the zero point gives the same codes (integer bounds, monotone
    rounding), so both orders are this one call."""
    return prepare_quantize_input(encoding, target, name)(x)


def prepare_quantize_input(encoding, target, name, shape=None):
    """``quantize_input`` prepared once: ``run(x)`` quantizes with the target's rule."""
    spec = target.quantize
    if spec.method == "reciprocal_vector8_tail_division":
        # TFLite optimized_ops AffineQuantize: the vector loop takes 8 values at a time (x * (1/s),
        # vcvtnq: the profile's rounding), the scalar tail rounds x * (1/s) half away from zero
        # (TfLiteRound); LiteRT 2.3.0 x86, tests/golden/tflite float_io: element 104 of 108 is
        # reciprocal-rounded (division would give one more), 105 and 106 are ties rounded away
        body = prepare_quantize(encoding, rounding=spec.rounding, reciprocal=True, precision=spec.precision,
                                name=name)
        tail = prepare_quantize(encoding, rounding=RoundingMode.HALF_AWAY, reciprocal=True,
                                precision=spec.precision, name=name)

        def run(x):
            flat = np.asarray(x).reshape(-1)  # the prepared runs check the dtype and finiteness
            split = flat.size - flat.size % 8
            out = np.empty(flat.shape, encoding.dtype)
            out[:split] = body(flat[:split])
            out[split:] = tail(flat[split:])
            return out.reshape(np.shape(x))

        return run
    return prepare_quantize(encoding, rounding=spec.rounding, reciprocal=spec.method == "reciprocal",
                            precision=spec.precision, name=name, shape=shape)


def fake_quantize(x, encoding, target, name):
    """``dequantize(quantize_input(x))``: the value a constant operand has on the target."""
    return dequantize(quantize_input(x, encoding, target, name), encoding, name=name)


def weight_codes(w, encoding, target, name):
    """Weight codes: ``w / scale`` in float32 rounded with the target toolchain's weight rounding
    (``weights.rounding``), zero point added, clamped to the encoding's range (narrow range
    included)."""
    return quantize(np.asarray(w, np.float32), encoding, rounding=target.weights.rounding,
                    precision="float32", name=name)


def _holds_codes(operand):
    """True for a constant operand whose value is integer codes (a quantized file's weights or
    bias, ``fxsim.frontends.onnx_quantized``) rather than float values."""
    return (operand is not None and operand.value is not None and operand.encoding is not None
            and np.issubdtype(np.asarray(operand.value).dtype, np.integer))


def stored_codes(w, encoding, name):
    """Weight codes read from a quantized file, in the encoding's storage dtype, unchanged:
    ``w`` holds integers (possibly converted to float32 and re-laid out by the op, which is
    exact below 2^24); EncodingError naming the tensor if a value is not an integer code of
    the encoding's range."""
    w = np.asarray(w)
    codes = np.rint(w).astype(np.int64) if np.issubdtype(w.dtype, np.floating) else w.astype(np.int64)
    if np.any(codes != w) or (codes.size and (codes.min() < encoding.qmin or codes.max() > encoding.qmax)):
        raise EncodingError(f"{name}: weight codes outside [{encoding.qmin}, {encoding.qmax}] or not integers")
    return np.ascontiguousarray(codes.astype(encoding.dtype))


def _channel_zero_points(encoding, channels):
    zps = np.asarray(encoding.zero_point, dtype=np.int64).reshape(-1)
    return np.broadcast_to(zps, (channels,)).astype(np.int32) if zps.size == 1 else zps.astype(np.int32)


def bias_codes(bias, input_scale, weight_scales, target, name, channels):
    """Integer bias ``round(b / (s_in * s_w[c]))`` as the target derives it (TARGETS.md "bias"):
    the scale in ``bias.scale_precision`` (``double`` from float32 scales as TFLite does,
    ``float32`` as ONNX Runtime does, ``exact`` rationals), ``bias.rounding``, storage s32 or s64
    and the ``overflow`` rule (saturate and report, wrap, or raise). Returns ``(codes, report)``
    with ``report["saturated"]`` the number of saturated channels."""
    spec = target.bias
    if spec.storage not in ("s32", "s64"):
        raise TargetError(f"{name}: bias storage {spec.storage!r} is not simulated yet (s32 and s64 are)")
    bits = 32 if spec.storage == "s32" else 64
    b = np.broadcast_to(np.asarray(bias, dtype=np.float32).reshape(-1), (channels,))
    ws = _channel_scales(weight_scales, channels)
    xs = np.float32(input_scale)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if spec.scale_precision == "exact":
        exact = [Fraction(float(bc)) / (Fraction(float(xs)) * Fraction(float(wc))) for bc, wc in zip(b, ws)]
        rounded = [round_fraction(v, int(spec.rounding)) for v in exact]
    else:
        if spec.scale_precision == "double":
            scale = np.float64(xs) * ws.astype(np.float32).astype(np.float64)
            values = b.astype(np.float64) / scale
        else:  # float32
            scale = np.multiply(xs, ws.astype(np.float32), dtype=np.float32)
            values = np.divide(b, scale, dtype=np.float32).astype(np.float64)
        rounded = [round_fraction(Fraction(float(v)), int(spec.rounding)) for v in values]
    out, saturated = [], 0
    for c, r in enumerate(rounded):
        if r < lo or r > hi:
            if spec.overflow == "raise":
                raise EncodingError(f"{name}: bias[{c}] = {r} does not fit {spec.storage}")
            if spec.overflow == "wrap":
                r = (r - lo) % (1 << bits) + lo
            else:
                r, saturated = (lo if r < lo else hi), saturated + 1
        out.append(r)
    return np.array(out, dtype=np.int32 if bits == 32 else np.int64), {"saturated": saturated}


def _channel_scales(scales, channels):
    """Per-tensor or per-channel scales as ``channels`` float64 values."""
    ws = np.asarray(scales, dtype=np.float64).reshape(-1)
    return np.broadcast_to(ws, (channels,)) if ws.size == 1 else ws


def activation_clamp(encoding, fused, target):
    """``(qmin, qmax)`` of an output with a fused Relu/Clip ``fused = (low, high)``: each float
    bound quantized with the target's quantize rule and intersected with the encoding's range,
    as TFLite's ``CalculateActivationRangeQuantized`` does (``zp + round(bound / scale)``)."""
    qmin, qmax = int(encoding.qmin), int(encoding.qmax)
    if fused is None:
        return qmin, qmax
    low, high = fused
    if low is not None:
        qmin = max(qmin, int(quantize_input(np.float32([low]), encoding, target, "clamp")[0]))
    if high is not None:
        qmax = min(qmax, int(quantize_input(np.float32([high]), encoding, target, "clamp")[0]))
    return qmin, min(max(qmin, qmax), int(encoding.qmax))


def accumulator_policy(target, act_dtype, weight_dtype):
    """``(policy name, accumulator bits)`` for a product of ``act_dtype`` x ``weight_dtype``:
    the target's policy, except that ``PAIR_SATURATE_16`` and ``RAW_PAIR_SATURATE_16`` only
    concern u8 x s8 products (TARGETS.md "accumulator"); other pairs accumulate exactly (WRAP at
    the same width)."""
    spec = target.accumulator
    policy = spec.policy
    if policy in (Accumulate.PAIR_SATURATE_16, Accumulate.RAW_PAIR_SATURATE_16) and not (
            np.dtype(act_dtype) == np.uint8 and np.dtype(weight_dtype) == np.int8):
        policy = Accumulate.WRAP
    return policy.value, int(spec.bits)


class Rescale:
    """The requantization of accumulators of one node, prepared once: real multipliers
    ``s_in * s_w[c] / s_out`` in the target's ``multiplier.precision``, turned into the target's
    fixed-point or float32 multipliers, and the target's ``requant`` method and output stage.

    ``__call__(acc, axis)`` returns codes in the output encoding's storage dtype, clamped to
    ``[qmin, qmax]`` (a fused activation narrows them). The output stage ``zp_in_bias`` (HTP as
    AIMET documents it) folds the output zero point into the accumulator before the float
    rescale: ``y = round((acc + round(zp / s')) * s')``.
    """

    def __init__(self, input_scale, weight_scales, out_encoding, target, name, qmin, qmax, channels,
                 float_bias=None):
        self.name = name
        self.target = target
        self.enc = out_encoding
        self.qmin, self.qmax = qmin, qmax
        self.channels = channels
        spec, mspec = target.requant, target.multiplier
        ws = _channel_scales(weight_scales, channels)
        self.zero_point = int(np.asarray(out_encoding.zero_point).reshape(-1)[0])
        if out_encoding.is_per_channel:
            raise EncodingError(f"{name}: the output encoding must be per-tensor")
        self.method = spec.method
        self.float_bias = float_bias
        self.fused_arguments = None  # set below for the kernel methods
        if float_bias is not None and (spec.method is not Requant.FP32 or spec.product_precision != "float32"
                                       or spec.zero_point_in_float):
            raise TargetError(f"{name}: a float bias needs the float32 requantization (requant.method fp32)")
        self.exact = mspec.precision == "exact" or spec.product_precision == "exact"
        if self.exact:
            xs = Fraction(float(np.float32(input_scale)))
            ys = Fraction(float(np.float32(out_encoding.scale)))
            self.fractions = [xs * Fraction(float(np.float32(w))) / ys for w in ws]
            self.describe = "exact rational rescale, " + spec.rounding.name.lower()
            return
        precision = "float32" if mspec.precision == "float32" else "double"
        reals = np.asarray(real_multiplier(input_scale, ws, out_encoding.scale, precision=precision)).reshape(-1)
        self.zp_in_bias = target.output_stage.order == "zp_in_bias"
        if spec.method is Requant.FP32:
            self.scales = reals.astype(np.float32)
            self.describe = f"fp32 {spec.rounding.name.lower()} ({target.output_stage.order})"
        else:
            options = {}
            if mspec.derivation not in ("power_of_two",) and mspec.bits != 32:
                options["bits"] = mspec.bits
            if spec.method is Requant.SINGLE_ROUND and mspec.derivation == "tflite":
                options["single_round"] = True  # TFLITE_SINGLE_ROUNDING's shift range
            self.multipliers = quantize_multipliers(reals, mspec.derivation, **options)
            if spec.method is not Requant.POWER_OF_TWO and any(m.bits != 32 for m in self.multipliers):
                raise TargetError(f"{name}: {spec.method.name} needs 32-bit multipliers")
            self.describe = f"{spec.method.name.lower()} ({mspec.derivation} multipliers)"
        self.zero_points = np.array([self.zero_point], np.int32)
        if self.zp_in_bias:
            # b' = round(zp / s') per channel (AIMET's HTP equation; rounded half away as
            # AIMET's numpy round of the folded bias: assumed, labelled in htp.toml); the zero
            # point is then inside the accumulator, so none is added after rounding
            self.zp_offset = np.array(
                [round_fraction(Fraction(self.zero_point) / Fraction(float(s)), int(RoundingMode.HALF_AWAY))
                 for s in self.scales],
                dtype=np.int64)
            self.zero_points = np.zeros(1, np.int32)
        # The kernel call (a name of fxsim._kernels), prepared once: fxsim.arith.requantize validated the same arguments
        # per call, which cost more than the kernel on small layers.
        if spec.method is Requant.FP32:
            self.kernel = "requantize_fp32"
            self.params = (self.scales,)
            self.tail = (int(spec.rounding), 0, spec.product_precision == "float64", bool(spec.zero_point_in_float))
        elif spec.method is Requant.POWER_OF_TWO:
            self.kernel = "requantize_power_of_two"
            self.params = (np.array([m.shift for m in self.multipliers], np.int32),)
            self.tail = (int(spec.rounding), 0)
        else:
            self.kernel = FIXED_POINT_KERNELS[spec.method]
            self.params = (np.array([m.value for m in self.multipliers], np.int32),
                           np.array([m.shift for m in self.multipliers], np.int32))
            self.tail = ()
        # DOUBLE_ROUND with a half-up final shift (LiteRT's optimized x86 CONV_2D): fxsim.arith.requantize
        self.final_rounding = spec.rounding if spec.method is Requant.DOUBLE_ROUND else None
        if self.final_rounding is not None:
            self.describe += f", final shift {spec.rounding.name.lower()}"
        self.fused_arguments = self._fused_arguments(spec)

    @property
    def fusable(self):
        """True when the fused conv2d / matmul kernels can apply this rescale (every kernel
        method; not the exact rational rescale, FBGEMM's float bias nor the half-up final shift of
        LiteRT's optimized kernels, which run in Python)."""
        return not self.exact and self.float_bias is None and self.final_rounding is None

    def _fused_arguments(self, spec):
        """The requantization arguments of ``_kernels.conv2d_requantize`` / ``matmul_requantize``
        (``acc_offset, method, multiplier, shift, scale, zero_point, qmin, qmax, rounding, seed,
        product_in_float64, zero_point_in_float``): the same kernel method and constants as
        ``__call__``, the zp_in_bias offset added to each accumulator in int64 as ``__call__``
        adds it, so the fused call gives the codes of ``self(accumulate(...))`` bit for bit."""
        if not self.fusable:
            return None
        per_channel = self.channels > 1
        params = self.params if per_channel else tuple(p[:1] for p in self.params)
        offset = None
        if self.zp_in_bias:
            offset = np.ascontiguousarray(self.zp_offset if per_channel else self.zp_offset[:1], np.int64)
        multiplier = shift = scale = None
        rounding, product_in_float64, zero_point_in_float = 0, False, False
        if self.kernel == "requantize_fp32":
            method, (scale,) = "fp32", params
            rounding, _, product_in_float64, zero_point_in_float = self.tail
        elif self.kernel == "requantize_power_of_two":
            method, (shift,) = "power_of_two", params
            rounding = self.tail[0]
        else:
            method, (multiplier, shift) = self.kernel[len("requantize_"):], params
        return (offset, method, multiplier, shift, scale, self.zero_points, self.qmin, self.qmax, rounding, 0,
                product_in_float64, zero_point_in_float)

    def __call__(self, acc, axis=1):
        """Codes of ``acc`` (int32 or int64), per channel along ``axis`` when per-channel."""
        if self.exact:
            return self._exact(acc, axis)
        if self.float_bias is not None:
            return self._float_bias(acc, axis)
        per_channel = self.channels > 1
        if self.zp_in_bias:
            shape = [1] * acc.ndim
            if per_channel:
                shape[axis] = -1
            acc = acc.astype(np.int64) + (self.zp_offset if per_channel else self.zp_offset[:1]).reshape(shape)
        acc = np.ascontiguousarray(acc)
        if self.final_rounding is not None:
            return requantize(acc, self.multipliers if per_channel else self.multipliers[:1], Requant.DOUBLE_ROUND,
                              rounding=self.final_rounding, zero_point=self.zero_point, dtype=self.enc.dtype,
                              axis=axis if per_channel else None, qmin=self.qmin, qmax=self.qmax, name=self.name)
        inner = math.prod(acc.shape[axis + 1:]) if per_channel else 1
        params = self.params if per_channel else tuple(p[:1] for p in self.params)
        out = np.empty(acc.shape, self.enc.dtype)
        acc_bits = 32 if acc.dtype == np.int32 else 64
        getattr(_kernels, self.kernel)(acc.reshape(-1), *params, self.zero_points, self.qmin, self.qmax, inner, acc_bits,
                    *self.tail, out.reshape(-1))
        return out

    def _float_bias(self, acc, axis):
        """FBGEMM's float path: ``lrintf((float(acc) + bias_f) * scale) + zp``, clamped; every
        step an IEEE float32 operation (numpy float32 arithmetic is exactly that), lrintf
        rounding half to even in the default mode."""
        shape = [1] * acc.ndim
        shape[axis] = -1
        bias = self.float_bias.reshape(shape)
        scale = (self.scales if self.channels > 1 else np.broadcast_to(self.scales[:1], self.float_bias.shape))
        v = np.multiply(np.add(acc.astype(np.float32), bias, dtype=np.float32), scale.reshape(shape),
                        dtype=np.float32)
        codes = np.rint(v).astype(np.int64) + self.zero_point
        return np.clip(codes, self.qmin, self.qmax).astype(self.enc.dtype)

    def _exact(self, acc, axis):
        mode = int(self.target.requant.rounding)
        out = np.empty(acc.shape, dtype=self.enc.dtype)
        moved = np.moveaxis(acc, axis, 0) if self.channels > 1 else acc[None]
        target = np.moveaxis(out, axis, 0) if self.channels > 1 else out[None]
        for c in range(moved.shape[0]):
            f = self.fractions[c if self.channels > 1 else 0]
            flat = moved[c].reshape(-1)
            codes = [min(max(round_fraction(int(a) * f, mode) + self.zero_point, self.qmin), self.qmax)
                     for a in flat.tolist()]
            target[c] = np.array(codes, dtype=self.enc.dtype).reshape(moved[c].shape)
        return out


def clamp_codes_lowering(ctx, run_float, bounds):
    """Relu / Clip on codes: ``clip(q, code(low), code(high))`` with the bounds quantized by
    the target's rule (as a fused activation is), exact when input and output share one
    encoding; between two encodings, the target's fixed-point requantization of the codes
    (``requantize_codes``) followed by that clamp; otherwise the float fallback."""
    x, y = ctx.inputs[0], ctx.outputs[0]
    if x.encoding is None or ctx.fused_activation is not None:
        return float_fallback(ctx, run_float, "input and output encodings differ")
    if x.encoding != y.encoding:
        lo, hi = activation_clamp(y.encoding, bounds, ctx.target) if isinstance(y.encoding, Encoding) else (0, 0)
        lowered = requantize_codes(ctx, lambda q: [q], qmin=lo, qmax=hi)
        return lowered or float_fallback(ctx, run_float, "input and output encodings differ")
    lo, hi = activation_clamp(y.encoding, bounds, ctx.target)
    dtype = y.encoding.dtype

    def run(inputs):
        return [np.clip(inputs[0], lo, hi).astype(dtype, copy=False)]

    return Lowered(run, arithmetic=f"clamp codes to [{lo}, {hi}]")


def requantize_codes(ctx, move, qmin=None, qmax=None):
    """A one-input op whose output encoding differs from its input's, as TFLite computes it
    when the target's ``requantize`` scope uses a fixed-point requantization (double / single
    rounding, the reduced 16-bit multiplier): ``y = clamp(zp_out + MBQM(q - zp_in, M), qmin,
    qmax)`` with ``M`` derived by the target from ``s_in / s_out`` in its multiplier precision,
    then ``move`` (the op on codes: identity for Relu / Clip / QUANTIZE, the data movement for
    Reshape ...). This is TFLite's ``reference_ops::Requantize`` (QUANTIZE int -> int,
    tensorflow/lite/kernels/quantize.cc) and ``ReluX`` (RELU / RELU6 with their own output scale,
    tensorflow/lite/kernels/activations.cc), both the 32-bit ``MultiplyByQuantizedMultiplier``.
    Returns None (the caller falls back to float) for per-channel or non-integer encodings and
    for targets whose requantization is not fixed point with TFLite's multiplier derivation."""
    x, y = ctx.inputs[0], ctx.outputs[0]
    encs = (x.encoding, y.encoding)
    if not all(isinstance(e, Encoding) and not e.is_per_channel for e in encs):
        return None
    target = ctx.target_for("requantize")
    method = target.requant.method
    if method not in FIXED_POINT_KERNELS or target.multiplier.derivation != "tflite":
        return None  # only TFLite's rule is known (other engines' rescale of a Relu: not read)
    enc_in, enc_out = encs
    real = real_multiplier(enc_in.scale, 1.0, enc_out.scale, precision=target.multiplier.precision
                           if target.multiplier.precision in ("double", "float32") else "double")
    single = method is Requant.SINGLE_ROUND and target.multiplier.derivation == "tflite"
    multiplier = quantize_multipliers([float(real)], target.multiplier.derivation,
                                      **({"single_round": True} if single else {}))
    zp_in = int(enc_in.zero_point)
    dtype = np.dtype(enc_out.dtype).name
    lo = enc_out.qmin if qmin is None else qmin
    hi = enc_out.qmax if qmax is None else qmax

    def run(inputs):
        acc = inputs[0].astype(np.int32) - np.int32(zp_in)
        y_codes = requantize(acc, multiplier, method, zero_point=int(enc_out.zero_point), dtype=dtype, qmin=lo,
                             qmax=hi, name=ctx.node_name)
        return move(y_codes)

    return Lowered(run, arithmetic=f"requantize codes {method.name.lower()} (s_in / s_out = {float(real):.6g}), "
                                   f"clamp [{lo}, {hi}]")


# ---------------------------------------------------------------- float fallback


def float_fallback(ctx, run_float, reason="no integer lowering"):
    """Dequantize -> the op's float semantics -> quantize with the target's rule. The
    dequantization of each input, the quantization of each output and the clamp of a fused
    activation are prepared here, once."""
    consts = []
    for i, op in enumerate(ctx.inputs):
        if op is None or op.value is None:
            consts.append(None)
        elif op.encoding is not None and np.issubdtype(np.asarray(op.value).dtype, np.floating):
            consts.append(fake_quantize(op.value, op.encoding, ctx.target, op.name))
        elif _holds_codes(op) and isinstance(op.encoding, Encoding):  # a quantized file's codes
            consts.append(dequantize(op.value, op.encoding, name=op.name))
        else:
            consts.append(op.value)
    readers = []  # per input: the constant, or how to read the computed value
    for c, op in zip(consts, ctx.inputs):
        if c is not None:
            readers.append(("const", c))
        elif op is not None and isinstance(op.encoding, Encoding):
            readers.append(("codes", prepare_dequantize(op.encoding, name=op.name)))
        elif op is not None and op.encoding is not None:
            readers.append(("codes", lambda x, _enc=op.encoding, _name=op.name: dequantize(x, _enc, name=_name)))
        else:
            readers.append(("value", None))
    writers = []  # per output: None (kept as it is) or (quantize, clamp bounds or None)
    for op in ctx.outputs:
        if op.encoding is None:
            writers.append(None)
            continue
        bounds = (activation_clamp(op.encoding, ctx.fused_activation, ctx.target)
                  if ctx.fused_activation is not None else None)
        writers.append((prepare_quantize_input(op.encoding, ctx.target, op.name, op.shape), bounds))
    attrs = ctx.attrs

    def run(inputs):
        values = []
        for (how, what), x in zip(readers, inputs):
            if how == "const":
                values.append(what)
            elif x is None or how == "value":
                values.append(x)
            else:
                values.append(what(x))
        results = run_float(attrs, values)
        coded = []
        for writer, y in zip(writers, results):
            if writer is None:
                coded.append(y)
                continue
            q = writer[0](np.asarray(y, np.float32))
            if writer[1] is not None:
                q = np.clip(q, *writer[1]).astype(q.dtype)
            coded.append(q)
        return coded

    return Lowered(run, kind="float_fallback", arithmetic=f"float fallback ({reason})")


# ---------------------------------------------------------------- weighted ops (conv, gemm, matmul)


def record_accumulator(stats, acc, bits):
    """When ``stats["record"]`` is set, keep the largest |accumulator| seen (``acc_absmax``) and
    the accumulator width (``acc_bits``): the comparison's headroom metric."""
    if stats["record"] and acc.size:
        peak = int(max(-int(acc.min()), int(acc.max())))
        stats["acc_absmax"] = max(stats.get("acc_absmax", 0), peak)
        stats["acc_bits"] = bits


def _dpu_bias(ctx, bias, x_enc, w_enc, target, channels):
    """The Vitis AI DPU's bias: int8 codes at the bias's own power-of-two position ``fp_b``
    (rounded with the target's bias rounding, std::round), added to the accumulator as ``bias *
    2^(fp_in + fp_w - fp_b)`` (conv2d-fix.cpp ``filout``). A bias position finer than the
    accumulator's (``fp_b > fp_in + fp_w``) would make the sum fractional: not modelled."""
    from ..arith._arguments import power_of_two_position

    name = ctx.inputs[2].name
    b_enc = ctx.inputs[2].encoding
    if not isinstance(b_enc, Encoding) or b_enc.is_per_channel:
        raise EncodingError(ctx.where(f"bias {name!r}: the target stores biases as int8 at their own power-of-two "
                                      f"position; give the bias a per-tensor power-of-two encoding"))
    if w_enc.is_per_channel:
        raise EncodingError(ctx.where("the DPU's weights are per-tensor"))
    what = ctx.where("DPU bias")
    fp_in = power_of_two_position(x_enc, "input", what)
    fp_w = power_of_two_position(w_enc, "weight", what)
    fp_b = power_of_two_position(b_enc, "bias", what)
    shift = fp_in + fp_w - fp_b
    if not 0 <= shift <= 23:
        raise TargetError(ctx.where(f"bias {name!r} position {fp_b} vs accumulator position {fp_in + fp_w}: "
                                    f"only shifts 0..23 are modelled"))
    codes = quantize(np.broadcast_to(np.asarray(bias, np.float32).reshape(-1), (channels,)), b_enc,
                     rounding=target.bias.rounding, precision="float64", name=name)
    return (codes.astype(np.int64) << shift).astype(np.int32)


class WeightedLowering:
    """What Conv, Gemm and MatMul with a constant weight share: the weight codes and zero
    points per output channel, the bias codes, the accumulator policy and the ``Rescale``,
    all prepared once from the operands' encodings and the target (``op_stem`` picks the
    target's per-op overrides: ``conv2d``, ``depthwise_conv2d``, ``fully_connected``, ``matmul``).

    ``weight`` is the float weight already laid out as the kernel wants it and ``axis`` its
    output-channel axis in that layout (the encoding's axis, remapped by the caller).
    ``conv_geometry``: a convolution's ``in_channels``, ``out_channels``, ``kernel``, ``strides``,
    ``dilations`` and ``pads`` (the ``fxsim.targets.Layer`` fields a target's routes may look at).
    """

    def __init__(self, ctx, op_stem, weight, weight_encoding, channels, bias=None, conv_geometry=None):
        x, y = ctx.inputs[0], ctx.outputs[0]
        for operand, what in ((x, "input"), (y, "output")):
            if operand.encoding is None:
                raise EncodingError(ctx.where(f"{what} tensor {operand.name!r} has no encoding"))
            if operand.encoding.is_per_channel:
                raise EncodingError(ctx.where(f"{what} tensor {operand.name!r} needs a per-tensor encoding"))
        if weight_encoding is None:
            raise EncodingError(ctx.where(f"weight tensor {ctx.inputs[1].name!r} has no encoding"))
        self.weight_zero_points = _channel_zero_points(weight_encoding, channels)
        self.weight_bitwidth, self.weight_signed = int(weight_encoding.bitwidth), bool(weight_encoding.signed)
        # the layer's facts an engine's per-layer kernel choice looks at (Target routes)
        layer = Layer(weight_zero_points_all_zero=not np.any(self.weight_zero_points),
                      groups=int(ctx.attrs.get("group", 1)) if op_stem != "matmul" else 1,
                      **(conv_geometry or {}))
        self.target = ctx.target_for(op_stem, layer)
        wname = ctx.inputs[1].name
        if _holds_codes(ctx.inputs[1]):  # a quantized file's integer weights: its codes, never re-derived
            self.weight = stored_codes(weight, weight_encoding, wname)
        else:
            self.weight = weight_codes(weight, weight_encoding, self.target, wname)
        if self.weight.dtype.itemsize > 2 or self.weight_zero_points.min() < np.iinfo(self.weight.dtype).min:
            raise TargetError(ctx.where(f"weight {wname!r} storage {self.weight.dtype} is not simulated"))
        self.input_zero_point = int(np.asarray(x.encoding.zero_point).reshape(-1)[0])
        w_scales = _channel_scales(weight_encoding.scale, channels)
        self.bias, self.bias_report = (None, {"saturated": 0})
        float_bias = None
        if bias is not None and _holds_codes(ctx.inputs[2]):  # a quantized file's int32 / int64 bias, as it is
            codes = np.asarray(ctx.inputs[2].value).reshape(-1)
            self.bias = np.broadcast_to(codes, (channels,)).astype(np.int64 if codes.dtype == np.int64 else np.int32)
        elif bias is not None and self.target.bias.storage == "float":
            # FBGEMM keeps the bias in float and adds it to the float accumulator before the
            # rescale: raw_f = float(acc) + bias / act_times_w_scale, act_times_w_scale =
            # s_in * s_w in float32 (fbgemm OutputProcessing-inl.h ReQuantizeForFloat)
            act_times_w = np.multiply(np.float32(x.encoding.scale), w_scales.astype(np.float32), dtype=np.float32)
            float_bias = np.divide(np.broadcast_to(np.asarray(bias, np.float32).reshape(-1), (channels,)),
                                   act_times_w, dtype=np.float32)
        elif bias is not None and self.target.bias.storage == "s8_pot":
            self.bias = _dpu_bias(ctx, bias, x.encoding, weight_encoding, self.target, channels)
        elif bias is not None:
            self.bias, self.bias_report = bias_codes(bias, x.encoding.scale, w_scales, self.target,
                                                     ctx.inputs[2].name, channels)
        self.policy, self.acc_bits = accumulator_policy(self.target, x.encoding.dtype, self.weight.dtype)
        if self.bias is not None and self.acc_bits > 32:
            self.bias = self.bias.astype(np.int64)
        elif self.bias is not None and self.bias.dtype == np.int64:
            # a file's int64 bias (TFLite 16x8) on a 32-bit accumulator: exact only while it fits
            if self.bias.size and (self.bias.min() < -(1 << 31) or self.bias.max() >= 1 << 31):
                raise TargetError(ctx.where("an int64 bias beyond the int32 range needs a 64-bit accumulator"))
            self.bias = self.bias.astype(np.int32)
        self.acc_dtype = np.int32 if self.acc_bits == 32 else np.int64
        # what the kernel calls take as the weight and its zero points (see pack), whether they
        # are the conv kernels (set by pack) and their arguments (kernel_arguments)
        self.kernel_weight, self.kernel_weight_zero_points = self.weight, self.weight_zero_points
        self.conv_kernel, self.plain_arguments, self.fused_arguments, self.out_dtype = False, None, None, None
        self.fused_call = None  # the fused kernel with its arguments bound (kernel_arguments), or None
        qmin, qmax = activation_clamp(y.encoding, ctx.fused_activation, self.target)
        self.rescale = Rescale(x.encoding.scale, w_scales, y.encoding, self.target, y.name, qmin, qmax, channels,
                               float_bias=float_bias)

    def pack(self, layout):
        """Pack 8-bit weight codes once for the kernels' WRAP path (``layout`` "conv": weights
        ``[C_out, C_in/groups, KH, KW]``; "matmul": ``[K, N]``): ``kernel_weight`` becomes a
        ``_kernels.PackedConvWeights`` / ``PackedMatMulWeights`` holding the zero points, and
        ``kernel_weight_zero_points`` None, as the kernels take them. Other storages and policies
        keep the arrays (the packed object would only hand its codes back).

        4-bit weights reach the packed object as a 4-bit target stores them, two codes to a byte
        (``pack_int4``'s dense layout, the first in the low nibble), and are unpacked in its
        ``from_int4`` constructor: the issue's "int4 weights unpacked inside the kernel"."""
        self.conv_kernel = layout == "conv"
        if self.policy != "wrap" or self.weight.dtype.itemsize != 1:
            return
        packer = _kernels.PackedConvWeights if layout == "conv" else _kernels.PackedMatMulWeights
        if self.weight_bitwidth == 4:
            packed = pack_int4(self.weight, signed=self.weight_signed)
            self.kernel_weight = packer.from_int4(packed, self.weight.shape, self.weight_signed,
                                                  self.weight_zero_points)
        else:
            self.kernel_weight = packer(np.ascontiguousarray(self.weight), self.weight_zero_points)
        self.kernel_weight_zero_points = None

    def observe(self, acc, stats):
        """Record the largest |accumulator| when ``stats["record"]`` is set."""
        record_accumulator(stats, acc, self.acc_bits)

    def kernel_arguments(self, *geometry):
        """Builds the kernel arguments between the input and the output once at lowering, after
        ``pack`` (a run then adds only those two): ``plain_arguments`` for the accumulate kernel
        (weight codes or their packed object, input and weight zero points, bias, ``geometry``,
        policy, accumulator bits) and ``fused_arguments`` for the fused accumulate-and-requantize
        kernel (``plain`` then ``Rescale.fused_arguments``), None when the rescale runs in Python,
        and with packed weights ``fused_call``, the fused kernel's call object with those
        arguments bound (``_kernels.Conv2DRequantizeCall`` / ``MatMulRequantizeCall``).
        ``run_kernel`` calls the fused kernel unless ``stats["record"]`` asks for the accumulator
        array."""
        plain = (self.kernel_weight, self.input_zero_point, self.kernel_weight_zero_points, self.bias, *geometry,
                 self.policy, self.acc_bits)
        fused = None if self.rescale.fused_arguments is None else plain + tuple(self.rescale.fused_arguments)
        self.plain_arguments, self.fused_arguments = plain, fused
        self.out_dtype = self.rescale.enc.dtype  # once: Encoding.dtype is computed on each access
        # With packed weights the fused call's arguments are converted once, into a call object
        # (converting them took ~0.7 us of every run of the layer)
        call_type = _kernels.Conv2DRequantizeCall if self.conv_kernel else _kernels.MatMulRequantizeCall
        packed_type = _kernels.PackedConvWeights if self.conv_kernel else _kernels.PackedMatMulWeights
        self.fused_call = call_type(*fused) if fused is not None and isinstance(self.kernel_weight, packed_type) else None

    def run_kernel(self, codes, shape, axis, stats):
        """One run on the C-contiguous input ``codes``, after ``pack`` and ``kernel_arguments``:
        the fused kernel call (``conv2d_requantize`` / ``matmul_requantize``) unless
        ``stats["record"]`` asks for the accumulator array, else accumulate, observe and rescale.
        ``shape`` is the kernel's output shape and ``axis`` its channel axis; returns the codes."""
        if self.fused_arguments is not None and not stats["record"]:  # one call: accumulate and requantize by tiles
            out = np.empty(shape, self.out_dtype)
            if self.fused_call is not None:
                self.fused_call(codes, out)
            else:
                (_kernels.conv2d_requantize if self.conv_kernel else _kernels.matmul_requantize)(
                    codes, *self.fused_arguments, out)
            return out
        acc = np.empty(shape, self.acc_dtype)
        (_kernels.conv2d_accumulate if self.conv_kernel else _kernels.matmul_accumulate)(
            codes, *self.plain_arguments, acc)
        self.observe(acc, stats)
        return self.rescale(acc, axis=axis)

    def info(self):
        """What was prepared, for reports and tests: weight codes and zero points, bias codes,
        the bias report, and whether runs call the fused kernel (``fused_kernel``)."""
        return {"weight_codes": self.weight, "weight_zero_points": self.weight_zero_points,
                "bias_codes": self.bias, "bias": self.bias_report, "fused_kernel": self.rescale.fusable}

    def arithmetic(self):
        """A one-line description of the arithmetic, for reports."""
        return f"accumulate {self.policy}/{self.acc_bits}, requantize {self.rescale.describe}"


# ---------------------------------------------------------------- elementwise, pooling, tables


def is_onnxruntime(target):
    """True for the ONNX Runtime profiles, whose ``float`` elementwise / pooling family is the
    MLAS float32 expression that ``fxsim.arith`` models (other profiles' ``float`` family is the
    generic dequantize -> float op -> quantize)."""
    return target.name.startswith("onnxruntime")


def constant_codes(ctx, index):
    """Codes of constant input ``index`` quantized with its encoding and the target's rule,
    or None when the input is computed. A constant without an encoding is an error the caller
    turns into a fallback."""
    op = ctx.inputs[index]
    if op is None or op.value is None:
        return None
    if op.encoding is None:
        raise EncodingError(ctx.where(f"constant {op.name!r} has no encoding"))
    value = np.asarray(op.value)
    if np.issubdtype(value.dtype, np.integer):
        return value.astype(op.encoding.dtype)
    return quantize_input(value.astype(np.float32), op.encoding, ctx.target, op.name)


def per_tensor_operands(ctx, indices):
    """The encodings of inputs ``indices`` and of output 0 when all are per-tensor integer
    ``Encoding`` s, else None."""
    encs = [ctx.inputs[i].encoding for i in indices] + [ctx.outputs[0].encoding]
    if all(isinstance(e, Encoding) and not e.is_per_channel for e in encs):
        return encs
    return None


#: ONNX op type -> the key of ``Target.nonlinear`` that says how the target computes it
NONLINEAR_KEYS = {
    "Sigmoid": "logistic", "Tanh": "tanh", "HardSwish": "hard_swish", "HardSigmoid": "hard_sigmoid",
    "LeakyRelu": "leaky_relu", "PRelu": "prelu", "Gelu": "gelu", "Exp": "exp", "Log": "log",
    "Sqrt": "sqrt", "Softmax": "softmax", "Erf": "erf", "Reciprocal": "reciprocal",
}


#: nonlinear ops that are not a function of one element (no lookup table can compute them)
NOT_ELEMENTWISE = ("softmax", "log_softmax", "layer_norm")


def unary_table_lowering(ctx, run_float):
    """A unary op through a lookup table on 8- or 16-bit codes when the target says ``lut`` (or
    ``exact``: the table of the float64 function, rounded half even): ``table[q] =
    quantize(f(dequantize(q)))`` built once (``fxsim.arith.lut.build_lut``) with the op's float
    semantics as ``f`` and the target's quantize rule (its rounding, division or reciprocal, in
    its precision: ONNX Runtime's QlinearBuildLookupTable quantizes with MlasQuantizeLinear,
    float32 division; ``exact``: float64, half even). Other
    methods, and what a table cannot take, run as the float fallback (the caller may try an
    engine algorithm first)."""
    from ..arith.lut import build_lut, prepare_lut_apply

    key = NONLINEAR_KEYS.get(ctx.op_type, ctx.op_type.lower())
    method = dict(ctx.target.nonlinear).get(key, "float_fallback")
    if method == "tflite_fixed_point":
        return engine_nonlinear_lowering(ctx, run_float, key)
    if method == "ort_lookup" and key == "softmax":
        return ort_softmax_lowering(ctx, run_float)
    if method not in ("lut", "exact"):
        return float_fallback(ctx, run_float, f"the target computes {key} as {method}")
    if key in NOT_ELEMENTWISE:
        return float_fallback(ctx, run_float, f"{key} is not elementwise: no table")
    if any(op is not None and op.value is None for op in ctx.inputs[1:]):
        return float_fallback(ctx, run_float, "a computed second operand")
    encs = per_tensor_operands(ctx, [0])
    if encs is None or encs[0].bitwidth > 16 or ctx.fused_activation is not None:
        return float_fallback(ctx, run_float, "no per-tensor 8/16-bit encodings for a table")
    enc_in, enc_out = encs
    extra = [None if op is None else op.value for op in ctx.inputs[1:]]
    attrs = ctx.attrs
    rounding = ctx.target.quantize.rounding if method == "lut" else RoundingMode.HALF_EVEN

    def f(x):
        values = run_float(attrs, [x.astype(np.float64 if method == "exact" else np.float32)] + extra)[0]
        return np.asarray(values, np.float64)

    if method == "lut":  # the table's outputs quantized with the target's quantize rule
        spec = ctx.target.quantize
        table = build_lut(f, enc_in, enc_out, rounding=rounding, reciprocal=spec.method == "reciprocal",
                          precision=spec.precision)
    else:
        table = build_lut(f, enc_in, enc_out, rounding=rounding)
    gather = prepare_lut_apply(ctx.inputs[0].shape, enc_in.dtype, table)

    def run(inputs):
        return [gather(inputs[0])]

    return Lowered(run, arithmetic=f"{key}: {'table' if method == 'lut' else 'exact table'} of "
                                   f"{table.size} entries ({rounding.name.lower()})", info={"table": table})


#: ``Target.average_pool.method`` -> ``fxsim.arith.pooling`` method of the integer kernels
AVERAGE_POOL_KERNEL_METHODS = {"round_half_away_div": "tflite", "round_half_even_div": "pytorch", "tosa": "tosa",
                               "reciprocal_q15": "hexagon",
                               "dpu_approx": "dpu"}


def average_pool_method(ctx):
    """The ``fxsim.arith.pooling`` method this target's average pool uses, or ``(None, reason)``:
    the integer division family, ONNX Runtime's float32 QLinearAveragePool expression on the
    ONNX Runtime profiles, else None (the float fallback)."""
    method = ctx.target_for("average_pool2d").average_pool.method
    if method in AVERAGE_POOL_KERNEL_METHODS:
        return AVERAGE_POOL_KERNEL_METHODS[method], ""
    if method == "float" and is_onnxruntime(ctx.target):
        return "ort", ""
    return None, f"the target's average pool is {method!r}"


def _tflite_output_encoding_matches(enc_out, op, dtype):
    from ..arith.nonlinear import output_quantization

    scale, zero_point = output_quantization(op, dtype)
    return float(np.float32(enc_out.scale)) == float(np.float32(scale)) and int(enc_out.zero_point) == zero_point


def ort_softmax_lowering(ctx, run_float):
    """Softmax as ONNX Runtime's QLinearSoftmax computes it (``fxsim.arith.ort_softmax``) on 8-bit
    codes with per-tensor encodings of one storage type; anything else runs as the float
    fallback, labelled."""
    from ..arith.ort_softmax import qlinear_softmax

    encs = per_tensor_operands(ctx, [0])
    if encs is None or ctx.fused_activation is not None:
        return float_fallback(ctx, run_float, "no per-tensor encodings for ORT's QLinearSoftmax")
    enc_in, enc_out = encs
    if np.dtype(enc_in.dtype) != np.dtype(enc_out.dtype) or np.dtype(enc_in.dtype).name not in ("int8", "uint8"):
        return float_fallback(ctx, run_float, "ORT's QLinearSoftmax takes 8-bit codes of one storage type")
    axis = int(ctx.attrs.get("axis", -1))
    coerce = bool(ctx.attrs.get("coerce_to_2d", 0))

    def run(inputs):
        return [qlinear_softmax(inputs[0], enc_in, enc_out, axis, coerce_to_2d=coerce)]

    return Lowered(run, arithmetic="softmax: ONNX Runtime QLinearSoftmax (float32 exp table, in-order sum, "
                                   "double rescale)")


def engine_nonlinear_lowering(ctx, run_float, key):
    """Logistic, tanh, hard-swish and softmax with TFLite's own integer algorithms
    (``fxsim.arith.nonlinear``: gemmlowp fixed point, parameters as TFLite's Prepare derives
    them). TFLite fixes the output encoding of logistic, tanh and softmax (scale 1/256 or 1/128,
    ``output_quantization``); an output encoding that differs, a softmax over another axis than
    the last, or codes the algorithm does not take run as the float fallback, labelled."""
    from ..arith import nonlinear

    encs = per_tensor_operands(ctx, [0])
    if encs is None or ctx.fused_activation is not None:
        return float_fallback(ctx, run_float, "no per-tensor encodings for the TFLite algorithm")
    enc_in, enc_out = encs
    dtype = np.dtype(enc_out.dtype).name
    if key in ("logistic", "tanh") and np.dtype(enc_in.dtype).name == "int16":
        return _tflite_int16_logistic_tanh(ctx, run_float, key, enc_in, enc_out)
    int16_softmax = key == "softmax" and np.dtype(enc_in.dtype).name == "int16"
    if np.dtype(enc_in.dtype).name not in ("int8", "uint8") and not int16_softmax:
        return float_fallback(ctx, run_float, f"TFLite's integer {key} takes 8-bit inputs here")
    if int16_softmax and not (dtype == "int16" and int(enc_in.zero_point) == 0
                              and _tflite_output_encoding_matches(enc_out, "softmax_int16_input", "int16")):
        return float_fallback(ctx, run_float, "TFLite's int16 softmax needs zero point 0 in and the output "
                                              "encoding 1/32768, 0")
    if not int16_softmax and key in ("logistic", "tanh", "softmax") and (
            dtype != np.dtype(enc_in.dtype).name and not (key == "softmax" and dtype == "int16")
            or not _tflite_output_encoding_matches(enc_out, key, dtype)):
        return float_fallback(ctx, run_float, f"the output encoding is not the one TFLite's {key} requires")
    if key == "softmax":
        x = ctx.inputs[0]
        rank = len(x.shape)
        axis = int(ctx.attrs.get("axis", -1))
        axis = axis + rank if axis < 0 else axis
        if axis != rank - 1 and not (ctx.attrs.get("coerce_to_2d", 0) and axis == rank - 1):
            return float_fallback(ctx, run_float, "a softmax over another axis than the last")
    shape = ctx.inputs[0].shape
    try:  # the parameters TFLite's Prepare derives, once; codes the algorithm does not take refuse here
        if key == "softmax":
            kernel = nonlinear.prepare_softmax(shape, enc_in.dtype, enc_in, beta=1.0, dtype=dtype)
        elif key == "hard_swish":
            kernel = nonlinear.prepare_hard_swish(shape, enc_in.dtype, enc_in, enc_out)
        elif key in ("logistic", "tanh"):
            kernel = getattr(nonlinear, f"prepare_{key}")(shape, enc_in.dtype, enc_in)
        else:
            return float_fallback(ctx, run_float, f"no TFLite integer algorithm for {key}")
        kernel(np.full(shape, enc_in.zero_point, enc_in.dtype))
    except FxsimError as error:
        return float_fallback(ctx, run_float, f"TFLite's {key}: {error}")

    def run(inputs):
        return [kernel(inputs[0])]

    return Lowered(run, arithmetic=f"{key}: TFLite integer algorithm (gemmlowp fixed point)")


def _tflite_int16_logistic_tanh(ctx, run_float, key, enc_in, enc_out):
    """TFLite's int16 Logistic / Tanh (reference_integer_ops, a 256-entry sigmoid table with
    linear interpolation; ``fxsim.arith.nonlinear.logistic_int16`` / ``tanh_int16``). TFLite's
    Prepare requires zero points 0 and the output scale 2^-15 (CheckedLog2 within 1e-3); other
    encodings run as the float fallback, labelled."""
    from ..arith import nonlinear

    if np.dtype(enc_out.dtype).name != "int16" or int(enc_in.zero_point) != 0 or int(enc_out.zero_point) != 0:
        return float_fallback(ctx, run_float, f"TFLite's int16 {key} needs int16 input and output with zero point 0")
    if not _tflite_output_encoding_matches(enc_out, key, "int16"):
        return float_fallback(ctx, run_float, f"the output encoding is not the one TFLite's int16 {key} requires "
                                              f"(scale 2^-15)")
    function = nonlinear.logistic_int16 if key == "logistic" else nonlinear.tanh_int16
    try:
        params = nonlinear.logistic_tanh_int16_params(key, float(np.float32(enc_in.scale)))
    except FxsimError as error:
        return float_fallback(ctx, run_float, f"TFLite's int16 {key}: {error}")

    def run(inputs):
        return [function(inputs[0], enc_in)]

    return Lowered(run, arithmetic=f"{key}: TFLite int16 reference kernel (sigmoid table, interpolation; "
                                   f"multiplier {params.input_multiplier}, shift {params.input_left_shift})")
