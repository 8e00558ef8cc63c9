"""Benchmarks import their helpers (numpy_equivalents, shapes) from this folder; shared fixtures."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def threads():
    """A setter of the kernel thread count; the count is restored after the benchmark."""
    from fxsim import _kernels

    saved = _kernels.num_threads()
    yield _kernels.set_num_threads
    _kernels.set_num_threads(saved)
