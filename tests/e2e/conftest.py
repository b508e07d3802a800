import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSWARM = os.environ.get("KSWARM_BIN", os.path.join(ROOT, "build", "kswarm"))
PROBLEMS = os.path.join(ROOT, "problems")
CANDIDATES = os.path.join(ROOT, "testing", "candidates")


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
def kswarm(tmp_path):
    if not os.path.exists(KSWARM):
        pytest.fail(f"{KSWARM} is not built (cmake --build build)")
    return Kswarm(tmp_path / "kswarm.db")


def problem(level, name):
    return os.path.join(PROBLEMS, f"level{level}", f"{name}.py")


def candidate(problem_stem, name):
    return os.path.join(CANDIDATES, problem_stem, f"{name}.py")
