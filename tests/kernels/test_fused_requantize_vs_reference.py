"""Conv2D and MatMul with the requantization fused (_kernels.conv2d_requantize / matmul_requantize,
csrc/fxsim/kernels/conv2d.h, matmul.h, accumulator_sink.h) equal, with ``==``:

* the exact references of both steps (fxsim/reference/conv2d.py or matmul.py, then
  fxsim/reference/requantize.py per element), and
* the unfused kernels: ``*_accumulate`` then ``requantize_<method>`` on the int32/int64 array.

Drawn: the conv / matmul cases of test_conv2d_vs_reference.py and test_matmul_vs_reference.py
(shapes, strides, groups, policies, zero points at the range ends, extreme operands and biases),
times every requantization method per tensor or per channel, multipliers over their whole range
and corners, shifts over the method's whole range, float32 scales from tiny to huge, every
rounding mode (STOCHASTIC with a seed: the draw is the flat output index), output zero points at
the ends of u8/s8/u16/s16/s32, clamps narrowed as a fused Relu narrows them, and an optional
int64 accumulator offset (the zp_in_bias output stage) up to the int64 extremes. Accumulators
the method rejects (double rounding outside int32, the int64-reduced path outside 2^47) raise
OverflowRangeError naming the lowest such index and its value. Then: every ISA and thread count
bit-identical, and bad arguments.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.errors import KernelError, OverflowRangeError
from fxsim.reference import conv2d as ref_conv
from fxsim.reference import matmul as ref_matmul
from fxsim.reference import requantize as ref_requant
from fxsim.reference import rounding as ref_round
from kernel_helpers import (assert_isa_and_thread_identical, bias_values, codes_with_extremes, isa_variant, storage,
                            type_range, values, zero_point)
from test_conv2d_vs_reference import conv_case, pointwise_strided_case
from test_matmul_vs_reference import matmul_case
from test_requantize_vs_reference import float32_scales

OUT_TYPES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
             "int32": (-(1 << 31), (1 << 31) - 1)}
METHODS = ["double_round", "single_round", "int64_reduced", "power_of_two", "fp32"]
SHIFTS = {"double_round": (-31, 31), "single_round": (-63, 30), "int64_reduced": (-31, 7), "power_of_two": (-63, 63)}
MULT = st.one_of(st.integers(1 << 30, (1 << 31) - 1), st.sampled_from([0, 1, 1 << 30, (1 << 31) - 1]))
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


@st.composite
def requant_case(draw, channels):
    """One requantization of `channels` output channels: per tensor or per channel."""
    method = draw(st.sampled_from(METHODS))
    rc = channels if channels > 1 and draw(st.booleans()) else 1
    dtype = draw(st.sampled_from(sorted(OUT_TYPES)))
    lo, hi = OUT_TYPES[dtype]
    zp_strategy = st.one_of(st.sampled_from([lo, hi, 0 if lo <= 0 else lo]), st.integers(lo, hi))
    zps = [draw(zp_strategy) for _ in range(rc if draw(st.booleans()) else 1)]
    qmin = draw(st.sampled_from([lo, max(lo, zps[0])]))  # full range, or a Relu's [zp, max]
    qmax = draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6))]))
    case = dict(method=method, rc=rc, dtype=dtype, zps=zps, qmin=qmin, qmax=qmax, multiplier=None, shift=None,
                scale=None, rounding=int(fx.RoundingMode.HALF_UP), seed=draw(st.integers(0, (1 << 64) - 1)),
                pf64=False, zpf=False)
    if method == "fp32":
        case["scale"] = [draw(float32_scales()) for _ in range(rc)]
        case["pf64"], case["zpf"] = draw(st.booleans()), draw(st.booleans())
    else:
        smin, smax = SHIFTS[method]
        case["shift"] = [draw(st.one_of(st.integers(smin, smax), st.sampled_from([smin, smax, 0, -1])))
                         for _ in range(rc)]
        if method != "power_of_two":
            case["multiplier"] = [draw(MULT) for _ in range(rc)]
    if method in ("power_of_two", "fp32"):
        case["rounding"] = int(draw(st.sampled_from(list(fx.RoundingMode))))
    case["offset"] = None
    if draw(st.integers(0, 3)) == 0:  # the zp_in_bias output stage, sometimes at the int64 ends
        case["offset"] = [draw(st.one_of(st.integers(-1000, 1000), st.sampled_from([INT64_MIN, INT64_MAX])))
                          for _ in range(rc)]
    return case


@st.composite
def register_double_round_case(draw, channels, dtypes=tuple(sorted(OUT_TYPES))):
    """A double_round requantization the fused kernels apply in their registers
    (RequantizePlan::register_loop: int32 accumulators, no offset, clamp bounds within int32):
    per tensor or per channel, multipliers anywhere in int32 (INT32_MIN: SRDHM's saturation;
    negative; the normalized range), shifts over [-31, 31] with both ends, a half multiplier at
    small right shifts (exact ties of the final shift), zero points at the type ends, the full
    range, a Relu's [zp, max] or a Relu6-like [zp, zp + 6 steps]."""
    rc = channels if channels > 1 and draw(st.booleans()) else 1
    dtype = draw(st.sampled_from(dtypes))
    lo, hi = OUT_TYPES[dtype]
    zps = [draw(st.one_of(st.sampled_from([lo, hi, max(lo, min(hi, 0))]), st.integers(lo, hi)))
           for _ in range(rc if draw(st.booleans()) else 1)]
    qmin = draw(st.sampled_from([lo, max(lo, zps[0])]))
    qmax = draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6)), max(qmin, min(hi, qmin + 48))]))
    mult = st.one_of(MULT, st.integers(-(1 << 31), (1 << 31) - 1),
                     st.sampled_from([-(1 << 31), -(1 << 31) + 1, -1, -(1 << 30)]))
    pairs = [draw(st.one_of(st.tuples(mult, st.one_of(st.integers(-31, 31), st.sampled_from([-31, 31, 0, -1]))),
                            st.tuples(st.just(1 << 30), st.integers(-12, -1))))
             for _ in range(rc)]
    return dict(method="double_round", rc=rc, dtype=dtype, zps=zps, qmin=qmin, qmax=qmax,
                multiplier=[m for m, _ in pairs], shift=[e for _, e in pairs], scale=None,
                rounding=int(fx.RoundingMode.HALF_AWAY), seed=0, pf64=False, zpf=False, offset=None)


def kernel_args(r):
    """The requantization arguments of the fused kernels, from a requant_case."""
    arr = lambda v, t: None if v is None else np.array(v, t)  # noqa: E731
    return dict(acc_offset=arr(r["offset"], np.int64), method=r["method"], multiplier=arr(r["multiplier"], np.int32),
                shift=arr(r["shift"], np.int32), scale=arr(r["scale"], np.float32), zero_point=arr(r["zps"], np.int32),
                qmin=r["qmin"], qmax=r["qmax"], rounding=r["rounding"], seed=r["seed"],
                product_in_float64=r["pf64"], zero_point_in_float=r["zpf"])


def wrap64(v):
    return (v - INT64_MIN) % (1 << 64) + INT64_MIN


def reference_codes(r, accs, channel_of):
    """The exact codes of accumulators `accs` (flat, index k), or ("raise", k) at the first one the
    method rejects; channel_of(k) is output k's channel."""
    codes = []
    for k, a in enumerate(accs):
        c = channel_of(k) if r["rc"] > 1 else 0
        if r["offset"] is not None:
            a = wrap64(a + r["offset"][c])
        zp = r["zps"][c if len(r["zps"]) > 1 else 0]
        m = r["method"]
        try:
            if m == "fp32":
                y = ref_requant.requantize_fp32(a, r["scale"][c], zp, r["qmin"], r["qmax"], r["rounding"],
                                                ref_round.splitmix64_bits(r["seed"], k),
                                                product_in_float64=r["pf64"], zero_point_in_float=r["zpf"])
            elif m == "power_of_two":
                y = ref_requant.requantize_power_of_two(a, r["shift"][c], zp, r["qmin"], r["qmax"], r["rounding"],
                                                        ref_round.splitmix64_bits(r["seed"], k))
            else:
                y = getattr(ref_requant, "requantize_" + m)(a, r["multiplier"][c], r["shift"][c], zp, r["qmin"],
                                                             r["qmax"])
        except ValueError:
            return ("raise", k)
        codes.append(y)
    return codes


def unfused(acc, r, inner, axis):
    """requantize_<method> on the accumulator array as the unfused lowering calls it (channels
    along `axis`, `inner` elements per channel run)."""
    if r["offset"] is not None:
        shape = [1] * acc.ndim
        if r["rc"] > 1:
            shape[axis] = -1
        acc = acc.astype(np.int64) + np.array(r["offset"], np.int64).reshape(shape)
    acc = np.ascontiguousarray(acc)
    out = np.empty(acc.shape, r["dtype"])
    a = kernel_args(r)
    inner = inner if r["rc"] > 1 else 1
    bits = 32 if acc.dtype == np.int32 else 64
    zp = a["zero_point"]
    if r["method"] == "fp32":
        _kernels.requantize_fp32(acc.reshape(-1), a["scale"], zp, r["qmin"], r["qmax"], inner, bits, r["rounding"],
                                 r["seed"], r["pf64"], r["zpf"], out.reshape(-1))
    elif r["method"] == "power_of_two":
        _kernels.requantize_power_of_two(acc.reshape(-1), a["shift"], zp, r["qmin"], r["qmax"], inner, bits,
                                         r["rounding"], r["seed"], out.reshape(-1))
    else:
        getattr(_kernels, "requantize_" + r["method"])(acc.reshape(-1), a["multiplier"], a["shift"], zp, r["qmin"],
                                                       r["qmax"], inner, bits, out.reshape(-1))
    return out


def check(fused_call, accumulate_call, accs_ref, r, channel_of, inner, axis):
    """fused == reference codes == accumulate-then-requantize, or all three reject the same index."""
    want = reference_codes(r, accs_ref, channel_of)
    if isinstance(want, tuple):
        with pytest.raises(OverflowRangeError, match=rf"acc\[{want[1]}\] = "):
            fused_call()
        with pytest.raises(OverflowRangeError):
            unfused(accumulate_call(), r, inner, axis)
        return
    got = fused_call()
    assert got.dtype == np.dtype(r["dtype"])
    assert got.reshape(-1).tolist() == want
    assert np.array_equal(unfused(accumulate_call(), r, inner, axis), got)


# ---------------------------------------------------------------- conv2d


def conv_operands(c):
    x = np.array(c["x"], dtype=storage(c["x_type"])).reshape(c["x_shape"])
    w = np.array(c["w"], dtype=storage(c["w_type"])).reshape(c["w_shape"])
    bias = None if c["bias"] is None else np.array(c["bias"], dtype=c["bias_kind"])
    oh, ow = ref_conv.conv2d_output_size(c["x_shape"][2], c["x_shape"][3], c["w_shape"][2], c["w_shape"][3],
                                         c["stride"], c["dilation"], c["pads"])
    return x, w, bias, (c["x_shape"][0], c["w_shape"][0], oh, ow)


def conv_calls(c, r):
    x, w, bias, shape = conv_operands(c)
    zp_w = np.array(c["zp_w"], np.int32)
    geometry = (c["stride"], c["dilation"], c["pads"], c["groups"], c["policy"], c["acc_bits"])

    def fused():
        out = np.full(shape, 7, r["dtype"])
        _kernels.conv2d_requantize(x, w, c["zp_x"], zp_w, bias, *geometry, **kernel_args(r), out=out)
        return out

    def accumulate():
        out = np.empty(shape, np.int32 if c["acc_bits"] == 32 else np.int64)
        _kernels.conv2d_accumulate(x, w, c["zp_x"], zp_w, bias, *geometry, out)
        return out

    return fused, accumulate, shape


def run_conv_case(c, r, isas=(None,)):
    """The fused call equals the reference and accumulate-then-requantize, on each ISA variant of
    ``isas`` (None: the active one); the reference is computed once."""
    fused, accumulate, shape = conv_calls(c, r)
    try:
        accs, _ = ref_conv.conv2d_accumulate(c["x"], c["x_shape"], c["w"], c["w_shape"], c["zp_x"], c["zp_w"],
                                             c["bias"], c["stride"], c["dilation"], c["pads"], c["groups"],
                                             c["policy"], c["acc_bits"])
    except OverflowError as e:  # RAISE: the accumulator leaves its range before any requantization
        for isa in isas:
            with isa_variant(isa), pytest.raises(OverflowRangeError, match=str(e).split(" (")[0] + " "):
                fused()
        return
    plane = shape[2] * shape[3]
    for isa in isas:
        with isa_variant(isa):
            check(fused, accumulate, accs, r, lambda k: k // plane % shape[1], plane, 1)


@settings(max_examples=75)  # the reference conv in Python ints: ~0.1 s per example
@given(data=st.data())
def test_conv2d_requantize_equals_reference_and_unfused(data):
    c = data.draw(conv_case())
    run_conv_case(c, data.draw(requant_case(c["w_shape"][0])))


@settings(max_examples=75)  # the reference conv in Python ints: ~0.1 s per example
@given(data=st.data())
def test_conv2d_requantize_wrap_fast_path(data):
    c = data.draw(conv_case(fast_path=True))
    run_conv_case(c, data.draw(requant_case(c["w_shape"][0])))


@settings(max_examples=40)
@given(data=st.data())
def test_conv2d_requantize_pointwise_strided(data):
    """The strided 1x1 conv's gathered GEMM path (conv2d.cc) through every method's sink."""
    c = data.draw(pointwise_strided_case())
    run_conv_case(c, data.draw(requant_case(c["w_shape"][0])))


@st.composite
def tile_epilogue_conv_case(draw):
    """A conv whose requantization conv2d.cc's dot4 tiles apply in their registers (Dot4Epilogue
    with rows_are_channels), 8-bit activations and int8 weights with zero points 0, WRAP 32:
    a 1x1 without padding whose GEMM columns are consecutive outputs (stride 1, or strided: the
    gathered words), or a padded / strided / dilated kernel whose columns include the dropped
    ones between output rows (the codes go through a tile and its output runs are copied out).
    Depths past the small-depth kernel's 32 (groups 1) or grouped; 1-14 output channels per
    group (partial register tiles of 6 rows on avx512vnni, 4 on avx512bw); outputs inside,
    across and past the 64-column tiles and the 256-column pieces."""
    x_type = draw(st.sampled_from(["uint8", "int8"]))
    groups = draw(st.integers(1, 3))
    pointwise = draw(st.booleans())
    if pointwise:
        kh = kw = 1
        pads, dilation = (0, 0, 0, 0), (1, 1)
        stride = draw(st.sampled_from([(1, 1), (1, 1), (2, 2), (1, 3)]))
    else:
        kh, kw = draw(st.integers(1, 3)), draw(st.integers(2, 3))
        pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    cig = draw(st.integers(33 // (kh * kw) + 1, 40)) if groups == 1 else draw(st.integers(2, 9))
    c_out = groups * draw(st.integers(1, 14))
    oh = draw(st.integers(1, 6))
    ow = draw(st.one_of(st.integers(1, 5), st.integers(60, 70)))
    # the smallest input of (oh, ow) outputs, plus up to stride - 1 unread rows / columns
    h = max(1, (oh - 1) * stride[0] + (kh - 1) * dilation[0] + 1 - pads[0] - pads[2]
            + draw(st.integers(0, stride[0] - 1)))
    w = max(1, (ow - 1) * stride[1] + (kw - 1) * dilation[1] + 1 - pads[1] - pads[3]
            + draw(st.integers(0, stride[1] - 1)))
    n = draw(st.integers(1, 2))
    zp_x = draw(st.one_of(st.sampled_from(list(type_range(x_type))), st.integers(*type_range(x_type))))
    bias, bias_kind = bias_values(draw, c_out, 20000)
    return dict(x_type=x_type, w_type="int8", x_shape=(n, groups * cig, h, w), w_shape=(c_out, cig, kh, kw),
                x=codes_with_extremes(draw, x_type, n * groups * cig * h * w),
                w=values(draw, "int8", c_out * cig * kh * kw), zp_x=zp_x, zp_w=[0], bias=bias, bias_kind=bias_kind,
                stride=stride, dilation=dilation, pads=pads, groups=groups, policy="wrap", acc_bits=32)


@st.composite
def register_fp32_case(draw, channels):
    """A float32 requantization the fused kernels apply in their registers
    (RequantizePlan::register_loop): HALF_EVEN, the product in float32, the zero point added
    after rounding or in float (zero_point_in_float: a float add before the rounding), an 8- or
    16-bit output, per tensor or per channel, zero points at the type ends, the full range or a
    Relu's; a scale of 0.5 puts odd accumulators on exact ties."""
    rc = channels if channels > 1 and draw(st.booleans()) else 1
    dtype = draw(st.sampled_from(["int16", "int8", "uint16", "uint8"]))
    lo, hi = OUT_TYPES[dtype]
    zps = [draw(st.one_of(st.sampled_from([lo, hi, max(lo, 0)]), st.integers(lo, hi)))
           for _ in range(rc if draw(st.booleans()) else 1)]
    qmin = draw(st.sampled_from([lo, max(lo, zps[0])]))
    qmax = draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6))]))
    scales = st.one_of(float32_scales(), st.just(0.5))
    return dict(method="fp32", rc=rc, dtype=dtype, zps=zps, qmin=qmin, qmax=qmax, multiplier=None, shift=None,
                scale=[draw(scales) for _ in range(rc)], rounding=int(fx.RoundingMode.HALF_EVEN), seed=0,
                pf64=False, zpf=draw(st.booleans()), offset=None)


@settings(max_examples=40)  # every ISA variant per example
@given(data=st.data())
def test_conv2d_tile_epilogue_every_isa(data):
    """The conv tile epilogue (gemm_kernels.h Dot4Epilogue, rows_are_channels: the int16-pair
    tiles on avx512bw, vpdpbusd on avx512vnni, the scalar form elsewhere) equals the reference
    and accumulate-then-requantize on every ISA variant: float32 and double-round
    requantization, per tensor and per channel, every 8/16-bit output type; and the int32
    accumulators (the AccumulatorSink form) through the unfused call."""
    c = data.draw(tile_epilogue_conv_case())
    fp32 = data.draw(st.booleans())
    r = data.draw(register_fp32_case(c["w_shape"][0]) if fp32 else
                  register_double_round_case(c["w_shape"][0], dtypes=("int16", "int8", "uint16", "uint8")))
    run_conv_case(c, r, isas=_kernels.available_isas())


@st.composite
def pointwise_rows_case(draw):
    """A 1x1 conv at stride 1 without padding, 8-bit activations, int8 weights with zero points
    0, WRAP 32: the layer whose GEMM tiles read the input's rows of bytes themselves
    (conv2d.cc from_rows, gemm_kernels.h Dot4ByteRows, on avx512vnni). Channels per group 1-40
    (the last quad of 1-4 real channels), 1-20 output channels per group (several register
    tiles, partial ones), groups 1-3, batch 1-3, and outputs inside, at and across the 64-column
    tiles (a partial last tile)."""
    x_type = draw(st.sampled_from(["uint8", "int8"]))
    groups = draw(st.integers(1, 3))
    cig = draw(st.integers(1, 40))
    c_out = groups * draw(st.integers(1, 20))
    h = draw(st.integers(1, 6))
    w = draw(st.one_of(st.integers(1, 13), st.sampled_from([16, 32, 64]), st.integers(60, 70)))
    n = draw(st.integers(1, 3))
    zp_x = draw(st.one_of(st.sampled_from(list(type_range(x_type))), st.integers(*type_range(x_type))))
    bias, bias_kind = bias_values(draw, c_out, 20000)
    return dict(x_type=x_type, w_type="int8", x_shape=(n, groups * cig, h, w), w_shape=(c_out, cig, 1, 1),
                x=codes_with_extremes(draw, x_type, n * groups * cig * h * w),
                w=values(draw, "int8", c_out * cig), zp_x=zp_x, zp_w=[0], bias=bias, bias_kind=bias_kind,
                stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0), groups=groups, policy="wrap", acc_bits=32)


@settings(max_examples=60)  # two thread counts and two weight forms per example
@given(data=st.data())
def test_conv2d_pointwise_rows_threads_and_packed_weights(data):
    """The 1x1 whose tiles read the input's rows (pointwise_rows_case) equals the reference and
    accumulate-then-requantize on 1 and 2 threads (one range of tiles per thread, or the
    channel blocks of a plane of few tiles), with the weights as an array and packed once; the
    requantization in the tiles' registers (float32 or double-round, 8/16-bit outputs, per
    tensor or per channel, the codes-clamp form where the clamp allows it) or the int32
    accumulators."""
    c = data.draw(pointwise_rows_case())
    fp32 = data.draw(st.booleans())
    r = data.draw(register_fp32_case(c["w_shape"][0]) if fp32 else register_double_round_case(c["w_shape"][0]))
    accs, _ = ref_conv.conv2d_accumulate(c["x"], c["x_shape"], c["w"], c["w_shape"], c["zp_x"], c["zp_w"], c["bias"],
                                         c["stride"], c["dilation"], c["pads"], c["groups"], c["policy"],
                                         c["acc_bits"])
    fused, accumulate, shape = conv_calls(c, r)
    x, w, bias, _ = conv_operands(c)
    packed = _kernels.PackedConvWeights(w, np.array(c["zp_w"], np.int32))

    def fused_packed():
        out = np.full(shape, 7, r["dtype"])
        _kernels.conv2d_requantize(x, packed, c["zp_x"], None, bias, c["stride"], c["dilation"], c["pads"],
                                   c["groups"], c["policy"], c["acc_bits"], **kernel_args(r), out=out)
        return out

    plane = shape[2] * shape[3]
    before = _kernels.num_threads()
    try:
        for threads in (1, 2):
            _kernels.set_num_threads(threads)
            for call in (fused, fused_packed):
                check(call, accumulate, accs, r, lambda k: k // plane % shape[1], plane, 1)
    finally:
        _kernels.set_num_threads(before)


# ---------------------------------------------------------------- matmul


def matmul_calls(c, r):
    bs = c["batch_shape"]
    a = np.array(c["a"], storage(c["a_type"])).reshape(bs + (c["m"], c["k"]))
    b = np.array(c["b"], storage(c["b_type"])).reshape((bs if c["b_batched"] else ()) + (c["k"], c["n"]))
    bias = None if c["bias"] is None else np.array(c["bias"], c["bias_kind"])
    zp_b = np.array(c["zp_b"], np.int32)
    shape = bs + (c["m"], c["n"])

    def fused():
        out = np.full(shape, 7, r["dtype"])
        _kernels.matmul_requantize(a, b, c["zp_a"], zp_b, bias, c["policy"], c["acc_bits"], **kernel_args(r),
                                   out=out)
        return out

    def accumulate():
        out = np.empty(shape, np.int32 if c["acc_bits"] == 32 else np.int64)
        _kernels.matmul_accumulate(a, b, c["zp_a"], zp_b, bias, c["policy"], c["acc_bits"], out)
        return out

    return fused, accumulate


def run_matmul_case(c, r, isas=(None,)):
    """As run_conv_case, for a matmul case."""
    fused, accumulate = matmul_calls(c, r)
    try:
        accs = ref_matmul.matmul_accumulate(c["a"], c["b"], c["batch"], c["m"], c["k"], c["n"], c["zp_a"], c["zp_b"],
                                            c["bias"], c["b_batched"], c["policy"], c["acc_bits"])
    except OverflowError as e:
        for isa in isas:
            with isa_variant(isa), pytest.raises(OverflowRangeError, match=str(e).split(" (")[0] + " "):
                fused()
        return
    for isa in isas:
        with isa_variant(isa):
            check(fused, accumulate, accs, r, lambda k: k % c["n"], 1, -1)


@settings(max_examples=75)  # the reference conv in Python ints: ~0.1 s per example
@given(data=st.data())
def test_matmul_requantize_equals_reference_and_unfused(data):
    c = data.draw(matmul_case())
    run_matmul_case(c, data.draw(requant_case(c["n"])))


@settings(max_examples=75)  # the reference conv in Python ints: ~0.1 s per example
@given(data=st.data())
def test_matmul_requantize_wrap_fast_path(data):
    c = data.draw(matmul_case(fast_path=True))
    run_matmul_case(c, data.draw(requant_case(c["n"])))


@settings(max_examples=60)  # the reference matmul in Python ints
@given(data=st.data())
def test_matmul_in_register_double_round(data):
    """The matmul tile epilogue's in-register double rounding (gemm_kernels.h Dot4Epilogue,
    multiplier_simd.h) equals the reference and accumulate-then-requantize, per tensor and per
    column, every output type."""
    c = data.draw(matmul_case(fast_path=True))
    run_matmul_case(c, data.draw(register_double_round_case(c["n"])))


@settings(max_examples=40)  # every ISA variant per example
@given(data=st.data())
def test_matmul_tile_epilogue_every_isa(data):
    """The matmul tile epilogue (gemm_kernels.h Dot4Epilogue: vpdpbusd tiles on avx512vnni,
    int16-pair tiles on avx512bw and avx2 with their vector epilogues, the scalar form on
    baseline) equals the reference and accumulate-then-requantize on every ISA variant, with
    float32 and double-round requantization per tensor and per column."""
    c = data.draw(matmul_case(fast_path=True))
    fp32 = data.draw(st.booleans())
    r = data.draw(register_fp32_case(c["n"]) if fp32 else register_double_round_case(c["n"]))
    run_matmul_case(c, r, isas=_kernels.available_isas())


@st.composite
def register_codes_case(draw, channels):
    """A float32 requantization into 8-bit codes whose every scale lies in (0, 0.5]
    (direct_conv_kernels.h fp32_clamp_in_codes), which the matmul tiles finish by packing the
    unclamped round(v) with saturation and clamping the codes as bytes (Dot4Epilogue::codes_clamp,
    gemm_kernels.inc epilogue_row_column_codes): per tensor or per column, each column's scale
    and zero point its own (a scale of 0.5 puts odd accumulators on ties; tiny scales; zero
    points at the type ends), the zero point added after rounding or in float, the full range, a
    Relu's or a Relu6-like clamp. One in eight cases has a column past the limit (scale 0.75):
    the other epilogue."""
    rc = channels if channels > 1 and draw(st.booleans()) else 1
    dtype = draw(st.sampled_from(["int8", "uint8"]))
    lo, hi = OUT_TYPES[dtype]
    zps = [draw(st.one_of(st.sampled_from([lo, hi, max(lo, 0)]), st.integers(lo, hi)))
           for _ in range(rc if draw(st.booleans()) else 1)]
    qmin = draw(st.sampled_from([lo, max(lo, zps[0])]))
    qmax = draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6))]))
    scales = st.one_of(st.sampled_from([0.5, 0.25]), st.floats(1e-6, 0.5), st.floats(1e-30, 1e-10))
    scale = [float(np.float32(draw(scales))) for _ in range(rc)]  # (float32(x) <= 0.5 for x <= 0.5)
    if draw(st.integers(0, 7)) == 0:
        scale[draw(st.integers(0, rc - 1))] = 0.75
    return dict(method="fp32", rc=rc, dtype=dtype, zps=zps, qmin=qmin, qmax=qmax, multiplier=None, shift=None,
                scale=scale, rounding=int(fx.RoundingMode.HALF_EVEN), seed=0, pf64=False, zpf=draw(st.booleans()),
                offset=None)


@st.composite
def matmul_tiles_case(draw):
    """A WRAP 32 matmul over several register tiles: 8-bit A (u8 read in place when K % 4 == 0,
    s8 flipped), s8 / u8 / int4 B with per-tensor or per-column zero points, M 1-14 (tiles of 6
    and shorter), N 1-200 (64-column tiles and a partial last one), K 1-24, batches, a bias."""
    a_type, b_type = draw(st.sampled_from(["uint8", "int8"])), draw(st.sampled_from(["uint8", "int8", "int4"]))
    batch_shape = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    batch = int(np.prod(batch_shape)) if batch_shape else 1
    b_batched = bool(batch_shape) and draw(st.booleans())
    m, k, n = draw(st.integers(1, 14)), draw(st.integers(1, 24)), draw(st.integers(1, 200))
    zp_b = [zero_point(draw, b_type) for _ in range(n if draw(st.booleans()) else 1)]
    bias, bias_kind = bias_values(draw, n)
    return dict(a_type=a_type, b_type=b_type, batch_shape=batch_shape, batch=batch, b_batched=b_batched, m=m, k=k,
                n=n, a=values(draw, a_type, batch * m * k), b=values(draw, b_type, (batch if b_batched else 1) * k * n),
                zp_a=zero_point(draw, a_type), zp_b=zp_b, bias=bias, bias_kind=bias_kind, policy="wrap", acc_bits=32,
                out_type="int32")


@settings(max_examples=40)  # every ISA variant per example
@given(data=st.data())
def test_matmul_column_codes_every_isa(data):
    """The matmul tiles' 8-bit codes packed and clamped as bytes per column (Dot4Epilogue::
    codes_clamp with the columns as channels: each tile's scales, zero points and code bounds in
    the lane order of the packs, the accumulators started at the columns' constant) equal the
    reference and accumulate-then-requantize on every ISA variant, 1 and 2 threads."""
    c = data.draw(matmul_tiles_case())
    r = data.draw(register_codes_case(c["n"]))
    before = _kernels.num_threads()
    try:
        for threads in (1, 2):
            _kernels.set_num_threads(threads)
            run_matmul_case(c, r, isas=_kernels.available_isas())
    finally:
        _kernels.set_num_threads(before)


# ---------------------------------------------------------------- fixed edges


def _bias_through(method, bias, multiplier, shift, rounding=0):
    """Codes of a 1x1 conv of zeros with `bias` (so the accumulator is the bias), per tensor."""
    x = np.zeros((1, 1, 1, 1), np.int8)
    w = np.ones((1, 1, 1, 1), np.int8)
    zero = np.zeros(1, np.int32)
    out = np.empty((1, 1, 1, 1), np.int8)
    _kernels.conv2d_requantize(x, w, 0, zero, np.array([bias], np.int32), (1, 1), (1, 1), (0, 0, 0, 0), 1, "wrap",
                               32, None, method, None if multiplier is None else np.array([multiplier], np.int32),
                               np.array([shift], np.int32), None, zero, -128, 127, rounding, 0, False, False, out)
    return int(out.ravel()[0])


@pytest.mark.parametrize("acc, method, multiplier, shift, rounding, expect", [
    # acc = 3.5 * 2^10, M = 2^30 (one half), shift -9: 3.5, an exact tie
    (7 << 9, "double_round", 1 << 30, -9, 0, 4),       # SRDHM exact, then RDBPOT half away: 4
    (-(7 << 9), "double_round", 1 << 30, -9, 0, -4),   # half away from zero: -4
    (7 << 9, "single_round", 1 << 30, -9, 0, 4),       # one half-up rounding: 4
    (-(7 << 9), "single_round", 1 << 30, -9, 0, -3),   # half up (toward +inf): -3
    (5, "power_of_two", None, -1, int(fx.RoundingMode.HALF_EVEN), 2),    # 2.5 -> 2
    (-5, "power_of_two", None, -1, int(fx.RoundingMode.HALF_EVEN), -2),  # -2.5 -> -2
    (-5, "power_of_two", None, -1, int(fx.RoundingMode.HALF_AWAY), -3),  # -2.5 -> -3
])
def test_ties_round_as_the_method_says(acc, method, multiplier, shift, rounding, expect):
    """Ties of the final rounding, fused, against hand-derived codes and the reference."""
    assert _bias_through(method, acc, multiplier, shift, rounding) == expect
    if method == "power_of_two":
        assert ref_requant.requantize_power_of_two(acc, shift, 0, -128, 127, rounding) == expect
    else:
        assert getattr(ref_requant, "requantize_" + method)(acc, multiplier, shift, 0, -128, 127) == expect


def test_requantize_rejection_names_the_lowest_index():
    """Double rounding is an int32 operation: a 48-bit accumulator above int32 is rejected, at
    the lowest flat index, with its value (both ISA-split and threaded paths agree)."""
    a = np.full((1, 3, 2), 127, np.int8)
    b = np.full((2, 4), 127, np.int8)
    bias = np.array([0, 0, (1 << 31) - 1, 0], np.int64)  # column 2 overflows int32 in every row
    out = np.empty((1, 3, 4), np.int8)
    with pytest.raises(OverflowRangeError, match=r"acc\[2\] = 2147515905 .*outside int32"):
        _kernels.matmul_requantize(a, b, 0, np.zeros(1, np.int32), bias, "wrap", 48, None, "double_round",
                                   np.array([1 << 30], np.int32), np.array([0], np.int32), None,
                                   np.zeros(1, np.int32), -128, 127, 0, 0, False, False, out)


def _layer(rng, shape_x, shape_w, groups, stride, method, per_channel, dtype):
    x = rng.integers(0, 256, size=shape_x).astype(np.uint8)
    w = rng.integers(-128, 128, size=shape_w).astype(np.int8)
    c_out = shape_w[0]
    rc = c_out if per_channel else 1
    bias = rng.integers(-(1 << 16), 1 << 16, size=c_out).astype(np.int32)
    oh = (shape_x[2] + 2 - shape_w[2]) // stride[0] + 1
    ow = (shape_x[3] + 2 - shape_w[3]) // stride[1] + 1
    args = dict(acc_offset=None, method=method, multiplier=None, shift=None, scale=None,
                zero_point=np.array([3], np.int32), qmin=-128 if dtype == np.int8 else 0,
                qmax=127 if dtype == np.int8 else 255, rounding=int(fx.RoundingMode.STOCHASTIC
                                                                     if method == "fp32" else
                                                                     fx.RoundingMode.HALF_EVEN),
                seed=12345, product_in_float64=False, zero_point_in_float=False)
    if method == "fp32":
        args["scale"] = (rng.random(rc) * 1e-3).astype(np.float32)
    else:
        args["multiplier"] = rng.integers(1 << 30, (1 << 31) - 1, size=rc).astype(np.int32)
        args["shift"] = rng.integers(-12, -6, size=rc).astype(np.int32)

    def call():
        out = np.empty((shape_x[0], c_out, oh, ow), dtype)
        _kernels.conv2d_requantize(x, w, 7, np.zeros(1, np.int32), bias, stride, (1, 1), (1, 1, 1, 1), groups,
                                   "wrap", 32, **args, out=out)
        return out
    return call


def _matmul_layer(rng, m, k, n, method):
    a = rng.integers(-128, 128, size=(m, k)).astype(np.int8)
    b = rng.integers(-128, 128, size=(k, n)).astype(np.int8)
    mult = rng.integers(1 << 30, (1 << 31) - 1, size=n).astype(np.int32)
    shift = rng.integers(-14, -8, size=n).astype(np.int32)

    def call():
        out = np.empty((m, n), np.int16)
        _kernels.matmul_requantize(a, b, -3, np.zeros(1, np.int32), None, "wrap", 32, None, method, mult, shift,
                                   None, np.array([-100], np.int32), -32768, 32767, 0, 0, False, False, out)
        return out
    return call


def test_every_isa_and_thread_count_is_bit_identical(restore_kernels):
    rng = np.random.default_rng(17)
    assert_isa_and_thread_identical({
        "dense_3x3": _layer(rng, (1, 16, 30, 29), (24, 16, 3, 3), 1, (1, 1), "double_round", True, np.int8),
        "stride2_fp32_stochastic": _layer(rng, (1, 8, 33, 31), (16, 8, 3, 3), 1, (2, 2), "fp32", True, np.uint8),
        "depthwise": _layer(rng, (1, 32, 40, 40), (32, 1, 3, 3), 32, (1, 1), "single_round", False, np.int8),
        "matmul": _matmul_layer(rng, 70, 96, 300, "single_round"),
    })


def test_bad_arguments_raise_kernel_errors():
    x = np.zeros((1, 2, 3, 3), np.uint8)
    w = np.zeros((4, 2, 3, 3), np.int8)
    zero = np.zeros(1, np.int32)
    base = dict(x=x, w=w, x_zero_point=0, w_zero_point=zero, bias=None, stride=(1, 1), dilation=(1, 1),
                pads=(0, 0, 0, 0), groups=1, policy="wrap", acc_bits=32, acc_offset=None, method="double_round",
                multiplier=np.array([1 << 30], np.int32), shift=np.array([0], np.int32), scale=None,
                zero_point=zero, qmin=-128, qmax=127, rounding=0, seed=0, product_in_float64=False,
                zero_point_in_float=False, out=np.empty((1, 4, 1, 1), np.int8))
    _kernels.conv2d_requantize(**base)
    for over, message in [
        (dict(multiplier=np.ones(3, np.int32), shift=np.zeros(3, np.int32)), "3 channels, expected 1 or 4"),
        (dict(shift=np.array([40], np.int32)), r"shift\[0\] = 40 is outside"),
        (dict(method="nearest"), "method must be"),
        (dict(multiplier=None), "multiplier must be an array"),
        (dict(out=np.empty((1, 4, 1, 1), np.int64)), "out must be an int8, uint8, int16, uint16 or int32"),
        (dict(qmin=-200), r"\[qmin, qmax\]"),
        (dict(acc_offset=np.zeros(2, np.int64)), "acc_offset must have 1 elements"),
        (dict(method="fp32", scale=np.array([np.nan], np.float32)), "scale"),
    ]:
        with pytest.raises(KernelError, match=message):
            _kernels.conv2d_requantize(**{**base, **over})
