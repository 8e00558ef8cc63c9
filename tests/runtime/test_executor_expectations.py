"""The executor computes the codes it computed before prepared plans: every tensor of the
model-shaped graphs (``tests/golden/executor_codes/cases.py``) on twelve targets, kept with
``keep="all"`` and dequantized, equals the digest recorded by ``generate.py``: first at commit
9145695, the per-call executor (the prepared plans computed the same codes wherever a lowering
had not changed on purpose), recorded again after the fourth session's kernel merges (direct
depthwise / small-depth kernels, packed u8 x s8 weights, the global-average kernel), whose
intentional lowering changes since 9145695 had left 11 runs with every tensor exempt. One
differing code anywhere changes a digest.

A node whose lowering is described differently from the recording (another lowering was added
on purpose, e.g. an integer kernel replacing a float fallback) exempts its outputs and what is
computed from them; every other tensor must still match. A run in which every computed tensor
is exempt is skipped, naming the changed nodes (regenerate the expectations with
``tests/golden/executor_codes/generate.py`` once such a change is reviewed).
"""

import gzip
import json
import os
import sys

import pytest

import fxsim as fx

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "executor_codes")
sys.path.insert(0, HERE)

import cases  # noqa: E402

with gzip.open(os.path.join(HERE, "expectations.json.gz"), "rt") as _f:
    EXPECTED = json.load(_f)


def _exempt(sim, recorded):
    """Tensors computed by, or downstream of, a node whose lowering description changed."""
    changed = {node.name for node, low in zip(sim.graph.nodes, sim.lowerings)
               if recorded.get(node.name) != [low.kind, low.arithmetic]}
    tainted = set()
    for node in sim.graph.nodes:
        if node.name in changed or any(name in tainted for name in node.inputs if name):
            tainted.update(o for o in node.outputs if o)
    return changed, tainted


@pytest.mark.parametrize("key", sorted(EXPECTED["runs"]))
def test_codes_equal_the_recorded_per_call_executor(key):
    case, target, act_bw = key.split("/")
    expected = EXPECTED["runs"][key]
    encs = cases.decode(EXPECTED["encodings"][f"{case}/{act_bw}"])
    if "error" in expected:
        with pytest.raises(fx.FxsimError) as info:
            cases.simulator(case, target, int(act_bw), encs)
        assert f"{type(info.value).__name__}: {info.value}" == expected["error"]
        return
    sim, feeds = cases.simulator(case, target, int(act_bw), encs)
    assert sorted(node.name for node in sim.graph.nodes) == sorted(expected["lowerings"])
    changed, tainted = _exempt(sim, expected["lowerings"])
    computed = {o for node in sim.graph.nodes for o in node.outputs if o}
    if computed <= tainted:
        pytest.skip(f"{key}: every computed tensor depends on a lowering changed since the recording: "
                    f"{sorted(changed)}")
    actual = cases.record(sim, feeds)
    compared = set()
    for seed, (got, want) in enumerate(zip(actual["runs"], expected["runs"])):
        for part in ("codes", "dequantized"):
            assert sorted(got[part]) == sorted(want[part])
            for name, digest in want[part].items():
                if name in tainted:
                    continue
                assert got[part][name] == digest, f"{key} seed #{seed} {part} {name!r} differs from the recording"
                compared.add(name)
    assert compared & computed, f"{key}: no computed tensor compared"
