"""How much one candidate's speed-up moves from process to process, from sweeps' databases: every
passed evaluation of a (problem, agent) is one sample of log(eager / candidate) over the fastest
calls (first evaluations and fresh samples alike, across all the databases given). Prints the
widest spreads, the share of candidates whose spread passes 0.1, the run-wide noise as the verdict
rule estimates it (median step between successive samples) beside a mean square of the same steps,
and eager's own spread within one sweep's problem (docs/verification.md, "The verdict").

Usage: python3 bench/sample_spread.py NAME=SWEEP_DB [...]"""

import collections
import math
import sqlite3
import statistics
import sys


def main(argv):
    if not argv or any("=" not in a for a in argv):
        sys.exit(__doc__)
    samples = collections.defaultdict(list)  # (problem, agent) -> logs, in evaluation order
    eager = collections.defaultdict(list)    # (sweep, problem) -> log of eager's fastest call
    for name, path in (a.split("=", 1) for a in argv):
        c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        for problem, agent, base, cand, outcome in c.execute("""
                select p.name, k.generator, e.baseline_min_ms, e.candidate_min_ms, e.outcome
                from evaluations e join problems p on p.id = e.problem_id
                join candidates k on k.id = e.candidate_id order by e.id"""):
            if base:
                eager[(name, problem)].append(math.log(base))
            if outcome == "passed" and base and cand:
                samples[(problem, agent)].append(math.log(base / cand))
    spread = sorted(((statistics.pstdev(v), p, a, v) for (p, a), v in samples.items()
                     if len(v) >= 3), reverse=True)
    print("widest spreads of one candidate's samples (standard deviation of the log):")
    for sd, problem, agent, v in spread[:14]:
        print(f"  {problem:36s} {agent:30s} n={len(v)} sd={sd:.3f} "
              f"{math.exp(min(v)):.2f}x-{math.exp(max(v)):.2f}x")
    sds = [s for s, *_ in spread]
    if sds:
        print(f"candidates with 3 or more samples: {len(sds)}, median sd {statistics.median(sds):.4f}, "
              f"{100 * sum(s > 0.1 for s in sds) / len(sds):.0f}% above 0.1")
    steps = [abs(b - a) for v in samples.values() for a, b in zip(v, v[1:])]
    if steps:
        print(f"{len(steps)} steps between successive samples: sigma from their median "
              f"{statistics.median(steps) / (0.6745 * math.sqrt(2)):.4f}, from their mean square "
              f"{math.sqrt(sum(s * s for s in steps) / len(steps) / 2):.4f}")
    groups = [v for v in eager.values() if len(v) > 1]
    if groups:
        ss = sum(sum((x - statistics.mean(v)) ** 2 for x in v) for v in groups)
        dof = sum(len(v) - 1 for v in groups)
        print(f"eager across one sweep's evaluations of a problem: sigma {math.sqrt(ss / dof):.4f} "
              f"(as a ratio of two such timings: {math.sqrt(2 * ss / dof):.4f})")


if __name__ == "__main__":
    main(sys.argv[1:])
