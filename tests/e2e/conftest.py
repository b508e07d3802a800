import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSWARM = os.environ.get("KSWARM_BIN", os.path.join(ROOT, "build", "kswarm"))
PROBLEMS = os.path.join(ROOT, "problems")
CANDIDATES = os.path.join(ROOT, "testing", "candidates")
FAKE_LLM_SERVER = os.path.join(os.path.dirname(KSWARM), "testing", "fake_llm_server")


class Kswarm:
    """Runs the kswarm binary against a database of the test's own."""

    def __init__(self, db):
        self.db = str(db)

    def eval(self, problem, candidate, *flags, timeout=600):
        args = [KSWARM, "eval", problem, candidate, "--device", "cpu", "--shapes", "small",
                "--db", self.db, *flags]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout)

    def eval_json(self, problem, candidate, *flags, timeout=600):
        proc = self.eval(problem, candidate, "--json", *flags, timeout=timeout)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


@pytest.fixture
def fake_server(tmp_path):
    """start(replies) runs testing/fake_llm_server with that script of replies; returns its port
    and the file where it logs every request ({"path", "body"} per line)."""
    servers = []

    def start(replies):
        script = tmp_path / "script.json"
        script.write_text(json.dumps({"replies": replies}))
        log = tmp_path / "requests.jsonl"
        proc = subprocess.Popen([FAKE_LLM_SERVER, str(script), str(log)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        servers.append(proc)
        port = int(proc.stdout.readline())
        return port, log

    yield start
    for proc in servers:
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.fixture
def kswarm(tmp_path):
    if not os.path.exists(KSWARM):
        pytest.fail(f"{KSWARM} is not built (cmake --build build)")
    return Kswarm(tmp_path / "kswarm.db")


def problem(level, name):
    return os.path.join(PROBLEMS, f"level{level}", f"{name}.py")


def candidate(problem_stem, name):
    return os.path.join(CANDIDATES, problem_stem, f"{name}.py")


# A reference that does in 128 small ops what one multiply does: a replayed candidate that skips
# the waste wins by a wide margin on any machine, so tests that need a kept winner don't hang on
# the timing noise of a 2-core CPU.
WASTEFUL = """import torch
import torch.nn as nn


class Model(nn.Module):
    \"\"\"x scaled by each of n weights in turn, summed: x * w.sum() the long way.\"\"\"

    def __init__(self, n):
        super().__init__()
        self.register_buffer("w", torch.rand(n) / n)

    def forward(self, x):
        out = torch.zeros_like(x)
        for i in range(self.w.shape[0]):
            out = out + x * self.w[i]
        return out


KSWARM_SMALL_SHAPES = {}


def get_inputs():
    return [torch.randn(256, 256)]


def get_init_inputs():
    return [64]
"""

def wasteful_candidate(expr):
    return WASTEFUL + f"""

class ModelNew(Model):
    def forward(self, x):
        return {expr}
"""


def write_wasteful_attempts(f, problem="90_wasteful_scale"):
    """Two replayed attempts at WASTEFUL, as JSONL lines into f: a wrong one, then the one that
    skips the waste."""
    for expr in ("x * self.w.mean()", "x * self.w.sum()"):
        f.write(json.dumps({"problem": problem, "level": 1, "generator": "hand-written",
                            "code": wasteful_candidate(expr)}) + "\n")
