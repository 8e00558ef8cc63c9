"""``fxsim quantize``: an ONNX model and a QNN input list -> an AIMET encodings file; both
spellings of the bitwidth flags; overrides reported; errors exit 2 with one line."""

import json

import numpy as np
import onnx
import pytest

import fxsim as fx
import model_builders as mb
from fxsim.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("quantize")
    model = mb.mobilenet_like()
    onnx.save(model, d / "model.onnx")
    rng = np.random.default_rng(0)
    lines = []
    for k in range(3):
        x = rng.standard_normal((1, 64, 64, 3)).astype(np.float32)  # NHWC raw files
        x.tofile(d / f"in{k}.raw")
        lines.append(f"x:=in{k}.raw")
    (d / "list.txt").write_text("\n".join(lines) + "\n")
    return d


def _args(d, *extra):
    return ["quantize", "--input_network", str(d / "model.onnx"), "--input_list", str(d / "list.txt"),
            "--output_encodings", str(d / "enc.json"), "--input_dim", "x", "1,3,64,64", "--input_layout", "NHWC",
            "--quiet", *extra]


@pytest.mark.parametrize("spelling", [("--act_bw", "16", "--weight_bw", "4"),
                                      ("--act_bitwidth", "16", "--weights_bitwidth", "4")])
def test_quantize_writes_encodings_the_simulator_runs(files, capsys, spelling):
    assert main(_args(files, "--target", "htp", "--act_quantizer", "enhanced", *spelling)) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "from 3 inputs" in out
    graph = fx.load(str(files / "model.onnx"), input_shapes={"x": (1, 3, 64, 64)})
    encs = fx.load_encodings(files / "enc.json", graph)
    assert encs["x"].bitwidth == 16
    w = next(n.inputs[1] for n in graph.nodes if n.op_type == "Conv")
    assert encs[w].bitwidth == 4 and encs[w].is_per_channel
    fx.Simulator(graph, encs, target="htp")
    data = json.loads((files / "enc.json").read_text())
    assert data["version"] == "1.0.0"


def test_reduce_range_flag_writes_7_bit_weights_in_8_bit_storage(files, capsys):
    assert main(_args(files, "--target", "onnxruntime", "--reduce_range")) == 0
    capsys.readouterr()
    graph = fx.load(str(files / "model.onnx"), input_shapes={"x": (1, 3, 64, 64)})
    encs = fx.load_encodings(files / "enc.json", graph)
    for node in graph.nodes:
        if node.op_type == "Conv":
            enc = encs[node.inputs[1]]
            codes = fx.quantize(graph.constant(node.inputs[1]), enc, rounding=fx.RoundingMode.HALF_EVEN)
            assert enc.bitwidth == 8 and -64 <= codes.min() and codes.max() <= 63 and np.abs(codes).max() >= 62


def test_overrides_are_applied_and_reported(files, capsys):
    over = files / "over.json"
    over.write_text(json.dumps({"activation_encodings": {
        "x": [{"bitwidth": 8, "dtype": "int", "min": -4.0, "max": 4.0, "scale": 0.5, "offset": -128}],
        "nope": [{"bitwidth": 8, "dtype": "int", "min": -1.0, "max": 1.0}]}}))
    assert main(_args(files, "--quantization_overrides", str(over), "--encodings_format", "aimet-0.6.1")) == 0
    out = capsys.readouterr().out
    assert "override x: scale 0.5 in the file" in out and "override nope: not a tensor" in out
    data = json.loads((files / "enc.json").read_text())
    assert data["activation_encodings"]["x"][0]["scale"] == pytest.approx(8 / 255)


def test_errors_exit_2_with_one_line(files, capsys):
    assert main(_args(files, "--algorithms", "cle")) == 2
    err = capsys.readouterr().err
    assert "--algorithms cle" in err and err.strip().count("\n") == 0
    bad = files / "bad.txt"
    bad.write_text("y:=in0.raw\n")
    args = _args(files)
    args[args.index("--input_list") + 1] = str(bad)
    assert main(args) == 2
    assert "bad.txt:1: 'y' is not an input" in capsys.readouterr().err


def test_progress_bar_goes_to_stderr(files, capsys):
    args = [a for a in _args(files, "--act_quantizer", "percentile", "--percentile_calibration_value", "99.9")
            if a != "--quiet"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "calibrating" in captured.err and "wrote" in captured.out
