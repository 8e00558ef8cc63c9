"""Packed 4-bit storage: two values per byte, the first in the low nibble.

``layout="dense"`` packs the whole tensor as one run of nibbles (TFLite
``UnpackDenseInt4IntoInt8`` in ``portable_tensor_utils.cc``; ONNX int4, "the first element is
stored in the 4 LSB", ``docs/technical/int4.md``). ``layout="per_channel"`` is the QNN layout in
which each output channel starts on a fresh byte (27 values per channel -> 14 bytes per
channel): the tensor is ``channels`` equal slices in memory order, so the channel axis must be
the outermost one (axis 0 of Conv weights ``[O, I, kh, kw]``).

The nibble arithmetic is in csrc/fxsim/fixedpoint/intn.h; values outside the 4-bit range raise.
"""

import numpy as np

from .. import _kernels
from ..errors import EncodingError, FormatError, OverflowRangeError
from ._arguments import as_integer_array

_LAYOUTS = ("dense", "per_channel")


def _check_layout(layout, channels, count, what):
    if layout not in _LAYOUTS:
        raise FormatError(f"{what}: layout must be one of {_LAYOUTS}, got {layout!r}")
    if layout == "dense":
        if channels is not None:
            raise FormatError(f"{what}: channels= applies to layout='per_channel' only")
        return 1
    if not isinstance(channels, (int, np.integer)) or isinstance(channels, bool) or channels < 1:
        raise FormatError(f"{what}: layout='per_channel' needs channels >= 1, got {channels!r}")
    if count % channels:
        raise FormatError(f"{what}: {count} values do not split into {channels} equal channels")
    return int(channels)


def _packed_bytes(count, channels):
    """Bytes of ``count`` nibbles in ``channels`` runs that each start on a fresh byte."""
    return channels * ((count // channels + 1) // 2)


def packed_size(count, layout="dense", channels=None):
    """Bytes needed for ``count`` 4-bit values in ``layout``."""
    return _packed_bytes(count, _check_layout(layout, channels, count, "packed_size"))


def pack_int4(values, *, signed, layout="dense", channels=None):
    """Pack 4-bit values (signed [-8, 7] or unsigned [0, 15]) two per byte into uint8.

    ``pack_int4([10, 4], signed=False)`` and ``pack_int4([-6, 4], signed=True)`` both give
    ``[0x4A]`` (the QNN document's example). Out-of-range values raise ``EncodingError``.
    """
    arr = as_integer_array(values, "pack_int4(values)").reshape(-1)
    lo, hi = (-8, 7) if signed else (0, 15)
    if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        bad = int(np.flatnonzero((arr < lo) | (arr > hi))[0])
        raise EncodingError(
            f"pack_int4(values): value {int(arr[bad])} at index {bad} is outside the "
            f"{'signed' if signed else 'unsigned'} 4-bit range [{lo}, {hi}]"
        )
    container = np.int8 if signed else np.uint8
    arr = np.ascontiguousarray(arr.astype(container))
    channels = _check_layout(layout, channels, arr.size, "pack_int4")
    out = np.zeros(_packed_bytes(arr.size, channels), dtype=np.uint8)
    try:
        if layout == "dense":
            _kernels.pack_int4(arr, bool(signed), out)
        else:
            _kernels.pack_int4_per_channel(arr, channels, bool(signed), out)
    except OverflowRangeError as err:  # the kernel re-checks; the message names the index
        raise EncodingError(f"pack_int4(values): {err}") from None
    return out


def unpack_int4(packed, count, *, signed, layout="dense", channels=None):
    """Unpack ``count`` 4-bit values from uint8 bytes (inverse of ``pack_int4``).

    Returns int8 values in [-8, 7] (sign-extended) when ``signed``, else uint8 in [0, 15].
    """
    data = np.asarray(packed)
    if data.dtype != np.uint8:
        raise FormatError(f"unpack_int4(packed): expected a uint8 array, got dtype {data.dtype}")
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 0:
        raise FormatError(f"unpack_int4: count must be a non-negative int, got {count!r}")
    channels = _check_layout(layout, channels, int(count), "unpack_int4")
    need = _packed_bytes(int(count), channels)
    data = np.ascontiguousarray(data.reshape(-1))
    if data.size != need:
        raise FormatError(f"unpack_int4(packed): {count} values in layout {layout!r} need {need} bytes, got {data.size}")
    out = np.empty(int(count), dtype=np.int8 if signed else np.uint8)
    if layout == "dense":
        _kernels.unpack_int4(data, bool(signed), out)
    else:
        _kernels.unpack_int4_per_channel(data, channels, bool(signed), out)
    return out
