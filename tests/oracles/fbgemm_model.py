"""A numpy statement of the arithmetic PyTorch's FBGEMM engine was measured to follow, used by
``test_pytorch_golden.py`` to prove each rule on the committed fixtures before (and where) the
``fbgemm`` / ``fbgemm-vnni`` profiles cannot express it.

Weighted layers (conv, linear), for u8 activations ``x`` (zero point ``x_zp``) and s8 weights ``w``
(zero points ``w_zp[oc]``):

- the products are of **raw codes**, ``x * w``; the zero points come back exactly through FBGEMM's
  row and column offsets: ``acc = sum(x*w) - w_zp*sum(x) - x_zp*sum(w) + K*x_zp*w_zp``
  (FBGEMM ``RefImplementations.cc`` / ``OutputProcessing-inl.h``: ``raw -= B_zp * row_offset``,
  ``raw -= A_zp * col_offset``); padding positions hold ``x_zp`` (an im2col with the zero point);
- ``gemm="exact"``: the raw products sum exactly in int32 (FBGEMM's AVX512-VNNI kernels,
  ``vpdpbusd``); ``gemm="pairs"``: adjacent raw products of the K order (filter y, filter x, input
  channel: FBGEMM's NHWC im2col; input features for linear) are summed in pairs saturated to int16
  (``vpmaddubsw``, FBGEMM's AVX2 kernels, ``FBGEMM_ENABLE_INSTRUCTIONS=AVX2``);
- depthwise convolutions (one input channel per group) of the shape FBGEMM's depthwise kernels
  take (fbgemm src/FbgemmConv.cc takeDepthWiseFastPath: groups a multiple of 8, square 3x3 or 5x5,
  strides 1 or 2, dilation 1, padding (k - 1) / 2) run them on every path: adjacent **filter taps**
  (row-major over the kernel window, an odd last tap alone) are summed in pairs saturated to
  int16, raw codes again. Other depthwise layers run the im2col GEMM (the same tap pairs on AVX2,
  exact with VNNI). PyTorch's ``x86`` engine sends a layer whose weight zero points are all 0 and
  whose group count is at most 100 to oneDNN, which sums exactly, and the others to FBGEMM
  (``depthwise_pairs``; measured: the depthwise layers of the fixtures follow this split);
- requantization with the float bias: ``lrintf((float(acc) + b / (s_x * s_w)) * (s_x * s_w / s_y))
  + y_zp``, every product and quotient in float32, clamped (to ``[y_zp, 255]`` with a fused ReLU).

Mean over H and W (``torch.mean`` of a quantized tensor, which keeps the input's encoding):
dequantize each code as ATen's vectorized ``dequantize`` does, ``fma(code, s, -zp * s)`` in float32
(``-zp * s`` rounded first), sum in float32 in element order, divide by the count in float32,
quantize with the reciprocal rule (``rint(m * (1 / s)) + zp``, half even), clamp.

Average pool with the same input and output encoding: ``nearbyint(sum(x) / n)`` of the raw codes,
half to even, ``n`` the window's element count (``count_include_pad`` counts padded positions,
which hold the zero point).
"""

import numpy as np

F32 = np.float32


def _patches(x, k_h, k_w, stride, pads, dilation, fill):
    """[N, C, OH, OW, kh, kw] windows of x, padded with ``fill``."""
    n, c, h, w = x.shape
    top, left, bottom, right = pads
    xp = np.full((n, c, h + top + bottom, w + left + right), fill, np.int64)
    xp[:, :, top:top + h, left:left + w] = x
    oh = (h + top + bottom - dilation * (k_h - 1) - 1) // stride + 1
    ow = (w + left + right - dilation * (k_w - 1) - 1) // stride + 1
    out = np.empty((n, c, oh, ow, k_h, k_w), np.int64)
    for ky in range(k_h):
        for kx in range(k_w):
            y0, x0 = ky * dilation, kx * dilation
            out[..., ky, kx] = xp[:, :, y0:y0 + stride * (oh - 1) + 1:stride, x0:x0 + stride * (ow - 1) + 1:stride]
    return out


def _pair_sum(products):
    """Sum over the last axis in adjacent pairs, each pair saturated to int16."""
    if products.shape[-1] % 2:
        products = np.concatenate([products, np.zeros(products.shape[:-1] + (1,), np.int64)], axis=-1)
    pairs = np.clip(products[..., 0::2] + products[..., 1::2], -32768, 32767)
    return pairs.sum(-1)


def depthwise_pairs(path, w_zp, out_channels, in_channels, stride=1, pads=(0, 0, 0, 0), dilation=1, groups=1,
                    kernel=3):
    """Whether a convolution's taps pair on kernel ``path`` (``vnni``, ``avx2``, ``x86``): FBGEMM's
    depthwise kernels for their shape on every path, the im2col GEMM's pairs on AVX2; the x86
    engine's oneDNN (all weight zero points 0, at most 100 groups) never pairs."""
    if path == "x86" and not np.any(np.asarray(w_zp) != 0) and groups <= 100:
        return False  # oneDNN
    if path == "avx2":
        return True
    fast = (groups == in_channels and out_channels in (groups, 2 * groups) and groups % 8 == 0 and kernel in (3, 5)
            and stride in (1, 2) and dilation == 1 and all(p == (kernel - 1) // 2 for p in pads))
    return fast


def conv_accumulators(x, w, x_zp, w_zp, stride=1, pads=(0, 0, 0, 0), dilation=1, groups=1, gemm="exact",
                      depthwise_pairs=True):
    """FBGEMM's int32 accumulators of a convolution (NCHW in, [N, OC, OH, OW] out); see the module
    docstring for ``gemm`` and the depthwise rule (``depthwise_pairs=False``: a depthwise layer sums
    exactly, as PyTorch's ``x86`` engine computes one with symmetric weights)."""
    x, w = np.asarray(x, np.int64), np.asarray(w, np.int64)
    oc, cpg, k_h, k_w = w.shape
    w_zp = np.broadcast_to(np.asarray(w_zp, np.int64).reshape(-1), (oc,))
    patches = _patches(x, k_h, k_w, stride, pads, dilation, x_zp)  # [N, C, OH, OW, kh, kw]
    n, _, oh, ow = patches.shape[:4]
    depthwise = cpg == 1 and groups > 1
    acc = np.empty((n, oc, oh, ow), np.int64)
    per_group = oc // groups
    for o in range(oc):
        g = o // per_group
        window = patches[:, g * cpg:(g + 1) * cpg]  # [N, cpg, OH, OW, kh, kw]
        window = np.moveaxis(window, 1, -1).reshape(n, oh, ow, k_h * k_w * cpg)  # K order ky, kx, ic
        weights = np.moveaxis(w[o], 0, -1).reshape(-1)
        products = window * weights
        if (depthwise and depthwise_pairs) or gemm == "pairs":
            raw = _pair_sum(products)
        else:
            raw = products.sum(-1)
        k = weights.size
        acc[:, o] = raw - w_zp[o] * window.sum(-1) - x_zp * weights.sum() + k * x_zp * w_zp[o]
    return acc


def linear_accumulators(x, w, x_zp, w_zp, gemm="exact"):
    """FBGEMM's int32 accumulators of a linear layer: x [N, K], w [OC, K] -> [N, OC]."""
    x, w = np.asarray(x, np.int64), np.asarray(w, np.int64)
    w_zp = np.broadcast_to(np.asarray(w_zp, np.int64).reshape(-1), (w.shape[0],))
    products = x[:, None, :] * w[None, :, :]
    raw = _pair_sum(products) if gemm == "pairs" else products.sum(-1)
    k = w.shape[1]
    return raw - w_zp[None, :] * x.sum(-1, keepdims=True) - x_zp * w.sum(-1)[None, :] + k * x_zp * w_zp[None, :]


def requantize_float_bias(acc, bias, x_scale, w_scales, y_scale, y_zp, relu=False):
    """FBGEMM's ``ReQuantizeOutput`` with a float bias, channel axis 1, u8 output."""
    oc = acc.shape[1]
    ws = np.broadcast_to(np.asarray(w_scales, F32).reshape(-1), (oc,))
    act_times_w = np.multiply(F32(x_scale), ws, dtype=F32)
    multiplier = np.divide(act_times_w, F32(y_scale), dtype=F32)
    shape = (1, oc) + (1,) * (acc.ndim - 2)
    raw = np.add(acc.astype(F32), np.divide(np.asarray(bias, F32), act_times_w, dtype=F32).reshape(shape), dtype=F32)
    codes = np.rint(np.multiply(raw, multiplier.reshape(shape), dtype=F32)).astype(np.int64) + y_zp
    return np.clip(codes, y_zp if relu else 0, 255)


def average_pool_same_encoding(x, zero_point, kernel, stride, pads, count_include_pad):
    """PyTorch's quantized avg_pool2d when input and output share one encoding: ``nearbyint``
    (half to even) of the raw codes' window sum over the window's count; with
    ``count_include_pad`` the padded positions count and hold the zero point (a real 0)."""
    x = np.asarray(x, np.int64)
    n, c, h, w = x.shape
    top, left, bottom, right = pads
    oh = (h + top + bottom - kernel) // stride + 1
    ow = (w + left + right - kernel) // stride + 1
    out = np.empty((n, c, oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * stride - top, j * stride - left
            y1, x1 = y0 + kernel, x0 + kernel
            window = x[:, :, max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
            inside = window.shape[2] * window.shape[3]
            count = (min(y1, h + bottom) - y0) * (min(x1, w + right) - x0) if count_include_pad else inside
            out[:, :, i, j] = np.rint((window.sum((2, 3)) + zero_point * (count - inside)) / count)
    return out


def spatial_mean(x, scale, zero_point):
    """PyTorch's quantized mean over H and W of u8 codes ``x`` [N, C, H, W] -> [N, C, 1, 1]."""
    x = np.asarray(x, np.int64)
    premul = F32(-zero_point) * F32(scale)
    # fma(code, scale, premul): the exact product plus premul, rounded once to float32 (both
    # terms and their sum are exact in float64 for 8-bit codes and float32 scales)
    values = (x.astype(np.float64) * float(F32(scale)) + float(premul)).astype(F32)
    flat = values.reshape(x.shape[0], x.shape[1], -1)
    total = np.zeros(flat.shape[:2], F32)
    for i in range(flat.shape[2]):
        total = np.add(total, flat[:, :, i], dtype=F32)
    mean = np.divide(total, F32(flat.shape[2]), dtype=F32)
    codes = np.rint(np.multiply(mean, np.divide(F32(1), F32(scale), dtype=F32), dtype=F32)).astype(np.int64) + zero_point
    return np.clip(codes, 0, 255).reshape(x.shape[0], x.shape[1], 1, 1)
