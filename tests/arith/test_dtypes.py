"""Storage types: parse_dtype, storage_dtype, int_range and the validation helpers."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from fxsim.arith import dtypes as D
from fxsim.arith.dtypes import check_bitwidth, int_range, parse_dtype, storage_dtype
from fxsim.errors import EncodingError

# name -> (bitwidth, signed, container, min, max); DESIGN.md "Codes": 4-bit values in int8/uint8.
TABLE = {
    "int4": (4, True, np.int8, -8, 7),
    "uint4": (4, False, np.uint8, 0, 15),
    "int8": (8, True, np.int8, -128, 127),
    "uint8": (8, False, np.uint8, 0, 255),
    "int16": (16, True, np.int16, -32768, 32767),
    "uint16": (16, False, np.uint16, 0, 65535),
    "int32": (32, True, np.int32, -(2 ** 31), 2 ** 31 - 1),
    "int64": (64, True, np.int64, -(2 ** 63), 2 ** 63 - 1),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_parse_names(name):
    bw, signed, container, lo, hi = TABLE[name]
    t = parse_dtype(name)
    assert (t.name, t.bitwidth, t.signed, t.container, t.min, t.max) == (name, bw, signed, np.dtype(container), lo, hi)
    assert parse_dtype(t) is t
    assert parse_dtype(name.upper()) == t


@pytest.mark.parametrize("name", [n for n in TABLE if n not in ("int4", "uint4")])
def test_parse_numpy_dtypes(name):
    container = TABLE[name][2]
    assert parse_dtype(container).name == name
    assert parse_dtype(np.dtype(container)).name == name


@pytest.mark.parametrize("alias, name", [("s4", "int4"), ("u8", "uint8"), ("s8", "int8"), ("s16", "int16"),
                                         ("u16", "uint16"), ("s32", "int32"), ("s64", "int64")])
def test_targets_md_aliases(alias, name):
    assert parse_dtype(alias) == parse_dtype(name)


def test_generic_value_widths():
    t = parse_dtype("uint12")
    assert (t.bitwidth, t.signed, t.container, t.min, t.max) == (12, False, np.dtype(np.uint16), 0, 4095)
    t = parse_dtype("int5")
    assert (t.container, t.min, t.max) == (np.dtype(np.int8), -16, 15)


@pytest.mark.parametrize("bad", ["uint32", "uint64", "int3", "int17", "float32", "int", "", np.float32, np.uint32,
                                 np.bool_, None, 8, True, 1.5])
def test_parse_rejects(bad):
    with pytest.raises(EncodingError, match="weights.dtype"):
        parse_dtype(bad, "weights.dtype")


def test_unknown_name_lists_valid_names():
    with pytest.raises(EncodingError, match="int8.*uint8|uint8.*int8"):
        parse_dtype("int7x")


@pytest.mark.parametrize("bw, signed, want", [(4, True, np.int8), (4, False, np.uint8), (8, True, np.int8),
                                              (12, False, np.uint16), (16, True, np.int16), (17, True, np.int32),
                                              (32, True, np.int32), (32, False, np.uint32), (48, True, np.int64),
                                              (64, False, np.uint64)])
def test_storage_dtype(bw, signed, want):
    assert storage_dtype(bw, signed) == np.dtype(want)


@given(st.integers(1, 64), st.booleans())
def test_int_range_matches_definition(bw, signed):
    lo, hi = int_range(bw, signed)
    assert hi - lo == 2 ** bw - 1
    assert lo == (-(2 ** (bw - 1)) if signed else 0)
    info = np.iinfo(storage_dtype(bw, signed))
    assert info.min <= lo and hi <= info.max


@pytest.mark.parametrize("bw", [0, 65, -8, 8.0, "8", True, None])
def test_int_range_rejects(bw):
    with pytest.raises(EncodingError, match="bitwidth"):
        int_range(bw, True)


def test_int_range_rejects_non_bool_signed():
    with pytest.raises(EncodingError, match="signed"):
        int_range(8, 1)


def test_check_bitwidth_names_what():
    assert check_bitwidth(np.int64(8), D.VALUE_BITWIDTHS, "act_bw") == 8
    with pytest.raises(EncodingError, match=r"act_bw: bit width 3 .*4\.\.16"):
        check_bitwidth(3, D.VALUE_BITWIDTHS, "act_bw")
    with pytest.raises(EncodingError, match=r"bias_bw: bit width 16 .*8, 32, 64"):
        check_bitwidth(16, D.BIAS_BITWIDTHS, "bias_bw")
    with pytest.raises(EncodingError, match="act_bw"):
        check_bitwidth(8.0, D.VALUE_BITWIDTHS, "act_bw")


def test_check_int_and_positive():
    assert D.check_int(-128.0, "offset") == -128
    assert D.check_int(np.int16(-3), "offset") == -3
    for bad in (0.5, float("nan"), float("inf"), True, "1"):
        with pytest.raises(EncodingError, match="offset"):
            D.check_int(bad, "offset")
    assert D.check_positive_finite(np.float32(0.5), "scale") == 0.5
    for bad in (0, -1.0, float("nan"), float("inf"), True, "1"):
        with pytest.raises(EncodingError, match="scale"):
            D.check_positive_finite(bad, "scale")
