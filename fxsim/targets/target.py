"""A target profile as data: the arithmetic one device or engine uses (TARGETS.md).

A :class:`Target` is a frozen record of typed sub-records, one per field of TARGETS.md's
"Fields of a profile" table: activations, weights, bias, quantize, multiplier derivation,
requantization, accumulator, isa, output stage, elementwise add/mul, average pool, nonlinear
ops, float ops, per-op overrides where one engine's kernels differ from each other, and routes:
an engine that picks its kernel library per layer (PyTorch's x86 engine: oneDNN or FBGEMM) states
the rule as a route, a named override scope that applies to the layers its conditions select.

Every leaf field carries a :class:`Label`: a status (``verified`` = equal to a real engine on
the oracle suite; ``documented`` = read in public source or documentation; ``assumed`` = not
public, a reasoned default) and a short source citation. Labels are keyed by the field's
dotted TOML key (``"requant.method"``, ``"overrides.conv2d.requant.method"``).

Arithmetic names are the enums of :mod:`fxsim.arith` (``RoundingMode``, ``Requant``,
``Accumulate``) and the derivation names of ``fxsim.arith.DERIVATIONS``; every other choice is
a lower-case string from the tables below. Profiles are read from TOML by
:mod:`fxsim.targets.load`; :meth:`Target.check` states the combinations that cannot exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional

from fxsim.arith import DERIVATIONS, Accumulate, Requant, RoundingMode
from fxsim.errors import FxsimError, TargetError

__all__ = [
    "STATUSES",
    "Label",
    "FrozenMap",
    "Activations",
    "Weights",
    "Bias",
    "QuantizeSpec",
    "MultiplierSpec",
    "RequantSpec",
    "Accumulator",
    "OutputStage",
    "Elementwise",
    "AveragePool",
    "FloatOps",
    "QDQ",
    "QDQ_S8_PAIRS",
    "Target",
    "FIELDS",
    "SECTIONS",
    "NONLINEAR_OPS",
    "NONLINEAR_METHODS",
    "OVERRIDE_SCOPES",
    "OVERRIDE_SECTIONS",
    "ROUTE_OPS",
    "ROUTE_FIELDS",
    "ROUTE_SHAPES",
    "Layer",
    "Route",
    "parse_field",
]

#: The status labels of TARGETS.md, strongest first.
STATUSES = ("verified", "documented", "assumed")


@dataclasses.dataclass(frozen=True)
class Label:
    """Where a field's value comes from: ``status`` (one of ``STATUSES``), ``source`` (a short
    citation: repository @ commit and file, or a document) and an optional ``note`` (e.g.
    "to be verified against LiteRT BUILTIN_REF")."""

    status: str
    source: str
    note: str = ""


class FrozenMap(Mapping):
    """An immutable, hashable mapping (the map-valued fields of a frozen ``Target``)."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        object.__setattr__(self, "_items", dict(items))

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __hash__(self):
        return hash(tuple(sorted(self._items.items(), key=lambda kv: kv[0])))

    def __eq__(self, other):
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other)
        return NotImplemented

    def __setattr__(self, name, value):
        raise AttributeError("FrozenMap is immutable")

    def __repr__(self):
        return f"FrozenMap({self._items!r})"


# ----------------------------------------------------------------------------- value tables
# Each dotted key -> (kind, choices). Kinds: "choice" (one string), "choice_list" (a non-empty
# list of distinct strings, the first being the default), "bool", "int" (one of the choices),
# "rounding" / "requant" / "accumulate" (the fxsim.arith enums, by lower-case name),
# "derivation" (fxsim.arith.DERIVATIONS). An optional field is marked by OPTIONAL below.

_ACT_DTYPES = ("u8", "s8", "u16", "s16")
_WEIGHT_DTYPES = ("s4", "s8", "u8", "s16")

#: Summation orders an accumulator may state (DESIGN.md "Accumulate"): ``any`` (order-free,
#: WRAP only), ``reference`` (the reference kernels' loop order: filter y, filter x, input
#: channel), ``mlas`` (MLAS's packed K order), ``fbgemm`` (FBGEMM's packed K order: its NHWC
#: im2col, filter y, filter x, input channel, the reference order), ``fbgemm_depthwise``
#: (FBGEMM's depthwise kernels: the filter taps of one channel, row-major, the reference order
#: with one input channel per group).
ACCUMULATOR_ORDERS = ("any", "reference", "mlas", "fbgemm", "fbgemm_depthwise")

#: Output-stage orders (research notes section 14.6).
OUTPUT_STAGE_ORDERS = {
    "add_zp_clamp": "integer rescale, add the zero point, clamp, narrow (TFLite, CMSIS-NN, "
    "TOSA, gemmlowp)",
    "clamp_round_add_zp": "clamp in float to [qmin - zp, qmax - zp], round, add the zero point "
    "(MLAS, XNNPACK fp32, DPU with zp 0)",
    "add_zp_clamp_round": "add the zero point in float, clip, then round (ONNX reference)",
    "round_add_zp_clamp": "round, add the zero point, clamp (FBGEMM lrintf path)",
    "narrow16_add_zp_narrow": "saturating narrow to int16, saturating add of the zero point, "
    "saturating narrow (NEON vector tails)",
    "zp_in_bias": "output zero point folded into the bias before scaling, round, clamp "
    "(HTP as AIMET documents it)",
}

#: Elementwise add/mul families (TARGETS.md), plus ``exact`` for the ``exact`` profile.
ELEMENTWISE_FAMILIES = ("tflite", "float", "align_pot", "lut", "exact")

#: Average-pool methods (TARGETS.md), plus ``float`` (engine computes in float) and ``exact``.
AVERAGE_POOL_METHODS = {
    "round_half_away_div": "tflite",   # fxsim.arith.average_divide method
    "tosa": "tosa",
    "reciprocal_q15": "hexagon",
    "dpu_approx": "dpu",
    "tflite_mean_folded": None,        # MEAN only: TFLite's QuantizedMeanOrSum (count folded into M)
    "tflite_mean_opt": None,           # MEAN only: TFLite's optimized int8 MeanImpl (float bias, raw sum)
    "round_half_even_div": "pytorch",  # fxsim.arith.pooling.avg_pool2d method (PyTorch)
    "float": None,
    "exact": None,
}

#: Resize methods (fxsim/ops/resize.py): how nearest picks its input index and how linear
#: interpolates 8/16-bit codes.
RESIZE_NEAREST_METHODS = {
    "onnx": "ONNX Resize's coordinate and nearest modes in float32, as ONNX Runtime computes them",
    "tflite": "TFLite RESIZE_NEAREST_NEIGHBOR's rule where the ONNX attributes map to its flags",
}
RESIZE_LINEAR_METHODS = {
    "tflite": "TFLite ResizeBilinearInteger: Q10 coordinates, Q20 sum, rounded as the requant build",
    "onnxruntime": "ONNX Runtime: float32 weights and truncation (NCHW), Q10 weights (NHWC 8-bit)",
    "float_fallback": "Dequantize -> float resize -> Quantize",
}
#: ``resize.layout_pass``: a graph pass of the engine that changes the layout a linear Resize runs
#: in (None: the model's layout).
RESIZE_LAYOUT_PASSES = {
    "nhwc_after_conv": "a 4-D 8-bit linear Resize that a Conv's layout Transpose reaches runs in NHWC: ONNX "
                       "Runtime's NHWC transformer (ORT_ENABLE_ALL) makes the QLinearConv channels-last and "
                       "its transpose optimizer pushes the Transpose on (always through MaxPool and a 4-D "
                       "u8/s8 linear Resize, through LeakyRelu / Sigmoid / AveragePool / Add / Mul by its "
                       "cost count)",
}

#: Nonlinear ops a profile may name, and how each may be computed: a table, a float fallback,
#: or an engine's own integer algorithm.
NONLINEAR_OPS = ("softmax", "log_softmax", "logistic", "tanh", "hard_swish", "hard_sigmoid",
                 "gelu", "silu", "elu", "leaky_relu", "prelu", "exp", "log", "sqrt", "rsqrt",
                 "layer_norm")
NONLINEAR_METHODS = {
    "lut": "table of 2^bits entries built by quantize(f(dequantize(q)))",
    "float_fallback": "Dequantize -> float op -> Quantize",
    "tflite_fixed_point": "TFLite reference kernels' gemmlowp-style fixed-point algorithm",
    "integer_rescale": "an integer rescale (TFLite int8 leaky_relu / prelu)",
    "exact": "exact real function, rounded half even (the exact profile)",
    "ort_lookup": "ONNX Runtime's QLinearSoftmax: float32 exp table over codes, in-order float32 sum, double rescale",
}

#: Scopes an override may name: an op (the kernel stems of STYLE.md), or ``a16`` (applies when
#: the activations are 16-bit; an op's override applies after it).
OVERRIDE_OPS = ("conv2d", "depthwise_conv2d", "transpose_conv2d", "fully_connected", "matmul",
                "add", "sub", "mul", "average_pool2d", "mean", "softmax", "requantize",
                "quantize", "concat")
OVERRIDE_SCOPES = ("a16",) + OVERRIDE_OPS
#: Sections an override may change.
OVERRIDE_SECTIONS = ("bias", "quantize", "multiplier", "requant", "accumulator", "output_stage",
                     "elementwise", "average_pool")

#: Ops a route may select: the weighted ops, whose kernel an engine picks per layer.
ROUTE_OPS = ("conv2d", "depthwise_conv2d", "transpose_conv2d", "fully_connected", "matmul")
#: The fields of a route ``routing.<name>.<field>``: which ops it selects, and the conditions a
#: layer must meet (every stated one). ``weight_zero_points``: ``all_zero`` selects layers whose
#: weight zero points (storage domain) are all 0 (PyTorch's is_weight_symmetric_quant), ``any``
#: does not look at them; ``max_groups``: at most this many groups (a positive integer);
#: ``shape``: a layer geometry an engine's kernel requires (``ROUTE_SHAPES``), ``any`` by default.
ROUTE_FIELDS = {
    "ops": "the ops the route selects (of ROUTE_OPS)",
    "weight_zero_points": "'all_zero': every weight zero point 0; 'any'",
    "max_groups": "the largest group count the route takes",
    "shape": "a layer geometry an engine's kernel requires (ROUTE_SHAPES) or 'any'",
}
_ROUTE_ZERO_POINTS = ("all_zero", "any")
#: Layer geometries a route may require.
ROUTE_SHAPES = {
    "any": "every layer",
    "fbgemm_depthwise": "FBGEMM's depthwise fast path (fbgemm src/FbgemmConv.cc takeDepthWiseFastPath): "
                        "groups = input channels, output channels = groups or 2 groups, groups a multiple "
                        "of 8, a square 3x3 or 5x5 kernel, strides 1 or 2, dilation 1, padding (k - 1) / 2 "
                        "on every side",
}

#: How an engine runs the s8 activation tensors of a QDQ model's QuantizeLinear ->
#: DequantizeLinear pairs (``graph.qdq_pairs``): unset, as the file stores them.
QDQ_S8_PAIRS = {
    "as_u8": "retyped as u8 with zero point + 128 before the kernels are chosen (ONNX Runtime's "
             "QDQS8ToU8Transformer): a kernel whose every 8-bit activation is such a tensor runs on "
             "u8 codes, so float expressions that hold the zero point round as the u8 ones do",
}

#: Op types whose QDQ groups (DequantizeLinear -> op -> QuantizeLinear, ``graph.dequantized_nodes``)
#: an engine runs in float at every optimisation level instead of an integer kernel.
QDQ_FLOAT_OPS = {
    "Resize": "a linear Resize of a QDQ group runs as DequantizeLinear, the float32 resize, "
              "QuantizeLinear (ONNX Runtime 1.32 fuses the group at no level; nearest codes are the same "
              "either way)",
}

FIELDS = {
    "activations.dtypes": ("choice_list", _ACT_DTYPES),
    "activations.symmetric": ("bool", None),
    "activations.granularity": ("choice", ("per_tensor",)),
    "weights.dtypes": ("choice_list", _WEIGHT_DTYPES),
    "weights.symmetric": ("bool", None),
    "weights.narrow_range": ("bool", None),
    "weights.granularity": ("choice", ("per_tensor", "per_channel", "per_row")),
    "weights.int4_packing": ("choice", ("dense", "channel_aligned")),
    "weights.rounding": ("rounding", None),
    "bias.storage": ("choice", ("s32", "s64", "float", "s8_pot")),
    "bias.scale_precision": ("choice", ("double", "float32", "exact")),
    "bias.rounding": ("rounding", None),
    "bias.overflow": ("choice", ("saturate", "wrap", "raise")),
    # reciprocal_vector8_tail_division: TFLite's optimized AffineQuantize (NEON or neon2sse): blocks
    # of 8 values as x * (1 / s) with the profile's rounding, the remaining n % 8 as round_half_away(x * (1 / s))
    "quantize.method": ("choice", ("division", "reciprocal", "reciprocal_vector8_tail_division")),
    "quantize.precision": ("choice", ("float32", "float64")),
    "quantize.rounding": ("rounding", None),
    "quantize.clamp": ("choice", ("after_zero_point", "before_zero_point")),
    "multiplier.derivation": ("derivation", DERIVATIONS),
    "multiplier.precision": ("choice", ("double", "float32", "exact")),
    "multiplier.bits": ("int", (32, 16)),
    "requant.method": ("requant", None),
    "requant.rounding": ("rounding", None),
    "requant.product_precision": ("choice", ("float32", "float64", "exact")),
    "requant.zero_point_in_float": ("bool", None),
    "accumulator.policy": ("accumulate", None),
    "accumulator.bits": ("int", (32, 48, 64)),
    "accumulator.partial_bits": ("int", (32, 48, 64)),
    "accumulator.order": ("choice", ACCUMULATOR_ORDERS),
    "isa": ("choice", ("any", "x86", "x86_vnni", "arm64")),
    "output_stage.order": ("choice", tuple(OUTPUT_STAGE_ORDERS)),
    "elementwise.add": ("choice", ELEMENTWISE_FAMILIES),
    "elementwise.add_left_shift": ("int", (20, 15)),
    "elementwise.mul": ("choice", ELEMENTWISE_FAMILIES),
    "average_pool.method": ("choice", tuple(AVERAGE_POOL_METHODS)),
    "resize.nearest": ("choice", tuple(RESIZE_NEAREST_METHODS)),
    "resize.linear": ("choice", tuple(RESIZE_LINEAR_METHODS)),
    "resize.layout_pass": ("choice", tuple(RESIZE_LAYOUT_PASSES)),
    "float_ops.precision": ("choice", ("fp32", "fp16")),
    "qdq.s8_pairs": ("choice", tuple(QDQ_S8_PAIRS)),
    "qdq.float_ops": ("choice_list", tuple(QDQ_FLOAT_OPS)),
}
#: Fields that may be left unset (None): they apply to some methods only.
OPTIONAL = {"requant.rounding", "requant.product_precision", "requant.zero_point_in_float",
            "accumulator.partial_bits", "elementwise.add_left_shift", "qdq.s8_pairs", "resize.layout_pass",
            "qdq.float_ops"}
#: The sections of a profile, in TARGETS.md's order (``isa`` is a top-level key).
SECTIONS = ("activations", "weights", "bias", "quantize", "multiplier", "requant",
            "accumulator", "isa", "output_stage", "elementwise", "average_pool", "resize", "nonlinear",
            "float_ops", "qdq")


def _error(key, message):
    err = TargetError(f"{key}: {message}")
    err.key = key
    return err


def parse_field(key: str, raw):
    """Parse the raw TOML value of field ``key`` (a dotted key of ``FIELDS``; override keys
    ``overrides.<scope>.<section>.<field>`` use their field's rule) into its typed value.

    Raises ``TargetError`` naming ``key`` (the error's ``.key`` attribute) and the valid values.
    """
    base = key
    parts = key.split(".")
    if parts[0] == "routing":
        return _route_field(key, parts, raw)
    if parts[0] == "overrides" and len(parts) == 4:
        base = ".".join(parts[2:])
    if base.startswith("nonlinear."):
        op = base.split(".", 1)[1]
        if op not in NONLINEAR_OPS:
            raise _error(key, f"unknown nonlinear op {op!r}; expected one of "
                              f"{', '.join(NONLINEAR_OPS)}")
        return _choice(key, raw, tuple(NONLINEAR_METHODS))
    if base not in FIELDS:
        raise _error(key, "unknown key")
    kind, choices = FIELDS[base]
    if kind == "choice":
        return _choice(key, raw, choices)
    if kind == "choice_list":
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise _error(key, f"expected a non-empty list of {', '.join(map(repr, choices))}, "
                              f"got {raw!r}")
        values = tuple(_choice(key, v, choices) for v in raw)
        if len(set(values)) != len(values):
            raise _error(key, f"duplicate entries in {raw!r}")
        return values
    if kind == "bool":
        if not isinstance(raw, bool):
            raise _error(key, f"expected true or false, got {raw!r}")
        return raw
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int) or raw not in choices:
            raise _error(key, f"expected one of {', '.join(map(str, choices))}, got {raw!r}")
        return raw
    if kind == "derivation":
        return _choice(key, raw, choices)
    enum = {"rounding": RoundingMode, "requant": Requant, "accumulate": Accumulate}[kind]
    if not isinstance(raw, str):
        raise _error(key, f"expected one of {', '.join(repr(m.toml_name) for m in enum)}, "
                          f"got {raw!r}")
    try:
        return enum.parse(raw.strip(), what=key)
    except FxsimError:
        raise _error(key, f"unknown value {raw!r}; expected one of "
                          f"{', '.join(repr(m.toml_name) for m in enum)}") from None


def _route_field(key, parts, raw):
    if len(parts) != 3 or parts[2] not in ROUTE_FIELDS:
        raise _error(key, f"unknown key; a route states {', '.join(ROUTE_FIELDS)}")
    name, field = parts[1], parts[2]
    if name in OVERRIDE_SCOPES:
        raise _error(key, f"a route's name must not be an op or 'a16' ({name!r}): it names its own "
                          f"override scope")
    if field == "ops":
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise _error(key, f"expected a non-empty list of {', '.join(map(repr, ROUTE_OPS))}, got {raw!r}")
        values = tuple(_choice(key, v, ROUTE_OPS) for v in raw)
        if len(set(values)) != len(values):
            raise _error(key, f"duplicate entries in {raw!r}")
        return values
    if field == "weight_zero_points":
        return _choice(key, raw, _ROUTE_ZERO_POINTS)
    if field == "shape":
        return _choice(key, raw, tuple(ROUTE_SHAPES))
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise _error(key, f"expected a positive integer, got {raw!r}")
    return raw


def _choice(key, raw, choices):
    if not isinstance(raw, str) or raw not in choices:
        raise _error(key, f"unknown value {raw!r}; expected one of "
                          f"{', '.join(repr(c) for c in choices)}")
    return raw


# ----------------------------------------------------------------------------- sub-records

@dataclasses.dataclass(frozen=True)
class Activations:
    """Activation storage: ``dtypes`` (allowed storage types among u8, s8, u16, s16; the first
    is the default), ``symmetric`` (zero point 0) and ``granularity`` (``per_tensor``)."""

    dtypes: tuple
    symmetric: bool
    granularity: str


@dataclasses.dataclass(frozen=True)
class Weights:
    """Weight storage: ``dtypes`` (among s4, s8, u8, s16; first = default), ``symmetric``,
    ``narrow_range`` ([-127, 127] for 8 bits), ``granularity`` (the finest the target allows:
    per_tensor, per_channel, per_row) and ``int4_packing`` (``dense`` over the whole tensor,
    low nibble first, or QNN's ``channel_aligned`` layout) and ``rounding``: how the target's
    toolchain rounds float weights to codes (the Vitis AI DPU rounds weights half away while
    it rounds activations half up)."""

    dtypes: tuple
    symmetric: bool
    narrow_range: bool
    granularity: str
    int4_packing: str
    rounding: RoundingMode


@dataclasses.dataclass(frozen=True)
class Bias:
    """Bias: ``storage`` (s32, s64, float as in AIMET's simulation, or s8_pot with its own
    power-of-two position), ``scale_precision`` of ``s_in * s_w[c]`` (double from float32
    scales, float32, or exact), ``rounding`` to the integer grid, and ``overflow``
    (``saturate``: saturate and report; ``wrap``; ``raise``)."""

    storage: str
    scale_precision: str
    rounding: RoundingMode
    overflow: str


@dataclasses.dataclass(frozen=True)
class QuantizeSpec:
    """float -> int: ``method`` (``division`` x / s or ``reciprocal`` x * (1/s)), the float
    ``precision`` of each step, the ``rounding`` mode, and ``clamp`` (``after_zero_point``:
    round, add zp, clamp; ``before_zero_point``: clamp to [qmin - zp, qmax - zp] in float,
    then round and add zp)."""

    method: str
    precision: str
    rounding: RoundingMode
    clamp: str


@dataclasses.dataclass(frozen=True)
class MultiplierSpec:
    """How the real rescale ``s_in * s_w / s_out`` becomes a fixed-point multiplier:
    ``derivation`` (one of ``fxsim.arith.DERIVATIONS``; for float32 requantization
    ``mantissa24`` is the float32 scale itself, exactly), ``precision`` in which the real
    multiplier is formed (``double`` from float32 scales as TFLite does, ``float32`` as ORT
    and ONNX do, ``exact`` rationals) and ``bits`` (32, or 16 for TOSA scale16)."""

    derivation: str
    precision: str
    bits: int


@dataclasses.dataclass(frozen=True)
class RequantSpec:
    """Rescale of an integer accumulator: ``method`` (a ``Requant``); for ``FP32`` and
    ``POWER_OF_TWO`` the ``rounding`` mode; for ``FP32`` the ``product_precision`` (float32,
    float64 as the ONNX reference gets by numpy promotion, or exact) and
    ``zero_point_in_float`` (the zero point added before rounding). Unused fields are None."""

    method: Requant
    rounding: Optional[RoundingMode]
    product_precision: Optional[str]
    zero_point_in_float: Optional[bool]


@dataclasses.dataclass(frozen=True)
class Accumulator:
    """Accumulation: ``policy`` (an ``Accumulate``), ``bits`` (32, 48, 64: the accumulator the
    bias is added to), ``partial_bits`` (when products are summed in a narrower register before
    the bias is added, as CMSIS-NN's s16 convolution does; else None) and ``order`` (the
    summation order order-dependent policies follow; ``any`` for WRAP). ``PAIR_SATURATE_16``
    and ``RAW_PAIR_SATURATE_16`` concern u8 x s8 products (the x86 ``vpmaddubsw`` path, FBGEMM
    acc16 and AVX2); other storage pairs of the same profile accumulate exactly."""

    policy: Accumulate
    bits: int
    partial_bits: Optional[int]
    order: str


@dataclasses.dataclass(frozen=True)
class OutputStage:
    """``order`` of zero-point add, clamp and narrowing (``OUTPUT_STAGE_ORDERS``)."""

    order: str


@dataclasses.dataclass(frozen=True)
class Elementwise:
    """Elementwise ops: ``add`` and ``mul`` families (tflite, float, align_pot, lut, exact) and
    ``add_left_shift`` (20 for 8-bit, 15 for 16-bit activations; ``tflite`` add only)."""

    add: str
    add_left_shift: Optional[int]
    mul: str


@dataclasses.dataclass(frozen=True)
class AveragePool:
    """``method`` of the window-sum division (``AVERAGE_POOL_METHODS``)."""

    method: str

    @property
    def arith_method(self):
        """The ``fxsim.arith.pooling`` method name of the integer division (an ``average_divide``
        method, or ``"pytorch"``, an ``avg_pool2d`` method), or None for float/exact."""
        return AVERAGE_POOL_METHODS[self.method]


@dataclasses.dataclass(frozen=True)
class Resize:
    """``nearest`` (``RESIZE_NEAREST_METHODS``) and ``linear`` (``RESIZE_LINEAR_METHODS``): how
    Resize runs on codes; ``layout_pass`` (``RESIZE_LAYOUT_PASSES``; None: the model's layout):
    an engine graph pass that moves a linear Resize to another layout first."""

    nearest: str
    linear: str
    layout_pass: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Route:
    """A per-layer kernel choice of an engine: the layers of ``ops`` whose weight zero points meet
    ``weight_zero_points`` (``all_zero`` or ``any``) and whose group count is at most
    ``max_groups`` (None: any) run with the override scope of the route's name."""

    ops: tuple
    weight_zero_points: str = "any"
    max_groups: Optional[int] = None
    shape: str = "any"

    def selects(self, op, layer):
        """Whether the layer ``layer`` (a :class:`Layer`) of op ``op`` takes this route."""
        if op not in self.ops:
            return False
        if self.weight_zero_points == "all_zero" and not layer.weight_zero_points_all_zero:
            return False
        if self.max_groups is not None and layer.groups > self.max_groups:
            return False
        return self.shape == "any" or (self.shape == "fbgemm_depthwise" and layer.fbgemm_depthwise_shape)


@dataclasses.dataclass(frozen=True)
class Layer:
    """What a route looks at in one weighted layer: ``weight_zero_points_all_zero`` (every
    weight zero point, in the storage domain, is 0), ``groups`` (1 for ungrouped layers), and for
    a convolution its ``in_channels``, ``out_channels``, ``kernel`` (height, width), ``strides``,
    ``dilations`` and ``pads`` (top, left, bottom, right); None for other layers."""

    weight_zero_points_all_zero: bool
    groups: int = 1
    in_channels: Optional[int] = None
    out_channels: Optional[int] = None
    kernel: Optional[tuple] = None
    strides: Optional[tuple] = None
    dilations: Optional[tuple] = None
    pads: Optional[tuple] = None

    @property
    def fbgemm_depthwise_shape(self):
        """The layer has the geometry of FBGEMM's depthwise fast path (``ROUTE_SHAPES``)."""
        if self.kernel is None:
            return False
        g, (kh, kw) = self.groups, self.kernel
        return (g == self.in_channels and self.out_channels in (g, 2 * g) and g % 8 == 0 and kh == kw
                and kh in (3, 5) and all(s in (1, 2) for s in self.strides) and all(d == 1 for d in self.dilations)
                and all(p == (kh - 1) // 2 for p in self.pads))


@dataclasses.dataclass(frozen=True)
class FloatOps:
    """``precision`` of ops that run in float in a mixed-precision graph (fp32 or fp16)."""

    precision: str


@dataclasses.dataclass(frozen=True)
class QDQ:
    """What the engine's graph optimiser does to a QDQ model's pairs before it picks kernels:
    ``s8_pairs`` (``QDQ_S8_PAIRS``; None: the tensors run as the file stores them) and
    ``float_ops`` (``QDQ_FLOAT_OPS``; None: every group runs as the profile's integer lowering),
    the op types whose QDQ groups the engine keeps in float."""

    s8_pairs: Optional[str] = None
    float_ops: Optional[tuple] = None


_SECTION_TYPES = {
    "activations": Activations,
    "weights": Weights,
    "bias": Bias,
    "quantize": QuantizeSpec,
    "multiplier": MultiplierSpec,
    "requant": RequantSpec,
    "accumulator": Accumulator,
    "output_stage": OutputStage,
    "elementwise": Elementwise,
    "average_pool": AveragePool,
    "resize": Resize,
    "float_ops": FloatOps,
    "qdq": QDQ,
}


def _to_toml(value):
    """A typed field value back to its TOML spelling (for describe and flattening)."""
    if isinstance(value, (RoundingMode, Requant, Accumulate)):
        return value.toml_name
    return value


def _show(value):
    value = _to_toml(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclasses.dataclass(frozen=True)
class Target:
    """A target profile (TARGETS.md): the arithmetic one engine or device uses.

    Sections: ``activations``, ``weights``, ``bias``, ``quantize``, ``multiplier``,
    ``requant``, ``accumulator``, ``isa``, ``output_stage``, ``elementwise``,
    ``average_pool``, ``resize``, ``nonlinear`` (op -> method), ``float_ops``, ``qdq``; ``overrides`` maps a scope
    (an op stem, ``a16`` for 16-bit activations, or a route's name) to ``{"section.field": value}``;
    ``routing`` maps a route's name to its :class:`Route`;
    ``labels`` maps every set dotted key to its :class:`Label`. ``path`` is the file it was
    read from, ``extends`` its parent profile. Build one with ``fxsim.load_target``.
    """

    name: str
    description: str
    activations: Activations
    weights: Weights
    bias: Bias
    quantize: QuantizeSpec
    multiplier: MultiplierSpec
    requant: RequantSpec
    accumulator: Accumulator
    isa: str
    output_stage: OutputStage
    elementwise: Elementwise
    average_pool: AveragePool
    resize: Resize
    nonlinear: FrozenMap
    float_ops: FloatOps
    qdq: QDQ = QDQ()
    overrides: FrozenMap = FrozenMap()
    labels: FrozenMap = FrozenMap()
    path: Optional[str] = None
    routing: FrozenMap = FrozenMap()
    extends: Optional[str] = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_fields(cls, name, description, values, labels, *, path=None, extends=None):
        """Build a ``Target`` from typed ``values`` keyed by dotted key (every key of
        ``FIELDS`` that is not optional, ``nonlinear.<op>`` and
        ``overrides.<scope>.<section>.<field>`` entries) and ``labels`` (dotted key ->
        ``Label``). Runs :meth:`check`. Raises ``TargetError`` naming the key."""
        missing = [k for k in FIELDS if k not in OPTIONAL and k not in values]
        if missing:
            raise _error(missing[0], "missing (every profile must state it, or extend one that "
                                     "does)")
        sections = {}
        for section, typ in _SECTION_TYPES.items():
            kwargs = {}
            for f in dataclasses.fields(typ):
                kwargs[f.name] = values.get(f"{section}.{f.name}")
            sections[section] = typ(**kwargs)
        nonlinear = FrozenMap(sorted((k.split(".", 1)[1], v) for k, v in values.items()
                                     if k.startswith("nonlinear.")))
        scoped = {}
        for key, value in values.items():
            if key.startswith("overrides."):
                _, scope, rest = key.split(".", 2)
                scoped.setdefault(scope, {})[rest] = value
        overrides = FrozenMap((s, FrozenMap(sorted(v.items()))) for s, v in sorted(scoped.items()))
        routes = {}
        for key, value in values.items():
            if key.startswith("routing."):
                _, route, field = key.split(".", 2)
                routes.setdefault(route, {})[field] = value
        for route, entries in routes.items():
            if "ops" not in entries:
                raise _error(f"routing.{route}.ops", "missing (a route names the ops it selects)")
        # in the order stated, a parent's routes first: a later route's fields win where two select a layer
        routing = FrozenMap((r, Route(**e)) for r, e in routes.items())
        unlabelled = [k for k in values if values[k] is not None and k not in labels]
        if unlabelled:
            raise _error(unlabelled[0], "has no status label")
        target = cls(name=name, description=description, isa=values["isa"],
                     nonlinear=nonlinear, overrides=overrides, routing=routing,
                     labels=FrozenMap((k, labels[k]) for k in values if values[k] is not None),
                     path=path, extends=extends, **sections)
        target.check()
        return target

    def fields(self, include_overrides=True) -> dict:
        """Every set field as ``{dotted key: typed value}``, in TARGETS.md's order."""
        out = {}
        for section in SECTIONS:
            if section == "isa":
                out["isa"] = self.isa
            elif section == "nonlinear":
                for op, method in self.nonlinear.items():
                    out[f"nonlinear.{op}"] = method
            else:
                record = getattr(self, section)
                for f in dataclasses.fields(record):
                    value = getattr(record, f.name)
                    if value is not None:
                        out[f"{section}.{f.name}"] = value
        if include_overrides:
            for route, rule in self.routing.items():
                for f in dataclasses.fields(Route):
                    value = getattr(rule, f.name)
                    if value is not None and f"routing.{route}.{f.name}" in self.labels:
                        out[f"routing.{route}.{f.name}"] = value
            for scope, entries in self.overrides.items():
                for rest, value in entries.items():
                    out[f"overrides.{scope}.{rest}"] = value
        return out

    def for_op(self, op: Optional[str] = None, activation_bits: int = 8,
               layer: Optional[Layer] = None) -> "Target":
        """The profile one kernel runs with: the ``a16`` overrides applied when
        ``activation_bits`` is 16, then ``op``'s overrides (an op stem such as ``"conv2d"``),
        then the overrides of every route that selects ``layer`` (a :class:`Layer`; routes
        select weighted layers, so a routed op asked for without its layer raises
        ``TargetError``), the result without overrides or routes. Unknown ops raise
        ``TargetError``."""
        if op is not None and op not in OVERRIDE_OPS:
            raise _error(f"overrides.{op}", f"unknown op {op!r}; expected one of "
                                            f"{', '.join(OVERRIDE_OPS)}")
        if activation_bits not in (8, 16):
            raise _error("activations.dtypes", f"activation_bits must be 8 or 16, got "
                                               f"{activation_bits!r}")
        routed = [r for r, rule in self.routing.items() if op in rule.ops]
        if routed and layer is None:
            raise _error(f"routing.{routed[0]}", f"the {op} kernel depends on the layer (route "
                                                 f"{routed[0]!r}); pass its Layer")
        return self._apply(self._scopes(op, activation_bits, layer))

    def _scopes(self, op, activation_bits, layer=None):
        scopes = []
        if activation_bits == 16:
            scopes.append("a16")
        if op is not None:
            scopes.append(op)
        if layer is not None:
            scopes.extend(r for r, rule in self.routing.items() if rule.selects(op, layer))
        return scopes

    def _apply(self, scopes):
        values = self.fields(include_overrides=False)
        labels = dict(self.labels)
        for scope in scopes:
            entries = self.overrides.get(scope, {})
            if "requant.method" in entries:
                # changing the method starts the method-specific fields afresh
                for key in _REQUANT_DEPENDENT:
                    values.pop(key, None)
            if "elementwise.add" in entries:
                values.pop("elementwise.add_left_shift", None)
            for rest, value in entries.items():
                values[rest] = value
                labels[rest] = self.labels[f"overrides.{scope}.{rest}"]
        sections = {}
        for section, typ in _SECTION_TYPES.items():
            sections[section] = typ(**{f.name: values.get(f"{section}.{f.name}")
                                       for f in dataclasses.fields(typ)})
        return dataclasses.replace(
            self, overrides=FrozenMap(), routing=FrozenMap(),
            labels=FrozenMap((k, labels[k]) for k in values if values[k] is not None),
            **sections)

    # ------------------------------------------------------------------ validation

    def check(self):
        """Raise ``TargetError`` (naming the dotted key) if the profile is impossible: checked
        for 8-bit and for 16-bit activations (whichever the profile allows), for the profile
        itself and for every op override."""
        act_bits = sorted({16 if d.endswith("16") else 8 for d in self.activations.dtypes})
        if "a16" in self.overrides and 16 not in act_bits:
            raise _error("overrides.a16", "the profile has no 16-bit activation dtype")
        if self.activations.granularity != "per_tensor":
            raise _error("activations.granularity", "activations are per-tensor")
        for route, rule in self.routing.items():
            if route not in self.overrides:
                raise _error(f"routing.{route}", f"the route has no [overrides.{route}.<section>] "
                                                 f"table: say what the layers it selects run with")
        for scope in self.overrides:
            if scope not in OVERRIDE_SCOPES and scope not in self.routing:
                raise _error(f"overrides.{scope}", f"unknown scope; expected one of "
                                                   f"{', '.join(OVERRIDE_SCOPES)} or a route's name")
        checks = [(op, ()) for op in (None,) + tuple(s for s in self.overrides
                                                     if s in OVERRIDE_OPS)]
        checks += [(op, (route,)) for route, rule in self.routing.items() for op in rule.ops]
        for bits in act_bits:
            for op, routes in checks:
                scopes = self._scopes(op, bits) + list(routes)
                resolved = self._apply(scopes)
                resolved._check_one(bits, self._scope_key(op, bits) + list(routes), self.overrides)

    def _scope_key(self, op, bits):
        parts = []
        if bits == 16 and "a16" in self.overrides:
            parts.append("a16")
        if op is not None and op in self.overrides:
            parts.append(op)
        return parts

    def _check_one(self, act_bits, scopes, overrides):
        def key(field):
            # name the override that set the field, else the profile's own key
            for scope in reversed(scopes):
                if field in overrides.get(scope, {}):
                    return f"overrides.{scope}.{field}"
            return field

        rq, acc, mult = self.requant, self.accumulator, self.multiplier
        no_bias = bool(scopes) and scopes[-1] in _OPS_WITHOUT_BIAS
        ctx = f" (with {act_bits}-bit activations)"
        w = self.weights
        if w.narrow_range and not w.symmetric:
            raise _error("weights.narrow_range", "a narrow range needs symmetric weights")
        # requantization method and its method-specific fields
        if rq.method is Requant.FP32:
            for f in _REQUANT_DEPENDENT:
                if getattr(rq, f.split(".")[1]) is None:
                    raise _error(key(f), "required by requant.method = 'fp32'")
        else:
            for f in ("requant.product_precision", "requant.zero_point_in_float"):
                if getattr(rq, f.split(".")[1]) is not None:
                    raise _error(key(f), f"applies to requant.method = 'fp32' only, not "
                                         f"{rq.method.toml_name!r}")
            needs_rounding = rq.method is Requant.POWER_OF_TWO
            if needs_rounding and rq.rounding is None:
                raise _error(key("requant.rounding"), "required by requant.method = "
                                                      "'power_of_two'")
            # double_round may name its final shift's rounding: half_up (LiteRT's optimized x86
            # CONV_2D) or half_away (gemmlowp's RoundingDivideByPOT, the default)
            final_shift = rq.method is Requant.DOUBLE_ROUND and rq.rounding in (RoundingMode.HALF_UP,
                                                                                 RoundingMode.HALF_AWAY)
            if not needs_rounding and rq.rounding is not None and not final_shift:
                raise _error(key("requant.rounding"),
                             f"{rq.method.toml_name!r} has its own fixed rounding; only 'fp32' "
                             f"and 'power_of_two' take a rounding mode")
        if rq.method is Requant.INT64_REDUCED:
            if act_bits == 8:
                raise _error(key("requant.method"), "'int64_reduced' is TFLite's 16x8 path; "
                                                    "impossible with 8-bit activations")
            if acc.bits != 64:
                raise _error(key("accumulator.bits"), "'int64_reduced' needs a 64-bit "
                                                      f"accumulator, got {acc.bits}{ctx}")
        if rq.method is Requant.DOUBLE_ROUND and acc.bits != 32:
            raise _error(key("accumulator.bits"),
                         f"'double_round' (SRDHM then RDBPOT) takes an int32 value; impossible "
                         f"with a {acc.bits}-bit accumulator{ctx}")
        if rq.method is Requant.SINGLE_ROUND and acc.bits > 32 and mult.bits != 16:
            raise _error(key("accumulator.bits"),
                         f"'single_round' of a {acc.bits}-bit value needs a 16-bit multiplier "
                         f"(a 48-bit value cannot be scaled with a 32-bit one){ctx}")
        # derivation against method
        pot_method = rq.method is Requant.POWER_OF_TWO
        pot_derivation = mult.derivation == "power_of_two"
        if pot_method != pot_derivation:
            raise _error(key("multiplier.derivation") if pot_method else key("requant.method"),
                         f"requant.method {rq.method.toml_name!r} and multiplier.derivation "
                         f"{mult.derivation!r}: a power-of-two requantization needs the "
                         f"power_of_two derivation and vice versa")
        if mult.bits == 16 and mult.derivation != "tosa":
            raise _error(key("multiplier.bits"), "16-bit multipliers come from the 'tosa' "
                                                 "derivation (scale16) only")
        # accumulator
        if acc.partial_bits is not None and acc.partial_bits > acc.bits:
            raise _error(key("accumulator.partial_bits"),
                         f"{acc.partial_bits} bits is wider than accumulator.bits {acc.bits}")
        if acc.policy is Accumulate.WRAP:
            pass
        elif acc.order == "any":
            raise _error(key("accumulator.order"),
                         f"policy {acc.policy.toml_name!r} depends on summation order; state it")
        if acc.policy in (Accumulate.PAIR_SATURATE_16, Accumulate.RAW_PAIR_SATURATE_16):
            name = acc.policy.toml_name
            if acc.bits != 32:
                raise _error(key("accumulator.bits"), f"{name!r} spills into an int32 accumulator")
            if act_bits != 8:
                raise _error(key("accumulator.policy"), f"{name!r} is the u8 x s8 16-bit pair "
                                                        f"path; impossible with 16-bit activations")
        # bias
        if self.bias.storage == "s64" and acc.bits == 32 and not no_bias:
            raise _error(key("bias.storage"), f"an s64 bias cannot be added to a {acc.bits}-bit "
                                              f"accumulator{ctx}")
        if self.bias.storage == "s8_pot" and not pot_derivation and not no_bias:
            raise _error(key("bias.storage"), "an s8 bias with its own power-of-two position "
                                              "needs the power_of_two derivation")
        # output stage
        order = self.output_stage.order
        float_orders = {"clamp_round_add_zp", "add_zp_clamp_round", "round_add_zp_clamp",
                        "zp_in_bias"}
        if order in float_orders and rq.method not in (Requant.FP32, Requant.POWER_OF_TWO):
            raise _error(key("output_stage.order"),
                         f"{order!r} rounds a real product; requant.method "
                         f"{rq.method.toml_name!r} rounds in integers (use 'add_zp_clamp' or "
                         f"'narrow16_add_zp_narrow')")
        if order not in float_orders and rq.method is Requant.FP32:
            raise _error(key("output_stage.order"), f"{order!r} is an integer output stage; "
                                                    f"requant.method 'fp32' rounds a float")
        if (order == "add_zp_clamp_round") != bool(rq.zero_point_in_float):
            raise _error(key("requant.zero_point_in_float"),
                         "requant.zero_point_in_float = true goes with output_stage.order "
                         "'add_zp_clamp_round' and only with it")
        # elementwise
        el = self.elementwise
        if el.add == "tflite":
            if el.add_left_shift is None:
                raise _error(key("elementwise.add_left_shift"), "required by add = 'tflite' "
                                                                "(20 for 8-bit, 15 for 16-bit)")
            if act_bits == 16 and el.add_left_shift == 20:
                raise _error(key("elementwise.add_left_shift"),
                             "a left shift of 20 overflows int32 with 16-bit activations; "
                             "TFLite uses 15")
        elif el.add_left_shift is not None:
            raise _error(key("elementwise.add_left_shift"), "applies to add = 'tflite' only")
        if "align_pot" in (el.add, el.mul) and not pot_derivation:
            raise _error(key("elementwise.add"), "'align_pot' aligns power-of-two positions; "
                                                 "needs the power_of_two derivation")

    # ------------------------------------------------------------------ presentation

    def describe(self) -> str:
        """The profile as a text table: field, value, status, source (and notes), one row per
        set field, overrides last."""
        rows = [("field", "value", "status", "source")]
        notes = []
        for key, value in self.fields().items():
            label = self.labels[key]
            status = label.status
            if label.note:
                if label.note not in notes:
                    notes.append(label.note)
                status = f"{status} [{notes.index(label.note) + 1}]"
            rows.append((key, _show(value), status, label.source))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{self.name}: {self.description}"]
        if self.path:
            lines.append(f"  file: {self.path}" + (f" (extends {self.extends})"
                                                   if self.extends else ""))
        for i, row in enumerate(rows):
            lines.append("  " + "  ".join(row[j].ljust(widths[j]) for j in range(3)) + "  "
                         + row[3])
            if i == 0:
                lines.append("  " + "  ".join("-" * w for w in widths) + "  " + "-" * 6)
        if notes:
            lines.append("")
            lines.extend(f"  [{i}] {n}" for i, n in enumerate(notes, 1))
        counts = {s: sum(1 for lab in self.labels.values() if lab.status == s)
                  for s in STATUSES}
        lines.append("")
        lines.append("  " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: the name, the requantization and accumulator, and the description."""
        rq = self.requant
        method = rq.method.toml_name
        if rq.rounding is not None:
            method += f"/{rq.rounding.toml_name}"
        acc = f"{self.accumulator.policy.toml_name}/{self.accumulator.bits}"
        return f"{self.name:<18} {method:<22} {acc:<20} {self.description}"


# ops that add no bias: the bias/accumulator rule does not concern them
_OPS_WITHOUT_BIAS = {"add", "sub", "mul", "average_pool2d", "mean", "softmax", "requantize",
                     "quantize", "concat"}

_REQUANT_DEPENDENT = ("requant.rounding", "requant.product_precision",
                      "requant.zero_point_in_float")
