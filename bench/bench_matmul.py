"""Throughput of the exact MatMul accumulation (pytest-benchmark), on the shapes of shapes.py.

u8 A (zero point 128) x s8 B (zero point 0), int32 bias, WRAP at 32 bits, 1 and 2 threads;
beside numpy's int64 matmul (checked equal before timing). Seeded inputs, allocation outside the
timed call, MACs and GMAC/s in extra_info. Run: ``pytest bench/bench_matmul.py --benchmark-only``.
"""

import numpy as np
import pytest

from fxsim import _kernels

import shapes

A_ZP = 128


def _inputs(spec, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, size=(spec["m"], spec["k"]), dtype=np.uint8)
    b = rng.integers(-127, 128, size=(spec["k"], spec["n"]), dtype=np.int8)
    bias = rng.integers(-(1 << 16), 1 << 16, size=spec["n"], dtype=np.int32)
    return a, b, bias, np.empty((spec["m"], spec["n"]), np.int32)


def numpy_matmul(a, b, bias):
    return ((a.astype(np.int64) - A_ZP) @ b.astype(np.int64) + bias).astype(np.int32)


@pytest.mark.parametrize("packed", [False, True], ids=["array_b", "packed_b"])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("layer", sorted(shapes.MATMUL))
@pytest.mark.benchmark(group="matmul-kernel")
def test_matmul_fxsim(benchmark, threads, layer, n_threads, packed):
    """b as an array (packed inside each call) or packed once (PackedMatMulWeights, as the
    simulator prepares it)."""
    spec = shapes.MATMUL[layer]
    a, b, bias, out = _inputs(spec)
    threads(n_threads)
    zp = np.zeros(1, np.int32)
    if packed:
        b, zp = _kernels.PackedMatMulWeights(b, zp), None
    shapes.benchmark_macs(benchmark, shapes.matmul_macs(spec), _kernels.matmul_accumulate, a, b, A_ZP, zp, bias,
                          "wrap", 32, out)


@pytest.mark.parametrize("layer", sorted(shapes.MATMUL))
@pytest.mark.benchmark(group="matmul-numpy")
def test_matmul_numpy(benchmark, layer):
    spec = shapes.MATMUL[layer]
    a, b, bias, out = _inputs(spec)
    _kernels.matmul_accumulate(a, b, A_ZP, np.zeros(1, np.int32), bias, "wrap", 32, out)
    assert np.array_equal(numpy_matmul(a, b, bias), out)
    shapes.benchmark_macs(benchmark, shapes.matmul_macs(spec), numpy_matmul, a, b, bias)


# the fused requantization: per-column double rounding to uint8 codes (TFLite's per-channel path)
def _requant_args(n, seed=1):
    rng = np.random.default_rng(seed)
    mult = rng.integers(1 << 30, (1 << 31) - 1, size=n).astype(np.int32)
    shift = np.full(n, -10, np.int32)
    return (None, "double_round", mult, shift, None, np.array([128], np.int32), 0, 255, 0, 0, False, False)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("layer", sorted(shapes.MATMUL))
@pytest.mark.benchmark(group="matmul-fused")
def test_matmul_requantize_fxsim(benchmark, threads, layer, n_threads):
    spec = shapes.MATMUL[layer]
    a, b, bias, _ = _inputs(spec)
    codes = np.empty((spec["m"], spec["n"]), np.uint8)
    threads(n_threads)
    shapes.benchmark_macs(benchmark, shapes.matmul_macs(spec), _kernels.matmul_requantize, a, b, A_ZP,
                          np.zeros(1, np.int32), bias, "wrap", 32, *_requant_args(spec["n"]), codes)
