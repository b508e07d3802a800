"""The comparison's fast pass on CUDA as one Triton kernel: each output read once, where the same
pass in PyTorch operations (compare._fast_stats) writes and reads four temporaries of its size.
It computes what that pass computes, in float32; compare.py decides which one runs."""

import torch
import triton
import triton.language as tl

_BLOCK = 4096  # elements per program; each writes one row of partial results


@triton.jit
def _stats(x_ptr, y_ptr, part_ptr, n, rtol, BLOCK: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    inside = offs < n
    x = tl.load(x_ptr + offs, mask=inside, other=0.0).to(tl.float32)
    y = tl.load(y_ptr + offs, mask=inside, other=0.0).to(tl.float32)
    inf = float("inf")
    finite = (x == x) & (y == y) & (tl.abs(x) < inf) & (tl.abs(y) < inf)
    mag = tl.abs(y)
    diff = tl.where(finite, tl.abs(x - y), 0.0)
    rel = diff / tl.maximum(mag, 1e-12)
    excess = tl.where(finite & inside, diff - rtol * mag, -inf)
    special = tl.sum((inside & ~finite).to(tl.float32), axis=0)
    row = part_ptr + pid * 4
    tl.store(row, tl.max(diff, axis=0))
    tl.store(row + 1, tl.max(rel, axis=0))
    tl.store(row + 2, tl.max(excess, axis=0))
    tl.store(row + 3, special)


def fast_stats(a: torch.Tensor, b: torch.Tensor, atol: float, rtol: float) -> list:
    """As compare._fast_stats: [largest |a-b|, largest relative error, largest excess over the
    tolerance], the first NaN when either side holds NaN or Inf; one read back."""
    x, y = a.detach().reshape(-1), b.detach().reshape(-1)
    n = x.numel()
    if n == 0:
        return [0.0, 0.0, -atol]
    programs = triton.cdiv(n, _BLOCK)
    parts = torch.empty((programs, 4), dtype=torch.float32, device=x.device)
    _stats[(programs,)](x, y, parts, n, float(rtol), BLOCK=_BLOCK)
    diff, rel, excess, special = parts.max(dim=0).values.double().tolist()
    if special:
        return [float("nan"), rel, excess - atol]
    return [diff, rel, excess - atol]
