"""Output comparison: structure, shape, dtype, NaN/Inf placement, values within tolerance."""

import math
from dataclasses import dataclass

import torch

# (atol, rtol) per dtype for each policy; see docs/worker_protocol.md.
_HALF = (torch.float16, torch.bfloat16)
TOLERANCES = {
    "seed": lambda dtype: (1e-2, 1e-2),
    "strict": lambda dtype: (1e-2, 1e-2) if dtype in _HALF else (1e-4, 1e-4),
}


# Elements compared at once: the comparison's temporaries stay a few hundred MB however large
# the output (a 6.4 GB activation's float64 copies took the judge past an 80 GB GPU).
_CHUNK = 1 << 24


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


def _bits(a: torch.Tensor, b: torch.Tensor):
    """Both tensors' bytes, flat, as the widest integers that tile both (8 bytes compare several
    times faster than one at a time)."""
    x = a.detach().reshape(-1).view(torch.uint8)
    y = b.detach().reshape(-1).view(torch.uint8)
    for wide in (torch.int64, torch.int32, torch.int16):
        size = wide.itemsize
        if x.numel() % size == 0 and all(t.storage_offset() % size == 0 for t in (x, y)):
            return x.view(wide), y.view(wide)
    return x, y


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit for bit (so NaNs in place compare equal), a chunk at a time: no full-size temporary,
    and one read back for the whole tensor."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    x, y = _bits(a, b)
    differs = [torch.ne(x[i:i + _CHUNK], y[i:i + _CHUNK]).any()
               for i in range(0, x.numel(), _CHUNK)]
    return not differs or not bool(torch.stack(differs).any())


def mean_float64(t: torch.Tensor) -> float:
    """The mean in float64, a chunk at a time (a whole float64 copy of a 6.4 GB output is not)."""
    flat = t.detach().reshape(-1)
    sums = [flat[i:i + _CHUNK].double().sum() for i in range(0, flat.numel(), _CHUNK)]
    return float(torch.stack(sums).sum()) / flat.numel()


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


def _working_dtype(dtype):
    """What a comparison computes in: float32 for float32 and narrower floats (the tolerances are
    far above its rounding), float64 for float64, integers and bool."""
    if dtype in (torch.float32, torch.float16, torch.bfloat16):
        return torch.float32
    return torch.float64


def _chunks(a: torch.Tensor, b: torch.Tensor, dtype):
    x, y = a.detach().reshape(-1), b.detach().reshape(-1)
    for start in range(0, x.numel(), _CHUNK):
        yield start, x[start:start + _CHUNK].to(dtype), y[start:start + _CHUNK].to(dtype)


def _fused(a: torch.Tensor):
    """fused_compare.fast_stats where it applies (float32 and narrower on CUDA), else None."""
    if a.device.type != "cuda" or _working_dtype(a.dtype) != torch.float32:
        return None
    try:
        from .fused_compare import fast_stats
    except ImportError:  # no Triton: the operations below compute the same
        return None
    return fast_stats


def _fast_stats(a, b, atol, rtol):
    """(largest |a-b|, largest relative error, largest excess over the tolerance), reduced on the
    device with one read back. NaN or Inf anywhere make the first non-finite: the exact pass then
    decides."""
    fused = _fused(b)
    if fused is not None:
        return fused(a, b, atol, rtol)
    parts = []
    for _, x, y in _chunks(a, b, _working_dtype(b.dtype)):
        diff = x.sub(y).abs_()
        mag = y.abs()
        excess = torch.sub(diff, mag, alpha=rtol).sub_(atol)
        rel = diff / mag.clamp_min_(1e-12)
        parts.append(torch.stack([diff.max(), rel.max(), excess.max()]).double())
    return torch.stack(parts).max(dim=0).values.tolist()


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
    if not b.is_complex():
        max_abs, max_rel, worst = _fast_stats(a, b, atol, rtol)
        if math.isfinite(max_abs) and worst <= 0:
            result.max_abs_err = max(result.max_abs_err or 0.0, max_abs)
            result.max_rel_err = max(result.max_rel_err or 0.0, max_rel)
            return None
    return _exact(i, a, b, atol, rtol, result)


def _exact(i, a, b, atol, rtol, result: Comparison):
    """The comparison in float64, chunk by chunk, where the fast pass saw NaN, Inf or an element
    outside the tolerance: NaN/Inf placement first (its first difference), then values (the worst
    element and how many are outside)."""
    max_abs = max_rel = 0.0
    special = None  # (count, first flat index, candidate, reference)
    worst = None  # (excess, flat index, candidate, reference, abs_err, rel_err)
    n_bad = 0
    for start, x, y in _chunks(a, b, torch.float64):
        nan_a, nan_b = torch.isnan(x), torch.isnan(y)
        inf_mismatch = (torch.isinf(x) | torch.isinf(y)) & (x != y) & ~nan_a & ~nan_b
        bad_special = (nan_a != nan_b) | inf_mismatch
        finite = torch.isfinite(x) & torch.isfinite(y)
        diff = torch.where(finite, (x - y).abs(), torch.zeros_like(x))
        rel = torch.where(finite, diff / y.abs().clamp_min(1e-12), torch.zeros_like(x))
        max_abs, max_rel = max(max_abs, float(diff.max())), max(max_rel, float(rel.max()))
        count = int(bad_special.sum())
        if count:
            j = int(torch.nonzero(bad_special)[0])
            special = (special[0] + count, *special[1:]) if special else \
                (count, start + j, float(x[j]), float(y[j]))
        excess = torch.where(finite, diff - (atol + rtol * y.abs()), torch.full_like(x, -1.0))
        bad = excess > 0
        n_bad += int(bad.sum())
        j = int(torch.argmax(excess))
        if float(excess[j]) > 0 and (worst is None or float(excess[j]) > worst[0]):
            worst = (float(excess[j]), start + j, float(x[j]), float(y[j]), float(diff[j]),
                     float(rel[j]))
    result.max_abs_err = max(result.max_abs_err or 0.0, max_abs)
    result.max_rel_err = max(result.max_rel_err or 0.0, max_rel)
    if special is not None:
        count, j, cand, ref = special
        idx = _index(j, a.shape)
        return _fail("nan_inf", i,
                     f"output {i}: NaN/Inf placement differs at element {idx}: "
                     f"candidate {cand}, reference {ref} ({count} of {a.numel()} elements)",
                     index=idx, candidate=cand, reference=ref)
    if worst is not None:
        _, j, cand, ref, abs_err, rel_err = worst
        idx = _index(j, a.shape)
        return _fail("value", i,
                     f"output {i} (shape {list(a.shape)}): {n_bad} of {a.numel()} elements "
                     f"({100.0 * n_bad / a.numel():.3g}%) outside atol={atol:g}, rtol={rtol:g}; "
                     f"worst at index {idx}: candidate {cand:.6g}, reference "
                     f"{ref:.6g}, abs_err {abs_err:.3g}, rel_err "
                     f"{rel_err:.3g}; max_abs_err {max_abs:.3g} over the output",
                     index=idx, candidate=cand, reference=ref, abs_err=abs_err, rel_err=rel_err)
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
