"""A submodule of a user's model written out as the source of a self-contained `class Model`:
the problem text of one part for `kswarm optimize` (docs/optimize.md).

torch.nn's own modules are written as constructor calls; any other module is traced with
torch.fx and written as its forward's graph code over the same submodule tree, so the written
Model has the original's parameter names and shapes and loads its state_dict. A module called
with keyword or constant (None, number, string) arguments is exported instead (torch.export, one
input shape): its graph of ATen operators with the constants folded in, taking its tensors
positionally (`exported_source`). Every source is checked by the caller (split.py): built, given
the original's weights, and run on the inputs the original saw, it must give the original's
outputs; what cannot be written raises PartError.
"""

import builtins
import importlib
import inspect
import keyword
import math
import operator
import re

import torch
import torch.nn as nn
import torch.utils._pytree as pytree


class PartError(Exception):
    """The module cannot be written as a self-contained Model; the message says why."""


# Buffers that are not in state_dict must be written with their values; larger ones refuse.
_MAX_LITERAL_ELEMENTS = 1 << 16


def _is_torch_nn(module: nn.Module) -> bool:
    return type(module).__module__.startswith("torch.nn.")


def _mha_ctor(m: nn.MultiheadAttention) -> str:
    """MultiheadAttention's repr is not a constructor; its settings are attributes."""
    return (f"nn.MultiheadAttention({m.embed_dim}, {m.num_heads}, dropout={m.dropout!r}, "
            f"bias={m.in_proj_bias is not None}, add_bias_kv={m.bias_k is not None}, "
            f"add_zero_attn={m.add_zero_attn}, kdim={m.kdim}, vdim={m.vdim}, "
            f"batch_first={m.batch_first})")


def ctor(module: nn.Module) -> str:
    """A Python expression that builds a module like `module` (fresh weights), or PartError."""
    if isinstance(module, nn.MultiheadAttention):
        return _mha_ctor(module)
    if type(module) is nn.Sequential:
        names = list(module._modules)
        items = [ctor(m) for m in module._modules.values()]
        if names == [str(i) for i in range(len(names))]:
            return "nn.Sequential(" + ", ".join(items) + ")"
        pairs = ", ".join(f"({n!r}, {c})" for n, c in zip(names, items))
        return f"nn.Sequential(collections.OrderedDict([{pairs}]))"
    if type(module) is nn.ModuleList:
        return "nn.ModuleList([" + ", ".join(ctor(m) for m in module) + "])"
    if type(module) is nn.Module:  # an empty holder fx makes for a dotted path
        raise PartError("internal: holder modules are written by _holders")
    if not _is_torch_nn(module) or module._modules:
        raise PartError(f"{type(module).__qualname__} is not a torch.nn module written by its "
                        "constructor")
    text = repr(module)
    if "\n" in text or not text.startswith(type(module).__name__ + "("):
        raise PartError(f"the repr of {type(module).__qualname__} is not a constructor call")
    return "nn." + text


def _literal(t: torch.Tensor) -> str:
    if t.numel() > _MAX_LITERAL_ELEMENTS:
        raise PartError(f"a buffer of {t.numel()} elements outside state_dict")
    values = t.detach().cpu().tolist()
    return f"torch.tensor({values!r}, dtype={t.dtype})"


def _tensor_attr(owner: str, name: str, t: torch.Tensor, is_param: bool,
                 persistent: bool) -> str:
    shape = tuple(t.shape)
    if is_param:
        if t.is_floating_point():
            value = f"0.02 * torch.randn({shape}, dtype={t.dtype})"
        else:
            value = _literal(t)
        return f"{owner}.{name} = nn.Parameter({value}, requires_grad={t.requires_grad})"
    if persistent and t.is_floating_point():
        value = f"torch.randn({shape}, dtype={t.dtype})"
    else:  # an index table or a value state_dict does not carry: written as it is
        value = _literal(t)
    return f"{owner}.register_buffer({name!r}, {value}, persistent={persistent})"


class _Writer:
    """Collects the __init__ lines that rebuild a traced module's tree under `self`."""

    def __init__(self):
        self.lines = []

    def module(self, owner: str, module: nn.Module):
        for name, t in module._parameters.items():
            if t is not None:
                self.lines.append(_tensor_attr(owner, name, t, True, True))
        for name, t in module._buffers.items():
            if t is not None:
                persistent = name not in module._non_persistent_buffers_set
                self.lines.append(_tensor_attr(owner, name, t, False, persistent))
        for name, child in module._modules.items():
            if child is None:
                continue
            # fx names a Sequential's members "0", "1", ...: no attribute syntax for those
            path = f"{owner}.{name}" if name.isidentifier() else f"getattr({owner}, {name!r})"
            if type(child) is nn.Module:
                self.lines.append(f"{owner}.add_module({name!r}, nn.Module())")
                self.module(path, child)
            else:
                self.lines.append(f"{owner}.add_module({name!r}, {ctor(child)})")


def _import_line(name: str, value) -> str:
    """`from M import Q as name` for an importable global of traced code, else PartError."""
    if value is math.inf or value is math.nan:
        return f"{name} = math.{'inf' if value is math.inf else 'nan'}"
    if getattr(builtins, name, None) is value or (name == "torch" and value is torch):
        return ""
    if value is type(None):
        return f"{name} = type(None)"
    mod, qual = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if isinstance(value, type(math)):
        return f"import {value.__name__} as {name}"
    if mod and qual and "." not in qual and "<" not in qual:
        try:
            if getattr(importlib.import_module(mod), qual) is value:
                return f"from {mod} import {qual} as {name}"
        except (ImportError, AttributeError):
            pass
    raise PartError(f"its traced code calls {name!r} ({value!r}), which cannot be imported")


HEADER = "import collections\nimport math\nimport operator\n\nimport torch\nimport torch.nn as nn\n"


def _indent(text: str, by: str) -> str:
    return "\n".join(by + line if line.strip() else "" for line in text.splitlines())


def _cast_line(module: nn.Module) -> str:
    """The __init__ line that gives a fresh Model the original's floating type, if not fp32."""
    dtypes = {t.dtype for t in list(module.parameters()) + list(module.buffers())
              if t.is_floating_point()}
    if len(dtypes) > 1:
        raise PartError(f"parameters of several floating types {sorted(map(str, dtypes))}")
    return f"        self.to({next(iter(dtypes))})\n" if dtypes and torch.float32 not in dtypes \
        else ""


def _class_text(init_lines: list, cast: str, code) -> str:
    """`class Model` from its __init__ lines and the python_code of its forward's graph."""
    used = {name for name, value in code.globals.items()
            if re.search(rf"\b{re.escape(name)}\b", code.src)}
    imports = "\n".join(sorted({line for name, value in code.globals.items()
                                if name in used and (line := _import_line(name, value))}))
    init = "".join(f"        {line}\n" for line in init_lines)
    forward = _indent(code.src.strip("\n"), "    ") + "\n"
    return (HEADER + (imports + "\n" if imports else "") +
            "\n\nclass Model(nn.Module):\n    def __init__(self):\n        super().__init__()\n" +
            init + cast + "        self.eval()\n\n" + forward)


def model_source(module: nn.Module) -> str:
    """The text of `class Model(nn.Module)` (with its imports) that computes what `module` does,
    with the same state_dict names and shapes; PartError when it cannot be written."""
    cast = _cast_line(module)
    if _is_torch_nn(module) and not isinstance(module, (nn.Sequential, nn.ModuleList)):
        # Model is the torch.nn class itself, built with the original's settings: the same
        # parameter names and its own initialisation (a batch norm's variances stay positive)
        call = ctor(module)
        base, args = call.split("(", 1)
        return (HEADER + f"\n\nclass Model({base}):\n    def __init__(self):\n"
                f"        super().__init__({args}\n" + cast + "        self.eval()\n")
    try:
        traced = torch.fx.symbolic_trace(module)
    except Exception as e:
        raise PartError(f"torch.fx cannot trace it: {type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}")
    writer = _Writer()
    writer.module("self", traced)
    return _class_text(writer.lines, cast, traced.graph.python_code(root_module="self"))


def tensors_of(args, kwargs, keys) -> list:
    """The tensors of the call (args, kwargs) at `keys` (positions as ints, keyword names as
    strings); call_with puts them back."""
    return [args[k] if isinstance(k, int) else kwargs[k] for k in keys]


def call_with(args, kwargs, keys, tensors):
    """(args, kwargs) of a recorded call with the tensors at `keys` (positions as ints, keyword
    names as strings) replaced by `tensors`."""
    args, kwargs = list(args), dict(kwargs)
    for key, t in zip(keys, tensors):
        if isinstance(key, int):
            args[key] = t
        else:
            kwargs[key] = t
    return args, kwargs


class _Positional(nn.Module):
    """`inner` called as recorded, its tensors taken positionally: what gets exported."""

    def __init__(self, inner: nn.Module, args, kwargs, keys):
        super().__init__()
        self.inner = inner
        self._call = (args, kwargs, keys)

    def forward(self, *tensors):
        args, kwargs = call_with(*self._call, tensors)
        return self.inner(*args, **kwargs)


_INNER = "inner."


def _input_names(module: nn.Module, keys) -> list:
    """Parameter names for the exported forward: the keyword's, or the position's in module's
    forward; `argN` where there is none."""
    try:
        positional = [p.name for p in inspect.signature(module.forward).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        positional = []
    names = []
    for k in keys:
        name = k if isinstance(k, str) else positional[k] if k < len(positional) else f"arg{k}"
        if not name.isidentifier() or keyword.iskeyword(name) or name == "self" or name in names:
            name = f"arg{len(names)}"
        names.append(name)
    return names


def exported_source(module: nn.Module, args, kwargs, keys) -> str:
    """The text of `class Model` whose forward takes the tensors of the call (args, kwargs) at
    `keys`, in that order, and computes what module(*args, **kwargs) does at their shapes, with
    its other arguments as they were in that call; PartError when it cannot be written."""
    cast = _cast_line(module)
    tensors = tensors_of(args, kwargs, keys)
    try:
        gm = torch.export.export(_Positional(module, args, kwargs, keys), tuple(tensors),
                                 strict=False).module()
    except Exception as e:
        raise PartError(f"torch.export cannot export it: {type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}")
    graph = gm.graph
    graph._codegen = torch.fx.graph.CodeGen()  # plain positional arguments, no pytree
    for node, name in zip([n for n in graph.nodes if n.op == "placeholder"],
                          _input_names(module, keys)):
        node._rename(name)  # the module's own names, for whoever reads the problem
        node.target = node.name
    writer = _Writer()
    writer.module("self", gm.get_submodule("inner"))
    for node in list(graph.nodes):
        if node.op == "call_module" and node.target == "_guards_fn":
            graph.erase_node(node)  # export's checks of the shapes it was specialised to
        elif node.op in ("get_attr", "call_module") and node.target.startswith(_INNER):
            node.target = node.target[len(_INNER):]
        elif node.op == "get_attr":  # a constant export lifted out of the code
            value = getattr(gm, node.target)
            if not isinstance(value, torch.Tensor):
                raise PartError(f"its exported graph holds a {type(value).__name__} constant")
            writer.lines.append(f"self.register_buffer({node.target!r}, {_literal(value)}, "
                                "persistent=False)")
        elif node.op == "call_module":
            raise PartError(f"its exported graph calls the module {node.target}")
        elif node.op == "output":
            node.args = (pytree.tree_unflatten(list(node.args[0]), gm._out_spec),)
    return _class_text(writer.lines, cast, graph.python_code(root_module="self"))


_ = operator  # traced code may name operator.*; HEADER imports it for that
