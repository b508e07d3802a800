"""What a sweep's database says each set of agents would have given: per set, the geomean over
the run's problems of the fastest passed, unflagged first evaluation of an agent of the set
(floor 1x, eager counting 1x), over eager and over torch.compile (problems where torch_compile
passed), and the evaluation time the set's agents took. An estimate from first evaluations: what
the run kept is the verdict's decision over all of them (`kswarm report`).

    python3 bench/agent_sets.py SWEEP_DB default=torch_compile,cuda_graph all=*

Usage: python3 bench/agent_sets.py SWEEP_DB NAME=AGENT[,AGENT...]|NAME=* ..."""

import collections
import math
import sqlite3
import sys


def main(argv):
    if len(argv) < 2 or any("=" not in a for a in argv[1:]):
        sys.exit(__doc__)
    c = sqlite3.connect(f"file:{argv[0]}?mode=ro", uri=True)
    run = c.execute("select id from runs where command = 'run' order by id desc limit 1").fetchone()
    if run is None:
        sys.exit(f"{argv[0]}: no run")
    best = collections.defaultdict(dict)  # problem -> agent -> fastest passed speed-up
    seconds = collections.Counter()
    problems = set()
    for problem, agent, outcome, speedup, flags, wall in c.execute(
            "select p.level || '/' || p.name, k.generator, e.outcome, e.speedup, e.flags_json, "
            "e.wall_ms from evaluations e join candidates k on k.id = e.candidate_id "
            "join problems p on p.id = e.problem_id where e.run_id = ? and e.purpose = 'candidate'",
            run):
        problems.add(problem)
        seconds[agent] += (wall or 0) / 1e3
        if outcome == "passed" and flags is None and speedup:
            best[problem][agent] = max(speedup, best[problem].get(agent, 0))
    print(f"{len(problems)} problems; evaluation time per agent: " +
          ", ".join(f"{a} {s:.0f} s" for a, s in seconds.most_common()))
    print("| set | geomean over eager (floor 1) | over torch.compile | problems vs torch.compile "
          "| evaluation s |\n|---|---|---|---|---|")
    for spec in argv[1:]:
        name, agents = spec.split("=", 1)
        members = None if agents == "*" else set(agents.split(","))
        logs, over_compile = [], []
        for problem in sorted(problems):
            got = [s for a, s in best[problem].items() if members is None or a in members]
            kept = max([1.0] + got)
            logs.append(math.log(kept))
            if "torch_compile" in best[problem]:
                over_compile.append(math.log(kept / best[problem]["torch_compile"]))
        spent = sum(s for a, s in seconds.items() if members is None or a in members)
        mean = lambda xs: math.exp(sum(xs) / len(xs)) if xs else float("nan")
        print(f"| {name} | {mean(logs):.3f}x | {mean(over_compile):.3f}x | {len(over_compile)} "
              f"| {spent:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
