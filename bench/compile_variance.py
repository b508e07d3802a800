"""Why the same torch.compile candidate is fast in one process and slow in the next: each problem's
model, compiled as the torch_compile agent compiles it, in N processes one after another (caches of
their own: the first compiles from nothing, the others load from what it left), each timed the
worker's way (kswarm_worker.timing: fresh inputs, L2 flushed, the spin ahead of the start event),
then profiled (torch.profiler, CUDA kernels) over a few calls.

Usage: python3 bench/compile_variance.py [--processes N] [--calls N] [--spin-cycles N]
                                         [--variants frozen,recompiled] [PROBLEM...]
  --spin-cycles  the spin queued ahead of each timed call (default: the worker's, ~100 us;
                 2000000 is ~1 ms)
  --variants     after the first timing, time again in the same process: "frozen" after
                 gc.collect() and gc.freeze(), "recompiled" after torch.compiler.reset() and a
                 compile from the caches the process filled
Prints, per process and problem: the timed calls' min and median (ms), the host's enqueue time of a
call (us, median), the GPU kernels of one call (count and summed duration, us, median over the
profiled calls), the timed minimum less that kernel time, and a fingerprint of the kernels' names
and of the Triton kernels' chosen configurations. Then, per problem, the kernels of its fastest and
slowest process side by side. A line under each row names how the Triton kernels are launched
(their compile results' kinds) and the variants' minimum and enqueue time."""

import argparse
import gc
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_timing import autotuners, problem_paths  # noqa: E402 (this folder's, on the path above)

DEFAULT = ["level1/05_conv_transpose2d.py", "level1/09_sum_reduction.py", "level1/10_layernorm.py",
           "level2/10_conv2d_instancenorm_leakyrelu.py"]
PROFILED_CALLS = 10


def _configs() -> list:
    """The chosen configuration of every Triton kernel torch.compile launched in this process."""
    out = []
    for obj in autotuners():
        name = getattr(getattr(obj, "fn", None), "__name__", "?")
        cfgs = [str(getattr(launcher, "config", "?")) for launcher in obj.launchers]
        out.append(f"{name}: {' | '.join(cfgs)}")
    return sorted(out)


def _fingerprint(items) -> str:
    return hashlib.sha256("\n".join(items).encode()).hexdigest()[:8]


def _timed(timer, compiled, model, draw, calls):
    """The timed calls' milliseconds and the host's enqueue time of each (us)."""
    ms, enqueue = [], []
    for i in range(calls):
        x = draw(1000 + i)
        box = []

        def call():
            t = time.perf_counter_ns()
            compiled(model, *x)
            box.append((time.perf_counter_ns() - t) / 1e3)
        ms.append(timer.time_once(call))
        enqueue.append(box[0])
    return ms, enqueue


def _compile_and_warm(model, draw):
    """model's forward compiled as the torch_compile agent compiles it, called once (the compile:
    its seconds are returned too) and then 10 times more."""
    import torch
    compiled = torch.compile(type(model).forward)
    t0 = time.perf_counter()
    compiled(model, *draw(0))
    torch.cuda.synchronize()
    first_s = time.perf_counter() - t0
    for i in range(10):
        compiled(model, *draw(i))
    return compiled, first_s


def _launchers() -> str:
    """How torch.compile's live Triton kernels are launched: compile result kinds, counted."""
    kinds = {}
    for obj in autotuners():
        for r in getattr(obj, "compile_results", None) or [None]:
            k = type(r).__name__ if r is not None else "none kept"
            kinds[k] = kinds.get(k, 0) + 1
    return ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))


def child(paths, calls, core, spin_cycles, variants) -> None:
    import torch
    from kswarm_worker import timing
    from kswarm_worker import inputs as inputs_mod
    from kswarm_worker.errors import describe_exception
    from host_timing import load_model
    os.sched_setaffinity(0, {core})
    if spin_cycles is not None:
        timing._LAUNCH_SPIN_CYCLES = spin_cycles
    timer = timing.Timer("cuda", "cuda:0")
    for path in paths:
        torch.compiler.reset()
        before = set(_configs())
        problem, model = load_model(path, "cuda:0")
        draw = lambda seed: inputs_mod.draw_inputs(problem, seed, "cuda:0", path,
                                                   describe_exception)
        row = {"problem": os.path.basename(path)[:-3]}
        with torch.no_grad():
            compiled, row["first call s"] = _compile_and_warm(model, draw)
            ms, enqueue = _timed(timer, compiled, model, draw, calls)
            for variant in variants:
                if variant == "frozen":  # the heap left by the compile out of the collector's way
                    gc.collect()
                    gc.freeze()
                else:  # "recompiled": compiled again in this process, from the caches now filled
                    torch.compiler.reset()
                    compiled, _ = _compile_and_warm(model, draw)
                v_ms, v_enqueue = _timed(timer, compiled, model, draw, calls)
                row[f"{variant} min ms"] = min(v_ms)
                row[f"{variant} enqueue us"] = statistics.median(v_enqueue)
            inputs = [draw(2000 + i) for i in range(PROFILED_CALLS)]
            torch.cuda.synchronize()
            with torch.profiler.profile(
                    activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                for x in inputs:
                    compiled(model, *x)
                    torch.cuda.synchronize()
        kernels = {}
        for e in prof.events():
            if e.device_type == torch.autograd.DeviceType.CUDA:
                kernels.setdefault(e.name, []).append(e.time_range.elapsed_us())
        per_call = {k: sum(v) / PROFILED_CALLS for k, v in kernels.items()}
        configs = sorted(set(_configs()) - before)
        row.update({"min ms": min(ms), "median ms": statistics.median(ms),
                    "enqueue us": statistics.median(enqueue),
                    "kernels per call": sum(len(v) for v in kernels.values()) / PROFILED_CALLS,
                    "kernel us per call": sum(per_call.values()),
                    "kernels": {k: round(v, 2) for k, v in sorted(per_call.items())},
                    "names": _fingerprint(sorted(kernels)), "configs": configs,
                    "config fp": _fingerprint(configs), "launchers": _launchers()})
        print("ROW " + json.dumps(row), flush=True)
        del compiled, model


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=6)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--spin-cycles", type=int)
    parser.add_argument("--variants", default="",
                        help="comma-separated: frozen, recompiled (each timed again after the "
                             "first timing, in the same process)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("problems", nargs="*")
    args = parser.parse_args()
    paths = problem_paths(args.problems, DEFAULT)
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - {"frozen", "recompiled"}
    if unknown:
        parser.error(f"unknown --variants {sorted(unknown)}")
    core = os.cpu_count() - 1
    if args.child:
        child(paths, args.calls, core, args.spin_cycles, variants)
        return 0
    env = dict(os.environ)
    env.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")  # as the worker compiles
    rows = []
    with tempfile.TemporaryDirectory() as caches:
        env.update(TORCHINDUCTOR_CACHE_DIR=os.path.join(caches, "inductor"),
                   TRITON_CACHE_DIR=os.path.join(caches, "triton"))
        print("| process | problem | first call s | min ms | median ms | enqueue us | kernels "
              "per call | kernel us per call | min - kernels us | names | configs |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for n in range(args.processes):
            spin = [] if args.spin_cycles is None else ["--spin-cycles", str(args.spin_cycles)]
            proc = subprocess.run([sys.executable, __file__, "--child", "--calls",
                                   str(args.calls), "--variants", args.variants] + spin + paths,
                                  env=env,
                                  capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr[-3000:])
                return 1
            for line in proc.stdout.splitlines():
                if not line.startswith("ROW "):
                    continue
                r = json.loads(line[4:])
                r["process"] = n + 1
                rows.append(r)
                print(f"| {n + 1} | {r['problem']} | {r['first call s']:.1f} | "
                      f"{r['min ms']:.4f} | {r['median ms']:.4f} | {r['enqueue us']:.0f} | "
                      f"{r['kernels per call']:.1f} | {r['kernel us per call']:.1f} | "
                      f"{1e3 * r['min ms'] - r['kernel us per call']:.1f} | {r['names']} | "
                      f"{r['config fp']} |", flush=True)
                extra = {k: round(v, 4) for k, v in r.items()
                         if k.startswith(("frozen", "recompiled"))}
                print(f"|   | launchers: {r['launchers']}; {extra} |", flush=True)
    for problem in dict.fromkeys(r["problem"] for r in rows):
        mine = sorted((r for r in rows if r["problem"] == problem), key=lambda r: r["min ms"])
        fast, slow = mine[0], mine[-1]
        print(f"\n{problem}: fastest process {fast['process']} ({fast['min ms']:.4f} ms), "
              f"slowest {slow['process']} ({slow['min ms']:.4f} ms); kernel us per call:")
        for k in sorted(set(fast["kernels"]) | set(slow["kernels"])):
            print(f"  {fast['kernels'].get(k, '-'):>8} {slow['kernels'].get(k, '-'):>8}  {k[:110]}")
        for label, r in (("fastest", fast), ("slowest", slow)):
            for c in r["configs"]:
                print(f"  {label} config: {c[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
