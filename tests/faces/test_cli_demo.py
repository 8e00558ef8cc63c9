"""The fxsim command and its embedded demo."""

import re
import subprocess
import sys

from fxsim.cli import main


def test_demo_runs_and_reports_each_target(capsys):
    assert main(["demo", "--samples", "128"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^(\S.*?)\s+([\d.]+) dB\s+([\d.]+) dB\s+([\d.]+)%$", out, flags=re.M)
    assert [r[0] for r in rows] == [
        "tflite-int8 (double round)", "ruy (single round)", "onnxruntime (fp32, half even)", "power-of-two (DPU-style)"]
    for name, sqnr_hidden, sqnr_out, agree in rows:
        # 8-bit quantization of this small network keeps 25+ dB; a broken kernel gives ~0 dB
        assert float(sqnr_hidden) > 25 and float(sqnr_out) > 20, name
        assert float(agree) > 90, name
    # the tie table the demo prints is computed by the kernels, and is the documented one
    assert "double round (TFLite)        [-3, -2, -1, 1, 2, 3]" in out
    assert "single round (ruy)           [-2, -1, 0, 1, 2, 3]" in out
    assert "fp32 half even (ORT)         [-2, -2, 0, 0, 2, 2]" in out


def test_demo_is_deterministic(capsys):
    main(["demo", "--samples", "32", "--seed", "3"])
    first = capsys.readouterr().out
    main(["demo", "--samples", "32", "--seed", "3"])
    assert capsys.readouterr().out == first


def test_bad_arguments_exit_2_with_one_line(capsys):
    assert main(["demo", "--samples", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "--samples" in err
    assert main([]) == 2


def test_python_dash_m_fxsim(tmp_path):
    # run outside the checkout so the installed package is the one imported
    proc = subprocess.run([sys.executable, "-m", "fxsim", "demo", "--samples", "16"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "SQNR" in proc.stdout
