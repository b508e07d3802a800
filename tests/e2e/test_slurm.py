"""`kswarm run --executor slurm` on a one-host Slurm cluster started by the test
(testing/slurm/cluster.py): the same verdicts as a local run, a cancelled worker step replaced, and
no job left behind by a run killed with SIGKILL."""

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import KSWARM, ROOT, WASTEFUL, candidate, problem, write_wasteful_attempts

sys.path.insert(0, os.path.join(ROOT, "testing", "slurm"))
import cluster  # noqa: E402


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    why = cluster.available()
    if why and os.environ.get("KSWARM_REQUIRE_SLURM") != "1":
        pytest.skip(why)
    with cluster.local_cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """GELU from the bundled suite (torch.compile well behind eager on a small CPU input; a C++
    candidate that does not compile) and a problem whose replayed candidate wins by a wide margin
    after a wrong attempt: verdicts that timing noise cannot flip."""
    d = tmp_path_factory.mktemp("suite")
    level = d / "level1"
    level.mkdir()
    (level / "07_gelu.py").write_text(open(problem(1, "07_gelu")).read())
    (level / "90_wasteful_scale.py").write_text(WASTEFUL)
    recorded = d / "recorded.jsonl"
    with recorded.open("w") as f:
        write_wasteful_attempts(f)
        # C++ that does not compile: built ahead by the build pool (a Slurm step of its own).
        f.write(json.dumps({"problem": "07_gelu", "level": 1, "generator": "hand-written-cpp",
                            "code": open(candidate("07_gelu", "no_compile")).read()}) + "\n")
    return level, recorded


def start(db, suite, env, *flags):
    level, recorded = suite
    return subprocess.Popen(
        [KSWARM, "run", str(level), "--replay", str(recorded), "--agents", "torch_compile",
         "--device", "cpu", "--shapes", "small", "--trials", "5", "--name", "x", "--db", str(db),
         *flags],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=600):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return err


def verdicts(db):
    """What a run decided: each problem's kept agent, each candidate's first outcome."""
    c = sqlite3.connect(db)
    kept = c.execute(
        "SELECT p.name, coalesce(k.generator, 'eager') FROM run_problems r "
        "JOIN problems p ON p.id = r.problem_id "
        "LEFT JOIN evaluations e ON e.id = r.best_evaluation_id "
        "LEFT JOIN candidates k ON k.id = e.candidate_id ORDER BY p.name").fetchall()
    outcomes = c.execute(
        "SELECT p.name, k.generator, e.attempt, e.outcome FROM evaluations e "
        "JOIN candidates k ON k.id = e.candidate_id JOIN problems p ON p.id = e.problem_id "
        "WHERE e.purpose = 'candidate' ORDER BY 1, 2, 3").fetchall()
    c.close()
    return kept, outcomes


def job_prefix(db):
    # executor::JobNamePrefix: the database's path names its jobs.
    return "kswarm-" + hashlib.sha256(os.path.realpath(db).encode()).hexdigest()[:12]


def wait_for(ready, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def evaluations(db):
    if not os.path.exists(db):
        return 0
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        n = c.execute("SELECT count(*) FROM evaluations").fetchone()[0]
        c.close()
        return n
    except sqlite3.Error:
        return 0


def test_slurm_workers_reach_the_local_verdicts_and_survive_a_cancelled_step(
        tmp_path, slurm, suite):
    local = tmp_path / "local.db"
    finish(start(local, suite, slurm))
    kept, outcomes = verdicts(local)
    assert dict(kept) == {"07_gelu": "eager", "90_wasteful_scale": "hand-written"}
    assert ("90_wasteful_scale", "hand-written", 1, "wrong") in outcomes
    assert ("07_gelu", "hand-written-cpp", 1, "compile_error") in outcomes

    db = tmp_path / "slurm.db"
    proc = start(db, suite, slurm, "--executor", "slurm", "--workers", "2")
    prefix = job_prefix(db)
    # Once a candidate has been judged, both workers' steps are cancelled under the run: the one
    # with work left loses it and must be replaced.
    wait_for(lambda: evaluations(db) >= 1 or proc.poll() is not None)
    assert proc.poll() is None, "the run ended before a step could be cancelled"
    for w in ("w0", "w1"):
        subprocess.run(["scancel", f"--name={prefix}-{w}"], env=slurm, check=True)
    err = finish(proc)
    assert verdicts(db) == (kept, outcomes)
    # The compile error came from the build pool, whose builds are srun steps here.
    c = sqlite3.connect(db)
    phases = c.execute("SELECT e.phase_ms_json FROM evaluations e JOIN candidates k "
                       "ON k.id = e.candidate_id WHERE k.generator = 'hand-written-cpp'").fetchall()
    c.close()
    assert phases and all("prebuild" in json.loads(p) for (p,) in phases), phases
    assert re.search(r"Slurm ended [12] worker step\(s\)", err), err
    wait_for(lambda: not cluster.jobs(slurm, prefix), timeout=60)


def test_a_stopped_run_cancels_its_jobs_and_a_killed_one_leaves_none_after_the_next(tmp_path, slurm, suite):
    db = tmp_path / "k.db"
    prefix = job_prefix(db)
    # An orphan as a node that lost touch with its srun leaves it: running, named for the database.
    subprocess.run(["sbatch", f"--job-name={prefix}-w7", "--output=/dev/null", "--wrap",
                    "sleep 600"], env=slurm, check=True, capture_output=True)
    wait_for(lambda: any(j[2] == "RUNNING" for j in cluster.jobs(slurm, prefix)))
    proc = start(db, suite, slurm, "--executor", "slurm")
    wait_for(lambda: any(j[1] == f"{prefix}-w0" for j in cluster.jobs(slurm, prefix)))
    assert not any(j[1] == f"{prefix}-w7" for j in cluster.jobs(slurm, prefix))
    # Ctrl-C: the run stops, resumable, and takes its jobs with it.
    wait_for(lambda: evaluations(db) >= 1 or proc.poll() is not None)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT and "interrupted" in err, err
    wait_for(lambda: not cluster.jobs(slurm, prefix), timeout=30)
    # kill -9: nothing of kswarm runs to cancel anything.
    before = evaluations(db)
    proc = start(db, suite, slurm, "--executor", "slurm")
    wait_for(lambda: evaluations(db) > before or proc.poll() is not None)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    # A second orphan, planted after the kill: the next run still cancels it before it starts.
    subprocess.run(["sbatch", f"--job-name={prefix}-w8", "--output=/dev/null", "--wrap",
                    "sleep 600"], env=slurm, check=True, capture_output=True)
    wait_for(lambda: any(j[1] == f"{prefix}-w8" for j in cluster.jobs(slurm, prefix)))
    err = finish(start(db, suite, slurm, "--executor", "slurm"))
    assert "cancelled" in err and "Slurm job(s) that a killed run" in err, err
    assert "resuming run 'x'" in err, err
    wait_for(lambda: not cluster.jobs(slurm, prefix), timeout=60)
