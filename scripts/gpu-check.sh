#!/usr/bin/env bash
# Exercises kswarm's CUDA paths on a machine with an NVIDIA GPU, PyTorch and Triton:
#   - load_inline CUDA candidates (levels 1-3) and Triton candidates pass against their problems,
#     one of them at the large tier's 6.4 GB activation;
#   - in a warm worker the candidates' outputs reach the judge through CUDA IPC (and a wrong one
#     is still caught); without it, through a file the driver pins;
#   - wrong, non-compiling, crashing, hanging and context-poisoning candidates get their outcomes,
#     and so does one that holds the GPU's memory until the judge runs out;
#   - one problem timed twice in two processes gives minimums within 2% of each other (medians shown);
#   - `kswarm problems` over the bundled suite at full shapes: no degenerate problem, every
#     speed-of-light bound below eager's time (so no honest candidate can be flagged by it);
#   - `kswarm run` on a problem with a winner re-verifies it in a fresh sandbox before keeping it;
#   - a combination of every ingredient (docs/agents.md; the compile modes exclusive, so
#     max-autotune in a second one) passes on the ResNet block, and each step recipe_search
#     takes there passes;
#   - `kswarm run --replay` re-evaluates the hand-written CUDA, Triton and NVRTC (kswarm_rt)
#     candidates, laid out as a KernelBench folder (level_L_problem_P_sample_S_kernel.py), with no
#     model called; the build pool compiles the C++ extensions side by side first;
#   - containment: every candidate above runs in the jail of docs/containment.md (the isolation
#     line is printed first; with dist/ from scripts/dist.sh, its bubblewrap is used where the
#     machine has none); tests/adversarial/run.py --device cuda runs the CUDA hacks inside it;
#   - context: `kswarm run` with one LLM member of the `both` context configuration against the
#     fake LLM server (testing/fake_llm_server, in dist/): its first attempt (the NVRTC GELU
#     candidate) passes, the product profiles it under Nsight Compute, and the ncu summary and
#     torch.compile's Triton code (the reference) appear in the stored prompt of attempt 2, kept in
#     OUTDIR/next_attempt_prompt.md;
#   - optimize: `kswarm optimize` on torchvision's ResNet-18 (models/resnet18_small.py) on the GPU:
#     split, run, export, the patched model checked end to end (its report.json), and the winners
#     applied to a fresh model in another process, used at the optimized shape only; and GPT-2
#     (models/gpt2.py, small shapes), whose layers, called with keyword arguments, are exported.
# Prints a table and a verdict; keeps every JSON answer and the log in OUTDIR.
#
# Usage: scripts/gpu-check.sh [OUTDIR]
#   KSWARM_BIN     the kswarm binary (default: dist/kswarm from scripts/dist.sh, else build/kswarm)
#   KSWARM_PYTHON  interpreter with torch (default: python3)
#   GPU_CHECK_PARTS  which parts to run, comma-separated: evals (candidates, CUDA error, two
#                  processes), suite (kswarm problems, a run with a re-verified winner,
#                  combinations of recipes), replay (recorded candidates re-evaluated), context
#                  (profile and reference context through a real run), adversarial (the CUDA
#                  hacks, contained), optimize (a whole model; skipped, and said so, where
#                  torchvision is not installed); default all six
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT_DIR=${1:-${OUT:-/tmp/kswarm-gpu-check}}
mkdir -p "$OUT_DIR"
KSWARM=${KSWARM_BIN:-}
[ -n "$KSWARM" ] || { [ -x dist/kswarm ] && KSWARM=dist/kswarm || KSWARM=build/kswarm; }
export KSWARM_PYTHON=${KSWARM_PYTHON:-python3}
export KSWARM_WORKER_DIR=$ROOT/python
export TORCH_EXTENSIONS_DIR=${TORCH_EXTENSIONS_DIR:-$OUT_DIR/torch_extensions}
if ! command -v bwrap >/dev/null && [ -z "${KSWARM_BWRAP:-}" ] && [ -x dist/bwrap ]; then
  export KSWARM_BWRAP=$ROOT/dist/bwrap
fi
DB=$OUT_DIR/gpu-check.db
C=testing/candidates
L1=problems/level1/07_gelu.py
L2=problems/level2/01_linear_gelu_scale.py
L3=problems/level3/01_mlp.py

echo "== machine ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
"$KSWARM_PYTHON" -c "import torch, triton, platform; print('python', platform.python_version(), '| torch', torch.__version__, '| cuda', torch.version.cuda, '| triton', triton.__version__); p = torch.cuda.get_device_properties(0); print('SMs', p.multi_processor_count, '| L2 bytes', p.L2_cache_size)"
"$KSWARM" --version

PARTS=",${GPU_CHECK_PARTS:-evals,suite,replay,context,adversarial,optimize},"
failures=0
rows=()
if [[ $PARTS == *,evals,* ]]; then
echo "== building CUDA extensions in parallel (warm-up, answers discarded)"
start=$(date +%s)
for spec in "$L1 $C/07_gelu/cuda.py" "$L1 $C/07_gelu/no_compile.py" "$L1 $C/07_gelu/cuda_oob.py" \
            "$L2 $C/01_linear_gelu_scale/cuda.py" "$L3 $C/01_mlp/cuda.py"; do
  set -- $spec
  "$KSWARM" eval "$1" "$2" --device cuda --trials 1 --fresh --db "$OUT_DIR/warm.db" --json \
    > "$OUT_DIR/warm_$(basename "$(dirname "$2")")_$(basename "$2" .py).json" 2>>"$OUT_DIR/warm.log" &
done
wait
echo "   done in $(( $(date +%s) - start )) s"
fi

# record NAME EXPECTED SEEN_IF_OK SEEN_IF_NOT STATUS: one row of the table, ok when STATUS is 0
record() {
  if [ "$5" -eq 0 ]; then rows+=("| $1 | $2 | $3 | | | | ok |")
  else rows+=("| $1 | $2 | $4 | | | | FAIL |"); failures=$((failures + 1)); fi
}

# evaluate NAME PROBLEM CANDIDATE [extra flags...]: one `kswarm eval`, its answer in NAME.json
evaluate() {
  local name=$1 problem=$2 candidate=$3
  shift 3
  "$KSWARM" eval "$problem" "$candidate" --device cuda --fresh --db "$DB" --json "$@" \
    > "$OUT_DIR/$name.json" 2>>"$OUT_DIR/gpu-check.log"
  echo $? > "$OUT_DIR/$name.rc"
}

# row NAME EXPECTED: the table's row for NAME's answer, ok when its outcome is EXPECTED
row() {
  local name=$1 expected=$2 line
  line=$("$KSWARM_PYTHON" - "$OUT_DIR/$name.json" "$expected" "$(cat "$OUT_DIR/$name.rc")" "$name" <<'PY'
import json, sys
path, expected, rc, name = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception:
    print(f"| {name} | {expected} | (exit {rc}, no answer) | | | | FAIL |"); sys.exit()
fmt = lambda v, f: (f.format(v) if isinstance(v, (int, float)) else "-")
ok = "ok" if r["outcome"] == expected else "FAIL"
print(f"| {name} | {expected} | {r['outcome']} | {fmt(r['baseline_ms'], '{:.4f}')} | "
      f"{fmt(r['candidate_ms'], '{:.4f}')} | {fmt(r['speedup'], '{:.3f}x')} | {ok} |")
if ok != "ok":
    print("    message: " + r["message"][:600].replace("\n", "\n    "), file=sys.stderr)
PY
)
  echo "$line"
  rows+=("$line")
  [[ "$line" == *"| ok |" ]] || failures=$((failures + 1))
}

# check NAME PROBLEM CANDIDATE EXPECTED [extra flags...]: evaluated alone, so its timing holds
check() {
  local name=$1 problem=$2 candidate=$3 expected=$4
  shift 4
  evaluate "$name" "$problem" "$candidate" "$@"
  row "$name" "$expected"
}

if [[ $PARTS == *,evals,* ]]; then
echo "== evaluations"
# The failing candidates side by side (only their outcomes are checked), then the passing ones
# one at a time (their timings are shown).
evaluate l1_gelu_wrong      "$L1" $C/07_gelu/wrong.py &
evaluate l1_gelu_no_compile "$L1" $C/07_gelu/no_compile.py &
evaluate l1_gelu_crash      "$L1" $C/07_gelu/crash.py &
evaluate l1_gelu_hang       "$L1" $C/07_gelu/hang.py --timeout 30 &
evaluate l1_gelu_cuda_oob   "$L1" $C/07_gelu/cuda_oob.py &
wait
row l1_gelu_wrong      wrong
row l1_gelu_no_compile compile_error
row l1_gelu_crash      crashed
row l1_gelu_hang       timeout
row l1_gelu_cuda_oob   runtime_error
# Alone: it holds the GPU's memory, and the judge beside it runs out (its outcome, not kswarm's).
check l1_gelu_hog           "$L1" $C/07_gelu/hog.py            runtime_error
check l1_gelu_cuda          "$L1" $C/07_gelu/cuda.py           passed
check l1_gelu_triton        "$L1" $C/07_gelu/triton.py         passed
check l1_gelu_eager         "$L1" $C/07_gelu/eager.py          passed
check l2_linear_gelu_cuda   "$L2" $C/01_linear_gelu_scale/cuda.py   passed
check l2_linear_gelu_triton "$L2" $C/01_linear_gelu_scale/triton.py passed
check l3_mlp_cuda           "$L3" $C/01_mlp/cuda.py            passed
# A 6.4 GB activation (4096 x 393216 fp32): the judge compares in chunks, and the sandbox keeps
# the copies the device has no room for in host memory.
check l1_gelu_cuda_large    "$L1" $C/07_gelu/cuda.py           passed --shapes large

echo "== isolation the candidates above ran under"
isolation=$("$KSWARM_PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))['environment']['isolation'])" \
  "$OUT_DIR/l1_gelu_cuda.json" 2>/dev/null)
echo "   $isolation"
[[ $isolation == contained:* ]]
record candidates_contained "contained" "contained" "${isolation:-unknown}" $?

echo "== a CUDA error poisons the sandbox; the next evaluation gets a fresh one (evaluator_test)"
TESTS=${KSWARM_TEST_BIN:-$(dirname "$KSWARM")/evaluator_test}
KSWARM_SOURCE_DIR=$ROOT "$TESTS" --gtest_filter='*Cuda*' --gtest_also_run_disabled_tests=0 \
  > "$OUT_DIR/cuda_test.txt" 2>&1
rc=$?
tail -n 4 "$OUT_DIR/cuda_test.txt"
[ $rc -eq 0 ] && ! grep -q SKIPPED "$OUT_DIR/cuda_test.txt"
record cuda_error_restarts_worker "passed" "passed" "see cuda_test.txt" $?

echo "== outputs cross from sandbox to judge through CUDA IPC in a warm worker (bench/warm_eval.py)"
"$KSWARM_PYTHON" bench/warm_eval.py l1_nvrtc="$L1:$C/07_gelu/nvrtc.py" l1_wrong="$L1:$C/07_gelu/wrong.py" \
  l2_triton="$L2:$C/01_linear_gelu_scale/triton.py" --repeat 1 --label ipc > "$OUT_DIR/ipc.txt" 2>>"$OUT_DIR/gpu-check.log"
cat "$OUT_DIR/ipc.txt"
grep -q "| l1_nvrtc | passed | cuda_ipc |" "$OUT_DIR/ipc.txt" &&
  grep -q "| l1_wrong | wrong | cuda_ipc |" "$OUT_DIR/ipc.txt" &&
  grep -q "| l2_triton | passed | cuda_ipc |" "$OUT_DIR/ipc.txt"
record outputs_through_cuda_ipc "passed, wrong, passed" "as expected" "see ipc.txt" $?

echo "== the outputs file is pinned for DMA, and a pin the driver refuses leaves PyTorch working"
PYTHONPATH=python "$KSWARM_PYTHON" - > "$OUT_DIR/pinned.txt" 2>&1 <<'PY'
import os, tempfile, torch
from kswarm_worker import cuda_ipc, exchange
from kswarm_worker.sandbox_client import _exchange_base
x = torch.arange(1000, device="cuda", dtype=torch.float32)  # 4000 bytes: not whole pages
path = os.path.join(tempfile.mkdtemp(dir=_exchange_base()), "pinned.bin")  # where the worker's go
back = exchange.read(path, exchange.write(path, [x, x[:3].to(torch.int8)]), "cuda")
pinned = exchange._mappings[path].pinned
refused = not cuda_ipc.host_register(8, 4096, x.device)  # no such host memory
y = (x * 2).sum().item()  # the first launch after the refusal
print(f"pinned {pinned}, round trip {torch.equal(back[0], x)}, refusal seen {refused}, "
      f"next launch {y == 999000.0}, in {os.path.dirname(os.path.dirname(path))}")
exchange.forget()
os.remove(path)
os.rmdir(os.path.dirname(path))
PY
cat "$OUT_DIR/pinned.txt"
grep -q "pinned True, round trip True, refusal seen True, next launch True" "$OUT_DIR/pinned.txt"
record outputs_file_pinned "pinned, launch ok" "as expected" "see pinned.txt" $?

echo "== the same problem timed in two processes"
check repeat_a "$L2" $C/01_linear_gelu_scale/cuda.py passed
check repeat_b "$L2" $C/01_linear_gelu_scale/cuda.py passed
"$KSWARM_PYTHON" - "$OUT_DIR/repeat_a.json" "$OUT_DIR/repeat_b.json" > "$OUT_DIR/repeat.txt" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
worst = 0.0  # over the minimums, the statistic every speed-up uses (docs/verification.md)
for key in ("baseline", "candidate"):
    for stat in ("min_ms", "median_ms"):
        x, y = a[key][stat], b[key][stat]
        diff = abs(x - y) / min(x, y) * 100
        if stat == "min_ms":
            worst = max(worst, diff)
        print(f"{key:9s} {stat[:-3]:6s} {x:.4f} ms vs {y:.4f} ms: {diff:.2f}% apart "
              f"(IQR {a[key]['iqr_ms']:.4f} / {b[key]['iqr_ms']:.4f} ms, n={a[key]['count']}/{b[key]['count']})")
print(f"worst difference of the minimums {worst:.2f}% (limit 2%): {'ok' if worst <= 2.0 else 'FAIL'}")
PY
cat "$OUT_DIR/repeat.txt"
grep -q ": ok$" "$OUT_DIR/repeat.txt" || failures=$((failures + 1))
fi

if [[ $PARTS == *,suite,* ]]; then
echo "== kswarm problems over the bundled suite (full shapes)"
"$KSWARM" problems problems --device cuda --json > "$OUT_DIR/problems.json" 2>>"$OUT_DIR/gpu-check.log"
"$KSWARM" problems problems tests/adversarial/problems --device cuda > "$OUT_DIR/problems.txt" \
  2>>"$OUT_DIR/gpu-check.log"
cat "$OUT_DIR/problems.txt"
"$KSWARM_PYTHON" - "$OUT_DIR/problems.json" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
rows = out["problems"]
ok = (out["degenerate"] == [] and out["failed"] == [] and len(rows) > 30 and
      all(0 < r["bound_ms"] < r["eager_ms"] for r in rows))
closest = max(rows, key=lambda r: r["bound_ms"] / r["eager_ms"])
print(f"problems: {len(rows)} probed, degenerate {out['degenerate']}, failed {out['failed']}; "
      f"closest to its bound: {closest['name']} (eager {closest['eager_ms']:.4g} ms, bound "
      f"{closest['bound_ms']:.4g} ms): {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
record problems_degenerate_and_bound "none, bound < eager" "none, bound < eager" "see problems.json" $?

echo "== kswarm run keeps a winner only after it passes again in a fresh sandbox"
"$KSWARM" run problems/level3/06_gru.py --device cuda --name recheck --db "$OUT_DIR/run.db" \
  > "$OUT_DIR/run.txt" 2>>"$OUT_DIR/gpu-check.log"
grep -E "^verification|re-verified|06_gru" "$OUT_DIR/run.txt"
"$KSWARM_PYTHON" - "$OUT_DIR/run.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
row = c.execute("select rp.best_evaluation_id, e.purpose, e.outcome, e.speedup, e.flags_json, "
                "b.speedup from run_problems rp join evaluations e on e.id = rp.recheck_evaluation_id "
                "join evaluations b on b.id = rp.best_evaluation_id").fetchone()
ok = row is not None and row[1] == "recheck" and row[2] == "passed" and row[4] is None
print(f"recheck: {row}: {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
record run_recheck_in_fresh_sandbox "passed" "passed" "see run.txt" $?

echo "== combinations of recipes on the GPU: every ingredient in one candidate, and recipe_search"
R3=problems/level3/02_resnet_basic_block.py
"$KSWARM" agents channels_last+fold_batchnorm+cudnn_benchmark+cuda_graph+torch_compile_freezing \
  "$R3" --device cuda --out "$OUT_DIR/combination.py" 2>>"$OUT_DIR/gpu-check.log"
check combination_all_ingredients "$R3" "$OUT_DIR/combination.py" passed
# The compile modes are exclusive: max-autotune's templates, replayed from a graph, on a GEMM.
"$KSWARM" agents cuda_graph+torch_compile_max_autotune "$L2" --device cuda \
  --out "$OUT_DIR/combination_autotune.py" 2>>"$OUT_DIR/gpu-check.log"
check combination_graph_max_autotune "$L2" "$OUT_DIR/combination_autotune.py" passed
"$KSWARM" run "$R3" --agents recipe_search --device cuda --name search --db "$OUT_DIR/search.db" \
  > "$OUT_DIR/search.txt" 2>>"$OUT_DIR/gpu-check.log"
"$KSWARM_PYTHON" - "$OUT_DIR/search.db" <<'PY'
import re, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
steps = [(re.findall(r"\n# kswarm recipe: (\S+)", s)[-1], o, sp) for s, o, sp in c.execute(
    "select k.source, e.outcome, e.speedup from evaluations e join candidates k on "
    "k.id = e.candidate_id where k.generator = 'recipe_search' and e.purpose = 'candidate' "
    "order by e.id")]
ok = len(steps) >= 3 and all(o == "passed" for _, o, _ in steps)
print("recipe_search: " + "; ".join(f"{r} {o} {sp or 0:.3f}x" for r, o, sp in steps) +
      f": {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
record recipe_search_steps_pass "passed" "passed" "see search.txt" $?
fi

if [[ $PARTS == *,replay,* ]]; then
echo "== kswarm run --replay: the hand-written GPU candidates as a KernelBench folder ($(date -u +%T))"
REPLAY=$OUT_DIR/authors-gpu
rm -rf "$REPLAY" && mkdir -p "$REPLAY"
replayed=()
for dir in "$C"/*/; do
  stem=$(basename "$dir")
  problem=$(ls problems/level*/"$stem".py 2>/dev/null | head -1)
  [ -n "$problem" ] || continue
  level=${problem#problems/level}; level=${level%%/*}
  number=$((10#${stem%%_*}))
  sample=0
  for kind in cuda triton nvrtc; do
    [ -f "$dir/$kind.py" ] || continue
    cp "$dir/$kind.py" "$REPLAY/level_${level}_problem_${number}_sample_${sample}_kernel.py"
    sample=$((sample + 1))
  done
  [ "$sample" -gt 0 ] && replayed+=("$problem")
done
ls "$REPLAY"
"$KSWARM" run "${replayed[@]}" --replay "$REPLAY" --device cuda --name replay \
  --db "$OUT_DIR/replay.db" > "$OUT_DIR/replay.txt" 2>>"$OUT_DIR/gpu-check.log"
cat "$OUT_DIR/replay.txt"
"$KSWARM_PYTHON" - "$OUT_DIR/replay.db" "$(ls "$REPLAY" | wc -l)" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select p.name, e.attempt, e.outcome, e.speedup from evaluations e "
                 "join candidates k on k.id = e.candidate_id join problems p on p.id = e.problem_id "
                 "where k.generator = 'authors-gpu' and e.purpose = 'candidate' "
                 "order by p.name, e.attempt").fetchall()
for r in rows:
    print("replayed:", r)
ok = len(rows) == int(sys.argv[2]) and all(r[2] == "passed" for r in rows)
print(f"replay: {len(rows)} recorded candidates evaluated, all passed: {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
record replay_recorded_candidates "passed" "passed" "see replay.txt" $?
fi

if [[ $PARTS == *,context,* ]]; then
echo "== context configurations: ncu profile and torch.compile reference through kswarm run ($(date -u +%T))"
FAKE=${KSWARM_FAKE_LLM:-$(dirname "$KSWARM")/fake_llm_server}
[ -x "$FAKE" ] || FAKE=$(dirname "$KSWARM")/testing/fake_llm_server
CTX=$OUT_DIR/context
mkdir -p "$CTX"
"$KSWARM_PYTHON" - "$C/07_gelu/nvrtc.py" "$CTX/script.json" <<'PY'
import json, sys
source = open(sys.argv[1]).read()
reply = {"api": "openai", "text": "```python\n" + source + "```", "tokens_in": 10, "tokens_out": 10}
json.dump({"replies": [reply] * 3}, open(sys.argv[2], "w"))
PY
coproc FAKE_SERVER { "$FAKE" "$CTX/script.json" "$CTX/requests.jsonl"; }
read -r port <&"${FAKE_SERVER[0]}"
printf '[[models]]\nname = "fake"\napi = "openai"\nmodel = "fake-1"\nbase_url = "http://127.0.0.1:%s/v1"\nattempts = 2\ncontexts = ["both"]\n' \
  "$port" > "$CTX/kswarm.toml"
"$KSWARM" run "$L1" --config "$CTX/kswarm.toml" --agents torch_compile --device cuda \
  --name context --db "$CTX/context.db" > "$CTX/run.txt" 2>>"$OUT_DIR/gpu-check.log"
echo "   kswarm run exited $?"
exec {FAKE_SERVER[1]}>&-
"$KSWARM_PYTHON" - "$CTX/context.db" "$OUT_DIR/next_attempt_prompt.md" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
prof = c.execute("select tool, summary, metrics_json, error, wall_ms from profiles").fetchall()
calls = c.execute("select attempt, request_json from agent_calls where agent = 'fake+both' "
                  "and purpose = 'propose' order by attempt").fetchall()
outcomes = c.execute("select e.attempt, e.outcome, e.candidate_median_ms, e.baseline_median_ms "
                     "from evaluations e join candidates k on k.id = e.candidate_id "
                     "where k.generator = 'fake+both' and e.purpose = 'candidate' "
                     "order by e.attempt").fetchall()
print("attempts (attempt, outcome, candidate ms, eager ms):", outcomes)
ok = len(prof) == 1 and prof[0][0] == "ncu" and len(calls) == 2
if prof:
    tool, summary, metrics, error, wall_ms = prof[0]
    print(f"profile: tool {tool}, {wall_ms / 1e3:.1f} s, error {error}")
    print(summary)
    for k in json.loads(metrics or "{}").get("kernels", [])[:3]:
        print("kernel:", {key: k.get(key) for key in ("name", "time_ms_per_call", "dram_pct",
                                                       "sm_pct", "occupancy_pct",
                                                       "launches_per_call")})
if len(calls) == 2:
    messages = json.loads(calls[1][1])["messages"]
    task, feedback = messages[0]["content"], messages[-1]["content"]
    has_summary = bool(prof) and bool(prof[0][1]) and prof[0][1] in feedback
    has_reference = "torch.compile (Inductor" in task and "triton" in task
    print(f"attempt 2 prompt: ncu summary {'present' if has_summary else 'MISSING'}, "
          f"Triton reference {'present' if has_reference else 'MISSING'}")
    ok = ok and has_summary and has_reference
    with open(sys.argv[2], "w") as f:
        f.write("# The stored prompt of attempt 2 (fake+both, 07_gelu)\n\n")
        for m in messages:
            f.write(f"## {m['role']}\n\n{m['content']}\n\n")
print(f"context: ncu profile in the next attempt's prompt: {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
record context_ncu_profile_in_prompt "present" "present" "see context/" $?
fi

if [[ $PARTS == *,adversarial,* ]]; then
echo "== the CUDA hacks and honest candidates of tests/adversarial, contained ($(date -u +%T))"
"$KSWARM_PYTHON" tests/adversarial/run.py --device cuda --kswarm "$KSWARM" --jobs 4 \
  > "$OUT_DIR/adversarial.txt" 2>&1
rc=$?
cat "$OUT_DIR/adversarial.txt"
record adversarial_cuda_contained "all caught, honest pass" "as expected" "see adversarial.txt" $rc
fi

if [[ $PARTS == *,optimize,* ]]; then
# optimize_on_gpu NAME MODEL [flags...]: `kswarm optimize` into OUT_DIR/NAME (20 trials), its report shown
optimize_on_gpu() {
  local name=$1 model=$2
  shift 2
  rm -rf "$OUT_DIR/$name"
  "$KSWARM" optimize "$model" --device cuda --out "$OUT_DIR/$name" --trials 20 \
    --db "$OUT_DIR/optimize.db" "$@" > "$OUT_DIR/$name.txt" 2>>"$OUT_DIR/gpu-check.log"
  echo "   kswarm optimize exited $?"
  sed -n '/^Model /,$p' "$OUT_DIR/$name.txt"
}

echo "== kswarm optimize: torchvision ResNet-18 split, run, applied and checked end to end ($(date -u +%T))"
if "$KSWARM_PYTHON" -c "import torchvision" 2>/dev/null; then
  optimize_on_gpu optimize models/resnet18_small.py --max-parts 3
  "$KSWARM_PYTHON" - "$OUT_DIR/optimize" "$ROOT/models" <<'PY'
import json, sys
import torch
out, models = sys.argv[1:]
sys.path[:0] = [out + "/winners", models]
import kswarm_rt
import resnet18_small as m
report = json.load(open(out + "/report.json"))
torch.manual_seed(0)
original = m.get_model().eval().cuda()
model = m.get_model().eval().cuda()
model.load_state_dict(original.state_dict())
model = kswarm_rt.apply(model, out + "/winners")
with torch.no_grad():
    x = torch.randn(1, 3, 64, 64, device="cuda")
    diff = (model(x) - original(x)).abs().max().item()
    model(torch.randn(2, 3, 64, 64, device="cuda"))  # a shape never verified
parts = kswarm_rt.parts_of(model)
used = bool(parts) and all(p.calls_replaced == 1 and p.calls_original == 1
                           for p in parts.values())
ok = report["measured"]["outcome"] == "passed" and diff < 1e-2 and used
print(f"optimize: end to end {report['measured']}, {len(parts)} part(s) swapped, "
      f"max diff {diff:.2e}, winners used at the verified shape only: {used}: "
      f"{'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
  record optimize_resnet18_end_to_end "passed, applied" "as expected" "see optimize.txt" $?
else
  echo "   torchvision is not installed for $KSWARM_PYTHON: skipped"
  rows+=("| optimize_resnet18_end_to_end | passed, applied | SKIPPED: no torchvision | | | | skip |")
fi

echo "== kswarm optimize: GPT-2's layers (called with keyword arguments) exported as parts ($(date -u +%T))"
if "$KSWARM_PYTHON" -c "import transformers" 2>/dev/null; then
  optimize_on_gpu optimize_gpt2 models/gpt2.py --shapes small --max-parts 1
  "$KSWARM_PYTHON" - "$OUT_DIR/optimize_gpt2" "$ROOT/models" <<'PY'
import json, sys
import torch
out, models = sys.argv[1:]
sys.path[:0] = [out + "/winners", models]
import kswarm_rt
import gpt2 as m
for key, value in m.KSWARM_SMALL_SHAPES.items():
    setattr(m, key, value)
report = json.load(open(out + "/report.json"))
part = json.load(open(out + "/parts.json"))["parts"][0]
exported = part["class"].endswith("GPT2Block") and len(part["modules"]) == 12 and \
    part["call"]["constants"] != []
torch.manual_seed(0)
original = m.get_model().eval().cuda()
model = m.get_model().eval().cuda()
model.load_state_dict(original.state_dict())
model = kswarm_rt.apply(model, out + "/winners")
with torch.no_grad():
    x = m.get_inputs()[0].cuda()
    diff = (model(x)[0] - original(x)[0]).abs().max().item()
parts = kswarm_rt.parts_of(model)
# Where a winner was kept, each of the 12 layers runs it once; where eager was, none is swapped.
used = all(p.calls_replaced == 1 and p.calls_original == 0 for p in parts.values()) and \
    len(parts) in (0, 12)
# No winner left: nothing applied and nothing to time ("unchanged").
ok = report["measured"]["outcome"] == ("passed" if parts else "unchanged") and exported and \
    diff < 1e-2 and used
print(f"optimize gpt2: part {part['problem']} for {len(part['modules'])} layers, call "
      f"{part['call']}; end to end {report['measured']}; {len(parts)} layer(s) swapped, "
      f"max diff {diff:.2e}: {'ok' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
  record optimize_gpt2_layers_exported "passed, exported" "as expected" "see optimize_gpt2.txt" $?
else
  echo "   transformers is not installed for $KSWARM_PYTHON: skipped"
  rows+=("| optimize_gpt2_layers_exported | passed, exported | SKIPPED: no transformers | | | | skip |")
fi
fi

echo
echo "| check | expected | outcome | eager ms (fastest call) | candidate ms (fastest call) | speedup | |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if [ "$failures" -eq 0 ]; then echo "gpu-check: all checks passed"; else echo "gpu-check: $failures check(s) FAILED"; fi
exit $(( failures > 0 ))
