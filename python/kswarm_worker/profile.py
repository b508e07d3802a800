"""Profiles a candidate that passed, for the hints of an agent's next attempt:
python3 -m kswarm_worker.profile --problem P --candidate C --device cpu|cuda [--shapes S]
[--seed N] [--measured-ms T] [--tool auto|torch|ncu] [--ncu PATH].

On the CPU, and on CUDA when Nsight Compute is missing, torch.profiler records the operators (and
kernels) of a few calls. On CUDA with `ncu`, this process starts a child of itself under
`ncu --clock-control none` (clocks left as the timer saw them) that profiles one call after a
warm-up: per kernel its time, DRAM and SM throughput against the device's peak, achieved and
theoretical occupancy, grid, block and registers. Either way the problem's work (bytes and FLOPs
of the reference, roofline.count_work) against the device's measured peaks gives the roofline.

It runs candidate code, so kswarm starts it as it starts the sandbox: scrubbed environment, own
process group, a deadline. Prints one JSON line on the private protocol stream:
  {"tool", "per_call_ms", "per_call_source", "work", "peaks", "launches_per_call",
   "ops" (torch.profiler) or "kernels" (ncu), "summary"}     or     {"error": "..."}
`summary` is the rule-based reading of those numbers (summarize()), the text an agent gets when no
helper model writes advice from them.
"""

import argparse
import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

NCU_METRICS = {
    "gpu__time_duration.sum": "time_ns",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed": "dram_pct",
    "sm__throughput.avg.pct_of_peak_sustained_elapsed": "sm_pct",
    "sm__warps_active.avg.pct_of_peak_sustained_active": "occupancy_pct",
    "sm__maximum_warps_per_active_cycle_pct": "theoretical_occupancy_pct",
    "dram__bytes_read.sum": "dram_read_bytes",
    "dram__bytes_write.sum": "dram_write_bytes",
    "launch__grid_size": "grid_size",
    "launch__block_size": "block_size",
    "launch__registers_per_thread": "registers_per_thread",
}
TOP = 6  # operators or kernels listed
OWN_CODE = "ModelNew.forward's own code"  # custom kernels called directly, Python


# -- setting up the candidate ---------------------------------------------------------------------

def _setup(args):
    """(reference, candidate model, inputs, device_type) as an evaluation builds them."""
    import torch

    from . import buildcache, inputs as inputs_mod
    from .errors import describe_exception
    device = args.device
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    problem = inputs_mod.load_problem(args.problem, args.shapes, describe_exception)
    init = inputs_mod.init_inputs(problem, args.problem, describe_exception)
    torch.manual_seed(args.seed)
    reference = problem.Model(*init).to(device)
    capability = ""
    if device_type == "cuda":
        capability = "{}.{}".format(*torch.cuda.get_device_capability(device))
    with open(args.candidate, "rb") as f:
        buildcache.prepare(f.read(), buildcache.arch_of(device_type, capability))
    candidate = inputs_mod.load_module(args.candidate, "kswarm_candidate_")
    torch.manual_seed(args.seed)
    model = candidate.ModelNew(*init).to(device)
    inputs = inputs_mod.draw_inputs(problem, args.seed, device, args.problem, describe_exception)
    return reference, model, inputs, device_type


def _sync(device_type):
    import torch
    if device_type == "cuda":
        torch.cuda.synchronize()


def _median_call_ms(model, inputs, device_type, calls=10) -> float:
    times = []
    for _ in range(calls):
        _sync(device_type)
        t0 = time.perf_counter()
        model(*inputs)
        _sync(device_type)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def _work_and_peaks(reference, inputs, device_type, device):
    from . import roofline
    from .compare import flatten_outputs
    _, work = roofline.count_work(reference, inputs, flatten_outputs)
    return work, roofline.measure_peaks(device_type, device)


# -- torch.profiler -------------------------------------------------------------------------------

def torch_profile(model, inputs, device_type: str, calls: int = 5) -> dict:
    """Per-call operator (CPU) and kernel (CUDA) times of `calls` calls after a warm-up."""
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function
    activities = [ProfilerActivity.CPU]
    if device_type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with torch.no_grad():
        for _ in range(3):
            model(*inputs)
        _sync(device_type)
        with profile(activities=activities) as prof:
            for _ in range(calls):
                with record_function(OWN_CODE):  # its self time: what no aten op accounts for
                    model(*inputs)
            _sync(device_type)
    ops, kernels = [], []
    for e in prof.key_averages():
        if device_type == "cuda" and getattr(e, "self_device_time_total", 0) > 0 and \
                e.self_cpu_time_total == 0:
            kernels.append({"name": e.key, "calls_per_call": e.count / calls,
                            "time_ms_per_call": e.self_device_time_total / 1e3 / calls})
        elif e.self_cpu_time_total > 0:
            ops.append({"name": e.key, "calls_per_call": e.count / calls,
                        "self_ms_per_call": e.self_cpu_time_total / 1e3 / calls})
    ops.sort(key=lambda o: -o["self_ms_per_call"])
    kernels.sort(key=lambda k: -k["time_ms_per_call"])
    total = sum(o["self_ms_per_call"] for o in ops) or 1.0
    for o in ops:
        o["share"] = o["self_ms_per_call"] / total
    result = {"tool": "torch.profiler", "ops": ops[:TOP],
              "ops_per_call": sum(o["calls_per_call"] for o in ops if o["name"].startswith("aten::"))}
    if device_type == "cuda":
        result["kernels"] = kernels[:TOP]
        result["launches_per_call"] = sum(k["calls_per_call"] for k in kernels)
        result["kernel_ms_per_call"] = sum(k["time_ms_per_call"] for k in kernels)
    return result


# -- Nsight Compute -------------------------------------------------------------------------------

def _number(text: str):
    text = text.replace(",", "").strip()
    try:
        return float(text)
    except ValueError:
        return None


def parse_ncu_csv(text: str, calls: int = 1) -> dict:
    """Kernels from `ncu --csv --page raw --print-units base` output (lines that are not CSV, the
    program's own and ncu's ==PROF== notes, are skipped; so is the units row)."""
    rows = list(csv.reader(io.StringIO("".join(l for l in text.splitlines(True)
                                               if l.startswith('"')))))
    if not rows or "Kernel Name" not in rows[0]:
        raise ValueError("no kernel table in the ncu output")
    header = rows[0]
    col = {name: header.index(name) for name in ("ID", "Kernel Name") if name in header}
    metric_cols = {key: header.index(m) for m, key in NCU_METRICS.items() if m in header}
    device = header.index("device__attribute_display_name") \
        if "device__attribute_display_name" in header else None
    launches, device_name = [], ""
    for r in rows[1:]:
        if len(r) != len(header) or not r[col["ID"]].strip():
            continue  # the units row
        launch = {"name": r[col["Kernel Name"]]}
        for key, i in metric_cols.items():
            launch[key] = _number(r[i])
        launches.append(launch)
        if device is not None:
            device_name = r[device]
    by_name = {}
    for k in launches:
        agg = by_name.setdefault(k["name"], {"name": k["name"], "launches": 0, "time_ns": 0.0,
                                             "_weighted": {}, "_weight": 0.0})
        agg["launches"] += 1
        t = k.get("time_ns") or 0.0
        agg["time_ns"] += t
        agg["_weight"] += max(t, 1.0)  # percentages are averaged over launches by their time
        for key in ("dram_pct", "sm_pct", "occupancy_pct", "theoretical_occupancy_pct"):
            if k.get(key) is not None:
                agg["_weighted"][key] = agg["_weighted"].get(key, 0.0) + k[key] * max(t, 1.0)
        for key in ("dram_read_bytes", "dram_write_bytes"):
            agg[key] = agg.get(key, 0.0) + (k.get(key) or 0.0)
        for key in ("grid_size", "block_size", "registers_per_thread"):
            agg[key] = k.get(key)
    kernels = []
    for agg in by_name.values():
        weight = agg.pop("_weight")
        for key, v in agg.pop("_weighted").items():
            agg[key] = v / weight
        agg["time_ms_per_call"] = agg.pop("time_ns") / 1e6 / calls
        agg["launches_per_call"] = agg.pop("launches") / calls
        kernels.append(agg)
    kernels.sort(key=lambda k: -k["time_ms_per_call"])
    return {"tool": "ncu", "device_name": device_name, "kernels": kernels,
            "launches_per_call": len(launches) / calls,
            "kernel_ms_per_call": sum(k["time_ms_per_call"] for k in kernels)}


def find_ncu(given: str = "") -> str:
    if given:
        return given if os.path.exists(given) else ""
    for path in (shutil.which("ncu"), "/usr/local/cuda/bin/ncu"):
        if path and os.path.exists(path):
            return path
    return ""


def ncu_profile(ncu: str, args, timeout_s: float = 300) -> dict:
    """Runs this module's --child under ncu and reads its kernel table."""
    with tempfile.TemporaryDirectory(prefix="kswarm-ncu-") as tmp:
        log = os.path.join(tmp, "ncu.csv")
        argv = [ncu, "--clock-control", "none", "--profile-from-start", "off",
                "--target-processes", "all", "--csv", "--page", "raw", "--print-units", "base",
                "--log-file", log, "--metrics", ",".join(NCU_METRICS),
                sys.executable, "-m", "kswarm_worker.profile", "--child",
                "--problem", args.problem, "--candidate", args.candidate, "--device", args.device,
                "--shapes", args.shapes, "--seed", str(args.seed)]
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=timeout_s)
        text = open(log).read() if os.path.exists(log) else ""
        if proc.returncode != 0 or "Kernel Name" not in text:
            tail = (proc.stderr or "")[-1500:] + text[-1500:]
            raise RuntimeError(f"ncu exited {proc.returncode}: {tail.strip()}")
        return parse_ncu_csv(text, calls=1)


def _child(args) -> int:
    """Under ncu: warm up, then one profiled call."""
    import torch
    reference, model, inputs, device_type = _setup(args)
    del reference
    with torch.no_grad():
        for _ in range(3):
            model(*inputs)
        torch.cuda.synchronize()
        torch.cuda.profiler.start()
        model(*inputs)
        torch.cuda.synchronize()
        torch.cuda.profiler.stop()
    return 0


# -- the rule-based reading -----------------------------------------------------------------------

def _fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _short(name: str, width: int = 90) -> str:
    return name if len(name) <= width else name[:width - 3] + "..."


def summarize(report: dict) -> str:
    """Hints a kernel engineer would draw from the numbers: where the call sits against the
    device's roofline, how much of it is kernels versus launch and host overhead, and what each
    of the heaviest kernels (operators on the CPU) is bound by."""
    lines = []
    ms = report["per_call_ms"]
    work, peaks = report.get("work") or {}, report.get("peaks") or {}
    lines.append(f"One call takes {ms:.4g} ms ({report['per_call_source']}).")
    if report.get("ncu_error"):
        lines.append("Nsight Compute could not profile it here; kernel times are torch.profiler's.")
    moved = work.get("input_bytes", 0) + work.get("output_bytes", 0)
    flops = work.get("flops", 0)
    bw, rate = peaks.get("bytes_per_s", 0), peaks.get("flops_per_s", 0)
    if bw > 0 and moved > 0:
        mem_ms = moved / bw * 1e3
        comp_ms = flops / rate * 1e3 if rate > 0 else 0.0
        bound = "memory" if mem_ms >= comp_ms else "compute"
        floor_ms = max(mem_ms, comp_ms)
        lines.append(
            f"Roofline: the problem reads and writes at least {_fmt_bytes(moved)} and does "
            f"{flops / 1e9:.4g} GFLOP; at this device's measured {bw / 1e9:.4g} GB/s and "
            f"{rate / 1e12:.4g} TFLOP/s that takes at least {mem_ms:.4g} ms of memory traffic "
            f"and {comp_ms:.4g} ms of arithmetic, so it is {bound}-bound. The candidate reaches "
            f"{100 * floor_ms / ms:.3g}% of that limit ({moved / (ms / 1e3) / 1e9:.4g} GB/s and "
            f"{flops / (ms / 1e3) / 1e12:.4g} TFLOP/s effective).")
        if floor_ms / ms < 0.3:
            lines.append(f"- Far from the roofline: most of the time goes to something other "
                         f"than moving the problem's bytes or doing its FLOPs.")
    kernels = report.get("kernels")
    if kernels is not None:
        launches = report.get("launches_per_call", 0)
        kernel_ms = report.get("kernel_ms_per_call", 0)
        outside = max(0.0, ms - kernel_ms)
        lines.append(f"{launches:.3g} kernel launches per call; the kernels run {kernel_ms:.4g} ms "
                     f"of the {ms:.4g} ms, {outside:.4g} ms ({100 * outside / ms:.3g}%) is outside "
                     f"them (launch latency, host code, synchronization).")
        if launches > 1 and outside > 0.3 * ms:
            lines.append("- Launch overhead dominates: fuse the kernels into fewer launches, or "
                         "capture the call in a CUDA graph.")
        for k in kernels[:3]:
            share = 100 * k["time_ms_per_call"] / kernel_ms if kernel_ms > 0 else 0
            parts = [f"Kernel {_short(k['name'])}: {k['time_ms_per_call'] * 1e3:.4g} us per "
                     f"call ({share:.3g}% of kernel time)"]
            dram, sm = k.get("dram_pct"), k.get("sm_pct")
            occ, theo = k.get("occupancy_pct"), k.get("theoretical_occupancy_pct")
            if dram is not None and sm is not None:
                parts.append(f"DRAM throughput {dram:.3g}% of peak, SM throughput {sm:.3g}%")
            if occ is not None:
                parts.append(f"achieved occupancy {occ:.3g}%"
                             + (f" of a theoretical {theo:.3g}%" if theo is not None else ""))
            if k.get("grid_size") is not None:
                parts.append(f"grid {k['grid_size']:.0f} blocks of {k.get('block_size') or 0:.0f} "
                             f"threads, {k.get('registers_per_thread') or 0:.0f} registers/thread")
            lines.append("; ".join(parts) + ".")
            if dram is not None and sm is not None:
                if dram >= 60 and dram >= sm:
                    lines.append("  - Memory-bound near the DRAM peak: only fewer bytes help "
                                 "(fuse with neighbours, avoid intermediate tensors, narrower "
                                 "loads that are still coalesced).")
                elif sm >= 60:
                    lines.append("  - Compute-bound: use tensor cores (mma/wgmma, or cuBLAS for "
                                 "the matmul part) and cheaper instructions.")
                elif max(dram, sm) < 40:
                    lines.append("  - Neither memory nor compute is busy: latency-bound. Give "
                                 "the GPU more parallel work (more blocks, more independent loads "
                                 "per thread) and check the grid covers every SM.")
            if theo is not None and theo < 50:
                lines.append("  - Theoretical occupancy is low: registers or shared memory per "
                             "block limit the warps per SM.")
            elif occ is not None and theo is not None and occ < 0.6 * theo:
                lines.append("  - Achieved occupancy is well below the theoretical one: too few "
                             "blocks for the SMs, or a tail of uneven work.")
    ops = report.get("ops")
    if ops and report.get("tool") == "torch.profiler" and kernels is None:
        lines.append(f"{report.get('ops_per_call', 0):.3g} aten operators per call. Heaviest by "
                     f"own CPU time per call:")
        for o in ops[:4]:
            lines.append(f"- {_short(o['name'])}: {o['self_ms_per_call']:.4g} ms "
                         f"({100 * o['share']:.3g}%), {o['calls_per_call']:.3g} calls")
        if ops[0]["share"] > 0.5 and ops[0]["name"] == OWN_CODE:
            lines.append("- Most of the time is in the candidate's own code (its custom kernels "
                         "and the Python around them), not in aten operators.")
        elif ops[0]["share"] > 0.5:
            lines.append(f"- {_short(ops[0]['name'], 60)} dominates: that is the part to "
                         f"rewrite or fuse.")
        threads = report.get("threads")
        if threads:
            lines.append(f"- The CPU has {threads} threads; an OpenMP loop should split the work "
                         f"over all of them and keep inner loops vectorizable.")
    return "\n".join(lines)


# -- entry point ----------------------------------------------------------------------------------

def profile(args) -> dict:
    import torch
    reference, model, inputs, device_type = _setup(args)
    with torch.no_grad():
        work, peaks = _work_and_peaks(reference, inputs, device_type, args.device)
        if args.measured_ms and args.measured_ms > 0:
            per_call, source = args.measured_ms, "the evaluation's median"
        else:
            per_call, source = _median_call_ms(model, inputs, device_type), "median of 10 calls"
    ncu = find_ncu(args.ncu) if device_type == "cuda" and args.tool in ("auto", "ncu") else ""
    if device_type == "cuda" and args.tool == "ncu" and not ncu:
        raise RuntimeError("ncu (Nsight Compute) not found")
    report = None
    if ncu:
        del model, reference, inputs
        torch.cuda.empty_cache()  # the child under ncu needs the memory
        try:
            report = ncu_profile(ncu, args)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            if args.tool == "ncu":
                raise
            ncu_error = str(e)[-600:]  # no counters here (permissions), say: fall back
        if report is None:
            reference, model, inputs, device_type = _setup(args)
    if report is None:
        report = torch_profile(model, inputs, device_type)
        if ncu:
            report["ncu_error"] = ncu_error
    report.update(per_call_ms=per_call, per_call_source=source, work=work,
                  peaks=peaks)
    if device_type == "cpu":
        report["threads"] = torch.get_num_threads()
    report["summary"] = summarize(report)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(prog="kswarm_worker.profile")
    parser.add_argument("--problem", required=True)
    parser.add_argument("--candidate", required=True)
    parser.add_argument("--device", required=True, help='"cpu", "cuda" or "cuda:N"')
    parser.add_argument("--shapes", choices=["full", "small", "large"], default="full")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measured-ms", type=float, default=0.0)
    parser.add_argument("--tool", choices=["auto", "torch", "ncu"], default="auto")
    parser.add_argument("--ncu", default="", help="path of ncu (default: PATH, /usr/local/cuda)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from .sandbox_client import compile_threads
    os.environ["TORCHINDUCTOR_COMPILE_THREADS"] = compile_threads(None)
    if args.child:
        return _child(args)
    from .server import answer_once
    return answer_once(lambda: profile(args), "wall_ms")


if __name__ == "__main__":
    sys.exit(main())
