"""Checks the sandbox makes around candidate code: what it must not patch, threads it must not
leave running, outputs it must not keep writing, memory it must not read stale."""

import os
import threading
import time
import types

import torch

# Attributes a candidate could replace to fool a check or a timer: (owner, attribute) pairs
# resolved at snapshot time. The sandbox adds its own modules' functions.
_WATCHED = [
    (torch, "allclose"), (torch, "equal"), (torch, "isclose"), (torch, "save"),
    (torch, "manual_seed"), (torch.random, "default_generator"), (torch.cuda, "manual_seed"),
    (torch, "randn"), (torch, "rand"), (torch, "empty"),
    (torch.cuda, "synchronize"), (torch.cuda, "Event"), (torch.cuda, "_sleep"),
    (torch.cuda.Event, "record"), (torch.cuda.Event, "elapsed_time"),
    (torch.cuda.Event, "synchronize"), (torch.Tensor, "clone"), (torch.Tensor, "copy_"),
    (torch.Tensor, "cpu"), (torch.Tensor, "to"), (torch.Tensor, "fill_"),
    (torch.Tensor, "zero_"), (torch.Tensor, "__eq__"), (torch.nn.Module, "__call__"),
    (torch.nn.Module, "_call_impl"), (time, "perf_counter"), (time, "perf_counter_ns"),
]


def _ident(obj):
    code = getattr(obj, "__code__", None)
    return (id(obj), id(code) if code is not None else None)


# What a module's name can be bound to that the harness calls or reaches through: rebinding one
# (the timing module's `time`, the sandbox's `json`) changes what the harness does.
_CODE = (types.FunctionType, types.BuiltinFunctionType, types.ModuleType, type)


class Integrity:
    """Remembers what the watched attributes and the given modules' functions, classes and
    imported modules were, and names whatever has been replaced since."""

    def __init__(self, modules):
        self._entries = {}
        for owner, attr in _WATCHED:
            name = f"{getattr(owner, '__name__', owner)}.{attr}"
            self._entries[name] = (owner, attr, _ident(getattr(owner, attr)))
        for module in modules:
            for attr, value in vars(module).items():
                if isinstance(value, _CODE):
                    self._entries[f"{module.__name__}.{attr}"] = (module, attr, _ident(value))
                if isinstance(value, type) and value.__module__ == module.__name__:
                    for m, fn in vars(value).items():
                        if isinstance(fn, types.FunctionType):
                            self._entries[f"{module.__name__}.{attr}.{m}"] = (value, m, _ident(fn))

    def changed(self) -> list:
        out = []
        for name, (owner, attr, ident) in self._entries.items():
            if _ident(getattr(owner, attr, None)) != ident:
                out.append(name)
        return out


def shadowed(instance) -> list:
    """The methods of `instance`'s class that an attribute of the instance itself hides (a
    method replaced on one object, where the class looks untouched)."""
    cls_attrs = {name for klass in type(instance).__mro__ for name, value in vars(klass).items()
                 if callable(value)}
    return sorted(name for name in vars(instance) if name in cls_attrs)


def os_threads() -> set:
    """The process's native threads (Python threads and any started from C)."""
    try:
        return set(os.listdir("/proc/self/task"))
    except OSError:
        return {str(t.native_id) for t in threading.enumerate()}


def poison(tensors) -> None:
    """Overwrites tensors the sandbox is done with, so memory a candidate reads without writing
    it (torch.empty, a cached pointer, a freed block) holds NaN or -1, not a valid answer."""
    for t in tensors:
        if not isinstance(t, torch.Tensor) or t.numel() == 0:
            continue
        try:
            with torch.no_grad():
                if t.is_floating_point() or t.is_complex():
                    t.fill_(float("nan"))
                elif t.dtype == torch.bool:
                    t.fill_(True)
                else:
                    t.fill_(-1)
        except RuntimeError:
            pass  # read-only or expanded views: nothing more to do


def aliases(outputs, inputs) -> list:
    """For each output, the index of an input tensor whose storage it shares, else None."""
    result = []
    for o in outputs:
        hit = None
        for j, x in enumerate(inputs):
            if isinstance(x, torch.Tensor) and o.untyped_storage().data_ptr() == \
                    x.untyped_storage().data_ptr() and o.device == x.device:
                hit = j
                break
        result.append(hit)
    return result


_GLOBAL_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
                 "_global_backward_pre_hooks")


def active_state() -> dict:
    """What a candidate's call must not leave active behind it, where it would act on the
    harness's own code: torch function and dispatch modes (lazy or faked outputs), global module
    hooks, a profile or trace function (code run between the harness's steps)."""
    import sys
    from torch.nn.modules import module as m
    return {
        "torch function modes": torch._C._len_torch_function_stack(),
        "torch dispatch modes": torch._C._len_torch_dispatch_stack(),
        "global module hooks": sum(len(getattr(m, name, {})) for name in _GLOBAL_HOOKS),
        "profile function": sys.getprofile() is not None,
        "trace function": sys.gettrace() is not None,
    }


def left_active(before: dict, after: dict) -> list:
    """The names of what `after` has active that `before` did not."""
    return [name for name, value in after.items() if value != before.get(name)]


def numeric_settings() -> dict:
    """The process's global settings that decide how coarse fp32 arithmetic is."""
    def get(read, default=None):
        try:
            return read()
        except Exception:  # an older or newer torch without the setting
            return default
    return {
        "torch.backends.cuda.matmul.allow_tf32": get(lambda: torch.backends.cuda.matmul.allow_tf32),
        "torch.backends.cudnn.allow_tf32": get(lambda: torch.backends.cudnn.allow_tf32),
        "float32 matmul precision": get(torch.get_float32_matmul_precision),
        "default dtype": str(torch.get_default_dtype()),
        "CPU autocast": get(lambda: torch.is_autocast_enabled("cpu"), False),
        "CUDA autocast": get(lambda: torch.is_autocast_enabled("cuda"), False),
    }


def _coarser(name: str, before, after) -> bool:
    if name == "float32 matmul precision":
        rank = {"highest": 0, "high": 1, "medium": 2}
        return rank.get(after, 0) > rank.get(before, 0)
    if name == "default dtype":
        return after != before
    return bool(after) and not bool(before)


def coarser_settings(before: dict, after: dict) -> list:
    """"name: before -> after" for each setting `after` makes coarser than `before` was."""
    return [f"{name}: {before.get(name)} -> {value}" for name, value in after.items()
            if _coarser(name, before.get(name), value)]
