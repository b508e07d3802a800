"""How much the host moves a launch-bound candidate's timed call: one problem's model, eager and
torch.compile'd, timed with the worker's Timer (events, flushed L2, GPU spin ahead of the call)
on one core, alone and while another core runs a load, plus the host's CPU and GPU topology.

Usage: python3 bench/host_timing.py [--problem P] [--timing-core C] [--load-cores A,B,...]
                                    [--calls N] [--loads spin,twin,churn,...]
  Loads: "spin" (a Python busy loop) and "twin" (the same compiled model timed in a loop on the
  last GPU, which it alone sees, as a second GPU's worker does) on each load core; "churn"
  (processes starting one after another on the timed GPU, as sandboxes do) on the first;
  --loads also takes churn_import, churn_init and churn_spare (see _CHURN).
  Prints one row per (load, core) with the median and quartiles of the event time (ms) and of
  the host's time to enqueue one call (us)."""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))


def problem_paths(names, default):
    """Problem files from the command line (paths, or paths under problems/), else `default`."""
    return [p if os.path.exists(p) else os.path.join(ROOT, "problems", p)
            for p in (names or default)]


def autotuners():
    """The Triton kernels torch.compile has loaded in this process that are still alive (its
    CachingAutotuner objects)."""
    import gc
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner
    for obj in gc.get_objects():
        try:
            if isinstance(obj, CachingAutotuner):
                yield obj
        except ReferenceError:  # a dead weak proxy
            continue


def load_model(path, device):
    """The problem (full shapes) and its model on `device`, built as the worker builds it."""
    import torch
    from kswarm_worker import inputs as inputs_mod
    from kswarm_worker.errors import describe_exception
    problem = inputs_mod.load_problem(path, "full", describe_exception)
    torch.manual_seed(0)
    model = problem.Model(*inputs_mod.init_inputs(problem, path, describe_exception))
    return problem, model.to(device).eval()


def build(path, device):
    """The problem's model (as the worker builds it), compiled, and one draw of its inputs."""
    import torch
    from kswarm_worker import inputs as inputs_mod
    from kswarm_worker.errors import describe_exception
    problem, model = load_model(path, device)
    inputs = inputs_mod.draw_inputs(problem, 0, device, path, describe_exception)
    return model, torch.compile(model), inputs


# What each process of a churn load does: "churn" uses the timed GPU (a context and a kernel);
# "churn_import" imports what a spare sandbox imports, touching no GPU; "churn_init" also
# initializes CUDA as the sandbox's constructor does (the device's capability); "churn_spare" is
# a spare sandbox itself (kswarm_worker.sandbox --preload), which exits at once on its closed input.
_CHURN = {
    "churn": ["-c", "import torch; torch.zeros(1, device='cuda')"],
    "churn_import": ["-c", "import torch, torch._dynamo, torch._inductor.compile_fx, triton"],
    "churn_init": ["-c", "import torch; torch.cuda.get_device_capability(0)"],
    "churn_spare": ["-m", "kswarm_worker.sandbox", "--device", "cuda", "--preload"],
}


def run_load(kind, core, problem, device):
    os.sched_setaffinity(0, {core})
    if kind == "spin":
        x = 0
        while True:
            x += 1
    if kind in _CHURN:  # processes that start one after another, each doing _CHURN[kind]
        while True:
            subprocess.run([sys.executable] + _CHURN[kind], stdin=subprocess.DEVNULL,
                           env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
    import torch
    from kswarm_worker.timing import Timer
    _, compiled, inputs = build(problem, device)
    timer = Timer("cuda", device)
    with torch.no_grad():
        for _ in range(20):
            timer.time_once(lambda: compiled(*inputs))
        print("ready", flush=True)
        while True:
            timer.time_once(lambda: compiled(*inputs))


def quartiles(values):
    q = statistics.quantiles(sorted(values), n=4, method="inclusive")
    return q[0], q[1], q[2]


def topology(cores):
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return "-"
    print("== host")
    subprocess.run("lscpu | grep -E 'Model name|Thread|Core|Socket|NUMA|MHz|L3|Hypervisor'",
                   shell=True)
    for node in sorted(os.listdir("/sys/devices/system/node")):
        if node.startswith("node"):
            print(f"{node}: cpus {read(f'/sys/devices/system/node/{node}/cpulist')}")
    for c in cores:
        t = f"/sys/devices/system/cpu/cpu{c}/topology"
        print(f"cpu{c}: package {read(t + '/physical_package_id')} core "
              f"{read(t + '/core_id')} siblings {read(t + '/thread_siblings_list')} "
              f"cluster {read(t + '/cluster_cpus_list')}")
    subprocess.run(["nvidia-smi", "topo", "-m"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--problem",
                        default=os.path.join(ROOT, "problems/level1/06_depthwise_conv2d.py"))
    parser.add_argument("--timing-core", type=int, default=None)
    parser.add_argument("--load-cores", default="")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--loads", default="spin,twin,churn",
                        help="spin, twin and any of " + ", ".join(_CHURN))
    parser.add_argument("--run-load", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_load:
        kind, core = args.run_load.split(":")
        run_load(kind, int(core), args.problem, "cuda:0")
        return 0

    import torch
    from kswarm_worker.timing import Timer
    ncpu = os.cpu_count()
    timing_core = ncpu - 1 if args.timing_core is None else args.timing_core
    load_cores = ([int(c) for c in args.load_cores.split(",") if c] or
                  sorted({timing_core - 1, ncpu // 2 - 1, ncpu // 2, 0} - {timing_core}))
    topology(sorted({timing_core, *load_cores}))
    last_gpu = str(torch.cuda.device_count() - 1)

    model, compiled, inputs = build(args.problem, "cuda:0")
    timer = Timer("cuda", "cuda:0")

    def measure(fn):
        event_ms, host_us = [], []
        for _ in range(args.calls):
            event_ms.append(timer.time_once(fn))
            torch.cuda.synchronize()
            t0 = time.perf_counter_ns()
            fn()
            host_us.append((time.perf_counter_ns() - t0) / 1e3)
            torch.cuda.synchronize()
        return event_ms, host_us

    print(f"== {os.path.basename(args.problem)}: timed on core {timing_core}, {args.calls} calls, "
          f"twin loads on GPU {last_gpu}")
    print("| candidate | load | load core | event ms p25 / median / p75 | "
          "host us p25 / median / p75 |")
    print("|---|---|---|---|---|")
    with torch.no_grad():
        for _ in range(20):
            model(*inputs)
            compiled(*inputs)
        os.sched_setaffinity(0, {timing_core})
        loads = args.loads.split(",")
        configs = ([("none", None)] +
                   [(k, c) for k in ("spin", "twin") if k in loads for c in load_cores] +
                   [(k, load_cores[0]) for k in _CHURN if k in loads])
        for kind, core in configs:
            load = None
            if core is not None:
                # The twin sees its GPU alone, as a second GPU's worker does.
                load = subprocess.Popen([sys.executable, __file__, "--problem", args.problem,
                                         "--run-load", f"{kind}:{core}"],
                                        stdout=subprocess.PIPE, text=True,
                                        env=dict(os.environ, CUDA_VISIBLE_DEVICES=(
                                            last_gpu if kind == "twin" else "0")))
                if kind == "twin":
                    load.stdout.readline()  # compiled and warm
                time.sleep(1.0)
            try:
                for name, fn in (("eager", lambda: model(*inputs)),
                                 ("torch_compile", lambda: compiled(*inputs))):
                    ev, host = measure(fn)
                    e, h = quartiles(ev), quartiles(host)
                    print(f"| {name} | {kind} | {'-' if core is None else core} | "
                          f"{e[0]:.3f} / {e[1]:.3f} / {e[2]:.3f} | "
                          f"{h[0]:.0f} / {h[1]:.0f} / {h[2]:.0f} |", flush=True)
            finally:
                if load is not None:
                    load.kill()
                    load.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
