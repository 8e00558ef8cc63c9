"""Lookup-table unary ops on 8- and 16-bit codes.

``build_lut`` tabulates a real function once per input code: ``table[q] = quantize(f(x_q))``
with ``x_q = (q - zp_in) * s_in`` computed in float64 (the scale as the encoding holds it),
``f`` evaluated in float64 on the whole array of ``x_q`` (so ``f`` is a numpy function), and
the result quantized to ``enc_out`` in float64 with the named rounding (``fxsim.quantize``:
``round(y / s_out) + zp_out``, clamped). ``lut_apply`` gathers (C++ kernel ``lut_apply``).
The engines' own integer algorithms for logistic/tanh/softmax are separate kernels; a table is
what TFLite builds for int8 LOGISTIC/TANH in its optimized kernels and what TARGETS.md's
``lut`` family means.
"""

import numpy as np

from .. import _kernels
from ..errors import FormatError
from ._arguments import as_integer_array, per_tensor_encoding, prepared_codes_check
from .quantize import quantize

__all__ = ["build_lut", "lut_apply", "prepare_lut_apply"]

_INPUT_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.uint16))


def build_lut(f, enc_in, enc_out, *, rounding, reciprocal=False, precision="float64"):
    """The table of ``f`` from ``enc_in`` codes to ``enc_out`` codes: an array of ``enc_out``'s
    dtype with one entry per ``enc_in`` code, in code order from the smallest (256 entries for
    8-bit inputs, 65536 for 16-bit). ``rounding`` (required) is the quantization rounding of
    the outputs, e.g. ``"half_away"`` (TFLite) or ``"half_even"`` (ONNX Runtime); ``reciprocal``
    and ``precision`` how the outputs are quantized (``quantize``): ``y / s`` (or ``y * (1 /
    s)``) in float64 (the default) or float32, as an engine that builds its table with its own
    quantize does (ONNX Runtime's QlinearBuildLookupTable: MlasQuantizeLinear, float32
    division)."""
    what = "build_lut"
    enc_in = per_tensor_encoding(enc_in, "enc_in", what, _INPUT_DTYPES)
    enc_out = per_tensor_encoding(enc_out, "enc_out", what, _INPUT_DTYPES)
    info = np.iinfo(enc_in.dtype)
    codes = np.arange(info.min, info.max + 1, dtype=np.int64)
    x = (codes - int(enc_in.zero_point)).astype(np.float64) * np.float64(enc_in.scale)
    y = np.asarray(f(x), dtype=np.float64)
    if y.shape != x.shape:
        raise FormatError(f"{what}: f must map an array of {x.size} inputs to as many outputs, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise FormatError(f"{what}: f gives {y[bad]!r} for code {int(codes[bad])} (input {x[bad]!r})")
    if precision == "float32":
        y = y.astype(np.float32)
    return quantize(y, enc_out, rounding=rounding, reciprocal=reciprocal, precision=precision, name="f(x)")


def prepare_lut_apply(shape, dtype, table):
    """:func:`lut_apply` prepared once for codes of ``shape`` and ``dtype``: the table checked
    here; the returned ``run(x)`` checks ``x``'s dtype and shape and gathers."""
    what = "lut_apply"
    dtype = np.dtype(dtype)
    if dtype not in _INPUT_DTYPES:
        raise FormatError(f"{what}: x must hold 8- or 16-bit codes, got {dtype}")
    tab = np.ascontiguousarray(as_integer_array(table, f"{what}(table)"))
    if tab.ndim != 1 or tab.size != 1 << (8 * dtype.itemsize):
        raise FormatError(f"{what}: table must be 1-d with {1 << (8 * dtype.itemsize)} entries for "
                          f"{dtype} codes, got shape {tab.shape}")
    return prepared_gather(tuple(shape), dtype, tab, what)


def prepared_gather(shape, dtype, table, what):
    """``run(x)``: ``x``'s dtype and shape checked (errors naming ``what``), then ``table``'s
    entries gathered by ``_kernels.lut_apply``; ``table`` is a checked, contiguous table with one
    entry per code of ``dtype`` (:func:`prepare_lut_apply`, the prepared 8-bit nonlinear ops)."""
    check = prepared_codes_check(shape, dtype, what)

    def run(x):
        out = np.empty(shape, dtype=table.dtype)
        _kernels.lut_apply(check(x).reshape(-1), table, out.reshape(-1))
        return out

    return run


def lut_apply(x, table):
    """``table[x - min_code]`` for every code of ``x`` (int8, uint8, int16 or uint16); ``table``
    (from :func:`build_lut`) has one entry per code of ``x``'s dtype. Returns codes of the
    table's dtype, shaped like ``x``. :func:`prepare_lut_apply` does the checks once."""
    arr = as_integer_array(x, "lut_apply(x)")
    if arr.dtype not in _INPUT_DTYPES:
        raise FormatError(f"lut_apply: x must hold 8- or 16-bit codes, got {arr.dtype}")
    return prepare_lut_apply(arr.shape, arr.dtype, table)(np.ascontiguousarray(arr))
