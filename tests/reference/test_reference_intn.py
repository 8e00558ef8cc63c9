"""fxsim.reference.intn: 4-bit packing, dense and QNN per-channel."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim.reference import intn


def test_documented_vectors():
    # DESIGN.md "Packed 4-bit" (the QNN document's example) and its signed counterpart
    assert intn.pack_int4([10, 4], signed=False) == [0x4A]
    assert intn.pack_int4([-6, 4], signed=True) == [0x4A]
    assert intn.unpack_int4([0x4A], 2, signed=False) == [10, 4]
    assert intn.unpack_int4([0x4A], 2, signed=True) == [-6, 4]


def test_first_element_in_low_nibble_and_odd_count():
    # onnx docs/docsgen/source/technical/int4.md: first element in the 4 LSB
    assert intn.pack_int4([1, 2, 3], signed=False) == [0x21, 0x03]
    assert intn.pack_int4([-8, 7, -1], signed=True) == [0x78, 0x0F]
    assert intn.unpack_int4([0x21, 0x03], 3, signed=False) == [1, 2, 3]
    assert intn.pack_int4([], signed=True) == []


def test_unpack_matches_tflite_sign_extension():
    # tensorflow portable_tensor_utils.cc UnpackDenseInt4IntoInt8: lower = (int8)(b << 4) >> 4,
    # higher = (int8)b >> 4 (arithmetic shifts)
    def s8(v):
        v &= 0xFF
        return v - 256 if v >= 128 else v

    for b in range(256):
        assert intn.unpack_int4([b], 2, signed=True) == [s8(b << 4) >> 4, s8(b) >> 4]
        assert intn.unpack_int4([b], 2, signed=False) == [b & 0xF, b >> 4]


def test_per_channel_layout():
    # DESIGN.md: the QNN per-channel layout starts each channel on a fresh byte: 27 -> 14 bytes
    values = [(i % 16) - 8 for i in range(27 * 3)]
    packed = intn.pack_int4_per_channel(values, 3, signed=True)
    assert len(packed) == 3 * 14
    assert len(intn.pack_int4(values, signed=True)) == 41  # dense: ceil(81 / 2)
    for c in range(3):
        assert packed[c * 14:(c + 1) * 14] == intn.pack_int4(values[c * 27:(c + 1) * 27], signed=True)
        assert packed[c * 14 + 13] >> 4 == 0  # the unused high nibble of each channel
    assert intn.unpack_int4_per_channel(packed, 81, 3, signed=True) == values


@pytest.mark.parametrize("values, signed", [([16], False), ([-1], False), ([8], True), ([-9], True)])
def test_out_of_range_raises(values, signed):
    with pytest.raises(ValueError):
        intn.pack_int4(values, signed=signed)


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        intn.pack_int4_per_channel([1, 2, 3], 2, signed=False)
    with pytest.raises(ValueError):
        intn.unpack_int4([0x12], 3, signed=False)
    with pytest.raises(ValueError):
        intn.unpack_int4_per_channel([0x12, 0x34], 3, 2, signed=False)
    with pytest.raises(ValueError):
        intn.unpack_int4([256], 2, signed=False)


@given(st.booleans(), st.data())
def test_round_trip(signed, data):
    lo, hi = (-8, 7) if signed else (0, 15)
    channels = data.draw(st.integers(1, 4))
    n = data.draw(st.integers(0, 9))
    values = data.draw(st.lists(st.integers(lo, hi), min_size=n * channels, max_size=n * channels))
    dense = intn.pack_int4(values, signed)
    assert len(dense) == (len(values) + 1) // 2 and all(0 <= b <= 255 for b in dense)
    assert intn.unpack_int4(dense, len(values), signed) == values
    per = intn.pack_int4_per_channel(values, channels, signed)
    assert len(per) == channels * ((n + 1) // 2)
    assert intn.unpack_int4_per_channel(per, len(values), channels, signed) == values
