"""How long a fresh sandbox takes to be ready, started the way the judge starts a spare
(python3 -m kswarm_worker.sandbox --device D --preload), and where the time goes.

Usage: python3 bench/sandbox_start.py [--device cuda|cpu] [--repeat N] [--together K]
  Each round starts one sandbox and times it from the spawn to its answer to a first request
  (it reads requests only once it is ready); then starts one more under `python -X importtime`
  and sums its imports by top-level package (the rest is the device's set-up and Python's own
  start). --together K then starts K at once, as the judge tops up its spares after the first job.
Nothing else should run on the machine."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _start(device: str, importtime=None) -> subprocess.Popen:
    """importtime: a file for the import times (stderr), or None."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + \
        ["-m", "kswarm_worker.sandbox", "--device", device, "--preload"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=importtime or subprocess.DEVNULL, text=True, env=env)
    proc.stdin.write(json.dumps({"op": "shutdown"}) + "\n")
    proc.stdin.flush()
    return proc


def _ready_s(proc: subprocess.Popen, started: float) -> float:
    line = proc.stdout.readline()
    ready = time.perf_counter() - started
    if not json.loads(line or "{}").get("ok"):
        raise SystemExit(f"the sandbox did not answer (exit {proc.wait()})")
    return ready


def _imports_by_package(stderr: str) -> dict:
    """Cumulative microseconds of each import made at the top level, by its first name part."""
    totals = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if name.startswith("  "):  # imported by another module: counted in its parent
            continue
        package = name.strip().split(".")[0]
        label = name.strip() if package == "torch" else package
        totals[label] = totals.get(label, 0) + int(cumulative)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--together", type=int, default=2)
    args = parser.parse_args()

    ready, breakdowns = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        proc = _start(args.device)
        ready.append(_ready_s(proc, t))
        proc.wait()
        with tempfile.TemporaryFile("w+") as log:
            t = time.perf_counter()
            proc = _start(args.device, importtime=log)
            total = _ready_s(proc, t)
            proc.wait()
            log.seek(0)
            breakdowns.append((total, _imports_by_package(log.read())))
    print(f"ready after (s), one at a time: {', '.join(f'{r:.2f}' for r in ready)}; "
          f"median {statistics.median(ready):.2f}")

    print("under -X importtime (s): total | imports, by what the sandbox imported at its top "
          "level (>= 0.05 s) | the rest")
    for total, parts in breakdowns:
        big = sorted(((us / 1e6, name) for name, us in parts.items() if us >= 5e4), reverse=True)
        rest = total - sum(parts.values()) / 1e6
        print(f"  {total:.2f} | " + ", ".join(f"{name} {s:.2f}" for s, name in big) +
              f" | {rest:.2f}")

    if args.together > 1:
        t = time.perf_counter()
        procs = [_start(args.device) for _ in range(args.together)]
        times = [_ready_s(p, t) for p in procs]
        for p in procs:
            p.wait()
        print(f"ready after (s), {args.together} started at once: "
              f"{', '.join(f'{r:.2f}' for r in times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
