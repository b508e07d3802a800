"""The code torch.compile generates for a problem, as reference context for agents:
python3 -m kswarm_worker.inductor_code --problem P --device cpu|cuda [--shapes S] [--seed N].

Compiles the problem's Model with Inductor, runs it once on the problem's inputs and prints one JSON
line on the private protocol stream: {"code": the generated module(s) (Triton kernels on CUDA,
C++/OpenMP on the CPU, and the wrapper that calls them), "compile_ms"} or {"error": "..."}.
Only the problem's own code runs here; kswarm caches the answer per problem, device and torch
version.
"""

import argparse
import re
import sys

# Lines of the generated module that say nothing about the kernels (temporary paths of this
# machine, the compiler's bookkeeping).
_NOISE = re.compile(r"^\s*# (kernel path|Source node to ATen node mapping|Original ATen|"
                    r"Graph fragment|Topologically Sorted Source Nodes):"
                    r"|^(from \S+ )?import |^\w+ = torch\.(_C|ops)\b")
_TAIL = "def benchmark_compiled_module"  # the module's self-benchmark, to its end


def _trim(source: str) -> str:
    source = source.split(_TAIL, 1)[0]
    return "\n".join(l for l in source.splitlines() if not _NOISE.match(l)).strip()


def generated_code(args) -> str:
    import torch
    from torch._inductor.utils import run_and_get_code

    from . import inputs as inputs_mod
    from .errors import describe_exception
    problem = inputs_mod.load_problem(args.problem, args.shapes, describe_exception)
    init = inputs_mod.init_inputs(problem, args.problem, describe_exception)
    torch.manual_seed(args.seed)
    model = problem.Model(*init).to(args.device).eval()
    inputs = inputs_mod.draw_inputs(problem, args.seed, args.device, args.problem,
                                    describe_exception)
    compiled = torch.compile(model)
    with torch.no_grad():
        _, sources = run_and_get_code(compiled, *inputs)
    return "\n\n".join(_trim(source) for source in sources)


def main() -> int:
    parser = argparse.ArgumentParser(prog="kswarm_worker.inductor_code")
    parser.add_argument("--problem", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--shapes", choices=["full", "small", "large"], default="full")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from .server import answer_once

    def answer():
        code = generated_code(args)
        if not code.strip():
            return {"error": "torch.compile generated no code for this problem"}
        return {"code": code}
    return answer_once(answer, "compile_ms")


if __name__ == "__main__":
    sys.exit(main())
