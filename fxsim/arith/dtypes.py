"""Integer storage types and argument validation shared by the arithmetic API.

A *storage type* says how integer codes are held: bit width, signedness, the numpy container
that holds them (4-bit values live in an int8/uint8 container, one value per element,
range-checked; see ``fxsim.arith.intn`` for packing two per byte) and the value range
``[min, max]``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re

import numpy as np

from fxsim.errors import EncodingError

__all__ = [
    "StorageType",
    "parse_dtype",
    "storage_dtype",
    "int_range",
    "check_bitwidth",
    "check_int",
    "check_bool",
    "check_positive_finite",
    "VALUE_BITWIDTHS",
    "BIAS_BITWIDTHS",
    "STORAGE_NAMES",
]

#: Bit widths an activation or weight encoding may have (DESIGN.md: 4..16).
VALUE_BITWIDTHS = tuple(range(4, 17))
#: Bit widths a bias encoding may have (s8 with its own position, s32, s64).
BIAS_BITWIDTHS = (8, 32, 64)


@dataclasses.dataclass(frozen=True)
class StorageType:
    """An integer storage type: ``name`` ("int8", "uint4"...), ``bitwidth``, ``signed``,
    ``container`` (the numpy dtype that holds the codes), ``min`` and ``max`` (Python ints:
    ``[-2^(bw-1), 2^(bw-1) - 1]`` signed, ``[0, 2^bw - 1]`` unsigned)."""

    name: str
    bitwidth: int
    signed: bool
    container: np.dtype
    min: int
    max: int

    def __repr__(self) -> str:
        return f"StorageType({self.name!r})"


def int_range(bitwidth: int, signed: bool) -> tuple[int, int]:
    """``(min, max)`` of a ``bitwidth``-bit integer as Python ints:
    ``[-2^(bw-1), 2^(bw-1) - 1]`` if ``signed`` else ``[0, 2^bw - 1]``."""
    bw = check_bitwidth(bitwidth, range(1, 65), "bitwidth")
    signed = check_bool(signed, "signed")
    if signed:
        return -(1 << (bw - 1)), (1 << (bw - 1)) - 1
    return 0, (1 << bw) - 1


def storage_dtype(bitwidth: int, signed: bool) -> np.dtype:
    """The smallest numpy integer dtype of the given signedness holding ``bitwidth`` bits
    (1..64): 4-bit values live in int8/uint8, 12-bit ones in int16/uint16, and so on."""
    bw = check_bitwidth(bitwidth, range(1, 65), "bitwidth")
    signed = check_bool(signed, "signed")
    for width in (8, 16, 32, 64):
        if bw <= width:
            return np.dtype(f"{'int' if signed else 'uint'}{width}")
    raise AssertionError("unreachable")  # pragma: no cover


def parse_dtype(spec, what: str = "dtype") -> StorageType:
    """Parse a storage type.

    ``spec`` is a ``StorageType``, a name in ``STORAGE_NAMES`` ("int8", "uint8", "int16",
    "uint16", "int32", "int64", "int4", "uint4"), a TARGETS.md alias ("s8", "u8", "s4"...),
    ``"int<N>"`` / ``"uint<N>"`` for a value bit width N in 4..16 (e.g. "uint12": 12-bit codes
    in a uint16 container), or
    a numpy dtype / scalar type of int8, uint8, int16, uint16, int32 or int64. Raises
    ``EncodingError`` naming ``what`` and listing the valid names otherwise (uint32, uint64,
    floats, bool: not storage types of fxsim).
    """
    if isinstance(spec, StorageType):
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower()
        key = _ALIASES.get(key, key)
        if key in _STORAGE:
            return _STORAGE[key]
        m = re.fullmatch(r"(u?)int(\d+)", key)
        if m and int(m.group(2)) in VALUE_BITWIDTHS:
            return _make(key, int(m.group(2)), not m.group(1))
        raise EncodingError(
            f"{what}: unknown storage type {spec!r}; expected one of {', '.join(STORAGE_NAMES)}"
        )
    try:
        dt = np.dtype(spec)
    except (TypeError, ValueError):
        dt = None
    if dt is not None and spec is not None and dt.name in _STORAGE:
        return _STORAGE[dt.name]
    raise EncodingError(
        f"{what}: expected a storage type name ({', '.join(STORAGE_NAMES)}) or an integer "
        f"numpy dtype among them, got {spec!r}"
    )


def check_bool(value, what: str) -> bool:
    """Return ``value`` as a Python bool; it must be a ``bool`` or ``np.bool_`` (no 0/1)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise EncodingError(f"{what}: expected a bool, got {type(value).__name__} {value!r}")


def check_int(value, what: str) -> int:
    """Return ``value`` as a Python int. Accepts Python/numpy integers and integral finite
    floats (``-128.0`` as read from JSON); rejects bool, non-integral or non-finite values."""
    if isinstance(value, (bool, np.bool_)):
        raise EncodingError(f"{what}: expected an integer, got bool {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isfinite(f) and f == math.floor(f):
            return int(f)
        raise EncodingError(f"{what}: expected an integer, got {value!r}")
    raise EncodingError(f"{what}: expected an integer, got {type(value).__name__} {value!r}")


def check_bitwidth(bw, allowed, what: str = "bitwidth") -> int:
    """Return ``bw`` as a Python int if it is an integer in ``allowed`` (a collection or a
    range); else raise ``EncodingError`` naming ``what`` and the allowed values."""
    if isinstance(bw, (bool, np.bool_)) or not isinstance(bw, numbers.Integral):
        raise EncodingError(f"{what}: expected an integer bit width, got {bw!r}")
    bw = int(bw)
    if bw not in allowed:
        values = sorted(allowed)
        if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
            desc = f"{values[0]}..{values[-1]}"
        else:
            desc = ", ".join(str(a) for a in allowed)
        raise EncodingError(f"{what}: bit width {bw} is not supported; expected {desc}")
    return bw


def check_positive_finite(value, what: str) -> float:
    """Return ``value`` as a Python float if it is a finite real number > 0; else raise
    ``EncodingError`` naming ``what``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise EncodingError(
            f"{what}: expected a finite real number > 0, got {type(value).__name__} {value!r}"
        )
    f = float(value)
    if not (math.isfinite(f) and f > 0.0):
        raise EncodingError(f"{what}: expected a finite real number > 0, got {value!r}")
    return f


def _make(name: str, bitwidth: int, signed: bool) -> StorageType:
    lo, hi = int_range(bitwidth, signed)
    return StorageType(name, bitwidth, signed, storage_dtype(bitwidth, signed), lo, hi)


_STORAGE = {
    name: _make(name, bw, s)
    for name, bw, s in [
        ("int4", 4, True), ("uint4", 4, False),
        ("int8", 8, True), ("uint8", 8, False),
        ("int16", 16, True), ("uint16", 16, False),
        ("int32", 32, True), ("int64", 64, True),
    ]
}
#: The storage names ``parse_dtype`` accepts (plus the short aliases of TARGETS.md).
STORAGE_NAMES = tuple(_STORAGE)
_ALIASES = {"s4": "int4", "u4": "uint4", "s8": "int8", "u8": "uint8", "s16": "int16",
            "u16": "uint16", "s32": "int32", "s64": "int64"}
