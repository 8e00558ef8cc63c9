"""Records ``expectations.json``: digests of every tensor the Simulator computes on the cases of
``cases.py``. Run from the repository root at the commit whose behaviour is the reference:

    PYTHONPATH=.:tests python tests/golden/executor_codes/generate.py

The file was first recorded at commit 9145695 (the per-call executor, before prepared plans),
so the test proved the prepared-plan executor computes the same codes; it was recorded again
after the fourth session's kernel merges (the provenance names the commit).
"""

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import onnx

import fxsim as fx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cases  # noqa: E402


def main():
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    result = {"provenance": {"commit": commit, "numpy": np.__version__, "onnx": onnx.__version__,
                             "fxsim": fx.__version__ if hasattr(fx, "__version__") else "",
                             "script": "tests/golden/executor_codes/generate.py"},
              "encodings": {}, "runs": {}}
    for case, target, act_bw in cases.RUNS:
        key = f"{case}/{target}/{act_bw}"
        enc_key = f"{case}/{act_bw}"
        if enc_key not in result["encodings"]:  # stored, so the test does not depend on calibration
            result["encodings"][enc_key] = cases.encode(cases.encodings(case, act_bw)[1])
        try:
            sim, feeds = cases.simulator(case, target, act_bw, cases.decode(result["encodings"][enc_key]))
            result["runs"][key] = cases.record(sim, feeds)
        except fx.FxsimError as error:  # recorded: the test expects the same refusal
            result["runs"][key] = {"error": f"{type(error).__name__}: {error}"}
        print(key, "error" if "error" in result["runs"][key] else "ok", flush=True)
    with gzip.open(os.path.join(HERE, "expectations.json.gz"), "wt") as f:
        json.dump(result, f, sort_keys=True)


if __name__ == "__main__":
    main()
