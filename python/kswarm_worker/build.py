"""One job of the build pool: python3 -m kswarm_worker.build --candidate PATH --arch ARCH
[--static-policy reject|report].

Compiles a candidate's custom code into the build cache (buildcache.py) ahead of its evaluation,
in a process of its own that sees no GPU, so that the evaluation finds it built. Importing the
candidate is what builds it (`load_inline` at module level, kswarm_rt kernels); this process is as
untrusted as the sandbox: kswarm starts it with the sandbox's scrubbed environment, in its own
process group, under a deadline. Under the reject policy a candidate that the static check rejects
is never imported here.

Prints one line {"outcome", "message", "build_ms"} with outcome
  built          imported; whatever it compiles is in the cache
  compile_error  its custom code does not compile: the verdict, with the trimmed log
  skipped        rejected by the static check; the evaluation says so
  failed         the import failed otherwise (it may need the GPU); the evaluation decides
"""

import argparse
import json
import os
import sys
import time

from .errors import describe_exception, is_build_error
from .sandbox_client import compile_threads
from .server import private_protocol
from .static_check import check_source


def build(candidate_path: str, arch: str, static_policy: str) -> dict:
    try:
        with open(candidate_path, "rb") as f:
            source = f.read()
    except OSError as e:
        return {"outcome": "failed", "message": f"{candidate_path}: {e.strerror}"}
    forbidden = [f for f in check_source(source.decode("utf-8", errors="replace"))
                 if f.severity == "forbidden"]
    if forbidden and static_policy == "reject":
        return {"outcome": "skipped", "message": "rejected by the static check"}
    from . import buildcache, inputs
    buildcache.prepare(source, arch)
    try:
        inputs.load_module(candidate_path, "kswarm_candidate_")
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        outcome = "compile_error" if is_build_error(e) else "failed"
        return {"outcome": outcome, "message": f"candidate failed to load: {describe_exception(e)}"}
    return {"outcome": "built", "message": ""}


def main() -> int:
    parser = argparse.ArgumentParser(prog="kswarm_worker.build")
    parser.add_argument("--candidate", required=True)
    parser.add_argument("--arch", required=True, help='"sm_90" or "cpu-x86_64" (buildcache.arch_of)')
    parser.add_argument("--static-policy", choices=["reject", "report"], default="reject")
    args = parser.parse_args()
    os.environ["TORCHINDUCTOR_COMPILE_THREADS"] = compile_threads(None)
    _, proto_out = private_protocol()  # the candidate's prints go to stderr
    started = time.perf_counter()
    reply = build(args.candidate, args.arch, args.static_policy)
    reply["build_ms"] = round((time.perf_counter() - started) * 1e3, 3)
    proto_out.write(json.dumps(reply) + "\n")
    proto_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
