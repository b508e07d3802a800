#!/usr/bin/env bash
# Runs every built-in agent on CUDA over a few bundled problems (a convolution with batch norms, a
# recurrent model, a matmul) and checks that each fp32 agent's candidates are correct, that the
# reduced-precision agents ran and are labelled, and that the run resumes. Needs a GPU machine.
# Usage: scripts/gpu-agents-check.sh [OUTDIR]   (KSWARM_BIN, KSWARM_PYTHON as for gpu-check.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-${OUT:-/tmp/kswarm-gpu-agents}}
mkdir -p "$OUT_DIR"
KSWARM=${KSWARM_BIN:-$( [ -x dist/kswarm ] && echo dist/kswarm || echo build/kswarm )}
export KSWARM_PYTHON=${KSWARM_PYTHON:-python3} KSWARM_WORKER_DIR=$PWD/python
AGENTS=torch_compile,torch_compile_max_autotune,torch_compile_cudagraphs,cuda_graph,cudnn_benchmark
AGENTS=$AGENTS,channels_last,channels_last_cudnn_benchmark,fold_batchnorm,tf32,bf16_autocast
"$KSWARM" run problems/level3/02_resnet_basic_block.py problems/level3/04_lstm.py \
  problems/level1/01_matmul_square.py --name agents --device cuda --precision reduced \
  --agents "$AGENTS" --trials 20 --db "$OUT_DIR/agents.db" > "$OUT_DIR/run.txt" 2> "$OUT_DIR/run.err"
rc=$?
cat "$OUT_DIR/run.txt"
"$KSWARM" report agents --format json --db "$OUT_DIR/agents.db" --out "$OUT_DIR/report.json"
"$KSWARM_PYTHON" - "$OUT_DIR/report.json" "$rc" <<'PY'
import json, sys
report, rc = json.load(open(sys.argv[1])), int(sys.argv[2])
reduced = {"tf32", "bf16_autocast"}
failures = [] if rc == 0 else [f"kswarm run exited {rc}"]
for agent, by_level in sorted(report["agents"].items()):
    incorrect = sum(c["incorrect"] for c in by_level.values())
    ran = sum(sum(c.values()) for c in by_level.values())
    print(f"{agent:32s} ran on {ran} problems, incorrect on {incorrect}")
    if incorrect and agent not in reduced:
        failures.append(f"{agent} produced incorrect candidates")
missing = set("""torch_compile torch_compile_max_autotune torch_compile_cudagraphs cuda_graph
    cudnn_benchmark channels_last channels_last_cudnn_benchmark fold_batchnorm tf32
    bf16_autocast""".split()) - set(report["agents"])
if missing:
    failures.append(f"agents that never ran: {sorted(missing)}")
for p in report["problems"]:
    if p["reduced_precision"] != (p["kept"] in reduced):
        failures.append(f"{p['name']}: reduced-precision label wrong")
print("gpu-agents-check: " + ("all checks passed" if not failures else "FAILED: " + "; ".join(failures)))
sys.exit(1 if failures else 0)
PY
