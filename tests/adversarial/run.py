"""Runs every hack in tests/adversarial/hacks/ and a set of honest candidates through
`kswarm eval`, and prints which check caught each hack. Exit 1 when a hack got through or an
honest candidate did not pass cleanly.

Usage: python3 tests/adversarial/run.py --device cpu|cuda [--kswarm BIN] [--shapes small|full]
                                       [--jobs N]
Each hack's first line names its problem and the devices it applies to:
    # target: PATH | device: any|cuda
and its second line says what it tries."""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HACKS = os.path.join(ROOT, "tests", "adversarial", "hacks")
# (problem, candidate, devices): hand-written kernels and references that must pass unflagged.
HONEST = [
    ("problems/level1/07_gelu.py", "testing/candidates/07_gelu/cpu_cpp.py", "cpu"),
    ("problems/level1/07_gelu.py", "testing/candidates/07_gelu/eager.py", "any"),
    ("problems/level1/07_gelu.py", "testing/candidates/07_gelu/tanh_approx.py", "any"),
    ("problems/level2/01_linear_gelu_scale.py", "testing/candidates/01_linear_gelu_scale/cpu_cpp.py", "cpu"),
    ("problems/level3/01_mlp.py", "testing/candidates/01_mlp/cpu_cpp.py", "cpu"),
    ("problems/level1/07_gelu.py", "testing/candidates/07_gelu/cuda.py", "cuda"),
    ("problems/level1/07_gelu.py", "testing/candidates/07_gelu/triton.py", "cuda"),
    ("problems/level2/01_linear_gelu_scale.py", "testing/candidates/01_linear_gelu_scale/cuda.py", "cuda"),
    ("problems/level2/01_linear_gelu_scale.py", "testing/candidates/01_linear_gelu_scale/triton.py", "cuda"),
    ("problems/level3/01_mlp.py", "testing/candidates/01_mlp/cuda.py", "cuda"),
]

_CHECKS = [  # (pattern in the message or flags, check name)
    (r"static check: (\w+)", None),
    (r"^static (\w+)", None),
    (r"degenerate problem", "degenerate-problem check"),
    (r"replaced ", "integrity of harness functions"),
    (r"thread", "threads still running after the call"),
    (r"changed after forward\(\) returned", "outputs stable after the call"),
    (r"shares memory with input", "no aliasing of inputs"),
    (r"modified its inputs", "inputs unchanged"),
    (r"tensor subclass", "plain tensors only"),
    (r"re-checked after timing", "outputs re-checked after timing"),
    (r"has strides", "outputs in the reference's memory layout"),
    (r"parameters changed in place", "weights changed mid-verification"),
    (r"(uniform|shifted) inputs", "varied input distributions"),
    (r"own inputs", "verification on the problem's own inputs"),
]


def caught_by(result: dict) -> str:
    texts = [result.get("message") or ""] + [f["detail"] for f in result.get("flags") or []]
    for text in texts:
        for pattern, name in _CHECKS:
            m = re.search(pattern, text)
            if m:
                return name or f"static check ({m.group(1)})"
    return result["outcome"]


def evaluate(kswarm, device, shapes, problem, candidate, db):
    cmd = [kswarm, "eval", os.path.join(ROOT, problem), os.path.join(ROOT, candidate),
           "--device", device, "--shapes", shapes, "--trials", "6", "--timeout", "300",
           "--db", db, "--json", "--fresh"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"outcome": f"error (exit {proc.returncode})", "message": proc.stderr[-500:]}
    return json.loads(proc.stdout)


def header(path):
    with open(path) as f:
        first, second = f.readline(), f.readline()
    m = re.match(r"#\s*target:\s*(\S+)\s*\|\s*device:\s*(\w+)", first)
    if not m:
        raise SystemExit(f"{path}: first line must be '# target: PATH | device: any|cuda'")
    return m.group(1), m.group(2), second.lstrip("# ").strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", choices=["cpu", "cuda"], required=True)
    ap.add_argument("--kswarm", default=os.path.join(ROOT, "build", "kswarm"))
    ap.add_argument("--shapes", default=None, help="default: small on cpu, full on cuda")
    ap.add_argument("--only", default="", help="comma-separated hack names, or 'none'")
    ap.add_argument("--honest", default="all", choices=["all", "device", "none"],
                    help="device: only the honest candidates specific to --device; none: no "
                         "honest candidate")
    ap.add_argument("--jobs", type=int, default=1,
                    help="hacks evaluated side by side (their outcomes do not depend on timing; "
                         "the honest candidates are always evaluated one at a time)")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    shapes = args.shapes or ("small" if args.device == "cpu" else "full")
    db = os.path.join(tempfile.mkdtemp(), "adversarial.db")
    failures = []
    hacks = []
    for name in sorted(os.listdir(HACKS)):
        if not name.endswith(".py"):
            continue
        problem, devices, what = header(os.path.join(HACKS, name))
        if devices != "any" and devices != args.device:
            continue
        if args.only and name[:-3] not in args.only.split(","):
            continue
        hacks.append((name, problem, what))
    print("| hack | what it tries | outcome | caught by |\n|---|---|---|---|")
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = pool.map(  # in order, each printed as soon as it and those before it are in
            lambda h: evaluate(args.kswarm, args.device, shapes, h[1],
                               os.path.join("tests", "adversarial", "hacks", h[0]), db), hacks)
        for (name, problem, what), r in zip(hacks, results):
            flagged = bool(r.get("flags"))
            caught = r["outcome"] != "passed" or flagged
            if r["outcome"].startswith("error"):
                caught = False
            verdict = caught_by(r) if caught else "NOT CAUGHT"
            label = r["outcome"] + (" + flagged" if flagged and r["outcome"] == "passed" else "")
            print(f"| {name[:-3]} | {what} | {label} | {verdict} |", flush=True)
            if not caught:
                failures.append(f"{name}: {r['outcome']}: {r.get('message', '')[:300]}")
    print("\n| honest candidate | problem | outcome | speedup |\n|---|---|---|---|")
    for problem, candidate, devices in HONEST:
        if args.honest == "none" or devices != args.device and (
                devices != "any" or args.honest == "device"):
            continue
        r = evaluate(args.kswarm, args.device, shapes, problem, candidate, db)
        ok = r["outcome"] == "passed" and not r.get("flags")
        speedup = f"{r['speedup']:.3f}x" if r.get("speedup") else "-"
        print(f"| {candidate} | {problem} | {r['outcome']}{'' if ok else ' (FAIL)'} | {speedup} |",
              flush=True)
        if not ok:
            failures.append(f"honest {candidate}: {r['outcome']} {r.get('flags')} "
                            f"{r.get('message', '')[:300]}")
    print("\nadversarial: " + ("all hacks caught, all honest candidates passed" if not failures
                              else "FAILED:\n  " + "\n  ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
