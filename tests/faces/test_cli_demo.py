"""The fxsim command and its embedded demo (a CNN trained on handwritten digits)."""

import re
import subprocess
import sys

from fxsim.cli import main


def test_demo_runs_and_reports_each_target(capsys, tmp_path):
    report = tmp_path / "demo.html"
    assert main(["demo", "--samples", "120", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    float_acc = float(re.search(r"float model accuracy: ([\d.]+)%", out).group(1))
    assert float_acc > 90  # well above chance (10%): the shipped model is really trained
    rows = re.findall(r"^(\S+)\s+(tf|percentile)\s+([\d.]+)%\s+([\d.]+) dB", out, flags=re.M)
    assert {(r[0], r[1]) for r in rows} == {(t, q) for t in ("tflite-int8", "onnxruntime", "onnxruntime-vnni",
                                                                     "htp", "tosa")
                                           for q in ("tf", "percentile")}
    for target, quantizer, acc, sqnr in rows:
        assert abs(float(acc) - float_acc) <= 3.0, (target, quantizer)  # within a few points of float
        assert float(sqnr) > 10, (target, quantizer)
    # the saturating engine is named, with the reason read from its profile's accumulate policy
    assert "onnxruntime: sums u8 x s8 products in int16-saturated pairs" in out
    sqnr = {(r[0], r[1]): float(r[3]) for r in rows}
    assert sqnr["onnxruntime-vnni", "tf"] > sqnr["onnxruntime", "tf"] + 10  # exact sums vs saturated pairs
    assert "worst layers" in out and f"report: {report}" in out
    assert report.exists() and "<img" in report.read_text()
    # the tie table the demo prints is computed by the kernels, and is the documented one
    assert "double round (TFLite)        [-3, -2, -1, 1, 2, 3]" in out
    assert "single round (ruy)           [-2, -1, 0, 1, 2, 3]" in out
    assert "fp32 half even (ORT)         [-2, -2, 0, 0, 2, 2]" in out


def test_bad_arguments_exit_2_with_one_line(capsys):
    assert main(["demo", "--samples", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "--samples" in err
    assert main([]) == 2


def test_python_dash_m_fxsim(tmp_path):
    # run outside the checkout so the installed package (with its data files) is the one imported
    proc = subprocess.run([sys.executable, "-m", "fxsim", "demo", "--samples", "16", "--report",
                           str(tmp_path / "r.html")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "accuracy" in proc.stdout
