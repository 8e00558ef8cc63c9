"""Elementwise add / sub / mul of two quantized tensors, in the arithmetic of a target family.

Each function takes integer code arrays with their per-tensor ``Encoding`` s and the output
``Encoding``, broadcasts like numpy, and returns output codes computed by one engine family's
arithmetic (C++ kernels in csrc/fxsim/kernels/elementwise.h; exact models in
fxsim/reference/elementwise.py):

* ``"tflite"`` -- TFLite's integer ADD / SUB (inputs shifted left by 20 for 8-bit, 15 for
  16-bit, three double-rounding requantizations) and MUL (one requantization of the
  offset-corrected product). The multipliers are derived here as TFLite's Prepare does, in
  double from the float32 scales (``fxsim.arith.multiplier`` "tflite" derivation).
* ``"float"`` -- ONNX Runtime's QLinearAdd / QLinearMul float32 expressions with MLAS's
  association (x86 AVX2 add; x86 mul, whose output zero point is added in float before the
  rounding). 16-bit add uses MLAS's scalar-helper expression (ORT
  registers QLinearAdd for int8, uint8 and uint16; uint16 codes are not supported here).
* ``"align_pot"`` -- the Vitis AI DPU's eltwise add: power-of-two scales, symmetric (zero
  point 0), alignment by shifts, DPU half-up rounding.

Every bad argument raises an ``FxsimError`` subclass naming it.
"""

import numpy as np

from .. import _kernels
from ..errors import EncodingError, FormatError, UnsupportedOpError
from ._arguments import (activation_range, as_integer_array, memoized, per_tensor_encoding, power_of_two_position,
                         prepared_codes_check)
from .multiplier import quantize_multiplier

__all__ = ["ELEMENTWISE_FAMILIES", "add", "sub", "mul", "prepare_binary", "tflite_add_params", "tflite_mul_params",
           "broadcast_strides"]

#: The algorithm families of :func:`add`, :func:`sub` and :func:`mul` (TARGETS.md "elementwise").
ELEMENTWISE_FAMILIES = ("tflite", "float", "align_pot")


def broadcast_strides(shape_a, shape_b):
    """numpy broadcasting of two C-contiguous shapes as the kernels' iteration space.

    Returns ``(out_shape, dims, stride_a, stride_b)``: ``out_shape`` the broadcast shape;
    ``dims`` the same elements with adjacent dimensions merged where both operands allow it
    (at least one dimension); per-dimension element strides of each operand (0 where it is
    broadcast). ``FormatError`` when the shapes do not broadcast.
    """
    try:
        out_shape = tuple(np.broadcast_shapes(tuple(shape_a), tuple(shape_b)))
    except ValueError:
        raise FormatError(f"shapes {tuple(shape_a)} and {tuple(shape_b)} do not broadcast") from None
    nd = max(len(out_shape), 1)
    dims = list(out_shape) or [1]

    def strides(shape):
        shape = [1] * (nd - len(shape)) + list(shape)
        st, acc = [0] * nd, 1
        for d in range(nd - 1, -1, -1):
            st[d] = acc if shape[d] != 1 else 0
            acc *= shape[d]
        return st

    sa, sb = strides(shape_a), strides(shape_b)
    # drop extent-1 dimensions (they contribute nothing), then merge mergeable neighbours
    keep = [d for d in range(nd) if dims[d] != 1] or [nd - 1]
    dims, sa, sb = [dims[d] for d in keep], [sa[d] for d in keep], [sb[d] for d in keep]
    md, ma, mb = [dims[0]], [sa[0]], [sb[0]]
    for d in range(1, len(dims)):
        if ma[-1] == sa[d] * dims[d] and mb[-1] == sb[d] * dims[d]:
            md[-1] *= dims[d]
            ma[-1], mb[-1] = sa[d], sb[d]
        else:
            md.append(dims[d])
            ma.append(sa[d])
            mb.append(sb[d])
    if len(md) > 8:
        raise FormatError(f"broadcasting {tuple(shape_a)} with {tuple(shape_b)} needs more than 8 dimensions")
    return out_shape, md, ma, mb


def _encoding(enc, name, what):
    return per_tensor_encoding(enc, name, what)


def _codes(x, enc, name, what):
    arr = as_integer_array(x, f"{what}({name})")
    if arr.dtype != enc.dtype:
        raise FormatError(f"{what}: {name} must hold {np.dtype(enc.dtype).name} codes (its encoding), got {arr.dtype}")
    return np.ascontiguousarray(arr)


def _scale32(enc):
    return np.float32(enc.scale)


@memoized
def tflite_add_params(enc_a, enc_b, enc_out):
    """TFLite's ADD/SUB parameters: ``(left_shift, (Ma, sa), (Mb, sb), (Mo, so))``.

    ``left_shift`` is 20 for 8-bit and 15 for 16-bit codes; in double from the float32 scales:
    ``twice_max = 2 * max(s_a, s_b)``, ``real_a = s_a / twice_max``, ``real_b = s_b /
    twice_max``, ``real_out = twice_max / (2^left_shift * s_out)``, each through
    ``QuantizeMultiplierSmallerThanOneExp`` (the "tflite" derivation; every shift <= 0).
    Source: tensorflow/lite/kernels/add.cc Prepare, sub.cc PrepareGeneralSubOp.
    """
    left_shift = 15 if np.dtype(enc_a.dtype).itemsize == 2 else 20
    sa, sb, so = (float(_scale32(e)) for e in (enc_a, enc_b, enc_out))
    twice_max = 2.0 * max(sa, sb)
    reals = (sa / twice_max, sb / twice_max, twice_max / ((1 << left_shift) * so))
    ms = []
    for name, real in zip(("input 1", "input 2", "output"), reals):
        m = quantize_multiplier(real, "tflite")
        if m.shift > 0:
            raise EncodingError(f"tflite add: the {name} real multiplier {real!r} is not below 1 "
                                f"(QuantizeMultiplierSmallerThanOneExp); the output scale is too small")
        ms.append((m.value, m.shift))
    return left_shift, ms[0], ms[1], ms[2]


@memoized
def tflite_mul_params(enc_a, enc_b, enc_out):
    """TFLite's MUL multiplier: ``QuantizeMultiplier(s_a * s_b / s_out)`` in double from the
    float32 scales (tensorflow/lite/kernels/mul.cc PrepareImpl). Returns ``(M, shift)``."""
    sa, sb, so = (float(_scale32(e)) for e in (enc_a, enc_b, enc_out))
    m = quantize_multiplier(sa * sb / so, "tflite")
    return m.value, m.shift


def prepare_binary(op, shape_a, enc_a, shape_b, enc_b, enc_out, family="tflite", *, activation_min=None,
                   activation_max=None):
    """``op`` ("add", "sub" or "mul") prepared once for operands of ``shape_a`` and ``shape_b``:
    every argument is checked and every parameter derived here, and the returned
    ``run(a, b) -> codes`` only checks the operands' dtype and shape and calls the kernel (what an
    executor wants when it runs the same node again and again). :func:`add`, :func:`sub` and
    :func:`mul` are ``prepare_binary(...)(a, b)`` on their operands as integer arrays."""
    what = f"{op}(family={family!r})"
    if family not in ELEMENTWISE_FAMILIES:
        raise EncodingError(f"{op}: family must be one of {ELEMENTWISE_FAMILIES}, got {family!r}")
    enc_a = _encoding(enc_a, "enc_a", what)
    enc_b = _encoding(enc_b, "enc_b", what)
    enc_out = _encoding(enc_out, "enc_out", what)
    if enc_a.dtype != enc_b.dtype:
        raise EncodingError(f"{what}: enc_a and enc_b must store the same type, got "
                            f"{enc_a.storage.name} and {enc_b.storage.name}")
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    out_shape, dims, sa, sb = broadcast_strides(shape_a, shape_b)
    qmin, qmax = activation_range(enc_out, activation_min, activation_max, what)
    geometry = (dims, sa, sb)
    za, zb, zo = int(enc_a.zero_point), int(enc_b.zero_point), int(enc_out.zero_point)
    if family == "tflite":
        if op == "mul":
            m, s = tflite_mul_params(enc_a, enc_b, enc_out)
            kernel, args = "elementwise_mul_tflite", (*geometry, za, zb, m, s, zo, qmin, qmax)
        else:
            ls, (ma, sha), (mb, shb), (mo, sho) = tflite_add_params(enc_a, enc_b, enc_out)
            kernel = "elementwise_add_tflite"
            args = (*geometry, za, zb, ls, ma, sha, mb, shb, mo, sho, zo, qmin, qmax, op == "sub")
    elif family == "float":
        if op == "sub":
            raise UnsupportedOpError(f"{what}: ONNX Runtime has no QLinearSub; use family='tflite' or 'align_pot'")
        eight = np.dtype(enc_a.dtype).itemsize == 1
        if op == "mul" and not eight:
            raise UnsupportedOpError(f"{what}: ONNX Runtime's QLinearMul takes 8-bit codes")
        expression = ("add8" if eight else "add_raw") if op == "add" else "mul8"
        kernel = "elementwise_ort"
        args = (*geometry, expression, float(_scale32(enc_a)), za, float(_scale32(enc_b)), zb,
                float(_scale32(enc_out)), zo, qmin, qmax)
    else:
        if op == "mul":
            raise UnsupportedOpError(f"{what}: the DPU elementwise mul is not modelled (Vitis AI's CPU reference "
                                     "scales the product by 2^(fp_out - max_fp), which is not the product's position)")
        fa = power_of_two_position(enc_a, "enc_a", what)
        fb = power_of_two_position(enc_b, "enc_b", what)
        fo = power_of_two_position(enc_out, "enc_out", what)
        if abs(fa - fb) > 46:
            raise EncodingError(f"{what}: the input fix points {fa} and {fb} differ by more than 46")
        if fo - max(fa, fb) > 62:
            raise EncodingError(f"{what}: enc_out's fix point {fo} exceeds the inputs' by more than 62")
        kernel = "elementwise_add_align_pot"
        args = (*geometry, fa, fb, fo, qmin, qmax, op == "sub")
    # the kernel is looked up by name on each call (a dict lookup), so that a profiler that wraps
    # fxsim._kernels' functions sees it
    out_dtype = enc_out.dtype
    check_a = prepared_codes_check(shape_a, enc_a.dtype, f"{what} a")
    check_b = prepared_codes_check(shape_b, enc_b.dtype, f"{what} b")

    def run(a, b):  # the kernels read C-contiguous arrays by size: no flattening views needed
        out = np.empty(out_shape, dtype=out_dtype)
        getattr(_kernels, kernel)(check_a(a), check_b(b), *args, out)
        return out

    return run


def _binary(op, a, enc_a, b, enc_b, enc_out, family, activation_min, activation_max):
    shape_a, shape_b = np.shape(a), np.shape(b)
    run = prepare_binary(op, shape_a, enc_a, shape_b, enc_b, enc_out, family, activation_min=activation_min,
                         activation_max=activation_max)
    what = f"{op}(family={family!r})"
    return run(_codes(a, enc_a, "a", what), _codes(b, enc_b, "b", what))


def add(a, enc_a, b, enc_b, enc_out, family="tflite", *, activation_min=None, activation_max=None):
    """``a + b`` on codes: ``a`` (with ``enc_a``) and ``b`` (with ``enc_b``) broadcast like
    numpy; returns codes of ``enc_out`` (its dtype, the broadcast shape).

    ``family`` is one of ``ELEMENTWISE_FAMILIES`` (module docstring). ``activation_min`` /
    ``activation_max`` narrow the output clamp (codes; a fused ReLU is ``activation_min =
    zero point``); the clamp is always within ``enc_out``'s ``[qmin, qmax]``. Per-tensor
    encodings with int8, uint8 or int16 codes; ``a`` and ``b`` store the same type.
    """
    return _binary("add", a, enc_a, b, enc_b, enc_out, family, activation_min, activation_max)


def sub(a, enc_a, b, enc_b, enc_out, family="tflite", *, activation_min=None, activation_max=None):
    """``a - b`` on codes, as :func:`add`. ``"tflite"`` follows reference/sub.h (the scaled
    inputs are subtracted); ``"float"`` is unsupported (ONNX Runtime has no QLinearSub)."""
    return _binary("sub", a, enc_a, b, enc_b, enc_out, family, activation_min, activation_max)


def mul(a, enc_a, b, enc_b, enc_out, family="tflite", *, activation_min=None, activation_max=None):
    """``a * b`` on codes, as :func:`add`. ``"float"`` takes 8-bit codes (QLinearMul);
    ``"align_pot"`` is unsupported (see the error message)."""
    return _binary("mul", a, enc_a, b, enc_b, enc_out, family, activation_min, activation_max)
