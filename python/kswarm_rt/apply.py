"""The verified parts of `kswarm optimize` swapped into an unmodified model:

    import kswarm_rt
    model = kswarm_rt.apply(get_model(), "out/winners")   # the folder optimize wrote
    with torch.no_grad():
        y = model(x)

A part's replacement (its winner, `ModelNew`) is used only for calls it was verified at: the same
arguments by position and keyword, with tensors of the same shapes, dtypes and device type where
tensors were and the same constants (None, numbers, strings) elsewhere, the module in eval mode
and autograd off (torch.no_grad or torch.inference_mode); any other call runs the original
module. A submodule whose path, class or parameter names and shapes differ from what was
optimized keeps its original (a warning says why). The replacement holds a copy of the
original's weights taken at apply(), in the layout it chose; the model's state_dict names gain
`original.` and `replacement.` under each swapped submodule. Rules: docs/optimize.md.
"""

import json
import os
import sys
import types
import warnings

import torch
import torch.nn as nn


def _key(args) -> tuple:
    return tuple((tuple(a.shape), str(a.dtype).replace("torch.", ""), a.device.type)
                 if isinstance(a, torch.Tensor) else None for a in args)


def _sig_key(signature: list) -> tuple:
    return tuple((tuple(s["shape"]), s["dtype"], s["device"]) for s in signature)


def _plan(part: dict) -> tuple:
    """(tensor keys, {key: constant}) of a part's calls; parts.json's `call` (docs/optimize.md),
    all positional tensors where it has none."""
    call = part.get("call") or {"tensors": list(range(len(part["signature"]))), "constants": []}
    return tuple(call["tensors"]), {k: v for k, v in call["constants"]}


def _inputs(plan: tuple, args, kwargs):
    """The replacement's inputs of the call (args, kwargs) if it is a call of `plan`, else None."""
    keys, constants = plan
    given = [*range(len(args)), *kwargs]
    if len(given) != len(keys) + len(constants) or set(given) != {*keys, *constants}:
        return None
    value = lambda k: args[k] if isinstance(k, int) else kwargs[k]  # noqa: E731
    for k, c in constants.items():
        v = value(k)
        if type(v) is not type(c) or v != c:
            return None
    tensors = [value(k) for k in keys]
    return tensors if all(isinstance(t, torch.Tensor) for t in tensors) else None


class KswarmPart(nn.Module):
    """A submodule and its verified replacements, one per input signature."""

    def __init__(self, original: nn.Module, plan: tuple, replacements: dict, problems: list):
        super().__init__()
        self.original = original
        self.plan = plan
        self.replacement = nn.ModuleList(replacements.values())
        self._by_key = dict(zip(replacements, range(len(replacements))))
        self.problems = problems
        self.calls_replaced = 0
        self.calls_original = 0
        self.train(original.training)  # the mode the model is in, not a new module's default

    def forward(self, *args, **kwargs):
        if not self.training and not torch.is_grad_enabled():
            inputs = _inputs(self.plan, args, kwargs)
            index = None if inputs is None else self._by_key.get(_key(inputs))
            if index is not None:
                self.calls_replaced += 1
                return self.replacement[index](*inputs)
        self.calls_original += 1
        return self.original(*args, **kwargs)


def _load_winner(name: str, source: str):
    module = types.ModuleType(f"kswarm_winner_{name}")
    module.__file__ = f"{name}.py"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def _same_class(module: nn.Module, name: str) -> bool:
    """Whether `module` is of the class parts.json names; "<model>.Q" is a class the model's own
    file defines, which the user's program may import under any module name."""
    if name.startswith("<model>."):
        return type(module).__qualname__ == name[len("<model>."):]
    return f"{type(module).__module__}.{type(module).__qualname__}" == name


def _replacement(winner, original: nn.Module):
    """ModelNew with the original's weights, on its device; or the reason it cannot be."""
    with torch.random.fork_rng(devices=[]):  # the user's random stream is left as it was
        new = winner.ModelNew()
    theirs, ours = original.state_dict(), new.state_dict()
    wrong = [k for k in ours if k not in theirs or theirs[k].shape != ours[k].shape]
    if wrong:
        return None, f"its parameters do not match the original's ({', '.join(wrong[:3])})"
    new.load_state_dict({k: theirs[k] for k in ours})  # copied into the layout ModelNew chose
    tensors = list(original.parameters()) + list(original.buffers())
    if tensors:
        new.to(tensors[0].device)
    return new.eval(), None


def apply_bundle(model: nn.Module, parts: dict, manifest: dict, sources: dict) -> nn.Module:
    """apply() on what its folder holds, already read: parts.json, manifest.json and the winners'
    sources by module name. Returns `model`, changed in place."""
    kept = {p["problem_sha256"]: p for p in manifest.get("problems", []) if p.get("module")}
    found = {}  # path -> (original, plan, {signature key: replacement}, [problems])
    winners = {}
    for part in parts.get("parts", []):
        entry = kept.get(part["problem_sha256"])
        if entry is None:
            continue  # eager stays for this problem
        name = entry["module"]
        if name not in winners:
            winners[name] = _load_winner(name, sources[name])
        for path in part["modules"]:
            try:
                original = found[path][0] if path in found else model.get_submodule(path)
            except AttributeError:
                warnings.warn(f"kswarm_rt.apply: the model has no submodule {path}; "
                              f"{part['problem']} not applied there")
                continue
            if not _same_class(original, part["class"]):
                warnings.warn(f"kswarm_rt.apply: {path} is a {type(original).__module__}."
                              f"{type(original).__qualname__}, not the "
                              f"{part['class']} that was optimized; kept as it is")
                continue
            new, why = _replacement(winners[name], original)
            if new is None:
                warnings.warn(f"kswarm_rt.apply: {path}: {why}; kept as it is")
                continue
            plan = _plan(part)
            slot = found.setdefault(path, (original, plan, {}, []))
            if slot[1] != plan:  # split.py gives a module one plan; a folder may not
                warnings.warn(f"kswarm_rt.apply: {path}: {part['problem']} was optimized for "
                              "other arguments than another part there; not applied")
                continue
            slot[2][_sig_key(part["signature"])] = new
            slot[3].append(part["problem"])
    for path, (original, plan, replacements, problems) in found.items():
        parent_path, _, attr = path.rpartition(".")
        parent = model.get_submodule(parent_path) if parent_path else model
        setattr(parent, attr, KswarmPart(original, plan, replacements, problems))
    return model


def apply(model: nn.Module, folder: str) -> nn.Module:
    """Swaps the verified winners that `kswarm optimize` wrote to `folder` into `model` (see the
    module's docstring for when each is used). Returns `model`, changed in place."""
    with open(os.path.join(folder, "parts.json")) as f:
        parts = json.load(f)
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    sources = {}
    for entry in manifest.get("problems", []):
        if entry.get("module"):
            with open(os.path.join(folder, entry["module"] + ".py")) as f:
                sources[entry["module"]] = f.read()
    return apply_bundle(model, parts, manifest, sources)


def parts_of(model: nn.Module) -> dict:
    """{path: KswarmPart} of a model that apply() changed."""
    return {name: m for name, m in model.named_modules() if isinstance(m, KswarmPart)}
