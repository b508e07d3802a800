"""Evaluations in a warm worker, spoken to over its protocol (docs/worker_protocol.md), as the
supervisor does it during a run: how long verification (100 trials) and timing take per candidate,
and how the candidate's outputs reached the judge.

Usage: python3 bench/warm_eval.py NAME=PROBLEM:CANDIDATE... [--repeat N] [--env K=V]... [--fresh]
       [--label L] [--device cuda|cpu] [--shapes full|small] [--trials N] [--gap S]
       [--order job|round] [--timing-core C]
  Every candidate is evaluated N times (default 3) in one worker after one warm-up evaluation of
  the first; --env sets the worker's environment (KSWARM_CUDA_IPC=0 for the file transport);
  --fresh asks for a fresh sandbox each time (as a recheck does), which the spare provides;
  --order round evaluates one of each job per round (as a run's problems follow each other on
  one worker) instead of each job's evaluations together.
  CANDIDATE @AGENT (e.g. @torch_compile) stands for the candidate that built-in agent writes for the
  problem (`kswarm agents AGENT PROBLEM`, with $KSWARM_BIN, dist/kswarm or build/kswarm), written
  to a temporary file.
Prints one row per evaluation and the median of each phase per candidate."""

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _stats(s: dict) -> str:
    return (f"{s['median_ms']:.4f} / {100 * s['iqr_ms'] / s['median_ms']:.0f} / "
            f"{s['min_ms']:.4f}")


def _kswarm() -> str:
    """The kswarm binary: $KSWARM_BIN, else dist/kswarm, else build/kswarm."""
    for path in (os.environ.get("KSWARM_BIN"), os.path.join(ROOT, "dist", "kswarm"),
                 os.path.join(ROOT, "build", "kswarm")):
        if path and os.access(path, os.X_OK):
            return path
    sys.exit("warm_eval: no kswarm binary (set KSWARM_BIN, or build one)")


def _candidate(problem: str, candidate: str, folder: str, device: str) -> str:
    """The candidate's path; for @AGENT, the candidate that built-in agent writes for problem
    (`kswarm agents AGENT PROBLEM`), written into folder."""
    if not candidate.startswith("@"):
        return candidate
    agent = candidate[1:]
    path = os.path.join(folder, f"{os.path.basename(problem)[:-3]}_{agent}.py")
    proc = subprocess.run([_kswarm(), "agents", agent, problem, "--device", device.split(":")[0],
                           "--out", path], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"warm_eval: {proc.stderr.strip()}")
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("jobs", nargs="+", help="NAME=PROBLEM:CANDIDATE")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--label", default="")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--shapes", default="full")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--order", choices=["job", "round"], default="job")
    parser.add_argument("--timing-core", type=int,
                        help="time on this core alone, everything else on the others (as the "
                             "supervisor sends it on CUDA)")
    parser.add_argument("--gap", type=float, default=0.0,
                        help="seconds to wait before each evaluation (a run's other work)")
    args = parser.parse_args()
    jobs = []
    folder = tempfile.mkdtemp(prefix="warm_eval_")
    atexit.register(shutil.rmtree, folder, True)
    for spec in args.jobs:
        name, rest = spec.split("=", 1)
        problem, candidate = rest.split(":", 1)
        jobs.append((name, problem, _candidate(problem, candidate, folder, args.device)))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    env.update(kv.split("=", 1) for kv in args.env)
    worker = subprocess.Popen([sys.executable, "-m", "kswarm_worker", "--device", args.device],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    next_id = [1]

    def evaluate(problem: str, candidate: str, seed: int) -> dict:
        req = {"protocol": 1, "id": next_id[0], "op": "evaluate",
               "problem_path": os.path.abspath(problem),
               "candidate_path": os.path.abspath(candidate), "trials": args.trials,
               "seed": seed, "tolerance": "seed", "shapes": args.shapes,
               "static_policy": "reject",
               "timing": {"warmup_runs": 3, "min_runs": 10, "max_runs": 100,
                          "budget_ms": 10000}}
        if args.fresh:
            req["fresh_sandbox"] = True
        if args.timing_core is not None:
            others = sorted(os.sched_getaffinity(0) - {args.timing_core})
            req["cpus"] = {"timing": args.timing_core, "others": others}
        next_id[0] += 1
        worker.stdin.write(json.dumps(req) + "\n")
        worker.stdin.flush()
        line = worker.stdout.readline()
        if not line:
            raise SystemExit("the worker died")
        return json.loads(line)

    evaluate(jobs[0][1], jobs[0][2], 1)  # warm-up: CUDA set-up, the first sandbox, caches
    print(f"| {args.label} eval | outcome | via | spare | build s | verify s | time s | "
          f"verify + time s | candidate ms (median / IQR % / min) | eager ms (median / IQR % / min) | "
          f"speedup (medians) | speedup (minimums) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    # "job": every evaluation of a job before the next job's; "round": one of each job per round,
    # as a run's problems follow each other on a worker.
    order = ([(j, i) for j in range(len(jobs)) for i in range(args.repeat)] if args.order == "job"
             else [(j, i) for i in range(args.repeat) for j in range(len(jobs))])
    rows = {j: [] for j in range(len(jobs))}
    for j, i in order:
        name, problem, candidate = jobs[j]
        time.sleep(args.gap)
        r = evaluate(problem, candidate, 1000 + i)
        p = r.get("phase_ms", {})
        t = r.get("timing") or {}
        nan = {"median_ms": float("nan"), "iqr_ms": float("nan"), "min_ms": float("nan")}
        cand, eager = (t["candidate"], t["baseline"]) if t else (nan, nan)
        vt = (p.get("verify", 0) + p.get("time", 0)) / 1e3
        row = (p.get("build", 0) / 1e3, p.get("verify", 0) / 1e3, p.get("time", 0) / 1e3, vt)
        rows[j].append(row)
        print(f"| {name} | {r.get('outcome')} | {r.get('outputs_via')} | "
              f"{r.get('sandbox_from_spare')} | {row[0]:.2f} | {row[1]:.2f} | "
              f"{row[2]:.2f} | {vt:.2f} | {_stats(cand)} | {_stats(eager)} | "
              f"{eager['median_ms'] / cand['median_ms']:.3f}x | "
              f"{eager['min_ms'] / cand['min_ms']:.3f}x |", flush=True)
        if r.get("outcome") != "passed":
            print(f"    {r.get('message', '')[:400]}")
    summary = []
    for j, (name, _, _) in enumerate(jobs):
        med = [statistics.median(col) for col in zip(*rows[j])]
        summary.append(f"{args.label} {name}: median build {med[0]:.2f} s, verify {med[1]:.2f} s, "
                       f"time {med[2]:.2f} s, verify + time {med[3]:.2f} s")
    print()
    print("\n".join(summary))
    worker.stdin.write(json.dumps({"protocol": 1, "id": 0, "op": "shutdown"}) + "\n")
    worker.stdin.flush()
    worker.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
