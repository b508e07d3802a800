"""Containment: the one place that decides how a process that runs candidate code is confined
(docs/containment.md). Every such process (the sandbox, a build, a profile, torch.compile's code
generation for a candidate) is started through wrap(), which runs it under bubblewrap:

- namespaces of its own: user (no capabilities), pid (it sees only its own processes, so not
  kswarm's environment or working folder through /proc), mount, network (loopback only), IPC,
  UTS and cgroup; it dies with its parent and starts a new session (no terminal injection);
- a read-only view of the system, with the places that hold the user's secrets and kswarm's state
  hidden under empty folders (home folders, /root, /tmp, /var, /run, kswarm's working folder and
  database folder, /etc's shadow files and keys); the Python it runs and the worker's code are
  put back read-only;
- writable only: a private /tmp, the folders a caller names (the sandbox's exchange folder, a
  build's own content-addressed folder), and, for kswarm's own built-in recipes alone, the shared
  compiler caches;
- an environment built from an allowlist;
- a seccomp filter (kswarm writes it with libseccomp: KSWARM_SECCOMP_BPF) and resource limits.

bubblewrap comes from Debian's `bubblewrap` (KSWARM_BWRAP names another binary)."""

import glob
import json
import os
import pwd
import re
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from . import cgroups

# Variables a contained process may inherit; everything else is dropped.
_ALLOWED_ENV = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "NO_COLOR",
    "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "CUDA_DEVICE_ORDER", "CUDA_MODULE_LOADING",
    "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCHINDUCTOR_COMPILE_THREADS",
    "TORCH_CUDA_ARCH_LIST", "CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS", "NVCC_PREPEND_FLAGS",
    "NVCC_APPEND_FLAGS", "KSWARM_CUDA_IPC", "KSWARM_PIN_TIMING", "KSWARM_RT_ARCH",
    "NCCL_NVLS_ENABLE", "TORCH_SYMM_MEM_DISABLE_MULTICAST", "NVSHMEM_DISABLE_NVLS",
    "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE",
)
# Where the user's and the system's secrets live: hidden under empty folders.
_HIDDEN = ("/home", "/root", "/var", "/run", "/mnt", "/media", "/srv", "/boot", "/lost+found",
           "/etc/ssh", "/etc/ssl/private")
_HIDDEN_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-",
                 "/etc/security/opasswd", "/etc/sudoers")
_FILE_SIZE_BYTES = 64 << 30  # one file it writes: an exchange file holds a trial's outputs
_EXTRA_PROCESSES = 4096  # threads (processes count as threads) beyond the host's when it starts
_TMP_FRACTION = 4  # its private /tmp may take 1/_TMP_FRACTION of the host's memory


@dataclass
class Jail:
    """What one contained process may see and write."""
    writable: list = field(default_factory=list)  # folders bound read-write (they must exist)
    readable: list = field(default_factory=list)  # more paths bound read-only
    shared_caches: bool = False  # kswarm's own recipes: the persistent compiler caches writable
    env: dict = field(default_factory=dict)  # set inside, on top of the allowlisted ones
    memory_bytes: int = 0  # address-space limit; 0: none (CUDA reserves far more than it uses)


def bwrap() -> str:
    return os.environ.get("KSWARM_BWRAP") or shutil.which("bwrap") or ""


def uncontained_allowed() -> bool:
    """The user's explicit choice to run candidates without containment (kswarm --uncontained)."""
    return os.environ.get("KSWARM_UNCONTAINED") == "1"


_probe = None


def probe() -> tuple:
    """(True, "") when contained processes can start here, else (False, why). Tried once per
    process with a real jail, so a kernel that refuses user namespaces is found before any job."""
    global _probe
    if _probe is None:
        exe = bwrap()
        if not exe:
            _probe = (False, "bubblewrap (bwrap) is not installed")
        else:
            argv, fds = wrap([sys.executable, "-c", "print('ok')"], Jail())
            try:
                out = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                                     pass_fds=fds, preexec_fn=limits(Jail()))
                ok = out.returncode == 0 and out.stdout.strip() == "ok"
                _probe = (True, "") if ok else (
                    False, f"bwrap failed: {(out.stderr or out.stdout).strip()[-300:]}")
            except (OSError, subprocess.SubprocessError) as e:
                _probe = (False, f"bwrap failed: {e}")
            finally:
                for fd in fds:
                    os.close(fd)
    return _probe


def isolation() -> str:
    """The line every evaluation and report carries: what confined the candidate's code."""
    ok, why = probe()
    if not ok:
        return f"uncontained ({why})"
    seccomp = "seccomp" if _seccomp_path() else "no seccomp filter"
    processes = (f"at most {_EXTRA_PROCESSES} tasks (pids cgroup)" if cgroups.available() else
                 f"{_EXTRA_PROCESSES} more tasks (rlimit{', not binding on root' if os.getuid() == 0 else ''})")
    return ("contained: user, pid, mount, net, ipc namespaces; read-only system, secrets hidden; "
            f"{seccomp}; private /tmp of {_tmp_bytes() >> 30} GiB, files up to "
            f"{_FILE_SIZE_BYTES >> 30} GiB, {processes}; no network")


def _seccomp_path() -> str:
    path = os.environ.get("KSWARM_SECCOMP_BPF", "")
    return path if path and os.path.isfile(path) else ""


def _tmp_bytes() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 16 << 30
    return max(1 << 30, min(32 << 30, total // _TMP_FRACTION))


def cache_paths() -> dict:
    """The persistent caches contained processes use, by environment variable."""
    from . import buildcache
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return {
        "TORCH_EXTENSIONS_DIR": buildcache.root(),
        "TORCHINDUCTOR_CACHE_DIR": os.environ.get("TORCHINDUCTOR_CACHE_DIR") or
        os.path.join(base, "kswarm", "inductor"),
        "TRITON_CACHE_DIR": os.environ.get("TRITON_CACHE_DIR") or
        os.path.join(base, "kswarm", "triton"),
        "KSWARM_RT_CACHE": os.environ.get("KSWARM_RT_CACHE") or
        os.path.join(base, "kswarm", "kswarm_rt"),
    }


def header_cache() -> "tuple | None":
    """(host folder, folder inside the jail) of Inductor's precompiled C++ headers, or None.
    Inductor keeps them under /tmp/torchinductor_<user> whatever TORCHINDUCTOR_CACHE_DIR says, so
    in a jail's private /tmp each fresh sandbox would build the ~120 MB header again on its first
    CPU compile; shared like the rest of Inductor's cache, where that is (Jail.shared_caches)."""
    try:  # the jail clears USER and LOGNAME: getpass.getuser() inside reads the password file
        user = re.sub(r'[\\/:*?"<>|]', "_", pwd.getpwuid(os.getuid()).pw_name)
    except KeyError:
        return None
    return (os.path.join(cache_paths()["TORCHINDUCTOR_CACHE_DIR"], "precompiled_headers"),
            f"/tmp/torchinductor_{user}/precompiled_headers")


def private_dirs() -> list:
    """Folders of kswarm's own that a contained process must not see: its working folder and
    the folders the C++ side names (the database's, the config's)."""
    out = [os.getcwd()]
    out += [p for p in os.environ.get("KSWARM_PRIVATE_DIRS", "").split(os.pathsep) if p]
    return [os.path.realpath(p) for p in out if os.path.isdir(p) and os.path.realpath(p) != "/"]


def _python_paths(hidden: list) -> list:
    """What the interpreter and the worker need to run: its prefixes and its import paths, but
    none that would show a hidden folder again (the working folder on sys.path)."""
    worker = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, worker,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    paths.update(p for p in sys.path if p)
    out = set()
    for p in paths:
        real = os.path.realpath(p)
        if os.path.exists(real) and not any(h == real or h.startswith(real.rstrip("/") + "/")
                                            for h in hidden):
            out.add(real)
    return sorted(out)


def _nvidia_devices() -> list:
    return sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri/*"))


def environment(jail: Jail) -> dict:
    env = {k: os.environ[k] for k in _ALLOWED_ENV if k in os.environ}
    env["HOME"] = "/tmp/home"
    env["TMPDIR"] = "/tmp"
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    caches = cache_paths()
    env["TORCH_EXTENSIONS_DIR"] = caches["TORCH_EXTENSIONS_DIR"]
    if jail.shared_caches:
        env.update({k: v for k, v in caches.items() if k != "TORCH_EXTENSIONS_DIR"})
    else:
        env.update({"TORCHINDUCTOR_CACHE_DIR": "/tmp/inductor", "TRITON_CACHE_DIR": "/tmp/triton",
                    "KSWARM_RT_CACHE": "/tmp/kswarm_rt"})
    env["KSWARM_CONTAINED"] = "1"
    env.update(jail.env)
    return env


def wrap(argv: list, jail: Jail) -> tuple:
    """(the argv that runs `argv` inside `jail`, the descriptors to pass it). The caller closes
    the descriptors once the process has started."""
    args = [bwrap(), "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    for dev in _nvidia_devices():
        args += ["--dev-bind", dev, dev]
    hidden = [p for p in _HIDDEN + tuple(private_dirs()) if os.path.isdir(p)]
    for path in hidden:
        args += ["--tmpfs", path]
    for path in _HIDDEN_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    args += ["--size", str(_tmp_bytes()), "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    for path in _python_paths(hidden) + [os.path.realpath(p) for p in jail.readable]:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    ext_root = cache_paths()["TORCH_EXTENSIONS_DIR"]
    os.makedirs(ext_root, exist_ok=True)
    args += ["--ro-bind", ext_root, ext_root]  # other candidates' builds: read, never written
    writable = list(jail.writable)
    # The user's own additions (tests that read what a candidate wrote; debugging).
    writable += [p for p in os.environ.get("KSWARM_JAIL_WRITABLE", "").split(os.pathsep) if p]
    if jail.shared_caches:
        writable += [v for k, v in cache_paths().items() if k != "TORCH_EXTENSIONS_DIR"]
    for path in writable:
        os.makedirs(path, exist_ok=True)
        args += ["--bind", path, path]
    headers = header_cache() if jail.shared_caches else None
    if headers:
        os.makedirs(headers[0], exist_ok=True)
        args += ["--bind", headers[0], headers[1]]
    args += ["--clearenv"]
    for k, v in environment(jail).items():
        args += ["--setenv", k, v]
    args += ["--chdir", "/tmp"]
    fds = []
    bpf = _seccomp_path()
    if bpf:
        fd = os.open(bpf, os.O_RDONLY)
        fds.append(fd)
        args += ["--seccomp", str(fd)]
    return args + ["--"] + list(argv), fds


def limits(jail: Jail, group=None):
    """A preexec_fn that sets the process's resource limits (inherited through bwrap) and moves
    it into its pids cgroup, if it has one."""
    try:  # the kernel counts a user's threads against RLIMIT_NPROC: bound the growth from now
        with open("/proc/loadavg") as f:
            threads = int(f.read().split()[3].split("/")[1])
    except (OSError, ValueError, IndexError):
        threads = 4096

    def apply():
        if group is not None:
            group.enter()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (_FILE_SIZE_BYTES, _FILE_SIZE_BYTES))
        n = threads + _EXTRA_PROCESSES
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
        if jail.memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (jail.memory_bytes, jail.memory_bytes))
    return apply


def popen(argv: list, jail: Jail, trusted: bool = False, **kwargs) -> subprocess.Popen:
    """Starts `argv` contained. Where no jail can be made here, kswarm's own recipes (`trusted`)
    and anything the user allowed explicitly run as they are; anything else raises
    RuntimeError."""
    ok, why = probe()
    if not ok:
        if not (trusted or uncontained_allowed()):
            raise RuntimeError(f"cannot contain candidate code: {why}; install bubblewrap, or "
                               "allow uncontained candidates explicitly (kswarm --uncontained)")
        env = dict(environment(jail))
        return subprocess.Popen(argv, env=env, **kwargs)
    wrapped, fds = wrap(argv, jail)
    group = cgroups.Group(_EXTRA_PROCESSES)
    try:
        proc = subprocess.Popen(wrapped, pass_fds=fds, preexec_fn=limits(jail, group),
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, **kwargs)
    except BaseException:
        group.remove()
        raise
    finally:
        for fd in fds:
            os.close(fd)
    proc.jail_group = group  # release() removes it once the process has ended
    return proc


def release(proc: subprocess.Popen):
    """What a contained process held beyond itself (its cgroup); call once it has ended."""
    group = getattr(proc, "jail_group", None)
    if group is not None:
        group.remove()


def main() -> int:
    """python3 -m kswarm_worker.containment [--writable DIR]... [--build CANDIDATE --arch ARCH]
    -- ARGV...: runs ARGV contained and passes its exit status on. With --build, the candidate's
    own build folder (buildcache) is created and made writable: the build pool's jobs."""
    import argparse
    parser = argparse.ArgumentParser(prog="kswarm_worker.containment")
    parser.add_argument("--writable", action="append", default=[])
    parser.add_argument("--readable", action="append", default=[])
    parser.add_argument("--build", help="a candidate whose build folder becomes writable")
    parser.add_argument("--arch", default="")
    parser.add_argument("--trusted", action="store_true",
                        help="kswarm's own code (the problem's reference): the shared compiler "
                             "caches are writable, and it runs even where no jail can be made")
    parser.add_argument("--describe", action="store_true", help="print the isolation line")
    parser.add_argument("argv", nargs="*")
    args = parser.parse_args()
    if args.describe:
        print(json.dumps({"isolation": isolation()}))
        return 0
    jail = Jail(writable=list(args.writable), readable=list(args.readable),
                shared_caches=args.trusted)
    if args.build:
        from . import buildcache
        with open(args.build, "rb") as f:
            folder = buildcache.folder_of(f.read(), args.arch)
        os.makedirs(folder, exist_ok=True)
        jail.writable.append(folder)
        jail.readable.append(args.build)
    try:
        proc = popen(args.argv, jail, trusted=args.trusted)
    except RuntimeError as e:
        print(json.dumps({"outcome": "failed", "message": str(e)}), flush=True)
        return 3
    try:
        return proc.wait()
    finally:
        release(proc)


if __name__ == "__main__":
    sys.exit(main())
