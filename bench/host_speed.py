"""How fast the host's cores run over time: on each given core, in a process of its own, a gauge
(a fixed piece of pure-Python work, ~50 us at full speed) read every --every seconds (the fastest
of 5 readings each time). On a shared virtual machine the readings swing between two speeds.

Usage: python3 bench/host_speed.py [--seconds S] [--every S] [--slack X] CORE...
Prints, per core: readings, the fastest, the median, the share within --slack of the fastest
("at full speed"), and how many runs of such readings there were; then how many cores were at
full speed at once (readings taken at the same moments)."""

import argparse
import os
import statistics
import subprocess
import sys
import time

GAUGE_ITERATIONS = 2000


def gauge_ns() -> int:
    """Nanoseconds this core takes for a fixed piece of pure-Python work right now."""
    t0 = time.perf_counter_ns()
    x = 0
    for i in range(GAUGE_ITERATIONS):
        x += i
    return time.perf_counter_ns() - t0


def child(core: int, seconds: float, every: float) -> None:
    os.sched_setaffinity(0, {core})
    start = time.time()
    next_at = start
    while time.time() < start + seconds:
        reading = min(gauge_ns() for _ in range(5))
        print(f"{next_at - start:.3f} {reading}", flush=True)
        next_at += every
        time.sleep(max(0.0, next_at - time.time()))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=0.2)
    parser.add_argument("--slack", type=float, default=1.3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("cores", nargs="+", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.cores[0], args.seconds, args.every)
        return 0
    procs = {c: subprocess.Popen([sys.executable, __file__, "--child", "--seconds",
                                  str(args.seconds), "--every", str(args.every), str(c)],
                                 stdout=subprocess.PIPE, text=True) for c in args.cores}
    series = {}
    for c, p in procs.items():
        out, _ = p.communicate()
        if p.returncode:
            print(f"core {c}: the sampling process failed ({p.returncode})")
            return 1
        series[c] = [int(line.split()[1]) for line in out.splitlines()]
    print("| core | readings | fastest us | median us | at full speed | runs at full speed |")
    print("|---|---|---|---|---|---|")
    fast = {}
    for c, s in series.items():
        best = min(s)
        fast[c] = [r <= best * args.slack for r in s]
        runs = sum(1 for i, f in enumerate(fast[c]) if f and (i == 0 or not fast[c][i - 1]))
        print(f"| {c} | {len(s)} | {best / 1e3:.1f} | {statistics.median(s) / 1e3:.1f} | "
              f"{100 * sum(fast[c]) / len(s):.0f}% | {runs} |")
    n = min(len(f) for f in fast.values())
    together = [sum(f[i] for f in fast.values()) for i in range(n)]
    print("\ncores at full speed at once: " + ", ".join(
        f"{k}: {together.count(k)}" for k in range(len(fast) + 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
