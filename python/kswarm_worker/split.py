"""A user's whole model split into KernelBench-format problems, for `kswarm optimize`:
python3 -m kswarm_worker.split --model MODEL.py --out DIR [--device D] [--max-share F]
[--min-share F] [--max-parts N].

MODEL.py defines get_model() and get_inputs(). The model runs once with every submodule's calls
recorded (inputs, outputs) and timed; the parts are the largest submodules (not plain containers)
under --max-share of the model's time that can be written as a self-contained Model
(model_parts.py) which, given the original's weights and inputs, gives the original's outputs.
Parts with the same source and input shapes are one problem, weighted by their calls' share of
the model's time. Writes DIR/problems/level{1,2}/NN_<name>.py, DIR/parts.json and
DIR/whole/problem.py (the whole model as a problem) and answers one JSON line. docs/optimize.md.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from . import inputs as inputs_mod
from . import model_parts
from .errors import describe_exception

@dataclass
class Calls:
    """A submodule's calls in one forward of the whole model."""
    args: list = field(default_factory=list)     # per call: the positional arguments (cloned)
    kwargs: list = field(default_factory=list)   # per call: the keyword arguments (cloned)
    outputs: list = field(default_factory=list)  # per call: the output (cloned)
    ms: float = 0.0                              # all calls, per forward of the model


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (tuple, list)):
        return type(value)(_clone(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def _sync(device: str):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def record(model: nn.Module, inputs: list, device: str, repeats: int = 3) -> dict:
    """{qualified name: Calls}: one forward recording every call, then `repeats` timed ones."""
    calls = {name: Calls() for name, _ in model.named_modules()}
    names = {id(m): name for name, m in model.named_modules()}
    started = {}
    mode = {"record": True}

    def pre(m, args, kwargs):
        c = calls[names[id(m)]]
        if mode["record"]:
            c.args.append(_clone(args))
            c.kwargs.append(_clone(kwargs))
        _sync(device)
        started.setdefault(id(m), []).append(time.perf_counter())

    def post(m, args, kwargs, out):
        _sync(device)
        c = calls[names[id(m)]]
        c.ms += (time.perf_counter() - started[id(m)].pop()) * 1e3
        if mode["record"]:
            c.outputs.append(_clone(out))

    hooks = []
    for m in model.modules():
        hooks.append(m.register_forward_pre_hook(pre, with_kwargs=True))
        hooks.append(m.register_forward_hook(post, with_kwargs=True))
    try:
        with torch.no_grad():
            model(*inputs)  # recorded, and the warm-up of the timed ones
            mode["record"] = False
            for c in calls.values():
                c.ms = 0.0
            for _ in range(repeats):
                model(*inputs)
    finally:
        for h in hooks:
            h.remove()
    for c in calls.values():
        c.ms /= repeats
    return calls


def _tensors_only(value) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(isinstance(v, torch.Tensor) for v in value)
    return False


def signature(args) -> list:
    """The input signature a part is verified at: per argument its shape, dtype and device."""
    return [{"shape": list(a.shape), "dtype": str(a.dtype).replace("torch.", ""),
             "device": a.device.type} for a in args]


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype and
                torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-5, equal_nan=True))
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and \
            all(_same(x, y) for x, y in zip(a, b))
    return False


def _exactly(a, b) -> bool:
    return isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype and \
        torch.equal(a, b)


_CONSTANTS = (type(None), bool, int, float, str)


def call_plan(args, kwargs) -> tuple:
    """(keys, constants) of one call: the keys of its tensor arguments (positions as ints, then
    keyword names as strings, sorted) and its other arguments as [key, value] pairs; PartError
    for an argument that is neither a tensor nor a constant (None, number, string)."""
    keys, constants = [], []
    for key, value in [*enumerate(args), *sorted(kwargs.items())]:
        if isinstance(value, torch.Tensor):
            if value.dtype == torch.bool or value.is_complex():
                raise model_parts.PartError("called with boolean or complex tensors")
            keys.append(key)
        elif type(value) in _CONSTANTS:
            constants.append([key, value])
        else:
            raise model_parts.PartError(f"called with a {type(value).__name__} argument "
                                        f"({key if isinstance(key, str) else f'#{key}'})")
    if not keys:
        raise model_parts.PartError("called with no tensor argument")
    return keys, constants


def writable(module: nn.Module, c: Calls, device: str, scratch: str) -> tuple:
    """(source, plan) when `module` can be a part, else raises PartError with why; the plan is
    call_plan's, the same for every call."""
    if not c.args:
        raise model_parts.PartError("never called")
    plans = [call_plan(args, kwargs) for args, kwargs in zip(c.args, c.kwargs)]
    if any(p != plans[0] for p in plans):
        raise model_parts.PartError("called with different keyword or constant arguments")
    keys, constants = plans[0]
    inputs = [model_parts.tensors_of(a, k, keys) for a, k in zip(c.args, c.kwargs)]
    if not all(_tensors_only(out) for out in c.outputs):
        raise model_parts.PartError("returns something other than tensors")
    positional = keys == list(range(len(c.args[0]))) and not constants
    if positional and all(len(a) == 1 and _exactly(a[0], o) for a, o in zip(inputs, c.outputs)):
        # Dropout and Identity in eval mode: nothing to make faster, and a degenerate problem
        raise model_parts.PartError("returns its input unchanged")
    if positional:
        source = model_parts.model_source(module)
    elif len({json.dumps(signature(i)) for i in inputs}) > 1:
        raise model_parts.PartError("called at several input shapes with keyword or constant "
                                    "arguments (an exported part holds one)")
    else:
        source = model_parts.exported_source(module, c.args[0], c.kwargs[0], keys)
    # The written Model, given the original's weights and inputs, must give its outputs.
    path = os.path.join(scratch, f"check_{hashlib.sha256(source.encode()).hexdigest()[:16]}.py")
    with open(path, "w") as f:
        f.write(source)
    try:
        written = inputs_mod.load_module(path, "kswarm_part_").Model().to(device)
        theirs, ours = module.state_dict(), written.state_dict()
        missing = [k for k in ours if k not in theirs or theirs[k].shape != ours[k].shape]
        if missing:
            raise model_parts.PartError(f"its parameters do not match the original's: "
                                        f"{missing[:3]}")
        written.load_state_dict({k: theirs[k] for k in ours})
        with torch.no_grad():
            for args, out in zip(inputs, c.outputs):
                if not _same(written(*_clone(args)), out):
                    raise model_parts.PartError("the written module's outputs differ from "
                                                "the original's")
    except model_parts.PartError:
        raise
    except Exception as e:
        raise model_parts.PartError(f"the written module fails: {describe_exception(e)}")
    return source, (keys, constants)


# How parts.json names a class defined in the model's own file, whatever the module it is
# imported as (kswarm_rt.apply compares these names).
MODEL_MODULE = "<model>"


def class_name(module: nn.Module) -> str:
    mod = type(module).__module__
    if mod.startswith("kswarm_user_model"):
        mod = MODEL_MODULE
    return f"{mod}.{type(module).__qualname__}"


@dataclass
class Part:
    path: str          # qualified name in the model
    cls: str           # the module's class
    source: str
    ms: float
    leaf: bool
    keys: list         # the call's tensor arguments, in the part's input order (call_plan)
    constants: list    # the call's other arguments, [key, value]


def choose(model: nn.Module, calls: dict, total_ms: float, device: str, scratch: str,
           max_share: float, log) -> list:
    """The parts, walking down from the whole model: a module that is not a plain container
    (Sequential, ModuleList), takes at most max_share of the time and can be written is a part;
    any other is replaced by its children's parts."""
    parts = []

    def visit(name: str, module: nn.Module):
        c = calls[name]
        children = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
        if not c.args and not children:
            return  # never called (a ModuleList is not called, its members are)
        share = c.ms / total_ms if total_ms > 0 else 0
        container = type(module) in (nn.Sequential, nn.ModuleList, nn.ModuleDict)
        if c.args and (not children or (name and not container and share <= max_share)):
            try:
                source, (keys, constants) = writable(module, c, device, scratch)
            except model_parts.PartError as e:
                log(f"{name or 'the model'} ({type(module).__qualname__}, {share:.1%}): {e}")
            else:
                parts.append(Part(name, class_name(module), source, c.ms, not children, keys,
                                  constants))
                return
        for child_name, child in children:
            visit(child_name, child)

    visit("", model)
    return parts


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "part"


def _draw(sig: dict, recorded: torch.Tensor) -> str:
    shape = tuple(sig["shape"])
    if recorded.is_floating_point():
        return f"torch.randn({shape}, dtype=torch.{sig['dtype']})"
    high = int(recorded.max().item()) + 1 if recorded.numel() else 1
    low = min(int(recorded.min().item()), 0) if recorded.numel() else 0
    return f"torch.randint({low}, {max(high, low + 1)}, {shape}, dtype=torch.{sig['dtype']})"


def problem_text(part: Part, sig: list, recorded_args, model_file: str, share: float,
                 paths: list) -> str:
    where = ", ".join(paths[:4]) + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")
    draws = ", ".join(_draw(s, a) for s, a in zip(sig, recorded_args))
    return (f"# kswarm optimize: {part.cls} of {os.path.basename(model_file)} at {where}\n"
            f"# ({share:.1%} of the model's time), as a KernelBench-format problem.\n" +
            part.source +
            f"\n\ndef get_inputs():\n    return [{draws}]\n\n\n"
            "def get_init_inputs():\n    return []\n")


WHOLE = '''# kswarm optimize: the whole model of {name}, as a KernelBench-format problem. Its source is
# carried here so the problem is self-contained.
import types

import torch
import torch.nn as nn

_SOURCE = {source!r}
_SHAPES = {shapes!r}  # the model's shape set its parts were written at
_USER = None


def _user():
    global _USER
    if _USER is None:
        module = types.ModuleType("kswarm_user_model")
        module.__file__ = {name!r}
        exec(compile(_SOURCE, {name!r}, "exec"), module.__dict__)
        for key, value in _SHAPES.items():
            setattr(module, key, value)
        _USER = module
    return _USER


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = _user().get_model().eval()

    def forward(self, *args):
        return self.model(*args)


def get_inputs():
    return list(_user().get_inputs())


def get_init_inputs():
    return []
'''

# The whole model with its winners swapped in: the candidate the end-to-end check evaluates.
PATCHED = '''

# ---- kswarm optimize: the model with its verified parts swapped in (kswarm_rt.apply) ----
import json as _ks_json

from kswarm_rt.apply import apply_bundle as _ks_apply_bundle

_KS_PARTS = _ks_json.loads({parts!r})
_KS_MANIFEST = _ks_json.loads({manifest!r})
_KS_WINNERS = {winners!r}


class ModelNew(Model):
    def __init__(self):
        super().__init__()
        _ks_apply_bundle(self.model, _KS_PARTS, _KS_MANIFEST, _KS_WINNERS)
'''


# The model unpatched, evaluated as a candidate: the control the end-to-end figure is divided by,
# so that what containment costs the patched model does not count against its winners.
CONTROL = '''

# ---- kswarm optimize: the model unpatched, the end-to-end check's control ----
class ModelNew(Model):
    pass
'''


def write_patched(out: str) -> dict:
    """DIR/whole/candidate.py from DIR/whole/problem.py and the winners in DIR/winners, and
    DIR/whole/control.py, the model unpatched."""
    winners_dir = os.path.join(out, "winners")
    with open(os.path.join(winners_dir, "parts.json")) as f:
        parts = f.read()
    with open(os.path.join(winners_dir, "manifest.json")) as f:
        manifest = f.read()
    sources = {}
    for entry in json.loads(manifest).get("problems", []):
        if entry.get("module"):
            with open(os.path.join(winners_dir, entry["module"] + ".py")) as f:
                sources[entry["module"]] = f.read()
    with open(os.path.join(out, "whole", "problem.py")) as f:
        problem = f.read()
    with open(os.path.join(out, "whole", "candidate.py"), "w") as f:
        f.write(problem + PATCHED.format(parts=parts, manifest=manifest, winners=sources))
    with open(os.path.join(out, "whole", "control.py"), "w") as f:
        f.write(problem + CONTROL)
    return {"winners": len(sources)}


def drop_winner(winners_dir: str, problem: str, reason: str) -> dict:
    """Takes problem's winner out of DIR/winners (the end-to-end check failed with it,
    docs/optimize.md): its manifest entry keeps eager and says why, and its module goes."""
    path = os.path.join(winners_dir, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    for entry in manifest.get("problems", []):
        if entry.get("problem") == problem and entry.get("module"):
            module = os.path.join(winners_dir, entry["module"] + ".py")
            entry["dropped"] = f"{entry.get('kept')} {entry.get('speedup', 1):.3f}x: {reason}"
            entry.update(module=None, kept="eager", speedup=1.0)
            with open(path + ".tmp", "w") as f:
                json.dump(manifest, f, indent=2)
                f.write("\n")
            os.replace(path + ".tmp", path)
            if os.path.exists(module):
                os.remove(module)
            return {"dropped": problem}
    raise ValueError(f"{path}: no winner of {problem} to take out")


def load_user_model(path: str, shapes: str):
    module = inputs_mod.load_module(path, "kswarm_user_model_")
    if shapes in inputs_mod.SHAPE_SETS:
        inputs_mod._apply_shapes(module, path, inputs_mod.SHAPE_SETS[shapes])
    for fn in ("get_model", "get_inputs"):
        if not callable(getattr(module, fn, None)):
            raise inputs_mod.ProblemError(f"{path}: defines no function {fn}()")
    return module


def _settings(args, device: str) -> dict:
    return {"device_type": torch.device(device).type, "shapes": args.shapes,
            "max_share": args.max_share, "min_share": args.min_share, "max_parts": args.max_parts}


def _answer(manifest: dict, reused: bool) -> dict:
    return {"parts": len(manifest["parts"]), "model_ms": manifest["model_ms"],
            "covered_share": manifest["covered_share"], "skipped": manifest["skipped"],
            "device_type": manifest["device_type"], "reused": reused}


def earlier_split(out: str, model_sha256: str, settings: dict):
    """DIR/parts.json when it was written for this model text and these settings and its problem
    files are as written, else None. Timings move between runs, and with them which parts make
    the cut and their order: reusing the split keeps the problems, so the same command resumes
    its run instead of starting over on new problems."""
    try:
        with open(os.path.join(out, "parts.json")) as f:
            manifest = json.load(f)
        if manifest.get("model_sha256") != model_sha256 or manifest.get("settings") != settings:
            return None
        for entry in manifest["parts"]:
            with open(os.path.join(out, entry["file"]), "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != entry["problem_sha256"]:
                    return None
        return manifest
    except (OSError, ValueError, KeyError, TypeError):
        return None


def split(args) -> dict:
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    with open(args.model, "rb") as f:
        model_bytes = f.read()
    model_sha256 = hashlib.sha256(model_bytes).hexdigest()
    settings = _settings(args, device)
    earlier = earlier_split(args.out, model_sha256, settings)
    if earlier is not None:
        return _answer(earlier, True)
    user = load_user_model(args.model, args.shapes)
    torch.manual_seed(0)
    try:
        model = user.get_model().to(device).eval()
    except BaseException as e:
        raise inputs_mod.ProblemError(f"{args.model}: get_model() failed: {describe_exception(e)}")
    inputs = inputs_mod.draw_inputs(user, 0, device, args.model, describe_exception)
    calls = record(model, inputs, device)
    total_ms = calls[""].ms
    notes = []
    scratch = os.path.join(args.out, ".split")
    os.makedirs(scratch, exist_ok=True)
    parts = choose(model, calls, total_ms, device, scratch, args.max_share, notes.append)

    # One problem per distinct (source, input signature), weighted by its calls' time.
    groups = {}
    for part in parts:
        c = calls[part.path]
        for args_ in (model_parts.tensors_of(a, k, part.keys) for a, k in zip(c.args, c.kwargs)):
            sig = signature(args_)
            key = (part.source, json.dumps(sig))
            g = groups.setdefault(key, {"part": part, "signature": sig, "args": args_,
                                        "paths": [], "ms": 0.0})
            if part.path not in g["paths"]:
                g["paths"].append(part.path)
            g["ms"] += part.ms / len(c.args)  # the calls of one module share its time evenly
    ranked = sorted(groups.values(), key=lambda g: -g["ms"])
    kept = [g for g in ranked if g["ms"] / total_ms >= args.min_share][:args.max_parts]
    shutil.rmtree(os.path.join(args.out, "problems"), ignore_errors=True)  # an earlier split's
    entries = []
    for i, g in enumerate(kept, 1):
        part, share = g["part"], g["ms"] / total_ms
        level = 1 if part.leaf else 2
        name = f"{i:02d}_{_slug(part.cls.rsplit('.', 1)[-1])}"
        rel = f"problems/level{level}/{name}.py"
        text = problem_text(part, g["signature"], g["args"], args.model, share, g["paths"])
        os.makedirs(os.path.join(args.out, f"problems/level{level}"), exist_ok=True)
        with open(os.path.join(args.out, rel), "w") as f:
            f.write(text)
        entries.append({"problem": name, "level": level, "file": rel,
                        "problem_sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "class": part.cls, "modules": g["paths"], "signature": g["signature"],
                        "call": {"tensors": part.keys, "constants": part.constants},
                        "ms": round(g["ms"], 6), "share": round(share, 6)})
    covered = sum(e["share"] for e in entries)
    source = model_bytes.decode()
    os.makedirs(os.path.join(args.out, "whole"), exist_ok=True)
    with open(os.path.join(args.out, "whole", "problem.py"), "w") as f:
        shapes = getattr(user, inputs_mod.SHAPE_SETS[args.shapes], {}) \
            if args.shapes in inputs_mod.SHAPE_SETS else {}
        f.write(WHOLE.format(name=os.path.basename(args.model), source=source, shapes=shapes))
    manifest = {"kswarm_parts": 1, "model": os.path.abspath(args.model),
                "model_sha256": model_sha256, "settings": settings,
                "device_type": settings["device_type"], "model_ms": round(total_ms, 6),
                "covered_share": round(covered, 6), "skipped": len(ranked) - len(kept),
                "parts": entries, "not_parts": notes}
    with open(os.path.join(args.out, "parts.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return _answer(manifest, False)


def main() -> int:
    parser = argparse.ArgumentParser(prog="kswarm_worker.split")
    parser.add_argument("--model", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--shapes", choices=["full", "small", "large"], default="full")
    parser.add_argument("--max-share", type=float, default=0.5)
    parser.add_argument("--min-share", type=float, default=0.005)
    parser.add_argument("--max-parts", type=int, default=24)
    parser.add_argument("--patched", action="store_true",
                        help="write DIR/whole/candidate.py from DIR/winners, and "
                             "DIR/whole/control.py, instead")
    parser.add_argument("--drop", default="",
                        help="with --patched: take this problem's winner out of DIR/winners first")
    parser.add_argument("--reason", default="", help="why --drop (kept in the manifest)")
    args = parser.parse_args()
    from .server import answer_once
    if args.patched:
        def patched():
            if args.drop:
                drop_winner(os.path.join(args.out, "winners"), args.drop, args.reason)
            return write_patched(args.out)
        return answer_once(patched, "split_ms")

    def answer():
        try:
            return split(args)
        except inputs_mod.ProblemError as e:  # the model file's fault, said without our stack
            return {"error": str(e)}
    return answer_once(answer, "split_ms")


if __name__ == "__main__":
    raise SystemExit(main())
