"""Array requantization (csrc/fxsim/kernels/requantize.h via fx.requantize) equals the exact
reference (fxsim/reference/requantize.py) element by element, per tensor and per channel.

Drawn: accumulators near ties of the final shift and at the accumulator's extremes, multipliers
over the whole normalized range and the 0/1/max corners, shifts over their whole range, zero
points at the ends of the output range, clamp ranges narrowed as fused activations narrow them.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fxsim as fx
from fxsim import _kernels
from fxsim import constants as C
from fxsim.reference import requantize as ref
from fxsim.reference import rounding as ref_round

OUT_TYPES = {
    "int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
    "int32": (C.INT32_MIN, C.INT32_MAX), "int4": (-8, 7), "uint4": (0, 15),
}


@st.composite
def out_stage(draw, channels):
    """dtype, zero points (per tensor or per channel), and a clamp range within the dtype."""
    dtype = draw(st.sampled_from(sorted(OUT_TYPES)))
    lo, hi = OUT_TYPES[dtype]
    zp_strategy = st.one_of(st.sampled_from([lo, hi, 0 if lo <= 0 <= hi else lo]), st.integers(lo, hi))
    per_channel_zp = draw(st.booleans()) and channels > 1
    zps = [draw(zp_strategy) for _ in range(channels if per_channel_zp else 1)]
    qmin = draw(st.sampled_from([lo, max(lo, zps[0])]))   # full range, or ReLU's [zp, max]
    qmax = draw(st.sampled_from([hi, max(qmin, min(hi, qmin + 6))]))
    return dtype, zps, qmin, qmax


@st.composite
def acc_tensor(draw, lo, hi, channels):
    """A [outer, channels, inner] accumulator tensor biased to ties and extremes."""
    outer = draw(st.integers(1, 3))
    inner = draw(st.integers(1, 4))
    n = outer * channels * inner
    elem = st.one_of(
        st.integers(lo, hi),
        st.sampled_from([lo, hi, 0, -1, 1]),
        st.builds(lambda k, n: k * (1 << n) + (1 << (n - 1)), st.integers(-(1 << 10), 1 << 10), st.integers(1, 20)),
    )
    values = draw(st.lists(elem, min_size=n, max_size=n))
    values = [min(max(v, lo), hi) for v in values]
    return np.array(values, dtype=np.int64).reshape(outer, channels, inner)


def _check(got, want):
    assert got.reshape(-1).tolist() == want


MULT = st.one_of(st.integers(1 << 30, (1 << 31) - 1), st.sampled_from([0, 1 << 30, (1 << 31) - 1]))


@given(data=st.data(), channels=st.integers(1, 4))
def test_double_round(data, channels):
    acc = data.draw(acc_tensor(C.INT32_MIN, C.INT32_MAX, channels)).astype(np.int32)
    mults = [fx.Multiplier(data.draw(MULT), data.draw(st.integers(-31, 31)), 32) for _ in range(channels)]
    dtype, zps, qmin, qmax = data.draw(out_stage(channels))
    got = fx.requantize(acc, mults if channels > 1 else mults[0], fx.Requant.DOUBLE_ROUND, zero_point=zps if len(zps) > 1 else zps[0],
                        dtype=dtype, qmin=qmin, qmax=qmax, axis=1)
    want = [ref.requantize_double_round(int(a), mults[c].value, mults[c].shift, zps[c % len(zps)], qmin, qmax)
            for (o, c, i), a in np.ndenumerate(acc)]
    _check(got, want)


# Multipliers over the whole int32 range, the corners included (INT32_MIN * INT32_MIN is the one
# saturating product of SRDHM).
ANY_MULT = st.one_of(st.integers(C.INT32_MIN, C.INT32_MAX), MULT,
                     st.sampled_from([C.INT32_MIN, C.INT32_MIN + 1, -1, 1, -(1 << 30)]))


@st.composite
def double_round_acc(draw, shifts):
    """An int32 accumulator at a tie of the final right shift (or one off it), at the ends of
    int32, or anywhere."""
    shift = draw(st.sampled_from(shifts))
    right = max(-shift, 1)
    tie = draw(st.integers(-(1 << (31 - right)), (1 << (31 - right)) - 1)) * (1 << right) + (1 << (right - 1))
    return draw(st.one_of(
        st.integers(C.INT32_MIN, C.INT32_MAX),
        st.sampled_from([C.INT32_MIN, C.INT32_MIN + 1, C.INT32_MAX, 0, -1, 1]),
        st.sampled_from([tie - 1, tie, tie + 1]).map(lambda v: min(max(v, C.INT32_MIN), C.INT32_MAX)),
    ))


@pytest.mark.parametrize("layout", ["per_tensor_rows", "per_channel_runs", "per_channel_lanes"])
@given(data=st.data())
def test_double_round_simd_lanes_every_isa(layout, data):
    """The explicit SIMD double_round loops (array_kernels.inc run_double_round_int32, 16 lanes with
    AVX-512, 8 with AVX2) equal the reference under every ISA variant: runs longer than a vector
    with a masked or scalar tail, per-channel constants hoisted per run (inner > 1) or loaded per
    lane (inner == 1), shifts -31..31 with both ends, multipliers anywhere in int32 (INT32_MIN
    included), accumulators at ties of the final shift, zero points at the ends of the output
    range, Relu6-like clamps."""
    channels = 1 if layout == "per_tensor_rows" else data.draw(st.integers(2, 4) if layout == "per_channel_runs" else st.integers(9, 20))
    inner = 1 if layout == "per_channel_lanes" else data.draw(st.integers(17, 45))
    outer = data.draw(st.integers(1, 2))
    shifts = [data.draw(st.one_of(st.integers(-31, 31), st.sampled_from([-31, -30, -1, 0, 1, 30, 31])))
              for _ in range(channels)]
    mults = [fx.Multiplier(data.draw(ANY_MULT), s, 32) for s in shifts]
    dtype, zps, qmin, qmax = data.draw(out_stage(channels))
    # each channel's run: drawn edge values (ties of its shift, int32 ends) placed at random
    # positions among uniform int32 values, so full vectors and tails both meet them
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    acc = rng.integers(C.INT32_MIN, C.INT32_MAX, size=(outer, channels, inner), endpoint=True, dtype=np.int64)
    for c in range(channels):
        pool = data.draw(st.lists(double_round_acc([shifts[c]]), min_size=1, max_size=4))
        picks = rng.random(size=(outer, inner)) < 0.7
        acc[:, c, :][picks] = rng.choice(pool, size=int(picks.sum()))
    acc = acc.astype(np.int32)
    want = [ref.requantize_double_round(int(a), mults[c].value, mults[c].shift, zps[c % len(zps)], qmin, qmax)
            for (o, c, i), a in np.ndenumerate(acc)]
    active = _kernels.isa()
    try:
        for isa in _kernels.available_isas():
            _kernels.set_isa(isa)
            got = fx.requantize(acc, mults if channels > 1 else mults[0], fx.Requant.DOUBLE_ROUND,
                                zero_point=zps if len(zps) > 1 else zps[0], dtype=dtype, qmin=qmin, qmax=qmax, axis=1)
            assert got.reshape(-1).tolist() == want, isa
    finally:
        _kernels.set_isa(active)


@given(data=st.data(), channels=st.integers(1, 4))
def test_double_round_half_up_final_shift(data, channels):
    """DOUBLE_ROUND with ``rounding=HALF_UP`` (LiteRT's optimized x86 CONV_2D) against the exact
    reference; ``rounding=HALF_AWAY`` is the plain method."""
    acc = data.draw(acc_tensor(C.INT32_MIN, C.INT32_MAX, channels)).astype(np.int32)
    mults = [fx.Multiplier(data.draw(MULT), data.draw(st.integers(-31, 31)), 32) for _ in range(channels)]
    dtype, zps, qmin, qmax = data.draw(out_stage(channels))
    for mode, model in ((fx.RoundingMode.HALF_UP, ref.requantize_double_round_half_up),
                        (fx.RoundingMode.HALF_AWAY, ref.requantize_double_round)):
        got = fx.requantize(acc, mults, fx.Requant.DOUBLE_ROUND, rounding=mode, zero_point=zps, dtype=dtype,
                            qmin=qmin, qmax=qmax, axis=1)
        want = [model(int(a), mults[c].value, mults[c].shift, zps[c % len(zps)], qmin, qmax)
                for (o, c, i), a in np.ndenumerate(acc)]
        _check(got, want)


def test_double_round_half_up_litert_vectors():
    """Elements of LiteRT 2.3.0's optimized int8 CONV_2D (BUILTIN_WITHOUT_DEFAULT_DELEGATES, x86
    AVX-512; tests/golden/tflite max_pool_same_int8 and hard_swish_int8) where double rounding and
    single rounding both miss: (acc, M, shift, zero point) -> LiteRT's code."""
    cases = [
        (-5211, 1556170252, -7, -16, -45),   # SRDHM -3776; -3776 / 128 = -29.5 -> -29 (double: -30)
        (-16863, 1458971519, -7, -16, -105),  # exact -89.5039: SRDHM -11456 = -89.5 * 128 -> -89
        (-13437, 1319451833, -7, 1, -63),     # exact -64.4995: double rounding gives -64
        (-9273, 1556170252, -7, -16, -68),    # exact -52.4974: double rounding gives -69
    ]
    for acc, m, shift, zp, engine in cases:
        got = fx.requantize(np.array([acc], np.int32), fx.Multiplier(m, shift, 32), fx.Requant.DOUBLE_ROUND,
                            rounding=fx.RoundingMode.HALF_UP, zero_point=zp, dtype="int8")
        assert int(got[0]) == engine == ref.requantize_double_round_half_up(acc, m, shift, zp, -128, 127)
    with pytest.raises(fx.errors.EncodingError, match="half away"):
        fx.requantize(np.array([1], np.int32), fx.Multiplier(1 << 30, -1, 32), fx.Requant.DOUBLE_ROUND,
                      rounding=fx.RoundingMode.HALF_EVEN, dtype="int8")


@pytest.mark.parametrize("acc_dtype, bits", [(np.int32, 32), (np.int64, 48), (np.int64, 64)])
@given(data=st.data(), channels=st.integers(1, 4))
def test_single_round(acc_dtype, bits, data, channels):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    acc = data.draw(acc_tensor(lo, hi, channels)).astype(acc_dtype)
    mults = [fx.Multiplier(data.draw(MULT), data.draw(st.integers(-63, 30)), 32) for _ in range(channels)]
    dtype, zps, qmin, qmax = data.draw(out_stage(channels))
    got = fx.requantize(acc, mults, fx.Requant.SINGLE_ROUND, zero_point=zps, dtype=dtype, qmin=qmin, qmax=qmax,
                        axis=1, acc_bits=bits)
    want = [ref.requantize_single_round(int(a), mults[c].value, mults[c].shift, zps[c % len(zps)], qmin, qmax)
            for (o, c, i), a in np.ndenumerate(acc)]
    _check(got, want)


@given(data=st.data(), channels=st.integers(1, 4))
def test_int64_reduced(data, channels):
    acc = data.draw(acc_tensor(-(1 << 47), (1 << 47) - 1, channels))
    mults = [fx.Multiplier(data.draw(MULT), data.draw(st.integers(-31, 7)), 32) for _ in range(channels)]
    dtype, zps, qmin, qmax = data.draw(out_stage(channels))
    got = fx.requantize(acc, mults, fx.Requant.INT64_REDUCED, zero_point=zps, dtype=dtype, qmin=qmin, qmax=qmax,
                        axis=1, acc_bits=48)
    want = [ref.requantize_int64_reduced(int(a), mults[c].value, mults[c].shift, zps[c % len(zps)], qmin, qmax)
            for (o, c, i), a in np.ndenumerate(acc)]
    _check(got, want)


MODES = st.sampled_from(list(fx.RoundingMode))


@given(data=st.data(), channels=st.integers(1, 4), mode=MODES, seed=st.integers(0, (1 << 64) - 1))
def test_power_of_two(data, channels, mode, seed):
    acc = data.draw(acc_tensor(-(1 << 63), (1 << 63) - 1, channels))
    shifts = [data.draw(st.integers(-63, 63)) for _ in range(channels)]
    mults = [fx.Multiplier(1, s, 1) for s in shifts]
    dtype, zps, qmin, qmax = data.draw(out_stage(channels))
    got = fx.requantize(acc, mults, fx.Requant.POWER_OF_TWO, rounding=mode, seed=seed, zero_point=zps,
                        dtype=dtype, qmin=qmin, qmax=qmax, axis=1)
    want = [ref.requantize_power_of_two(int(a), shifts[c], zps[c % len(zps)], qmin, qmax, int(mode),
                                        ref_round.splitmix64_bits(seed, k))
            for k, ((o, c, i), a) in enumerate(np.ndenumerate(acc))]
    _check(got, want)


@st.composite
def float32_scales(draw):
    kind = draw(st.sampled_from(["any", "pow2", "tiny", "huge"]))
    if kind == "pow2":
        return float(np.float32(2.0 ** draw(st.integers(-40, 10))))
    if kind == "tiny":
        return float(np.float32(draw(st.floats(1e-30, 1e-10))))
    if kind == "huge":
        return float(np.float32(draw(st.floats(1e3, 1e30))))
    return float(np.float32(draw(st.floats(1e-6, 4.0))))


@pytest.mark.parametrize("product_in_float64, zero_point_in_float", [(False, False), (True, True), (True, False), (False, True)])
@given(data=st.data(), channels=st.integers(1, 3), mode=MODES, seed=st.integers(0, (1 << 64) - 1),
       bits=st.sampled_from([32, 64]))
def test_fp32(product_in_float64, zero_point_in_float, data, channels, mode, seed, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    acc = data.draw(acc_tensor(lo, hi, channels)).astype(np.int32 if bits == 32 else np.int64)
    scales = [data.draw(float32_scales()) for _ in range(channels)]
    dtype, zps, qmin, qmax = data.draw(out_stage(channels))
    got = fx.requantize(acc, np.array(scales, np.float32), fx.Requant.FP32, rounding=mode, seed=seed,
                        zero_point=zps, dtype=dtype, qmin=qmin, qmax=qmax, axis=1,
                        product_in_float64=product_in_float64, zero_point_in_float=zero_point_in_float)
    want = [ref.requantize_fp32(int(a), scales[c], zps[c % len(zps)], qmin, qmax, int(mode),
                                ref_round.splitmix64_bits(seed, k), product_in_float64=product_in_float64,
                                zero_point_in_float=zero_point_in_float)
            for k, ((o, c, i), a) in enumerate(np.ndenumerate(acc))]
    _check(got, want)


def test_acc_bits_range_is_enforced():
    with pytest.raises(fx.FxsimError, match=r"acc\[1\].*48-bit"):
        fx.requantize(np.array([0, 1 << 47], np.int64), fx.Multiplier(1 << 30, 0, 32), fx.Requant.SINGLE_ROUND,
                      acc_bits=48)
    with pytest.raises(fx.FxsimError):
        # double rounding is an int32 operation
        fx.requantize(np.array([1 << 40], np.int64), 0.5, fx.Requant.DOUBLE_ROUND)


def test_per_channel_count_mismatch_names_the_problem():
    with pytest.raises(fx.EncodingError, match="3 per-channel parameters"):
        fx.requantize(np.zeros((2, 4), np.int32), np.array([0.1, 0.2, 0.3]), fx.Requant.DOUBLE_ROUND, axis=1)


@pytest.mark.parametrize("product_in_float64, zero_point_in_float", [(False, False), (False, True)])
def test_fp32_clamp_bounds_beyond_float32_precision(product_in_float64, zero_point_in_float):
    # Found by hypothesis: int32 output, zp 2^31 - 1, qmax - zp = -4294967289, which float32
    # rounds to -4294967296, below qmin - zp. The kernel rounds clamp bounds outward, then
    # clamps exactly; the exact answer is qmax.
    got = fx.requantize(np.array([0], np.int32), np.float32(1.0), fx.Requant.FP32, rounding="half_even",
                        zero_point=C.INT32_MAX, dtype="int32", qmin=C.INT32_MIN, qmax=-2147483642,
                        product_in_float64=product_in_float64, zero_point_in_float=zero_point_in_float)
    want = ref.requantize_fp32(0, 1.0, C.INT32_MAX, C.INT32_MIN, -2147483642, int(fx.RoundingMode.HALF_EVEN),
                               product_in_float64=product_in_float64, zero_point_in_float=zero_point_in_float)
    assert got.tolist() == [want] == [-2147483642]
