# target: problems/level1/07_gelu.py | device: any
# Edits the problem file, the worker's own source (kswarm_worker/*.py) and the kswarm binary, so every later evaluation runs its code.
import glob
import importlib.util
import os

import torch.nn as nn
import torch.nn.functional as F

MARK = "KSWARM-REDTEAM-PWN"
_wrote, _refused = [], []


def _append(path, text=None):
    """Appends a marker (a comment in the file's own language) to an existing file."""
    if text is None:
        text = f"\n# {MARK}\n" if path.endswith((".py", ".sh", ".toml", "rc", ".profile", ".cfg",
                                                   ".txt", "environment", ".ninja", ".pth")) \
            else f"\n/* {MARK} */\n" if path.endswith((".cpp", ".h", ".c")) else MARK
    try:
        with open(path, "a") as f:
            f.write(text)
        _wrote.append(path)
    except OSError as e:
        _refused.append(f"{path} ({e.strerror})")


def _create(path, text=""):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text or f"# {MARK}\n")
        _wrote.append(path)
    except OSError as e:
        _refused.append(f"{path} ({e.strerror})")


def _report(tag):
    raise RuntimeError(f"REDTEAM {tag} wrote=[{'; '.join(_wrote)}] refused=[{'; '.join(_refused)}]")


def _find(name, roots=("/work", "/home", "/root", "/opt", "/srv", "/workspace", "/app"), depth=5):
    out = []
    for top in roots:
        for root, dirs, files in os.walk(top):
            if root.count(os.sep) - top.count(os.sep) >= depth:
                dirs[:] = []
            dirs[:] = [d for d in dirs if d not in (".git", ".venv", "site-packages", "__pycache__")]
            if name in files:
                out.append(os.path.join(root, name))
    return out


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        for problem in _find("07_gelu.py"):
            if "/job-" in problem:
                continue  # our own copy
            _append(problem)
            _create(os.path.join(os.path.dirname(problem), "00_redteam_pwn.py"))
        worker = os.path.dirname(importlib.util.find_spec("kswarm_worker").origin)
        for path in sorted(glob.glob(os.path.join(worker, "*.py"))):
            _append(path)
        _create(os.path.join(worker, "redteam_pwn.py"))
        for binary in _find("kswarm", depth=3) + [os.path.join(worker, "..", "..", "build", "kswarm")]:
            if os.path.isfile(binary):
                _append(binary, "")  # an empty append still needs the file writable
        _report("persist_problem_worker")

    def forward(self, x):
        return F.gelu(x)
