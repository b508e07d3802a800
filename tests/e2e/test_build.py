"""The build pool and the build cache through `kswarm run`: a C++ extension candidate is compiled
by the pool before its evaluation, into a folder of its own, and a later run loads it without
compiling."""
import json
import os
import sqlite3
import subprocess

from conftest import KSWARM, candidate, problem


def run(db, name, recorded, env, *flags):
    return subprocess.run(
        [KSWARM, "run", problem(1, "07_gelu"), "--replay", str(recorded), "--name", name,
         "--device", "cpu", "--shapes", "small", "--trials", "5", "--db", str(db), *flags],
        capture_output=True, text=True, timeout=1800, env=env)


def phases(db, run_name):
    c = sqlite3.connect(db)
    rows = c.execute(
        "SELECT e.outcome, e.phase_ms_json FROM evaluations e JOIN runs r ON r.id = e.run_id "
        "JOIN candidates k ON k.id = e.candidate_id "
        "WHERE r.name = ? AND k.generator = 'hand-written' AND e.purpose = 'candidate'",
        (run_name,)).fetchall()
    c.close()
    assert len(rows) == 1, rows
    outcome, phase_json = rows[0]
    return outcome, json.loads(phase_json)


def test_the_pool_builds_a_cpp_candidate_once_and_a_later_run_loads_it(tmp_path):
    extensions = tmp_path / "extensions"
    env = dict(os.environ, TORCH_EXTENSIONS_DIR=str(extensions))
    recorded = tmp_path / "recorded.jsonl"
    with open(candidate("07_gelu", "cpu_cpp"), encoding="utf-8") as f:
        code = f.read()
    recorded.write_text(json.dumps({"problem": "07_gelu", "level": 1,
                                    "generator": "hand-written", "code": code}) + "\n")
    db = tmp_path / "k.db"

    first = run(db, "first", recorded, env)
    assert first.returncode == 0, first.stderr
    outcome, cold = phases(db, "first")
    assert outcome == "passed"
    # One folder for the candidate, holding its one built library.
    folders = [p for p in extensions.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    libraries = list(folders[0].glob("*/*.so"))
    assert len(libraries) == 1, libraries
    built_at = libraries[0].stat().st_mtime_ns

    second = run(db, "second", recorded, env)
    assert second.returncode == 0, second.stderr
    outcome, warm = phases(db, "second")
    assert outcome == "passed"
    assert libraries[0].stat().st_mtime_ns == built_at, "rebuilt"
    # The pool found it built: an import instead of a compile.
    assert warm["prebuild"] < cold["prebuild"] / 3, (cold, warm)

    # A build killed mid-way (a deadline, Ctrl-C) leaves torch's lock file behind; the next load
    # of the candidate must not wait on it. Without the pool, the evaluation builds (here: loads)
    # it itself, and records no prebuild.
    (libraries[0].parent / "lock").write_text("")
    third = run(db, "third", recorded, env, "--build-jobs", "0", "--timeout", "120")
    assert third.returncode == 0, third.stderr
    outcome, inline = phases(db, "third")
    assert outcome == "passed" and "prebuild" not in inline
    assert libraries[0].stat().st_mtime_ns == built_at


def test_eval_builds_a_cpp_candidate_into_the_cache_and_a_later_eval_loads_it(tmp_path):
    # The sandbox that evaluates a candidate may not write the build cache (docs/containment.md):
    # `kswarm eval` builds first, so that a second evaluation does not compile again.
    extensions = tmp_path / "extensions"
    env = dict(os.environ, TORCH_EXTENSIONS_DIR=str(extensions))

    def evaluate():
        r = subprocess.run(
            [KSWARM, "eval", problem(1, "07_gelu"), candidate("07_gelu", "cpu_cpp"), "--device",
             "cpu", "--shapes", "small", "--trials", "3", "--fresh", "--db", str(tmp_path / "k.db"),
             "--json"], capture_output=True, text=True, timeout=900, env=env)
        assert r.returncode == 0, r.stderr
        answer = json.loads(r.stdout)
        assert answer["outcome"] == "passed", answer["message"]
        return answer["phase_ms"]

    cold = evaluate()
    libraries = list(extensions.glob("*/*/*.so"))
    assert len(libraries) == 1, libraries
    built_at = libraries[0].stat().st_mtime_ns
    warm = evaluate()
    assert libraries[0].stat().st_mtime_ns == built_at, "rebuilt"
    assert warm["prebuild"] < cold["prebuild"] / 3, (cold, warm)
    assert warm["build"] < cold["prebuild"] / 3, (cold, warm)
