"""How `kswarm run` starts and stops: bad input caught before anything is created, one run per
database, Ctrl-C ends a run resumably, and report/export on a database the user may only read."""
import contextlib
import json
import os
import pathlib
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

from conftest import KSWARM, problem

FLAGS = ["--device", "cpu", "--shapes", "small", "--trials", "3", "--agents", "torch_compile"]


def kswarm(*args, env=None, timeout=600):
    return subprocess.run([KSWARM, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_bad_input_stops_a_run_before_the_database_exists(tmp_path):
    db = tmp_path / "k.db"
    gelu = problem(1, "07_gelu")
    bad_config = kswarm("run", gelu, "--db", str(db), "--config", str(tmp_path / "none.toml"))
    assert bad_config.returncode == 2 and "none.toml" in bad_config.stderr
    config = tmp_path / "kswarm.toml"
    config.write_text('[[models]]\nname = "gpt"\napi = "openai"\nmodel = "gpt-5"\n'
                      'key_env = "KSWARM_TEST_UNSET_KEY"\n')
    env = {k: v for k, v in os.environ.items() if k != "KSWARM_TEST_UNSET_KEY"}
    no_key = kswarm("run", gelu, "--db", str(db), "--config", str(config), *FLAGS, env=env)
    assert no_key.returncode == 2, no_key.stderr
    assert "model 'gpt' reads its key from $KSWARM_TEST_UNSET_KEY, which is not set" in \
        no_key.stderr
    assert not db.exists()
    folder = kswarm("run", gelu, "--db", str(tmp_path), *FLAGS)
    assert folder.returncode == 2 and "is a folder" in folder.stderr
    missing = kswarm("eval", str(tmp_path / "missing.py"), gelu, "--db", str(db))
    assert missing.returncode == 2 and "missing.py: no such file" in missing.stderr
    for command in ("report", "export"):
        args = [command, "--db", str(tmp_path / "typo.db")] + (
            ["--out", str(tmp_path / "out")] if command == "export" else [])
        proc = kswarm(*args)
        assert proc.returncode == 2 and "no database at" in proc.stderr, proc.stderr
    assert not (tmp_path / "typo.db").exists() and not db.exists()
    for flag, value, says in (("--timeout", "0", "0 must be above 0"),
                              ("--trials", "2.5", "2.5 is not a whole number")):
        proc = kswarm("eval", gelu, gelu, flag, value)
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"kswarm: {flag}: {says}"), proc.stderr


def wait_for(proc_stderr_path, text, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in proc_stderr_path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not seen in: {proc_stderr_path.read_text()}")


def test_one_run_per_database_and_ctrl_c_stops_it_resumably(tmp_path):
    suite = tmp_path / "level1"
    suite.mkdir()
    for name in ("07_gelu", "09_sum_reduction", "10_layernorm"):
        shutil.copy(problem(1, name), suite / f"{name}.py")
    db = tmp_path / "k.db"
    args = [KSWARM, "run", str(suite), "--db", str(db), *FLAGS]
    err = tmp_path / "first.err"
    with open(err, "w") as stderr:
        first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    try:
        wait_for(err, "[1/3] 07_gelu")
        second = kswarm("run", str(suite), "--db", str(db), "--name", "other", *FLAGS)
        assert second.returncode == 2, second.stderr
        assert "another kswarm run is using" in second.stderr and "pid" in second.stderr
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 130
    finally:
        first.kill()
    assert "interrupted; run the same command to resume" in err.read_text()
    with contextlib.closing(sqlite3.connect(db)) as c:
        runs = c.execute("select name, status from runs").fetchall()
        rows = c.execute("select status from run_problems order by position").fetchall()
    assert len(runs) == 1 and runs[0][1] == "interrupted", runs
    assert ("pending",) in rows and len(rows) == 3, rows  # problems never started are listed
    text = kswarm("report", "--db", str(db)).stdout
    assert "interrupted; run the same command to resume" in text and "not started" in text, text

    again = subprocess.run(args, capture_output=True, text=True, timeout=1200)
    assert again.returncode == 0, again.stderr
    assert "resuming run" in again.stderr
    with contextlib.closing(sqlite3.connect(db)) as c:
        runs = c.execute("select status from runs").fetchall()
        rows = c.execute("select status from run_problems").fetchall()
    assert runs == [("finished",)] and rows == [("done",)] * 3, (runs, rows)

    # A database the user may read but not write: report and export still work.
    shared = pathlib.Path(tempfile.mkdtemp(prefix="kswarm-shared-"))
    try:
        shutil.copy(db, shared / "k.db")
        os.chmod(shared / "k.db", 0o444)
        out_dir = pathlib.Path(tempfile.mkdtemp(prefix="kswarm-export-"))
        os.chmod(out_dir, 0o777)
        os.chmod(shared, 0o555)
        # root writes anything: read as nobody instead
        as_reader = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] \
            if os.geteuid() == 0 else []
        out = subprocess.run(as_reader + [KSWARM, "report", "--db", str(shared / "k.db"),
                                          "--format", "json"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert len(json.loads(out.stdout)["problems"]) == 3
        exported = subprocess.run(as_reader + [KSWARM, "export", "--db", str(shared / "k.db"),
                                               "--out", str(out_dir / "winners")],
                                  capture_output=True, text=True, timeout=60)
        assert exported.returncode == 0, exported.stderr
        assert (out_dir / "winners" / "manifest.json").exists()
    finally:
        os.chmod(shared, 0o755)
        shutil.rmtree(shared, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
