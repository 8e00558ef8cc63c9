"""The direct conv kernels (csrc/fxsim/kernels/direct_conv2d.h: depthwise, groups == C_in, and
small depth, groups == 1 with C_in * KH * KW <= 32), which conv2d_accumulate / conv2d_requantize
pick for 8-bit operands under WRAP, equal the exact reference (fxsim/reference/conv2d.py) with
``==``.

Drawn: depth multipliers 1-3, kernels up to 4 x 4 (and 5 x 5 single-channel), strides and
dilations 1-3, asymmetric pads 0-3, output widths on both sides of the kernels' 32-column runs
(1-8, 28-40, 60-70), output channel counts that hit every channel block of the tile loop (8, 4,
2, 1), zero points at the range ends, per-channel weight zero points, operands at the type
extremes, int32/int64 bias at their extremes, acc_bits 32/48/64; the fused requantization
(every method, stochastic rounding by flat index) against the reference and the unfused call.
Layers whose corrected weights are int8 values take the u8 x s8 paths, the others the int16 pair
paths: both are drawn. Each drawn case runs on every variant with direct kernels this CPU has
(DIRECT_CONV_ISAS): the u8 x s8 loops are vpdpbusd on avx512vnni and its exact emulation on
avx512bw (dot4_avx512.h; the small-depth loop pairs the taps of two kw = 3 filter rows in one
vpmaddwd there) and on avx2 (direct_conv_kernels_avx2.cc: ymm loops, the int16 halves made by
vpshufb; only the register-blocked depthwise loops there, other depthwise layers take the int16
pairs), separate code. Then MobileNetV2's own layers against an exact int64 numpy model on each
of those variants, and every ISA variant (baseline runs the GEMM path: a cross-check) and thread
count bit-identical. The register-blocked depthwise loops (stride 1 and
stride 2) get their own draws around their row and column blocks.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.reference import conv2d as ref
from kernel_helpers import (DIRECT_CONV_ISAS, assert_isa_and_thread_identical, bias_values, codes_with_extremes,
                            isa_variant, storage, values, zero_point)
from test_conv2d_vs_reference import run_kernel, run_reference
from test_fused_requantize_vs_reference import register_double_round_case, requant_case, run_conv_case
from test_requantize_vs_reference import float32_scales

# widths of the output row: one partial run, around one and two full runs of 32 columns
# (126 to 136: the small-depth loop builds the windows of up to 128 columns before running the
# channels, kSmallDepthChunk: one chunk, whole or not, and a second of a few columns)
OUTPUT_WIDTHS = st.one_of(st.integers(1, 8), st.integers(28, 40), st.integers(60, 70), st.integers(126, 136))


@st.composite
def weight_zero_points_and_bias(draw, w_type, c_out, int8_weights):
    """Weight zero points (per tensor or per channel; with int8_weights those that make every
    w - w_zp an int8 value: 0 for int8, 128 for uint8, any for int4) and a bias (none, or int32 /
    int64 with its extremes): (zp_w, bias, bias_kind)."""
    zp_w = [zero_point(draw, w_type) for _ in range(c_out if draw(st.booleans()) else 1)]
    if int8_weights and w_type != "int4":
        zp_w = [0 if w_type == "int8" else 128] * len(zp_w)
    bias, bias_kind = bias_values(draw, c_out)
    return zp_w, bias, bias_kind


@st.composite
def direct_case(draw, kind, int8_weights=False):
    """A conv call the direct kernels take: kind "depthwise" (groups == C_in) or "small_depth".
    int8_weights: every w - w_zp an int8 value (int8 with zero point 0, uint8 with 128, int4):
    the u8 x s8 paths (filter rows in groups of four taps, KW up to 6)."""
    x_type = draw(st.sampled_from(["uint8", "int8"]))
    w_type = draw(st.sampled_from(["int8", "uint8", "int4"]))
    if kind == "depthwise":
        c_in = groups = draw(st.integers(1, 3))
        c_out = c_in * draw(st.integers(1, 3))  # depth multiplier
        kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 6 if int8_weights else 4))
    else:
        groups = 1
        c_in, c_out = draw(st.integers(1, 3)), draw(st.sampled_from([1, 2, 3, 5, 8, 13]))
        # (a 1x1 is a GEMM: the small-depth kernel does not take it, direct_conv2d.cc)
        kh, kw = draw(st.sampled_from([(1, 2), (3, 3), (2, 3), (3, 1), (5, 5), (4, 6)] if c_in == 1 else
                                      [(1, 2), (3, 3), (2, 3), (3, 1), (2, 5)]))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pads = tuple(draw(st.integers(0, 3)) for _ in range(4))
    ow = draw(OUTPUT_WIDTHS)
    # the input width giving that output width (at least the dilated kernel minus the pads)
    w = max(1, (ow - 1) * stride[1] + dilation[1] * (kw - 1) + 1 - pads[1] - pads[3])
    h_min = max(1, dilation[0] * (kh - 1) + 1 - pads[0] - pads[2])
    h = draw(st.integers(h_min, h_min + 4))
    n = draw(st.integers(1, 2)) if ow <= 8 else 1
    zp_w, bias, bias_kind = draw(weight_zero_points_and_bias(w_type, c_out, int8_weights))
    acc_bits = draw(st.sampled_from([32, 48, 64]))
    return dict(x_type=x_type, w_type=w_type, x_shape=(n, c_in, h, w), w_shape=(c_out, c_in // groups, kh, kw),
                x=values(draw, x_type, n * c_in * h * w), w=values(draw, w_type, c_out * (c_in // groups) * kh * kw),
                zp_x=zero_point(draw, x_type), zp_w=zp_w, bias=bias, bias_kind=bias_kind, stride=stride,
                dilation=dilation, pads=pads, groups=groups, policy="wrap", acc_bits=acc_bits,
                out_type="int32" if acc_bits == 32 and draw(st.booleans()) else "int64")


@pytest.mark.parametrize("int8_weights", [False, True])
@pytest.mark.parametrize("kind", ["depthwise", "small_depth"])
@settings(max_examples=60)  # the reference conv in Python ints: up to ~0.2 s per example
@given(data=st.data())
def test_direct_conv_equals_reference(kind, int8_weights, data):
    case = data.draw(direct_case(kind, int8_weights))
    want, shape = run_reference(case)
    for isa in DIRECT_CONV_ISAS:
        with isa_variant(isa):
            got = run_kernel(case)
        assert got.shape == shape
        assert got.reshape(-1).tolist() == want, isa


@settings(max_examples=30)
@given(data=st.data())
def test_fused_requantize_equals_reference_and_unfused(data):
    c = data.draw(direct_case(data.draw(st.sampled_from(["depthwise", "small_depth"])), data.draw(st.booleans())))
    run_conv_case(c, data.draw(requant_case(c["w_shape"][0])), DIRECT_CONV_ISAS)


@st.composite
def fast_depthwise_case(draw, stride=1):
    """A depthwise layer a register-blocked u8 x s8 loop takes (direct_conv_kernels.h,
    DepthwiseU8S8FastFn): stride 1 (dilation_w 1-4) or 2 (depthwise_u8s8_fast_s2, dilation_w
    1-3), dilation_h 1, filters 3 x (1-4) (one group of four taps) or 5 x (5-8) (two), every
    w - w_zp an int8 value, at least 4 output rows (stride 1: 4-9, full and overlapping last row
    blocks of 4; stride 2: 4-17, blocks of 4 or 8), output widths inside one 64-column block and
    around its edge (1-8, 56-72; stride 2 also around its 32-column block, 14-18 and 28-34, where
    two rows' codes leave as one vector), input sizes odd and even, acc_bits 32 (the sums or
    codes leave the registers straight into the output) or 64 (through the sink)."""
    x_type = draw(st.sampled_from(["uint8", "int8"]))
    w_type = draw(st.sampled_from(["int8", "uint8", "int4"]))
    c_in = draw(st.integers(1, 2))
    c_out = c_in * draw(st.integers(1, 2))
    kh = draw(st.sampled_from([3, 5]))
    kw = draw(st.integers(1, 4) if kh == 3 else st.integers(5, 8))
    dilation = (1, draw(st.integers(1, 4 if stride == 1 else 3)))
    pads = tuple(draw(st.integers(0, 3)) for _ in range(4))
    if stride == 1:
        oh, ow = draw(st.integers(4, 9)), draw(st.one_of(st.integers(1, 8), st.integers(56, 72)))
    else:
        oh = draw(st.integers(4, 17))
        ow = draw(st.one_of(st.integers(1, 8), st.integers(14, 18), st.integers(28, 34), st.integers(56, 72)))
    extra = draw(st.integers(0, stride - 1))  # stride 2: an input size of either parity
    w = max(1, (ow - 1) * stride + dilation[1] * (kw - 1) + 1 - pads[1] - pads[3] + extra)
    h = max(1, (oh - 1) * stride + kh - pads[0] - pads[2] + extra)
    zp_w, bias, bias_kind = draw(weight_zero_points_and_bias(w_type, c_out, True))
    acc_bits = draw(st.sampled_from([32, 32, 64]))
    return dict(x_type=x_type, w_type=w_type, x_shape=(1, c_in, h, w), w_shape=(c_out, 1, kh, kw),
                x=codes_with_extremes(draw, x_type, c_in * h * w), w=values(draw, w_type, c_out * kh * kw),
                zp_x=zero_point(draw, x_type), zp_w=zp_w, bias=bias, bias_kind=bias_kind, stride=(stride, stride),
                dilation=dilation, pads=pads, groups=c_in, policy="wrap", acc_bits=acc_bits,
                out_type="int32" if acc_bits == 32 else "int64")


@st.composite
def channels_depthwise_case(draw):
    """A narrow depthwise layer whose channels go side by side through the register-blocked loop
    at stride 1 or 2 (direct_conv_kernels.h depthwise_u8s8_channels, direct_conv2d.cc
    PackedChannels): 1-19 input channels (several planes of 64 / lane channels, the last one
    partial), depth multiplier 1-2, batch 1-2, output widths 1-30 with pads 0-3 (channel lanes of
    8, 16 and 32 output columns, neighbours sharing padding bytes; at stride 2 lanes of 8 and 16,
    inputs of either parity, and wider planes: the stride-2 loop's own), 4-9 output rows, filters
    3 x (1-4) and 5 x (5-8) dilated along the width 1-4 (stride 2: 1-3), and the one-channel loops'
    own input ranges as fast_depthwise_case."""
    x_type = draw(st.sampled_from(["uint8", "int8"]))
    w_type = draw(st.sampled_from(["int8", "uint8", "int4"]))
    c_in = draw(st.integers(1, 19))
    c_out = c_in * draw(st.integers(1, 2))
    stride = draw(st.integers(1, 2))
    kh = draw(st.sampled_from([3, 5]))
    kw = draw(st.integers(1, 4) if kh == 3 else st.integers(5, 8))
    dilation = (1, draw(st.integers(1, 4 if stride == 1 else 3)))
    pads = tuple(draw(st.integers(0, 3)) for _ in range(4))
    oh, ow = draw(st.integers(4, 9)), draw(st.integers(1, 30))
    extra = draw(st.integers(0, stride - 1))
    w = max(1, (ow - 1) * stride + dilation[1] * (kw - 1) + 1 - pads[1] - pads[3] + extra)
    h = max(1, (oh - 1) * stride + kh - pads[0] - pads[2] + extra)
    n = draw(st.integers(1, 2))
    zp_w, bias, bias_kind = draw(weight_zero_points_and_bias(w_type, c_out, True))
    acc_bits = draw(st.sampled_from([32, 32, 64]))
    return dict(x_type=x_type, w_type=w_type, x_shape=(n, c_in, h, w), w_shape=(c_out, 1, kh, kw),
                x=codes_with_extremes(draw, x_type, n * c_in * h * w), w=values(draw, w_type, c_out * kh * kw),
                zp_x=zero_point(draw, x_type), zp_w=zp_w, bias=bias, bias_kind=bias_kind, stride=(stride, stride),
                dilation=dilation, pads=pads, groups=c_in, policy="wrap", acc_bits=acc_bits,
                out_type="int32" if acc_bits == 32 else "int64")


def _direct_case(draw, kind):
    """The case a test's kind names: the register-blocked depthwise loop at stride 1 or 2, on
    channels side by side, or the u8 x s8 small-depth loop."""
    if kind == "small_depth":
        return draw(direct_case("small_depth", True))
    if kind == "channels_depthwise":
        return draw(channels_depthwise_case())
    return draw(fast_depthwise_case(2 if kind == "fast_depthwise_s2" else 1))


@st.composite
def fast_requant_case(draw, channels):
    """Mostly a requantization the register-blocked depthwise loop applies in its registers
    (RequantizePlan::register_loop, 8-bit codes, no offset): double_round
    (register_double_round_case), or fp32 in float32 with HALF_EVEN: per tensor or per channel
    scales from tiny to huge and powers of two (exact ties), zero points at the type ends, a
    Relu's clamp, the zero point added in float or after rounding; else any requant_case (the
    sums go through the sink)."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(requant_case(channels))
    if kind <= 2:  # the double-rounding register form
        return draw(register_double_round_case(channels, ("int8", "uint8")))
    rc = channels if channels > 1 and draw(st.booleans()) else 1
    dtype = draw(st.sampled_from(["uint8", "int8"]))
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    zps = [draw(st.one_of(st.sampled_from([lo, hi, max(lo, 0)]), st.integers(lo, hi)))
           for _ in range(rc if draw(st.booleans()) else 1)]
    qmin = draw(st.sampled_from([lo, max(lo, zps[0])]))  # full range, or a Relu's [zp, max]
    qmax = draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6))]))
    return dict(method="fp32", rc=rc, dtype=dtype, zps=zps, qmin=qmin, qmax=qmax, multiplier=None, shift=None,
                scale=[draw(float32_scales()) for _ in range(rc)], rounding=int(fx.RoundingMode.HALF_EVEN),
                seed=0, pf64=False, zpf=draw(st.booleans()), offset=None)


@pytest.mark.parametrize("kind", ["fast_depthwise", "fast_depthwise_s2", "channels_depthwise", "small_depth"])
@settings(max_examples=30)  # the reference conv in Python ints: up to ~0.2 s per example
@given(data=st.data())
def test_direct_sums_equal_reference(kind, data):
    """The sums of the register-blocked depthwise loops and of the u8 x s8 small-depth loop
    (written straight into an int32 output prefilled with a sentinel at acc_bits 32, else
    through the sink) equal the reference, and nothing is written past the output (the output is
    the head of a longer buffer: a loop's store of a partial vector that wrote a lane past its
    run only shows there, the lanes it wrote inside the output being rewritten later)."""
    case = _direct_case(data.draw, kind)
    want, shape = run_reference(case)
    x = np.array(case["x"], dtype=storage(case["x_type"])).reshape(case["x_shape"])
    w = np.array(case["w"], dtype=storage(case["w_type"])).reshape(case["w_shape"])
    bias = None if case["bias"] is None else np.array(case["bias"], dtype=case["bias_kind"])
    size = int(np.prod(shape))
    for isa in DIRECT_CONV_ISAS:
        buffer = np.full(size + 64, -123456789, dtype=case["out_type"])  # an output left unwritten shows
        got = buffer[:size].reshape(shape)
        with isa_variant(isa):
            _kernels.conv2d_accumulate(x, w, case["zp_x"], np.array(case["zp_w"], np.int32), bias, case["stride"],
                                       case["dilation"], case["pads"], case["groups"], "wrap", case["acc_bits"], got)
        assert got.reshape(-1).tolist() == want, isa
        assert (buffer[size:] == -123456789).all(), f"{isa}: written past the output"


@pytest.mark.parametrize("kind", ["fast_depthwise", "fast_depthwise_s2", "channels_depthwise", "small_depth"])
@settings(max_examples=40)
@given(data=st.data())
def test_in_register_requantization_equals_reference_and_unfused(kind, data):
    """The codes the register-blocked depthwise loops and the u8 x s8 small-depth loop requantize
    in their registers (RegisterCodes, fp32 or double_round; every output prefilled with 7 by
    run_conv_case) equal the reference's and accumulate-then-requantize's."""
    case = _direct_case(data.draw, kind)
    run_conv_case(case, data.draw(fast_requant_case(case["w_shape"][0])), DIRECT_CONV_ISAS)


@pytest.mark.parametrize("kind", ["fast_depthwise", "fast_depthwise_s2", "channels_depthwise", "small_depth"])
@settings(max_examples=15)
@given(data=st.data())
def test_in_register_float_add_equals_reference(kind, data):
    """The float32 register form with an add: the zero point added in float before rounding
    (nonzero, so the add is not +0.0f), which the stride-1 depthwise and small-depth loops run as
    their own compiled form (direct_conv_kernels.inc CodesForm::kFp32Add): the codes equal the
    reference's and accumulate-then-requantize's."""
    case = _direct_case(data.draw, kind)
    dtype = data.draw(st.sampled_from(["uint8", "int8"]))
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    zp = data.draw(st.integers(lo, hi).filter(lambda z: z != 0))
    r = dict(method="fp32", rc=1, dtype=dtype, zps=[zp], qmin=lo, qmax=hi, multiplier=None, shift=None,
             scale=[data.draw(float32_scales())], rounding=int(fx.RoundingMode.HALF_EVEN), seed=0, pf64=False,
             zpf=True, offset=None)
    run_conv_case(case, r, DIRECT_CONV_ISAS)


# float32 scales around the stride-1 depthwise loop's codes-clamp bound (direct_conv_kernels.inc
# fp32_clamp_in_codes: |scale| <= 0.5 clamps the codes, above it v itself): scales that spread
# the sums over the codes, 0.5 and the next float32 above it, and scales that put v past int32
SCALES_AROUND_CODES_CLAMP = st.one_of(st.sampled_from([0.5, float(np.nextafter(np.float32(0.5), np.float32(1))), 3.0,
                                                       1e6, float(np.float32(1e30))]),
                                      st.integers(-16, -4).map(lambda k: 2.0 ** k),
                                      st.floats(1e-5, 0.5).map(lambda v: float(np.float32(v))))


@st.composite
def gemm_tile_case(draw):
    """A conv the GEMM path takes with its tile epilogue (conv2d.cc finish_in_tiles: int8
    weights without a zero point, so the correction is one constant per channel): a 1x1 of depth
    33-50 (above the small-depth bound) on 1-3 rows, whose columns are consecutive outputs, or a
    3 x 3 of 4-6 channels padded by 1 (a padded plane: the epilogue drops the columns between
    output rows); 1-13 output channels (tiles of 6 rows and shorter), output widths giving whole
    and partial 64-column tiles."""
    x_type = draw(st.sampled_from(["uint8", "int8"]))
    k = draw(st.sampled_from([1, 3]))
    c_in = draw(st.integers(33, 50) if k == 1 else st.integers(4, 6))
    c_out = draw(st.sampled_from([1, 2, 5, 6, 7, 12, 13]))
    h, w = draw(st.integers(1, 3)), draw(OUTPUT_WIDTHS)
    pads = (1, 1, 1, 1) if k == 3 else (0, 0, 0, 0)
    return dict(x_type=x_type, w_type="int8", x_shape=(1, c_in, h, w), w_shape=(c_out, c_in, k, k),
                x=codes_with_extremes(draw, x_type, c_in * h * w), w=values(draw, "int8", c_out * c_in * k * k),
                zp_x=zero_point(draw, x_type), zp_w=[0], bias=None, bias_kind="int32", stride=(1, 1),
                dilation=(1, 1), pads=pads, groups=1, policy="wrap", acc_bits=32, out_type="int32")


@pytest.mark.parametrize("kind", ["fast_depthwise", "small_depth", "gemm"])
@settings(max_examples=40)
@given(data=st.data())
def test_in_register_codes_clamp_equals_reference(kind, data):
    """The float32 form that clamps the 8-bit codes after saturating steps in place of v
    (direct_conv_kernels.inc codes_clamped_in_order, for |scale| <= 0.5; no clamp where the
    bounds are the whole 8-bit range) in the stride-1 depthwise loop and in the small-depth loop
    (SmallDepthPackedCodes: four accumulators packed to 64 codes, where every channel has the same
    zero point and bounds; per-channel zero points, or a scale above the bound, take the store of
    each accumulator), and the clamp of v above that bound: codes over the whole range, a Relu's
    [zp, max], a Relu6-like band and bounds below / above every code; sums at the int32 ends
    (biases at the int32 ends, v near +-2^30 at scale 0.5, past int32 at the huge scales); zero
    points at the type ends, added in float or after rounding. Equal to the reference and to
    accumulate-then-requantize. kind "gemm": the GEMM tiles' epilogue in the same form
    (gemm_kernels.inc epilogue_row_codes_clamp, Dot4Epilogue::codes_clamp: where every channel is
    under the bound; per-channel scales, zero points and bounds, a row per channel)."""
    case = data.draw(fast_depthwise_case(1) if kind == "fast_depthwise" else
                     gemm_tile_case() if kind == "gemm" else direct_case("small_depth", True))
    c_out = case["w_shape"][0]
    case.update(acc_bits=32, out_type="int32", bias_kind="int32",
                bias=data.draw(st.lists(st.one_of(st.integers(-(1 << 31), (1 << 31) - 1),
                                                  st.sampled_from([-(1 << 31), (1 << 31) - 1, 0])),
                                        min_size=c_out, max_size=c_out)))
    dtype = data.draw(st.sampled_from(["uint8", "int8"]))
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    rc = c_out if c_out > 1 and data.draw(st.booleans()) else 1
    zps = [data.draw(st.one_of(st.sampled_from([lo, hi, max(lo, 0)]), st.integers(lo, hi)))
           for _ in range(rc if data.draw(st.booleans()) else 1)]
    qmin = data.draw(st.sampled_from([lo, max(lo, zps[0]), hi]))  # full, a Relu's, above every code but hi
    qmax = data.draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6)), qmin]))
    r = dict(method="fp32", rc=rc, dtype=dtype, zps=zps, qmin=qmin, qmax=qmax, multiplier=None, shift=None,
             scale=[data.draw(SCALES_AROUND_CODES_CLAMP) for _ in range(rc)],
             rounding=int(fx.RoundingMode.HALF_EVEN), seed=0, pf64=False, zpf=data.draw(st.booleans()), offset=None)
    run_conv_case(case, r, DIRECT_CONV_ISAS)


@pytest.mark.parametrize("scale", [0.5, float(np.nextafter(np.float32(0.5), np.float32(1))), 3.0,
                                   float(np.float32(1e30))])
@pytest.mark.parametrize("bias", [-(1 << 31), (1 << 31) - 1])
@pytest.mark.parametrize("dtype, zp", [("uint8", 0), ("uint8", 255), ("uint8", 100), ("int8", -128), ("int8", 127),
                                       ("int8", 3)])
@pytest.mark.parametrize("kind", ["fast_depthwise", "small_depth", "gemm_1x1", "gemm_3x3"])
def test_in_register_codes_clamp_at_the_int32_ends(kind, scale, bias, dtype, zp):
    """The same at its edges, every combination: sums at both int32 ends (the bias there, the
    9- or 27-tap sums around it, some wrapping past the end), scale 0.5 (v near +-2^30, saturating
    every step before the codes clamp) and the scales above the bound (v clamped), zero points at
    the type ends and inside it. The small-depth layer (3 -> 10, 3 x 3, 36 output columns) has
    blocks of 8 channels and one of 2 (the packed store and the store of each accumulator), 32
    columns and 4 (both halves, one half). The GEMM layers (tile epilogue, Dot4Epilogue::
    codes_clamp): a 1x1 40 -> 7 on 2 x 70 (two whole tiles and one of 12 columns; tiles of 4 and 3
    rows) and a 3 x 3 5 -> 7 padded (its plane's dropped columns)."""
    rng = np.random.default_rng(zp + 128)
    k = 1 if kind == "gemm_1x1" else 3
    if kind == "fast_depthwise":
        c_in, c_out, groups, h, w = 2, 2, 2, 6, 60
    elif kind == "gemm_1x1":
        c_in, c_out, groups, h, w = 40, 7, 1, 2, 70
    elif kind == "gemm_3x3":
        c_in, c_out, groups, h, w = 5, 7, 1, 3, 40
    else:
        c_in, c_out, groups, h, w = 3, 10, 1, 5, 36
    case = dict(x_type="uint8", w_type="int8", x_shape=(1, c_in, h, w), w_shape=(c_out, c_in // groups, k, k),
                x=rng.integers(0, 256, c_in * h * w).tolist(),
                w=rng.integers(-128, 128, c_out * c_in // groups * k * k).tolist(), zp_x=7, zp_w=[0],
                bias=[bias] * c_out, bias_kind="int32", stride=(1, 1), dilation=(1, 1),
                pads=(0, 0, 0, 0) if k == 1 else (1, 1, 1, 1),
                groups=groups, policy="wrap", acc_bits=32, out_type="int32")
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    r = dict(method="fp32", rc=1, dtype=dtype, zps=[zp], qmin=lo, qmax=hi, multiplier=None, shift=None,
             scale=[scale], rounding=int(fx.RoundingMode.HALF_EVEN), seed=0, pf64=False, zpf=False, offset=None)
    run_conv_case(case, r, DIRECT_CONV_ISAS)


@pytest.mark.parametrize("kind", ["depthwise", "small_depth", "fast_depthwise", "fast_depthwise_s2",
                                  "channels_depthwise"])
@settings(max_examples=25)
@given(data=st.data())
def test_packed_weights_on_the_direct_kernels(kind, data):
    """The weights packed once (PackedConvWeights, whose filter rows for the direct kernels are made
    on first use and kept: packed_weights.h FilterRows) give the reference's sums on every direct
    path, the second call of one packed object (reading the kept rows) as the first; uint8
    weights whose zero point is not 128 (rows that leave int8) keep the int16 pair loops."""
    if kind in ("depthwise", "small_depth"):
        case = data.draw(direct_case(kind, data.draw(st.booleans())))
    else:
        case = _direct_case(data.draw, kind)
    want, shape = run_reference(case)
    x = np.array(case["x"], dtype=storage(case["x_type"])).reshape(case["x_shape"])
    w = np.array(case["w"], dtype=storage(case["w_type"])).reshape(case["w_shape"])
    bias = None if case["bias"] is None else np.array(case["bias"], dtype=case["bias_kind"])
    for isa in DIRECT_CONV_ISAS:
        packed = _kernels.PackedConvWeights(w, np.array(case["zp_w"], np.int32))
        with isa_variant(isa):
            for call in range(2):
                got = np.full(shape, -7, dtype=case["out_type"])
                _kernels.conv2d_accumulate(x, packed, case["zp_x"], None, bias, case["stride"], case["dilation"],
                                           case["pads"], case["groups"], "wrap", case["acc_bits"], got)
                assert got.reshape(-1).tolist() == want, (isa, call)


@pytest.mark.parametrize("w_zp", [127, 0])  # 0: the depthwise u8 x s8 path
def test_extreme_operands_wrap_at_32_bits(w_zp):
    """Every product at its extreme ((0 - 255) * (-128 - w_zp), x_zp 255 against codes 0 and
    w = -128) and a bias at INT32_MAX: the int32 sums wrap as the reference's do."""
    for groups, w_shape in [(2, (4, 1, 3, 3)), (1, (9, 2, 3, 3))]:
        case = dict(x_type="uint8", w_type="int8", x_shape=(1, 2, 4, 40), w_shape=w_shape, x=[0] * 320,
                    w=[-128] * int(np.prod(w_shape)), zp_x=255, zp_w=[w_zp], bias=[2**31 - 1] * w_shape[0],
                    bias_kind="int64", stride=(1, 1), dilation=(1, 1), pads=(1, 1, 1, 1), groups=groups,
                    policy="wrap", acc_bits=32, out_type="int32")
        want, _ = run_reference(case)
        got = run_kernel(case).reshape(-1).tolist()
        assert got == want
        assert min(want) < 0  # INT32_MAX + a positive sum wrapped


def _exact_conv_int64(x, w, x_zp, w_zp, bias, stride, dilation, pads, groups):
    """conv2d.h's definition in numpy int64 (exact: |sum| < 2^40 here): the padded input holds x_zp,
    each tap adds a strided slice times its corrected weight."""
    n, c_in, h, wd = x.shape
    c_out, cig, kh, kw = w.shape
    (sh, sw), (dh, dw), (pt, pl, pb, pr) = stride, dilation, pads
    xp = np.full((n, c_in, h + pt + pb, wd + pl + pr), x_zp, np.int64)
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    xp -= x_zp
    oh, ow = ref.conv2d_output_size(h, wd, kh, kw, stride, dilation, pads)
    wc = w.astype(np.int64) - np.asarray(w_zp, np.int64).reshape(-1, 1, 1, 1)
    out = np.zeros((n, c_out, oh, ow), np.int64)
    cog = c_out // groups
    for g in range(groups):
        for ky in range(kh):
            for kx in range(kw):
                sl = xp[:, g * cig:(g + 1) * cig, ky * dh: ky * dh + (oh - 1) * sh + 1: sh,
                        kx * dw: kx * dw + (ow - 1) * sw + 1: sw]
                out[:, g * cog:(g + 1) * cog] += np.einsum("nchw,oc->nohw", sl, wc[g * cog:(g + 1) * cog, :, ky, kx])
    return out + np.asarray(bias, np.int64).reshape(1, -1, 1, 1)


# MobileNetV2's depthwise and first layers (bench/shapes.py), and stride / dilation variants
LAYERS = {
    "dw3x3_144_56": ((1, 144, 56, 56), (144, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 144),
    "dw3x3_32_112": ((1, 32, 112, 112), (32, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 32),
    "dw3x3s2_96_112": ((1, 96, 113, 111), (96, 1, 3, 3), (2, 2), (1, 1), (0, 0, 1, 1), 96),
    "dw3x3s2_144_56": ((1, 144, 56, 56), (144, 1, 3, 3), (2, 2), (1, 1), (0, 0, 1, 1), 144),
    "dw3x3s2_16rows_w30": ((1, 4, 33, 60), (4, 1, 3, 3), (2, 2), (1, 1), (1, 1, 0, 0), 4),
    "dw5x5s2_dilated_w_odd": ((1, 8, 37, 45), (8, 1, 5, 5), (2, 2), (1, 2), (2, 1, 2, 3), 8),
    "dw5x5_mult2_dilated": ((2, 8, 30, 47), (16, 1, 5, 5), (1, 2), (2, 1), (3, 2, 1, 4), 8),
    "dw5x5_mult2_s1_dilated_w": ((1, 6, 21, 70), (12, 1, 5, 5), (1, 1), (1, 2), (2, 4, 1, 3), 6),
    # input rows of exactly 64 and 128 bytes: the padded-plane copy's whole 64-byte moves with no
    # tail (copy_rows_u8's masked move of 0 bytes)
    "dw3x3_8_6x128": ((1, 8, 6, 128), (8, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 8),
    "dw3x3s2_4_9x64": ((2, 4, 9, 64), (4, 1, 3, 3), (2, 2), (1, 1), (0, 1, 1, 0), 4),
    # narrow planes: their channels side by side for the register-blocked loop (direct_conv2d.cc
    # PackedChannels; lanes of 16 columns: MobileNetV2's 14 x 14, 8: its 7 x 7, 16: a 5 x 5 filter
    # dilated along the width, asymmetric pads at batch 2; 32: 28 x 28 with 5 x 5 filters; 16: 7 x 7
    # 5 x 5 with a multiplier; 8: 13 channels, a last plane of 5 channels: on avx2, whose loop runs
    # each 32-column half of a plane, a second half of one channel)
    "dw3x3_96_14": ((1, 96, 14, 14), (96, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 96),
    "dw3x3_40_7": ((1, 40, 7, 7), (40, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 40),
    "dw5x5_mult2_13x11_dilated_w": ((1, 6, 13, 11), (12, 1, 5, 5), (1, 1), (1, 2), (2, 4, 2, 4), 6),
    "dw3x3_24_10x12_pads": ((2, 24, 10, 12), (24, 1, 3, 3), (1, 1), (1, 1), (0, 2, 1, 0), 24),
    "dw5x5_26_28": ((1, 26, 28, 28), (26, 1, 5, 5), (1, 1), (1, 1), (2, 2, 2, 2), 26),
    "dw5x5_mult2_7_odd": ((1, 13, 7, 7), (26, 1, 5, 5), (1, 1), (1, 1), (2, 2, 2, 2), 13),
    "dw3x3_13_7": ((2, 13, 7, 7), (13, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 13),
    # and at stride 2: MobileNetV2's 14 -> 7 (lanes of 8 outputs, 16 inputs), a 5 x 5 28 -> 14 with
    # EfficientNet's pads (16 / 32), and 30 -> 14 dilated along the width (16 / 32)
    "dw3x3s2_20_14": ((1, 20, 14, 14), (20, 1, 3, 3), (2, 2), (1, 1), (0, 0, 1, 1), 20),
    "dw5x5s2_10_28": ((1, 10, 28, 28), (10, 1, 5, 5), (2, 2), (1, 1), (1, 1, 2, 2), 10),
    "dw3x3s2_mult2_5_9x30_dilated_w": ((1, 5, 9, 30), (10, 1, 3, 3), (2, 2), (1, 2), (0, 1, 0, 1), 5),
    "first_3x3s2_3x32_224": ((1, 3, 224, 224), (32, 3, 3, 3), (2, 2), (1, 1), (0, 0, 1, 1), 1),
    # one input channel with a multiplier (groups 1 == C_in) goes to the GEMM (10x4: past the
    # small-depth taps) or the small-depth kernel, not the depthwise planes (direct_conv2d.cc
    # depthwise_conv2d_applies): keyword spotting's first layer, 5-column output rows (the fused
    # codes copied out run by run, conv2d.cc finish_in_tiles), and a 3x3 one
    "kws_10x4s2_1x64": ((1, 1, 49, 10), (64, 1, 10, 4), (2, 2), (1, 1), (4, 1, 5, 1), 1),
    "gray_3x3_1x24_30": ((1, 1, 30, 33), (24, 1, 3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),
    "small_depth_dilated_c19": ((2, 2, 41, 67), (19, 2, 2, 3), (1, 3), (2, 1), (1, 0, 2, 2), 1),
    # 72 output channels: two passes of the small-depth loop (64 + 8); KW 5: filter rows in two
    # tap words, the first full (no kw = 3 pairing without VNNI)
    "small_depth_3x5_c72": ((1, 2, 37, 75), (72, 2, 3, 5), (1, 1), (1, 1), (1, 2, 1, 2), 1),
    # 138 output columns: a chunk of 4 blocks of 32 and a second of one 10-column block; 13
    # channels: a block of 8 and 5 on their own
    "small_depth_3x13_138": ((1, 3, 20, 275), (13, 3, 3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 1),
}


def _layer_operands(name, x_type=np.uint8, w_type=np.int8, int8_weights=False):
    x_shape, w_shape, stride, dilation, pads, groups = LAYERS[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    x = rng.integers(np.iinfo(x_type).min, np.iinfo(x_type).max + 1, size=x_shape).astype(x_type)
    w = rng.integers(np.iinfo(w_type).min, np.iinfo(w_type).max + 1, size=w_shape).astype(w_type)
    x.flat[::37] = np.iinfo(x_type).min
    w.flat[::11] = np.iinfo(w_type).max
    w_zp = rng.integers(np.iinfo(w_type).min, np.iinfo(w_type).max + 1, size=w_shape[0]).astype(np.int32)
    if int8_weights:  # w - w_zp within int8: the depthwise u8 x s8 path
        w_zp[:] = 0 if w_type == np.int8 else 128
    bias = rng.integers(-(1 << 20), 1 << 20, size=w_shape[0]).astype(np.int32)
    x_zp = int(np.iinfo(x_type).max)
    return x, w, x_zp, w_zp, bias, stride, dilation, pads, groups


@pytest.mark.parametrize("int8_weights", [False, True])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_network_layers_equal_exact_int64_model(name, int8_weights):
    x, w, x_zp, w_zp, bias, stride, dilation, pads, groups = _layer_operands(name, int8_weights=int8_weights)
    want = _exact_conv_int64(x, w, x_zp, w_zp, bias, stride, dilation, pads, groups)
    for isa in DIRECT_CONV_ISAS:
        out = np.empty(want.shape, np.int64)
        with isa_variant(isa):
            _kernels.conv2d_accumulate(x, w, x_zp, w_zp, bias, stride, dilation, pads, groups, "wrap", 64, out)
        assert np.array_equal(out, want), isa


def test_network_layer_equals_reference_on_a_corner():
    """The first conv's top-left 9 x 40 outputs through the pure-Python reference (a full layer
    in Python ints takes too long): the same values as the kernel on the whole layer."""
    x, w, x_zp, w_zp, bias, stride, dilation, pads, groups = _layer_operands("first_3x3s2_3x32_224")
    out = np.empty((1, 32, 112, 112), np.int32)
    _kernels.conv2d_accumulate(x, w, x_zp, w_zp, bias, stride, dilation, pads, groups, "wrap", 32, out)
    xs = x[:, :, :19, :81]  # rows 0..18, columns 0..80 feed outputs oy < 9, ox < 40 (no bottom/right pad)
    want, shape = ref.conv2d_accumulate(xs.ravel().tolist(), xs.shape, w.ravel().tolist(), w.shape, x_zp,
                                        w_zp.tolist(), bias.tolist(), stride, dilation, (0, 0, 0, 0), groups,
                                        "wrap", 32)
    assert np.array_equal(out[:, :, :9, :40], np.array(want, np.int64).reshape(shape))


def _calls():
    """Accumulators and fused codes (power-of-two requantization with stochastic rounding: each
    draw depends on the output's flat index; and per-channel fp32 HALF_EVEN and double_round,
    which the register-blocked depthwise loops and the small-depth loop apply in their registers)
    of the layers below with s8 activations and u8 weights."""
    calls = {}
    for name, int8_weights in [("dw3x3_144_56", True), ("dw5x5_mult2_s1_dilated_w", True),
                               ("dw3x3s2_144_56", True), ("dw3x3s2_16rows_w30", True),
                               ("dw5x5s2_dilated_w_odd", True), ("dw3x3_96_14", True), ("dw3x3_40_7", True),
                               ("dw5x5_mult2_13x11_dilated_w", True), ("dw3x3_24_10x12_pads", True),
                               ("dw3x3_24_10x12_pads", False),
                               ("dw5x5_26_28", True), ("dw5x5_mult2_7_odd", True), ("dw3x3_13_7", True),
                               ("dw3x3s2_20_14", True), ("dw5x5s2_10_28", True),
                               ("dw3x3s2_mult2_5_9x30_dilated_w", True),
                               ("dw3x3s2_96_112", False), ("dw3x3s2_96_112", True), ("dw5x5_mult2_dilated", False),
                               ("dw5x5_mult2_dilated", True), ("first_3x3s2_3x32_224", False),
                               ("first_3x3s2_3x32_224", True), ("kws_10x4s2_1x64", True),
                               ("gray_3x3_1x24_30", True), ("small_depth_dilated_c19", False),
                               ("small_depth_dilated_c19", True), ("small_depth_3x5_c72", True),
                               ("small_depth_3x13_138", True), ("small_depth_3x13_138", False)]:
        x, w, x_zp, w_zp, bias, stride, dilation, pads, groups = _layer_operands(name, np.int8, np.uint8, int8_weights)
        name += "_int8_weights" if int8_weights else ""
        oh, ow = ref.conv2d_output_size(x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, dilation, pads)
        shape = (x.shape[0], w.shape[0], oh, ow)
        args = (x, w, x_zp, w_zp, bias, stride, dilation, pads, groups, "wrap", 32)

        def accumulate(args=args, shape=shape):
            out = np.empty(shape, np.int32)
            _kernels.conv2d_accumulate(*args, out)
            return out

        def fused_stochastic(args=args, shape=shape):
            out = np.empty(shape, np.int8)
            _kernels.conv2d_requantize(*args, acc_offset=None, method="power_of_two", multiplier=None,
                                       shift=np.full(shape[1], -11, np.int32), scale=None,
                                       zero_point=np.array([3], np.int32), qmin=-128, qmax=127,
                                       rounding=int(fx.RoundingMode.STOCHASTIC), seed=99, product_in_float64=False,
                                       zero_point_in_float=False, out=out)
            return out

        def fused_fp32(args=args, shape=shape):
            out = np.full(shape, 7, np.uint8)
            scale = np.float32(2.0 ** -14) * (1 + np.arange(shape[1], dtype=np.float32) / 64)  # ties at 2^-14
            _kernels.conv2d_requantize(*args, acc_offset=None, method="fp32", multiplier=None, shift=None,
                                       scale=scale.astype(np.float32), zero_point=np.array([128], np.int32), qmin=0,
                                       qmax=255, rounding=int(fx.RoundingMode.HALF_EVEN), seed=0,
                                       product_in_float64=False, zero_point_in_float=False, out=out)
            return out

        def fused_double_round(args=args, shape=shape):
            # per channel: a half multiplier at right shifts 10..13 (ties of the final shift), the
            # corners INT32_MIN, negative and INT32_MAX, both shift ends; a Relu6-like clamp
            out = np.full(shape, 7, np.int8)
            corners = [(1 << 30, -10), (1 << 30, -11), (-(1 << 31), 0), (-(1 << 30), -12), ((1 << 31) - 1, -31),
                       (1518500250, -13), (1 << 30, 31)]
            mult = np.array([corners[c % len(corners)][0] for c in range(shape[1])], np.int32)
            shift = np.array([corners[c % len(corners)][1] for c in range(shape[1])], np.int32)
            _kernels.conv2d_requantize(*args, acc_offset=None, method="double_round", multiplier=mult, shift=shift,
                                       scale=None, zero_point=np.array([-128], np.int32), qmin=-128, qmax=-128 + 96,
                                       rounding=int(fx.RoundingMode.HALF_AWAY), seed=0, product_in_float64=False,
                                       zero_point_in_float=False, out=out)
            return out

        calls[name + "_accumulate"] = accumulate
        calls[name + "_fused_stochastic"] = fused_stochastic
        calls[name + "_fused_fp32"] = fused_fp32
        calls[name + "_fused_double_round"] = fused_double_round
    return calls


def test_every_isa_and_thread_count_is_bit_identical(restore_kernels):
    assert_isa_and_thread_identical(_calls())
