"""Local workers against one and two Slurm workers on this host: the same problems and agents, a
one-host Slurm cluster started for the purpose (testing/slurm/cluster.py). Prints each
configuration's wall time, geomean over eager, kept agents, and where the kept agent differs from
the local run's.

Usage: bench/slurm_workers.py [PATH...] [-- kswarm run flags]   (root; slurm-wlm and munge)
Default: the bundled level-1 problems, --device cpu --shapes small."""

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "testing", "slurm"))
import cluster  # noqa: E402

KSWARM = os.environ.get("KSWARM_BIN", os.path.join(ROOT, "build", "kswarm"))


def sweep(env, db, paths, flags, extra):
    start = time.monotonic()
    proc = subprocess.run([KSWARM, "run", *paths, "--name", "bench", "--db", db, *flags, *extra],
                          env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"kswarm run {' '.join(extra)} failed:\n{proc.stderr[-3000:]}")
    report = subprocess.run([KSWARM, "report", "bench", "--db", db, "--format", "json"],
                            capture_output=True, text=True, check=True)
    data = json.loads(report.stdout)
    kept = {p["name"]: p["kept"] for p in data["problems"]}
    return wall, data["geomean_speedup_vs_eager"]["overall"], kept


def main(argv):
    paths, flags = argv, []
    if "--" in argv:
        i = argv.index("--")
        paths, flags = argv[:i], argv[i + 1:]
    paths = paths or [os.path.join(ROOT, "problems", "level1")]
    flags = flags or ["--device", "cpu", "--shapes", "small"]
    configs = [("local", []),
               ("slurm x1", ["--executor", "slurm", "--workers", "1"]),
               ("slurm x2", ["--executor", "slurm", "--workers", "2"])]
    rows = []
    with tempfile.TemporaryDirectory() as d, cluster.local_cluster(os.path.join(d, "slurm")) as env:
        for name, extra in configs:
            db = os.path.join(d, name.replace(" ", "_") + ".db")
            rows.append((name, *sweep(env, db, paths, flags, extra)))
    local_kept = rows[0][3]
    print(f"problems: {len(local_kept)}; flags: {' '.join(flags)}; cores: {os.cpu_count()}")
    print(f"{'workers':<10} {'wall s':>8} {'geomean':>8} {'kept non-eager':>15} {'same kept as local':>19}")
    for name, wall, geomean, kept in rows:
        same = sum(kept.get(p) == k for p, k in local_kept.items())
        non_eager = sum(k != "eager" for k in kept.values())
        print(f"{name:<10} {wall:>8.1f} {geomean:>8.3f} {non_eager:>15} {same:>12}/{len(local_kept)}")
    for name, _, _, kept in rows[1:]:
        for p, k in sorted(local_kept.items()):
            if kept.get(p) != k:
                print(f"  {name}: {p} kept {kept.get(p)}, local kept {k}")


if __name__ == "__main__":
    main(sys.argv[1:])
