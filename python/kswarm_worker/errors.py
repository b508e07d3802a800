"""Errors and outcomes shared by the judge and the sandbox, and exception text for agents."""

import os
import subprocess
import traceback

import torch

_WORKER_DIR = os.path.dirname(os.path.abspath(__file__))
_MODULE_CALL_FILE = os.path.join("torch", "nn", "modules", "module.py")


class ProblemError(Exception):
    """The problem file is broken; the message names the file and what is wrong."""


class DeviceError(Exception):
    """The requested device is not usable here."""


class Outcome(Exception):
    """Ends a job early with an outcome for the candidate."""

    def __init__(self, outcome: str, message: str):
        super().__init__(message)
        self.outcome = outcome
        self.message = message


class SandboxClaim(Exception):
    """The sandbox says something that would clear the candidate (the problem is broken, the
    device ran out of memory in the sandbox's own work). Candidate code can write into the
    sandbox's replies, so the judge confirms a claim before believing it (evaluate.confirm)."""

    def __init__(self, kind: str, message: str, op: str):
        super().__init__(message)
        self.kind = kind  # "problem" or "out_of_memory"
        self.message = message
        self.op = op


def _exception_chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_build_error(exc: BaseException) -> bool:
    """True when the exception comes from building custom code (C++/CUDA extension, Triton,
    NVRTC)."""
    for e in _exception_chain(exc):
        if isinstance(e, (SyntaxError, subprocess.CalledProcessError)):
            return True
        kind = f"{type(e).__module__}.{type(e).__name__}"
        if kind.startswith("triton.") and "Compilation" in kind:
            return True
        if kind == "kswarm_rt._runtime.CompileError":  # NVRTC, through the fast CUDA path
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


def first_line(exc: BaseException) -> str:
    """An exception's message up to its first line break (an out-of-memory error's advice
    follows), or its type where it has none."""
    text = str(exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


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


def is_cuda_failure(exc: BaseException) -> bool:
    for e in _exception_chain(exc):
        text = str(e)
        if any(s in text for s in ("CUDA error", "cudaError", "illegal memory access",
                                   "device-side assert", "CUBLAS_STATUS", "CUDNN_STATUS")):
            return True
        if type(e).__name__ == "AcceleratorError":
            return True
    return False


def device_poisoned(device: str) -> bool:
    if device != "cuda":
        return False
    try:
        torch.cuda.synchronize()
        return False
    except Exception:
        return True


def require_device(device: str) -> None:
    """DeviceError when `device` is cuda and no CUDA device is usable."""
    import torch
    if device == "cuda" and not torch.cuda.is_available():
        raise DeviceError("device cuda requested but no CUDA device is usable "
                          "(torch.cuda.is_available() is False)")
