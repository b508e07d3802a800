"""Problems and their inputs: loading a KernelBench-format file and drawing a trial's inputs.

Both sides of an evaluation draw the same inputs from the same seed: the judge for the reference,
the sandbox for the candidate. Trials vary the distribution of floating-point inputs (see
DISTRIBUTIONS) so that a candidate which is right only for the problem's own distribution (zeros
where the output is near zero on average, a constant, the input) is caught.
"""

import importlib.util
import itertools
import os
import sys
import typing

import torch

from .errors import ProblemError

_counter = itertools.count()

# Trial t uses DISTRIBUTIONS[t % 3]; timing uses "own". Each keeps the sign of a tensor that
# get_inputs() drew without negative values (rand-like inputs for log, sqrt, probabilities).
DISTRIBUTIONS = ("own", "uniform", "shifted")


def load_module(path: str, prefix: str):
    """Imports a file as a fresh module named prefix + a counter."""
    name = f"{prefix}{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def forget_modules(*prefixes: str) -> None:
    for name in [n for n in sys.modules if n.startswith(prefixes)]:
        del sys.modules[name]


# The module-level dict a problem may define for each shape set beside its own (full) sizes.
SHAPE_SETS = {"small": "KSWARM_SMALL_SHAPES", "large": "KSWARM_LARGE_SHAPES"}


def _apply_shapes(module, path: str, attr: str) -> None:
    shapes = getattr(module, attr, None)
    if shapes is None:
        return
    if not isinstance(shapes, dict):
        raise ProblemError(f"{path}: {attr} must be a dict of module constants")
    for name, value in shapes.items():
        if not hasattr(module, name):
            raise ProblemError(f"{path}: {attr} names {name!r}, "
                               "which is not a module-level constant")
        setattr(module, name, value)


def load_problem(path: str, shapes: str, describe):
    """The problem module, checked for Model, get_inputs and get_init_inputs. `describe` turns an
    exception into text."""
    try:
        module = load_module(path, "kswarm_problem_")
    except FileNotFoundError:
        raise ProblemError(f"{path}: no such file")
    except BaseException as e:
        raise ProblemError(f"{path}: does not import: {describe(e)}")
    missing = []
    model = getattr(module, "Model", None)
    if not (isinstance(model, type) and issubclass(model, torch.nn.Module)):
        missing.append("class Model(nn.Module)")
    for fn in ("get_inputs", "get_init_inputs"):
        if not callable(getattr(module, fn, None)):
            missing.append(f"function {fn}()")
    if missing:
        raise ProblemError(f"{path}: not a KernelBench-format problem: missing {', '.join(missing)}")
    if shapes in SHAPE_SETS:
        _apply_shapes(module, path, SHAPE_SETS[shapes])
    return module


def init_inputs(problem, path: str, describe) -> list:
    try:
        return list(problem.get_init_inputs())
    except BaseException as e:
        raise ProblemError(f"{path}: get_init_inputs() failed: {describe(e)}")


def _bytes(values) -> int:
    if isinstance(values, torch.Tensor):
        return values.numel() * values.element_size()
    if isinstance(values, (list, tuple)):
        return sum(_bytes(v) for v in values)
    if isinstance(values, dict):
        return sum(_bytes(v) for v in values.values())
    return 0


class Footprint(typing.NamedTuple):
    judge: int  # bytes
    sandbox: int

    @property
    def total(self) -> int:
        return self.judge + self.sandbox


def footprint(problem, init: list):
    """Bytes an evaluation holds on its device at least, worked out on the meta device without
    allocating any: the judge keeps the inputs, the weights, the reference's outputs and one
    output-sized tensor to compare them with; the sandbox the inputs and a pristine copy of them
    (to see writes), the weights, the outputs and their snapshot (to see later changes). None
    where the problem does not run there (an operator without a meta kernel, a tensor made on a
    named device)."""
    try:
        with torch.device("meta"), torch.no_grad():
            values = problem.get_inputs()
            model = problem.Model(*init)
            outputs = model(*values)
    except Exception:
        return None
    state = _bytes(list(model.parameters()) + list(model.buffers()))
    return Footprint(judge=_bytes(list(values)) + state + 2 * _bytes(outputs),
                     sandbox=2 * _bytes(list(values)) + state + 2 * _bytes(outputs))


def memory_blame(candidate_held: int, candidate_share: int) -> str:
    """Whose outcome the judge running out of device memory is: the candidate's ("candidate")
    when its process held more than twice its side's footprint and 2 GiB besides (a model that
    hoards memory, or a hostile one starving the judge), else the problem's ("problem": too
    large for this device as evaluated)."""
    return "candidate" if candidate_held > 2 * candidate_share + (2 << 30) else "problem"


def memory_claim_holds(free: int, candidate_share: int) -> bool:
    """Whether the sandbox's report that its own work (drawing inputs, the checks' copies) ran
    out of device memory can be true: only if the device had less free, when the judge read the
    report, than that work needs at most (its side's footprint, and 1 GiB for the allocator's
    rounding). Candidate code can write the report (sandbox_client.reply_kind)."""
    return free < candidate_share + (1 << 30)


def device_free(device_type: str, device) -> int:
    """The memory free on the device now: the GPU's, or the host's available memory."""
    if device_type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def device_bytes(device_type: str, device) -> int:
    """The memory an evaluation's two sides share: the GPU's, or the host's on the CPU."""
    if device_type == "cuda":
        return torch.cuda.mem_get_info(device)[1]
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


_footprints = {}  # (path, its mtime and size, shapes) -> footprint: a meta forward can take 0.5 s


def check_fits(problem, init: list, path: str, shapes: str, device_type: str, device):
    """Refuses, as the problem's own error, one whose evaluation cannot fit the device; else
    returns its Footprint (None where it could not be worked out)."""
    try:
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size, shapes)
    except OSError:
        key = None
    need = _footprints[key] if key in _footprints else footprint(problem, init)
    if key is not None:
        _footprints[key] = need
    if need is None:
        return None
    have = device_bytes(device_type, device)
    if need.total > have:
        raise ProblemError(
            f"{path}: does not fit the {device_type} device at these shapes: an evaluation holds at "
            f"least {need.total / 2**30:.1f} GiB (the reference's and the candidate's inputs, "
            f"weights and outputs, with the copies the checks compare), the device has "
            f"{have / 2**30:.1f} GiB")
    return need


def _redistribute(t: torch.Tensor, kind: str, gen: torch.Generator) -> torch.Tensor:
    if kind == "own" or not t.is_floating_point() or t.numel() == 0:
        return t
    lo, hi = torch.stack(torch.aminmax(t)).tolist()  # one pass and one read back
    nonneg = lo >= 0
    scale = max(-lo, hi, 1e-3)
    if kind == "uniform":
        u = torch.rand(t.shape, generator=gen, device=t.device, dtype=torch.float32)
        v = u.mul_(scale) if nonneg else u.mul_(2 * scale).sub_(scale)
    else:  # "shifted": the problem's own draw moved away from zero mean
        v = t.float().mul(0.5).add_(0.25 * scale if nonneg else 0.5 * scale)
    return v.to(t.dtype)


def seed_generators(seed: int, device: str) -> None:
    """torch.manual_seed for what a draw reaches: the CPU's generator and `device`'s. (Seeding all
    backends, as torch.manual_seed does, queues a call with its stack trace for each backend not
    in use: a millisecond of every trial.)"""
    torch.random.default_generator.manual_seed(seed)
    d = torch.device(device)
    if d.type == "cuda":
        with torch.cuda.device(d):
            torch.cuda.manual_seed(seed)


def draw_inputs(problem, seed: int, device: str, path: str, describe, kind: str = "own") -> list:
    """get_inputs() after seeding the generators it reaches (seed_generators), its factory calls
    on `device`; float tensors then redistributed by `kind` (one of DISTRIBUTIONS) with a
    generator seeded from `seed`."""
    seed_generators(seed, device)
    try:
        with torch.device(device):
            inputs = problem.get_inputs()
    except torch.OutOfMemoryError:
        raise  # whose it is depends on what else holds the device (evaluate.out_of_memory)
    except BaseException as e:
        raise ProblemError(f"{path}: get_inputs() failed: {describe(e)}")
    if not isinstance(inputs, (list, tuple)):
        raise ProblemError(f"{path}: get_inputs() must return a list, got {type(inputs).__name__}")
    inputs = [v.to(device) if isinstance(v, torch.Tensor) else v for v in inputs]
    if kind != "own":
        gen = torch.Generator(device=device)
        gen.manual_seed(seed)
        inputs = [_redistribute(v, kind, gen) if isinstance(v, torch.Tensor) else v
                  for v in inputs]
    return inputs


def change_weights(model: torch.nn.Module) -> int:
    """Changes every floating-point parameter in place by the same element-wise function, on both
    sides of an evaluation at the same trial. An element-wise change commutes with any
    re-arrangement of the weights (transposed, concatenated, cast), so a correct candidate follows
    it; a copy derived from the weights once (folded, precomputed) does not, and is caught as
    wrong. Returns how many parameters changed."""
    changed = 0
    with torch.no_grad():
        for p in torch.nn.Module.parameters(model):  # not an override the module defines
            if p.is_floating_point() and p.numel():
                p.mul_(1.25 + 0.5 * torch.sin(31.0 * p))
                changed += 1
    return changed
