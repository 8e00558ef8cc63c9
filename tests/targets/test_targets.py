"""Target profiles (TARGETS.md): the built-ins load and describe themselves, TARGETS.md's facts
hold per profile, user TOML files extend them, and every bad file is a TargetError naming the
file and the dotted key."""

import dataclasses
import pathlib

import pytest

import fxsim as fx
from fxsim import Accumulate, Requant, RoundingMode, TargetError
from fxsim.targets import list_targets, load_target
from fxsim.targets.target import STATUSES

BUILTINS = ("tflite-int8", "tflite-xnnpack", "tflite-int8-opt", "tflite-int16x8", "onnxruntime",
            "onnxruntime-vnni", "onnx-reference", "fbgemm", "fbgemm-vnni", "tosa", "tosa-single-round",
            "cmsis-nn", "xilinx-dpu", "fpga-zebra", "hexagon-dsp", "htp", "exact")


def test_every_builtin_of_targets_md_is_listed_in_order():
    assert list_targets() == BUILTINS
    assert fx.list_targets() == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_loads_and_describes_every_field_with_a_status(name):
    t = load_target(name)
    assert isinstance(t, fx.Target) and t.name == name
    fields = t.fields()
    assert set(fields) == set(t.labels)
    text = t.describe()
    for key, label in t.labels.items():
        assert label.status in STATUSES and label.source
        row = next(line for line in text.splitlines() if line.split()[:1] == [key])
        assert label.status in row
    # a verified field names the oracle test that verifies it, and that test exists
    root = pathlib.Path(__file__).resolve().parents[2]
    for key, label in t.labels.items():
        if label.status == "verified":
            path = label.source.split(",")[0].split()[0]
            assert path.startswith("tests/oracles/") and (root / path).is_file(), (key, label.source)
    # frozen and hashable; loading twice gives an equal profile
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.name = "x"
    assert hash(t) == hash(load_target(name)) and t == load_target(name)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trips_through_a_user_file(tmp_path, name):
    # a file that extends the profile and restates nothing is the same arithmetic
    path = tmp_path / "same.toml"
    path.write_text(f'extends = "{name}"\nname = "{name}"\n')
    t, u = load_target(name), load_target(path)
    assert t.fields() == u.fields() and dict(t.labels) == dict(u.labels)


def test_tflite_int8_facts():
    t = load_target("tflite-int8")
    assert t.quantize.method == "division" and t.quantize.precision == "float32"
    assert t.quantize.rounding is RoundingMode.HALF_AWAY
    assert t.requant.method is Requant.DOUBLE_ROUND and t.requant.rounding is None
    assert t.multiplier.derivation == "tflite" and t.multiplier.precision == "double"
    w = t.weights
    assert w.dtypes[0] == "s8" and "s4" in w.dtypes and w.symmetric and w.narrow_range
    assert w.granularity == "per_channel" and w.int4_packing == "dense"
    assert t.activations.dtypes == ("s8",) and not t.activations.symmetric
    assert t.bias.storage == "s32" and t.accumulator.bits == 32
    assert t.accumulator.policy is Accumulate.WRAP
    assert t.elementwise.add == "tflite" and t.elementwise.add_left_shift == 20
    assert t.average_pool.method == "round_half_away_div" and t.average_pool.arith_method == "tflite"
    assert t.nonlinear["softmax"] == "tflite_fixed_point"
    # verified against LiteRT 2.3.0's reference kernels (tests/oracles/test_tflite_oracles.py)
    assert t.labels["requant.method"].status == "verified"
    assert t.labels["requant.method"].source.startswith("tests/oracles/test_tflite_oracles.py")
    assert t.labels["quantize.method"].status == "documented"  # float inputs not in the fixtures


def test_tflite_variants():
    x = load_target("tflite-xnnpack")
    assert x.requant.method is Requant.FP32 and x.requant.rounding is RoundingMode.HALF_EVEN
    opt = load_target("tflite-int8-opt")
    assert opt.requant.method is Requant.DOUBLE_ROUND  # other ops as the reference
    for op in ("conv2d", "fully_connected"):
        # LiteRT 2.3.0 on x86: SRDHM then a half-up shift (not ruy's documented single rounding)
        spec = opt.for_op(op).requant
        assert spec.method is Requant.DOUBLE_ROUND and spec.rounding is RoundingMode.HALF_UP
        assert opt.for_op(op).labels["requant.method"].status == "verified"
    assert opt.for_op("mean").average_pool.method == "tflite_mean_opt"
    assert opt.for_op("depthwise_conv2d").requant.method is Requant.DOUBLE_ROUND
    a16 = load_target("tflite-int16x8")
    assert a16.activations.dtypes == ("s16",) and a16.activations.symmetric
    assert a16.bias.storage == "s64" and a16.accumulator.bits == 64
    assert a16.requant.method is Requant.INT64_REDUCED
    assert a16.elementwise.add_left_shift == 15
    assert a16.for_op("add", activation_bits=16).requant.method is Requant.DOUBLE_ROUND
    # measured on LiteRT: 16x8 FULLY_CONNECTED uses the 32-bit multiplier, int16 MEAN folds the count
    assert a16.for_op("fully_connected", activation_bits=16).requant.method is Requant.DOUBLE_ROUND
    assert a16.for_op("mean", activation_bits=16).average_pool.method == "tflite_mean_folded"
    assert a16.for_op("requantize", activation_bits=16).requant.method is Requant.DOUBLE_ROUND


def test_onnxruntime_facts():
    t = load_target("onnxruntime")
    assert t.quantize.rounding is RoundingMode.HALF_EVEN and t.quantize.method == "division"
    assert t.quantize.clamp == "before_zero_point"
    assert t.requant.method is Requant.FP32 and t.requant.rounding is RoundingMode.HALF_EVEN
    assert t.requant.product_precision == "float32" and t.requant.zero_point_in_float is False
    assert t.multiplier.precision == "float32" and t.bias.scale_precision == "float32"
    assert t.accumulator.policy is Accumulate.RAW_PAIR_SATURATE_16 and t.isa == "x86"
    assert {"u8", "s8"} <= set(t.activations.dtypes) and t.weights.dtypes[0] == "s8"
    assert t.output_stage.order == "clamp_round_add_zp" and t.elementwise.add == "float"
    # read in MLAS (qgemm.h, the U8S8 AVX2 kernel), not measured: no non-VNNI CPU here
    assert t.labels["accumulator.policy"].status == "documented"
    # MLAS's depthwise kernels subtract the zero points in int16: exact on every path
    assert t.for_op("depthwise_conv2d").accumulator.policy is Accumulate.WRAP
    vnni = load_target("onnxruntime-vnni")
    assert vnni.accumulator.policy is Accumulate.WRAP and vnni.isa == "x86_vnni"
    assert vnni.for_op("depthwise_conv2d").accumulator.policy is Accumulate.WRAP
    assert vnni.requant == t.requant
    ref = load_target("onnx-reference")
    assert ref.requant.product_precision == "float64" and ref.requant.zero_point_in_float
    assert ref.output_stage.order == "add_zp_clamp_round"


def test_fbgemm_tosa_cmsis_facts():
    f = load_target("fbgemm")
    assert f.quantize.method == "reciprocal" and f.quantize.rounding is RoundingMode.HALF_EVEN
    assert f.multiplier.derivation == "fbgemm" and not f.weights.symmetric
    # raw-code pairs on AVX2; FBGEMM's depthwise kernels pair filter taps on every path, VNNI
    # included, for the layers of their shape (fbgemm-vnni's route); other depthwise layers run the
    # im2col GEMM (exact with VNNI)
    from fxsim.targets import Layer

    fast = Layer(True, 16, 16, 16, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1))
    odd = Layer(True, 12, 12, 12, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1))  # 12 groups: not a multiple of 8
    assert f.accumulator.policy is Accumulate.RAW_PAIR_SATURATE_16 and f.labels["accumulator.policy"].status == "verified"
    for name, layer, policy in (("fbgemm", None, Accumulate.RAW_PAIR_SATURATE_16),
                                ("fbgemm-vnni", fast, Accumulate.RAW_PAIR_SATURATE_16),
                                ("fbgemm-vnni", odd, Accumulate.WRAP)):
        dw = load_target(name).for_op("depthwise_conv2d", 8, layer).accumulator
        assert dw.policy is policy and dw.order == ("any" if policy is Accumulate.WRAP else "fbgemm_depthwise")
    assert load_target("fbgemm-vnni").for_op("conv2d").accumulator.policy is Accumulate.WRAP
    t = load_target("tosa")
    assert t.requant.method is Requant.DOUBLE_ROUND and t.multiplier.derivation == "tosa"
    assert t.average_pool.method == "tosa"
    w = t.for_op(activation_bits=16)
    assert w.accumulator.bits == 48 and w.requant.method is Requant.SINGLE_ROUND
    assert w.multiplier.bits == 16
    assert load_target("tosa-single-round").requant.method is Requant.SINGLE_ROUND
    c = load_target("cmsis-nn")
    assert c.requant == load_target("tflite-int8").requant
    c16 = c.for_op("conv2d", activation_bits=16)
    assert c16.accumulator.partial_bits == 32 and c16.accumulator.bits == 64
    assert c16.bias.storage == "s64" and c16.requant.method is Requant.INT64_REDUCED


def test_xilinx_dpu_facts():
    t = load_target("xilinx-dpu")
    assert t.requant.method is Requant.POWER_OF_TWO and t.multiplier.derivation == "power_of_two"
    assert t.requant.rounding is RoundingMode.HALF_UP
    assert t.quantize.rounding is RoundingMode.HALF_UP      # activations half up
    assert t.weights.rounding is RoundingMode.HALF_AWAY     # weights std::round
    assert t.bias.rounding is RoundingMode.HALF_AWAY and t.bias.storage == "s8_pot"
    assert t.activations.symmetric and t.weights.granularity == "per_tensor"
    assert t.output_stage.order == "clamp_round_add_zp"
    assert t.elementwise.add == "align_pot" and t.average_pool.method == "dpu_approx"


def test_device_profiles_facts():
    z = load_target("fpga-zebra")
    assert z.requant.rounding is RoundingMode.HALF_AWAY
    assert z.labels["requant.rounding"].status == "assumed"
    h = load_target("hexagon-dsp")
    assert h.activations.dtypes == ("u8",) and h.multiplier.derivation == "hexagon"
    assert h.average_pool.method == "reciprocal_q15"
    htp = load_target("htp")
    assert htp.activations.dtypes == ("u8", "u16") and htp.output_stage.order == "zp_in_bias"
    assert htp.float_ops.precision == "fp16"
    assert htp.for_op(activation_bits=16).accumulator.bits == 64
    assert htp.labels["requant.rounding"].status == "assumed"
    e = load_target("exact")
    assert e.accumulator.policy is Accumulate.RAISE and e.accumulator.bits == 64
    assert e.requant.product_precision == "exact"


# ----------------------------------------------------------------------------- user files

def _write(tmp_path, text, name="user.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_file_extends_and_overrides(tmp_path):
    path = _write(tmp_path, '''
extends = "tflite-int8"
name = "my-npu"

[requant]
status = "documented"
source = "vendor manual p. 12"
method = "single_round"

[quantize]
rounding = "half_even"
''')
    t = load_target(path)
    assert t.name == "my-npu" and t.extends == "tflite-int8"
    assert t.requant.method is Requant.SINGLE_ROUND
    assert t.labels["requant.method"].source == "vendor manual p. 12"
    # a value set without a status is assumed, sourced to the user file
    assert t.quantize.rounding is RoundingMode.HALF_EVEN
    assert t.labels["quantize.rounding"].status == "assumed"
    assert t.labels["quantize.rounding"].source == "user.toml"
    # inherited fields keep the parent's values and labels
    assert t.weights == load_target("tflite-int8").weights
    assert t.labels["weights.dtypes"] == load_target("tflite-int8").labels["weights.dtypes"]
    assert fx.load_target(str(path)) == t


def test_user_file_extends_a_file_and_switches_to_fp32(tmp_path):
    _write(tmp_path, 'extends = "tflite-int8"\n[elementwise]\nadd = "float"\n', "base.toml")
    path = _write(tmp_path, '''
extends = "base.toml"
[requant]
method = "fp32"
rounding = "half_even"
product_precision = "float32"
zero_point_in_float = false
[output_stage]
order = "clamp_round_add_zp"
[multiplier]
derivation = "mantissa24"
''')
    t = load_target(path)
    assert t.requant.method is Requant.FP32 and t.elementwise.add == "float"
    assert t.elementwise.add_left_shift is None


def test_relabel_an_inherited_field(tmp_path):
    path = _write(tmp_path, 'extends = "onnxruntime"\n[accumulator]\n'
                            'labels = { policy = { status = "verified", source = "my bench" } }\n')
    t = load_target(path)
    assert t.labels["accumulator.policy"].status == "verified"
    assert t.accumulator == load_target("onnxruntime").accumulator


@pytest.mark.parametrize("text, key", [
    ('extends = "tflite-int8"\n[requant]\nmethd = "fp32"\n', "requant.methd"),
    ('extends = "tflite-int8"\ncolour = "red"\n', "colour"),
    ('extends = "tflite-int8"\n[weights]\ndtypes = ["s7"]\n', "weights.dtypes"),
    ('extends = "tflite-int8"\n[quantize]\nrounding = "nearest"\n', "quantize.rounding"),
    ('extends = "tflite-int8"\n[accumulator]\nbits = 40\n', "accumulator.bits"),
    ('extends = "tflite-int8"\n[requant]\nstatus = "proven"\n', "requant.status"),
    ('extends = "tflite-int8"\n[nonlinear]\nfrobnicate = "lut"\n', "nonlinear.frobnicate"),
    ('extends = "tflite-int8"\n[overrides.conv9.requant]\nmethod = "single_round"\n',
     "overrides.conv9"),
    ('extends = "tflite-int8"\n[overrides.conv2d.weights]\nsymmetric = false\n',
     "overrides.conv2d.weights"),
    # routes: unknown field, an op a route cannot select, bad conditions, a name that is an op
    ('extends = "fbgemm"\n[routing.lib]\nops = ["conv2d"]\ncolour = 1\n', "routing.lib.colour"),
    ('extends = "fbgemm"\n[routing.lib]\nops = ["add"]\n', "routing.lib.ops"),
    ('extends = "fbgemm"\n[routing.lib]\nops = ["conv2d"]\nweight_zero_points = "small"\n',
     "routing.lib.weight_zero_points"),
    ('extends = "fbgemm"\n[routing.lib]\nops = ["conv2d"]\nmax_groups = 0\n', "routing.lib.max_groups"),
    ('extends = "fbgemm"\n[routing.conv2d]\nops = ["conv2d"]\n', "routing.conv2d.ops"),
])
def test_unknown_keys_and_bad_values_name_file_and_key(tmp_path, text, key):
    path = _write(tmp_path, text)
    with pytest.raises(TargetError) as info:
        load_target(path)
    assert str(path) in str(info.value) and key in str(info.value)


@pytest.mark.parametrize("text, key", [
    # int64_reduced with an 8-bit activation profile
    ('[requant]\nmethod = "int64_reduced"\n[accumulator]\nbits = 64\n[bias]\nstorage = "s64"\n',
     "requant.method"),
    # DOUBLE_ROUND with a 48-bit accumulator
    ('[accumulator]\nbits = 48\n', "accumulator.bits"),
    # a power-of-two requant with a non-power-of-two derivation
    ('[requant]\nmethod = "power_of_two"\nrounding = "half_up"\n', "multiplier.derivation"),
    # bias s64 with an int32 accumulator
    ('[bias]\nstorage = "s64"\n', "bias.storage"),
    # fp32 requant without its rounding
    ('[requant]\nmethod = "fp32"\n', "requant.rounding"),
    # double rounding takes no rounding mode
    ('[requant]\nrounding = "half_even"\n', "requant.rounding"),
    # a non-WRAP policy must state its order
    ('[accumulator]\npolicy = "saturate"\n', "accumulator.order"),
    # left shift 20 with 16-bit activations
    ('[activations]\ndtypes = ["s16"]\n', "elementwise.add_left_shift"),
    # narrow range needs symmetric weights
    ('[weights]\nsymmetric = false\n', "weights.narrow_range"),
    # an a16 scope in an 8-bit-only profile
    ('[overrides.a16.accumulator]\nbits = 64\n', "overrides.a16"),
    # an override that makes one op impossible names the override
    ('[overrides.conv2d.accumulator]\nbits = 64\n', "overrides.conv2d.accumulator.bits"),
    # a route without overrides, overrides of a scope that is no route, a route without ops,
    # a route whose overrides make a selected op impossible
    ('[routing.lib]\nops = ["conv2d"]\n', "routing.lib"),
    ('[overrides.lib.accumulator]\nbits = 64\n', "overrides.lib"),
    ('[routing.lib]\nmax_groups = 4\n[overrides.lib.accumulator]\npolicy = "wrap"\n', "routing.lib.ops"),
    ('[routing.lib]\nops = ["conv2d"]\n[overrides.lib.accumulator]\nbits = 64\n',
     "overrides.lib.accumulator.bits"),
])
def test_impossible_combinations_name_file_and_key(tmp_path, text, key):
    path = _write(tmp_path, 'extends = "tflite-int8"\n' + text)
    with pytest.raises(TargetError) as info:
        load_target(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) and key in msg, msg


def test_malformed_toml_and_missing_files(tmp_path):
    path = _write(tmp_path, 'extends = "tflite-int8"\n[requant\nmethod = 3\n')
    with pytest.raises(TargetError, match="malformed TOML") as info:
        load_target(path)
    assert str(path) in str(info.value)
    missing = tmp_path / "nope.toml"
    with pytest.raises(TargetError, match="no such target file") as info:
        load_target(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(TargetError, match="not a built-in target"):
        load_target("tflite-int9")
    path = _write(tmp_path, 'extends = "gone.toml"\n')
    with pytest.raises(TargetError, match="extends"):
        load_target(path)


def test_standalone_file_must_state_every_field(tmp_path):
    path = _write(tmp_path, 'name = "bare"\n[requant]\nmethod = "double_round"\n')
    with pytest.raises(TargetError, match=r"activations\.dtypes: missing"):
        load_target(path)


def test_extends_cycle_is_an_error(tmp_path):
    _write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    _write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(TargetError, match="circular extends"):
        load_target(tmp_path / "a.toml")


def test_for_op_rejects_unknown_ops():
    with pytest.raises(TargetError, match="overrides.conv3"):
        load_target("tflite-int8").for_op("conv3")


def test_routes_select_layers_by_weight_zero_points_and_groups(tmp_path):
    """A route applies its override scope to the weighted layers its conditions select (PyTorch's
    x86 engine: oneDNN for all-zero weight zero points and at most 100 groups), after the op's
    own overrides; a routed op asked for without its layer is an error; ``describe`` prints the
    route; a file extending the profile inherits it."""
    from fxsim.targets import Layer

    path = _write(tmp_path, '''
extends = "fbgemm-vnni"
[routing.onednn]
ops = ["conv2d", "depthwise_conv2d"]
weight_zero_points = "all_zero"
max_groups = 100
[overrides.onednn.accumulator]
policy = "wrap"
order = "any"
''')
    t = load_target(path)
    pairs = Accumulate.RAW_PAIR_SATURATE_16

    def depthwise(symmetric, groups, stride=1):  # 3x3, padding 1: FBGEMM's depthwise shape when groups % 8 == 0
        return Layer(symmetric, groups, groups, groups, (3, 3), (stride, stride), (1, 1), (1, 1, 1, 1))

    def policy(layer):
        return t.for_op("depthwise_conv2d", 8, layer).accumulator.policy

    assert policy(depthwise(True, 8)) is Accumulate.WRAP      # oneDNN (the later route wins)
    assert policy(depthwise(True, 96)) is Accumulate.WRAP
    assert policy(depthwise(True, 104)) is pairs              # more than 100 groups: FBGEMM's depthwise kernel
    assert policy(depthwise(False, 8, 2)) is pairs            # a weight zero point: FBGEMM
    assert policy(depthwise(True, 101)) is Accumulate.WRAP    # FBGEMM's im2col GEMM (101 % 8 != 0): exact
    assert t.for_op("depthwise_conv2d", 8, depthwise(False, 8)).accumulator.order == "fbgemm_depthwise"
    assert list(t.routing) == ["fbgemm_depthwise_kernel", "onednn"]  # the parent's route first
    assert t.for_op("fully_connected", 8).accumulator.policy is Accumulate.WRAP  # not routed
    with pytest.raises(TargetError, match="routing.onednn"):
        t.for_op("conv2d", 8)
    text = t.describe()
    assert "routing.onednn.max_groups" in text and "overrides.onednn.accumulator.policy" in text
    child = _write(tmp_path, f'extends = "{path}"\n', "child.toml")
    assert load_target(child).routing == t.routing
