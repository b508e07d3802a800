"""kswarm eval end to end on the CPU: every outcome, exit codes, the store, and a kill -9."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import KSWARM, candidate, problem

GELU = problem(1, "07_gelu")


@pytest.mark.parametrize("name,outcome", [
    ("eager", "passed"),
    ("wrong", "wrong"),
    ("syntax_error", "compile_error"),
    ("runtime_error", "runtime_error"),
    ("no_modelnew", "rejected"),
    ("mutates_input", "rejected"),
    ("crash", "crashed"),
])
def test_fast_outcomes(kswarm, name, outcome):
    r = kswarm.eval_json(GELU, candidate("07_gelu", name))
    assert r["outcome"] == outcome, r["message"]
    assert r["message"]
    for key in ("speedup", "baseline_ms", "candidate_ms", "max_abs_err", "max_rel_err"):
        assert key in r
    if outcome == "passed":
        assert r["speedup"] > 0 and r["trials_run"] == 100
        assert r["baseline"]["count"] >= 10
    else:
        assert r["speedup"] is None


def test_wrong_names_first_failing_trial_and_worst_element(kswarm):
    r = kswarm.eval_json(GELU, candidate("07_gelu", "wrong"))
    assert "trial 0" in r["message"]
    assert "worst at index" in r["message"]
    assert r["failure"]["abs_err"] > 0.01
    assert r["max_abs_err"] >= r["failure"]["abs_err"]


def test_hang_times_out_and_kills_the_worker(kswarm):
    start = time.monotonic()
    r = kswarm.eval_json(GELU, candidate("07_gelu", "hang"), "--timeout", "5")
    assert r["outcome"] == "timeout"
    assert "5 s deadline" in r["message"]
    assert time.monotonic() - start < 60


def test_tolerance_policy(kswarm):
    approx = candidate("07_gelu", "tanh_approx")
    assert kswarm.eval_json(GELU, approx)["outcome"] == "passed"
    strict = kswarm.eval_json(GELU, approx, "--tolerance", "strict")
    assert strict["outcome"] == "wrong"
    assert strict["tolerance"] == "strict"


@pytest.mark.parametrize("stem,level", [("07_gelu", 1), ("01_linear_gelu_scale", 2),
                                        ("01_mlp", 3)])
def test_custom_cpp_kernels_pass_and_wrong_ones_are_caught(kswarm, stem, level):
    prob = problem(level, stem)
    good = kswarm.eval_json(prob, candidate(stem, "cpu_cpp"), "--trials", "20")
    assert good["outcome"] == "passed", good["message"]
    assert good["problem"]["level"] == level
    assert kswarm.eval_json(prob, candidate(stem, "wrong"), "--trials", "20")["outcome"] == "wrong"


def test_a_broken_cpp_build_is_a_compile_error(kswarm):
    # One level: every failing build costs a compile of torch's headers.
    bad = kswarm.eval_json(GELU, candidate("07_gelu", "no_compile"), "--trials", "20")
    assert bad["outcome"] == "compile_error"
    assert "error" in bad["message"].lower()


def test_store_answers_again_unless_fresh(kswarm):
    first = kswarm.eval_json(GELU, candidate("07_gelu", "eager"), "--trials", "5")
    again = kswarm.eval_json(GELU, candidate("07_gelu", "eager"), "--trials", "5")
    assert not first["cached"] and again["cached"]
    assert again["evaluation_id"] == first["evaluation_id"]
    fresh = kswarm.eval_json(GELU, candidate("07_gelu", "eager"), "--trials", "5", "--fresh")
    assert not fresh["cached"] and fresh["evaluation_id"] != first["evaluation_id"]
    db = sqlite3.connect(kswarm.db)
    assert db.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM candidates").fetchone()[0] == 1
    row = db.execute("SELECT device_type, torch_version, backend_flags_json, outcome "
                     "FROM evaluations").fetchone()
    assert row[0] == "cpu" and row[1].startswith("2.11")
    assert "cudnn_benchmark" in row[2] and row[3] == "passed"


def test_text_output(kswarm):
    proc = kswarm.eval(GELU, candidate("07_gelu", "eager"), "--trials", "5")
    assert proc.returncode == 0, proc.stderr
    assert "outcome    passed" in proc.stdout
    assert "speedup" in proc.stdout


def test_bad_input_exits_2_with_a_clear_message(kswarm, tmp_path):
    missing = kswarm.eval(str(tmp_path / "nope.py"), candidate("07_gelu", "eager"))
    assert missing.returncode == 2
    assert "nope.py" in missing.stderr

    broken = tmp_path / "level2" / "broken.py"
    broken.parent.mkdir()
    broken.write_text("import torch\nclass Model:\n    pass\n")
    r = kswarm.eval(str(broken), candidate("07_gelu", "eager"))
    assert r.returncode == 2
    assert str(broken) in r.stderr
    assert "get_inputs" in r.stderr and "get_init_inputs" in r.stderr

    flag = kswarm.eval(GELU, candidate("07_gelu", "eager"), "--tolerance", "loose")
    assert flag.returncode == 2


def test_no_cuda_is_bad_input_not_a_crash(kswarm):
    proc = subprocess.run([KSWARM, "eval", GELU, candidate("07_gelu", "eager"), "--device", "cuda",
                           "--db", kswarm.db], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    assert proc.returncode == 2, proc.stderr
    assert "cuda" in proc.stderr.lower()


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_kill_9_keeps_finished_results_and_takes_the_worker_down(kswarm):
    done = kswarm.eval_json(GELU, candidate("07_gelu", "eager"), "--trials", "5")
    proc = subprocess.Popen([KSWARM, "eval", GELU, candidate("07_gelu", "hang"), "--device", "cpu",
                             "--shapes", "small", "--db", kswarm.db, "--timeout", "600"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    db = sqlite3.connect(kswarm.db, timeout=30)
    # Wait until this run is recorded as running and its worker exists.
    while time.monotonic() < deadline:
        running = db.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
        if running and _children(proc.pid):
            break
        time.sleep(0.2)
    workers = _children(proc.pid)
    assert workers, "kswarm never started its worker"
    time.sleep(2)  # the worker is inside the hanging forward by now
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db.close()

    db = sqlite3.connect(kswarm.db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT id, outcome FROM evaluations").fetchall()
    assert rows == [(done["evaluation_id"], "passed")]
    assert db.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0] == 1
    for _ in range(100):
        if all(_gone(w) for w in workers):
            break
        time.sleep(0.1)
    assert all(_gone(w) for w in workers), "the worker outlived kswarm"
    # The database still takes new results.
    again = kswarm.eval_json(GELU, candidate("07_gelu", "eager"), "--trials", "5", "--fresh")
    assert again["outcome"] == "passed"
