#!/usr/bin/env bash
# Measures how many problems per minute a built-in sweep (`kswarm run`) gets through, and prints
# a table of wall time per problem. Usage: bench/sweep_rate.sh PATH... [-- kswarm run flags]
# Example (CPU): bench/sweep_rate.sh problems -- --device cpu --shapes small
# SWEEP_DB=path keeps the database there instead of a temporary folder; the run is named "sweep",
# so running the script again with the same SWEEP_DB resumes a sweep that was stopped (the rate
# then counts each problem's own wall time, which resuming does not change).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do paths+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
KSWARM=${KSWARM_BIN:-$( [ -x dist/kswarm ] && echo dist/kswarm || echo build/kswarm )}
# Candidates contained as users run them: on a machine without bubblewrap, the one in dist/
# (scripts/dist.sh), as scripts/gpu-check.sh does.
if ! command -v bwrap >/dev/null && [ -z "${KSWARM_BWRAP:-}" ] && [ -x dist/bwrap ]; then
  export KSWARM_BWRAP=$PWD/dist/bwrap
fi
PYTHON=${KSWARM_PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
db=${SWEEP_DB:-$(mktemp -d)/sweep.db}
start=$(date +%s.%N)
rc=0
"$KSWARM" run "${paths[@]}" --name sweep --db "$db" "$@" > /dev/null || rc=$?
end=$(date +%s.%N)
[ "$rc" -eq 0 ] || { echo "sweep_rate: kswarm run exited $rc (run again with SWEEP_DB=$db to resume)"; exit "$rc"; }
"$PYTHON" - "$db" "$start" "$end" <<'PY'
import sqlite3, sys
db, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
c = sqlite3.connect(db)
rows = c.execute("""select p.level, p.name, rp.status, rp.wall_ms from run_problems rp
                    join problems p on p.id = rp.problem_id order by rp.position""").fetchall()
config = c.execute("select config_json from runs where name = 'sweep'").fetchone()[0]
env = c.execute("select device_name, torch_version from evaluations limit 1").fetchone()
wall = end - start
problem_s = sum(ms for *_, ms in rows) / 1000
print(f"device: {env[0]}; torch {env[1]}; config: {config}")
print("| level | problem | status | wall s |\n|---|---|---|---|")
for level, name, status, ms in rows:
    print(f"| {level} | {name} | {status} | {ms / 1000:.1f} |")
print(f"\n{len(rows)} problems in {problem_s:.1f} s of per-problem wall time: "
      f"{60 * len(rows) / problem_s:.2f} problems per minute "
      f"(this invocation: {wall:.1f} s, worker start included)")
PY
"$KSWARM" report sweep --db "$db"
