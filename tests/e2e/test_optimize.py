"""kswarm optimize end to end on the CPU: split, run, export, then the winners applied to a freshly
built, unmodified model in another process (docs/optimize.md)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import KSWARM

# Each block sums x scaled by each of 64 weights in turn: 128 small ops in eager, each paying
# the dispatcher's fixed cost, which torch.compile fuses into one loop. A win set by the count
# of ops rather than by the machine's memory or vector units, so it holds on any CPU. Two blocks
# under a container, so the parts' paths are nested ("stage.0").
ELEMENTWISE_NET = """
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, channels, terms=64):
        super().__init__()
        self.terms = terms
        self.w = nn.Parameter(torch.rand(terms, channels, 1, 1) / terms)

    def forward(self, x):
        out = torch.zeros_like(x)
        for i in range(self.terms):
            out = out + x * self.w[i]
        return out


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 1)
        self.stage = nn.Sequential(Block(16), Block(16))

    def forward(self, x):
        return self.stage(self.stem(x))


def get_model():
    return Net()


def get_inputs():
    return [torch.randn(1, 3, 32, 32)]
"""

# Runs in a fresh interpreter, as a user's program would: builds the model twice (one to patch,
# one to compare with, same weights), applies the winners and prints what each part did.
USER_PROGRAM = """
import json, sys
import torch
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import kswarm_rt
import elementwise_net as m

torch.manual_seed(123)
original = m.get_model().eval()
model = m.get_model().eval()
model.load_state_dict(original.state_dict())
model = kswarm_rt.apply(model, sys.argv[1])
result = {}
with torch.no_grad():
    for batch in (1, 2):  # 1: the shape optimized; 2: never verified
        x = torch.randn(batch, 3, 32, 32)
        result[f"max_diff_{batch}"] = (model(x) - original(x)).abs().max().item()
        result[f"parts_{batch}"] = {path: [p.calls_replaced, p.calls_original]
                                    for path, p in kswarm_rt.parts_of(model).items()}
print(json.dumps(result))
"""


@pytest.mark.serial  # torch.compile must win by the verdict's own timings
def test_optimize_makes_a_model_faster_and_its_winners_apply_to_a_fresh_model(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "elementwise_net.py").write_text(ELEMENTWISE_NET)
    out = tmp_path / "out"
    proc = subprocess.run(
        [KSWARM, "optimize", str(models / "elementwise_net.py"), "--out", str(out),
         "--db", str(tmp_path / "kswarm.db"), "--device", "cpu", "--max-parts", "2",
         "--trials", "10", "--agents", "torch_compile"],
        capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 problem(s) written" in proc.stdout
    assert "Whole model: predicted by the parts" in proc.stdout

    report = json.loads((out / "report.json").read_text())
    # The patched whole model passed the same checks as any candidate, against the original.
    measured = report["measured"]
    assert measured["outcome"] == "passed", (measured, proc.stdout[-4000:])
    # Its figure is divided by the unpatched model's, contained the same way (the control).
    assert measured["control_speedup"] > 0, measured
    assert abs(measured["speedup"] - measured["raw_speedup"] / measured["control_speedup"]) < 1e-9
    assert [p["problem"] for p in report["parts"]] == \
        [p["problem"] for p in json.loads((out / "parts.json").read_text())["parts"]]
    assert len(report["parts"]) == 2
    # `kswarm report` of the run shows the same whole-model figures, and only for this run.
    rep = subprocess.run([KSWARM, "report", "--db", str(tmp_path / "kswarm.db"), "--format",
                          "json"], capture_output=True, text=True, timeout=120)
    assert rep.returncode == 0, rep.stderr
    summary = json.loads(rep.stdout)
    assert summary["model"] == report and report["run_id"] == summary["run"]["id"]

    manifest = json.loads((out / "winners" / "manifest.json").read_text())
    kept = [p for p in manifest["problems"] if p["module"]]
    assert kept, "torch.compile fuses each block's 128 ops into one loop; no winner kept"
    parts = json.loads((out / "winners" / "parts.json").read_text())
    kept_paths = {path for p in parts["parts"] for path in p["modules"]
                  if p["problem_sha256"] in {k["problem_sha256"] for k in kept}}
    assert kept_paths <= {"stage.0", "stage.1"}, kept_paths

    run = subprocess.run([sys.executable, "-c", USER_PROGRAM, str(out / "winners"), str(models)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(result["parts_1"]) == kept_paths
    # At the optimized shape every swapped part used its winner, and the outputs agree.
    assert all(calls == [1, 0] for calls in result["parts_1"].values()), result
    assert result["max_diff_1"] < 1e-3
    # At a batch size never verified, every part ran its original module.
    assert all(calls == [1, 1] for calls in result["parts_2"].values()), result
    assert result["max_diff_2"] == 0.0


def test_a_model_file_that_fails_is_bad_input_with_its_reason(tmp_path):
    model = tmp_path / "broken.py"
    model.write_text("import torch\n\ndef get_model():\n    raise RuntimeError('no weights here')\n\n"
                     "def get_inputs():\n    return [torch.randn(2, 2)]\n")
    proc = subprocess.run([KSWARM, "optimize", str(model), "--out", str(tmp_path / "out"),
                           "--db", str(tmp_path / "kswarm.db"), "--device", "cpu"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "get_model() failed" in proc.stderr and "no weights here" in proc.stderr
    assert not (tmp_path / "kswarm.db").exists()  # nothing ran, nothing recorded


# Its output amplifies the rounding of its block a million times: a compiled block, correct alone
# within tolerance, makes the whole model wrong. The block is 16 rounds of small element-wise ops
# (112 in eager, one fused loop compiled), so torch.compile wins it alone on any CPU.
AMPLIFIED = """
import torch
import torch.nn as nn


class Block(nn.Module):
    def forward(self, x):
        for _ in range(16):
            x = torch.tanh(x) * torch.sigmoid(x) + torch.nn.functional.gelu(x) * torch.exp(-x * x)
        return x


class Amplified(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        y = self.block(x)
        return (y - torch.round(y, decimals=2)) * 1e6


def get_model():
    return Amplified()


def get_inputs():
    return [torch.randn(4, 16, 16, 16)]
"""


def test_a_winner_that_makes_the_whole_model_wrong_is_taken_out(tmp_path):
    model = tmp_path / "amplified.py"
    model.write_text(AMPLIFIED)
    out = tmp_path / "out"
    proc = subprocess.run([KSWARM, "optimize", str(model), "--out", str(out), "--db",
                           str(tmp_path / "kswarm.db"), "--device", "cpu", "--agents",
                           "torch_compile", "--trials", "10", "--max-share", "0.95"],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    manifest = json.loads((out / "winners" / "manifest.json").read_text())
    [entry] = manifest["problems"]
    assert entry["problem"] == "01_block" and entry["module"] is None, entry
    assert entry["dropped"].startswith("torch_compile"), "torch.compile won the block alone"
    assert "taking out the winner of 01_block" in proc.stdout
    assert not list((out / "winners").glob("level*_01_block.py"))
    report = json.loads((out / "report.json").read_text())
    assert report["measured"]["outcome"] == "unchanged"  # the model as it was: nothing to time
    assert report["parts"][0]["kept"] == "eager"
    assert "with it the patched model was wrong" in report["parts"][0]["dropped"]
    assert "No winner to apply" in proc.stdout
