"""CI runs the CPU half of the adversarial suite: every hack is rejected or flagged (run.py's
table says which check caught what). Its honest candidates are evaluated by the red-team suite
(redteam/test_redteam.py, after the attacks that try to poison what comes next), not twice."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSWARM = os.environ.get("KSWARM_BIN", os.path.join(ROOT, "build", "kswarm"))


def test_every_cpu_hack_is_caught():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "adversarial", "run.py"),
                           "--device", "cpu", "--kswarm", KSWARM, "--jobs", "2",
                           "--honest", "none"],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NOT CAUGHT" not in proc.stdout
    hacks = [l for l in proc.stdout.splitlines() if l.startswith("| ") and "what it tries" not in l
             and "honest candidate" not in l and not l.startswith("| testing/")]
    assert len(hacks) >= 20, proc.stdout


def test_static_check_sees_through_import_aliases():
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from kswarm_worker.static_check import check_source
    found = check_source("import torch as T\nT.cuda.synchronize = lambda: None\n")
    assert [f.check for f in found] == ["patches_library"]
    assert check_source("import torch\ntorch.backends.cudnn.benchmark = True\n") == []
    numpy = check_source("import numpy as np\nnp.allclose = lambda *a, **k: True\n")
    assert [f.check for f in numpy] == ["patches_library"]
    fallback = check_source("import torch.nn.functional as F\ntry:\n    y = 1\n"
                            "except Exception:\n    y = F.gelu(x)\n")
    assert [f.severity for f in fallback] == ["suspicious"]
