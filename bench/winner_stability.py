"""How reproducible the timings of sweeps of one suite are, from their databases: for each pair of
databases, how far apart the speed-ups of the same (problem, agent) are when taken from medians
and when taken from minimums (torch.compile candidates apart from the others), how many problems
kept the same agent, and how many would have under a rule that picks, from each candidate's first
evaluation, the largest speed-up of at least 1 + gain by medians (with the quartile condition
kswarm applied before worker 0.5.0) or by minimums (kswarm's rule since, less its re-verification
and its tie order). Also each database's spread of timed calls (IQR / median), and which agent
kswarm would have kept had a contender's first recheck alone decided (before the deciding recheck:
a contender whose recheck is correct but not clearly faster now gets a third evaluation), replayed
from the rechecks the database holds, and which agent it would have kept without looking again at
near misses (first evaluations just short of the minimum gain, rechecked only when no contender
was kept): eager wherever the kept evaluation is a near miss's recheck, and which it would have kept
had the first confirmed contender stayed kept (before challengers: another agent's contender within
noise of the kept one, rechecked after it, takes over when clearly faster again). The problems
whose kept agent differs are listed.

Usage: python3 bench/winner_stability.py NAME=SWEEP_DB NAME=SWEEP_DB [...]
(bench/multi_gpu_sweep.sh leaves OUTDIR/one/sweep.db and OUTDIR/all/sweep.db)."""

import itertools
import json
import math
import sqlite3
import statistics
import sys


def load(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    evals = c.execute("""
        select p.name, c.generator, e.purpose, e.baseline_median_ms, e.baseline_iqr_ms,
               e.baseline_min_ms, e.candidate_median_ms, e.candidate_iqr_ms, e.candidate_min_ms
        from evaluations e join problems p on p.id = e.problem_id
        join candidates c on c.id = e.candidate_id
        where e.outcome = 'passed' and coalesce(e.flags_json, '') in ('', '[]')
        order by e.id""").fetchall()
    kept_rows = c.execute("""
        select p.name, coalesce(c.generator, 'eager'), e.purpose = 'recheck' from run_problems rp
        join problems p on p.id = rp.problem_id
        left join evaluations e on e.id = rp.best_evaluation_id
        left join candidates c on c.id = e.candidate_id""").fetchall()
    kept = {p: g for p, g, _ in kept_rows}
    rechecks = c.execute("""
        select p.name, c.generator, e.outcome = 'passed' and coalesce(e.flags_json, '') in ('', '[]'),
               e.baseline_min_ms / e.candidate_min_ms
        from evaluations e join problems p on p.id = e.problem_id
        join candidates c on c.id = e.candidate_id
        where e.purpose = 'recheck' order by e.id""").fetchall()
    config = c.execute("select config_json from runs order by id limit 1").fetchone()
    gain = json.loads(config[0]).get("min_gain", 0.01) if config and config[0] else 0.01
    contenders = {}
    for (problem, agent), (_, low, _) in first_evaluations(evals).items():
        if low >= 1 + gain:
            contenders.setdefault(problem, set()).add(agent)
    # A kept recheck is a near miss's, or a challenger's that took over (a contender's own).
    without_near_misses = {p: "eager" if recheck and g not in contenders.get(p, set()) else g
                           for p, g, recheck in kept_rows}
    return (evals, kept, one_recheck_rule(kept, rechecks, contenders, gain),
            without_near_misses, without_challengers(kept, rechecks, contenders, gain))


def contender_runs(rechecks, contenders):
    """problem -> [(agent, [(ok, speed-up) of each recheck])] of the contenders' rechecks, in the
    order kswarm made them (a contender's rows are consecutive)."""
    by_problem = {}
    for problem, agent, ok, speedup in rechecks:
        if agent not in contenders.get(problem, set()):
            continue
        runs = by_problem.setdefault(problem, [])
        if runs and runs[-1][0] == agent:
            runs[-1][1].append((ok, speedup))
        else:
            runs.append((agent, [(ok, speedup)]))
    return by_problem


def without_challengers(kept, rechecks, contenders, gain):
    """problem -> the agent kept had the first confirmed contender stayed kept (kswarm before
    challengers): the first contender whose recheck, or else its deciding one, passed and was
    clearly faster; where none was, what kswarm kept (a near miss, or eager). Challengers are
    rechecked after that contender, so this is exact."""
    runs = contender_runs(rechecks, contenders)
    out = {}
    for problem, winner in kept.items():
        out[problem] = winner if winner not in contenders.get(problem, set()) else "eager"
        for agent, tries in runs.get(problem, []):
            if any(ok and speedup and speedup >= 1 + gain for ok, speedup in tries[:2]):
                out[problem] = agent
                break
    return out


def one_recheck_rule(kept, rechecks, contenders, gain):
    """problem -> the agent kept had each contender's first recheck alone decided, or None where
    that needs a recheck the run did not make (it kept a contender on its deciding recheck while
    another contender was left). Contenders (first evaluation clearly faster) are rechecked in the
    order kswarm chose; a contender's rows are consecutive. Near misses' rechecks (after every
    contender's) are left out: the earlier rule had none."""
    by_problem = contender_runs(rechecks, contenders)
    out = {}
    for problem, winner in kept.items():
        runs = by_problem.get(problem, [])
        out[problem] = "eager"
        for i, (agent, tries) in enumerate(runs):
            ok, speedup = tries[0]
            if ok and speedup and speedup >= 1 + gain:
                out[problem] = agent
                break
            left = contenders.get(problem, set()) - {a for a, _ in runs}
            if i == len(runs) - 1 and winner == agent and len(tries) > 1 and left:
                out[problem] = None  # the deciding recheck kept it; the next was never rechecked
    return out


def first_evaluations(evals):
    """(problem, agent) -> (median speed-up, min speed-up, row) of its first evaluation."""
    out = {}
    for row in evals:
        p, g, purpose, bm, bi, bmin, cm, ci, cmin = row
        if purpose == "candidate":
            out.setdefault((p, g), (bm / cm, bmin / cmin, row))
    return out


def pick(first, problems, statistic, gain):
    """Each problem's winner among its candidates' first evaluations, else eager."""
    best = {p: ("eager", 1.0) for p in problems}
    for (p, g), (med, low, row) in first.items():
        _, _, _, bm, bi, _, cm, ci, _ = row
        if statistic == "median":
            speedup, ok = med, med >= 1 + gain and cm + ci / 2 < bm - bi / 2
        else:
            speedup, ok = low, low >= 1 + gain
        if ok and speedup > best[p][1]:
            best[p] = (g, speedup)
    return {p: g for p, (g, _) in best.items()}


def quantile(values, q):
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def main() -> int:
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[1:]):
        print(__doc__)
        return 2
    sweeps = {}
    for arg in sys.argv[1:]:
        name, path = arg.split("=", 1)
        sweeps[name] = load(path)
    print("## Spread of timed calls (IQR / median, %), all evaluations\n")
    print("| sweep | eager p50 | eager p90 | torch.compile p50 | torch.compile p90 | "
          "other agents p50 | other agents p90 |\n|---|---|---|---|---|---|---|")
    for name, (evals, *_) in sweeps.items():
        eager = [100 * r[4] / r[3] for r in evals]
        tc = [100 * r[7] / r[6] for r in evals if r[1] == "torch_compile"]
        other = [100 * r[7] / r[6] for r in evals if r[1] != "torch_compile"]
        print(f"| {name} | " + " | ".join(f"{quantile(v, q):.1f}" for v in (eager, tc, other)
                                          for q in (0.5, 0.9)) + " |")
    print("\n## The same candidate's speed-up in two sweeps: |ratio - 1|, %, over all pairs\n")
    print("| agents | from | pairs | p50 | p75 | p90 | p95 |\n|---|---|---|---|---|---|---|")
    firsts = {name: first_evaluations(evals) for name, (evals, *_) in sweeps.items()}
    for tc_only in (True, False):
        for index, statistic in ((0, "medians"), (1, "minimums")):
            devs = []
            for a, b in itertools.combinations(sweeps, 2):
                for key, va in firsts[a].items():
                    vb = firsts[b].get(key)
                    if vb and (key[1] == "torch_compile") == tc_only:
                        devs.append(abs(math.log(va[index] / vb[index])))
            if devs:
                print(f"| {'torch.compile' if tc_only else 'the others'} | {statistic} | "
                      f"{len(devs)} | " + " | ".join(f"{100 * (math.exp(quantile(devs, q)) - 1):.1f}"
                                                     for q in (0.5, 0.75, 0.9, 0.95)) + " |")
    print("\n## Problems with the same winner, of those both sweeps ran\n")
    rules = [("median", g) for g in (0.01, 0.03, 0.05)] + [("min", g) for g in (0.01, 0.03, 0.05)]
    print("| pair | kept by kswarm | without near misses | without challengers | "
          "first recheck alone (unknown) | " +
          " | ".join(f"{s} >= {g:.0%}" for s, g in rules) + " |\n|---|---|---|---|---|" +
          "---|" * len(rules))
    differing = []
    for a, b in itertools.combinations(sweeps, 2):
        ka, kb = sweeps[a][1], sweeps[b][1]
        common = sorted(set(ka) & set(kb))
        cells = [f"{sum(ka[p] == kb[p] for p in common)} of {len(common)}"]
        for rule in (3, 4):  # without near misses, without challengers
            na, nb = sweeps[a][rule], sweeps[b][rule]
            cells.append(str(sum(na[p] == nb[p] for p in common)))
        differing += [f"{a} - {b}: {p}: {ka[p]} / {kb[p]}" for p in common if ka[p] != kb[p]]
        oa, ob = sweeps[a][2], sweeps[b][2]
        unknown = sum(oa[p] is None or ob[p] is None for p in common)
        cells.append(f"{sum(oa[p] is not None and oa[p] == ob[p] for p in common)} ({unknown})")
        for statistic, gain in rules:
            wa = pick(firsts[a], common, statistic, gain)
            wb = pick(firsts[b], common, statistic, gain)
            cells.append(str(sum(wa[p] == wb[p] for p in common)))
        print(f"| {a} - {b} | " + " | ".join(cells) + " |")
    print("\nKept by kswarm, differing:\n" + "\n".join(differing or ["(none)"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
