"""What the GPU spin queued ahead of each timed call (kswarm_worker.timing) hides, and how the
result moves with it: each problem's model, eager and compiled as the torch_compile agent compiles
it, timed the worker's way (fresh inputs per call, L2 flushed, events) with spins of several
lengths, interleaved call by call, plus the host's wall time of the call (before the call to after
the synchronize) and its enqueue time (the call's own return). Each configuration runs in a
process of its own, twice, so process-to-process differences show.

Usage: python3 bench/spin_timing.py [--calls N] [--busy N] [--cold] [PROBLEM...]
  --busy N   N busy-looping processes on other cores than the timing core while timing (as a
             compile of torch.compile candidates on another GPU's sandbox loads the host)
  --cold     Inductor and Triton caches of their own, empty at the start: the first process
             compiles from nothing, the second from what the first left in the cache
  --again    also time the model compiled a second time in the same process, after
             torch.compiler.reset()
Prints, per problem, model and spin: median / relative IQR / min of the timed calls (ms)."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from host_timing import problem_paths  # noqa: E402 (this folder's)

SPINS = {"spin 0": 0, "spin 100us": 200_000, "spin 1ms": 2_000_000}
DEFAULT = ["level1/14_cross_entropy_loss.py", "level1/08_softmax.py", "level1/10_layernorm.py",
           "level1/07_gelu.py", "level2/04_conv2d_groupnorm_silu.py",
           "level3/02_resnet_basic_block.py", "level3/04_lstm.py"]


def _compiled_again(torch, model):
    """The model compiled anew in this process after torch.compiler.reset() (the sandbox resets
    before each candidate), at its first call: from the caches the first compile filled. The
    first compiled model stays alive here."""
    compiled = []

    def call(*args):
        if not compiled:
            torch.compiler.reset()
            compiled.append(torch.compile(type(model).forward))
        return compiled[0](model, *args)
    return call


def child(paths, calls, core, again):
    import torch
    from kswarm_worker import inputs as inputs_mod
    from kswarm_worker.errors import describe_exception
    from kswarm_worker.timing import Timer
    from host_timing import load_model  # this folder's: the model as the worker builds it
    os.sched_setaffinity(0, {core})
    timer = Timer("cuda", "cuda:0")
    for path in paths:
        problem, model = load_model(path, "cuda:0")
        compiled = torch.compile(type(model).forward)
        models = {"eager": model, "torch_compile": lambda *a: compiled(model, *a)}
        if again:
            models["compiled again"] = _compiled_again(torch, model)
        draw = lambda seed: inputs_mod.draw_inputs(problem, seed, "cuda:0", path,
                                                   describe_exception)
        results = {}
        with torch.no_grad():
            for name, fn in models.items():
                for i in range(10):
                    fn(*draw(i))
                samples = {k: [] for k in [*SPINS, "wall", "enqueue us"]}
                for i in range(calls):
                    for label, cycles in SPINS.items():
                        x = draw(1000 + i)
                        start = torch.cuda.Event(enable_timing=True)
                        end = torch.cuda.Event(enable_timing=True)
                        torch.cuda.synchronize()
                        timer._flush()
                        if cycles:
                            torch.cuda._sleep(cycles)
                        else:
                            torch.cuda.synchronize()
                        start.record()
                        t0 = time.perf_counter_ns()
                        fn(*x)
                        t1 = time.perf_counter_ns()
                        torch.cuda.synchronize()
                        t2 = time.perf_counter_ns()
                        end.record()
                        end.synchronize()
                        samples[label].append(start.elapsed_time(end))
                        if not cycles:
                            samples["wall"].append((t2 - t0) / 1e6)
                            samples["enqueue us"].append((t1 - t0) / 1e3)
                results[name] = samples
        print(f"| {os.path.basename(path)[:-3]} | kernel launchers: {_launchers()} |", flush=True)
        for name, samples in results.items():
            cells = []
            for label, s in samples.items():
                q = statistics.quantiles(s, n=4, method="inclusive")
                med = statistics.median(s)
                cells.append(f"{med:.4f} / {100 * (q[2] - q[0]) / med:.0f}% / {min(s):.4f}")
            print(f"| {os.path.basename(path)[:-3]} | {name} | " + " | ".join(cells) + " |",
                  flush=True)


def _launchers() -> str:
    """How torch.compile's Triton kernels in this process are launched (their launchers' types)."""
    from host_timing import autotuners
    try:
        found = list(autotuners())
    except ImportError:
        return "unknown"
    kinds = {}
    for obj in found:
        for launcher in getattr(obj, "launchers", []):
            kind = getattr(launcher, "__qualname__", type(launcher).__name__)
            kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())) or "none"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--busy", type=int, default=0)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--again", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("problems", nargs="*")
    args = parser.parse_args()
    paths = problem_paths(args.problems, DEFAULT)
    core = os.cpu_count() - 1
    if args.child:
        child(paths, args.calls, core, args.again)
        return 0
    print(f"timing core {core}; {args.busy} busy processes on other cores")
    print("| problem | model | " + " | ".join(f"{k} (median / IQR / min)"
                                              for k in [*SPINS, "wall", "enqueue us"]) + " |")
    print("|---|---|" + "---|" * (len(SPINS) + 2))
    busy = [subprocess.Popen([sys.executable, "-c",
                              f"import os; os.sched_setaffinity(0, {{{c}}})\nwhile True: pass"])
            for c in [c for c in range(os.cpu_count()) if c != core][:args.busy]]
    env = dict(os.environ)
    caches = tempfile.TemporaryDirectory() if args.cold else None
    if caches:
        env.update(TORCHINDUCTOR_CACHE_DIR=os.path.join(caches.name, "inductor"),
                   TRITON_CACHE_DIR=os.path.join(caches.name, "triton"))
    try:
        for n in range(2):
            if caches:
                print(f"process {n + 1}: " + ("compiles into empty caches" if n == 0 else
                                              "compiles from the caches process 1 filled"),
                      flush=True)
            subprocess.run([sys.executable, __file__, "--child", "--calls", str(args.calls)] +
                           (["--again"] if args.again else []) + paths, check=True, env=env)
    finally:
        for p in busy:
            p.kill()
        if caches:
            caches.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
