"""Helpers shared by the op modules: broadcasting, axes, windows, float32 rounding.

Nothing here is an op. The conventions every op module follows are stated in
``fxsim/ops/__init__.py``.
"""

import numpy as np

from ..errors import GraphError, UnsupportedOpError


def to_float32(x):
    """Round a float64 (or float32) result to a float32 array (IEEE round-to-nearest-even)."""
    return np.asarray(x).astype(np.float32, copy=False)


def is_float(x):
    """True when ``x`` (an array) holds floating-point values."""
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def broadcast_shapes(*shapes):
    """The multidirectional (numpy) broadcast of ``shapes`` (ONNX "Broadcasting in ONNX")."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise GraphError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast") from None


def normalize_axis(axis, rank, what="axis"):
    """``axis`` in ``[-rank, rank)`` mapped to ``[0, rank)``; GraphError otherwise."""
    axis = int(axis)
    if not -rank <= axis < rank:
        raise GraphError(f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def int_list(value):
    """A constant 1-D input or list attribute as a list of Python ints."""
    return [int(v) for v in np.asarray(value).reshape(-1)]


def optional_input(inputs, index):
    """``inputs[index]`` or None when the optional input is absent (missing or empty name)."""
    if index < len(inputs):
        return inputs[index]
    return None


def axes_from(attrs, input_shapes, input_values, index, what="axes"):
    """Axes given as the attribute ``axes`` (older opsets) or as the constant input ``index``.

    Returns None when neither is given. ``input_shapes`` tells a present input (a shape) from an
    absent one (None); pass None when ``input_values`` are the concrete inputs of a run. A
    non-constant axes input is not supported: shapes must be known when the graph is built.
    """
    if "axes" in attrs:
        return int_list(attrs["axes"])
    value = input_values[index] if index < len(input_values) else None
    if value is not None:
        return int_list(value)
    if input_shapes is not None and index < len(input_shapes) and input_shapes[index] is not None:
        raise UnsupportedOpError(f"{what} must be a constant input (it decides the output shape)")
    return None


def kernel_window(op, attrs, x_shape, w_shape):
    """``(n, kernel, strides, dilations)`` of a Conv or ConvTranspose (``op`` names it in errors):
    ``n`` spatial axes, the kernel from the weight's spatial shape (``kernel_shape``, when given,
    must agree), strides and dilations defaulting to 1."""
    n = len(x_shape) - 2
    if n < 1 or len(w_shape) != n + 2:
        raise GraphError(f"{op} input rank {len(x_shape)} and weight rank {len(w_shape)} do not match")
    kernel = [int(k) for k in w_shape[2:]]
    if "kernel_shape" in attrs and int_list(attrs["kernel_shape"]) != kernel:
        raise GraphError(f"{op} kernel_shape {list(attrs['kernel_shape'])} differs from the weight's {kernel}")
    strides = int_list(attrs.get("strides", [1] * n))
    dilations = int_list(attrs.get("dilations", [1] * n))
    return n, kernel, strides, dilations


def spatial_pads(attrs, in_spatial, kernel, strides, dilations):
    """Begin and end pads per spatial axis from ``pads`` / ``auto_pad`` (ONNX Conv, pools).

    ``auto_pad``: NOTSET uses ``pads`` ([x1_begin, x2_begin, ..., x1_end, x2_end, ...]);
    VALID pads nothing; SAME_UPPER / SAME_LOWER pad so that ``out = ceil(in / stride)``, the odd
    extra pixel at the end (UPPER) or at the beginning (LOWER), as the ONNX Conv spec states.
    """
    n = len(in_spatial)
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad in ("NOTSET", ""):
        pads = int_list(attrs.get("pads", [0] * (2 * n)))
        if len(pads) != 2 * n:
            raise GraphError(f"pads has {len(pads)} values, expected {2 * n}")
        return pads[:n], pads[n:]
    if auto_pad == "VALID":
        return [0] * n, [0] * n
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(in_spatial, kernel, strides, dilations):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small = total // 2
            if auto_pad == "SAME_UPPER":
                begin.append(small)
                end.append(total - small)
            else:
                begin.append(total - small)
                end.append(small)
        return begin, end
    raise UnsupportedOpError(f"auto_pad {auto_pad!r} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")


def sliding_windows(x, kernel, strides, dilations, out_spatial):
    """A read-only view ``[N, C, *out_spatial, *kernel]`` of the windows of padded ``x``.

    Window ``o`` along a spatial axis starts at ``o * stride`` and takes ``kernel`` taps spaced
    by ``dilation``; ``x`` must already hold every tap (pad it first).
    """
    n = len(kernel)
    st = x.strides
    shape = x.shape[:2] + tuple(out_spatial) + tuple(kernel)
    strides_ = st[:2] + tuple(st[2 + i] * strides[i] for i in range(n)) + tuple(
        st[2 + i] * dilations[i] for i in range(n))
    return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides_, writeable=False)


def unary_shapes(attrs, input_shapes, input_values):
    """Output shape of an elementwise unary op: the input's shape."""
    return [tuple(input_shapes[0])]


def float64_unary(fn, x):
    """Apply ``fn`` in float64 to float ``x`` and round the result once to float32.

    Transcendental functions are evaluated in double precision and rounded once: that result
    is within half an ulp of the true value, so it sits inside the tolerance of any float32
    implementation (ONNX Runtime's MLAS approximations included).
    """
    return to_float32(fn(np.asarray(x, dtype=np.float64)))


def binary_shapes(attrs, input_shapes, input_values):
    """Output shape of a broadcasting binary op (multidirectional broadcasting)."""
    return [broadcast_shapes(input_shapes[0], input_shapes[1])]


def same_dtype_operands(a, b, op_type):
    """The two operands of an arithmetic op, checked to share a dtype (ONNX type constraint T)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype:
        raise GraphError(f"{op_type}: operands have dtypes {a.dtype} and {b.dtype}; ONNX requires one type T")
    return a, b
