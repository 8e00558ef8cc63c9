"""Throughput of quantize and requantize (pytest-benchmark).

Groups put fxsim beside the numpy expression computing the same integers (checked equal before
timing) on 1M elements, and beside a plain copy of the input bytes on 16M elements. Inputs are
seeded; allocation happens outside the timed call. Run: ``pytest bench --benchmark-only``.
"""

import numpy as np
import pytest

import fxsim as fx
from fxsim import _kernels

import numpy_equivalents as npq

SCALE = 0.0072474273418486118  # a non-power-of-two real multiplier (research D2)
ZP = -3


def _acc(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(-(1 << 20), 1 << 20, size=n, dtype=np.int32)


def _floats(n, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * 0.7).astype(np.float32)


M = fx.quantize_multiplier(SCALE, derivation="tflite")
CASES = {
    "double_round": (
        dict(method=fx.Requant.DOUBLE_ROUND),
        lambda a: npq.requantize_double_round(a, M.value, M.shift, ZP, -128, 127, np.int8),
    ),
    "single_round": (
        dict(method=fx.Requant.SINGLE_ROUND),
        lambda a: npq.requantize_single_round(a, M.value, M.shift, ZP, -128, 127, np.int8),
    ),
    "fp32_half_even": (
        dict(method=fx.Requant.FP32, rounding=fx.RoundingMode.HALF_EVEN),
        lambda a: npq.requantize_fp32(a, np.float32(SCALE), ZP, -128, 127, np.int8),
    ),
    "power_of_two_half_up": (
        dict(method=fx.Requant.POWER_OF_TWO, rounding=fx.RoundingMode.HALF_UP),
        lambda a: npq.requantize_power_of_two_half_up(a, 7, ZP, -128, 127, np.int8),
    ),
}


def _scale_for(name):
    return 2.0 ** -7 if name == "power_of_two_half_up" else (np.float32(SCALE) if name.startswith("fp32") else SCALE)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.benchmark(group="requantize-1M")
def test_requantize_1m_fxsim(benchmark, name):
    kwargs, reference = CASES[name]
    acc = _acc(1 << 20)
    out = fx.requantize(acc, _scale_for(name), zero_point=ZP, dtype="int8", **kwargs)
    assert np.array_equal(out, reference(acc))
    benchmark.extra_info["elements"] = acc.size
    benchmark(fx.requantize, acc, _scale_for(name), zero_point=ZP, dtype="int8", **kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.benchmark(group="requantize-1M")
def test_requantize_1m_numpy(benchmark, name):
    _, reference = CASES[name]
    acc = _acc(1 << 20)
    benchmark.extra_info["elements"] = acc.size
    benchmark(reference, acc)


def _kernel_call(name, acc, out):
    """The bare kernel call (no Python argument handling), for the 16M memory-bound group."""
    zp = np.array([ZP], np.int32)
    if name == "double_round":
        return lambda: _kernels.requantize_double_round(
            acc, np.array([M.value], np.int32), np.array([M.shift], np.int32), zp, -128, 127, 1, 32, out)
    if name == "fp32_half_even":
        return lambda: _kernels.requantize_fp32(
            acc, np.array([SCALE], np.float32), zp, -128, 127, 1, 32, 0, 0, False, False, out)
    raise KeyError(name)


@pytest.mark.parametrize("name", ["double_round", "fp32_half_even"])
@pytest.mark.benchmark(group="requantize-16M")
def test_requantize_16m_kernel(benchmark, name):
    acc = _acc(1 << 24)
    out = np.empty(acc.size, np.int8)
    call = _kernel_call(name, acc, out)
    call()
    assert np.array_equal(out, fx.requantize(acc, _scale_for(name), zero_point=ZP, dtype="int8", **CASES[name][0]))
    benchmark.extra_info["elements"] = acc.size
    benchmark(call)


@pytest.mark.benchmark(group="requantize-16M")
def test_requantize_16m_copy(benchmark):
    acc = _acc(1 << 24)
    dst = np.empty_like(acc)
    benchmark.extra_info["elements"] = acc.size
    benchmark(np.copyto, dst, acc)


QUANTIZE_CASES = {
    "half_even": (fx.RoundingMode.HALF_EVEN, npq.quantize_half_even),
    "half_away": (fx.RoundingMode.HALF_AWAY, npq.quantize_half_away),
}
ENC = fx.Encoding.from_zero_point(0.0123, -5, "int8")


@pytest.mark.parametrize("name", sorted(QUANTIZE_CASES))
@pytest.mark.benchmark(group="quantize-1M")
def test_quantize_1m_fxsim(benchmark, name):
    rounding, reference = QUANTIZE_CASES[name]
    x = _floats(1 << 20)
    out = fx.quantize(x, ENC, rounding=rounding)
    assert np.array_equal(out, reference(x, np.float32(ENC.scale), ENC.zero_point, -128, 127, np.int8))
    benchmark.extra_info["elements"] = x.size
    benchmark(fx.quantize, x, ENC, rounding=rounding)


@pytest.mark.parametrize("name", sorted(QUANTIZE_CASES))
@pytest.mark.benchmark(group="quantize-1M")
def test_quantize_1m_numpy(benchmark, name):
    _, reference = QUANTIZE_CASES[name]
    x = _floats(1 << 20)
    benchmark.extra_info["elements"] = x.size
    benchmark(reference, x, np.float32(ENC.scale), ENC.zero_point, -128, 127, np.int8)


@pytest.mark.benchmark(group="quantize-16M")
def test_quantize_16m_kernel(benchmark):
    x = _floats(1 << 24)
    out = np.empty(x.size, np.int8)
    args = (x, np.array([ENC.scale], np.float32), np.array([ENC.zero_point], np.int32), -128, 127, 1,
            int(fx.RoundingMode.HALF_EVEN), 0, False, out)
    _kernels.quantize(*args)
    benchmark.extra_info["elements"] = x.size
    benchmark(_kernels.quantize, *args)


@pytest.mark.benchmark(group="quantize-16M")
def test_quantize_16m_copy(benchmark):
    x = _floats(1 << 24)
    dst = np.empty_like(x)
    benchmark.extra_info["elements"] = x.size
    benchmark(np.copyto, dst, x)
