"""Conv2D accumulators (csrc/fxsim/kernels/conv2d.h via _kernels.conv2d_accumulate) equal the
exact reference (fxsim/reference/conv2d.py) with ``==``, for every element type and policy.

Drawn: small NCHW shapes, strides, dilations, asymmetric pads, groups (regular, grouped,
depthwise with a depth multiplier), zero points at the ends of the element ranges, per-tensor
or per-channel weight zero points, int32/int64 bias, operand values at the type extremes (so
int16 operands overflow 32-bit accumulators and the order-dependent policies differ). Then:
every ISA variant and thread count bit-identical on a larger layer, an end-to-end check through
fx.requantize, and bad arguments raising FxsimError subclasses.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.errors import FxsimError, KernelError, OverflowRangeError
from fxsim.reference import conv2d as ref
from fxsim.reference import requantize as ref_requant
from kernel_helpers import (assert_isa_and_thread_identical, bias_values, codes_with_extremes, storage,
                            type_range, values)


X_TYPES = ["uint8", "int8", "uint16", "int16"]
W_TYPES = ["int8", "uint8", "int16", "int4"]  # int4: values in [-8, 7] held in int8
POLICIES = ["wrap", "saturate", "raise", "pair_saturate_16", "raw_pair_saturate_16"]




@st.composite
def conv_case(draw, fast_path=False):
    """A conv call; fast_path: 8-bit operands and WRAP (the vectorized path), stride 1 half the time."""
    x_type = draw(st.sampled_from(X_TYPES[:2] if fast_path else X_TYPES))
    w_type = draw(st.sampled_from(["int8", "uint8", "int4"] if fast_path else W_TYPES))
    kind = draw(st.sampled_from(["regular", "grouped", "depthwise"]))
    if kind == "regular":
        groups, c_in, c_out = 1, draw(st.integers(1, 3)), draw(st.integers(1, 3))
    elif kind == "grouped":
        groups = draw(st.integers(2, 3))
        c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    else:
        c_in = groups = draw(st.integers(1, 3))
        c_out = c_in * draw(st.integers(1, 3))  # depth multiplier
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (1, 1) if fast_path and draw(st.booleans()) else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    # input at least as large as the dilated kernel minus the pads (output size >= 1)
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - pads[0] - pads[2]), 6))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - pads[1] - pads[3]), 6))
    n = draw(st.integers(1, 2))
    x_lo, x_hi = type_range(x_type)
    w_lo, w_hi = type_range(w_type)
    zp_x = draw(st.one_of(st.sampled_from([x_lo, x_hi, 0 if x_lo <= 0 else x_lo]), st.integers(x_lo, x_hi)))
    per_channel = draw(st.booleans())
    zp_w = [draw(st.one_of(st.sampled_from([w_lo, w_hi, 0 if w_lo <= 0 else w_lo]), st.integers(w_lo, w_hi)))
            for _ in range(c_out if per_channel else 1)]
    bias, bias_kind = bias_values(draw, c_out)
    x = values(draw, x_type, n * c_in * h * w)
    wv = values(draw, w_type, c_out * (c_in // groups) * kh * kw)
    policy = "wrap" if fast_path else draw(st.sampled_from(POLICIES))
    acc_bits = draw(st.sampled_from([32, 48, 64]))
    out_type = "int32" if acc_bits == 32 and draw(st.booleans()) else "int64"
    return dict(x_type=x_type, w_type=w_type, x_shape=(n, c_in, h, w), w_shape=(c_out, c_in // groups, kh, kw),
                x=x, w=wv, zp_x=zp_x, zp_w=zp_w, bias=bias, bias_kind=bias_kind, stride=stride,
                dilation=dilation, pads=pads, groups=groups, policy=policy, acc_bits=acc_bits, out_type=out_type)


def run_kernel(c):
    x = np.array(c["x"], dtype=storage(c["x_type"])).reshape(c["x_shape"])
    w = np.array(c["w"], dtype=storage(c["w_type"])).reshape(c["w_shape"])
    oh, ow = ref.conv2d_output_size(c["x_shape"][2], c["x_shape"][3], c["w_shape"][2], c["w_shape"][3],
                                    c["stride"], c["dilation"], c["pads"])
    out = np.zeros((c["x_shape"][0], c["w_shape"][0], oh, ow), dtype=c["out_type"])
    bias = None if c["bias"] is None else np.array(c["bias"], dtype=c["bias_kind"])
    _kernels.conv2d_accumulate(x, w, c["zp_x"], np.array(c["zp_w"], np.int32), bias, c["stride"], c["dilation"],
                               c["pads"], c["groups"], c["policy"], c["acc_bits"], out)
    return out


def run_reference(c):
    return ref.conv2d_accumulate(c["x"], c["x_shape"], c["w"], c["w_shape"], c["zp_x"], c["zp_w"], c["bias"],
                                 c["stride"], c["dilation"], c["pads"], c["groups"], c["policy"], c["acc_bits"])


@given(case=conv_case())
def test_conv2d_equals_reference(case):
    try:
        want, shape = run_reference(case)
    except OverflowError as e:  # policy "raise": the same first index
        index = str(e).split(" (")[0]
        with pytest.raises(OverflowRangeError, match=index + " "):
            run_kernel(case)
        return
    got = run_kernel(case)
    assert got.shape == shape
    assert got.reshape(-1).tolist() == want


@given(case=conv_case(fast_path=True))
def test_conv2d_wrap_fast_path_equals_reference(case):
    want, shape = run_reference(case)
    assert run_kernel(case).reshape(-1).tolist() == want


@st.composite
def pointwise_strided_case(draw):
    """A 1x1 conv with a stride and no padding on 8-bit operands under WRAP (conv2d.cc gathers
    its strided columns into the stride-1 GEMM's words, Interleave4StridedFn): strides 1-3 by
    1-5 (not both 1; stride_w 5 takes the plain loop), input sizes odd and even (0 to stride - 1
    columns / rows past the last one read), output widths inside and across the gather's 16-word
    runs, channels per group past the small-depth kernel's 32 (groups 1) or grouped (2-3 groups
    of 2-9: partial and whole channel quads), zero points at the range ends, per-channel weight
    zero points, biases at the int32/int64 ends, acc_bits 32/48/64."""
    x_type = draw(st.sampled_from(["uint8", "int8"]))
    w_type = draw(st.sampled_from(["int8", "uint8", "int4"]))
    if draw(st.booleans()):
        groups, cig = 1, draw(st.integers(33, 38))
    else:
        groups, cig = draw(st.integers(2, 3)), draw(st.integers(2, 9))
    c_in, c_out = groups * cig, groups * draw(st.integers(1, 3))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 5)).filter(lambda s: s != (1, 1)))
    oh, ow = draw(st.integers(1, 3)), draw(st.one_of(st.integers(1, 4), st.integers(15, 18), st.integers(31, 34)))
    h = (oh - 1) * stride[0] + 1 + draw(st.integers(0, stride[0] - 1))
    w = (ow - 1) * stride[1] + 1 + draw(st.integers(0, stride[1] - 1))
    n = draw(st.integers(1, 2))
    zp_x = draw(st.one_of(st.sampled_from(list(type_range(x_type))), st.integers(*type_range(x_type))))
    w_lo, w_hi = type_range(w_type)
    zp_w = [draw(st.one_of(st.sampled_from([w_lo, w_hi, 0]), st.integers(w_lo, w_hi)))
            for _ in range(c_out if draw(st.booleans()) else 1)]
    bias, bias_kind = bias_values(draw, c_out)
    acc_bits = draw(st.sampled_from([32, 48, 64]))
    return dict(x_type=x_type, w_type=w_type, x_shape=(n, c_in, h, w), w_shape=(c_out, cig, 1, 1),
                x=codes_with_extremes(draw, x_type, n * c_in * h * w), w=values(draw, w_type, c_out * cig), zp_x=zp_x,
                zp_w=zp_w, bias=bias, bias_kind=bias_kind, stride=stride, dilation=(1, 1), pads=(0, 0, 0, 0),
                groups=groups, policy="wrap", acc_bits=acc_bits,
                out_type="int32" if acc_bits == 32 and draw(st.booleans()) else "int64")


@settings(max_examples=60)
@given(case=pointwise_strided_case())
def test_pointwise_strided_equals_reference(case):
    want, shape = run_reference(case)
    got = run_kernel(case)
    assert got.shape == shape
    assert got.reshape(-1).tolist() == want


# Fixed cases where the policies must disagree: int16 extremes overflow int32 after 2 products.
def test_policies_differ_on_int16_overflow():
    x = np.full((1, 4, 1, 1), -32768, np.int16)
    w = np.full((1, 4, 1, 1), -32768, np.int16)
    case = dict(x_type="int16", w_type="int16", x_shape=(1, 4, 1, 1), w_shape=(1, 4, 1, 1), x=x.ravel().tolist(),
                w=w.ravel().tolist(), zp_x=0, zp_w=[0], bias=None, bias_kind=None, stride=(1, 1),
                dilation=(1, 1), pads=(0, 0, 0, 0), groups=1, acc_bits=32, out_type="int64")
    results = {}
    for policy in ["wrap", "saturate", "pair_saturate_16"]:
        case["policy"] = policy
        results[policy] = int(run_kernel(case).ravel()[0])
        assert results[policy] == run_reference(case)[0][0]
    assert results == {"wrap": 0, "saturate": 2**31 - 1, "pair_saturate_16": 4 * 32767 // 2}  # 2 pairs of 32767
    case["policy"] = "raise"
    with pytest.raises(OverflowRangeError, match="output index 0 "):
        run_kernel(case)


def _layer(rng, x_type, w_type, x_shape, w_shape, groups, stride, pads, policy="wrap", acc_bits=32):
    x = rng.integers(*(np.iinfo(x_type).min, np.iinfo(x_type).max + 1), size=x_shape).astype(x_type)
    w = rng.integers(*(np.iinfo(w_type).min, np.iinfo(w_type).max + 1), size=w_shape).astype(w_type)
    zp = rng.integers(np.iinfo(w_type).min, np.iinfo(w_type).max + 1, size=w_shape[0]).astype(np.int32)
    bias = rng.integers(-(1 << 20), 1 << 20, size=w_shape[0]).astype(np.int32)
    oh, ow = ref.conv2d_output_size(x_shape[2], x_shape[3], w_shape[2], w_shape[3], stride, (1, 1), pads)
    out_dtype = np.int32 if acc_bits == 32 else np.int64

    def call():
        out = np.empty((x_shape[0], w_shape[0], oh, ow), out_dtype)
        _kernels.conv2d_accumulate(x, w, int(np.iinfo(x_type).max // 2), zp, bias, stride, (1, 1), pads, groups,
                                   policy, acc_bits, out)
        return out
    return call


def test_every_isa_and_thread_count_is_bit_identical(restore_kernels):
    rng = np.random.default_rng(3)
    calls = {
        "dense_3x3": _layer(rng, np.uint8, np.int8, (2, 16, 20, 19), (24, 16, 3, 3), 1, (1, 1), (1, 1, 1, 1)),
        "stride2_asym": _layer(rng, np.int8, np.uint8, (1, 8, 33, 31), (16, 8, 3, 3), 1, (2, 2), (0, 0, 1, 1)),
        "depthwise_mult2": _layer(rng, np.uint8, np.int8, (1, 32, 40, 40), (64, 1, 3, 3), 32, (1, 1), (1, 1, 1, 1)),
        "grouped_acc64": _layer(rng, np.uint8, np.int8, (1, 16, 24, 24), (16, 4, 3, 3), 4, (1, 1), (1, 2, 0, 1),
                                acc_bits=64),
        # 1x1 at stride 1 without padding (the dense GEMM path's stride-1 column chunks): a partial
        # channel quad (38 and 10 channels per group; 38 > kSmallConvDepth keeps the
        # ungrouped one off the small-depth kernel), a plane of 667 columns (not a multiple of the
        # 256-column task), batch 2, signed activations (the 0x80 flip)
        "pointwise_1x1": _layer(rng, np.uint8, np.int8, (2, 38, 23, 29), (24, 38, 1, 1), 1, (1, 1), (0, 0, 0, 0)),
        "pointwise_1x1_grouped_s8": _layer(rng, np.int8, np.uint8, (2, 20, 23, 29), (24, 10, 1, 1), 2, (1, 1),
                                           (0, 0, 0, 0)),
        # a strided 1x1 without padding (its columns gathered in each GEMM task): stride 2 on an
        # odd plane with a partial channel quad, 3 x 4 grouped on s8, 1 x 5 (the plain loop)
        "pointwise_1x1_s2": _layer(rng, np.uint8, np.int8, (2, 38, 23, 29), (24, 38, 1, 1), 1, (2, 2), (0, 0, 0, 0)),
        "pointwise_1x1_s3x4_grouped_s8": _layer(rng, np.int8, np.uint8, (1, 20, 23, 131), (24, 10, 1, 1), 2, (3, 4),
                                                (0, 0, 0, 0)),
        "pointwise_1x1_s1x5": _layer(rng, np.uint8, np.int8, (1, 36, 5, 81), (8, 36, 1, 1), 1, (1, 5), (0, 0, 0, 0)),
        "int16_saturate": _layer(rng, np.int16, np.int16, (1, 8, 24, 24), (8, 8, 3, 3), 1, (1, 1), (1, 1, 1, 1),
                                 policy="saturate"),
    }
    assert_isa_and_thread_identical(calls)


@pytest.mark.parametrize("stride", [(2, 1), (1, 1), (1, 2)])
def test_fast_path_equals_reference_on_a_wider_layer(restore_kernels, stride):
    """The WRAP fast path (8-bit operands) on a layer wider than hypothesis draws: full 64-column
    register tiles (stride 1 computes a whole output plane as one GEMM), every ISA variant."""
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, size=(1, 5, 9, 30)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(6, 5, 3, 3)).astype(np.int8)
    zp = np.array([-128, 127, 0, 5, -7, 100], np.int32)
    oh, ow = ref.conv2d_output_size(9, 30, 3, 3, stride, (1, 2), (1, 2, 1, 2))
    want, _ = ref.conv2d_accumulate(x.ravel().tolist(), x.shape, w.ravel().tolist(), w.shape, 255, zp.tolist(), None,
                                    stride, (1, 2), (1, 2, 1, 2), 1, "wrap", 32)
    for isa in _kernels.available_isas():
        _kernels.set_isa(isa)
        out = np.empty((1, 6, oh, ow), np.int32)
        _kernels.conv2d_accumulate(x, w, 255, zp, None, stride, (1, 2), (1, 2, 1, 2), 1, "wrap", 32, out)
        assert out.ravel().tolist() == want, isa


def test_conv_then_requantize_end_to_end():
    """conv accumulate + fx.requantize per channel (axis 1) == the reference of both steps."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(1, 4, 6, 6)).astype(np.uint8)
    w = rng.integers(-127, 128, size=(3, 4, 3, 3)).astype(np.int8)
    bias = rng.integers(-5000, 5000, size=3).astype(np.int32)
    acc = np.empty((1, 3, 6, 6), np.int32)
    _kernels.conv2d_accumulate(x, w, 128, np.zeros(1, np.int32), bias, (1, 1), (1, 1), (1, 1, 1, 1), 1, "wrap", 32,
                               acc)
    scales = [0.0021, 0.00093, 0.0047]
    got = fx.requantize(acc, scales, fx.Requant.DOUBLE_ROUND, zero_point=-3, axis=1)
    want_acc, _ = ref.conv2d_accumulate(x.ravel().tolist(), x.shape, w.ravel().tolist(), w.shape, 128, [0],
                                        bias.tolist(), (1, 1), (1, 1), (1, 1, 1, 1), 1, "wrap", 32)
    mults = [fx.quantize_multiplier(s) for s in scales]
    want = [ref_requant.requantize_double_round(a, mults[i // 36].value, mults[i // 36].shift, -3, -128, 127)
            for i, a in enumerate(want_acc)]
    assert got.reshape(-1).tolist() == want


def _args(**over):
    base = dict(x=np.zeros((1, 4, 5, 5), np.uint8), w=np.zeros((2, 4, 3, 3), np.int8), x_zero_point=0,
                w_zero_point=np.zeros(1, np.int32), bias=None, stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0),
                groups=1, policy="wrap", acc_bits=32, out=np.zeros((1, 2, 3, 3), np.int32))
    base.update(over)
    return base


@pytest.mark.parametrize("over, needle", [
    (dict(w=np.zeros((2, 3, 3, 3), np.int8)), "input channels"),
    (dict(groups=3), "groups = 3 does not divide C_in"),
    (dict(w=np.zeros((3, 2, 3, 3), np.int8), groups=2, out=np.zeros((1, 3, 3, 3), np.int32)), "does not divide C_out"),
    (dict(x=np.zeros((1, 4, 5, 5), np.float32)), "x must be"),
    (dict(w=np.zeros((2, 4, 3, 3), np.float64)), "w must be"),
    (dict(out=np.zeros((1, 2, 3, 3), np.float32)), "out must be an int32 or int64"),
    # the other byte order: its int32 values cannot be written in place (dtype read from the descriptor)
    (dict(out=np.zeros((1, 2, 3, 3), np.dtype(np.int32).newbyteorder())), "out must be an int32 or int64"),
    (dict(bias=np.zeros(2, np.dtype(np.int32).newbyteorder())), "bias must be an int32 or int64"),
    (dict(out=np.zeros((1, 2, 3, 4), np.int32)), "out must have shape"),
    (dict(x_zero_point=256), "x_zero_point = 256"),
    (dict(w_zero_point=np.array([128], np.int32)), "w_zero_point = 128"),
    (dict(w_zero_point=np.zeros(3, np.int32)), "zero_point must have 1 or 2"),
    (dict(stride=(0, 1)), "stride_h"),
    (dict(dilation=(1, 0)), "dilation_w"),
    (dict(pads=(0, -1, 0, 0)), "pad_left"),
    (dict(w=np.zeros((2, 4, 7, 3), np.int8)), "output size < 1"),
    (dict(bias=np.zeros(3, np.int32)), "bias must have 2"),
    (dict(bias=np.zeros(2, np.float32)), "bias must be an int32 or int64"),
    (dict(policy="clip"), "policy must be"),
    (dict(acc_bits=40), "acc_bits must be 32, 48 or 64"),
    (dict(acc_bits=64), "out is int32 but acc_bits is 64"),
])
def test_bad_arguments(over, needle):
    with pytest.raises(KernelError, match=needle) as info:
        _kernels.conv2d_accumulate(**_args(**over))
    assert isinstance(info.value, FxsimError)
    assert str(info.value).startswith("conv2d_accumulate: ")


def test_raw_pair_saturate_16_depthwise_pairs_filter_taps():
    # FBGEMM's depthwise kernels (one input channel per group) pair adjacent filter taps of the raw
    # codes, row-major over the window, an odd last tap alone, padded positions holding x_zp
    # (measured on PyTorch 2.13, tests/oracles/test_pytorch_golden.py). 3x3 taps of 255 * 127 on a
    # 1x1 input with pads 1: the centre tap is inside, the other 8 are padding (x = x_zp).
    x_zp, w_zp = 200, 3
    w = np.full((2, 1, 3, 3), 127, np.int8)
    case = dict(x_type="uint8", w_type="int8", x_shape=(1, 2, 1, 1), w_shape=(2, 1, 3, 3), x=[255, 255],
                w=w.ravel().tolist(), zp_x=x_zp, zp_w=[w_zp], bias=None, bias_kind=None, stride=(1, 1),
                dilation=(1, 1), pads=(1, 1, 1, 1), groups=2, policy="raw_pair_saturate_16", acc_bits=32,
                out_type="int32")
    taps = [x_zp * 127] * 4 + [255 * 127] + [x_zp * 127] * 4  # row-major taps, centre inside
    pairs = sum(max(-32768, min(32767, sum(taps[i:i + 2]))) for i in range(0, 9, 2))
    want = pairs + (255 - x_zp) * (127 - w_zp) - sum(taps)  # exact zero-point terms
    assert pairs < sum(taps)  # the pairs (25400 + 25400, 25400 + 32385) saturate
    got = run_kernel(case)
    assert got.ravel().tolist() == [want, want] == run_reference(case)[0]
    case["policy"] = "pair_saturate_16"  # corrected products: 0 at the pads, no pair saturates
    assert run_kernel(case).ravel().tolist() == [(255 - x_zp) * (127 - w_zp)] * 2


def test_explicit_native_byte_order_is_accepted():
    # '<i4' / '>i4' spelled out for this machine's own order is the native dtype: taken as int32
    native = np.dtype("<i4") if np.little_endian else np.dtype(">i4")
    out = np.zeros((1, 2, 3, 3), native)
    ref_out = np.zeros((1, 2, 3, 3), np.int32)
    x = np.arange(100, dtype=np.uint8).reshape(1, 4, 5, 5)
    _kernels.conv2d_accumulate(**_args(x=x, w=np.ones((2, 4, 3, 3), np.int8), out=out))
    _kernels.conv2d_accumulate(**_args(x=x, w=np.ones((2, 4, 3, 3), np.int8), out=ref_out))
    assert out.tolist() == ref_out.tolist() and int(ref_out.sum()) > 0
