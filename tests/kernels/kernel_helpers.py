"""Helpers shared by the kernel tests: element-type ranges, bounded draws and the ISA x thread
identity check. (pytest puts this folder on sys.path, so tests import it by name.)"""

from contextlib import contextmanager

import numpy as np
from hypothesis import strategies as st

from fxsim import _kernels


def type_range(name):
    """(min, max) of an element type name; "int4" is [-8, 7] held in int8."""
    if name == "int4":
        return -8, 7
    info = np.iinfo(name)
    return int(info.min), int(info.max)


def storage(name):
    """The numpy container of an element type name."""
    return np.int8 if name == "int4" else np.dtype(name)


def values(draw, name, count):
    """``count`` values of an element type, the range ends drawn often."""
    lo, hi = type_range(name)
    elem = st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi]))
    return draw(st.lists(elem, min_size=count, max_size=count))


def codes_with_extremes(draw, name, count):
    """``count`` codes of an element type (more than hypothesis draws as a list): seeded uniform
    codes with every k-th one set to a drawn range end."""
    lo, hi = type_range(name)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = rng.integers(lo, hi + 1, size=count)
    codes[draw(st.integers(0, 6))::draw(st.integers(1, 7))] = draw(st.sampled_from([lo, hi]))
    return codes.tolist()


def bias_values(draw, count, magnitude=1000):
    """A bias for ``count`` channels: ``(None, None)``, or int32 / int64 values in
    [-magnitude, magnitude] with the type's range ends drawn often: ``(bias, bias_kind)``."""
    bias_kind = draw(st.sampled_from([None, "int32", "int64"]))
    if bias_kind is None:
        return None, None
    lo, hi = type_range(bias_kind)
    elem = st.one_of(st.integers(-magnitude, magnitude), st.sampled_from([lo, hi]))
    return draw(st.lists(elem, min_size=count, max_size=count)), bias_kind


def zero_point(draw, name):
    """A zero point of an element type: the range ends, 0, or anything in range."""
    lo, hi = type_range(name)
    return draw(st.one_of(st.sampled_from([lo, hi, 0 if lo <= 0 else lo]), st.integers(lo, hi)))


def assert_isa_and_thread_identical(calls):
    """Each call gives, on every ISA variant and 1-3 threads, what it gives on the baseline on
    one thread (use with the restore_kernels fixture)."""
    _kernels.set_isa("baseline")
    _kernels.set_num_threads(1)
    expected = {name: call() for name, call in calls.items()}
    for isa in _kernels.available_isas():
        _kernels.set_isa(isa)
        for threads in (1, 2, 3):
            _kernels.set_num_threads(threads)
            for name, call in calls.items():
                assert np.array_equal(call(), expected[name]), (isa, threads, name)


# The ISA variants that have the direct conv kernels (csrc/fxsim/kernels/direct_conv_kernels.h):
# avx512vnni runs their u8 x s8 loops with vpdpbusd, avx512bw with its exact emulation
# (dot4_avx512.h), avx2 with its own ymm loops (direct_conv_kernels_avx2.cc: the emulation on
# vpshufb-made int16 halves), and each path is its own code. [None] (the active variant) on a CPU
# with none of them.
DIRECT_CONV_ISAS = [isa for isa in _kernels.available_isas() if isa in ("avx2", "avx512bw", "avx512vnni")] or [None]


@contextmanager
def isa_variant(isa):
    """Runs the body with ISA variant ``isa`` active (None: leave the active one), then puts the
    previous variant back."""
    before = _kernels.isa()
    if isa is not None:
        _kernels.set_isa(isa)
    try:
        yield
    finally:
        _kernels.set_isa(before)
