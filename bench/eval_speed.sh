#!/usr/bin/env bash
# How fast one candidate goes through kswarm on a GPU: the NVRTC fast path (kswarm_rt) and the
# build cache. Needs a CUDA machine with torch (scripts/dist.sh carries the binary there).
#   1. kswarm_rt: compile time of the bundled NVRTC candidates' kernels, cold (empty cache) and
#      cached, and one launch checked against torch;
#   2. `kswarm eval` (100 trials) of each NVRTC candidate: wall time (a fresh worker and sandbox
#      included) and phases;
#   3. `kswarm eval` of a load_inline candidate already in the build cache (run this after
#      scripts/gpu-check.sh's replay part with the same TORCH_EXTENSIONS_DIR, which builds it):
#      its build phase is the load of the cached library.
# Usage: bench/eval_speed.sh [OUTDIR]   (KSWARM_BIN, KSWARM_PYTHON as for scripts/gpu-check.sh;
#        TORCH_EXTENSIONS_DIR: the build cache, default OUTDIR/torch_extensions)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT_DIR=${1:-/tmp/kswarm-eval-speed}
mkdir -p "$OUT_DIR"
KSWARM=${KSWARM_BIN:-$( [ -x dist/kswarm ] && echo dist/kswarm || echo build/kswarm )}
export KSWARM_PYTHON=${KSWARM_PYTHON:-python3}
export KSWARM_WORKER_DIR=$ROOT/python
export TORCH_EXTENSIONS_DIR=${TORCH_EXTENSIONS_DIR:-$OUT_DIR/torch_extensions}
export KSWARM_RT_CACHE=$OUT_DIR/nvrtc  # empty: the first compile of each kernel is cold
rm -rf "$KSWARM_RT_CACHE"
C=testing/candidates
L1=problems/level1/07_gelu.py
L2=problems/level2/01_linear_gelu_scale.py

echo "== kswarm_rt compile times"
PYTHONPATH=$ROOT/python "$KSWARM_PYTHON" - <<'PY'
import os, re, time, torch, kswarm_rt
for path, name in [("testing/candidates/07_gelu/nvrtc.py", "gelu"),
                   ("testing/candidates/01_linear_gelu_scale/nvrtc.py", "bias_gelu_scale")]:
    src = re.search(r'_SOURCE = r"""(.*?)"""', open(path).read(), re.S).group(1)
    times = []
    for _ in range(2):
        t = time.perf_counter()
        _, _, cached = kswarm_rt.compile_cubin(src, name)
        times.append(((time.perf_counter() - t) * 1e3, cached))
    print(f"{name}: cold {times[0][0]:.1f} ms (cached={times[0][1]}), "
          f"from the cache {times[1][0]:.2f} ms (cached={times[1][1]})")
src = re.search(r'_SOURCE = r"""(.*?)"""', open("testing/candidates/07_gelu/nvrtc.py").read(),
                re.S).group(1)
k = kswarm_rt.kernel(src, "gelu")
x = torch.randn(8192 * 4096 + 3, device="cuda")
y = torch.empty_like(x)
k(grid=((x.numel() + 1023) // 1024,), block=(256,), args=(x, y, kswarm_rt.i64(x.numel())))
err = (y - torch.nn.functional.gelu(x)).abs().max().item()
print(f"launch: gelu on {x.numel()} floats, max abs error vs torch {err:.2e}: "
      f"{'ok' if err < 1e-5 else 'FAIL'}")
PY

# eval NAME PROBLEM CANDIDATE: one row of wall time and phases
rows=()
eval_row() {
  local name=$1 problem=$2 candidate=$3
  local json="$OUT_DIR/$name.json"
  "$KSWARM" eval "$problem" "$candidate" --device cuda --fresh --db "$OUT_DIR/speed.db" --json \
    > "$json" 2>>"$OUT_DIR/eval_speed.log"
  rows+=("$("$KSWARM_PYTHON" - "$json" "$name" <<'PY'
import json, sys
path, name = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception:
    print(f"| {name} | no answer | | | | | | |"); sys.exit()
p = r.get("phase_ms") or {}
f = lambda v: f"{v / 1e3:.2f}" if isinstance(v, (int, float)) else "-"
speedup = f"{r['speedup']:.3f}x" if r.get("speedup") else "-"
print(f"| {name} | {r['outcome']} | {f(r.get('wall_ms'))} | {f(p.get('load'))} | "
      f"{f(p.get('build'))} | {f(p.get('verify'))} | {f(p.get('time'))} | {speedup} |")
PY
)")
  echo "${rows[-1]}"
}

echo "== kswarm eval, 100 trials"
eval_row l1_nvrtc "$L1" $C/07_gelu/nvrtc.py
eval_row l2_nvrtc "$L2" $C/01_linear_gelu_scale/nvrtc.py
eval_row l1_load_inline_cached "$L1" $C/07_gelu/cuda.py

echo
echo "| eval | outcome | wall s | load s | build s | verify s | time s | speedup |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
