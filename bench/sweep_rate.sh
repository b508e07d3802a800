#!/usr/bin/env bash
# Measures how many problems per minute a built-in sweep (`kswarm run`) gets through, and prints
# a table of wall time per problem. Usage: bench/sweep_rate.sh PATH... [-- kswarm run flags]
# Example (CPU): bench/sweep_rate.sh problems -- --device cpu --shapes small
set -euo pipefail
cd "$(dirname "$0")/.."
paths=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do paths+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
KSWARM=${KSWARM_BIN:-$( [ -x dist/kswarm ] && echo dist/kswarm || echo build/kswarm )}
PYTHON=${KSWARM_PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
db=$(mktemp -d)/sweep.db
start=$(date +%s.%N)
"$KSWARM" run "${paths[@]}" --name sweep --db "$db" "$@" > /dev/null
end=$(date +%s.%N)
"$PYTHON" - "$db" "$start" "$end" <<'PY'
import sqlite3, sys
db, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
c = sqlite3.connect(db)
rows = c.execute("""select p.level, p.name, rp.status, rp.wall_ms from run_problems rp
                    join problems p on p.id = rp.problem_id order by rp.position""").fetchall()
config = c.execute("select config_json from runs where name = 'sweep'").fetchone()[0]
env = c.execute("select device_name, torch_version from evaluations limit 1").fetchone()
wall = end - start
print(f"device: {env[0]}; torch {env[1]}; config: {config}")
print("| level | problem | status | wall s |\n|---|---|---|---|")
for level, name, status, ms in rows:
    print(f"| {level} | {name} | {status} | {ms / 1000:.1f} |")
print(f"\n{len(rows)} problems in {wall:.1f} s of wall time (worker start included): "
      f"{60 * len(rows) / wall:.2f} problems per minute")
PY
