"""kswarm problems: the degenerate-problem check and the speed-of-light bound over the bundled
suite, on the CPU."""
import json
import os
import subprocess

from conftest import KSWARM, PROBLEMS, ROOT

ADVERSARIAL = os.path.join(ROOT, "tests", "adversarial", "problems")


def test_bundled_suite_has_no_degenerate_problem_and_the_check_finds_one_that_is(tmp_path):
    broken = tmp_path / "00_broken.py"
    broken.write_text("import torch\n")
    proc = subprocess.run([KSWARM, "problems", PROBLEMS, ADVERSARIAL, str(broken), "--device",
                           "cpu", "--shapes", "small", "--json"],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["device"].startswith("cpu")
    # near_identity: returning the input passes its tolerance on every input distribution.
    assert out["degenerate"] == ["near_identity"], out["degenerate"]
    assert out["failed"] == ["00_broken"]  # reported, and the others still probed
    rows = {r["name"]: r for r in out["problems"]}
    assert rows["near_identity"]["degenerate"] == ["the input"]
    assert "get_inputs" in rows["00_broken"]["error"]
    bundled = [r for r in out["problems"] if r["path"].startswith(PROBLEMS)]
    assert len(bundled) == sum(1 for d, _, files in os.walk(PROBLEMS) for f in files
                               if f.endswith(".py") and not f.startswith("_"))
    for r in bundled:
        # The bound is below what eager takes: a candidate as fast as eager is never flagged.
        assert 0 < r["bound_ms"] < r["eager_ms"], r
        assert r["input_bytes"] > 0 and r["output_bytes"] > 0
    assert rows["01_matmul_square"]["flops"] == 2 * 64 ** 3


def test_text_output_names_the_degenerate_problem():
    proc = subprocess.run([KSWARM, "problems", ADVERSARIAL, "--device", "cpu", "--shapes",
                           "small"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "degenerate: 1 of 2: near_identity (the input)" in proc.stdout, proc.stdout
