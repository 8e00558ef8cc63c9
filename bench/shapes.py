"""Named layer shapes from real networks (issue 3 "Speed"), shared by the conv / matmul benchmarks.

Conv entries: x [N, C_in, H, W], w [C_out, C_in / groups, KH, KW], stride, pads (top, left,
bottom, right), groups. MatMul entries: a [M, K] by b [K, N]. MACs = the multiply-adds of one call.
"""

CONV2D = {
    # ResNet-50 conv2_x 3x3 64->64 at 56x56, pad 1
    "resnet50_3x3_64x64_56": dict(x=(1, 64, 56, 56), w=(64, 64, 3, 3), stride=(1, 1), pads=(1, 1, 1, 1), groups=1),
    # MobileNetV2 expanded depthwise 3x3, 144 channels at 56x56, pad 1
    "mobilenetv2_dw3x3_144_56": dict(x=(1, 144, 56, 56), w=(144, 1, 3, 3), stride=(1, 1), pads=(1, 1, 1, 1),
                                     groups=144),
    # MobileNetV2 depthwise 3x3, 32 channels at 112x112
    "mobilenetv2_dw3x3_32_112": dict(x=(1, 32, 112, 112), w=(32, 1, 3, 3), stride=(1, 1), pads=(1, 1, 1, 1),
                                     groups=32),
    # MobileNetV2 block 4 depthwise 3x3 stride 2, 144 channels at 56x56 (TF "SAME": pad bottom/right 1)
    "mobilenetv2_dw3x3s2_144_56": dict(x=(1, 144, 56, 56), w=(144, 1, 3, 3), stride=(2, 2), pads=(0, 0, 1, 1),
                                       groups=144),
    # MobileNetV2 block 2 depthwise 3x3 stride 2, 96 channels at 112x112
    "mobilenetv2_dw3x3s2_96_112": dict(x=(1, 96, 112, 112), w=(96, 1, 3, 3), stride=(2, 2), pads=(0, 0, 1, 1),
                                       groups=96),
    # MobileNetV2 last-stage depthwise 3x3, 960 channels at 7x7 (a narrow plane: most of a
    # spatial vector empty; ONNX Runtime vectorizes over channels)
    "mobilenetv2_dw3x3_960_7": dict(x=(1, 960, 7, 7), w=(960, 1, 3, 3), stride=(1, 1), pads=(1, 1, 1, 1),
                                    groups=960),
    # ResNet-50 conv4_x 3x3 256->256 at 14x14 (a narrow plane for the 64-column GEMM tiles)
    "resnet50_3x3_256x256_14": dict(x=(1, 256, 14, 14), w=(256, 256, 3, 3), stride=(1, 1), pads=(1, 1, 1, 1),
                                    groups=1),
    # ResNet-50 conv3_1 downsample (projection shortcut) 1x1 256->512 stride 2 at 56x56
    "resnet50_downsample_1x1s2_256x512_56": dict(x=(1, 256, 56, 56), w=(512, 256, 1, 1), stride=(2, 2),
                                                 pads=(0, 0, 0, 0), groups=1),
    # MobileNetV2 projection 1x1 144->24 at 56x56
    "mobilenetv2_1x1_144x24_56": dict(x=(1, 144, 56, 56), w=(24, 144, 1, 1), stride=(1, 1), pads=(0, 0, 0, 0),
                                      groups=1),
    # MobileNetV2 expansion 1x1 24->144 at 56x56 (block 3: a small C_in, so few multiply-adds per output)
    "mobilenetv2_1x1_expand_24x144_56": dict(x=(1, 24, 56, 56), w=(144, 24, 1, 1), stride=(1, 1),
                                             pads=(0, 0, 0, 0), groups=1),
    # MobileNetV2 first conv 3x3 3->32 stride 2 at 224x224 (TF "SAME": pad bottom/right 1)
    "mobilenetv2_first_3x3s2_3x32_224": dict(x=(1, 3, 224, 224), w=(32, 3, 3, 3), stride=(2, 2), pads=(0, 0, 1, 1),
                                             groups=1),
}

MATMUL = {
    # MobileNetV2 classifier: FullyConnected 1280 -> 1000, batch 1
    "mobilenetv2_classifier_1280x1000": dict(m=1, k=1280, n=1000),
    # transformer (BERT-base) projection: 128 tokens x 768 by 768 x 768
    "transformer_128x768x768": dict(m=128, k=768, n=768),
}


# Elementwise: two operand shapes (numpy broadcasting).
ELEMENTWISE = {
    # MobileNetV2 inverted-residual skip add (block 3) and a squeeze-excitation channel scale
    "mobilenetv2_residual_add_24_56": dict(a=(1, 24, 56, 56), b=(1, 24, 56, 56)),
    "se_channel_mul_96_28": dict(a=(1, 96, 28, 28), b=(1, 96, 1, 1)),
}

# Pooling: input shape, kernel, stride, pads (top, left, bottom, right).
POOLING = {
    # ResNet-50 stem max pool 3x3 stride 2 (MobileNet-size input 64x112x112)
    "resnet50_maxpool_3x3s2_64_112": dict(x=(1, 64, 112, 112), kernel=(3, 3), stride=(2, 2), pads=(1, 1, 1, 1)),
    # a 3x3 stride-1 average pool (Inception branch) at 64x56x56
    "avgpool_3x3s1_64_56": dict(x=(1, 64, 56, 56), kernel=(3, 3), stride=(1, 1), pads=(1, 1, 1, 1)),
    # MobileNetV2 global average pool before the classifier
    "mobilenetv2_global_avg_1280_7": dict(x=(1, 1280, 7, 7), kernel=(7, 7), stride=(1, 1), pads=(0, 0, 0, 0)),
}


def conv2d_output_size(spec):
    (_, _, h, w), (_, _, kh, kw) = spec["x"], spec["w"]
    (sh, sw), (pt, pl, pb, pr) = spec["stride"], spec["pads"]
    return (h + pt + pb - kh) // sh + 1, (w + pl + pr - kw) // sw + 1


def conv2d_macs(spec):
    oh, ow = conv2d_output_size(spec)
    c_out, cig, kh, kw = spec["w"]
    return spec["x"][0] * c_out * oh * ow * cig * kh * kw


def matmul_macs(spec):
    return spec["m"] * spec["k"] * spec["n"]


def benchmark_macs(benchmark, macs, fn, *args):
    """Time ``fn(*args)`` with pytest-benchmark and record its MACs and GMAC/s (the latter only
    when timing ran: ``--benchmark-disable`` runs the call once and keeps no statistics)."""
    benchmark.extra_info["macs"] = macs
    benchmark(fn, *args)
    if benchmark.stats is not None:
        benchmark.extra_info["gmac_per_s"] = macs / benchmark.stats.stats.min / 1e9
