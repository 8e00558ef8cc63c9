"""Hypothesis strategies in the vocabulary of quantized arithmetic.

Use them to property-test fxsim or your own kernels: every strategy draws *bounded* values that
are valid by construction (no ``assume``), and leans on the places where integer arithmetic
goes wrong: exact ties of a rounding step, one unit either side, the ends of a range, zero
points at the ends of the storage range, extreme shifts and multipliers.

    from hypothesis import given
    from fxsim.testing import strategies as fxst

    @given(fxst.encodings(), fxst.rounding_modes())
    def test_round_trip(enc, mode):
        ...

Needs the ``testing`` extra (``pip install "fxsim[testing]"``).
"""

from fractions import Fraction

import numpy as np

from . import require

st = require("hypothesis.strategies")

from ..arith import Encoding, Multiplier, RoundingMode  # noqa: E402
from ..arith.dtypes import int_range  # noqa: E402

__all__ = [
    "SCHEMAS",
    "accumulators",
    "bitwidths",
    "encodings",
    "float_ties",
    "multipliers",
    "quantized_tensors",
    "rounding_modes",
    "saturation_edges",
    "scales",
    "shift_ties",
]

#: The four schemas of the QNN quantization document.
SCHEMAS = ("unsigned_asymmetric", "signed_asymmetric", "signed_symmetric", "unsigned_symmetric")


def rounding_modes(include_stochastic=True):
    """Members of ``RoundingMode`` (optionally without ``STOCHASTIC``)."""
    modes = [m for m in RoundingMode if include_stochastic or m is not RoundingMode.STOCHASTIC]
    return st.sampled_from(modes)


def bitwidths(min_value=4, max_value=16):
    """Value bit widths, the common ones (4, 8, 16) drawn more often than the rest."""
    common = [b for b in (4, 8, 16) if min_value <= b <= max_value]
    return st.one_of(st.sampled_from(common), st.integers(min_value, max_value)) if common else st.integers(min_value, max_value)


def scales(min_value=2.0 ** -24, max_value=2.0 ** 8, float32=True):
    """Positive finite scales: powers of two (exact ties are then easy to hit) and any value in
    ``[min_value, max_value]``, rounded to float32 when ``float32`` (scales in model files are)."""
    pow2 = st.integers(int(np.ceil(np.log2(min_value))), int(np.floor(np.log2(max_value)))).map(lambda e: 2.0 ** e)
    anything = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    drawn = st.one_of(pow2, anything)
    if float32:
        drawn = drawn.map(lambda s: float(np.float32(s))).filter(lambda s: s > 0)
    return drawn


@st.composite
def _offset_for(draw, schema, bitwidth):
    n = (1 << bitwidth) - 1
    if schema in ("signed_symmetric",):
        return -(1 << (bitwidth - 1))
    if schema == "unsigned_symmetric":
        return 0
    # asymmetric: anywhere, with the ends of the range and the middle drawn often
    return draw(st.one_of(st.sampled_from([0, -n, -(1 << (bitwidth - 1))]), st.integers(-n, 0)))


@st.composite
def encodings(draw, bitwidth=None, schema=None, per_channel=False, channels=None, axis=0, strict=None):
    """An ``Encoding`` of any QNN schema and width.

    * ``bitwidth``: an int or a strategy (default: ``bitwidths()``);
    * ``schema``: one of ``SCHEMAS`` or None for any;
    * ``per_channel``: True for a per-channel encoding along ``axis`` with ``channels``
      channels (an int or a strategy; default 1..8);
    * ``strict``: draw strict symmetric ranges ``[-(2^(bw-1)-1), 2^(bw-1)-1]`` for
      ``signed_symmetric`` (None: sometimes).
    """
    bw = bitwidth if isinstance(bitwidth, int) else draw(bitwidth if bitwidth is not None else bitwidths())
    schema = schema if schema is not None else draw(st.sampled_from(SCHEMAS))
    if schema not in SCHEMAS:
        raise ValueError(f"schema must be one of {SCHEMAS}, got {schema!r}")
    signed = schema.startswith("signed")
    qmin = None
    if schema == "signed_symmetric" and (strict if strict is not None else draw(st.booleans())):
        qmin = -((1 << (bw - 1)) - 1)
    if not per_channel:
        return Encoding(draw(scales()), draw(_offset_for(schema, bw)), bitwidth=bw, signed=signed, qmin=qmin)
    count = channels if isinstance(channels, int) else draw(channels if channels is not None else st.integers(1, 8))
    chan_scales = np.array([draw(scales()) for _ in range(count)])
    offsets = np.array([draw(_offset_for(schema, bw)) for _ in range(count)])
    return Encoding.per_channel(chan_scales, offsets, axis=axis, bitwidth=bw, signed=signed, qmin=qmin)


@st.composite
def quantized_tensors(draw, encoding=None, shape=None, max_side=6):
    """``(codes, encoding)``: integer codes in the encoding's storage dtype and range.

    Codes lean on ``qmin``, ``qmax`` and the zero point. ``shape`` defaults to 1..3 dimensions
    of 1..``max_side``; a per-channel encoding puts its channels on its axis.
    """
    enc = encoding if encoding is not None else draw(encodings())
    if shape is None:
        ndim = draw(st.integers(1, 3))
        shape = [draw(st.integers(1, max_side)) for _ in range(ndim)]
        if enc.is_per_channel:
            ndim = max(ndim, enc.axis + 1)
            shape = (shape + [1] * ndim)[:ndim]
            shape[enc.axis] = enc.num_channels
    shape = tuple(shape)
    zps = np.broadcast_to(np.asarray(enc.zero_point), (enc.num_channels or 1,))
    specials = sorted({int(enc.qmin), int(enc.qmax)} | {int(z) for z in zps if enc.qmin <= z <= enc.qmax})
    element = st.one_of(st.sampled_from(specials), st.integers(int(enc.qmin), int(enc.qmax)))
    size = int(np.prod(shape))
    codes = np.array(draw(st.lists(element, min_size=size, max_size=size)), dtype=enc.dtype).reshape(shape)
    return codes, enc


@st.composite
def multipliers(draw, derivation="tflite", bits=32):
    """Fixed-point ``Multiplier`` objects in the range a derivation produces.

    ``tflite`` (and ``tosa``/``fbgemm``/``mantissa24``, which share the normalized range):
    value in ``[2^(bits-2), 2^(bits-1))`` and shift in TFLite's ``[-31, 30]``, with the range
    ends drawn often; ``power_of_two``: value 1 and shifts in ``[-31, 31]``.
    """
    if derivation == "power_of_two":
        return Multiplier(1, draw(st.integers(-31, 31)), 1)
    lo, hi = 1 << (bits - 2), (1 << (bits - 1)) - 1
    value = draw(st.one_of(st.sampled_from([lo, lo + 1, hi - 1, hi]), st.integers(lo, hi)))
    shift = draw(st.one_of(st.sampled_from([-31, -1, 0, 30]), st.integers(-31, 30)))
    return Multiplier(value, shift, bits)


def accumulators(bits=32, around=None):
    """Accumulator values of a ``bits``-wide signed register, the extremes drawn often.

    ``around``: an optional ``(shift)``: then values on, and one either side of, the ties of a
    right shift by that amount are drawn too (see ``shift_ties``).
    """
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    parts = [st.sampled_from([lo, lo + 1, -1, 0, 1, hi - 1, hi]), st.integers(lo, hi)]
    if around is not None:
        parts.append(shift_ties(around, bits=bits))
    return st.one_of(*parts)


@st.composite
def shift_ties(draw, shift, bits=64):
    """Integers ``k * 2^shift + 2^(shift-1) + d`` with ``d`` in {-1, 0, 1}: exact ties of a right
    shift by ``shift`` and their neighbours, within a ``bits``-wide signed range."""
    if shift < 1:
        raise ValueError("shift_ties needs shift >= 1")
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    k = draw(st.integers(lo >> shift, (hi >> shift) - 1))
    value = k * (1 << shift) + (1 << (shift - 1)) + draw(st.sampled_from([-1, 0, 0, 1]))
    return min(max(value, lo), hi)


@st.composite
def float_ties(draw, encoding, float_type=np.float32):
    """Floats ``x`` with ``x / scale`` exactly ``k + 1/2`` (a rounding tie of ``quantize``).

    Only encodings whose (per-tensor) scale is a power of two have such ties for every ``k``;
    for other scales the strategy draws the representable float nearest to the tie, so
    ``x / scale`` is a tie or within one ulp of it: the values that separate rounding modes.
    """
    scale = Fraction(float(np.asarray(encoding.scale).reshape(-1)[0]))
    lo, hi = int_range(encoding.bitwidth, encoding.signed)
    k = draw(st.integers(lo - 2, hi + 1))
    value = float_type(float((Fraction(k) + Fraction(1, 2)) * scale))
    return value


@st.composite
def saturation_edges(draw, encoding, float_type=np.float32):
    """Floats at the saturation edges of a per-tensor encoding: the reals of ``qmin`` and
    ``qmax``, half a step beyond them, far beyond them, and the largest finite floats."""
    scale = float(np.asarray(encoding.scale).reshape(-1)[0])
    zp = int(np.asarray(encoding.zero_point).reshape(-1)[0])
    candidates = []
    for q in (int(encoding.qmin), int(encoding.qmax)):
        for delta in (-1.0, -0.5, 0.0, 0.5, 1.0, 1000.0 * (1 if q == encoding.qmax else -1)):
            candidates.append((q - zp + delta) * scale)
    finfo = np.finfo(float_type)
    candidates += [float(finfo.max), float(-finfo.max)]
    return float_type(draw(st.sampled_from(candidates)))
