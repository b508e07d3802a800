#!/usr/bin/env bash
# How fast one candidate goes through kswarm on a GPU: the NVRTC fast path (kswarm_rt), the
# transports of outputs, the spare sandbox and the build cache. Needs a CUDA machine with torch
# (scripts/dist.sh carries the binary there).
#   1. kswarm_rt: compile time of the bundled NVRTC candidates' kernels, cold (empty cache) and
#      cached, and one launch checked against torch;
#   2. the NVRTC candidates of a level-1 and a level-2 problem in a warm worker, as during a run
#      (bench/warm_eval.py: 100 trials, full shapes): verification and timing per evaluation, with
#      outputs through CUDA IPC (the default) and through files (KSWARM_CUDA_IPC=0);
#   3. a fresh sandbox per evaluation (what a recheck asks for), 6 s apart (a run's other
#      candidates, during which spares start), with two spare sandboxes (the default), one
#      (KSWARM_SPARE_SANDBOX=1) and none (=0): the build phase;
#   4. a load_inline candidate already in the build cache (built here first, in the background
#      while 1-3 run), the same way: its build phase is the load of the cached library in a
#      fresh (spare) sandbox.
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

echo "== building the load_inline candidate for part 4 in the background"
"$KSWARM" eval "$L1" $C/07_gelu/cuda.py --device cuda --trials 1 --fresh --db "$OUT_DIR/build.db" \
  --json > "$OUT_DIR/build.json" 2>>"$OUT_DIR/eval_speed.log" &
build_pid=$!
start=$(date +%s)

W="$KSWARM_PYTHON bench/warm_eval.py"
echo "== NVRTC candidates in a warm worker, outputs through CUDA IPC"
$W l1_nvrtc="$L1:$C/07_gelu/nvrtc.py" l2_nvrtc="$L2:$C/01_linear_gelu_scale/nvrtc.py" \
  --repeat 5 --label ipc
echo "== the same, outputs through files (KSWARM_CUDA_IPC=0)"
$W l1_nvrtc="$L1:$C/07_gelu/nvrtc.py" l2_nvrtc="$L2:$C/01_linear_gelu_scale/nvrtc.py" \
  --repeat 3 --env KSWARM_CUDA_IPC=0 --label file
for spares in 2 1 0; do
  echo "== a fresh sandbox per evaluation, $spares spare sandboxes (KSWARM_SPARE_SANDBOX=$spares)"
  $W l2_nvrtc="$L2:$C/01_linear_gelu_scale/nvrtc.py" --repeat 4 --fresh --gap 6 \
    --env KSWARM_SPARE_SANDBOX=$spares --label "spares-$spares"
done

wait $build_pid
echo "== load_inline candidate built in the background: $(( $(date +%s) - start )) s after the" \
  "start of part 2 ($("$KSWARM_PYTHON" -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['outcome'], 'in', round(r['wall_ms']/1e3, 1), 's')" "$OUT_DIR/build.json" 2>/dev/null))"
echo "== the load_inline candidate from the build cache, in a warm worker"
$W l1_load_inline_cached="$L1:$C/07_gelu/cuda.py" --repeat 3 --fresh --gap 10 --label cached
