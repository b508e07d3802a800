"""Eager at each intra-op thread count, on problems of the suite at their small shapes, in this
process (no sandbox): what a thread-settings recipe could gain on this CPU.

    python3 bench/cpu_threads.py problems/level*/*.py

Prints per problem the median of 40 calls at each thread count from 1 to torch's default, the
counts taken in turn over four rounds (the best round of each kept), then the geomean of the
best count's gain over the default. A probe, not a kswarm evaluation.
"""
import math
import statistics
import sys
import time

import torch

from compile_freezing import load


def median_ms(model, inputs, calls=40):
    times = []
    with torch.no_grad():
        for _ in range(calls):
            t0 = time.perf_counter_ns()
            model(*inputs)
            times.append((time.perf_counter_ns() - t0) / 1e6)
    return statistics.median(times)


def main(paths):
    default = torch.get_num_threads()
    counts = list(range(1, default + 1))
    gains = []
    print(f"torch {torch.__version__}, default threads {default}")
    for path in paths:
        module = load(path)
        torch.manual_seed(0)
        model = module.Model(*module.get_init_inputs()).eval()
        inputs = module.get_inputs()
        best = {n: math.inf for n in counts}
        for _ in range(4):
            for n in counts:
                torch.set_num_threads(n)
                median_ms(model, inputs, calls=5)  # warm at this count
                best[n] = min(best[n], median_ms(model, inputs))
        torch.set_num_threads(default)
        fastest = min(counts, key=lambda n: best[n])
        gains.append(best[default] / best[fastest])
        row = "  ".join(f"{n}t {best[n]:.3f} ms" for n in counts)
        print(f"{path}: {row}  best {fastest}t, {best[default] / best[fastest]:.3f}x")
    print(f"geomean gain of the best count over {default}: "
          f"{math.exp(sum(map(math.log, gains)) / len(gains)):.3f}x over {len(gains)} problems")


if __name__ == "__main__":
    if not sys.argv[1:]:
        sys.exit(__doc__)
    main(sys.argv[1:])
