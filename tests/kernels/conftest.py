"""Fixtures shared by the kernel tests."""

import pytest

from fxsim import _kernels


@pytest.fixture
def restore_kernels():
    """Put the ISA variant and thread count back after a test that changes them."""
    isa, threads = _kernels.isa(), _kernels.num_threads()
    yield
    _kernels.set_isa(isa)
    _kernels.set_num_threads(threads)
