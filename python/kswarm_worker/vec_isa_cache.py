"""Remembers, across processes, which vector instruction sets torch.compile's CPU backend can use.

Before its first CPU compile, each process checks every vector instruction set the CPU advertises
(AVX2, AVX-512, AMX, ...): it builds a small test library and starts a new Python that imports
torch and loads it. On an AVX-512/AMX host that is ten such processes, 20-40 s on a 2-core VM,
and Inductor keeps only the built libraries, not the answers. Every fresh sandbox paid it again on
its first torch.compile candidate, and each re-verification runs in a fresh sandbox.

install() wraps the check: an answer "yes" is written under Inductor's cache folder, keyed by all
the check depends on (the test code, the compiler, its flags, torch, the Python that loads it and
the CPU's instruction sets), and later processes read it instead of checking again. A "no" is not
written, so a check that failed for a passing reason (a killed build) runs again next time, as
without this. What a sandbox writes there only steers later sandboxes' compiles, like the rest of
Inductor's cache: the judge never reads it."""

import hashlib
import json
import os
import platform
import sys

_FOLDER = "kswarm_vec_isa"


def install() -> bool:
    """Wraps torch._inductor's vector-ISA check in this process (once); False where this torch
    has no such check to wrap."""
    try:
        import torch
        from torch._inductor import cpu_vec_isa
        from torch._inductor.runtime.cache_dir_utils import cache_dir
        fingerprint = cpu_vec_isa._get_isa_dry_compile_fingerprint
        check = cpu_vec_isa.VecISA.check_build
    except (ImportError, AttributeError):
        return False
    if getattr(check, "kswarm_remembers", False):
        return True
    host = [platform.machine(), sys.executable, torch.__version__, cpu_vec_isa.x86_isa_checker()]

    def check_build(self, code: str) -> bool:
        key = json.dumps([code, fingerprint(self._arch_flags), host])
        path = os.path.join(cache_dir(), _FOLDER, hashlib.sha256(key.encode()).hexdigest())
        if os.path.isfile(path):
            return True
        ok = check(self, code)
        if ok:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                partial = f"{path}.{os.getpid()}"
                with open(partial, "w") as f:
                    f.write(key)
                os.replace(partial, path)
            except OSError:
                pass  # not remembered: the next process checks again
        return ok

    check_build.kswarm_remembers = True
    cpu_vec_isa.VecISA.check_build = check_build
    return True
