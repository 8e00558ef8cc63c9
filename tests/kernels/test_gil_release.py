"""The array kernels release the GIL while they run, and FXSIM_NUM_THREADS sets the thread count.

GIL: a second Python thread counts while the main thread is inside one kernel call. The switch
interval is raised to 10 s for the test, so the main thread never gives the GIL away on its own
between reading the counter and entering the call: the counter can move during the call only if
the kernel released the GIL (DESIGN.md "binding": releases the GIL). Deterministic, not a timing.
"""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import fxsim as fx
from fxsim import _kernels


def _kernel_calls():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(1, 64, 56, 56), dtype=np.uint8)
    w = rng.integers(-127, 128, size=(64, 64, 3, 3), dtype=np.int8)
    zero = np.zeros(1, np.int32)
    acc = np.empty((1, 64, 56, 56), np.int32)
    codes = np.empty((1, 64, 56, 56), np.uint8)
    geometry = ((1, 1), (1, 1), (1, 1, 1, 1), 1, "wrap", 32)
    rq = (None, "double_round", np.array([1 << 30], np.int32), np.array([-10], np.int32), None,
          np.array([128], np.int32), 0, 255, 0, 0, False, False)
    x16 = np.ascontiguousarray(x[:, :16, :28, :28])
    w16 = np.ascontiguousarray(w[:16, :16])
    acc16 = np.empty((1, 16, 28, 28), np.int32)
    a = rng.integers(-128, 128, size=(256, 768), dtype=np.int8)
    b = rng.integers(-128, 128, size=(768, 768), dtype=np.int8)
    mm_acc = np.empty((256, 768), np.int32)
    mm_codes = np.empty((256, 768), np.int8)
    big = rng.integers(-(1 << 20), 1 << 20, size=1 << 23, dtype=np.int32)
    big_out = np.empty(big.shape, np.int8)
    return {
        "conv2d_accumulate": lambda: _kernels.conv2d_accumulate(x, w, 128, zero, None, *geometry, acc),
        "conv2d_requantize": lambda: _kernels.conv2d_requantize(x, w, 128, zero, None, *geometry, *rq, codes),
        "conv2d_definition_saturate": lambda: _kernels.conv2d_accumulate(
            x16, w16, 128, zero, None, (1, 1), (1, 1), (1, 1, 1, 1), 1, "saturate", 32, acc16),
        "matmul_accumulate": lambda: _kernels.matmul_accumulate(a, b, 0, zero, None, "wrap", 32, mm_acc),
        "matmul_requantize": lambda: _kernels.matmul_requantize(a, b, 0, zero, None, "wrap", 32, *rq[:5],
                                                                np.zeros(1, np.int32), -128, 127, 0, 0, False,
                                                                False, mm_codes),
        "requantize_double_round": lambda: _kernels.requantize_double_round(
            big, np.array([1 << 30], np.int32), np.array([-12], np.int32), zero, -128, 127, 1, 32, big_out),
    }


@pytest.mark.parametrize("name", list(_kernel_calls()))
def test_kernel_releases_the_gil(name, restore_kernels):
    _kernels.set_num_threads(1)
    call = _kernel_calls()[name]
    count = [0]
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1
            time.sleep(0)  # gives the GIL back at once: the main thread never waits for a switch

    old = sys.getswitchinterval()
    worker = threading.Thread(target=counter)
    try:
        sys.setswitchinterval(10.0)
        worker.start()
        while count[0] == 0:  # the counter runs
            time.sleep(0.001)
        moved, calls, deadline = 0, 0, time.monotonic() + 5.0
        # repeated calls: the counter needs the OS to schedule it during one, which on a loaded
        # machine can take many (5 calls were not always enough there). More calls cannot make
        # a kernel that holds the GIL pass: the counter only runs while the GIL is released,
        # and outside the calls the main thread keeps it (switch interval 10 s).
        while not moved and (calls < 5 or time.monotonic() < deadline):
            before = count[0]
            call()
            calls += 1
            moved = count[0] - before
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(old)
    assert moved > 0, f"{name} held the GIL for its whole run"


def test_environment_variable_sets_the_thread_count(tmp_path):
    # the child imports the fxsim this test runs (installed or in-tree), from a directory without
    # a source tree in it: `python -c` puts the working directory first on sys.path
    import fxsim

    code = "import fxsim; print(fxsim.get_num_threads())"
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fxsim.__file__)))
    for n in ("1", "3"):
        env = {**os.environ, "FXSIM_NUM_THREADS": n, "PYTHONPATH": package_parent}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                             cwd=tmp_path).stdout
        assert out.strip() == n
