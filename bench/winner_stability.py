"""How stable kswarm's verdicts are across sweeps of one suite, and what the verdict rule costs,
from the sweeps' databases. For each database: problems, fresh samples the verdict rule asked for
(docs/verification.md, "The verdict"), their share of all evaluation time and of the run's wall
time (first start to last finish in the runs table). For each pair: how
many problems kept the same agent, and each problem that did not, with both kept speed-ups and
intervals, marked "within noise" where the two kept estimates are within the minimum gain of each
other or either interval holds the other's estimate (the rule cannot tell such candidates apart).

Usage: python3 bench/winner_stability.py NAME=SWEEP_DB NAME=SWEEP_DB [...]
(bench/multi_gpu_sweep.sh leaves OUTDIR/one/sweep.db and OUTDIR/all/sweep.db)."""

import datetime
import itertools
import json
import sqlite3
import sys


def load(path):
    """(problem -> (kept agent, speed-up, low, high), (fresh-sample ms, all evaluations' ms, run
    wall ms), fresh samples, min_gain) of the newest run in the database."""
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    run_id, config, started, finished = c.execute(
        "select id, config_json, started_at, finished_at from runs where command = 'run' "
        "order by id desc limit 1").fetchone()
    stamp = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    wall_ms = (stamp(finished) - stamp(started)).total_seconds() * 1e3 if finished else 0.0
    gain = json.loads(config or "{}").get("min_gain", 0.01)
    kept = {}
    columns = {r[1] for r in c.execute("pragma table_info(run_problems)")}
    interval = ("rp.speedup_low, rp.speedup_high" if "speedup_low" in columns
                else "null, null")  # databases before schema 9
    for name, agent, speedup, low, high in c.execute(f"""
            select p.name, coalesce(k.generator, 'eager'), rp.speedup, {interval}
            from run_problems rp join problems p on p.id = rp.problem_id
            left join evaluations e on e.id = rp.best_evaluation_id
            left join candidates k on k.id = e.candidate_id
            where rp.run_id = ? and rp.status = 'done'""", (run_id,)):
        kept[name] = (agent, speedup or 1.0, low, high)
    fresh_ms, all_ms, fresh = c.execute("""
        select coalesce(sum(case when purpose = 'recheck' then wall_ms end), 0),
               coalesce(sum(wall_ms), 0), count(case when purpose = 'recheck' then 1 end)
        from evaluations where run_id = ?""", (run_id,)).fetchone()
    return kept, (fresh_ms, all_ms, wall_ms), fresh, gain


def within_noise(a, b, gain):
    (_, sa, la, ha), (_, sb, lb, hb) = a, b
    if max(sa, sb) <= min(sa, sb) * (1 + gain):
        return True
    return any(lo is not None and lo <= s <= hi for lo, hi, s in ((la, ha, sb), (lb, hb, sa)))


def show(v):
    agent, s, lo, hi = v
    return f"{agent} {s:.3f}x" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None else "")


def main(argv):
    if len(argv) < 2 or any("=" not in a for a in argv):
        sys.exit(__doc__)
    dbs = {name: load(path) for name, path in (a.split("=", 1) for a in argv)}
    for name, (kept, (fresh_ms, all_ms, wall_ms), fresh, _) in dbs.items():
        share = lambda total: f"{100 * fresh_ms / total:.1f}%" if total else "-"  # noqa: E731
        print(f"{name}: {len(kept)} problems done in {wall_ms / 1e3:.1f} s, {fresh} fresh samples "
              f"({fresh_ms / 1e3:.1f} s): {share(all_ms)} of evaluation time, {share(wall_ms)} "
              "of the run's wall time")
    for (na, (ka, _, _, gain)), (nb, (kb, _, _, _)) in itertools.combinations(dbs.items(), 2):
        both = sorted(set(ka) & set(kb))
        differ = [p for p in both if ka[p][0] != kb[p][0]]
        print(f"\n{na} vs {nb}: same kept agent on {len(both) - len(differ)} of {len(both)} problems")
        for p in differ:
            note = "within noise" if within_noise(ka[p], kb[p], gain) else "DIFFERENT"
            print(f"  {p}: {show(ka[p])} vs {show(kb[p])}: {note}")


if __name__ == "__main__":
    main(sys.argv[1:])
