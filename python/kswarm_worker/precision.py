"""Precision honesty, on the judge's side: whether a candidate's numbers are coarser than fp32,
judged by the error of its outputs against the reference run in float64 (docs/verification.md).
A finding is a flag that starts with "reduced precision": a label, and under `--precision fp32`
a candidate with it is never kept."""

import copy

import torch

from .compare import flatten_outputs

FLAG = "reduced precision"
# Median relative error of an output's elements against float64 above which its arithmetic was
# coarser than fp32: between an fp32 approximation such as tanh-GELU (about 1.2e-4) and TF32
# rounding of a product's inputs (2.5e-4 and up); bf16 sits near 3e-3, fp32 itself near 1e-7.
MEDIAN_RELATIVE_ERROR = 1.7e-4
# ... and this many times the fp32 reference's own error, so a reference whose library already
# rounds (cuDNN's TF32 convolutions, PyTorch's default) does not make its copies suspect.
OVER_REFERENCE = 64
_MIN_ELEMENTS = 16  # fewer elements tell nothing
# Larger outputs are judged on this many elements drawn at random (the same for both outputs):
# a median from 4M elements is as good as from all, and a 6.4 GB output's float64 copy is not.
_SAMPLE = 1 << 22


def median_relative_error(out: torch.Tensor, exact: torch.Tensor) -> float:
    """Median of |out - exact| / |exact| over the elements not near zero (above 1e-3 of the
    largest): their relative error shows the arithmetic's precision, whatever the scale."""
    exact, out = exact.reshape(-1), out.detach().reshape(-1)
    if exact.numel() > _SAMPLE:
        gen = torch.Generator(device=exact.device)
        gen.manual_seed(0)
        pick = torch.randint(exact.numel(), (_SAMPLE,), generator=gen, device=exact.device)
        exact, out = exact[pick], out[pick.to(out.device)]
    out = out.to(exact.device, torch.float64)
    finite = torch.isfinite(exact) & torch.isfinite(out)
    if int(finite.sum()) < _MIN_ELEMENTS:
        return 0.0
    scale = exact[finite].abs().max()
    keep = finite & (exact.abs() > 1e-3 * scale)
    if int(keep.sum()) < _MIN_ELEMENTS:
        return 0.0
    rel = (out[keep] - exact[keep]).abs() / exact[keep].abs()
    return float(rel.median())


def finding(candidate_err: float, reference_err: float) -> bool:
    """Whether errors against float64 say the candidate computes more coarsely than fp32."""
    return candidate_err > MEDIAN_RELATIVE_ERROR and candidate_err > OVER_REFERENCE * reference_err


def check(reference: torch.nn.Module, inputs: list, reference_outputs: list,
          candidate_outputs: list):
    """The flag for a candidate whose outputs on `inputs` are coarser than fp32, else None. Only
    for fp32 problems; None too when the reference cannot run in float64 (a kernel without a
    float64 version, or no memory for the copy)."""
    if not reference_outputs or any(r.dtype != torch.float32 for r in reference_outputs):
        return None
    try:
        exact_model = copy.deepcopy(reference).to(torch.float64)
        exact_inputs = [x.to(torch.float64) if isinstance(x, torch.Tensor) and
                        x.is_floating_point() else x for x in inputs]
        with torch.no_grad():
            exact = flatten_outputs(exact_model(*exact_inputs))
    except (RuntimeError, TypeError, NotImplementedError):
        return None
    finally:
        exact_model = None
    worst = None
    for i, (c, r, e) in enumerate(zip(candidate_outputs, reference_outputs, exact)):
        if not e.is_floating_point() or c.shape != e.shape:
            continue
        e = e.to(torch.float64)
        cand_err, ref_err = median_relative_error(c, e), median_relative_error(r, e)
        if finding(cand_err, ref_err) and (worst is None or cand_err > worst[1]):
            worst = (i, cand_err, ref_err)
    if worst is None:
        return None
    i, cand_err, ref_err = worst
    return (f"{FLAG}: output {i}'s median relative error against a float64 reference is "
            f"{cand_err:.2g} (the fp32 reference's {ref_err:.2g}): its arithmetic is coarser "
            "than fp32 (TF32, bf16 or fp16)")
