"""Timing: fresh inputs and a flushed cache before each call. The judge times eager and the
sandbox times the candidate with the same code, in alternating blocks (evaluate.py)."""

import contextlib
import os
import statistics
import time

import torch

# The CPU flush writes 64 MiB: twice a common 32 MiB L3. It is not sized to the cache: on servers
# with a huge shared L3 (300 MiB on one 2-core VM here) a full flush would cost ~0.1 s before
# every call, longer than most problems; what stays cached there does so for eager and candidate
# alike.
_CPU_FLUSH_BYTES = 64 << 20
# The CPU flush buffer, kept for the process: the first write to a fresh 64 MiB buffer faults in
# every page (180 ms on a 2-core VM here, against 2-4 ms for a flush), and the sandbox times the
# candidate in 20 blocks of calls per evaluation, each with a Timer of its own.
_cpu_flush_buf = None
_LAUNCH_SPIN_CYCLES = 200_000  # GPU busy-wait queued ahead of each timed call: ~100 us at 2 GHz


_placed = None  # the cores this process was last placed on (place_process)


def place_process(cpus) -> None:
    """Moves every thread of this process to `cpus` (the supervisor's "others": the cores not
    kept for timing), so what it starts later (a sandbox, torch.compile's compile processes) runs
    there too. Nothing happens for None, the same cores again, or cores the kernel refuses."""
    global _placed
    if not cpus or set(cpus) == _placed:
        return
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), set(cpus))
            except ProcessLookupError:
                pass  # the thread ended meanwhile
        _placed = set(cpus)
    except (OSError, ValueError, TypeError):
        pass


@contextlib.contextmanager
def pinned(cpu):
    """Runs the block with the calling thread on core `cpu` alone (the worker's timing core); as
    it was afterwards. A no-op for None or a core the kernel refuses."""
    before = None
    if cpu is not None:
        try:
            before = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {int(cpu)})
        except (OSError, ValueError, TypeError):
            before = None
    try:
        yield
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


class Timer:
    """Times callables on one device. On CUDA: events around the call with a device-wide
    synchronize before the end event; on CPU: a monotonic clock."""

    def __init__(self, device_type: str, device: str):
        self.device_type = device_type
        if device_type == "cuda":
            l2 = torch.cuda.get_device_properties(torch.device(device)).L2_cache_size
            self.flush_buf = torch.empty(max(2 * l2, 1 << 20), dtype=torch.uint8, device=device)
        else:
            global _cpu_flush_buf
            if _cpu_flush_buf is None:
                _cpu_flush_buf = torch.zeros(_CPU_FLUSH_BYTES // 4, dtype=torch.int32)
            self.flush_buf = _cpu_flush_buf

    def release(self):
        self.flush_buf = None

    def _flush(self):
        if self.device_type == "cuda":
            self.flush_buf.zero_()
        else:
            self.flush_buf.add_(1)  # reads and writes every line

    def time_once(self, fn, go=None, done=None) -> float:
        """Milliseconds for one call of fn, caches flushed first. go() runs just before the timed
        region and done(ms) just after it: the judge's own clock runs between them."""
        if self.device_type == "cuda":
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            self._flush()
            # Keep the GPU busy while the host enqueues fn, so the start event does not count the
            # host's launch latency (which differs from process to process) as GPU time.
            torch.cuda._sleep(_LAUNCH_SPIN_CYCLES)
            if go is not None:
                go()
            start.record()
            fn()
            torch.cuda.synchronize()  # joins work on every stream before the end event
            end.record()
            end.synchronize()
            ms = start.elapsed_time(end)
        else:
            self._flush()
            if go is not None:
                go()
            t0 = time.perf_counter_ns()
            fn()
            ms = (time.perf_counter_ns() - t0) / 1e6
        if done is not None:
            done(ms)
        return ms



def time_calls(timer: Timer, fn, draw, seeds, after=None, go=None, done=None) -> list:
    """Milliseconds of fn(*inputs) for each seed, inputs = draw(seed) drawn outside the timed
    region, so no two calls see the same values; `seeds` may be produced one at a time. after(i,
    output, inputs, ms) runs after call i; go(i) and done(i, ms) around its timed region."""
    samples = []
    for i, seed in enumerate(seeds):
        inputs = draw(seed)
        result = []
        samples.append(timer.time_once(lambda: result.append(fn(*inputs)),
                                       None if go is None else lambda: go(i),
                                       None if done is None else lambda ms: done(i, ms)))
        if after is not None:
            after(i, result[0], inputs, samples[-1])
        del inputs, result
    return samples


# The judge's clock bounds a timed call from outside the candidate's process: it runs from the
# judge's go to the sandbox's done, so it holds the call and a round trip. A round trip is well
# under a millisecond on an idle host and a few on a loaded one, where the scheduler can delay
# either side; a call counts for at least the judge's time less this much.
_ROUND_TRIP_ALLOWANCE_MS = 5.0


def judged_ms(inside_ms: list, outside_ms: list) -> list:
    """Each call's milliseconds: the candidate's own measurement, but never less than the judge's
    clock allows. A clock slowed or a time understated by the candidate gains it at most the
    allowance per call, and a loaded host's slow round trips cost an honest one nothing but
    (on calls delayed past the allowance) a little of its time, never a verdict."""
    return [max(i, o - _ROUND_TRIP_ALLOWANCE_MS) if i == i else o
            for i, o in zip(inside_ms, outside_ms)]


def summarize(samples_ms) -> dict:
    s = sorted(samples_ms)
    if len(s) >= 2:
        q = statistics.quantiles(s, n=4, method="inclusive")
        iqr = q[2] - q[0]
    else:
        iqr = 0.0
    return {"median_ms": statistics.median(s), "iqr_ms": iqr, "count": len(s), "min_ms": s[0]}
