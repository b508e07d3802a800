"""The content-addressed build cache: what its key covers, and where a candidate's builds go."""
import os

import torch
from torch.utils import cpp_extension

from kswarm_worker import buildcache

SOURCE = b"class ModelNew: pass\n"


def test_the_same_candidate_and_toolchain_give_the_same_key():
    assert buildcache.build_key(SOURCE, "sm_90") == buildcache.build_key(SOURCE, "sm_90")


def test_the_key_changes_with_the_source_and_the_target():
    key = buildcache.build_key(SOURCE, "sm_90")
    assert buildcache.build_key(SOURCE + b"# edited\n", "sm_90") != key
    assert buildcache.build_key(SOURCE, "sm_80") != key
    assert buildcache.build_key(SOURCE, "cpu-x86_64") != key


def test_a_new_torch_or_cuda_version_invalidates_every_build(monkeypatch):
    key = buildcache.build_key(SOURCE, "sm_90")
    monkeypatch.setattr(torch, "__version__", "2.12.0")
    assert buildcache.build_key(SOURCE, "sm_90") != key
    monkeypatch.undo()
    monkeypatch.setattr(torch.version, "cuda", "13.1")
    assert buildcache.build_key(SOURCE, "sm_90") != key
    monkeypatch.undo()
    assert buildcache.build_key(SOURCE, "sm_90") == key


def test_compiler_flags_from_the_environment_are_in_the_key(monkeypatch):
    key = buildcache.build_key(SOURCE, "cpu-x86_64")
    monkeypatch.setenv("CXXFLAGS", "-march=native")
    assert buildcache.build_key(SOURCE, "cpu-x86_64") != key


def test_arch_of_names_the_build_target():
    assert buildcache.arch_of("cuda", "9.0") == "sm_90"
    assert buildcache.arch_of("cuda", "12.1") == "sm_121"
    assert buildcache.arch_of("cpu").startswith("cpu-")


def test_prepare_points_builds_at_the_candidates_own_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(buildcache, "_ROOT", str(tmp_path))
    for name in ("TORCH_EXTENSIONS_DIR", "TORCH_CUDA_ARCH_LIST", "KSWARM_RT_ARCH"):
        monkeypatch.delenv(name, raising=False)
    cpp_extension.JIT_EXTENSION_VERSIONER.entries["stale"] = (1, 1)
    folder = buildcache.prepare(SOURCE, "sm_90")
    assert folder == str(tmp_path / buildcache.build_key(SOURCE, "sm_90"))
    assert os.environ["TORCH_EXTENSIONS_DIR"] == folder
    assert os.environ["TORCH_CUDA_ARCH_LIST"] == "9.0"  # only the device's architecture
    assert os.environ["KSWARM_RT_ARCH"] == "sm_90"
    # Each candidate's extension keeps its plain name, so a later process finds it built.
    assert cpp_extension.JIT_EXTENSION_VERSIONER.entries == {}
    other = buildcache.prepare(SOURCE + b"#2\n", "sm_90")
    assert other != folder and os.environ["TORCH_EXTENSIONS_DIR"] == other


def _hold_lock(path):
    """A process that takes the build lock at `path` the way a builder does and keeps it."""
    import subprocess
    import sys
    code = ("import sys, time; from kswarm_worker import buildcache; "
            "b = buildcache.KernelBaton(sys.argv[1]); assert b.try_acquire(); "
            "print('held', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                            text=True, cwd=os.path.dirname(os.path.dirname(buildcache.__file__)))
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_file_left_by_a_killed_build_does_not_block_the_next_build(tmp_path):
    # torch's own baton is a file whose existence means "a build is running": a killed builder
    # leaves it, and every later build of that candidate waits on it until its deadline.
    lock = tmp_path / "lock"
    lock.write_text("")
    baton = buildcache.KernelBaton(str(lock))
    assert baton.try_acquire()
    baton.release()


def test_a_live_build_holds_the_lock_and_its_death_releases_it(tmp_path):
    import signal
    import threading
    lock = tmp_path / "lock"
    holder = _hold_lock(lock)
    try:
        assert not buildcache.KernelBaton(str(lock)).try_acquire()
        waited = threading.Event()
        waiter = threading.Thread(target=lambda: (buildcache.KernelBaton(str(lock)).wait(),
                                                  waited.set()))
        waiter.start()
        assert not waited.wait(0.5)  # a live holder is waited for
        holder.send_signal(signal.SIGKILL)  # killed mid-build, as on a deadline
        assert waited.wait(30)
        waiter.join()
        assert buildcache.KernelBaton(str(lock)).try_acquire()
    finally:
        holder.kill()
        holder.wait()


def test_prepare_makes_torch_builds_take_the_kernel_lock(monkeypatch, tmp_path):
    monkeypatch.setattr(buildcache, "_ROOT", str(tmp_path))
    monkeypatch.setattr(cpp_extension, "FileBaton", cpp_extension.FileBaton)
    buildcache.prepare(SOURCE, "cpu-x86_64")
    assert cpp_extension.FileBaton is buildcache.KernelBaton
