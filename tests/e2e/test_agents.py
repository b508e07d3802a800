"""kswarm agents: the built-in agents listed, and the candidate one of them writes for a problem,
the same file `kswarm run` evaluates."""
import os
import sqlite3
import subprocess

from conftest import KSWARM, PROBLEMS

GELU = os.path.join(PROBLEMS, "level1", "07_gelu.py")
RESNET = os.path.join(PROBLEMS, "level3", "02_resnet_basic_block.py")


def agents(*args, timeout=60):
    return subprocess.run([KSWARM, "agents", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_the_list_names_every_agent_its_defaults_and_needs():
    proc = agents()
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[1:-1]}
    assert {"torch_compile", "cuda_graph", "fold_batchnorm", "tf32"} <= set(rows)
    assert rows["torch_compile"].split()[1:3] == ["cuda,", "cpu"]
    assert "a CUDA device" in rows["cuda_graph"]
    assert "a convolution, a batch norm" in rows["fold_batchnorm"]
    assert "[--precision reduced]" in rows["tf32"]


def test_the_written_candidate_is_the_one_run_evaluates(tmp_path):
    out = tmp_path / "gelu_torch_compile.py"
    proc = agents("torch_compile", GELU, "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "class ModelNew(Model)" in out.read_text()
    assert agents("torch_compile", GELU, "--device", "cpu").stdout == out.read_text()

    db = tmp_path / "kswarm.db"
    run = subprocess.run([KSWARM, "run", GELU, "--agents", "torch_compile", "--device", "cpu",
                          "--shapes", "small", "--trials", "2", "--db", str(db)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    stored = sqlite3.connect(db).execute(
        "select source from candidates where generator = 'torch_compile'").fetchall()
    assert stored == [(out.read_text(),)]


def test_an_agent_that_proposes_nothing_says_what_it_needs():
    proc = agents("fold_batchnorm", GELU)
    assert proc.returncode == 2
    assert "needs a convolution, a batch norm" in proc.stderr, proc.stderr
    proc = agents("cuda_graph", RESNET, "--device", "cpu")
    assert proc.returncode == 2
    assert "needs a CUDA device" in proc.stderr, proc.stderr
    proc = agents("fold_batchnorm", RESNET, "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "_ks_fold_batchnorm" in proc.stdout


def test_bad_input_exits_2_with_a_clear_message(tmp_path):
    proc = agents("no_such_agent", GELU)
    assert proc.returncode == 2
    assert "unknown agent 'no_such_agent'" in proc.stderr and "torch_compile" in proc.stderr
    proc = agents("torch_compile")
    assert proc.returncode == 2
    assert "kswarm agents NAME PROBLEM" in proc.stderr
    proc = agents("torch_compile", str(tmp_path / "missing.py"))
    assert proc.returncode == 2
    assert "missing.py" in proc.stderr
