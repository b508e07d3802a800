"""torch.compile with and without Inductor's freezing (weights folded in as constants), against
eager, on problems of the suite at their small shapes, in this process (no sandbox):

    python3 bench/compile_freezing.py problems/level3/05_small_cnn_classifier.py ...

Prints per problem the fastest of 30 calls of each (eager and plain compile timed before and
after the frozen one, the faster kept), the compile times, and the frozen output's difference
from eager's. A probe of what a freezing recipe could gain, not a kswarm evaluation.
"""
import importlib.util
import os
import sys
import time

import torch
import torch._inductor.config as inductor_config


def load(path):
    spec = importlib.util.spec_from_file_location(f"probe_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dynamo imports the module of what it traces
    spec.loader.exec_module(module)
    for key, value in getattr(module, "KSWARM_SMALL_SHAPES", {}).items():
        setattr(module, key, value)
    return module


def fastest_ms(fn, inputs, calls=30):
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(*inputs)
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def compiled(fn, inputs):
    t0 = time.perf_counter()
    fn = torch.compile(fn)
    fn(*inputs)
    return fn, time.perf_counter() - t0


def main() -> int:
    for path in sys.argv[1:]:
        problem = load(path)
        torch.manual_seed(0)
        model = problem.Model(*problem.get_init_inputs()).eval()
        inputs = problem.get_inputs()
        # Two functions, not one: dynamo keeps its compiled code per code object.
        def run_plain(*args):
            return model(*args)

        def run_frozen(*args):
            return model(*args)

        with torch.no_grad():
            plain, plain_s = compiled(run_plain, inputs)
            with inductor_config.patch(freezing=True):
                frozen, frozen_s = compiled(run_frozen, inputs)
                diff = (frozen(*inputs) - model(*inputs)).abs().max().item()
                before = [fastest_ms(model, inputs), fastest_ms(plain, inputs)]
                frozen_ms = fastest_ms(frozen, inputs)
            after = [fastest_ms(model, inputs), fastest_ms(plain, inputs)]
        eager_ms, plain_ms = min(before[0], after[0]), min(before[1], after[1])
        name = os.path.basename(path)[:-3]
        print(f"| {name} | {eager_ms:.3f} | {plain_ms:.3f} | {frozen_ms:.3f} | "
              f"{plain_ms / frozen_ms:.2f}x | {plain_s:.0f} / {frozen_s:.0f} | {diff:.1e} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
