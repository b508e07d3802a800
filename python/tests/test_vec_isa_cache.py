"""torch.compile's CPU vector-ISA checks are remembered across processes (vec_isa_cache)."""
import json
import os
import subprocess
import sys

import pytest
from torch._inductor import cpu_vec_isa

from conftest import ROOT

# Counts the checks that really run (those the cache does not answer) in a new process: a
# buildable test library for AVX2, then code that does not compile.
CHILD = r"""
import json, os, sys
import torch
from torch._inductor import cpu_vec_isa
from kswarm_worker import vec_isa_cache
if os.environ.get("TORCH_VERSION_AS"):
    torch.__version__ = os.environ["TORCH_VERSION_AS"]
checks = []
original = cpu_vec_isa.VecISA.check_build
def counted(self, code):
    checks.append(code)
    return original(self, code)
cpu_vec_isa.VecISA.check_build = counted
assert vec_isa_cache.install() and vec_isa_cache.install()
avx2 = cpu_vec_isa.VecAVX2()
answers = [avx2.check_build(cpu_vec_isa.VecISA._avx_code), avx2.check_build("#error no\n")]
print(json.dumps({"answers": answers, "checks": len(checks)}))
"""


def _check_in_a_new_process(cache, **env):
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(cache),
                              "PYTHONPATH": os.path.join(ROOT, "python"), **env})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif("avx2" not in cpu_vec_isa.x86_isa_checker(), reason="needs an AVX2 CPU")
def test_a_passed_check_is_remembered_across_processes_and_a_failed_one_is_not(tmp_path):
    first = _check_in_a_new_process(tmp_path)
    assert first == {"answers": [True, False], "checks": 2}
    # The next process asks again for the check that failed only.
    assert _check_in_a_new_process(tmp_path) == {"answers": [True, False], "checks": 1}
    # Another torch is another key: both are checked again.
    assert _check_in_a_new_process(tmp_path, TORCH_VERSION_AS="0.0.1") == first
