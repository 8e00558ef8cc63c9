"""MatMul accumulators (csrc/fxsim/kernels/matmul.h via _kernels.matmul_accumulate) equal the
exact reference (fxsim/reference/matmul.py) with ``==``, for every element type and policy.

Drawn: batch dimensions (B shared or batched as in attention), M, K, N, zero points at the range
ends (per-tensor or per-column for B), int32/int64 bias, values at the type extremes. Plus the
documented ONNX QLinearMatMul vector, ISA/thread bit-identity, bad arguments.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxsim import _kernels
from fxsim.errors import FxsimError, KernelError, OverflowRangeError
from fxsim.reference import matmul as ref
from kernel_helpers import assert_isa_and_thread_identical, bias_values, storage, values, zero_point


TYPES = ["uint8", "int8", "uint16", "int16", "int4"]
POLICIES = ["wrap", "saturate", "raise", "pair_saturate_16", "raw_pair_saturate_16"]


@st.composite
def matmul_case(draw, fast_path=False):
    """A matmul call; fast_path: 8-bit operands and WRAP (the vectorized path)."""
    types = ["uint8", "int8", "int4"] if fast_path else TYPES
    a_type, b_type = draw(st.sampled_from(types)), draw(st.sampled_from(types))
    batch_shape = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    batch = int(np.prod(batch_shape)) if batch_shape else 1
    b_batched = bool(batch_shape) and draw(st.booleans())
    m, k = draw(st.integers(1, 6)), draw(st.integers(1, 9))
    n = draw(st.integers(1, 70 if fast_path else 5))  # past one 64-column tile
    zp_b = [zero_point(draw, b_type) for _ in range(n if draw(st.booleans()) else 1)]
    bias, bias_kind = bias_values(draw, n)
    acc_bits = draw(st.sampled_from([32, 48, 64]))
    return dict(a_type=a_type, b_type=b_type, batch_shape=batch_shape, batch=batch, b_batched=b_batched, m=m, k=k,
                n=n, a=values(draw, a_type, batch * m * k), b=values(draw, b_type, (batch if b_batched else 1) * k * n),
                zp_a=zero_point(draw, a_type), zp_b=zp_b, bias=bias, bias_kind=bias_kind,
                policy="wrap" if fast_path else draw(st.sampled_from(POLICIES)), acc_bits=acc_bits,
                out_type="int32" if acc_bits == 32 and draw(st.booleans()) else "int64")


def run_kernel(c):
    bs = c["batch_shape"]
    a = np.array(c["a"], storage(c["a_type"])).reshape(bs + (c["m"], c["k"]))
    b = np.array(c["b"], storage(c["b_type"])).reshape((bs if c["b_batched"] else ()) + (c["k"], c["n"]))
    out = np.zeros(bs + (c["m"], c["n"]), c["out_type"])
    bias = None if c["bias"] is None else np.array(c["bias"], c["bias_kind"])
    _kernels.matmul_accumulate(a, b, c["zp_a"], np.array(c["zp_b"], np.int32), bias, c["policy"], c["acc_bits"], out)
    return out


def run_reference(c):
    return ref.matmul_accumulate(c["a"], c["b"], c["batch"], c["m"], c["k"], c["n"], c["zp_a"], c["zp_b"], c["bias"],
                                 c["b_batched"], c["policy"], c["acc_bits"])


@given(case=matmul_case())
def test_matmul_equals_reference(case):
    try:
        want = run_reference(case)
    except OverflowError as e:
        with pytest.raises(OverflowRangeError, match=str(e).split(" (")[0] + " "):
            run_kernel(case)
        return
    assert run_kernel(case).reshape(-1).tolist() == want


@given(case=matmul_case(fast_path=True))
def test_matmul_wrap_fast_path_equals_reference(case):
    assert run_kernel(case).reshape(-1).tolist() == run_reference(case)


def test_onnx_qlinearmatmul_uint8_accumulators():
    # research/engine-semantics.md 13.1 T4 (onnx backend test qlinearmatmul, uint8):
    a = np.array([[208, 236, 0, 238], [3, 214, 255, 29]], np.uint8)  # a_zp 113
    b = np.array([[152, 51, 244], [60, 26, 255], [0, 127, 246], [127, 254, 247]], np.uint8)  # b_zp 114
    out = np.zeros((2, 3), np.int32)
    _kernels.matmul_accumulate(a, b, 113, np.array([114], np.int32), None, "wrap", 32, out)
    # the int32 accumulators derived from the test's inputs and zero points
    assert out.tolist() == [[11475, -778, 31402], [-26914, -11872, 7513]]
    assert ref.matmul_accumulate(a.ravel().tolist(), b.ravel().tolist(), 1, 2, 4, 3, 113, [114]) == out.ravel().tolist()


def test_pair_saturate_16_clips_each_pair():
    # u8 x s8 as vpmaddubsw sees them: 255 * 127 * 2 = 64770 clips to 32767 per pair
    a = np.full((1, 5), 255, np.uint8)
    b = np.full((5, 1), 127, np.int8)
    zero = np.zeros(1, np.int32)
    out = np.zeros((1, 1), np.int32)
    _kernels.matmul_accumulate(a, b, 0, zero, None, "pair_saturate_16", 32, out)
    assert out[0, 0] == 2 * 32767 + 255 * 127  # two clipped pairs, the odd last product alone
    _kernels.matmul_accumulate(a, b, 0, zero, None, "wrap", 32, out)
    assert out[0, 0] == 5 * 255 * 127


def test_raw_pair_saturate_16_pairs_raw_codes_and_restores_zero_points():
    # FBGEMM's AVX2 GEMM (OutputProcessing-inl.h: raw -= B_zp * row_offset, raw -= A_zp * col_offset):
    # vpmaddubsw pairs the raw codes, 255 * 127 * 2 = 64770 clips to 32767, and the zero points come
    # back exactly afterwards. a_zp 255 makes every corrected product 0, so pair_saturate_16 sees 0.
    a = np.full((1, 5), 255, np.uint8)
    b = np.full((5, 1), 127, np.int8)
    out = np.zeros((1, 1), np.int32)
    raw_pairs = 2 * 32767 + 255 * 127  # two clipped pairs, the odd last product alone
    for a_zp, b_zp in ((255, 0), (0, 0), (3, -128), (128, 127)):
        exact = 5 * (255 - a_zp) * (127 - b_zp)
        want = raw_pairs + exact - 5 * 255 * 127  # + (-b_zp sum a - a_zp sum b + K a_zp b_zp), exact
        _kernels.matmul_accumulate(a, b, a_zp, np.array([b_zp], np.int32), None, "raw_pair_saturate_16", 32, out)
        assert out[0, 0] == want, (a_zp, b_zp)
        assert ref.matmul_accumulate([255] * 5, [127] * 5, 1, 1, 5, 1, a_zp, [b_zp], policy="raw_pair_saturate_16") == [want]
    _kernels.matmul_accumulate(a, b, 255, np.zeros(1, np.int32), None, "pair_saturate_16", 32, out)
    assert out[0, 0] == 0
    # without saturating pairs the rule is the exact sum: 100 * 127 * 2 < 32767
    small = np.full((1, 6), 100, np.uint8)
    _kernels.matmul_accumulate(small, np.full((6, 1), 127, np.int8), 37, np.array([-5], np.int32), None,
                               "raw_pair_saturate_16", 32, out)
    assert out[0, 0] == 6 * (100 - 37) * (127 + 5)


def test_every_isa_and_thread_count_is_bit_identical(restore_kernels):
    rng = np.random.default_rng(9)

    def case(a_dtype, b_dtype, a_shape, b_shape, policy="wrap", acc_bits=32):
        a = rng.integers(np.iinfo(a_dtype).min, np.iinfo(a_dtype).max + 1, size=a_shape).astype(a_dtype)
        b = rng.integers(np.iinfo(b_dtype).min, np.iinfo(b_dtype).max + 1, size=b_shape).astype(b_dtype)
        zp = rng.integers(np.iinfo(b_dtype).min, np.iinfo(b_dtype).max + 1, size=b_shape[-1]).astype(np.int32)
        bias = rng.integers(-(1 << 30), 1 << 30, size=b_shape[-1]).astype(np.int64)

        def call():
            out = np.empty(a_shape[:-1] + (b_shape[-1],), np.int32 if acc_bits == 32 else np.int64)
            _kernels.matmul_accumulate(a, b, 7, zp, bias, policy, acc_bits, out)
            return out
        return call

    calls = {
        "fc": case(np.uint8, np.int8, (3, 300), (300, 517)),
        "attention": case(np.int8, np.int8, (2, 3, 37, 64), (2, 3, 64, 41)),
        "big_k_acc64": case(np.uint8, np.uint8, (9, 200), (200, 301), acc_bits=64),
        "int16_pair": case(np.int16, np.int16, (17, 100), (100, 90), policy="pair_saturate_16"),
    }
    assert_isa_and_thread_identical(calls)


def test_large_k_wraps_exactly_at_48_bits():
    """K beyond the int32-exact fast path: the wide path must still give the exact wrap."""
    k = 40000
    a = np.full((1, k), 255, np.uint8)
    b = np.full((k, 1), -128, np.int8)
    out = np.zeros((1, 1), np.int64)
    _kernels.matmul_accumulate(a, b, 0, np.array([127], np.int32), None, "wrap", 48, out)
    assert out[0, 0] == k * 255 * (-255)
    out32 = np.zeros((1, 1), np.int32)
    _kernels.matmul_accumulate(a, b, 0, np.array([127], np.int32), None, "wrap", 32, out32)
    assert out32[0, 0] == ref.matmul_accumulate([255] * k, [-128] * k, 1, 1, k, 1, 0, [127])[0]


def _args(**over):
    base = dict(a=np.zeros((2, 3), np.uint8), b=np.zeros((3, 4), np.int8), a_zero_point=0,
                b_zero_point=np.zeros(1, np.int32), bias=None, policy="wrap", acc_bits=32,
                out=np.zeros((2, 4), np.int32))
    base.update(over)
    return base


@pytest.mark.parametrize("over, needle", [
    (dict(b=np.zeros((4, 4), np.int8)), "b has K = 4 rows"),
    (dict(a=np.zeros((2, 3), np.float32)), "a must be"),
    (dict(b=np.zeros((3, 4), np.int32)), "b must be"),
    (dict(out=np.zeros((2, 5), np.int32)), "out must have"),
    (dict(a=np.zeros(3, np.uint8)), "at least 2 dimensions"),
    (dict(a=np.zeros((2, 2, 3), np.uint8), b=np.zeros((3, 3, 4), np.int8), out=np.zeros((2, 2, 4), np.int32)),
     "batch dimensions"),
    (dict(a_zero_point=-1), "a_zero_point = -1"),
    (dict(b_zero_point=np.array([0, 0], np.int32)), "zero_point must have 1 or 4"),
    (dict(b_zero_point=np.array([0], np.int64)), "b_zero_point must be a int32"),
    (dict(bias=np.zeros(4, np.uint8)), "bias must be an int32 or int64"),
    (dict(policy="saturating"), "policy must be"),
    (dict(acc_bits=48), "out is int32 but acc_bits is 48"),
])
def test_bad_arguments(over, needle):
    with pytest.raises(KernelError, match=needle) as info:
        _kernels.matmul_accumulate(**_args(**over))
    assert isinstance(info.value, FxsimError)
    assert str(info.value).startswith("matmul_accumulate: ")
