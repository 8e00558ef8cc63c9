"""Resize kernels (csrc/fxsim/kernels/resize.h) against the exact Python model
(fxsim/reference/resize.py) with ``==``: nearest index maps of ONNX Runtime (every coordinate and
nearest mode, float32 scales drawn around ties and from sizes) and TFLite (align_corners /
half_pixel_centers), the N-D gather, and the bilinear algorithms (TFLite's Q10 integer
path in both rounding builds, ONNX Runtime's float32 and Q10 paths, and ORT's float path of a QDQ
group: dequantize, float32 sum, quantize) on drawn planes with codes
at the type ends, up- and down-scaling, and one-pixel axes. Documented vectors name their source.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxsim import _kernels
from fxsim.errors import KernelError, OverflowRangeError
from fxsim.reference import resize as ref

from kernel_helpers import assert_isa_and_thread_identical

SIZES = st.integers(1, 9)
MODES = st.sampled_from(ref.COORDINATE_MODES)
NEAREST = st.sampled_from(ref.NEAREST_MODES)


@st.composite
def axis_scale(draw):
    """(in, out, float32 scale): the scale ORT derives from sizes (out / in in float32), or a
    given scale whose floor(in * scale) is the output size, including exact halves and 1."""
    n_in = draw(SIZES)
    if draw(st.booleans()):
        n_out = draw(SIZES)
        return n_in, n_out, float(np.float32(n_out) / np.float32(n_in))
    scale = draw(st.one_of(st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 0.75, 1.25, 0.6, 1.7]),
                           st.floats(0.25, 4.0, width=32)))
    n_out = max(1, int(np.floor(np.float32(n_in) * np.float32(scale))))
    return n_in, n_out, float(np.float32(scale))


@given(MODES, NEAREST, axis_scale())
def test_onnx_nearest_indices_equal_reference(mode, nearest, axis):
    n_in, n_out, scale = axis
    got = _kernels.resize_nearest_indices_onnx(mode, nearest, n_in, n_out, scale)
    assert got.tolist() == ref.nearest_indices_onnx(mode, nearest, n_in, n_out, scale)


@given(st.sampled_from([(False, False), (True, False), (False, True)]), SIZES, SIZES)
def test_tflite_nearest_indices_equal_reference(flags, n_in, n_out):
    got = _kernels.resize_nearest_indices_tflite(flags[0], flags[1], n_in, n_out)
    assert got.tolist() == ref.nearest_indices_tflite(flags[0], flags[1], n_in, n_out)


def test_nearest_documented_vectors():
    # ONNX Resize operator document (default half_pixel, round_prefer_floor):
    # resize_upsample_scales_nearest, width 2 by 3 -> [1, 1, 1, 2, 2, 2] (indices 0, 0, 0, 1, 1, 1)
    assert _kernels.resize_nearest_indices_onnx("half_pixel", "round_prefer_floor", 2, 6, 3.0).tolist() == \
        [0, 0, 0, 1, 1, 1]
    # resize_downsample_scales_nearest, width 4 by 0.6 -> [1, 3] (indices 0, 2)
    assert _kernels.resize_nearest_indices_onnx("half_pixel", "round_prefer_floor", 4, 2,
                                                np.float32(0.6)).tolist() == [0, 2]
    # a tie: half_pixel 2 -> 3 at scale 1.5 puts output 1 at c = 1.5 / 1.5 - 0.5 = 0.5:
    # round_prefer_floor gives 0, round_prefer_ceil 1
    assert _kernels.resize_nearest_indices_onnx("half_pixel", "round_prefer_floor", 2, 3, 1.5).tolist() == [0, 0, 1]
    assert _kernels.resize_nearest_indices_onnx("half_pixel", "round_prefer_ceil", 2, 3, 1.5).tolist() == [0, 1, 1]
    # TFLite resize_nearest_neighbor_test.cc HorizontalResize: [3, 6] -> [3, 3, 6] (no flags)
    assert _kernels.resize_nearest_indices_tflite(False, False, 2, 3).tolist() == [0, 0, 1]
    # AlignCorners 2 -> 3: [3, 6] -> [3, 6, 6]; HalfPixelCenters 2 -> 3: [3, 6, 6]
    assert _kernels.resize_nearest_indices_tflite(True, False, 2, 3).tolist() == [0, 1, 1]
    assert _kernels.resize_nearest_indices_tflite(False, True, 2, 3).tolist() == [0, 1, 1]


@settings(max_examples=100)
@given(st.data())
def test_gather_equals_reference(data):
    rank = data.draw(st.integers(1, 4))
    in_shape = data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    dtype = data.draw(st.sampled_from([np.int8, np.uint8, np.int16, np.uint16]))
    info = np.iinfo(dtype)
    x = np.array(data.draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=int(np.prod(in_shape)),
                                    max_size=int(np.prod(in_shape)))), dtype).reshape(in_shape)
    indices = [np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5)), np.int64)
               for n in in_shape]
    out = np.empty(tuple(len(i) for i in indices), dtype)
    _kernels.resize_gather(x, indices, out)
    assert out.reshape(-1).tolist() == ref.gather(x.reshape(-1).tolist(), in_shape, [i.tolist() for i in indices])


def test_gather_rejects_out_of_range_index():
    x = np.zeros((2, 3), np.int8)
    out = np.empty((2, 2), np.int8)
    with pytest.raises(KernelError, match="resize_gather: axis 1: index 3"):
        _kernels.resize_gather(x, [np.array([0, 1], np.int64), np.array([0, 3], np.int64)], out)


@st.composite
def plane(draw, dtypes):
    dtype = draw(st.sampled_from(dtypes))
    info = np.iinfo(dtype)
    outer, h, w, inner = draw(st.integers(1, 2)), draw(SIZES), draw(SIZES), draw(st.integers(1, 3))
    ends = st.sampled_from([int(info.min), int(info.max)])
    vals = draw(st.lists(st.one_of(st.integers(int(info.min), int(info.max)), ends),
                         min_size=outer * h * w * inner, max_size=outer * h * w * inner))
    return np.array(vals, dtype).reshape(outer, h, w, inner), draw(SIZES), draw(SIZES)


@settings(max_examples=80)  # the exact model is pure Python: keep the CI budget
@given(plane([np.int8, np.int16]), st.sampled_from([(False, False), (True, False), (False, True)]), st.booleans())
def test_tflite_bilinear_equals_reference(p, flags, single_round):
    x, oh, ow = p
    out = np.empty((x.shape[0], oh, ow, x.shape[3]), x.dtype)
    _kernels.resize_bilinear_tflite(x, flags[0], flags[1], single_round, out)
    want = ref.bilinear_tflite(x.reshape(-1).tolist(), x.shape, oh, ow, flags[0], flags[1], single_round)
    assert out.reshape(-1).tolist() == want


def test_tflite_bilinear_documented_rounding():
    # int8 2x2 -> 3x3 (no flags; scale_10 = (2048 + 1) // 3 = 683): output (0, 1) sits at x = 683/1024
    # between 0 and 100: 100 * 683 / 1024 = 66.699 -> 67 (half away); a tie (sum = 2^19 * odd):
    # values 0 and 1 at weight 512 need scale 512: 2 -> 4 gives output 1 at x = 0.5 -> 0.5 ->
    # double rounding (half away) 1, single rounding (half up) 1; -1 and 0 -> -0.5: half away -1, half up 0
    x = np.array([[0, 100], [0, 100]], np.int8).reshape(1, 2, 2, 1)
    out = np.empty((1, 3, 3, 1), np.int8)
    _kernels.resize_bilinear_tflite(x, False, False, False, out)
    assert out[0, 0, :, 0].tolist() == [0, 67, 100]
    neg = np.array([[-1, 0]], np.int8).reshape(1, 1, 2, 1)
    out = np.empty((1, 1, 4, 1), np.int8)
    _kernels.resize_bilinear_tflite(neg, False, False, False, out)
    assert out.reshape(-1).tolist() == [-1, -1, 0, 0]
    _kernels.resize_bilinear_tflite(neg, False, False, True, out)
    assert out.reshape(-1).tolist() == [-1, 0, 0, 0]


def test_tflite_bilinear_rejects_reads_outside_the_input():
    # TFLite's rounded Q10 scale can walk past the last row only for outputs above 2048: 2000 -> 2049
    # rows gives scale_10 = (2048000 + 1024) // 2049 = 1000 and output 2048 at 2048000 / 1024 = row 2000
    x = np.zeros((1, 2000, 1, 1), np.int8)
    out = np.empty((1, 2049, 1, 1), np.int8)
    with pytest.raises(OverflowRangeError, match="outside the input"):
        _kernels.resize_bilinear_tflite(x, False, False, False, out)
    with pytest.raises(KernelError, match="exclusive"):
        _kernels.resize_bilinear_tflite(np.zeros((1, 2, 2, 1), np.int8), True, True, False,
                                        np.empty((1, 3, 3, 1), np.int8))


@settings(max_examples=50)  # the exact model emulates every float32 step with Fractions: keep the CI budget
@given(plane([np.int8, np.uint8]), MODES, st.booleans(), st.data())
def test_ort_bilinear_equals_reference(p, mode, integer, data):
    x, oh, ow = p
    if data.draw(st.booleans()):
        sh, sw = float(np.float32(oh) / np.float32(x.shape[1])), float(np.float32(ow) / np.float32(x.shape[2]))
    else:
        sh = float(np.float32(data.draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 0.75, 1.7]))))
        sw = float(np.float32(data.draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 0.6, 2.5]))))
        oh = max(1, int(np.floor(np.float32(x.shape[1]) * np.float32(sh))))
        ow = max(1, int(np.floor(np.float32(x.shape[2]) * np.float32(sw))))
    out = np.empty((x.shape[0], oh, ow, x.shape[3]), x.dtype)
    kernel = _kernels.resize_bilinear_ort_integer if integer else _kernels.resize_bilinear_ort_float
    model = ref.bilinear_ort_integer if integer else ref.bilinear_ort_float
    kernel(x, mode, sh, sw, out)
    assert out.reshape(-1).tolist() == model(x.reshape(-1).tolist(), x.shape, oh, ow, mode, sh, sw)


SCALE32 = st.one_of(st.sampled_from([0.05, 1.0, 2.0 ** -8, 0.1]), st.floats(-14, 4).map(lambda e: 2.0 ** e),
                    st.floats(2.0 ** -10, 1.0, width=32)).map(lambda s: float(np.float32(s)))


@settings(max_examples=50)  # the exact model emulates every float32 step with Fractions: keep the CI budget
@given(plane([np.int8, np.uint8]), MODES, st.data())
def test_ort_bilinear_dequantized_equals_reference(p, mode, data):
    """ORT's float path of a QDQ linear Resize (dequantize, float32 UpsampleBilinear, quantize):
    drawn scales (equal, powers of two: exact ties after the division) and zero points at the type
    ends, a narrowed [qmin, qmax] among them."""
    x, oh, ow = p
    sh = float(np.float32(oh) / np.float32(x.shape[1]))
    sw = float(np.float32(ow) / np.float32(x.shape[2]))
    info = np.iinfo(x.dtype)
    zero_point = st.one_of(st.sampled_from([int(info.min), int(info.max), 0]), st.integers(int(info.min), int(info.max)))
    s_in = data.draw(SCALE32)
    s_out = data.draw(st.one_of(st.just(s_in), SCALE32))
    z_in, z_out = data.draw(zero_point), data.draw(zero_point)
    qmin = data.draw(st.one_of(st.just(int(info.min)), st.integers(int(info.min), int(info.max))))
    qmax = data.draw(st.one_of(st.just(int(info.max)), st.integers(qmin, int(info.max))))
    out = np.empty((x.shape[0], oh, ow, x.shape[3]), x.dtype)
    _kernels.resize_bilinear_ort_dequantized(x, mode, sh, sw, s_in, z_in, s_out, z_out, qmin, qmax, out)
    want = ref.bilinear_ort_dequantized(x.reshape(-1).tolist(), x.shape, oh, ow, mode, sh, sw, s_in, z_in, s_out,
                                        z_out, qmin, qmax)
    assert out.reshape(-1).tolist() == want


def test_ort_bilinear_dequantized_rejects_bad_encodings():
    x, out = np.zeros((1, 2, 2, 1), np.uint8), np.empty((1, 3, 3, 1), np.uint8)
    args = ("half_pixel", 1.5, 1.5)
    with pytest.raises(KernelError, match="resize_bilinear_ort_dequantized: scale must be finite and > 0"):
        _kernels.resize_bilinear_ort_dequantized(x, *args, 0.0, 0, 0.5, 0, 0, 255, out)
    with pytest.raises(KernelError, match="zero points must be within the code type"):
        _kernels.resize_bilinear_ort_dequantized(x, *args, 0.5, 256, 0.5, 0, 0, 255, out)
    with pytest.raises(KernelError, match=r"\[qmin, qmax\]"):
        _kernels.resize_bilinear_ort_dequantized(x, *args, 0.5, 0, 0.5, 0, 10, 5, out)
    with pytest.raises(KernelError, match="out_scale must be a float32 value"):
        _kernels.resize_bilinear_ort_dequantized(x, *args, 0.5, 0, 0.1, 0, 0, 255, out)


def test_bilinear_isa_and_threads_identical(restore_kernels):
    rng = np.random.default_rng(3)
    x8 = rng.integers(-128, 128, (8, 40, 40, 3)).astype(np.int8)
    x16 = rng.integers(-32768, 32768, (8, 40, 40, 3)).astype(np.int16)

    def call(kernel, x, *args):
        def run():
            out = np.empty((x.shape[0], 93, 71, x.shape[3]), x.dtype)
            kernel(x, *args, out)
            return out
        return run

    assert_isa_and_thread_identical({
        "tflite": call(_kernels.resize_bilinear_tflite, x16, False, True, False),
        "ort_float": call(_kernels.resize_bilinear_ort_float, x8, "half_pixel", np.float32(93 / 40),
                          np.float32(71 / 40)),
        "ort_integer": call(_kernels.resize_bilinear_ort_integer, x8, "align_corners", np.float32(93 / 40),
                            np.float32(71 / 40)),
        "ort_dequantized": call(_kernels.resize_bilinear_ort_dequantized, x8, "asymmetric", np.float32(93 / 40),
                                np.float32(71 / 40), np.float32(0.05), 3, np.float32(0.07), -5, -128, 127),
    })
