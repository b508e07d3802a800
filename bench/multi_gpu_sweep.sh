#!/usr/bin/env bash
# The built-in sweep of a suite on one GPU and on every GPU of the host, and whether both kept the
# same winners. By default each sweep starts from empty caches of its own (Inductor, Triton,
# builds), one GPU first. With SWEEP_CACHE=DIR (a cache an earlier sweep of the same suite filled)
# both use it, all GPUs first, so that whatever that earlier sweep left uncompiled is compiled in
# the all-GPU sweep and favours the one-GPU sweep.
# Usage: [SWEEP_CACHE=DIR] [SWEEP_ONLY=one|all] bench/multi_gpu_sweep.sh OUTDIR PATH... [-- flags]
# Prints both sweeps' rates (bench/sweep_rate.sh), how each rechecked candidate's first
# evaluation compares with its re-verification in a fresh sandbox, the speed-up of all GPUs over
# one, a table of each problem's kept agent in both runs, and bench/winner_stability.py over the two.
# SWEEP_ONLY runs one of the two (into OUTDIR/one or OUTDIR/all), for machines whose command
# limit is shorter than both together; the comparison is printed once both are in OUTDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; shift
mkdir -p "$out"
export KSWARM_PYTHON=${KSWARM_PYTHON:-python3} KSWARM_WORKER_DIR=${KSWARM_WORKER_DIR:-$PWD/python}
args=("$@")
[[ " ${args[*]} " == *" -- "* ]] || args+=(--)
gpus=$(nvidia-smi -L | wc -l)
all=$(seq -s, 0 $((gpus - 1)))
run() {  # run NAME CUDA_VISIBLE_DEVICES
  rm -rf "$out/$1"; mkdir -p "$out/$1/cache"
  local start end
  start=$(date +%s.%N)
  CUDA_VISIBLE_DEVICES=$2 XDG_CACHE_HOME=${SWEEP_CACHE:-$out/$1/cache} SWEEP_DB=$out/$1/sweep.db \
    bench/sweep_rate.sh "${args[@]}" > "$out/$1/sweep.txt" 2>&1 || { cat "$out/$1/sweep.txt"; exit 1; }
  end=$(date +%s.%N)
  echo "$1 (CUDA_VISIBLE_DEVICES=$2): $(python3 -c "print(f'{$end - $start:.1f}')") s"
  grep -E "problems per minute|timed calls on" "$out/$1/sweep.txt"
}
echo "== $gpus GPUs: $(nvidia-smi --query-gpu=name --format=csv,noheader | sort | uniq -c | xargs)"
case "${SWEEP_ONLY:-}" in
  one) run one 0 ;;
  all) run all "$all" ;;
  *)
    if [ -n "${SWEEP_CACHE:-}" ]; then
      run all "$all"
      run one 0
    else
      run one 0
      run all "$all"
    fi ;;
esac
# A candidate's first evaluation runs in the worker's warm sandbox, its re-verification in a fresh
# one: where they differ, what the sandbox kept from earlier jobs moved the timing.
for name in one all; do
  [ -f "$out/$name/sweep.db" ] || continue
  python3 - "$out/$name/sweep.db" "$name" <<'PY'
import sqlite3, statistics, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("""select p.name, c.generator, e.purpose, e.candidate_median_ms
                    from evaluations e join problems p on p.id = e.problem_id
                    join candidates c on c.id = e.candidate_id
                    where e.outcome = 'passed' order by e.id""").fetchall()
first, fresh = {}, {}
for problem, gen, purpose, ms in rows:
    (first if purpose == "candidate" else fresh).setdefault((problem, gen), ms)
ratios = {k: first[k] / fresh[k] for k in first if k in fresh}
if ratios:
    far = sorted((k for k in ratios if not 0.8 <= ratios[k] <= 1.25), key=lambda k: -ratios[k])
    print(f"{sys.argv[2]}: first evaluation (warm sandbox) over re-verification (fresh sandbox), "
          f"{len(ratios)} candidates: median {statistics.median(ratios.values()):.3f}; "
          f"outside 0.8-1.25: " + (", ".join(f"{p} {g} {ratios[(p, g)]:.2f}" for p, g in far)
                                   or "none"))
PY
done
[ -f "$out/one/sweep.db" ] && [ -f "$out/all/sweep.db" ] || exit 0
python3 - "$out" <<'PY'
import re, sqlite3, sys
out = sys.argv[1]
def wall(name):
    m = re.search(r"this invocation: ([0-9.]+) s", open(f"{out}/{name}/sweep.txt").read())
    return float(m.group(1))
def winners(name):
    c = sqlite3.connect(f"{out}/{name}/sweep.db")
    rows = c.execute("""select p.name, rp.status, coalesce(c.generator, 'eager'), rp.speedup
                        from run_problems rp join problems p on p.id = rp.problem_id
                        left join evaluations e on e.id = rp.best_evaluation_id
                        left join candidates c on c.id = e.candidate_id order by rp.position""")
    return {n: (s, g, sp) for n, s, g, sp in rows}
one, all_ = winners("one"), winners("all")
print(f"\nwall time: one GPU {wall('one'):.1f} s, all GPUs {wall('all'):.1f} s: "
      f"{wall('one') / wall('all'):.2f}x")
print("| problem | one GPU: kept (speedup) | all GPUs: kept (speedup) | same |\n|---|---|---|---|")
same = 0
for name in one:
    a, b = one[name], all_.get(name, ("missing", "-", None))
    eq = a[1] == b[1]
    same += eq
    fmt = lambda w: f"{w[1]} ({w[2]:.3f}x)" if w[2] else f"{w[1]} ({w[0]})"
    print(f"| {name} | {fmt(a)} | {fmt(b)} | {'yes' if eq else 'NO'} |")
print(f"\nsame winner on {same} of {len(one)} problems")
PY
echo
python3 bench/winner_stability.py one="$out/one/sweep.db" all="$out/all/sweep.db"
