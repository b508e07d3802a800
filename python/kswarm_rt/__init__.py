"""kswarm_rt: raw CUDA C++ kernels compiled with NVRTC at run time and launched on torch tensors,
on the current stream. A kernel compiles in a fraction of a second (no C++ extension to build),
and its machine code is cached on disk by content hash, so a kernel seen before loads in
milliseconds, across processes and runs.

    import kswarm_rt
    gelu = kswarm_rt.kernel(SOURCE, "gelu")          # SOURCE: CUDA C++ with __global__ void gelu(...)
    gelu(grid=(blocks,), block=(256,), args=(x, y, x.numel()))

Arguments: a torch tensor passes its data pointer (it must be on the current CUDA device); a
Python int passes as a 32-bit int and a Python float as a 32-bit float, matching the usual
`int n` and `float alpha` parameters; wrap a value in i64(), u32(), u64() or f64() for other
types. The launch goes on torch's current stream, so it orders with the surrounding PyTorch work
and is captured by CUDA graphs. No pure-Python dependency beyond torch: NVRTC and the CUDA driver
are called through their C interfaces.

`kswarm_rt.apply(model, folder)` swaps the winners of `kswarm optimize` into an unmodified model
(apply.py; docs/optimize.md).

The cache lives in $KSWARM_RT_CACHE, else $XDG_CACHE_HOME/kswarm/nvrtc, else ~/.cache/kswarm/nvrtc.
Its key covers the source, the kernel name, the options, the target architecture and NVRTC's
version. The package imports nothing of kswarm, so `kswarm export` ships it beside a winner."""

from .apply import KswarmPart, apply, apply_bundle, parts_of
from ._runtime import CompileError, Kernel, LaunchError, compile_cubin, f64, i64, kernel, u32, u64

__all__ = ["KswarmPart", "apply", "apply_bundle", "parts_of", "CompileError", "Kernel", "LaunchError", "compile_cubin", "kernel", "i64", "u32",
           "u64", "f64"]
