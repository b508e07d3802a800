"""The content-addressed build cache. Every candidate builds its C++/CUDA extensions
(`torch.utils.cpp_extension.load_inline`) in a folder of its own under the extensions root
($TORCH_EXTENSIONS_DIR as the process started), named by a hash of the candidate's source and of
everything else that changes the binary: the torch, CUDA and Python versions, the machine, the
target architecture, the compilers and the compiler flags taken from the environment. A candidate
seen before loads its built library without compiling, in any process and any later run; a new
torch or CUDA version, another GPU architecture or another compiler builds afresh.

CUDA builds target only the device's architecture (TORCH_CUDA_ARCH_LIST), which is also what lets
the build pool (build.py) compile with no GPU in sight. Kernels compiled through kswarm_rt (NVRTC)
keep their own content-addressed cache; KSWARM_RT_ARCH tells them the target here.

torch's extension builder marks a build in progress with a `lock` file that waiters poll for; a
builder killed on its deadline leaves it behind and every later build of that candidate waits on
it for ever. prepare() swaps it for a kernel lock (flock) on the same path, which dies with its
holder."""

import errno
import fcntl
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys

_FORMAT = 1  # bump when the layout of a build folder changes
# Environment variables that torch's extension builder passes to the compilers.
_FLAG_VARIABLES = ("CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS", "NVCC_PREPEND_FLAGS",
                   "NVCC_APPEND_FLAGS", "CUDA_HOME", "CUDA_PATH")
_ROOT = os.environ.get("TORCH_EXTENSIONS_DIR", "")


def root() -> str:
    return _ROOT or os.path.join(os.path.expanduser("~"), ".cache", "kswarm", "torch_extensions")


@functools.lru_cache(maxsize=None)
def _tool_version(tool: str) -> str:
    """The last line of `tool --version` (the compiler's release), or "" when it is not there."""
    path = shutil.which(tool)
    if path is None:
        return ""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    return f"{path}: {lines[0] if tool != 'nvcc' else lines[-1]}" if lines else path


def arch_of(device_type: str, capability: str = "") -> str:
    """The build target: "sm_90" for a CUDA device of capability "9.0", else "cpu-<machine>"."""
    if device_type == "cuda":
        major, _, minor = capability.partition(".")
        return f"sm_{major}{minor or '0'}"
    return f"cpu-{platform.machine()}"


def _torch_versions() -> tuple:
    """(torch's version, its CUDA version), without importing torch where it is not imported
    yet: a build's jail is made by a process that has no other use for it."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return torch.__version__, torch.version.cuda
    import importlib.util
    spec = importlib.util.find_spec("torch")
    version = {}
    with open(os.path.join(spec.submodule_search_locations[0], "version.py")) as f:
        exec(f.read(), version)  # torch's own version.py: assignments only
    return version["__version__"], version.get("cuda")


def build_key(source: bytes, arch: str) -> str:
    torch_version, cuda_version = _torch_versions()
    fields = {
        "format": _FORMAT,
        "source": hashlib.sha256(source).hexdigest(),
        "torch": torch_version,
        "cuda": cuda_version,
        "python": sys.implementation.cache_tag,
        "machine": platform.machine(),
        "arch": arch,
        "env": {k: os.environ.get(k, "") for k in _FLAG_VARIABLES},
        "cxx": _tool_version(os.environ.get("CXX", "c++")),
        "nvcc": _tool_version("nvcc") if arch.startswith("sm_") else "",
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


class KernelBaton:
    """torch.utils.file_baton.FileBaton's interface on flock(2). The file itself is never removed:
    a waiter may hold it open, and a path that came and went would let two builders in at once.
    A folder this process may not write (a contained sandbox's view of another process's build)
    is a finished build: nothing to acquire, nothing to wait for."""

    def __init__(self, lock_file_path, wait_seconds=0.1, warn_after_seconds=None):
        self.lock_file_path = lock_file_path
        self.fd = None

    def _open(self, create: bool):
        try:
            if create:
                return os.open(self.lock_file_path, os.O_CREAT | os.O_RDWR, 0o600)
            return os.open(self.lock_file_path, os.O_RDONLY)
        except (PermissionError, FileNotFoundError):
            return None
        except OSError as e:
            if e.errno == errno.EROFS:
                return None
            raise

    def try_acquire(self) -> bool:
        fd = self._open(create=True)
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def wait(self) -> None:
        """Returns once the holder has released the lock, or died."""
        fd = self._open(create=False)
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            os.close(fd)  # closing releases it

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def folder_of(source: bytes, arch: str) -> str:
    """The candidate's own build folder in the shared cache."""
    return os.path.join(root(), build_key(source, arch))


def prepare(source: bytes, arch: str) -> str:
    """Points this process's extension builds (and kswarm_rt's kernels) at the candidate's own
    folder and returns it. Called before the candidate is imported. A contained process that did
    not build the candidate ahead sees no folder there, and may not make one: it builds in its
    private /tmp, for this process alone."""
    folder = folder_of(source, arch)
    if os.environ.get("KSWARM_CONTAINED") == "1" and not os.path.isdir(folder):
        folder = os.path.join("/tmp", "torch_extensions", os.path.basename(folder))
    os.environ["TORCH_EXTENSIONS_DIR"] = folder
    os.environ["KSWARM_RT_CACHE"] = os.path.join(folder, "kswarm_rt")
    if arch.startswith("sm_"):
        version = arch[3:]
        os.environ["TORCH_CUDA_ARCH_LIST"] = f"{version[:-1]}.{version[-1]}"
        os.environ["KSWARM_RT_ARCH"] = arch
    # torch names a rebuilt extension name_v1, name_v2, ... within one process; every candidate
    # has a folder of its own, so each one's extension keeps its plain name and is found there by
    # any later process.
    from torch.utils import cpp_extension
    cpp_extension.JIT_EXTENSION_VERSIONER.entries.clear()
    cpp_extension.FileBaton = KernelBaton
    return folder
