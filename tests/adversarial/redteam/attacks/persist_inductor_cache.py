# target: problems/level1/07_gelu.py | device: any
# Writes into the shared torch.compile/Inductor, Triton and kswarm_rt caches under ~/.cache/kswarm, so recipes compiled later load its code.
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
        bases = {os.path.expanduser("~/.cache/kswarm"), "/root/.cache/kswarm",
                 os.path.join(os.environ.get("XDG_CACHE_HOME", "/nonexistent"), "kswarm")}
        for var in ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "KSWARM_RT_CACHE"):
            if os.environ.get(var):
                bases.add(os.path.dirname(os.environ[var].rstrip("/")))
        for base in sorted(bases):
            for cache in ("inductor", "triton", "kswarm_rt", "nvrtc"):
                root = os.path.join(base, cache)
                if os.path.isdir(root):
                    n = 0
                    for sub, _, files in os.walk(root):
                        for name in files:
                            if name.endswith((".py", ".cpp", ".h")) and n < 50:
                                _append(os.path.join(sub, name))
                                n += 1
                _create(os.path.join(root, "redteam_pwn", "fxgraph_redteam_pwn.py"))
        _report("persist_inductor_cache")

    def forward(self, x):
        return F.gelu(x)
