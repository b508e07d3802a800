#!/usr/bin/env bash
# The built-in sweep of a suite with an earlier kswarm (a git revision, built here) and with this
# one, one after the other on this machine, each with empty caches of its own (Inductor, Triton,
# builds), and the ratio of their wall times.
# Usage: bench/sweep_compare.sh REVISION OUTDIR PATH... [-- kswarm run flags]
# Example (CPU): bench/sweep_compare.sh 293e94d /tmp/cmp problems -- --device cpu --shapes small
# The earlier revision's worktree and build stay in OUTDIR for the next comparison; remove them
# with `git worktree remove OUTDIR/kswarm-<sha>`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rev=$1 out=$2; shift 2
mkdir -p "$out"
args=("$@")
[[ " ${args[*]} " == *" -- "* ]] || args+=(--)
python=${KSWARM_PYTHON:-$( [ -x .venv/bin/python ] && echo "$root/.venv/bin/python" || echo python3 )}
sha=$(git rev-parse --short "$rev")
tree=$out/kswarm-$sha
if [ ! -x "$tree/build/kswarm" ]; then
  rm -rf "$tree"; git worktree prune
  git worktree add --detach "$tree" "$sha" > /dev/null
  cmake -S "$tree" -B "$tree/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKSWARM_PYTHON="$python" > "$out/build-$sha.log"
  cmake --build "$tree/build" --target kswarm >> "$out/build-$sha.log"
fi
sweep() {  # sweep NAME BINARY WORKER_DIR
  rm -rf "$out/$1"; mkdir -p "$out/$1/cache"
  KSWARM_BIN=$2 KSWARM_PYTHON=$python KSWARM_WORKER_DIR=$3 XDG_CACHE_HOME=$out/$1/cache \
    TORCH_EXTENSIONS_DIR=$out/$1/cache/torch_extensions SWEEP_DB=$out/$1/sweep.db \
    bench/sweep_rate.sh "${args[@]}" > "$out/$1/sweep.txt" 2>&1 || { tail -20 "$out/$1/sweep.txt"; exit 1; }
  grep -E "problems per minute" "$out/$1/sweep.txt" | sed "s/^/$1: /"
}
echo "== $(date -u +%FT%TZ) $(uname -m), $(nproc) cores; before: $sha, now: $(git rev-parse --short HEAD)"
sweep before "$tree/build/kswarm" "$tree/python"
sweep now "$root/build/kswarm" "$root/python"
"$python" - "$out" <<'PY'
import re, sqlite3, sys
out = sys.argv[1]
def wall(name):
    return float(re.search(r"this invocation: ([0-9.]+) s", open(f"{out}/{name}/sweep.txt").read()).group(1))
def winners(name):
    c = sqlite3.connect(f"{out}/{name}/sweep.db")
    return dict(c.execute("""select p.name, coalesce(k.generator, 'eager') from run_problems rp
                             join problems p on p.id = rp.problem_id
                             left join evaluations e on e.id = rp.best_evaluation_id
                             left join candidates k on k.id = e.candidate_id"""))
b, n = wall("before"), wall("now")
print(f"wall time: before {b:.1f} s, now {n:.1f} s: {b / n:.2f}x faster")
wb, wn = winners("before"), winners("now")
same = sum(wb[p] == wn.get(p) for p in wb)
print(f"same kept agent on {same} of {len(wb)} problems")
for p in wb:
    if wb[p] != wn.get(p):
        print(f"  {p}: before {wb[p]}, now {wn.get(p)}")
PY
