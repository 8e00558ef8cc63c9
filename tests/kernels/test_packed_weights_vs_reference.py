"""The dense 8-bit WRAP path on raw u8 x s8 codes (csrc/fxsim/kernels/gemm_kernels.inc: vpdpbusd on
AVX512_VNNI, its vpmaddwd emulation on AVX-512BW, a plain loop elsewhere) and the weights packed
once (``_kernels.PackedConvWeights`` / ``PackedMatMulWeights``, packed_weights.h) equal the exact
references (fxsim/reference/conv2d.py, matmul.py) with ``==``, on every ISA variant.

The zero points come back through the offset formula of gemmlowp (doc/low-precision.md,
"Efficient handling of offsets") and
FBGEMM (row / column offsets): sum (x - zx)(w - zw) = sum x w - zw sum x - zx sum w + K zx zw,
modulo 2^32. Drawn here: input channels / K not multiples of 4 (the 4-byte groups' padding),
output channels / rows not multiples of the 4-row register tile, columns past one and two
64-column tiles (the masked tails), s8 activations (moved to u8 with +128) and u8 weights (moved
to s8 with -128), zero points at the range ends, per-channel zero points (the activations' sums),
and sums that wrap modulo 2^32. Then: int4 weights unpacked by the packed-weights constructor,
every other policy through the packed object's codes, the fused requantization, every ISA and
thread count bit-identical, and bad arguments. The matmul's tile epilogue (gemm_kernels.h
Dot4Epilogue: int32 accumulators or the float32 HALF_EVEN requantization finished in registers,
u8 activations read in place) against the exact references of both steps, at ties and clamps,
misaligned, and ISA x thread identical.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim.errors import FxsimError, KernelError
from fxsim.reference import conv2d as ref_conv
from fxsim.reference import matmul as ref_matmul
from fxsim.reference import requantize as ref_requant
from kernel_helpers import assert_isa_and_thread_identical, type_range, values, zero_point


EIGHT_BIT = ["uint8", "int8"]


def _each_isa(call):
    """call() on every available ISA variant: {isa: result} (the active variant is put back)."""
    active = _kernels.isa()
    results = {}
    try:
        for isa in _kernels.available_isas():
            _kernels.set_isa(isa)
            results[isa] = call()
    finally:
        _kernels.set_isa(active)
    return results


# ---------------------------------------------------------------- conv


@st.composite
def dense_conv_case(draw):
    """A conv for the dot4 path: channels not multiples of 4, rows past the tile, wide rows."""
    x_type, w_type = draw(st.sampled_from(EIGHT_BIT)), draw(st.sampled_from(EIGHT_BIT))
    groups = draw(st.sampled_from([1, 1, 2]))
    cig, cog = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.sampled_from([(1, 1), (1, 1), (2, 1), (1, 2)]))
    dilation = draw(st.sampled_from([(1, 1), (1, 1), (2, 1), (1, 2)]))
    pads = draw(st.sampled_from([(0, 0, 0, 0), (1, 1, 1, 1), (0, 2, 1, 0)]))
    wide = draw(st.booleans())  # a row past one (stride 1: two) 64-column tiles
    h_min = max(1, dilation[0] * (kh - 1) + 1 - pads[0] - pads[2])
    w_min = max(1, dilation[1] * (kw - 1) + 1 - pads[1] - pads[3])
    h = draw(st.integers(h_min, max(h_min, 2 if wide else 5)))
    w = draw(st.integers(w_min, 70 if wide else 9))
    if wide:
        cig, cog = min(cig, 5), min(cog, 5)
    n = draw(st.integers(1, 2))
    c_in, c_out = groups * cig, groups * cog
    zp_w = [zero_point(draw, w_type) for _ in range(c_out if draw(st.booleans()) else 1)]
    bias = draw(st.one_of(st.none(), st.lists(st.integers(-(1 << 31), (1 << 31) - 1), min_size=c_out,
                                              max_size=c_out)))
    acc_bits = draw(st.sampled_from([32, 32, 64]))
    return dict(x_type=x_type, w_type=w_type, x_shape=(n, c_in, h, w), w_shape=(c_out, cig, kh, kw),
                x=values(draw, x_type, n * c_in * h * w), w=values(draw, w_type, c_out * cig * kh * kw),
                zp_x=zero_point(draw, x_type), zp_w=zp_w, bias=bias, stride=stride, dilation=dilation, pads=pads,
                groups=groups, acc_bits=acc_bits)


def conv_arrays(c):
    x = np.array(c["x"], c["x_type"]).reshape(c["x_shape"])
    w = np.array(c["w"], c["w_type"]).reshape(c["w_shape"])
    bias = None if c["bias"] is None else np.array(c["bias"], np.int64)
    return x, w, np.array(c["zp_w"], np.int32), bias


def conv_out(c):
    oh, ow = ref_conv.conv2d_output_size(c["x_shape"][2], c["x_shape"][3], c["w_shape"][2], c["w_shape"][3],
                                         c["stride"], c["dilation"], c["pads"])
    return np.zeros((c["x_shape"][0], c["w_shape"][0], oh, ow), np.int32 if c["acc_bits"] == 32 else np.int64)


def conv_reference(c, policy="wrap"):
    return ref_conv.conv2d_accumulate(c["x"], c["x_shape"], c["w"], c["w_shape"], c["zp_x"], c["zp_w"], c["bias"],
                                      c["stride"], c["dilation"], c["pads"], c["groups"], policy, c["acc_bits"])[0]


def conv_call(c, weight, zp_w, policy="wrap"):
    """conv2d_accumulate with `weight` an array (zp_w the zero points) or packed (zp_w None)."""
    x, _, _, bias = conv_arrays(c)

    def call():
        out = conv_out(c)
        _kernels.conv2d_accumulate(x, weight, c["zp_x"], zp_w, bias, c["stride"], c["dilation"], c["pads"],
                                   c["groups"], policy, c["acc_bits"], out)
        return out.reshape(-1).tolist()
    return call


@settings(max_examples=80)  # the reference conv in Python ints
@given(case=dense_conv_case())
def test_packed_conv_equals_reference_on_every_isa(case):
    want = conv_reference(case)
    _, w, zp_w, _ = conv_arrays(case)
    packed = _kernels.PackedConvWeights(w, zp_w)
    assert packed.shape == list(case["w_shape"]) and packed.signed == (case["w_type"] == "int8")
    for isa, got in _each_isa(conv_call(case, packed, None)).items():
        assert got == want, isa
    assert conv_call(case, w, zp_w)() == want  # the plain-array call packs per call: the same bits


def test_packed_conv_on_a_wider_layer(restore_kernels):
    """Full and partial 4 x 64 tiles, 9 input channels (3 words, the last one padded), s8 input with
    its zero point at the range end, u8 weights with per-channel zero points (the activations'
    sums), padding that holds x_zp, and a stride-2 variant."""
    rng = np.random.default_rng(5)
    for stride in [(1, 1), (2, 1)]:
        case = dict(x_type="int8", w_type="uint8", x_shape=(1, 9, 7, 70), w_shape=(6, 9, 3, 3), stride=stride,
                    dilation=(1, 1), pads=(1, 1, 1, 1), groups=1, acc_bits=32, zp_x=-128,
                    zp_w=[0, 255, 128, 1, 77, 254], bias=[5, -5, 0, 1 << 30, -(1 << 31), 7])
        case["x"] = rng.integers(-128, 128, 9 * 7 * 70).tolist()
        case["w"] = rng.integers(0, 256, 6 * 81).tolist()
        want = conv_reference(case)
        _, w, zp_w, _ = conv_arrays(case)
        for isa, got in _each_isa(conv_call(case, _kernels.PackedConvWeights(w, zp_w), None)).items():
            assert got == want, (isa, stride)


# The dense conv split across threads (conv2d.cc conv_dot4): a stride-1 layer's GEMM is split by
# 64-column tiles of each (n, group) plane, a run of tiles per task, computed in pieces of at most
# 256 columns; a 1x1 stride-1 unpadded layer interleaves its input inside those tasks. The drawn
# layers are large enough to be split (the tiles' multiply-adds reach parallel.h's
# kParallelMinWork = 2^18), with planes that end in a partial tile, task runs that cross from one
# (n, group) plane into the next, quads past the channels, and 1-3 threads on every ISA.
PARALLEL_MIN_WORK = 1 << 18
TILE_COLS = 64


@st.composite
def split_conv_case(draw):
    """A conv above the threading threshold: 1x1 (in-task interleave), 3x3 padded, or 1x1 with a
    stride (the separate interleave pass, row tasks); codes from a drawn seed, range ends planted."""
    kind = draw(st.sampled_from(["1x1", "1x1", "3x3", "1x1_stride"]))
    x_type, w_type = draw(st.sampled_from(EIGHT_BIT)), draw(st.sampled_from(EIGHT_BIT))
    groups, n = draw(st.sampled_from([1, 2])), draw(st.integers(1, 2))
    cig = draw(st.integers(3, 23))
    kh = kw = 3 if kind == "3x3" else 1
    h, w = draw(st.integers(3, 12)), draw(st.integers(5, 70))
    stride = draw(st.sampled_from([(2, 1), (1, 2), (2, 2)])) if kind == "1x1_stride" else (1, 1)
    pads = (1, 1, 1, 1) if kind == "3x3" else (0, 0, 0, 0)
    oh = (h + pads[0] + pads[2] - kh) // stride[0] + 1
    ow = (w + pads[1] + pads[3] - kw) // stride[1] + 1
    wq = w + pads[1] + pads[3]
    tiles = -(-((oh - 1) * wq + ow) // TILE_COLS)
    depth = cig * kh * kw
    # enough output channels per group that the call is split (stride 1: the tiles' work; else rows)
    units = n * groups * (tiles * TILE_COLS if stride == (1, 1) else oh * ow)
    cog = max(draw(st.integers(1, 9)), -(-PARALLEL_MIN_WORK // (units * depth)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x_lo, x_hi = type_range(x_type)
    w_lo, w_hi = type_range(w_type)
    x = rng.integers(x_lo, x_hi + 1, size=n * groups * cig * h * w)
    x[rng.random(x.size) < 0.05] = draw(st.sampled_from([x_lo, x_hi]))
    wt = rng.integers(w_lo, w_hi + 1, size=groups * cog * depth)
    wt[rng.random(wt.size) < 0.05] = draw(st.sampled_from([w_lo, w_hi]))
    c_out = groups * cog
    zp_w = [zero_point(draw, w_type) for _ in range(c_out if draw(st.booleans()) else 1)]
    bias = draw(st.one_of(st.none(), st.just(rng.integers(-(1 << 31), 1 << 31, size=c_out).tolist())))
    return dict(x_type=x_type, w_type=w_type, x_shape=(n, groups * cig, h, w), w_shape=(c_out, cig, kh, kw),
                x=x.tolist(), w=wt.tolist(), zp_x=zero_point(draw, x_type), zp_w=zp_w, bias=bias, stride=stride,
                dilation=(1, 1), pads=pads, groups=groups, acc_bits=32)


@settings(max_examples=12, deadline=None)  # each reference is a few 10^5 Python multiply-adds
@given(case=split_conv_case())
def test_conv_split_across_threads_equals_reference(case):
    want = conv_reference(case)
    _, w, zp_w, _ = conv_arrays(case)
    call = conv_call(case, _kernels.PackedConvWeights(w, zp_w), None)
    active_threads = _kernels.num_threads()
    try:
        for threads in (1, 2, 3):
            _kernels.set_num_threads(threads)
            for isa, got in _each_isa(call).items():
                assert got == want, (isa, threads)
    finally:
        _kernels.set_num_threads(active_threads)


# ---------------------------------------------------------------- matmul


@st.composite
def dense_matmul_case(draw):
    """A matmul by constant weights: K not a multiple of 4, M past the row tile, N past 64 and 128."""
    a_type, b_type = draw(st.sampled_from(EIGHT_BIT)), draw(st.sampled_from(EIGHT_BIT))
    m = draw(st.integers(1, 9))
    k = draw(st.integers(1, 70))
    n = draw(st.integers(1, 140 if m * k <= 64 else 20))
    zp_b = [zero_point(draw, b_type) for _ in range(n if draw(st.booleans()) else 1)]
    bias = draw(st.one_of(st.none(), st.lists(st.integers(-(1 << 31), (1 << 31) - 1), min_size=n, max_size=n)))
    acc_bits = draw(st.sampled_from([32, 32, 48]))
    return dict(a_type=a_type, b_type=b_type, m=m, k=k, n=n, a=values(draw, a_type, m * k),
                b=values(draw, b_type, k * n), zp_a=zero_point(draw, a_type), zp_b=zp_b, bias=bias,
                acc_bits=acc_bits)


def matmul_reference(c, policy="wrap"):
    return ref_matmul.matmul_accumulate(c["a"], c["b"], 1, c["m"], c["k"], c["n"], c["zp_a"], c["zp_b"], c["bias"],
                                        False, policy, c["acc_bits"])


def matmul_call(c, weight, zp_b, policy="wrap"):
    a = np.array(c["a"], c["a_type"]).reshape(c["m"], c["k"])
    bias = None if c["bias"] is None else np.array(c["bias"], np.int64)

    def call():
        out = np.zeros((c["m"], c["n"]), np.int32 if c["acc_bits"] == 32 else np.int64)
        _kernels.matmul_accumulate(a, weight, c["zp_a"], zp_b, bias, policy, c["acc_bits"], out)
        return out.reshape(-1).tolist()
    return call


def matmul_weights(c):
    return np.array(c["b"], c["b_type"]).reshape(c["k"], c["n"]), np.array(c["zp_b"], np.int32)


@settings(max_examples=50)
@given(case=dense_matmul_case())
def test_packed_matmul_equals_reference_on_every_isa(case):
    want = matmul_reference(case)
    b, zp_b = matmul_weights(case)
    packed = _kernels.PackedMatMulWeights(b, zp_b)
    assert packed.shape == [case["k"], case["n"]]
    for isa, got in _each_isa(matmul_call(case, packed, None)).items():
        assert got == want, isa
    assert matmul_call(case, b, zp_b)() == want


@pytest.mark.parametrize("a_type, b_type", [("uint8", "int8"), ("int8", "uint8")])
def test_raw_sums_wrap_modulo_2_32(restore_kernels, a_type, b_type):
    """K = 70,001 products of (255 - 0) * (-128 - 127) (or the mirrored s8 / u8 extremes): the exact
    sum, about -4.55e9, wraps at 32 bits; the raw sums and every offset term wrap too, and the
    result still equals the reference's wrap of the exact sum."""
    k = 70_001
    lo_a, hi_a = type_range(a_type)
    lo_b, hi_b = type_range(b_type)
    a_val, zp_a = (hi_a, lo_a) if a_type == "uint8" else (lo_a, hi_a)
    b_val, zp_b = (lo_b, hi_b) if b_type == "int8" else (hi_b, lo_b)
    case = dict(a_type=a_type, b_type=b_type, m=2, k=k, n=3, a=[a_val] * (2 * k), b=[b_val] * (3 * k), zp_a=zp_a,
                zp_b=[zp_b, zp_b, 0 if b_type == "int8" else 128], bias=None, acc_bits=32)
    want = matmul_reference(case)
    exact = (a_val - zp_a) * (b_val - zp_b) * k
    assert exact < -(1 << 31) and want[0] == (exact + (1 << 31)) % (1 << 32) - (1 << 31)
    b, zp = matmul_weights(case)
    for isa, got in _each_isa(matmul_call(case, _kernels.PackedMatMulWeights(b, zp), None)).items():
        assert got == want, isa


# ---------------------------------------------------------------- int4 weights


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("layout", ["dense", "per_channel"])
def test_int4_conv_weights_unpacked_by_the_constructor(signed, layout):
    """from_int4 on fxsim's pack_int4 bytes (27 values per channel: the per-channel layout pads each
    channel to a byte) equals packing the unpacked codes, and the reference."""
    rng = np.random.default_rng(7)
    lo, hi = (-8, 7) if signed else (0, 15)
    codes = rng.integers(lo, hi + 1, size=(5, 3, 3, 3))
    dtype = np.int8 if signed else np.uint8
    zp = np.array([lo, hi, 0 if signed else 8, 3, lo], np.int32)
    channels = 5 if layout == "per_channel" else None
    packed_bytes = fx.pack_int4(codes.reshape(-1), signed=signed, layout=layout, channels=channels)
    from_int4 = _kernels.PackedConvWeights.from_int4(packed_bytes, (5, 3, 3, 3), signed, zp,
                                                     per_channel=layout == "per_channel")
    assert from_int4.signed == signed
    case = dict(x_type="uint8", w_type=np.dtype(dtype).name, x_shape=(1, 3, 6, 9), w_shape=(5, 3, 3, 3),
                stride=(1, 1), dilation=(1, 1), pads=(1, 0, 1, 2), groups=1, acc_bits=32, zp_x=255,
                zp_w=zp.tolist(), bias=None, x=rng.integers(0, 256, 3 * 54).tolist(), w=codes.reshape(-1).tolist())
    want = conv_reference(case)
    assert conv_call(case, from_int4, None)() == want
    assert conv_call(case, _kernels.PackedConvWeights(codes.astype(dtype), zp), None)() == want


@pytest.mark.parametrize("signed", [True, False])
def test_int4_matmul_weights_unpacked_by_the_constructor(signed):
    rng = np.random.default_rng(8)
    lo, hi = (-8, 7) if signed else (0, 15)
    k, n = 13, 67  # an odd count: the last byte's high nibble is padding
    codes = rng.integers(lo, hi + 1, size=(k, n))
    zp = np.array([hi], np.int32)
    packed = _kernels.PackedMatMulWeights.from_int4(fx.pack_int4(codes.reshape(-1), signed=signed), (k, n), signed,
                                                    zp)
    case = dict(a_type="int8", b_type="int8" if signed else "uint8", m=3, k=k, n=n,
                a=rng.integers(-128, 128, 3 * k).tolist(), b=codes.reshape(-1).tolist(), zp_a=-128, zp_b=[hi],
                bias=None, acc_bits=32)
    assert matmul_call(case, packed, None)() == matmul_reference(case)


# ---------------------------------------------------------------- other policies, fused, threads


@pytest.mark.parametrize("policy", ["saturate", "raise", "pair_saturate_16", "raw_pair_saturate_16"])
def test_other_policies_read_the_packed_codes(policy):
    """Only WRAP reads the packed words; every other policy runs the definition on the codes the
    packed object keeps, so it equals the plain-array call (and the reference)."""
    rng = np.random.default_rng(9)
    case = dict(x_type="uint8", w_type="int8", x_shape=(1, 5, 4, 6), w_shape=(3, 5, 2, 2), stride=(1, 1),
                dilation=(1, 1), pads=(0, 0, 1, 1), groups=1, acc_bits=32, zp_x=3, zp_w=[0, -128, 127],
                bias=None, x=rng.integers(0, 256, 120).tolist(), w=rng.integers(-128, 128, 60).tolist())
    _, w, zp_w, _ = conv_arrays(case)
    packed = _kernels.PackedConvWeights(w, zp_w)
    want = conv_reference(case, policy)
    assert conv_call(case, packed, None, policy)() == want == conv_call(case, w, zp_w, policy)()
    mcase = dict(a_type="int8", b_type="uint8", m=4, k=11, n=5, a=rng.integers(-128, 128, 44).tolist(),
                 b=rng.integers(0, 256, 55).tolist(), zp_a=-3, zp_b=[200], bias=None, acc_bits=32)
    b, zp_b = matmul_weights(mcase)
    assert matmul_call(mcase, _kernels.PackedMatMulWeights(b, zp_b), None, policy)() == matmul_reference(mcase, policy)


def test_packed_weights_with_16_bit_activations():
    """A 16-bit input takes the definition loop with the packed object's codes."""
    rng = np.random.default_rng(10)
    x = rng.integers(-32768, 32768, size=(1, 3, 4, 4)).astype(np.int16)
    w = rng.integers(-128, 128, size=(2, 3, 3, 3)).astype(np.int8)
    zp = np.array([1, -2], np.int32)
    outs = []
    for weight, zp_w in [(w, zp), (_kernels.PackedConvWeights(w, zp), None)]:
        out = np.zeros((1, 2, 2, 2), np.int64)
        _kernels.conv2d_accumulate(x, weight, -5, zp_w, None, (1, 1), (1, 1), (0, 0, 0, 0), 1, "wrap", 64, out)
        outs.append(out)
    want = ref_conv.conv2d_accumulate(x.ravel().tolist(), x.shape, w.ravel().tolist(), w.shape, -5, zp.tolist(),
                                      acc_bits=64)[0]
    assert outs[0].ravel().tolist() == want == outs[1].ravel().tolist()


FP32_REQUANT = dict(acc_offset=None, method="fp32", multiplier=None, shift=None, qmin=0, qmax=255,
                    rounding=int(fx.RoundingMode.HALF_EVEN), seed=0, product_in_float64=False,
                    zero_point_in_float=False)


def test_fused_requantize_with_packed_weights_equals_the_plain_call(restore_kernels):
    """conv2d_requantize / matmul_requantize take the packed object too: the same codes."""
    rng = np.random.default_rng(12)
    x = rng.integers(0, 256, size=(1, 7, 9, 11)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(5, 7, 3, 3)).astype(np.int8)
    zp = np.array([0, 3, -128, 127, 9], np.int32)
    scale = (rng.random(5) / 2000).astype(np.float32)
    rq = dict(FP32_REQUANT, scale=scale, zero_point=np.array([128], np.int32))
    outs = []
    for weight, zp_w in [(w, zp), (_kernels.PackedConvWeights(w, zp), None)]:
        out = np.zeros((1, 5, 9, 11), np.uint8)
        _kernels.conv2d_requantize(x, weight, 100, zp_w, None, (1, 1), (1, 1), (1, 1, 1, 1), 1, "wrap", 32,
                                   out=out, **rq)
        outs.append(out)
    assert np.array_equal(outs[0], outs[1]) and len(np.unique(outs[0])) > 10
    a = rng.integers(-128, 128, size=(3, 37)).astype(np.int8)
    b = rng.integers(0, 256, size=(37, 70)).astype(np.uint8)
    zb = np.array([128], np.int32)
    rq = dict(FP32_REQUANT, scale=np.array([0.0004], np.float32), zero_point=np.array([128], np.int32))
    outs = []
    for weight, zp_b in [(b, zb), (_kernels.PackedMatMulWeights(b, zb), None)]:
        out = np.zeros((3, 70), np.uint8)
        _kernels.matmul_requantize(a, weight, -1, zp_b, None, "wrap", 32, out=out, **rq)
        outs.append(out)
    assert np.array_equal(outs[0], outs[1]) and len(np.unique(outs[0])) > 10


@st.composite
def bound_conv_case(draw):
    """dense_conv_case with a fused requantization: double_round or fp32, per tensor or per output
    channel, any output type with its zero point and clamps drawn, and an acc_offset or not."""
    c = draw(dense_conv_case())
    c_out = c["w_shape"][0]
    channels = c_out if draw(st.booleans()) else 1
    dtype = draw(st.sampled_from(sorted(OUT_RANGES)))
    lo, hi = OUT_RANGES[dtype]
    method = draw(st.sampled_from(["double_round", "fp32"]))
    if method == "fp32":
        rq = dict(scale=[draw(float32_scale()) for _ in range(channels)], multiplier=None, shift=None)
    else:
        rq = dict(scale=None, multiplier=[draw(st.integers(1 << 30, (1 << 31) - 1)) for _ in range(channels)],
                  shift=[draw(st.integers(-20, 4)) for _ in range(channels)])
    zps = [draw(st.integers(lo, hi)) for _ in range(channels)]
    offset = draw(st.one_of(st.none(), st.lists(st.integers(-1000, 1000), min_size=channels, max_size=channels)))
    return dict(c, method=method, dtype=dtype, zps=zps, qmin=lo, qmax=hi,
                acc_offset=offset if channels == c_out else None, **rq)


def bound_requantize_arguments(c):
    """The requantization arguments of conv2d_requantize for bound_conv_case `c`."""
    def array(key, dtype):
        return None if c[key] is None else np.array(c[key], dtype)
    return (array("acc_offset", np.int64), c["method"], array("multiplier", np.int32), array("shift", np.int32),
            array("scale", np.float32), np.array(c["zps"], np.int32), c["qmin"], c["qmax"],
            int(fx.RoundingMode.HALF_AWAY), 0, False, False)


@settings(max_examples=60)
@given(case=bound_conv_case())
def test_conv_call_object_equals_the_fused_call(case):
    """Conv2DRequantizeCall (every argument but x and out bound once) gives conv2d_requantize's
    codes on every ISA, and a second call on new input codes gives that input's."""
    x, w, zp_w, bias = conv_arrays(case)
    packed = _kernels.PackedConvWeights(w, zp_w)
    geometry = (case["stride"], case["dilation"], case["pads"], case["groups"], "wrap", case["acc_bits"])
    rq = bound_requantize_arguments(case)
    call = _kernels.Conv2DRequantizeCall(packed, case["zp_x"], None, bias, *geometry, *rq)
    shape = conv_out(case).shape
    for x_now in (x, x[:, :, ::-1].copy()):
        def both():
            want = np.full(shape, 3, case["dtype"])
            _kernels.conv2d_requantize(x_now, w, case["zp_x"], zp_w, bias, *geometry, *rq, want)
            got = np.full(shape, 5, case["dtype"])
            call(x_now, got)
            return want.tolist(), got.tolist()
        for isa, (want, got) in _each_isa(both).items():
            assert got == want, isa


def test_call_objects_keep_their_arguments_and_check_each_call():
    """The call objects hold the arrays they read (the caller's are dropped here), reject what
    conv2d_requantize / matmul_requantize reject, naming the argument, and give their codes."""
    import gc

    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(1, 6, 5, 5)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(4, 6, 1, 1)).astype(np.int8)
    scale = np.array([0.01, 0.02, 0.004, 0.03], np.float32)
    rq = (None, "fp32", None, None, scale, np.array([7], np.int32), 0, 255, int(fx.RoundingMode.HALF_EVEN), 0,
          False, False)
    geometry = ((1, 1), (1, 1), (0, 0, 0, 0), 1, "wrap", 32)
    want = np.zeros((1, 4, 5, 5), np.uint8)
    _kernels.conv2d_requantize(x, w, 128, np.zeros(1, np.int32), None, *geometry, *rq, want)
    call = _kernels.Conv2DRequantizeCall(_kernels.PackedConvWeights(w.copy(), np.zeros(1, np.int32)), 128, None,
                                         None, *geometry, None, "fp32", None, None, scale.copy(),
                                         np.array([7], np.int32), *rq[6:])
    gc.collect()
    got = np.zeros((1, 4, 5, 5), np.uint8)
    call(x, got)
    assert np.array_equal(got, want) and len(np.unique(want)) > 5
    with pytest.raises(KernelError, match=r"^conv2d_requantize: out must have shape \(1, 4, 5, 5\)"):
        call(x, np.zeros((1, 4, 5, 4), np.uint8))
    with pytest.raises(KernelError, match="w has 6 input channels, expected C_in / groups = 3"):
        call(np.zeros((1, 3, 5, 5), np.uint8), got)
    with pytest.raises(KernelError, match="out must be an int8, uint8, int16, uint16 or int32 array"):
        call(x, np.zeros((1, 4, 5, 5), np.float32))
    with pytest.raises(KernelError, match="x must be a uint8, int8, uint16, or int16 array, got float64"):
        call(x.astype(np.float64), got)
    with pytest.raises(KernelError, match="^conv2d_requantize: w must be PackedConvWeights"):
        _kernels.Conv2DRequantizeCall(w, 128, None, None, *geometry, *rq)
    with pytest.raises(KernelError, match="w_zero_point must be None with PackedConvWeights"):
        _kernels.Conv2DRequantizeCall(_kernels.PackedConvWeights(w, np.zeros(1, np.int32)), 128,
                                      np.zeros(1, np.int32), None, *geometry, *rq)
    with pytest.raises(KernelError, match="bias must"):
        _kernels.Conv2DRequantizeCall(_kernels.PackedConvWeights(w, np.zeros(1, np.int32)), 128, None,
                                      np.zeros(3, np.int64), *geometry, *rq)
    with pytest.raises(KernelError, match="policy"):
        _kernels.Conv2DRequantizeCall(_kernels.PackedConvWeights(w, np.zeros(1, np.int32)), 128, None, None,
                                      *geometry[:4], "bogus", 32, *rq)
    with pytest.raises(KernelError, match="method must be"):
        _kernels.Conv2DRequantizeCall(_kernels.PackedConvWeights(w, np.zeros(1, np.int32)), 128, None, None,
                                      *geometry, None, "fp16", *rq[2:])

    a = rng.integers(-128, 128, size=(2, 3, 37)).astype(np.int8)
    b = rng.integers(0, 256, size=(37, 70)).astype(np.uint8)
    zb = np.array([128], np.int32)
    mm_rq = (None, "double_round", np.array([1 << 30], np.int32), np.array([-6], np.int32), None,
             np.array([-3], np.int32), -128, 127, int(fx.RoundingMode.HALF_AWAY), 0, False, False)
    want = np.zeros((2, 3, 70), np.int8)
    _kernels.matmul_requantize(a, b, -1, zb, np.arange(70, dtype=np.int64), "wrap", 32, *mm_rq, want)
    mm = _kernels.MatMulRequantizeCall(_kernels.PackedMatMulWeights(b.copy(), zb.copy()), -1, None,
                                       np.arange(70, dtype=np.int64), "wrap", 32, None, "double_round",
                                       np.array([1 << 30], np.int32), np.array([-6], np.int32), None,
                                       np.array([-3], np.int32), *mm_rq[6:])
    gc.collect()
    got = np.zeros((2, 3, 70), np.int8)
    mm(a, got)
    assert np.array_equal(got, want) and len(np.unique(want)) > 10
    with pytest.raises(KernelError, match="^matmul_requantize: the packed b has K = 37 rows, a has K = 36"):
        mm(a[..., :36].copy(), got)
    with pytest.raises(KernelError, match="out must have a's shape with the last dimension N = 70"):
        mm(a, np.zeros((2, 3, 69), np.int8))
    with pytest.raises(KernelError, match="^matmul_requantize: b must be PackedMatMulWeights"):
        _kernels.MatMulRequantizeCall(b, -1, None, None, "wrap", 32, *mm_rq)
    with pytest.raises(KernelError, match="b_zero_point must be None with PackedMatMulWeights"):
        _kernels.MatMulRequantizeCall(_kernels.PackedMatMulWeights(b, zb), -1, zb, None, "wrap", 32, *mm_rq)


def test_every_isa_and_thread_count_is_bit_identical(restore_kernels):
    """Packed conv (3x3 with padding; 1x1 without: one interleaved run per plane; s8 x u8 with
    per-channel zero points; a grouped 1x1 large enough to be split, whose task runs of 64-column
    tiles cross group planes, through the fused requantization too), the batch-1 GEMV split by
    column tiles, and a matmul with tails."""
    rng = np.random.default_rng(13)
    x3 = rng.integers(0, 256, size=(1, 16, 20, 19)).astype(np.uint8)
    w3 = rng.integers(-128, 128, size=(24, 16, 3, 3)).astype(np.int8)
    x1 = rng.integers(-128, 128, size=(2, 21, 17, 23)).astype(np.int8)
    w1 = rng.integers(0, 256, size=(10, 21, 1, 1)).astype(np.uint8)
    zp1 = rng.integers(0, 256, size=10).astype(np.int32)
    p3 = _kernels.PackedConvWeights(w3, np.zeros(1, np.int32))
    p1 = _kernels.PackedConvWeights(w1, zp1)
    a1 = rng.integers(0, 256, size=(1, 1280)).astype(np.uint8)
    bg = rng.integers(-128, 128, size=(1280, 1000)).astype(np.int8)
    pg = _kernels.PackedMatMulWeights(bg, np.array([5], np.int32))
    am = rng.integers(-128, 128, size=(2, 33, 70)).astype(np.int8)
    bm = rng.integers(0, 256, size=(70, 100)).astype(np.uint8)
    pm = _kernels.PackedMatMulWeights(bm, rng.integers(0, 256, size=100).astype(np.int32))
    # 2 groups of 21 channels (a partial quad), 15 x 29 = 435 columns = 7 tiles, the last of 51:
    # 2 * 2 * 7 tiles of 8 x 64 x 21 multiply-adds, past kParallelMinWork (2^18)
    xg = rng.integers(-128, 128, size=(2, 42, 15, 29)).astype(np.int8)
    wg = rng.integers(-128, 128, size=(16, 21, 1, 1)).astype(np.int8)
    pgc = _kernels.PackedConvWeights(wg, rng.integers(-128, 128, size=16).astype(np.int32))
    rq = dict(FP32_REQUANT, scale=(rng.random(16) / 3000).astype(np.float32),
              zero_point=np.array([128], np.int32))

    def grouped_1x1(fused):
        def call():
            if not fused:
                out = np.empty((2, 16, 15, 29), np.int32)
                _kernels.conv2d_accumulate(xg, pgc, -3, None, None, (1, 1), (1, 1), (0, 0, 0, 0), 2, "wrap", 32, out)
                return out
            out = np.empty((2, 16, 15, 29), np.uint8)
            _kernels.conv2d_requantize(xg, pgc, -3, None, None, (1, 1), (1, 1), (0, 0, 0, 0), 2, "wrap", 32,
                                       out=out, **rq)
            return out
        return call

    def conv(x, p, out_shape, pads):
        def call():
            out = np.empty(out_shape, np.int32)
            _kernels.conv2d_accumulate(x, p, int(x.min()), None, None, (1, 1), (1, 1), pads, 1, "wrap", 32, out)
            return out
        return call

    def matmul(a, p, out_shape):
        def call():
            out = np.empty(out_shape, np.int32)
            _kernels.matmul_accumulate(a, p, 7, None, None, "wrap", 32, out)
            return out
        return call

    assert_isa_and_thread_identical({
        "conv3x3": conv(x3, p3, (1, 24, 20, 19), (1, 1, 1, 1)),
        "conv1x1_zp": conv(x1, p1, (2, 10, 17, 23), (0, 0, 0, 0)),
        "conv1x1_grouped_split": grouped_1x1(False),
        "conv1x1_grouped_split_fused": grouped_1x1(True),
        "gemv": matmul(a1, pg, (1, 1000)),
        "matmul_tails": matmul(am, pm, (2, 33, 100)),
    })


# ---------------------------------------------------------------- the matmul tile epilogue


OUT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
              "int32": (-(1 << 31), (1 << 31) - 1)}


@st.composite
def float32_scale(draw):
    """Float32 requantization scales: powers of two (exact ties: acc * 2^-1 ends in .5), typical
    1e-5..1 values, and scales that push the products past the clamps and past 2^22."""
    kind = draw(st.sampled_from(["pow2", "any", "huge"]))
    if kind == "pow2":
        return float(np.float32(2.0 ** draw(st.integers(-20, 4))))
    if kind == "huge":
        return float(np.float32(draw(st.floats(1e3, 1e30))))
    return float(np.float32(draw(st.floats(1e-5, 1.0))))


@st.composite
def epilogue_case(draw):
    """A matmul by packed weights with the float32 HALF_EVEN requantization fused (the tile
    epilogue of gemm_kernels.h when acc_bits is 32 and every clamp bound is within 2^22): rows
    past the 6-row register tile, columns past one and two 64-column tiles (full 64-column rows
    take the packed byte store), per-tensor or per-column scales and zero points, every output
    type with its zero point at the range ends, clamps narrowed as a Relu narrows them, the zero
    point added before (zero_point_in_float) or after rounding, per-column weight zero points
    (the activations' row sums), biases at the int64 ends, batched A over one B."""
    a_type, b_type = draw(st.sampled_from(EIGHT_BIT)), draw(st.sampled_from(EIGHT_BIT))
    batch = draw(st.integers(1, 2))
    n = draw(st.one_of(st.integers(1, 20), st.sampled_from([63, 64, 65, 128, 130, 192])))
    m = draw(st.integers(1, 13))
    k = draw(st.integers(1, 40 if n <= 20 else 9))
    zp_b = [zero_point(draw, b_type) for _ in range(n if draw(st.booleans()) else 1)]
    bias = draw(st.one_of(st.none(), st.lists(st.one_of(st.integers(-5000, 5000),
                                                        st.sampled_from([-(1 << 63), (1 << 63) - 1])),
                                              min_size=n, max_size=n)))
    dtype = draw(st.sampled_from(sorted(OUT_RANGES)))
    lo, hi = OUT_RANGES[dtype]
    rc = n if n > 1 and draw(st.booleans()) else 1
    zps = [draw(st.one_of(st.sampled_from([lo, hi, max(lo, 0)]), st.integers(lo, hi)))
           for _ in range(rc if draw(st.booleans()) else 1)]
    qmin = draw(st.sampled_from([lo, max(lo, zps[0])]))
    qmax = draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6))]))
    return dict(a_type=a_type, b_type=b_type, batch=batch, m=m, k=k, n=n,
                a=values(draw, a_type, batch * m * k), b=values(draw, b_type, k * n),
                zp_a=zero_point(draw, a_type), zp_b=zp_b, bias=bias, dtype=dtype, rc=rc, zps=zps,
                qmin=qmin, qmax=qmax, scale=[draw(float32_scale()) for _ in range(rc)],
                zpf=draw(st.booleans()), acc_bits=draw(st.sampled_from([32, 32, 32, 48])))


def epilogue_reference(c):
    """The exact references of both steps: fxsim/reference/matmul.py's accumulators, then
    fxsim/reference/requantize.py's float32 requantization of each (HALF_EVEN)."""
    accs = ref_matmul.matmul_accumulate(c["a"], c["b"], c["batch"], c["m"], c["k"], c["n"], c["zp_a"], c["zp_b"],
                                        c["bias"], False, "wrap", c["acc_bits"])
    codes = []
    for i, acc in enumerate(accs):
        ch = i % c["n"] if c["rc"] > 1 else 0
        zp = c["zps"][ch if len(c["zps"]) > 1 else 0]
        codes.append(ref_requant.requantize_fp32(acc, c["scale"][ch], zp, c["qmin"], c["qmax"],
                                                 int(fx.RoundingMode.HALF_EVEN), zero_point_in_float=c["zpf"]))
    return codes


def epilogue_call(c, packed, bound=False):
    """matmul_requantize on case `c` with the packed weights, or (bound) through
    MatMulRequantizeCall, its arguments bound once."""
    a = np.array(c["a"], c["a_type"]).reshape(c["batch"], c["m"], c["k"])
    bias = None if c["bias"] is None else np.array(c["bias"], np.int64)
    rq = dict(FP32_REQUANT, scale=np.array(c["scale"], np.float32), zero_point=np.array(c["zps"], np.int32),
              qmin=c["qmin"], qmax=c["qmax"], zero_point_in_float=c["zpf"])
    call_object = _kernels.MatMulRequantizeCall(packed, c["zp_a"], None, bias, "wrap", c["acc_bits"], **rq) if bound \
        else None

    def call():
        out = np.full((c["batch"], c["m"], c["n"]), 3, c["dtype"])
        if bound:
            call_object(a, out)
        else:
            _kernels.matmul_requantize(a, packed, c["zp_a"], None, bias, "wrap", c["acc_bits"], out=out, **rq)
        return out.reshape(-1).tolist()
    return call


@settings(max_examples=60)
@given(case=epilogue_case())
def test_fused_float32_requantization_in_the_tiles_equals_reference(case):
    want = epilogue_reference(case)
    b = np.array(case["b"], case["b_type"]).reshape(case["k"], case["n"])
    packed = _kernels.PackedMatMulWeights(b, np.array(case["zp_b"], np.int32))
    for isa, got in _each_isa(epilogue_call(case, packed)).items():
        assert got == want, isa
    for isa, got in _each_isa(epilogue_call(case, packed, bound=True)).items():
        assert got == want, isa


def test_strided_conv_as_one_plane_gemm(restore_kernels):
    """Every stride runs as one GEMM over the output plane of a phase-split input (conv2d.cc
    conv_dot4): outputs past the first 64-column tile, rows whose phase blocks start mid-tile,
    strides 2 and 3 with a dilation, asymmetric pads holding x_zp, an input width not a multiple
    of the stride; against the reference on every ISA variant."""
    rng = np.random.default_rng(12)
    for stride, dilation, pads in [((2, 2), (1, 1), (1, 0, 0, 1)), ((3, 2), (2, 1), (2, 1, 1, 2)),
                                   ((2, 3), (1, 2), (0, 2, 1, 0))]:
        x_shape, w_shape = (1, 5, 13, 141), (4, 5, 3, 3)
        case = dict(x_type="uint8", w_type="int8", x_shape=x_shape, w_shape=w_shape, stride=stride,
                    dilation=dilation, pads=pads, groups=1, acc_bits=32, zp_x=255, zp_w=[0, -128, 127, 5],
                    bias=[1, -1, 1 << 30, 0], x=rng.integers(0, 256, int(np.prod(x_shape))).tolist(),
                    w=rng.integers(-128, 128, int(np.prod(w_shape))).tolist())
        want = conv_reference(case)
        _, w, zp_w, _ = conv_arrays(case)
        for isa, got in _each_isa(conv_call(case, _kernels.PackedConvWeights(w, zp_w), None)).items():
            assert got == want, (isa, stride, dilation)


def test_matmul_row_tasks_equal_reference(restore_kernels):
    """The fast path's tasks are 48 rows by 128 columns (matmul.cc kTaskRows, kTaskCols): rows
    just under, at and past one task and two, K read in place (a multiple of 4) or copied, and
    columns past one task with a partial last tile; against the reference on every ISA variant,
    on 1 and 2 threads."""
    rng = np.random.default_rng(48)
    for m, k, n in [(47, 20, 130), (48, 13, 64), (49, 20, 130), (97, 8, 200), (100, 13, 129)]:
        case = dict(a_type="uint8", b_type="int8", m=m, k=k, n=n, acc_bits=32,
                    a=rng.integers(0, 256, m * k).tolist(), b=rng.integers(-128, 128, k * n).tolist(),
                    zp_a=255, zp_b=[0] * n, bias=rng.integers(-(1 << 31), 1 << 31, n).tolist())
        want = matmul_reference(case)
        b, zp_b = matmul_weights(case)
        call = matmul_call(case, _kernels.PackedMatMulWeights(b, zp_b), None)
        for threads in (1, 2):
            _kernels.set_num_threads(threads)
            for isa, got in _each_isa(call).items():
                assert got == want, (isa, threads, m, k, n)


def test_int16_pair_kernels_on_ragged_shapes(restore_kernels):
    """The variants without VNNI (avx512bw, avx2) take products of 4 rows or more through the
    int16-pair kernels (gemm_kernels.h Dot2Fn: A's rows as pair words, B's packed pair words), and
    convolutions through input planes of channel pairs. Ragged edges of that layout: K = 1..7 (a
    last pair word with one real value, and the bytes past K), channel counts that leave a pair
    half real or wholly unreal (C_in / groups = 1, 2, 3, 5), rows 4-7 (a 4-row tile plus a partial
    one), partial column tiles, zero points at the range ends, s8 activations (flipped) and u8
    weights with per-channel zero points; each against the reference on every ISA variant."""
    rng = np.random.default_rng(11)
    for a_type, b_type in [("uint8", "int8"), ("int8", "uint8")]:
        for m, k, n in [(4, 1, 1), (5, 2, 63), (6, 3, 65), (7, 5, 64), (8, 7, 130)]:
            (alo, ahi), (blo, bhi) = type_range(a_type), type_range(b_type)
            case = dict(a_type=a_type, b_type=b_type, m=m, k=k, n=n, acc_bits=32,
                        a=rng.integers(alo, ahi + 1, m * k).tolist(), b=rng.integers(blo, bhi + 1, k * n).tolist(),
                        zp_a=ahi, zp_b=rng.integers(blo, bhi + 1, n).tolist(),
                        bias=rng.integers(-(1 << 31), 1 << 31, n).tolist())
            want = matmul_reference(case)
            b, zp_b = matmul_weights(case)
            for isa, got in _each_isa(matmul_call(case, _kernels.PackedMatMulWeights(b, zp_b), None)).items():
                assert got == want, (isa, a_type, m, k, n)
    for cig in [1, 2, 3, 5]:
        for x_type, w_type, stride, pads in [("uint8", "int8", (1, 1), (0, 0, 0, 0)),
                                             ("int8", "uint8", (1, 1), (1, 0, 2, 1)),
                                             ("int8", "int8", (2, 2), (1, 1, 0, 1))]:
            (xlo, xhi), (wlo, whi) = type_range(x_type), type_range(w_type)
            x_shape, w_shape = (1, cig, 6, 9), (5, cig, 3, 2)
            case = dict(x_type=x_type, w_type=w_type, x_shape=x_shape, w_shape=w_shape, stride=stride,
                        dilation=(1, 1), pads=pads, groups=1, acc_bits=32, zp_x=xlo,
                        zp_w=rng.integers(wlo, whi + 1, 5).tolist(), bias=rng.integers(-1000, 1000, 5).tolist(),
                        x=rng.integers(xlo, xhi + 1, int(np.prod(x_shape))).tolist(),
                        w=rng.integers(wlo, whi + 1, int(np.prod(w_shape))).tolist())
            want = conv_reference(case)
            _, w, zp_w, _ = conv_arrays(case)
            for isa, got in _each_isa(conv_call(case, _kernels.PackedConvWeights(w, zp_w), None)).items():
                assert got == want, (isa, cig, x_type, stride)


@pytest.mark.parametrize("a_type, dtype", [("uint8", "uint8"), ("int8", "int8")])
def test_tile_epilogue_ties_and_clamps(restore_kernels, a_type, dtype):
    """Accumulators chosen to land on the requantization's edges: scale 2^-1 makes every odd
    accumulator an exact tie (half-even rounds 1.5 -> 2 and 2.5 -> 2), and accumulators well past
    the clamps saturate at qmin / qmax; 64 columns per row take the packed byte store, 70 the
    masked one. A weight row of 1s over a ramp of activations and one of j % 8 give the
    accumulators 8 (r - 15) + j % 8: -120..119."""
    lo, hi = OUT_RANGES[dtype]
    zp_a = 0 if a_type == "int8" else 128
    zp_out = (lo + hi + 1) // 2
    qmin, qmax = zp_out - 20, zp_out + 20  # a Relu-like narrowed clamp: |acc| / 2 reaches 60
    for n in (64, 70):
        k = 4
        a = np.zeros((30, k), np.int64)
        a[:, 0] = np.arange(-15, 15) * 8 + zp_a  # times b[0] = 1: even accumulators -120..112
        a[:, 1] = 1 + zp_a  # times b[1] = j % 8: every residue in each row, odd ones in odd columns
        a[:, 2:] = zp_a
        a = a.astype(a_type)
        b = np.zeros((k, n), np.int8)
        b[0, :] = 1
        b[1, :] = np.arange(n) % 8
        rq = dict(FP32_REQUANT, scale=np.array([0.5], np.float32), zero_point=np.array([zp_out], np.int32),
                  qmin=qmin, qmax=qmax)
        accs = ref_matmul.matmul_accumulate(a.ravel().tolist(), b.ravel().tolist(), 1, 30, k, n, zp_a, [0], None,
                                            False, "wrap", 32)
        want = [ref_requant.requantize_fp32(v, 0.5, zp_out, qmin, qmax, int(fx.RoundingMode.HALF_EVEN)) for v in accs]
        ties = [v for v in accs if v % 2 == 1 and abs(v) < 40]
        assert len(ties) > 50 and min(want) == qmin and max(want) == qmax  # ties and both clamps
        assert want[accs.index(3)] == zp_out + 2 and want[accs.index(5)] == zp_out + 2  # 1.5 -> 2, 2.5 -> 2
        packed = _kernels.PackedMatMulWeights(b, np.zeros(1, np.int32))
        for isa in _kernels.available_isas():
            _kernels.set_isa(isa)
            out = np.zeros((30, n), dtype)
            _kernels.matmul_requantize(a, packed, zp_a, None, None, "wrap", 32, out=out, **rq)
            assert out.ravel().tolist() == want, (isa, n)


@pytest.mark.parametrize("k", [64, 66])
def test_u8_activations_read_in_place_at_any_alignment(restore_kernels, k):
    """u8 activations with K % 4 == 0 are read as the kernel's words where they lie (no copy;
    gemm_kernels.h Dot4EpilogueFn): an array starting 1 byte past an aligned address gives the
    reference's integers, on every ISA (K = 66: the copied path, for comparison)."""
    rng = np.random.default_rng(22)
    m, n = 13, 70
    storage = np.empty(m * k + 1, np.uint8)
    a = storage[1:].reshape(m, k)  # contiguous, misaligned by one byte
    a[...] = rng.integers(0, 256, size=(m, k))
    b = rng.integers(-128, 128, size=(k, n)).astype(np.int8)
    zp_b = rng.integers(-128, 128, size=n).astype(np.int32)
    packed = _kernels.PackedMatMulWeights(b, zp_b)
    want = ref_matmul.matmul_accumulate(a.ravel().tolist(), b.ravel().tolist(), 1, m, k, n, 77, zp_b.tolist(), None,
                                        False, "wrap", 32)
    for isa in _kernels.available_isas():
        _kernels.set_isa(isa)
        out = np.zeros((m, n), np.int32)
        _kernels.matmul_accumulate(a, packed, 77, None, None, "wrap", 32, out)
        assert out.ravel().tolist() == want, isa


def test_tile_epilogue_every_isa_and_thread_count_is_bit_identical(restore_kernels):
    """The fused float32 epilogue on a layer of many tasks (row tails, a partial last column
    tile, per-column scales, per-column weight zero points), and the int32 accumulators."""
    rng = np.random.default_rng(21)
    a = rng.integers(-128, 128, size=(2, 70, 96)).astype(np.int8)
    b = rng.integers(0, 256, size=(96, 300)).astype(np.uint8)
    packed = _kernels.PackedMatMulWeights(b, rng.integers(0, 256, size=300).astype(np.int32))
    bias = rng.integers(-(1 << 20), 1 << 20, size=300).astype(np.int64)
    scales = (rng.random(300) / 300).astype(np.float32)

    def fused(dtype, zps, scale):
        def call():
            out = np.empty((2, 70, 300), dtype)
            rq = dict(FP32_REQUANT, scale=scale, zero_point=np.array(zps, np.int32), qmin=int(np.iinfo(dtype).min),
                      qmax=int(np.iinfo(dtype).max))
            _kernels.matmul_requantize(a, packed, -3, None, bias, "wrap", 32, out=out, **rq)
            return out
        return call

    def accumulate():
        out = np.empty((2, 70, 300), np.int32)
        _kernels.matmul_accumulate(a, packed, -3, None, bias, "wrap", 32, out)
        return out

    assert_isa_and_thread_identical({
        "u8_per_tensor": fused(np.uint8, [128], np.array([0.002], np.float32)),
        "s8_per_column": fused(np.int8, [-5], scales),
        "s16_per_column": fused(np.int16, [7], scales * 64),
        "int32": accumulate,
    })


# ---------------------------------------------------------------- errors


def test_bad_packed_arguments():
    w = np.zeros((2, 3, 3, 3), np.int8)
    packed = _kernels.PackedConvWeights(w, np.zeros(1, np.int32))
    x = np.zeros((1, 6, 5, 5), np.uint8)
    out = np.zeros((1, 2, 3, 3), np.int32)
    geometry = ((1, 1), (1, 1), (0, 0, 0, 0))
    with pytest.raises(KernelError, match="w has 3 input channels, expected C_in / groups = 6"):
        _kernels.conv2d_accumulate(x, packed, 0, None, None, *geometry, 1, "wrap", 32, out)
    with pytest.raises(KernelError, match="w_zero_point must be None with PackedConvWeights"):
        _kernels.conv2d_accumulate(x, packed, 0, np.zeros(1, np.int32), None, *geometry, 2, "wrap", 32, out)
    with pytest.raises(KernelError, match=r"PackedConvWeights: w_zero_point = 128 is outside the int8 range"):
        _kernels.PackedConvWeights(w, np.array([128], np.int32))
    with pytest.raises(KernelError, match="zero_point must have 1 or 2 values"):
        _kernels.PackedConvWeights(w, np.zeros(3, np.int32))
    with pytest.raises(KernelError, match="w must be a uint8 or int8 array"):
        _kernels.PackedConvWeights(w.astype(np.int16), np.zeros(1, np.int32))
    with pytest.raises(KernelError, match="packed 4-bit weights have 3 bytes, the shape needs 27"):
        _kernels.PackedConvWeights.from_int4(np.zeros(3, np.uint8), (2, 3, 3, 3), True, np.zeros(1, np.int32))
    with pytest.raises(KernelError, match="the packed b has K = 4 rows, a has K = 5"):
        _kernels.matmul_accumulate(np.zeros((2, 5), np.uint8), _kernels.PackedMatMulWeights(
            np.zeros((4, 3), np.int8), np.zeros(1, np.int32)), 0, None, None, "wrap", 32, np.zeros((2, 3), np.int32))
    with pytest.raises(KernelError, match="b must be a uint8 or int8 array") as info:
        _kernels.PackedMatMulWeights(np.zeros((4, 3), np.uint16), np.zeros(1, np.int32))
    assert isinstance(info.value, FxsimError) and str(info.value).startswith("PackedMatMulWeights: ")
