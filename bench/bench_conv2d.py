"""Throughput of the exact Conv2D accumulation (pytest-benchmark), on the layers of shapes.py.

u8 activations (zero point 128) x s8 weights (per-channel zero points 0), int32 bias, WRAP at 32
bits (the order-free fast path), 1 and 2 threads; beside numpy (im2col + int64 matmul) where that
is cheap, checked equal before timing. Inputs are seeded; allocation happens outside the timed
call; MACs and GMAC/s go in extra_info. Run: ``pytest bench/bench_conv2d.py --benchmark-only``.
"""

import numpy as np
import pytest

from fxsim import _kernels

import shapes

X_ZP = 128


def _inputs(spec, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=spec["x"], dtype=np.uint8)
    w = rng.integers(-127, 128, size=spec["w"], dtype=np.int8)
    bias = rng.integers(-(1 << 16), 1 << 16, size=spec["w"][0], dtype=np.int32)
    oh, ow = shapes.conv2d_output_size(spec)
    out = np.empty((spec["x"][0], spec["w"][0], oh, ow), np.int32)
    return x, w, bias, out


def _call(spec, x, w, bias, out, packed=False):
    """The kernel call; packed: w packed once first (PackedConvWeights, as the simulator prepares it)."""
    zp = np.zeros(1, np.int32)
    if packed:
        w, zp = _kernels.PackedConvWeights(w, zp), None
    return lambda: _kernels.conv2d_accumulate(x, w, X_ZP, zp, bias, spec["stride"], (1, 1), spec["pads"],
                                              spec["groups"], "wrap", 32, out)


def numpy_conv2d(spec, x, w, bias):
    """im2col + int64 matmul per group (the exact sums; they fit int32 for these layers)."""
    (pt, pl, pb, pr), (sh, sw), groups = spec["pads"], spec["stride"], spec["groups"]
    c_out, cig, kh, kw = w.shape
    xp = np.pad(x.astype(np.int64) - X_ZP, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # N C OH OW KH KW
    n, _, oh, ow = win.shape[:4]
    cog = c_out // groups
    out = np.empty((n, c_out, oh, ow), np.int64)
    for g in range(groups):
        cols = win[:, g * cig:(g + 1) * cig].transpose(0, 2, 3, 1, 4, 5).reshape(n, oh * ow, cig * kh * kw)
        wg = w[g * cog:(g + 1) * cog].reshape(cog, -1).astype(np.int64)
        out[:, g * cog:(g + 1) * cog] = (cols @ wg.T).transpose(0, 2, 1).reshape(n, cog, oh, ow)
    return (out + bias.reshape(1, -1, 1, 1)).astype(np.int32)


@pytest.mark.parametrize("packed", [False, True], ids=["array_w", "packed_w"])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("layer", sorted(shapes.CONV2D))
@pytest.mark.benchmark(group="conv2d-kernel")
def test_conv2d_fxsim(benchmark, threads, layer, n_threads, packed):
    spec = shapes.CONV2D[layer]
    x, w, bias, out = _inputs(spec)
    threads(n_threads)
    call = _call(spec, x, w, bias, out, packed)
    call()
    shapes.benchmark_macs(benchmark, shapes.conv2d_macs(spec), call)



@pytest.mark.parametrize("layer", sorted(shapes.CONV2D))
@pytest.mark.benchmark(group="conv2d-numpy")
def test_conv2d_numpy(benchmark, layer):
    spec = shapes.CONV2D[layer]
    x, w, bias, out = _inputs(spec)
    _call(spec, x, w, bias, out)()
    assert np.array_equal(numpy_conv2d(spec, x, w, bias), out)
    shapes.benchmark_macs(benchmark, shapes.conv2d_macs(spec), numpy_conv2d, spec, x, w, bias)


# the fused requantization: per-channel double rounding to uint8 codes (TFLite's per-channel path)
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("layer", sorted(shapes.CONV2D))
@pytest.mark.benchmark(group="conv2d-fused")
def test_conv2d_requantize_fxsim(benchmark, threads, layer, n_threads):
    spec = shapes.CONV2D[layer]
    x, w, bias, out = _inputs(spec)
    c_out = spec["w"][0]
    rng = np.random.default_rng(1)
    rq = (None, "double_round", rng.integers(1 << 30, (1 << 31) - 1, size=c_out).astype(np.int32),
          np.full(c_out, -10, np.int32), None, np.array([128], np.int32), 0, 255, 0, 0, False, False)
    codes = np.empty(out.shape, np.uint8)
    threads(n_threads)
    shapes.benchmark_macs(benchmark, shapes.conv2d_macs(spec), _kernels.conv2d_requantize, x, w, X_ZP,
                          np.zeros(1, np.int32), bias, spec["stride"], (1, 1), spec["pads"], spec["groups"], "wrap",
                          32, *rq, codes)
