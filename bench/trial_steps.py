"""Where one verification trial's time goes: runs the steps of a trial (docs/verification.md) with
the worker's own functions in one process, the reference standing in for the candidate, and
prints the device time of each step per problem beside the model's call. The evaluation itself
runs them in two processes that overlap (evaluate.py, sandbox.py); this measures each alone.

    PYTHONPATH=python python3 bench/trial_steps.py --device cuda --shapes large problems

Usage: trial_steps.py [--device D] [--shapes S] [--repeats N] PATH... (files or folders)"""

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time
import traceback

import torch

from kswarm_worker import compare, exchange, guards, inputs as inputs_mod, precision
from kswarm_worker.errors import describe_exception, first_line
from kswarm_worker.sandbox_client import _exchange_base

STEPS = ("s_draw", "s_pristine", "call", "s_snapshot", "s_stable", "s_inputs", "s_write",
         "s_poison", "j_draw", "j_ref", "j_read", "j_compare")
EXTRA = ("j_compare_ops",)  # the comparison's fast pass in PyTorch operations, not the kernel


def _timed(device_type, fn):
    if device_type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    result = fn()
    if device_type == "cuda":
        torch.cuda.synchronize()
    return result, (time.perf_counter() - t0) * 1000


def one_trial(problem, model, device, device_type, path, seed, xfile):
    """The trial's steps in order, each timed alone; returns {step: ms}."""
    ms = {}
    draw = lambda: inputs_mod.draw_inputs(problem, seed, device, path, describe_exception)  # noqa
    inputs, ms["s_draw"] = _timed(device_type, draw)
    pristine, ms["s_pristine"] = _timed(device_type, lambda: [x.clone() if isinstance(
        x, torch.Tensor) else x for x in inputs])
    with torch.no_grad():
        out, ms["call"] = _timed(device_type, lambda: compare.flatten_outputs(model(*inputs)))
    snap, ms["s_snapshot"] = _timed(device_type, lambda: [o.detach().clone() for o in out])
    _, ms["s_stable"] = _timed(device_type, lambda: compare.inputs_unchanged(out, snap))
    _, ms["s_inputs"] = _timed(device_type, lambda: compare.inputs_unchanged(inputs, pristine))
    header, ms["s_write"] = _timed(device_type, lambda: exchange.write(xfile, snap))
    _, ms["s_poison"] = _timed(device_type, lambda: guards.poison(
        out + [x for x in inputs if isinstance(x, torch.Tensor)] + pristine))
    del out, pristine, inputs
    inputs, ms["j_draw"] = _timed(device_type, draw)
    with torch.no_grad():
        ref, ms["j_ref"] = _timed(device_type, lambda: compare.flatten_outputs(model(*inputs)))
    cand, ms["j_read"] = _timed(device_type, lambda: exchange.read(xfile, header, device))
    result, ms["j_compare"] = _timed(device_type, lambda: compare.compare_outputs(
        cand, ref, compare.TOLERANCES["seed"]))
    if result.failure is not None:
        raise RuntimeError(f"the reference disagrees with itself: {result.message}")
    fused, compare._fused = compare._fused, lambda a: None
    try:
        _, ms["j_compare_ops"] = _timed(device_type, lambda: compare.compare_outputs(
            cand, ref, compare.TOLERANCES["seed"]))
    finally:
        compare._fused = fused
    return ms


def measure(path, device, device_type, shapes, repeats):
    problem = inputs_mod.load_problem(path, shapes, describe_exception)
    init = inputs_mod.init_inputs(problem, path, describe_exception)
    torch.manual_seed(0)
    model = problem.Model(*init).to(device)
    with tempfile.TemporaryDirectory(dir=_exchange_base()) as tmp:  # where the worker's go
        xfile = os.path.join(tmp, "trial.bin")
        rows = [one_trial(problem, model, device, device_type, path, k, xfile)
                for k in range(repeats + 1)][1:]  # the first warms caches and allocators
        with torch.no_grad():
            inputs = inputs_mod.draw_inputs(problem, 0, device, path, describe_exception)
            ref = compare.flatten_outputs(model(*inputs))
            _, precision_ms = _timed(device_type, lambda: precision.check(model, inputs, ref, ref))
        mapping = exchange._mappings.get(xfile)
        pinned = mapping is not None and mapping.pinned
        exchange.forget()
    del model
    if device_type == "cuda":
        torch.cuda.empty_cache()
    return {s: statistics.median(r[s] for r in rows) for s in STEPS + EXTRA}, precision_ms, pinned


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--shapes", default="large")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    files = []
    for p in args.paths:
        files += sorted(glob.glob(os.path.join(p, "**", "*.py"), recursive=True)) \
            if os.path.isdir(p) else [p]
    device = "cuda:0" if args.device == "cuda" else "cpu"
    print(f"device: {torch.cuda.get_device_name(0) if args.device == 'cuda' else 'cpu'}; "
          f"torch {torch.__version__}; shapes {args.shapes}; median of {args.repeats} trials, "
          "ms per step (s_ sandbox, j_ judge); precision: trial 0's extra check; pinned: whether "
          "the driver pinned the outputs file (s_write, j_read)")
    print("| problem | " + " | ".join(STEPS) + " | sum | sum / (2 x call) | precision | pinned | "
          + " | ".join(EXTRA) + " |")
    print("|---|" + "---|" * (len(STEPS) + 4 + len(EXTRA)))
    totals = []
    for f in files:
        name = os.path.relpath(f)
        try:
            ms, precision_ms, pinned = measure(f, device, args.device, args.shapes, args.repeats)
        except Exception as e:  # one problem's failure is reported, the rest go on
            print(f"| {name} | {type(e).__name__}: {first_line(e)[:200]} |", flush=True)
            traceback.print_exc(file=sys.stderr)
            if args.device == "cuda":
                torch.cuda.empty_cache()
            continue
        total = sum(ms[s] for s in STEPS)
        totals.append((total, ms["call"]))
        print(f"| {name} | " + " | ".join(f"{ms[s]:.2f}" for s in STEPS) +
              f" | {total:.2f} | {total / (2 * ms['call']):.2f} | {precision_ms:.1f} | {pinned} | " +
              " | ".join(f"{ms[s]:.2f}" for s in EXTRA) + " |", flush=True)
    if totals:
        print(f"\nmedian trial {statistics.median(t for t, _ in totals):.2f} ms, median of "
              f"trial / (2 x call) {statistics.median(t / (2 * c) for t, c in totals):.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
