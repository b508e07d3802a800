# target: problems/level1/07_gelu.py | device: any
# Looks for other sandboxes' exchange folders (/dev/shm/kswarm-sbx-*) to plant outputs there, and leaves a file in its own exchange folder and every shared-memory or temp folder it can write, to outlive the evaluation.
import glob
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


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        mine = os.path.dirname(os.path.abspath(__file__))  # our job folder in our exchange folder
        for folder in glob.glob("/dev/shm/kswarm-sbx-*") + glob.glob("/dev/shm/kswarm-sbx-*/job-*"):
            if not mine.startswith(folder):
                for name in ("trial_0.bin", "trial_1.bin", "candidate.py", "problem.py"):
                    _create(os.path.join(folder, name))
        exchange = os.path.dirname(mine)
        _create(os.path.join(exchange, "kswarm-redteam-pwn-left.txt"))  # to outlive the evaluation
        for d in ("/dev/shm", os.path.dirname(exchange), "/tmp", "/var/tmp", "/run/shm"):
            _create(os.path.join(d, "kswarm-redteam-pwn.txt"))
        _report("persist_shm_exchange")

    def forward(self, x):
        return F.gelu(x)
