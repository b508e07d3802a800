"""kswarm_rt's NVRTC path on a machine with no GPU: compiling, its disk cache, and its errors.
Launching needs a GPU: scripts/gpu-check.sh runs that part."""
import os

import pytest

import kswarm_rt
from kswarm_rt import _runtime

SOURCE = r"""
#include <cuda_fp16.h>
extern "C" __global__ void scale(const float* x, float* y, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i];
}
template <typename T> __global__ void fill(T* y, T v, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = v;
}
template __global__ void fill<float>(float*, float, int);
"""


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KSWARM_RT_CACHE", str(tmp_path))
    return tmp_path


def test_compiles_to_machine_code_then_answers_from_the_cache(cache):
    cubin, name, cached = kswarm_rt.compile_cubin(SOURCE, "scale", arch="sm_90")
    assert cubin[:4] == b"\x7fELF" and name == "scale" and not cached
    assert len(list(cache.glob("*.cubin"))) == 1
    again, name2, cached2 = kswarm_rt.compile_cubin(SOURCE, "scale", arch="sm_90")
    assert cached2 and again == cubin and name2 == name


def test_a_template_instance_is_found_by_its_lowered_name():
    _, name, _ = kswarm_rt.compile_cubin(SOURCE, "fill<float>", arch="sm_90")
    assert name.startswith("_Z") and "fill" in name


def test_the_key_covers_target_options_and_source(cache):
    kswarm_rt.compile_cubin(SOURCE, "scale", arch="sm_90")
    kswarm_rt.compile_cubin(SOURCE, "scale", arch="sm_80")
    kswarm_rt.compile_cubin(SOURCE, "scale", arch="sm_90", options=["--use_fast_math"])
    kswarm_rt.compile_cubin(SOURCE + "\n// edited\n", "scale", arch="sm_90")
    assert len(list(cache.glob("*.cubin"))) == 4


def test_a_compile_error_carries_nvrtcs_log():
    with pytest.raises(kswarm_rt.CompileError, match="undefined_value"):
        kswarm_rt.compile_cubin(SOURCE + "__global__ void bad() { undefined_value = 1; }",
                                "scale", arch="sm_90")
    with pytest.raises(kswarm_rt.CompileError, match="no_such_kernel"):
        kswarm_rt.compile_cubin(SOURCE, "no_such_kernel", arch="sm_90")


def test_a_compile_error_is_a_build_error_for_the_evaluator():
    from kswarm_worker.errors import is_build_error
    try:
        kswarm_rt.compile_cubin("__global__ void k() { nope; }", "k", arch="sm_90")
    except kswarm_rt.CompileError as e:
        assert is_build_error(e)
    else:
        pytest.fail("compiled")


def test_the_target_defaults_to_kswarm_rt_arch_where_kernels_are_built_ahead(monkeypatch, cache):
    monkeypatch.setenv("KSWARM_RT_ARCH", "sm_90")
    kswarm_rt.kernel(SOURCE, "scale")  # no GPU here: the target comes from the environment
    key = _runtime.cache_key(SOURCE, "scale", "sm_90")
    assert os.path.exists(os.path.join(cache, key + ".cubin"))


def test_arguments_are_typed_as_the_usual_kernel_parameters():
    assert isinstance(_runtime.Kernel._argument(3, 0), _runtime.ctypes.c_int32)
    assert isinstance(_runtime.Kernel._argument(0.5, 0), _runtime.ctypes.c_float)
    assert isinstance(_runtime.Kernel._argument(kswarm_rt.i64(1 << 40), 0),
                      _runtime.ctypes.c_int64)
    assert isinstance(_runtime.Kernel._argument(kswarm_rt.f64(0.5), 0), _runtime.ctypes.c_double)
    with pytest.raises(kswarm_rt.LaunchError, match="i64"):
        _runtime.Kernel._argument(1 << 40, 0)
    with pytest.raises(kswarm_rt.LaunchError, match="str"):
        _runtime.Kernel._argument("x", 0)
