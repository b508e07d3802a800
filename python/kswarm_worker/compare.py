"""Output comparison: structure, shape, dtype, NaN/Inf placement, values within tolerance."""

from dataclasses import dataclass

import torch

# (atol, rtol) per dtype for each policy; see docs/worker_protocol.md.
_HALF = (torch.float16, torch.bfloat16)
TOLERANCES = {
    "seed": lambda dtype: (1e-2, 1e-2),
    "strict": lambda dtype: (1e-2, 1e-2) if dtype in _HALF else (1e-4, 1e-4),
}


@dataclass
class Comparison:
    max_abs_err: float = None
    max_rel_err: float = None
    failure: dict = None
    message: str = ""


def flatten_outputs(out):
    """A tensor or a (nested) tuple/list of tensors, as a flat list; TypeError for anything else."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        flat = []
        for item in out:
            flat.extend(flatten_outputs(item))
        return flat
    raise TypeError(f"a {type(out).__name__}, not a tensor or a tuple of tensors")


def layout_differs(shape, strides, reference: torch.Tensor) -> bool:
    """Whether an output of `shape` laid out with `strides` differs from the reference's layout:
    code that views the reference's output (out.view(-1)) must work on the candidate's too.
    Dimensions of size 0 or 1 have no meaningful stride."""
    if list(shape) != list(reference.shape) or len(strides) != reference.dim():
        return False  # the value comparison reports the shape
    if reference.numel() == 0:
        return False
    return any(size > 1 and a != b
               for size, a, b in zip(reference.shape, strides, reference.stride()))


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        return bool(torch.equal(torch.isnan(a), torch.isnan(b))) and bool(
            torch.equal(torch.nan_to_num(a), torch.nan_to_num(b)))
    return bool(torch.equal(a, b))


def inputs_unchanged(inputs, pristine) -> bool:
    return all(_same(a, b) for a, b in zip(inputs, pristine) if isinstance(a, torch.Tensor))


def _index(flat_index: int, shape) -> list:
    idx = []
    for dim in reversed(shape):
        idx.append(flat_index % dim)
        flat_index //= dim
    return list(reversed(idx))


def _fail(kind, output, message, **fields):
    failure = {"kind": kind, "output": output, "index": None, "candidate": None,
               "reference": None, "abs_err": None, "rel_err": None}
    failure.update(fields)
    return Comparison(failure=failure, message=message)


def _compare_one(i, a: torch.Tensor, b: torch.Tensor, tolerance, result: Comparison):
    if a.device.type != b.device.type:
        return _fail("device", i, f"output {i} is on {a.device.type}, the reference's on "
                                  f"{b.device.type}")
    if tuple(a.shape) != tuple(b.shape):
        return _fail("shape", i, f"output {i} has shape {list(a.shape)}, expected {list(b.shape)}")
    if a.dtype != b.dtype:
        return _fail("dtype", i, f"output {i} has dtype {a.dtype}, expected {b.dtype}")
    if a.numel() == 0:
        return None
    atol, rtol = tolerance(b.dtype)
    x = a.detach().reshape(-1).to(torch.float64)
    y = b.detach().reshape(-1).to(torch.float64)
    nan_a, nan_b = torch.isnan(x), torch.isnan(y)
    inf_mismatch = (torch.isinf(x) | torch.isinf(y)) & (x != y) & ~nan_a & ~nan_b
    nan_mismatch = nan_a != nan_b
    bad_special = nan_mismatch | inf_mismatch
    finite = torch.isfinite(x) & torch.isfinite(y)
    diff = torch.where(finite, (x - y).abs(), torch.zeros_like(x))
    rel = diff / y.abs().clamp_min(1e-12)
    result.max_abs_err = max(result.max_abs_err or 0.0, float(diff.max()))
    result.max_rel_err = max(result.max_rel_err or 0.0, float(rel.max()))
    if bool(bad_special.any()):
        j = int(torch.nonzero(bad_special)[0])
        return _fail("nan_inf", i,
                     f"output {i}: NaN/Inf placement differs at element {_index(j, a.shape)}: "
                     f"candidate {float(x[j])}, reference {float(y[j])} "
                     f"({int(bad_special.sum())} of {x.numel()} elements)",
                     index=_index(j, a.shape), candidate=float(x[j]), reference=float(y[j]))
    excess = torch.where(finite, diff - (atol + rtol * y.abs()), torch.full_like(x, -1.0))
    bad = excess > 0
    if bool(bad.any()):
        j = int(torch.argmax(excess))
        n_bad = int(bad.sum())
        idx = _index(j, a.shape)
        return _fail("value", i,
                     f"output {i} (shape {list(a.shape)}): {n_bad} of {x.numel()} elements "
                     f"({100.0 * n_bad / x.numel():.3g}%) outside atol={atol:g}, rtol={rtol:g}; "
                     f"worst at index {idx}: candidate {float(x[j]):.6g}, reference "
                     f"{float(y[j]):.6g}, abs_err {float(diff[j]):.3g}, rel_err "
                     f"{float(rel[j]):.3g}; max_abs_err {float(diff.max()):.3g} over the output",
                     index=idx, candidate=float(x[j]), reference=float(y[j]),
                     abs_err=float(diff[j]), rel_err=float(rel[j]))
    return None


def compare_outputs(cand, ref, policy) -> Comparison:
    """Compares flat output lists; the first failing output decides the failure."""
    result = Comparison()
    if len(cand) != len(ref):
        return _fail("structure", None, f"returned {len(cand)} tensors, expected {len(ref)}")
    for i, (a, b) in enumerate(zip(cand, ref)):
        failed = _compare_one(i, a, b, policy, result)
        if failed is not None:
            failed.max_abs_err = result.max_abs_err
            failed.max_rel_err = result.max_rel_err
            return failed
    return result
