"""The speed-of-light check: the least time a problem's work can take on this device.

Any correct candidate must read its inputs (the timer flushed them out of the cache), write its
outputs (those larger than the cache reach memory) and, unless it finds an algebraic shortcut, do
the reference's floating-point operations. With the device's peaks measured here (a large copy
and large matmuls in fp32 and bf16, the best of several), a timed call cannot take less than

    bound = max(bytes / bandwidth, flops / flop_rate) / SLACK

SLACK covers what the measurement misses (a peak above what torch's own kernels reach, lower
precisions). A candidate faster than the bound is flagged; when eager itself is faster than the
bound, the problem does not fit the model (it reads only part of an input, say) and is not checked.
"""

import os
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from .hello import cpu_llc_bytes

SLACK = 4.0
_peaks = {}  # device string -> measured peaks, once per process


def _tensor_bytes(values) -> int:
    return sum(v.numel() * v.element_size() for v in values if isinstance(v, torch.Tensor))


def count_work(reference, inputs, flatten):
    """Runs the reference once on `inputs`, counting its FLOPs; returns (outputs, work) where
    outputs = flatten(reference(*inputs)) and work = {input_bytes, output_bytes, flops}."""
    flops = None
    try:
        with FlopCounterMode(display=False) as counter:
            out = reference(*inputs)
        flops = int(counter.get_total_flops())
    except Exception:  # an op the counter cannot follow: count bytes only
        out = reference(*inputs)
    outs = flatten(out)
    return outs, {"input_bytes": _tensor_bytes(inputs), "output_bytes": _tensor_bytes(outs),
                  "flops": flops or 0}


def _best_seconds(fn, device_type: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        if device_type == "cuda":
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            fn()
            end.record()
            end.synchronize()
            best = min(best, start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    return best


def _cpu_copy_bytes(cache: int) -> int:
    """The CPU copy's size: twice the last-level cache (the copy moves four times the cache), at
    least 64 MiB, at most 1 GiB and an eighth of the memory free now (not under 16 MiB). A VM
    often reports its host's whole shared L3 (480 MiB on a 2-core VM here): eight times it, as on
    CUDA, took 3.8 GiB twice over and 12 s of a worker's first job, for the same bandwidth (27.4
    GB/s against 26.8 GB/s with 960 MiB)."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        free = 8 << 30
    return max(16 << 20, min(max(2 * cache, 64 << 20), 1 << 30, free // 8))


def measure_peaks(device_type: str, device: str) -> dict:
    """Memory bandwidth (bytes/s, a copy larger than the cache), the best matmul rate (FLOP/s,
    fp32 and bf16) and the cache size (bytes) of the device; measured once per process."""
    if device in _peaks:
        return _peaks[device]
    if device_type == "cuda":
        cache = torch.cuda.get_device_properties(torch.device(device)).L2_cache_size
        copy_bytes, n, repeats = max(8 * cache, 256 << 20), 8192, 5
    else:
        cache = cpu_llc_bytes()
        copy_bytes, n, repeats = _cpu_copy_bytes(cache), 1024, 3
    src = torch.empty(copy_bytes, dtype=torch.uint8, device=device).fill_(1)
    dst = torch.empty_like(src)
    dst.copy_(src)
    bandwidth = 2 * copy_bytes / _best_seconds(lambda: dst.copy_(src), device_type, repeats)
    del src, dst
    flop_rate = 0.0
    tf32 = torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = True  # the fastest fp32 path a candidate may take
        for dtype in (torch.float32, torch.bfloat16):
            a = torch.full((n, n), 0.5, dtype=dtype, device=device)
            b = torch.full((n, n), 0.25, dtype=dtype, device=device)
            a @ b
            seconds = _best_seconds(lambda: a @ b, device_type, repeats)
            flop_rate = max(flop_rate, 2 * n ** 3 / seconds)
            del a, b
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    _peaks[device] = {"bytes_per_s": bandwidth, "flops_per_s": flop_rate, "cache_bytes": cache}
    return _peaks[device]


def bound_ms(work: dict, peaks: dict) -> float:
    """The least milliseconds one call of the problem can take, SLACK included."""
    moved = work["input_bytes"] + max(0, work["output_bytes"] - peaks["cache_bytes"])
    seconds = max(moved / peaks["bytes_per_s"], work["flops"] / peaks["flops_per_s"])
    return seconds / SLACK * 1e3


def check(work: dict, peaks: dict, candidate_ms: float, eager_ms: float):
    """A flag text when the candidate's time (its fastest call) is below the bound, else None
    (also None when eager's is: the bound does not apply to this problem)."""
    bound = bound_ms(work, peaks)
    if candidate_ms >= bound or eager_ms < bound:
        return None
    return (f"faster than the device allows: {candidate_ms:.4g} ms per call, while reading "
            f"{work['input_bytes']:.3g} bytes of inputs and doing {work['flops']:.3g} FLOPs "
            f"takes at least {bound:.4g} ms ({SLACK:g}x the measured "
            f"{peaks['bytes_per_s'] / 1e9:.4g} GB/s and {peaks['flops_per_s'] / 1e12:.4g} "
            f"TFLOP/s)")
