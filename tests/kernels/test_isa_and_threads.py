"""Every ISA variant and every thread count give the same integers as the baseline on one thread.

The SIMD loops (AVX2, AVX-512BW) and the split across threads must not change a single bit:
this runs large calls (above the size where work is split), stochastic rounding included,
since its draws depend on each element's flat index.
"""

import numpy as np
import pytest

import fxsim as fx
from fxsim import _kernels
from kernel_helpers import assert_isa_and_thread_identical


N = (1 << 18) + 77  # above the parallel threshold, not a multiple of any vector width


def _calls():
    rng = np.random.default_rng(7)
    acc = rng.integers(-(1 << 24), 1 << 24, size=N, dtype=np.int32)
    acc[::97] = np.iinfo(np.int32).max
    acc64 = rng.integers(-(1 << 46), 1 << 46, size=N, dtype=np.int64)
    x = (rng.standard_normal(N) * 3).astype(np.float32)
    x[::89] = (np.round(x[::89] * 8) + 0.5) / 8  # exact ties at scale 1/8
    per_channel = acc[: (N // 8) * 8].reshape(-1, 8)
    enc = fx.Encoding.from_zero_point(0.125, 3, "int8")
    return {
        "double_round": lambda: fx.requantize(acc, 0.0072474273418486118, fx.Requant.DOUBLE_ROUND, zero_point=-3),
        "single_round_int64": lambda: fx.requantize(acc64, 2.0 ** -30 * 1.37, fx.Requant.SINGLE_ROUND, dtype="int16"),
        "int64_reduced": lambda: fx.requantize(acc64, 0.0003 / 4096, fx.Requant.INT64_REDUCED, dtype="int16", acc_bits=48),
        "pot_stochastic": lambda: fx.requantize(acc, 2.0 ** -9, fx.Requant.POWER_OF_TWO, rounding="stochastic", seed=11),
        "fp32_half_even": lambda: fx.requantize(acc, np.float32(0.001), fx.Requant.FP32, rounding="half_even"),
        "fp32_stochastic": lambda: fx.requantize(acc, np.float32(0.001), fx.Requant.FP32, rounding="stochastic", seed=5),
        "per_channel_outer_split": lambda: fx.requantize(
            per_channel, np.linspace(0.001, 0.01, 8), fx.Requant.DOUBLE_ROUND, axis=1),
        "quantize_half_away": lambda: fx.quantize(x, enc, rounding="half_away"),
        "quantize_stochastic": lambda: fx.quantize(x, enc, rounding="stochastic", seed=3),
    }


def test_every_isa_and_thread_count_is_bit_identical(restore_kernels):
    calls = _calls()
    assert_isa_and_thread_identical(calls)


def test_split_call_reports_the_first_bad_index(restore_kernels):
    x = np.zeros(N, np.float32)
    x[N - 5] = np.nan
    x[N // 2 + 1000] = np.inf  # in the second thread's part too: the lowest index wins
    x[N // 2 + 3] = np.inf
    enc = fx.Encoding.from_zero_point(0.1, 0, "int8")
    for threads in (1, 2, 3):
        _kernels.set_num_threads(threads)
        with pytest.raises(fx.FormatError, match=rf"x\[{N // 2 + 3}\]"):
            fx.quantize(x, enc, rounding="half_even")


def test_set_num_threads_rejects_zero():
    with pytest.raises(fx.KernelError):
        _kernels.set_num_threads(0)


def test_public_thread_setting(restore_kernels):
    fx.set_num_threads(2)
    assert fx.get_num_threads() == 2
    assert fx.kernel_isa() in _kernels.available_isas()
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(fx.FxsimError):
            fx.set_num_threads(bad)
