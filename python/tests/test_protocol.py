"""The worker as a process, spoken to over its JSON-lines protocol."""
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT

PROBLEM = os.path.join(ROOT, "problems", "level1", "07_gelu.py")
GELU = ("import torch.nn as nn, torch.nn.functional as F\n"  # a correct candidate for PROBLEM
        "class ModelNew(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return F.gelu(x)\n")


def worker_env(tmp_path, **extra):
    """The worker's environment; candidates may write `tmp_path` (their only way to tell a test
    what they saw from inside their jail)."""
    return dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
                KSWARM_JAIL_WRITABLE=str(tmp_path), **extra)


@pytest.fixture
def worker(tmp_path):
    env = worker_env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "kswarm_worker", "--device", "cpu"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)

    def ask(obj):
        line = obj if isinstance(obj, str) else json.dumps(obj)
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        reply = proc.stdout.readline()
        assert reply, proc.stderr.read()
        return json.loads(reply)

    yield ask, proc, tmp_path
    proc.kill()
    proc.wait()


def evaluate(candidate, **kw):
    req = {"protocol": 1, "id": 2, "op": "evaluate", "problem_path": PROBLEM,
           "candidate_path": str(candidate), "trials": 3, "seed": 11, "shapes": "small",
           "tolerance": "seed", "timing": {"max_runs": 3, "min_runs": 3, "budget_ms": 100}}
    req.update(kw)
    return req


def test_hello_reports_versions_device_and_flags(worker):
    ask, _, _ = worker
    r = ask({"protocol": 1, "id": 1, "op": "hello"})
    assert r["ok"] and r["id"] == 1
    assert r["device"]["type"] == "cpu"
    assert r["torch"].startswith("2.")
    assert "cudnn_benchmark" in r["backend_flags"]
    assert r["device"]["llc_bytes"] >= 0


def test_protocol_errors_are_answered_not_fatal(worker):
    ask, _, _ = worker
    assert ask("this is not json")["error"]["kind"] == "protocol"
    assert ask({"protocol": 99, "id": 3, "op": "hello"})["error"]["kind"] == "protocol"
    assert ask({"protocol": 1, "id": 4, "op": "dance"})["error"]["kind"] == "protocol"
    assert ask({"protocol": 1, "id": 5, "op": "evaluate"})["error"]["kind"] == "protocol"
    assert ask({"protocol": 1, "id": 6, "op": "hello"})["ok"]


def test_candidate_output_cannot_corrupt_the_protocol(worker):
    ask, _, tmp = worker
    cand = tmp / "noisy.py"
    cand.write_text(
        "import os, sys, torch.nn as nn, torch.nn.functional as F\n"
        "print('{\"protocol\": 1, \"id\": 2, \"ok\": true, \"outcome\": \"passed\"}')\n"
        "os.write(1, b'raw write to fd 1\\n')\n"
        "class ModelNew(nn.Module):\n"
        "    def forward(self, x):\n"
        "        print('forward called')\n"
        "        return F.gelu(x)\n")
    # Under the report policy the static check only flags os.write; the fd layout must hold.
    r = ask(evaluate(cand, static_policy="report"))
    assert r["outcome"] == "passed", r["message"]
    assert any(f["check"] == "static" and "os.write" in f["detail"] for f in r["flags"]), r["flags"]
    assert r["timing"]["candidate"]["count"] == 3


def test_a_sandbox_that_dies_is_reported_with_how_it_ended_and_its_last_words(worker):
    ask, _, tmp = worker
    cand = tmp / "dies.py"
    cand.write_text(
        "import os, sys, torch.nn as nn\n"
        "class ModelNew(nn.Module):\n"
        "    def forward(self, x):\n"
        "        sys.stderr.write('allocating the workspace\\nnot enough room for it\\n')\n"
        "        sys.stderr.flush()\n"
        "        os._exit(3)\n")
    r = ask(evaluate(cand, static_policy="report"))
    assert r["outcome"] == "crashed", r
    assert "exit status 3" in r["message"], r["message"]
    assert r["message"].endswith("allocating the workspace\nnot enough room for it"), r["message"]
    # The worker goes on with the next job in a new sandbox.
    good = tmp / "good.py"
    good.write_text(GELU)
    assert ask(evaluate(good))["outcome"] == "passed"


def test_broken_problem_is_a_problem_error_naming_what_is_missing(worker):
    ask, _, tmp = worker
    problem = tmp / "p.py"
    problem.write_text("import torch.nn as nn\nclass Model(nn.Module):\n    pass\n")
    r = ask(evaluate(tmp / "whatever.py", problem_path=str(problem)))
    assert r["error"]["kind"] == "problem"
    assert str(problem) in r["error"]["message"]
    assert "get_inputs" in r["error"]["message"]


def test_reference_failure_is_a_problem_error(worker):
    ask, _, tmp = worker
    problem = tmp / "p.py"
    problem.write_text(
        "import torch, torch.nn as nn\n"
        "class Model(nn.Module):\n"
        "    def forward(self, x):\n"
        "        raise RuntimeError('reference is broken')\n"
        "def get_inputs():\n    return [torch.randn(4)]\n"
        "def get_init_inputs():\n    return []\n")
    cand = tmp / "c.py"
    cand.write_text("import torch.nn as nn\nclass ModelNew(nn.Module):\n"
                    "    def forward(self, x):\n        return x\n")
    r = ask(evaluate(cand, problem_path=str(problem)))
    assert r["error"]["kind"] == "problem"
    assert "reference is broken" in r["error"]["message"]


def test_a_problem_that_cannot_fit_the_device_is_refused_before_anything_is_allocated(worker):
    ask, _, tmp = worker
    problem = tmp / "huge.py"
    problem.write_text(  # 64 GiB of input at its own shapes; a few KiB at small ones
        "import torch, torch.nn as nn\n"
        "rows = 1 << 20\n"
        "class Model(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return x * 2\n"
        "def get_inputs():\n"
        "    return [torch.randn(rows, 1 << 14)]\n"
        "def get_init_inputs():\n"
        "    return []\n"
        "KSWARM_SMALL_SHAPES = {'rows': 4}\n")
    cand = tmp / "c.py"
    cand.write_text("import torch.nn as nn\nclass ModelNew(nn.Module):\n"
                    "    def forward(self, x):\n        return x * 2\n")
    start = time.time()
    r = ask(evaluate(cand, problem_path=str(problem), shapes="full"))
    assert r["error"]["kind"] == "problem", r
    assert "does not fit the cpu device" in r["error"]["message"], r
    # 64 GiB in and 64 out: the inputs three times (the judge's, the sandbox's and its pristine
    # copy) and the outputs four times (the reference's, the candidate's and a copy of each)
    assert "at least 448.0 GiB" in r["error"]["message"], r
    assert time.time() - start < 30
    r = ask(evaluate(cand, problem_path=str(problem), shapes="small"))
    assert r["outcome"] == "passed", r["message"]


def test_the_judge_running_out_of_memory_is_the_problems_error_when_the_candidate_held_nothing(
        worker):
    # The reference's call needs more than the device has left. On the CPU the candidate's
    # process holds no device memory, so it is the problem's size, not kswarm's failure (it
    # stopped the run) and not the candidate's outcome; the worker goes on.
    ask, _, tmp = worker
    problem = tmp / "greedy.py"
    problem.write_text(
        "import torch, torch.nn as nn\n"
        "class Model(nn.Module):\n"
        "    def forward(self, x):\n"
        "        raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 12.00 GiB')\n"
        "def get_inputs():\n"
        "    return [torch.randn(8)]\n"
        "def get_init_inputs():\n"
        "    return []\n")
    cand = tmp / "c.py"
    cand.write_text("import torch.nn as nn\nclass ModelNew(nn.Module):\n"
                    "    def forward(self, x):\n        return x * 2\n")
    r = ask(evaluate(cand, problem_path=str(problem)))
    assert r["error"]["kind"] == "problem", r
    assert "does not fit the cpu device at these shapes as evaluated: the judge ran out of " \
           "device memory (CUDA out of memory. Tried to allocate 12.00 GiB)" in \
           r["error"]["message"], r
    assert ask(evaluate(cand))["outcome"] == "wrong"  # the next job, on the usual problem
    r = ask({"protocol": 1, "id": 4, "op": "probe", "seed": 3, "shapes": "small",
             "tolerance": "seed", "problem_path": str(problem)})  # kswarm problems: no candidate
    assert r["error"]["kind"] == "problem" and "does not fit the cpu device" in \
        r["error"]["message"], r


_FORGER = """import os, torch.nn as nn, torch.nn.functional as F
def forge():
    fd = "/proc/self/" + "fd"
    for n in os.listdir(fd):  # the sandbox's protocol stream is one of its pipes
        try:
            if os.readlink(f"{fd}/{n}").startswith("pipe:"):
                with open(f"{fd}/{n}", "w") as f:
                    f.write(%r + "\\n")
        except OSError:
            pass
if %r == "import":
    forge()
class ModelNew(nn.Module):
    def forward(self, x):
        if %r == "forward":
            forge()
        return F.gelu(x) * 0
"""


def test_replies_written_into_the_sandboxs_protocol_stream_clear_no_candidate(worker):
    """Candidate code can write the sandbox's replies. A verdict only the judge gives, a malformed
    reply or an error no request causes is the candidate's `rejected`; a problem error or an
    out-of-memory report after candidate code ran counts only where the judge confirms it (here
    it cannot: the judge draws the inputs, and the host has room), else `runtime_error`. Each
    wrote a way out of its zeros: passed, a skipped problem, or kswarm stopped."""
    ask, _, tmp = worker
    problem = '{"ok": false, "problem": "07_gelu.py: get_inputs() failed"}'
    forgeries = [
        ('{"ok": true, "outcome": "passed", "message": "fine", "flags": []}', "import",
         "rejected", "claims the outcome 'passed'"),
        ('{"ok": true}', "import", "rejected", "lacks its 'flags' list"),
        ('{"ok": true}', "forward", "rejected", "reply to run lacks its 'flags' list"),
        ('{"ok": false, "error": "x"}', "import", "rejected",
         "an error no request of the judge's causes"),
        ('[1, 2]', "import", "rejected", "is not an object"),
        (problem, "import", "runtime_error",
         "in load (07_gelu.py: get_inputs() failed) after the candidate's code ran, where none"),
        (problem, "forward", "runtime_error",
         "in run (07_gelu.py: get_inputs() failed) after the candidate's code ran, the judge's "
         "own draw of the same inputs works"),
        ('{"ok": false, "out_of_memory": "CUDA out of memory"}', "forward", "runtime_error",
         "more than that work needs"),
    ]
    for i, (line, when, outcome, said) in enumerate(forgeries):
        cand = tmp / f"forger_{i}.py"
        cand.write_text(_FORGER % (line, when, when))
        r = ask(evaluate(cand, static_policy="report"))
        assert "error" not in r, (line, r)
        assert r["outcome"] == outcome and said in r["message"], (line, when, r["message"])
    good = tmp / "good.py"
    good.write_text(GELU)
    assert ask(evaluate(good))["outcome"] == "passed"


def test_small_shapes_must_name_module_constants(worker):
    ask, _, tmp = worker
    problem = tmp / "p.py"
    problem.write_text(
        "import torch, torch.nn as nn\nn = 8\n"
        "class Model(nn.Module):\n    def forward(self, x):\n        return x * 2\n"
        "def get_inputs():\n    return [torch.randn(n)]\n"
        "def get_init_inputs():\n    return []\n"
        "KSWARM_SMALL_SHAPES = {'size': 4}\n")
    r = ask(evaluate(tmp / "c.py", problem_path=str(problem)))
    assert r["error"]["kind"] == "problem"
    assert "'size'" in r["error"]["message"]


def test_weights_match_and_the_reference_never_runs_beside_the_candidate(worker):
    ask, _, tmp = worker
    problem = tmp / "p.py"
    problem.write_text(
        "import torch, torch.nn as nn\n"
        "CALLS = []\n"
        "class Model(nn.Module):\n"
        "    def __init__(self, n):\n        super().__init__(); self.lin = nn.Linear(n, n)\n"
        "    def forward(self, x):\n        CALLS.append('reference')\n        return self.lin(x)\n"
        "def get_inputs():\n    return [torch.randn(8, 16)]\n"
        "def get_init_inputs():\n    return [16]\n")
    cand = tmp / "c.py"
    # Fails unless its weights equal the reference's; raises if the reference model ran in its
    # process or is reachable from the problem module there.
    cand.write_text(
        "import sys, torch, torch.nn as nn\n"
        "class ModelNew(nn.Module):\n"
        "    def __init__(self, n):\n        super().__init__(); self.lin = nn.Linear(n, n)\n"
        "    def forward(self, x):\n"
        "        problem = [m for k, m in sys.modules.items() if k.startswith('kswarm_problem_')][0]\n"
        "        if problem.CALLS or hasattr(problem, 'Model'):\n"
        "            raise RuntimeError('the reference is in the candidate process')\n"
        "        return self.lin(x)\n")
    r = ask(evaluate(cand, problem_path=str(problem), trials=4, static_policy="report"))
    assert r["outcome"] == "passed", r["message"]
    assert r["max_abs_err"] == 0.0


def test_shutdown_ends_the_worker(worker):
    ask, proc, _ = worker
    assert ask({"protocol": 1, "id": 9, "op": "shutdown"})["ok"]
    assert proc.wait(timeout=10) == 0


def test_backend_flags_changed_by_a_candidate_are_restored(worker):
    ask, _, tmp = worker
    before = ask({"protocol": 1, "id": 1, "op": "hello"})["backend_flags"]
    cand = tmp / "flags.py"
    cand.write_text(
        "import torch, torch.nn as nn, torch.nn.functional as F\n"
        "torch.backends.cudnn.benchmark = True\n"
        "torch.backends.cuda.matmul.allow_tf32 = True\n"
        "torch.set_float32_matmul_precision('medium')\n"
        "class ModelNew(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return F.gelu(x)\n")
    assert ask(evaluate(cand))["outcome"] == "passed"
    after = ask({"protocol": 1, "id": 3, "op": "hello"})["backend_flags"]
    assert after == before


def test_only_kswarms_own_recipes_share_a_warm_sandbox(worker):
    ask, _, tmp = worker
    cand = tmp / "gelu.py"
    cand.write_text(GELU)
    assert ask(evaluate(cand, trusted=True))["sandboxes_started"] == 1
    assert ask(evaluate(cand, trusted=True))["sandboxes_started"] == 1  # warm between jobs
    r = ask(evaluate(cand, trusted=True, fresh_sandbox=True))
    assert r["outcome"] == "passed" and r["sandboxes_started"] == 2
    # Anyone else's candidate starts in a process no other candidate ran in, every time.
    assert ask(evaluate(cand))["sandboxes_started"] == 1
    assert ask(evaluate(cand))["sandboxes_started"] == 2


def test_each_candidate_compiles_as_in_a_fresh_process(worker):
    # torch.compile keeps its caches per process, and wrappers it shares between candidates (a
    # functools.partial's) stop compiling after 8 recompilations: the 9th candidate in a warm
    # sandbox ran eagerly. The sandbox resets torch.compile's state for each candidate.
    ask, _, tmp = worker
    marks = tmp / "marks"
    cand = tmp / "compiled.py"
    cand.write_text(
        "import functools, torch, torch.nn as nn, torch.nn.functional as F\n"
        "class ModelNew(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self._probe = torch.compile(functools.partial(ModelNew._traced, self),\n"
        "                                    backend='eager')\n"
        "    def _traced(self, x):  # 1 where torch.compile traced it, 0 where it ran eagerly\n"
        "        return x.new_ones(1) if torch.compiler.is_compiling() else x.new_zeros(1)\n"
        "    def forward(self, x):\n"
        "        if not hasattr(self, '_marked'):\n"
        f"            with open({str(marks)!r}, 'a') as f:\n"
        "                f.write(f'{int(self._probe(x).item())}\\n')\n"
        "            self._marked = True\n"
        "        return F.gelu(x)\n")
    for _ in range(10):
        r = ask(evaluate(cand, static_policy="report", trusted=True))
        assert r["outcome"] == "passed", r["message"]
    assert r["sandboxes_started"] == 1
    assert marks.read_text().split() == ["1"] * 10


def test_pipelined_trials_stop_at_the_first_wrong_one(worker):
    # The sandbox runs trial t + 1 while the judge compares trial t: a failure at t is still
    # reported as t, and a sandbox left with a trial running is not reused.
    ask, _, tmp = worker
    wrong_at = tmp / "wrong_at.py"
    wrong_at.write_text(
        "import torch.nn as nn, torch.nn.functional as F\n"
        "class ModelNew(nn.Module):\n"
        "    calls = 0\n"
        "    def forward(self, x):\n"
        "        ModelNew.calls += 1\n"
        "        y = F.gelu(x)\n"
        "        return y + 1 if ModelNew.calls == WRONG else y\n")
    good = tmp / "good.py"
    good.write_text(GELU)
    middle = tmp / "middle.py"
    middle.write_text(wrong_at.read_text().replace("WRONG", "5"))
    r = ask(evaluate(middle, trials=8, trusted=True))
    assert r["outcome"] == "wrong" and "trial 4 of 8" in r["message"], r["message"]
    assert r["trials_run"] == 5 and r["failure"]["trial"] == 4
    r = ask(evaluate(good, trials=8, trusted=True))
    assert r["outcome"] == "passed" and r["trials_run"] == 8, r["message"]
    assert r["sandboxes_started"] == 2  # trial 5 was running in the first one
    last = tmp / "last.py"
    last.write_text(wrong_at.read_text().replace("WRONG", "8"))
    r = ask(evaluate(last, trials=8, trusted=True))
    assert r["outcome"] == "wrong" and "trial 7 of 8" in r["message"], r["message"]
    assert r["sandboxes_started"] == 2  # nothing was running there: kept warm
    assert r["outputs_via"] == "file"  # the CPU's transport


def test_the_fastest_timed_calls_are_checked(worker):
    # The speed-up rests on the fastest timed calls, so their outputs are checked: a candidate
    # that is fast only on a call where it is wrong fails, though no random check falls on it.
    ask, _, tmp = worker
    fast_when_wrong = tmp / "fast_when_wrong.py"
    fast_when_wrong.write_text(
        "import torch, torch.nn as nn, torch.nn.functional as F\n"
        "class ModelNew(nn.Module):\n"
        "    calls = 0\n"
        "    def forward(self, x):\n"
        "        ModelNew.calls += 1\n"
        "        if ModelNew.calls == 3 + 3 + 3:  # 3 trials, 3 warm-up calls, timed call 2\n"
        "            return torch.empty_like(x)\n"
        "        for _ in range(50):\n"
        "            y = F.gelu(x)\n"
        "        return y\n")
    # Seed 11 checks timed calls 7, 8 and 9 of 10 at random (and the last).
    timing = {"warmup_runs": 3, "max_runs": 10, "min_runs": 10, "budget_ms": 100}
    r = ask(evaluate(fast_when_wrong, timing=timing))
    assert r["outcome"] == "wrong", r["message"]
    assert "timed call 2 of 10, one of the fastest" in r["message"], r["message"]
    # The phases it went through count, the one that found it wrong included.
    assert r["phase_ms"]["verify"] > 0 and r["phase_ms"]["time"] > 0, r["phase_ms"]
    honest = tmp / "honest.py"
    honest.write_text(fast_when_wrong.read_text().replace("3 + 3 + 3", "-1"))
    r = ask(evaluate(honest, timing=timing))
    assert r["outcome"] == "passed", r["message"]
    phases = r["phase_ms"]  # what the checks and the sandbox's work between calls cost
    assert 0 < phases["time_checks"] < phases["time"], phases
    assert 0 < phases["time_between_calls"] < phases["time"] - phases["time_checks"], phases
    assert 0 < phases["build_sandbox"] and 0 < phases["build_candidate"], phases
    assert phases["build_sandbox"] + phases["build_candidate"] < phases["build"], phases


def _children(pid: int) -> list:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def _allowed_cpus(pid: int) -> str:
    with open(f"/proc/{pid}/status") as f:
        return next(line.split(":")[1].strip() for line in f if line.startswith("Cpus_allowed_list"))


def test_the_worker_and_its_sandbox_move_to_the_cores_they_are_given(worker):
    # The supervisor keeps a timing core per GPU worker and sends the others with each job.
    ask, proc, tmp = worker
    cand = tmp / "gelu.py"
    cand.write_text(GELU)
    core = min(os.sched_getaffinity(0))
    r = ask(evaluate(cand, cpus={"timing": core, "others": [core]}))
    assert r["outcome"] == "passed", r["message"]
    assert _allowed_cpus(proc.pid) == str(core)
    sandboxes = _children(proc.pid)
    assert sandboxes and all(_allowed_cpus(p) == str(core) for p in sandboxes)


def test_spare_sandboxes_take_over_for_fresh_jobs_untouched(tmp_path):
    # The default on CUDA (two spares), forced here on the CPU: the next fresh sandboxes start
    # between jobs, and two fresh jobs in a row both find one.
    env = worker_env(tmp_path, KSWARM_SPARE_SANDBOX="2")
    proc = subprocess.Popen([sys.executable, "-m", "kswarm_worker", "--device", "cpu"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(req):
        proc.stdin.write(json.dumps(req) + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    marks = tmp_path / "marks"
    cand = tmp_path / "gelu.py"
    cand.write_text(
        "import os, sys, torch, torch.nn as nn, torch.nn.functional as F\n"
        f"with open({str(marks)!r}, 'a') as f:\n"
        "    f.write(f'{os.environ.setdefault(\"KSWARM_TEST_PROCESS\", os.urandom(8).hex())} '\n"
        "            f'{os.environ.get(\"KSWARM_TEST_MARK\", 0)} '\n"
        "            f'{int(\"torch._inductor.compile_fx\" in sys.modules)}\\n')\n"
        "os.environ['KSWARM_TEST_MARK'] = '1'  # what an earlier candidate leaves in its process\n"
        "class ModelNew(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return F.gelu(x)\n")
    try:
        first = ask(evaluate(cand, static_policy="report", trusted=True))  # sys.modules is only flagged
        assert first["outcome"] == "passed" and not first["sandbox_from_spare"], first["message"]
        time.sleep(1)
        again = ask(evaluate(cand, static_policy="report", trusted=True))  # the same warm sandbox: spares wait
        assert again["sandboxes_started"] == 1 and not again["sandbox_from_spare"]
        assert len(_children(proc.pid)) == 3  # the sandbox and two spares, no more
        fresh = ask(evaluate(cand, fresh_sandbox=True, static_policy="report", trusted=True))
        assert fresh["outcome"] == "passed", fresh["message"]
        assert fresh["sandbox_from_spare"] and fresh["sandboxes_started"] == 2
        fresh2 = ask(evaluate(cand, fresh_sandbox=True, static_policy="report", trusted=True))
        assert fresh2["outcome"] == "passed", fresh2["message"]
        assert fresh2["sandbox_from_spare"] and fresh2["sandboxes_started"] == 3
        rows = [line.split() for line in marks.read_text().splitlines()]
        assert [mark for _, mark, _ in rows] == ["0", "1", "0", "0"]  # spares saw no earlier import
        assert rows[0][0] == rows[1][0] != rows[2][0] != rows[3][0] != rows[0][0]
        # The spares imported torch.compile's stack while they waited; a first sandbox does not.
        assert [inductor for _, _, inductor in rows] == ["0", "0", "1", "1"]
    finally:
        proc.kill()
        proc.wait()


def test_torch_compile_uses_a_process_per_core_on_the_cpu_unless_the_user_chose(tmp_path,
                                                                              monkeypatch):
    # On the CPU the worker compiles only while it times nothing; on CUDA a compile pool would
    # busy the cores while another candidate is timed (sandbox_client.compile_threads).
    from kswarm_worker.sandbox_client import compile_threads
    seen = tmp_path / "seen"
    cand = tmp_path / "threads.py"
    cand.write_text(
        "import os, torch.nn as nn, torch.nn.functional as F\n"
        "import torch._inductor.config as config\n"
        f"with open({str(seen)!r}, 'a') as f:\n"
        "    f.write(f'{os.environ.get(\"TORCHINDUCTOR_COMPILE_THREADS\")} '\n"
        "            f'{config.compile_threads}\\n')\n"
        "class ModelNew(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return F.gelu(x)\n")
    cores = str(min(32, len(os.sched_getaffinity(0))))
    for given in (None, "3"):
        env = worker_env(tmp_path)
        env.pop("TORCHINDUCTOR_COMPILE_THREADS", None)
        if given:
            env["TORCHINDUCTOR_COMPILE_THREADS"] = given
        proc = subprocess.run([sys.executable, "-m", "kswarm_worker", "--device", "cpu"],
                              input=json.dumps(evaluate(cand, static_policy="report")) + "\n",
                              capture_output=True, text=True, env=env, timeout=300)
        reply = json.loads(proc.stdout.splitlines()[0])
        assert reply["outcome"] == "passed", reply["message"]
    assert seen.read_text().split("\n")[:2] == [f"{cores} {cores}", "3 3"]
    monkeypatch.delenv("TORCHINDUCTOR_COMPILE_THREADS", raising=False)
    assert compile_threads("cuda") == "1" and compile_threads("cpu") == cores
    assert compile_threads(None) == "1"  # the build and profile tools, beside a timed candidate
    monkeypatch.setenv("TORCHINDUCTOR_COMPILE_THREADS", "4")
    assert compile_threads("cuda") == "4"


def test_a_spare_count_that_is_not_a_number_is_a_clear_error(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), KSWARM_SPARE_SANDBOX="yes")
    proc = subprocess.run([sys.executable, "-m", "kswarm_worker", "--device", "cpu"],
                          input=json.dumps(evaluate(tmp_path / "none.py")) + "\n",
                          capture_output=True, text=True, env=env, timeout=120)
    reply = json.loads(proc.stdout.splitlines()[0])
    assert not reply["ok"] and reply["error"]["kind"] == "device"
    assert "KSWARM_SPARE_SANDBOX='yes'" in reply["error"]["message"]


def test_probe_reports_degenerate_answers_work_and_the_speed_of_light(worker):
    ask, _, _ = worker
    probe = {"protocol": 1, "id": 4, "op": "probe", "seed": 3, "shapes": "small",
             "tolerance": "seed"}
    near = os.path.join(ROOT, "tests", "adversarial", "problems", "near_identity.py")
    r = ask(dict(probe, problem_path=near))
    assert r["ok"] and r["degenerate"] == ["the input"]
    assert r["work"]["input_bytes"] == r["work"]["output_bytes"] == 4 * 4096

    matmul = os.path.join(ROOT, "problems", "level1", "01_matmul_square.py")
    r = ask(dict(probe, problem_path=matmul))
    assert r["degenerate"] == []
    assert r["work"]["flops"] == 2 * 64 ** 3  # its small shapes: n = 64
    assert 0 < r["bound_ms"] < r["eager"]["median_ms"]
    assert r["peaks"]["bytes_per_s"] > 0 and r["slack"] == 4.0
