"""What a jail leaves behind and how many processes it may hold (docs/containment.md)."""
import os
import subprocess
import sys

import pytest

from kswarm_worker import cgroups, containment, sandbox_client

# Forks children that sleep until killed, until a fork fails; prints how many it made.
_FORKER = """
import os, sys
made = 0
for _ in range(40):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        import time; time.sleep(30); os._exit(0)
    made += 1
print(made, flush=True)
"""


@pytest.mark.skipif(not cgroups.available(), reason="no pids cgroup this process may make")
def test_a_pids_group_bounds_the_tasks_of_everything_started_in_it():
    group = cgroups.Group(pids_max=8)
    assert group.path is not None
    proc = subprocess.Popen([sys.executable, "-c", _FORKER], stdout=subprocess.PIPE, text=True,
                            preexec_fn=group.enter)
    try:
        made = int(proc.stdout.readline())
        assert 0 < made < 8, made  # the forker itself is one of the eight
    finally:
        with open(os.path.join(group.path, "cgroup.procs")) as f:
            for pid in f.read().split():
                os.kill(int(pid), 9)
        proc.wait()
    path = group.path
    group.remove()
    assert not os.path.exists(path)


def test_exchange_folders_of_judges_that_are_gone_are_removed():
    base = sandbox_client._exchange_base()
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = os.path.join(base, f"{sandbox_client._EXCHANGE_PREFIX}{dead.pid}-test")
    mine = os.path.join(base, f"{sandbox_client._EXCHANGE_PREFIX}{os.getpid()}-test")
    for folder in (gone, mine):
        os.makedirs(folder)
        with open(os.path.join(folder, "outputs.bin"), "wb") as f:
            f.write(b"x" * 4096)
    try:
        sandbox_client.remove_stale_exchanges()
        assert not os.path.exists(gone)
        assert os.path.exists(mine)
    finally:
        for folder in (gone, mine):
            subprocess.run(["rm", "-rf", folder])


def test_inductors_header_cache_is_shared_only_with_kswarms_own_recipes(tmp_path, monkeypatch):
    # Inductor keeps its precompiled C++ header in /tmp whatever its cache folder: without this
    # bind every fresh built-in sandbox built it again (5-9 s on a 2-core host).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    host, inside = containment.header_cache()
    assert host.startswith(str(tmp_path)) and inside.startswith("/tmp/torchinductor_")

    def binds(jail):
        args, fds = containment.wrap(["true"], jail)
        for fd in fds:
            os.close(fd)
        return [args[i + 1:i + 3] for i, a in enumerate(args) if a == "--bind"]

    assert [host, inside] in binds(containment.Jail(shared_caches=True))
    assert all(inside not in pair for pair in binds(containment.Jail()))  # another author's
