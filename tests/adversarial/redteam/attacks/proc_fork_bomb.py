# target: problems/level1/07_gelu.py | device: any
# A fork bomb bounded by a counter: a small helper (no torch, so forks are cheap) tries to start 10000 processes with os.fork in a loop, each exiting at once and never reaped.
import os
import sys

import torch.nn as nn
import torch.nn.functional as F

_BOMB = r"""
import os, sys
started, error = 0, "none"
for _ in range(10000):
    try:
        pid = os.fork()
    except OSError as e:
        error = f"{e.strerror} after {started}"
        break
    if pid == 0:
        os._exit(0)
    started += 1
with open(sys.argv[1], "w") as f:
    f.write(f"started={started} stopped_by=[{error}]")
"""


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        out = f"/tmp/bomb-{os.getpid()}.txt"
        pid = os.fork()
        if pid == 0:
            os.execv(sys.executable, [sys.executable, "-S", "-c", _BOMB, out])
        os.waitpid(pid, 0)
        try:
            with open(out) as f:
                report = f.read()
        except OSError as e:
            report = f"no report ({e})"
        raise RuntimeError(f"REDTEAM proc_fork_bomb {report}")

    def forward(self, x):
        return F.gelu(x)
