"""Packing of 4-bit integers, two per byte.

Contract: a 4-bit value ``v`` (signed: [-8, 7], unsigned: [0, 15]) is stored as its nibble
``v mod 16``; byte ``k`` holds element ``2k`` in its low nibble (bits 0..3) and element
``2k + 1`` in its high nibble (bits 4..7); an odd count leaves the last high nibble 0. Dense
packing runs over the whole tensor (TFLite, ONNX); the QNN per-channel layout packs each
channel separately so each channel starts on a fresh byte (27 values per channel -> 14 bytes).

Sources: onnx/onnx docs/docsgen/source/technical/int4.md ("the first element is stored in
the 4 LSB"); tensorflow/lite/kernels/internal/portable_tensor_utils.cc
UnpackDenseInt4IntoInt8 (low nibble first, sign-extended); the QNN document's example
``[10, 4] -> 0x4A`` (fxsim DESIGN.md "Packed 4-bit").
"""

from fxsim.reference.rounding import as_int

__all__ = ["pack_int4", "pack_int4_per_channel", "unpack_int4", "unpack_int4_per_channel"]


def _nibble_range(signed):
    return (-8, 7) if signed else (0, 15)


def pack_int4(values, signed):
    """Pack 4-bit ``values`` densely: byte ``k = nib(v[2k]) + 16 * nib(v[2k+1])``.

    ``nib(v) = v mod 16`` (two's complement for signed values). Returns ``ceil(n / 2)`` ints in
    0..255. A value outside [-8, 7] (signed) or [0, 15] (unsigned) raises ``ValueError``.
    """
    lo, hi = _nibble_range(bool(signed))
    vals = [as_int(f"values[{i}]", v, lo, hi) for i, v in enumerate(values)]
    out = []
    for k in range(0, len(vals), 2):
        low = vals[k] % 16
        high = vals[k + 1] % 16 if k + 1 < len(vals) else 0
        out.append(low + 16 * high)
    return out


def pack_int4_per_channel(values, channels, signed):
    """Pack ``channels`` equal runs of ``values`` separately, each with :func:`pack_int4`.

    ``len(values)`` must be a multiple of ``channels >= 1``; with ``n = len(values) / channels``
    the result has ``channels * ceil(n / 2)`` bytes (QNN per-channel 4-bit layout).
    """
    values = list(values)
    channels = as_int("channels", channels, 1)
    if len(values) % channels:
        raise ValueError(f"pack_int4_per_channel: {len(values)} values are not a multiple of "
                         f"{channels} channels")
    n = len(values) // channels
    out = []
    for c in range(channels):
        out.extend(pack_int4(values[c * n:(c + 1) * n], signed))
    return out


def unpack_int4(packed, count, signed):
    """Unpack ``count`` 4-bit values from ``packed`` (``len(packed) == ceil(count / 2)``).

    Element ``i`` is nibble ``i mod 2`` of byte ``i // 2`` (low first), read as ``u`` in 0..15
    and, when ``signed``, as ``u - 16`` for ``u >= 8``. An unused high nibble is ignored.
    """
    count = as_int("count", count, 0)
    packed = [as_int(f"packed[{i}]", b, 0, 255) for i, b in enumerate(packed)]
    if len(packed) != (count + 1) // 2:
        raise ValueError(f"unpack_int4: {count} values need {(count + 1) // 2} bytes, "
                         f"got {len(packed)}")
    out = []
    for i in range(count):
        u = (packed[i // 2] >> (4 * (i % 2))) % 16
        out.append(u - 16 if signed and u >= 8 else u)
    return out


def unpack_int4_per_channel(packed, count, channels, signed):
    """Inverse of :func:`pack_int4_per_channel`: ``count`` values in ``channels`` runs.

    ``count`` must be a multiple of ``channels``; ``len(packed) == channels * ceil(n / 2)`` with
    ``n = count / channels``.
    """
    count = as_int("count", count, 0)
    channels = as_int("channels", channels, 1)
    if count % channels:
        raise ValueError(f"unpack_int4_per_channel: {count} values are not a multiple of "
                         f"{channels} channels")
    n = count // channels
    per = (n + 1) // 2
    packed = list(packed)
    if len(packed) != channels * per:
        raise ValueError(f"unpack_int4_per_channel: expected {channels * per} bytes, "
                         f"got {len(packed)}")
    out = []
    for c in range(channels):
        out.extend(unpack_int4(packed[c * per:(c + 1) * per], n, signed))
    return out
