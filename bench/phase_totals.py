"""Where a sweep's evaluation time went, from its database: per purpose (first evaluations,
fresh samples) the total of each phase the worker records (load, build, verify, time, and two
parts of time, time_between_calls and time_checks, and two of build, build_sandbox and
build_candidate; prebuild where the build pool built ahead),
the median verification (all trials) and evaluation, and the
median wall time per problem. For the large tier on a GPU:

    SWEEP_DB=/tmp/large.db bench/sweep_rate.sh problems -- --device cuda --shapes large
    python3 bench/phase_totals.py /tmp/large.db

Usage: python3 bench/phase_totals.py SWEEP_DB"""

import collections
import json
import sqlite3
import statistics
import sys


def main(argv):
    if len(argv) != 1:
        sys.exit(__doc__)
    c = sqlite3.connect(f"file:{argv[0]}?mode=ro", uri=True)
    run_id = c.execute("select id from runs where command = 'run' order by id desc limit 1").fetchone()
    if run_id is None:
        sys.exit(f"{argv[0]}: no run")
    totals = collections.defaultdict(lambda: collections.defaultdict(float))
    verify, walls, counts = collections.defaultdict(list), collections.defaultdict(list), collections.Counter()
    for purpose, phases, wall in c.execute(
            "select purpose, phase_ms_json, wall_ms from evaluations where run_id = ?", run_id):
        counts[purpose] += 1
        walls[purpose].append(wall or 0)
        for phase, ms in json.loads(phases or "{}").items():
            totals[purpose][phase] += ms
        if phases and "verify" in json.loads(phases):
            verify[purpose].append(json.loads(phases)["verify"])
    for purpose in sorted(counts):
        name = {"candidate": "first evaluations", "recheck": "fresh samples"}.get(purpose, purpose)
        phases = ", ".join(f"{p} {ms / 1e3:.1f} s" for p, ms in sorted(totals[purpose].items()))
        print(f"{name}: {counts[purpose]}, {sum(walls[purpose]) / 1e3:.1f} s ({phases}); median "
              f"evaluation {statistics.median(walls[purpose]) / 1e3:.2f} s, median verification "
              f"{statistics.median(verify[purpose]) / 1e3 if verify[purpose] else 0:.2f} s")
    problems = [ms / 1e3 for (ms,) in c.execute(
        "select wall_ms from run_problems where run_id = ? and wall_ms is not null", run_id)]
    statuses = dict(c.execute("select status, count(*) from run_problems where run_id = ? "
                              "group by status", run_id).fetchall())
    if problems:
        print(f"problems: {statuses}; median {statistics.median(problems):.1f} s per problem, "
              f"total {sum(problems):.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
