"""The evaluate op: load a problem and a candidate, check the candidate, time both."""

import gc
import importlib.util
import inspect
import itertools
import os
import subprocess
import sys
import time
import traceback

import torch
import torch.nn as nn

from .compare import TOLERANCES, compare_outputs, flatten_outputs, inputs_unchanged
from .hello import backend_flags, restore_backend_flags
from .timing import Timer

_job_counter = itertools.count()
_WORKER_DIR = os.path.dirname(os.path.abspath(__file__))
_MODULE_CALL_FILE = os.path.join("torch", "nn", "modules", "module.py")


class ProblemError(Exception):
    """The problem file is broken; the message names the file and what is wrong."""


class DeviceError(Exception):
    """The requested device is not usable here."""


class _Outcome(Exception):
    """Ends a job early with an outcome for the candidate."""

    def __init__(self, outcome: str, message: str):
        super().__init__(message)
        self.outcome = outcome
        self.message = message


def _load_module(path: str, name: str):
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


def _exception_chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_build_error(exc: BaseException) -> bool:
    """True when the exception comes from building custom code (C++/CUDA extension, Triton)."""
    for e in _exception_chain(exc):
        if isinstance(e, (SyntaxError, subprocess.CalledProcessError)):
            return True
        kind = f"{type(e).__module__}.{type(e).__name__}"
        if kind.startswith("triton.") and "Compilation" in kind:
            return True
        text = str(e)
        if "Error building extension" in text or "Error compiling objects for extension" in text:
            return True
    return False


def trim_build_log(text: str, max_lines: int = 60) -> str:
    """Keeps the lines of a compiler log that say what is wrong, with a little context."""
    lines = text.splitlines()
    if len(lines) <= max_lines:
        return text
    keep = set()
    for i, line in enumerate(lines):
        low = line.lower()
        if "error" in low or "undefined" in low:
            keep.update(range(max(0, i - 2), min(len(lines), i + 3)))
    picked = [lines[i] for i in sorted(keep)][:max_lines - 10]
    tail = lines[-10:]
    return "\n".join(picked + ["[...]"] + tail)


def describe_exception(exc: BaseException, limit: int = 12) -> str:
    """The exception and the end of its traceback, trimmed for an agent to read."""
    if is_build_error(exc):
        for e in _exception_chain(exc):
            output = getattr(e, "output", None)
            if isinstance(output, (bytes, str)) and output:
                text = output.decode(errors="replace") if isinstance(output, bytes) else output
                return f"{type(exc).__name__}: {trim_build_log(str(exc))}\n{trim_build_log(text)}"
        return f"{type(exc).__name__}: {trim_build_log(str(exc))}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _is_harness_frame(f.filename)]
    lines = ["Traceback (most recent call last):"]
    lines += "".join(traceback.format_list(frames[-limit:])).rstrip().splitlines()
    lines += "".join(traceback.format_exception_only(type(exc), exc)).rstrip().splitlines()
    return "\n".join(lines)[:16000]


def _is_harness_frame(filename: str) -> bool:
    """Frames of the worker and of torch's module-call plumbing say nothing about the candidate."""
    return filename.startswith(_WORKER_DIR) or filename.endswith(_MODULE_CALL_FILE)


def _is_cuda_failure(exc: BaseException) -> bool:
    for e in _exception_chain(exc):
        text = str(e)
        if any(s in text for s in ("CUDA error", "cudaError", "illegal memory access",
                                   "device-side assert", "CUBLAS_STATUS", "CUDNN_STATUS")):
            return True
        if type(e).__name__ == "AcceleratorError":
            return True
    return False


def _device_poisoned(device: str) -> bool:
    if device != "cuda":
        return False
    try:
        torch.cuda.synchronize()
        return False
    except Exception:
        return True


def _apply_small_shapes(module, path: str) -> None:
    shapes = getattr(module, "KSWARM_SMALL_SHAPES", None)
    if shapes is None:
        return
    if not isinstance(shapes, dict):
        raise ProblemError(f"{path}: KSWARM_SMALL_SHAPES must be a dict of module constants")
    for name, value in shapes.items():
        if not hasattr(module, name):
            raise ProblemError(f"{path}: KSWARM_SMALL_SHAPES names {name!r}, "
                               "which is not a module-level constant")
        setattr(module, name, value)


def load_problem(path: str, shapes: str):
    try:
        module = _load_module(path, f"kswarm_problem_{next(_job_counter)}")
    except FileNotFoundError:
        raise ProblemError(f"{path}: no such file")
    except BaseException as e:
        raise ProblemError(f"{path}: does not import: {describe_exception(e)}")
    missing = []
    model = getattr(module, "Model", None)
    if not (isinstance(model, type) and issubclass(model, nn.Module)):
        missing.append("class Model(nn.Module)")
    for fn in ("get_inputs", "get_init_inputs"):
        if not callable(getattr(module, fn, None)):
            missing.append(f"function {fn}()")
    if missing:
        raise ProblemError(f"{path}: not a KernelBench-format problem: missing {', '.join(missing)}")
    if shapes == "small":
        _apply_small_shapes(module, path)
    return module


def _to_device(values, device):
    return [v.to(device) if isinstance(v, torch.Tensor) else v for v in values]


def _clone(values):
    return [v.clone() if isinstance(v, torch.Tensor) else v for v in values]


def _draw_inputs(problem, seed: int, device: str, path: str):
    # Factory calls in get_inputs() create their tensors on the device itself: drawing large
    # inputs on the CPU and copying them over took most of a 100-trial verification.
    torch.manual_seed(seed)
    try:
        with torch.device(device):
            inputs = problem.get_inputs()
    except BaseException as e:
        raise ProblemError(f"{path}: get_inputs() failed: {describe_exception(e)}")
    if not isinstance(inputs, (list, tuple)):
        raise ProblemError(f"{path}: get_inputs() must return a list, got {type(inputs).__name__}")
    return _to_device(list(inputs), device)


class _Job:
    """One evaluate request; the fields of the reply accumulate here."""

    def __init__(self, req: dict, device: str, index: int):
        self.req = req
        self.device = device if device == "cpu" else f"cuda:{index}"
        self.device_type = device
        self.problem_path = req["problem_path"]
        self.candidate_path = req["candidate_path"]
        self.trials = int(req["trials"])
        self.seed = int(req["seed"])
        tolerance = req.get("tolerance", "seed")
        if tolerance not in TOLERANCES:
            raise KeyError(f"tolerance (one of {sorted(TOLERANCES)}, got {tolerance!r})")
        self.tolerance = tolerance
        self.timing_opts = req.get("timing", {})
        self.phase_ms = {"load": 0.0, "build": 0.0, "verify": 0.0, "time": 0.0}
        self.trials_run = 0
        self.max_abs_err = None
        self.max_rel_err = None
        self.failure = None
        self.timing = None

    def _sync(self):
        if self.device_type == "cuda":
            torch.cuda.synchronize()

    def _candidate_step(self, what: str, fn):
        """Runs candidate code; turns its exceptions into outcomes."""
        try:
            result = fn()
            self._sync()  # attribute asynchronous device errors to the candidate
            return result
        except _Outcome:
            raise
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise _Outcome("runtime_error", f"{what}: candidate raised {type(e).__name__}")
            outcome = "compile_error" if is_build_error(e) else "runtime_error"
            raise _Outcome(outcome, f"{what}: {describe_exception(e)}")

    def _reference_step(self, what: str, fn):
        try:
            result = fn()
            self._sync()
            return result
        except BaseException as e:
            raise ProblemError(f"{self.problem_path}: the reference Model failed in {what}: "
                               f"{describe_exception(e)}")

    def run(self) -> dict:
        t0 = time.perf_counter()
        problem = load_problem(self.problem_path, self.req.get("shapes", "full"))
        try:
            init_inputs = list(problem.get_init_inputs())
        except BaseException as e:
            raise ProblemError(f"{self.problem_path}: get_init_inputs() failed: "
                               f"{describe_exception(e)}")
        self.phase_ms["load"] = (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        candidate = self._load_candidate()
        model_new = getattr(candidate, "ModelNew", None)
        if not (isinstance(model_new, type) and issubclass(model_new, nn.Module)):
            raise _Outcome("rejected", f"{self.candidate_path}: defines no class ModelNew(nn.Module)")
        try:
            inspect.signature(model_new).bind(*init_inputs)
        except TypeError as e:
            raise _Outcome("rejected", f"ModelNew's constructor cannot take the problem's init "
                                       f"inputs {init_inputs!r}: {e}")
        except ValueError:
            pass  # signature not introspectable: let construction decide

        torch.manual_seed(self.seed)
        reference = self._reference_step("construction", lambda: problem.Model(*init_inputs))
        reference = self._reference_step("moving to the device", lambda: reference.to(self.device))
        torch.manual_seed(self.seed)
        model = self._candidate_step("ModelNew construction",
                                     lambda: model_new(*init_inputs).to(self.device))
        self.phase_ms["build"] = (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        with torch.no_grad():
            self._verify(problem, reference, model)
        self.phase_ms["verify"] = (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        with torch.no_grad():
            self._time(problem, reference, model)
        self.phase_ms["time"] = (time.perf_counter() - t0) * 1e3
        return {"outcome": "passed", "message": self._passed_message()}

    def _load_candidate(self):
        try:
            return _load_module(self.candidate_path, f"kswarm_candidate_{next(_job_counter)}")
        except FileNotFoundError:
            raise _Outcome("rejected", f"{self.candidate_path}: no such file")
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise _Outcome("compile_error", f"candidate raised {type(e).__name__} on import")
            raise _Outcome("compile_error", f"candidate failed to load: {describe_exception(e)}")

    def _call_candidate(self, model, inputs, trial):
        pristine = _clone(inputs)
        out = self._candidate_step(f"trial {trial}: ModelNew.forward", lambda: model(*inputs))
        try:
            outs = flatten_outputs(out)
        except TypeError as e:
            raise _Outcome("rejected", f"trial {trial}: ModelNew.forward returned {e}")
        if not inputs_unchanged(inputs, pristine):
            raise _Outcome("rejected", f"trial {trial}: ModelNew.forward modified its inputs in place")
        return outs

    def _call_reference(self, reference, inputs, trial):
        out = self._reference_step(f"trial {trial}", lambda: reference(*inputs))
        try:
            return flatten_outputs(out)
        except TypeError as e:
            raise ProblemError(f"{self.problem_path}: Model.forward returned {e}")

    def _verify(self, problem, reference, model):
        atol_rtol = TOLERANCES[self.tolerance]
        for trial in range(self.trials):
            inputs = _draw_inputs(problem, self.seed + 1 + trial, self.device, self.problem_path)
            cand_inputs, ref_inputs = _clone(inputs), _clone(inputs)
            if trial % 2 == 0:  # trial 0: the candidate runs first
                cand_out = self._call_candidate(model, cand_inputs, trial)
                ref_out = self._call_reference(reference, ref_inputs, trial)
            else:
                ref_out = self._call_reference(reference, ref_inputs, trial)
                cand_out = self._call_candidate(model, cand_inputs, trial)
            self.trials_run = trial + 1
            result = compare_outputs(cand_out, ref_out, atol_rtol)
            if result.max_abs_err is not None:
                self.max_abs_err = max(self.max_abs_err or 0.0, result.max_abs_err)
                self.max_rel_err = max(self.max_rel_err or 0.0, result.max_rel_err)
            if result.failure is not None:
                self.failure = dict(result.failure, trial=trial)
                raise _Outcome("wrong", f"trial {trial} of {self.trials} (input seed "
                                        f"{self.seed + 1 + trial}): {result.message}")
            del inputs, cand_inputs, ref_inputs, cand_out, ref_out

    def _time(self, problem, reference, model):
        opts = self.timing_opts
        inputs = _draw_inputs(problem, self.seed + 1 + self.trials, self.device, self.problem_path)
        timer = Timer(self.device_type, self.device)
        try:
            ref_fn = lambda: reference(*inputs)
            cand_fn = lambda: model(*inputs)
            self.timing = self._candidate_step(
                "timing", lambda: timer.interleave(
                    ref_fn, cand_fn,
                    warmup_runs=int(opts.get("warmup_runs", 3)),
                    min_runs=int(opts.get("min_runs", 10)),
                    max_runs=int(opts.get("max_runs", 100)),
                    budget_ms=float(opts.get("budget_ms", 10000))))
        finally:
            timer.release()

    def _passed_message(self) -> str:
        b, c = self.timing["baseline"], self.timing["candidate"]
        return (f"correct on {self.trials_run} trials (max_abs_err {self.max_abs_err:.3g}, "
                f"max_rel_err {self.max_rel_err:.3g}); candidate {c['median_ms']:.4g} ms vs "
                f"eager {b['median_ms']:.4g} ms (median of {c['count']})")

    def reply(self, outcome: str, message: str) -> dict:
        return {
            "outcome": outcome,
            "message": message,
            "trials_run": self.trials_run,
            "max_abs_err": self.max_abs_err,
            "max_rel_err": self.max_rel_err,
            "failure": self.failure,
            "timing": self.timing if outcome == "passed" else None,
            "phase_ms": {k: round(v, 3) for k, v in self.phase_ms.items()},
        }


def evaluate(req: dict, device: str, index: int) -> dict:
    if device == "cuda" and not torch.cuda.is_available():
        raise DeviceError("device cuda requested but no CUDA device is usable "
                          "(torch.cuda.is_available() is False)")
    job = _Job(req, device, index)
    flags = backend_flags()
    poisoned = False
    try:
        result = job.run()
        reply = job.reply(result["outcome"], result["message"])
    except _Outcome as o:
        reply = job.reply(o.outcome, o.message)
        poisoned = device == "cuda" and (_is_cuda_failure(o) or _device_poisoned(device))
    except ProblemError:
        if _device_poisoned(device):
            # The device failed under the reference: most likely the candidate broke it earlier.
            reply = job.reply("runtime_error", "the device failed after the candidate ran; "
                                               "its work left the CUDA context unusable")
            reply["poisoned"] = True
            return reply
        raise
    finally:
        restore_backend_flags(flags)
        for name in [n for n in sys.modules if n.startswith(("kswarm_problem_", "kswarm_candidate_"))]:
            del sys.modules[name]
        gc.collect()
        if device == "cuda" and not _device_poisoned(device):
            torch.cuda.empty_cache()
    reply["poisoned"] = poisoned
    return reply
