"""Profiling throughput of the calibration observers (issue 5 "Speed"): values per second of
fxsim's compiled observers beside a numpy implementation of the same statistics.

Groups (pytest-benchmark; ``pytest bench/bench_calibration.py --benchmark-only``):

* ``minmax``: ``_stats.minmax_f32`` (one pass: min, max and the NaN/Inf count) vs numpy's
  ``x.min()``, ``x.max()`` and ``np.isfinite(x).all()`` (three passes);
* ``histogram``: ``_stats.histogram_add_f32`` into 512 bins vs ``np.histogram`` on the same range;
* ``observer``: ``TensorObserver.update`` (min/max, NaN check, rescaling histogram) vs the numpy
  sequence that computes the same things.

Inputs are named MobileNetV2 activation shapes, seeded, allocated outside the timed call.
``python bench/bench_calibration.py`` prints a table of values/s and the ratio to numpy.

Measured (2 vCPUs shared, load average ~11): minmax 14.1-14.4 G values/s vs numpy 5.4-5.6
(2.6x); histogram 0.85-0.90 G vs 0.16-0.17 (5.2-5.4x); observer 0.83-0.84 G vs 0.16 (5.1x).
The min/max pass was already one fused AVX2 pass; restructuring it (four independent min/max
chains, NaN found by one unordered compare per pair of vectors instead of a subtract and an add
per vector) moved it from 13.7 to 14.1 G values/s: it runs at the cache bandwidth of these
1.6-2 MB tensors (~56 GB/s), and numpy's min and max are each one SIMD pass at nearly that
speed, so against numpy's three passes the ratio cannot pass ~3x: the 5x goal holds for the
histogram and the whole observer, not for min/max alone.
"""

import time

import numpy as np
import pytest

from fxsim.calib import TensorObserver
from fxsim.calib._compiled import stats

SHAPES = {
    # MobileNetV2 expanded activation 144 channels at 56x56
    "mobilenetv2_expand_144_56": (1, 144, 56, 56),
    # MobileNetV2 first block output 32 channels at 112x112
    "mobilenetv2_block1_32_112": (1, 32, 112, 112),
    # a batch of 8 of the 1280-channel 7x7 head
    "mobilenetv2_head_8x1280_7": (8, 1280, 7, 7),
}


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32).reshape(-1)


def numpy_minmax(x):
    return float(x.min()), float(x.max()), bool(np.isfinite(x).all())


def numpy_histogram(x, lo, hi, counts):
    h, _ = np.histogram(x, bins=counts.size, range=(lo, hi))
    counts += h


def fxsim_histogram(x, lo, hi, counts):
    stats.histogram_add_f32(x, lo, counts.size / (hi - lo), counts)


class NumpyObserver:
    """The statistics of ``TensorObserver`` (min, max, NaN check, a 512-bin histogram that
    grows its range by re-binning) written with numpy."""

    def __init__(self):
        self.lo = self.hi = None
        self.counts = np.zeros(512)

    def update(self, x):
        if not np.isfinite(x).all():
            raise ValueError("non-finite")
        lo, hi = float(x.min()), float(x.max())
        if self.lo is None:
            self.lo, self.hi = lo, hi
        elif lo < self.lo or hi > self.hi:
            new_lo, new_hi = min(lo, self.lo), max(hi, self.hi)
            cdf = np.concatenate(([0.0], np.cumsum(self.counts)))
            at = np.interp(np.linspace(new_lo, new_hi, 513), np.linspace(self.lo, self.hi, 513), cdf)
            self.counts = np.diff(at)
            self.lo, self.hi = new_lo, new_hi
        h, _ = np.histogram(x, bins=512, range=(self.lo, self.hi))
        self.counts += h


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.benchmark(group="calibration-minmax")
def test_minmax_fxsim(benchmark, shape):
    x = _data(SHAPES[shape])
    lo, hi, bad = benchmark(stats.minmax_f32, x)
    assert (lo, hi, bad == 0) == numpy_minmax(x)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.benchmark(group="calibration-minmax")
def test_minmax_numpy(benchmark, shape):
    benchmark(numpy_minmax, _data(SHAPES[shape]))


@pytest.mark.parametrize("impl", ["fxsim", "numpy"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.benchmark(group="calibration-histogram")
def test_histogram(benchmark, shape, impl):
    x = _data(SHAPES[shape])
    lo, hi = float(x.min()), float(x.max())
    counts = np.zeros(512)
    benchmark(fxsim_histogram if impl == "fxsim" else numpy_histogram, x, lo, hi, counts)


@pytest.mark.parametrize("impl", ["fxsim", "numpy"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.benchmark(group="calibration-observer")
def test_observer_update(benchmark, shape, impl):
    x = _data(SHAPES[shape])
    obs = TensorObserver("t") if impl == "fxsim" else NumpyObserver()
    benchmark(obs.update, x)


def _best(fn, *args, repeat=15):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    import argparse
    import os

    import fxsim as fx

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="fxsim thread counts to measure (numpy's passes are single-threaded)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load {load[0]:.2f} {load[1]:.2f}; best of {args.repeat}")
    print(f"{'shape':28} {'observer':10} {'threads':>7} {'fxsim Mvalues/s':>16} {'numpy Mvalues/s':>16} {'ratio':>6}")
    for name, shape in SHAPES.items():
        x = _data(shape)
        lo, hi = float(x.min()), float(x.max())
        rows = [
            ("minmax", (stats.minmax_f32, x), (numpy_minmax, x)),
            ("histogram", (fxsim_histogram, x, lo, hi, np.zeros(512)), (numpy_histogram, x, lo, hi, np.zeros(512))),
            ("observer", (TensorObserver("t").update, x), (NumpyObserver().update, x)),
        ]
        for what, fx_call, np_call in rows:
            t_np = _best(*np_call, repeat=args.repeat)
            for threads in args.threads:
                fx.set_num_threads(threads)
                t_fx = _best(*fx_call, repeat=args.repeat)
                print(f"{name:28} {what:10} {threads:7d} {x.size / t_fx / 1e6:16.0f} {x.size / t_np / 1e6:16.0f} "
                      f"{t_np / t_fx:6.1f}")


if __name__ == "__main__":
    main()
