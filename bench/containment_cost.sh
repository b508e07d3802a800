#!/usr/bin/env bash
# What containment (docs/containment.md) costs an evaluation: the same `kswarm run` contained and
# uncontained (bubblewrap hidden: built-in agents then run as they are; other authors' candidates
# need --uncontained, which this script passes), both on a compiler cache a first, uncontained run
# filled, so compiles cost neither. Prints each run's wall time and its evaluations' summed and
# median wall time, and contained over uncontained.
# Usage: bench/containment_cost.sh OUTDIR PATH... [-- kswarm run flags]
#   COST_SKIP_WARM=1 skips the warm-up run (the cache in OUTDIR/cache is already warm)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; shift
mkdir -p "$out"
KSWARM=${KSWARM_BIN:-$( [ -x dist/kswarm ] && echo dist/kswarm || echo build/kswarm )}
default_python=python3; [ -x .venv/bin/python ] && default_python=$PWD/.venv/bin/python
export KSWARM_PYTHON=${KSWARM_PYTHON:-$default_python} KSWARM_WORKER_DIR=${KSWARM_WORKER_DIR:-$PWD/python}
export XDG_CACHE_HOME=$out/cache
if ! command -v bwrap >/dev/null && [ -z "${KSWARM_BWRAP:-}" ] && [ -x dist/bwrap ]; then
  export KSWARM_BWRAP=$PWD/dist/bwrap
fi
contained_bwrap=${KSWARM_BWRAP:-$(command -v bwrap)}
args=("$@")
[[ " ${args[*]} " == *" -- "* ]] || args+=(--)
paths=(); flags=(); seen=0
for a in "${args[@]}"; do
  if [ "$a" = "--" ]; then seen=1; elif [ $seen = 0 ]; then paths+=("$a"); else flags+=("$a"); fi
done

run() {  # run NAME BWRAP
  rm -f "$out/$1.db"*
  local start end
  start=$(date +%s.%N)
  KSWARM_BWRAP=$2 "$KSWARM" run "${paths[@]}" --name "$1" --db "$out/$1.db" --uncontained \
    "${flags[@]}" > "$out/$1.txt" 2> "$out/$1.err" || { tail -20 "$out/$1.err"; exit 1; }
  end=$(date +%s.%N)
  "$KSWARM_PYTHON" - "$out/$1.db" "$1" "$start" "$end" <<'PY'
import sqlite3, statistics, sys
db, name, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
c = sqlite3.connect(db)
walls = [r[0] for r in c.execute("select wall_ms from evaluations")]
iso = c.execute("select isolation, count(*) from evaluations group by isolation").fetchall()
print(f"{name}: {end - start:.1f} s wall, {len(walls)} evaluations, {sum(walls) / 1e3:.1f} s summed, "
      f"median {statistics.median(walls) / 1e3:.2f} s; isolation {iso}")
PY
}

[ "${COST_SKIP_WARM:-0}" = 1 ] || run warm /nonexistent/bwrap
run contained "$contained_bwrap"
run uncontained /nonexistent/bwrap
"$KSWARM_PYTHON" - "$out/contained.db" "$out/uncontained.db" <<'PY'
import sqlite3, statistics, sys
def walls(db):
    c = sqlite3.connect(db)
    return {(p, g, a, u): w for p, g, a, u, w in c.execute(
        "select e.problem_id, k.generator, e.attempt, e.purpose, e.wall_ms from evaluations e "
        "join candidates k on k.id = e.candidate_id")}
a, b = walls(sys.argv[1]), walls(sys.argv[2])
both = sorted(set(a) & set(b))
ratios = [a[k] / b[k] for k in both if b[k] > 0]
print(f"matched evaluations: {len(both)}; contained / uncontained: summed "
      f"{sum(a[k] for k in both) / sum(b[k] for k in both):.3f}, median per evaluation "
      f"{statistics.median(ratios):.3f}")
for k in sorted(both, key=lambda k: b[k] - a[k])[:3]:  # where containment cost most
    print(f"  problem {k[0]} {k[1]} attempt {k[2]} {k[3]}: contained {a[k] / 1e3:.2f} s, "
          f"uncontained {b[k] / 1e3:.2f} s")
PY
