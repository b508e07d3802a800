"""NVRTC compilation with a content-addressed disk cache, and kernel launches through the CUDA
driver on torch's current stream. See the package docstring for the contract."""

import ctypes
import glob
import hashlib
import json
import os
import threading

_FORMAT = 1  # bump when what the cache stores changes
_NVRTC_SUCCESS = 0
_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
_DEFAULT_SHARED_BYTES = 48 * 1024


class CompileError(RuntimeError):
    """NVRTC rejected the source; the message carries its log."""


class LaunchError(RuntimeError):
    """The driver refused to load or launch the kernel, or an argument cannot be passed."""


class _Typed:
    ctype = None

    def __init__(self, value):
        self.value = value


class i64(_Typed):
    ctype = ctypes.c_int64


class u32(_Typed):
    ctype = ctypes.c_uint32


class u64(_Typed):
    ctype = ctypes.c_uint64


class f64(_Typed):
    ctype = ctypes.c_double


# -- libraries -------------------------------------------------------------------------------------

_lock = threading.Lock()
_nvrtc = None
_driver = None


def _nvrtc_candidates():
    yield from ("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so")  # loaded already, or on the path
    try:
        import nvidia  # the CUDA wheels that torch depends on
        for root in nvidia.__path__:
            yield from sorted(glob.glob(os.path.join(root, "*", "lib", "libnvrtc.so*")))
    except ImportError:
        pass
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home:
            yield os.path.join(home, "lib64", "libnvrtc.so")


def _load_nvrtc():
    global _nvrtc
    with _lock:
        if _nvrtc is None:
            tried = []
            for name in _nvrtc_candidates():
                try:
                    lib = ctypes.CDLL(name)
                    break
                except OSError as e:
                    tried.append(f"{name} ({e})")
            else:
                raise CompileError("NVRTC not found; tried " + "; ".join(tried))
            lib.nvrtcGetErrorString.restype = ctypes.c_char_p
            _nvrtc = lib
    return _nvrtc


def _load_driver():
    global _driver
    with _lock:
        if _driver is None:
            try:
                lib = ctypes.CDLL("libcuda.so.1")
            except OSError as e:
                raise LaunchError(f"the CUDA driver (libcuda.so.1) is not available: {e}")
            _driver = lib
    return _driver


def _include_dirs():
    dirs = []
    try:
        import nvidia
        for root in nvidia.__path__:
            dirs += sorted(d for d in glob.glob(os.path.join(root, "*", "include"))
                           if os.path.exists(os.path.join(d, "cuda_fp16.h")))
    except ImportError:
        pass
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and os.path.exists(os.path.join(home, "include", "cuda_fp16.h")):
            dirs.append(os.path.join(home, "include"))
    return dirs[:1]


def nvrtc_version() -> str:
    lib = _load_nvrtc()
    major, minor = ctypes.c_int(), ctypes.c_int()
    lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    return f"{major.value}.{minor.value}"


# -- compiling -------------------------------------------------------------------------------------

def cache_dir() -> str:
    explicit = os.environ.get("KSWARM_RT_CACHE")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kswarm", "nvrtc")


def _device_arch() -> str:
    if os.environ.get("KSWARM_RT_ARCH"):  # set where kernels are built ahead, with no GPU in sight
        return os.environ["KSWARM_RT_ARCH"]
    import torch
    major, minor = torch.cuda.get_device_capability()
    return f"sm_{major}{minor}"


def _check(lib, result, prog, what):
    if result == _NVRTC_SUCCESS:
        return
    log = ""
    if prog is not None:
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        buf = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, buf)
        log = buf.value.decode(errors="replace").strip()
    error = lib.nvrtcGetErrorString(result).decode()
    raise CompileError(f"NVRTC {what} failed ({error})" + (f":\n{log}" if log else ""))


def _nvrtc_compile(source: str, name: str, arch: str, options: list) -> tuple:
    lib = _load_nvrtc()
    prog = ctypes.c_void_p()
    _check(lib, lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(),
                                       f"{name}.cu".encode(), 0, None, None), None, "setup")
    try:
        _check(lib, lib.nvrtcAddNameExpression(prog, name.encode()), None, "setup")
        args = [f"--gpu-architecture={arch}", "--std=c++17", "-default-device"]
        args += [f"-I{d}" for d in _include_dirs()] + list(options)
        raw = (ctypes.c_char_p * len(args))(*[a.encode() for a in args])
        _check(lib, lib.nvrtcCompileProgram(prog, len(args), raw), prog, "compilation")
        size = ctypes.c_size_t()
        _check(lib, lib.nvrtcGetCUBINSize(prog, ctypes.byref(size)), prog, "compilation")
        cubin = ctypes.create_string_buffer(size.value)
        _check(lib, lib.nvrtcGetCUBIN(prog, cubin), prog, "compilation")
        lowered = ctypes.c_char_p()
        _check(lib, lib.nvrtcGetLoweredName(prog, name.encode(), ctypes.byref(lowered)), prog,
               f"lookup of kernel '{name}'")
        return cubin.raw, lowered.value.decode()
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


def cache_key(source: str, name: str, arch: str, options=()) -> str:
    fields = {"format": _FORMAT, "source": source, "name": name, "arch": arch,
              "options": list(options), "nvrtc": nvrtc_version()}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def compile_cubin(source: str, name: str, arch: str = None, options=()) -> tuple:
    """(cubin bytes, lowered kernel name, True when it came from the cache). `arch` is e.g.
    "sm_90"; default: the current CUDA device's. Raises CompileError with NVRTC's log."""
    arch = arch or _device_arch()
    key = cache_key(source, name, arch, options)
    path = os.path.join(cache_dir(), key)
    try:
        with open(path + ".cubin", "rb") as f:
            cubin = f.read()
        with open(path + ".name", encoding="utf-8") as f:
            return cubin, f.read(), True
    except OSError:
        pass
    cubin, lowered = _nvrtc_compile(source, name, arch, list(options))
    try:
        os.makedirs(cache_dir(), exist_ok=True)
        for suffix, data in ((".cubin", cubin), (".name", lowered.encode())):
            tmp = f"{path}{suffix}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path + suffix)  # .name last: a reader that finds it finds both
    except OSError:
        pass  # a read-only cache costs a compile next time, nothing else
    return cubin, lowered, False


# -- launching -------------------------------------------------------------------------------------

def _driver_check(lib, result, what):
    if result != 0:
        text = ctypes.c_char_p()
        lib.cuGetErrorName(result, ctypes.byref(text))
        raise LaunchError(f"{what}: {text.value.decode() if text.value else result}")


class Kernel:
    """A compiled kernel; loaded into each device's context on its first launch there."""

    def __init__(self, cubin: bytes, lowered_name: str, name: str):
        self.cubin = cubin
        self.lowered_name = lowered_name
        self.name = name
        self._functions = {}  # device index -> (CUmodule, CUfunction, dynamic shared bytes allowed)

    def _function(self, device: int):
        entry = self._functions.get(device)
        if entry is None:
            lib = _load_driver()
            module, func = ctypes.c_void_p(), ctypes.c_void_p()
            _driver_check(lib, lib.cuModuleLoadData(ctypes.byref(module), self.cubin),
                          f"loading kernel '{self.name}'")
            _driver_check(lib, lib.cuModuleGetFunction(ctypes.byref(func), module,
                                                       self.lowered_name.encode()),
                          f"finding kernel '{self.name}'")
            entry = [module, func, _DEFAULT_SHARED_BYTES]
            self._functions[device] = entry
        return entry

    @staticmethod
    def _argument(value, device: int):
        import torch
        if isinstance(value, torch.Tensor):
            if not value.is_cuda or value.device.index != device:
                raise LaunchError(f"a tensor argument is on {value.device}, the launch on "
                                  f"cuda:{device}")
            return ctypes.c_void_p(value.data_ptr())
        if isinstance(value, _Typed):
            return value.ctype(value.value)
        if isinstance(value, bool):
            return ctypes.c_bool(value)
        if isinstance(value, int):
            if not -2**31 <= value < 2**31:
                raise LaunchError(f"{value} does not fit a 32-bit int; pass kswarm_rt.i64(...)")
            return ctypes.c_int32(value)
        if isinstance(value, float):
            return ctypes.c_float(value)
        raise LaunchError(f"cannot pass a {type(value).__name__} to a kernel")

    def __call__(self, grid, block, args=(), shared_mem: int = 0, stream=None):
        import torch
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        device = torch.cuda.current_device()
        with torch.cuda.device(device):  # its primary context is current on this thread
            lib = _load_driver()
            entry = self._function(device)
            if shared_mem > entry[2]:
                _driver_check(lib, lib.cuFuncSetAttribute(
                    entry[1], _CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    ctypes.c_int(shared_mem)), f"allowing {shared_mem} bytes of shared memory")
                entry[2] = shared_mem
            values = [self._argument(a, device) for a in args]
            params = (ctypes.c_void_p * max(1, len(values)))(
                *[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
            handle = (stream or torch.cuda.current_stream(device)).cuda_stream
            _driver_check(lib, lib.cuLaunchKernel(
                entry[1], *[ctypes.c_uint(g) for g in grid], *[ctypes.c_uint(b) for b in block],
                ctypes.c_uint(shared_mem), ctypes.c_void_p(handle), params, None),
                f"launching kernel '{self.name}'")


_kernels = {}


def kernel(source: str, name: str, options=(), arch: str = None) -> Kernel:
    """The kernel `name` (a __global__ function, or a template instantiation such as
    "scale<float>") compiled from `source`; compiled once per process, cached on disk."""
    arch = arch or _device_arch()
    key = (source, name, tuple(options), arch)
    found = _kernels.get(key)
    if found is None:
        cubin, lowered, _ = compile_cubin(source, name, arch, options)
        found = _kernels[key] = Kernel(cubin, lowered, name)
    return found
