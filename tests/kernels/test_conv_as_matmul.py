"""Narrow-plane convolutions computed as a matmul with the pixels as its rows
(csrc/fxsim/kernels/conv2d.cc conv_as_matmul: the input moved channels-last by 16 x 16 byte-block
transposes (transpose.h), each pixel's window one row of A, PackedConvWeights::as_matmul as B, the
[pixels, C_out] outputs transposed back to NCHW) equal the exact int64 model and the array-weights
call (which never takes this route: it needs the packed object's codes) with ``==``.

The route is taken on the SIMD variants (avx2, avx512bw, avx512vnni) for packed weights, one
group, C_in a multiple of 4, WRAP at 32 bits, a window of more than one tap, no stochastic
rounding and no accumulator offset, where the conv's 64-column tiles would keep at least 10% fewer
of their columns than the matmul's (conv_as_matmul_applies); the layers below are drawn so (C_out
64 or 128, output planes up to 8 x 8, strides, dilations and pads on each side, batches of 2: the
last rows of the channels-last plane, the windows' runs and the transposes' 16 x 16 blocks and
edges). Elsewhere the same calls run the tiled GEMM, and must agree all the same.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.reference import conv2d as ref
from kernel_helpers import DIRECT_CONV_ISAS, isa_variant
from test_direct_conv2d_vs_reference import _exact_conv_int64


def exact_conv(x, w, x_zp, w_zp, bias, stride, dilation, pads):
    """conv2d.h's definition in numpy int64, one group."""
    return _exact_conv_int64(x, w, x_zp, w_zp, bias, stride, dilation, pads, 1)


@st.composite
def narrow_conv(draw):
    x_type = draw(st.sampled_from([np.uint8, np.int8]))
    w_type = draw(st.sampled_from([np.int8, np.uint8]))
    n, c_in, c_out = draw(st.integers(1, 2)), 4 * draw(st.integers(1, 5)), draw(st.sampled_from([64, 128]))
    # (1 x 1: as a matmul on planes of at most 25 pixels, conv2d.cc kFewPixels; larger ones not)
    kh, kw = draw(st.sampled_from([(3, 3), (1, 7), (7, 1), (2, 3), (3, 1), (5, 5), (1, 1), (1, 1)]))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(4))
    oh, ow = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    h = max(1, (oh - 1) * stride[0] + dilation[0] * (kh - 1) + 1 - pads[0] - pads[2])
    w = max(1, (ow - 1) * stride[1] + dilation[1] * (kw - 1) + 1 - pads[1] - pads[3])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xi, wi = np.iinfo(x_type), np.iinfo(w_type)
    x = rng.integers(xi.min, xi.max + 1, (n, c_in, h, w)).astype(x_type)
    x.flat[:: draw(st.integers(2, 9))] = draw(st.sampled_from([xi.min, xi.max]))  # codes at the ends
    wt = rng.integers(wi.min, wi.max + 1, (c_out, c_in, kh, kw)).astype(w_type)
    x_zp = int(draw(st.sampled_from([xi.min, xi.max, 0 if x_type == np.int8 else 128, 3])))
    per_channel = draw(st.booleans())
    w_zp = rng.integers(wi.min, wi.max + 1, c_out if per_channel else 1).astype(np.int32)
    if draw(st.booleans()):
        w_zp[:] = 0 if w_type == np.int8 else 128
    bias = rng.integers(-(1 << 20), 1 << 20, c_out).astype(np.int32) if draw(st.booleans()) else None
    return dict(x=x, w=wt, x_zp=x_zp, w_zp=w_zp, bias=bias, stride=stride, dilation=dilation, pads=pads)


def _requantize(c, w, w_zp, method, out_type, rng):
    c_out = c["w"].shape[0]
    oh, ow = ref.conv2d_output_size(c["x"].shape[2], c["x"].shape[3], c["w"].shape[2], c["w"].shape[3], c["stride"],
                                    c["dilation"], c["pads"])
    out = np.full((c["x"].shape[0], c_out, oh, ow), 7, out_type)
    info = np.iinfo(out_type)
    if method == "fp32":  # per channel, ties at 2^-14 steps; the zero point added in float or after
        scale = (np.float32(2.0 ** -14) * (1 + np.arange(c_out, dtype=np.float32) % 7 / 8)).astype(np.float32)
        kw = dict(method="fp32", multiplier=None, shift=None, scale=scale,
                  rounding=int(rng.choice([fx.RoundingMode.HALF_EVEN, fx.RoundingMode.HALF_AWAY])),
                  zero_point_in_float=bool(rng.integers(0, 2)))
    else:
        mult = rng.integers(1 << 30, (1 << 31) - 1, c_out).astype(np.int32)
        kw = dict(method="double_round", multiplier=mult, shift=np.full(c_out, -13, np.int32), scale=None,
                  rounding=int(fx.RoundingMode.HALF_AWAY), zero_point_in_float=False)
    _kernels.conv2d_requantize(c["x"], w, c["x_zp"], w_zp, c["bias"], c["stride"], c["dilation"], c["pads"], 1,
                               "wrap", 32, acc_offset=None, zero_point=np.array([int(info.min) + 5], np.int32),
                               qmin=int(info.min), qmax=int(info.max), seed=0, product_in_float64=False, out=out,
                               **kw)
    return out


@settings(max_examples=40, deadline=None)
@given(c=narrow_conv(), method=st.sampled_from(["fp32", "double_round"]),
       out_type=st.sampled_from([np.uint8, np.int8]), seed=st.integers(0, 1000))
def test_packed_narrow_conv_equals_exact_model_and_array_weights(c, method, out_type, seed):
    want = exact_conv(c["x"], c["w"], c["x_zp"], c["w_zp"], 0 if c["bias"] is None else c["bias"], c["stride"],
                      c["dilation"], c["pads"])
    want32 = want.astype(np.uint64).astype(np.uint32).astype(np.int32)  # modulo 2^32
    for isa in DIRECT_CONV_ISAS:
        with isa_variant(isa):
            packed = _kernels.PackedConvWeights(c["w"], c["w_zp"])
            got = np.full(want.shape, -3, np.int32)
            _kernels.conv2d_accumulate(c["x"], packed, c["x_zp"], None, c["bias"], c["stride"], c["dilation"],
                                       c["pads"], 1, "wrap", 32, got)
            assert np.array_equal(got, want32), isa
            fused = _requantize(c, packed, None, method, out_type, np.random.default_rng(seed))
            array = _requantize(c, c["w"], c["w_zp"], method, out_type, np.random.default_rng(seed))
            assert np.array_equal(fused, array), isa


@pytest.mark.parametrize("threads", [1, 2])
def test_resnet_conv4_layer_equals_array_weights(threads):
    """ResNet-50's conv4_x 3x3 (C 256 -> 256 on 14 x 14, one of its most frequent layers) at
    the layer's own size, on 1 and 2 threads: the route and the array-weights GEMM agree."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, (1, 256, 14, 14), dtype=np.uint8)
    w = rng.integers(-128, 128, (256, 256, 3, 3), dtype=np.int8)
    w_zp = np.zeros(1, np.int32)
    c = dict(x=x, w=w, x_zp=77, w_zp=w_zp, bias=rng.integers(-9999, 9999, 256).astype(np.int32), stride=(1, 1),
             dilation=(1, 1), pads=(1, 1, 1, 1))
    before = fx.get_num_threads()
    fx.set_num_threads(threads)
    try:
        packed = _kernels.PackedConvWeights(w, w_zp)
        for method in ("fp32", "double_round"):
            fused = _requantize(c, packed, None, method, np.uint8, np.random.default_rng(1))
            array = _requantize(c, w, w_zp, method, np.uint8, np.random.default_rng(1))
            assert np.array_equal(fused, array), method
        want = exact_conv(x, w, 77, w_zp, c["bias"], (1, 1), (1, 1), (1, 1, 1, 1))
        got = np.empty(want.shape, np.int32)
        _kernels.conv2d_accumulate(x, packed, 77, None, c["bias"], (1, 1), (1, 1), (1, 1, 1, 1), 1, "wrap", 32, got)
        assert np.array_equal(got, want.astype(np.int32))  # |sum| < 2^31 here
    finally:
        fx.set_num_threads(before)
