#!/usr/bin/env bash
# Times one problem/candidate pair N times, each in a fresh kswarm process, and reports how far the
# medians of the separate processes lie apart, with the GPU's clocks, temperature and power
# before each run (they move timings). Usage: bench/timing_repeat.sh PROBLEM CANDIDATE [N] [flags...]
set -uo pipefail
cd "$(dirname "$0")/.."
problem=$1 candidate=$2 n=${3:-5}
shift $(( $# >= 3 ? 3 : 2 ))
KSWARM=${KSWARM_BIN:-$( [ -x dist/kswarm ] && echo dist/kswarm || echo build/kswarm )}
export KSWARM_PYTHON=${KSWARM_PYTHON:-python3} KSWARM_WORKER_DIR=$PWD/python
tmp=$(mktemp -d)
for i in $(seq 1 "$n"); do
  gpu=$(nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv,noheader 2>/dev/null | head -1)
  "$KSWARM" eval "$problem" "$candidate" --fresh --db "$tmp/db" --json "$@" > "$tmp/$i.json" || exit 1
  echo "$gpu" > "$tmp/$i.gpu"
done
"$KSWARM_PYTHON" - "$tmp" "$n" <<'PY'
import json, statistics, sys
tmp, n = sys.argv[1], int(sys.argv[2])
runs = [json.load(open(f"{tmp}/{i}.json")) for i in range(1, n + 1)]
gpus = [open(f"{tmp}/{i}.gpu").read().strip() for i in range(1, n + 1)]
print("| run | eager median ms | eager IQR | candidate median ms | candidate IQR | speedup | GPU before (sm, mem, temp, power) |")
print("|---|---|---|---|---|---|---|")
for i, (r, g) in enumerate(zip(runs, gpus), 1):
    b, c = r["baseline"], r["candidate"]
    print(f"| {i} | {b['median_ms']:.4f} | {b['iqr_ms']:.4f} | {c['median_ms']:.4f} | {c['iqr_ms']:.4f} | {r['speedup']:.3f}x | {g} |")
for key in ("baseline", "candidate"):
    med = [r[key]["median_ms"] for r in runs]
    print(f"{key}: spread (max-min)/min = {100 * (max(med) - min(med)) / min(med):.2f}% over {n} processes")
sp = [r["speedup"] for r in runs]
print(f"speedup: spread {100 * (max(sp) - min(sp)) / min(sp):.2f}%")
PY
rm -rf "$tmp"
