"""kswarm optimize over whole models, one after another, and a table of what each gave:

    python3 bench/optimize_models.py OUTDIR [--models a,b] [--kswarm BIN] -- [optimize flags]

Runs `kswarm optimize models/<name>.py --out OUTDIR/<name> --db OUTDIR/kswarm.db FLAGS` per model
(default: every file of models/) and prints, per model, its parts, their share of its time, the
whole-model speed-up the parts predict, the one measured end to end (eager's and the patched
model's fastest calls) and the wall time; every report.json stays under OUTDIR. Needs no torch
itself: the numbers come from kswarm's reports.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--models", default="")
    parser.add_argument("--kswarm", default=os.environ.get("KSWARM_BIN",
                                                           os.path.join(ROOT, "build", "kswarm")))
    args = parser.parse_args(argv)
    names = args.models.split(",") if args.models else sorted(
        os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "models", "*.py")))
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for name in names:
        out = os.path.join(args.out, name)
        started = time.time()
        with open(os.path.join(args.out, f"{name}.log"), "w") as log:
            rc = subprocess.run([args.kswarm, "optimize", os.path.join(ROOT, "models", f"{name}.py"),
                                 "--out", out, "--db", os.path.join(args.out, "kswarm.db"), *extra],
                                stdout=log, stderr=subprocess.STDOUT).returncode
        wall = time.time() - started
        try:
            with open(os.path.join(out, "report.json")) as f:
                r = json.load(f)
        except OSError:
            rows.append(f"| {name} | exit {rc}, no report (see {name}.log) | | | | | | {wall:.0f} |")
            continue
        m = r["measured"] or {}
        fmt = lambda v, f: f.format(v) if isinstance(v, (int, float)) else "-"
        kept = sum(1 for p in r["parts"] if p["kept"] != "eager")
        covered = sum(p["share"] for p in r["parts"])
        rows.append(f"| {name} | {len(r['parts'])} ({kept} kept) | {covered:.1%} | "
                    f"{r['predicted_speedup']:.3f}x | "
                    f"{fmt(m.get('speedup'), '{:.3f}x') if m.get('speedup') else m.get('outcome', '-')} | "
                    f"{fmt(m.get('eager_ms'), '{:.3f}')} | {fmt(m.get('patched_ms'), '{:.3f}')} | "
                    f"{wall:.0f} |")
        print(rows[-1], flush=True)
    print("\n| model | problems | share covered | predicted | measured | eager ms | patched ms "
          "| wall s |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
