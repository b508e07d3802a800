"""A static look at candidate source for what honest kernels never need: reading the harness's
frames or objects, patching torch or the clock, side channels to the protocol, threads, L2
persistence windows, the reference model, or a fallback to PyTorch when custom code fails.

Findings are "forbidden" (rejected under the default policy) or "suspicious" (flagged: stored
and shown, and a flagged candidate is never kept as a winner)."""

import ast
from dataclasses import dataclass

_FRAME_ATTRS = {"f_back", "f_locals", "f_globals", "tb_frame", "gi_frame", "cr_frame",
                "f_builtins"}
_FORBIDDEN_CALLS = {
    "sys._getframe": "reads the caller's frames", "inspect.currentframe": "reads frames",
    "inspect.stack": "reads frames", "inspect.getouterframes": "reads frames",
    "inspect.trace": "reads frames", "gc.get_objects": "searches the heap",
    "gc.get_referrers": "searches the heap", "gc.get_referents": "searches the heap",
    "os.write": "writes to raw file descriptors", "os.fdopen": "opens raw file descriptors",
    "os.dup2": "redirects file descriptors", "os.kill": "signals processes",
}
_FORBIDDEN_MODULES = {
    "threading": "starts threads", "_thread": "starts threads",
    "concurrent": "starts threads or processes", "multiprocessing": "starts processes",
    "asyncio": "runs work outside the call", "sqlite3": "opens databases",
    "kswarm_worker": "imports the harness", "builtins": "patches builtins",
    "signal": "handles signals",
}
_SUSPICIOUS_MODULES = {"ctypes": "calls native code directly (bypasses the checks' view)"}
# Roots after import aliases are resolved (F -> torch.nn.functional, np -> numpy).
_PATCHED_ROOTS = {"torch", "time", "sys", "os", "gc", "builtins", "numpy"}
_L2_WORDS = ("accessPolicyWindow", "PersistingL2", "AccessPropertyPersisting",
             "persisting_l2", "hitProp", "cudaLimitPersisting")
# Assigning into these is configuration, not patching.
_SETTINGS_PREFIXES = ("torch.backends", "torch._dynamo.config", "torch._inductor.config",
                      "torch.jit")


@dataclass
class Finding:
    severity: str  # "forbidden" or "suspicious"
    check: str
    detail: str
    line: int

    def text(self) -> str:
        return f"{self.check} (line {self.line}): {self.detail}"


_aliases = {}  # name bound by an import -> the module it names (set per check_source call)


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(_aliases.get(node.id, node.id))
        return ".".join(reversed(parts))
    return ""


def _collect_aliases(tree) -> dict:
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    out.pop("Model", None)
    return out


def _calls_torch(nodes) -> bool:
    for n in nodes:
        for sub in ast.walk(n):
            if isinstance(sub, ast.Call):
                name = _dotted(sub.func)
                if name.startswith("torch."):
                    return True
                if isinstance(sub.func, ast.Attribute) and sub.func.attr == "forward" and \
                        isinstance(sub.func.value, ast.Call) and \
                        _dotted(sub.func.value.func) == "super":
                    return True
    return False


def check_source(source: str) -> list:
    """Findings for one candidate's source; [] when it does not parse (loading reports that)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    _aliases.clear()
    _aliases.update(_collect_aliases(tree))
    defines_model = any(isinstance(n, ast.ClassDef) and n.name == "Model" for n in tree.body)
    found = []

    def add(sev, check, detail, node):
        found.append(Finding(sev, check, detail, getattr(node, "lineno", 0)))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                if root in _FORBIDDEN_MODULES:
                    add("forbidden", "forbidden_api", f"imports {name}: {_FORBIDDEN_MODULES[root]}",
                        node)
                elif root in _SUSPICIOUS_MODULES:
                    add("suspicious", "native_access", f"imports {name}: "
                                                       f"{_SUSPICIOUS_MODULES[root]}", node)
        elif isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRS:
            add("forbidden", "frame_access", f"reads .{node.attr}", node)
        elif isinstance(node, ast.Attribute) and _dotted(node) == "sys.modules":
            add("forbidden", "harness_access", "searches sys.modules (the harness's modules)",
                node)
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in _FORBIDDEN_CALLS:
                add("forbidden", "forbidden_api", f"calls {name}: {_FORBIDDEN_CALLS[name]}", node)
            elif name in ("__import__", "importlib.import_module") and node.args and \
                    isinstance(node.args[0], ast.Constant) and \
                    str(node.args[0].value).split(".")[0] in _FORBIDDEN_MODULES:
                add("forbidden", "forbidden_api", f"imports {node.args[0].value} dynamically", node)
            elif name == "setattr" and node.args and _dotted(node.args[0]).split(".")[0] in \
                    _PATCHED_ROOTS and not _dotted(node.args[0]).startswith(_SETTINGS_PREFIXES):
                add("forbidden", "patches_library", f"setattr on {_dotted(node.args[0])}", node)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute):
                    owner = _dotted(t.value)
                    if owner.split(".")[0] in _PATCHED_ROOTS and \
                            not owner.startswith(_SETTINGS_PREFIXES) and ".config" not in owner:
                        add("forbidden", "patches_library", f"assigns {owner}.{t.attr}", node)
        elif isinstance(node, ast.Name) and node.id == "Model" and \
                isinstance(node.ctx, ast.Load) and not defines_model:
            add("forbidden", "calls_reference", "uses a Model it does not define: the "
                                                "harness's reference", node)
        elif isinstance(node, ast.Try):
            if any(_calls_torch(h.body) for h in node.handlers):
                add("suspicious", "reference_fallback",
                    "an except handler computes with PyTorch (a fallback the timing never sees)",
                    node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "/proc/self/fd" in node.value or "/dev/fd" in node.value:
                add("forbidden", "forbidden_api", "opens the process's descriptors", node)
    for lineno, text in enumerate(source.splitlines(), 1):
        if any(w in text for w in _L2_WORDS):
            found.append(Finding("forbidden", "l2_persistence", "sets up an L2 persisting-access "
                                 "window (survives the cache flush)", lineno))
    # One finding per (check, line) is enough.
    unique = {}
    for f in found:
        unique.setdefault((f.check, f.line), f)
    return sorted(unique.values(), key=lambda f: (f.line, f.check))
