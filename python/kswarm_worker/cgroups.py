"""A pids cgroup per jail, where this process may make one: the process limit the kernel applies
to every user alike. RLIMIT_NPROC never binds root's processes, and a jail's user namespace maps
its processes to the user that started it (docs/containment.md)."""

import os
import time

_V2 = "/sys/fs/cgroup"
_V1 = "/sys/fs/cgroup/pids"
_counter = [0]
_base = None  # where groups go: "" when nowhere


def _find_base() -> str:
    """The pids hierarchy this process can make groups in (cgroup v2's root with the pids
    controller on, or v1's pids hierarchy), else ""."""
    try:
        with open(os.path.join(_V2, "cgroup.controllers")) as f:
            if "pids" in f.read().split():
                control = os.path.join(_V2, "cgroup.subtree_control")
                with open(control) as f:
                    enabled = "pids" in f.read().split()
                if not enabled:
                    with open(control, "w") as f:
                        f.write("+pids")
                return _V2 if os.access(_V2, os.W_OK) else ""
    except OSError:
        pass
    if os.path.isfile(os.path.join(_V1, "cgroup.procs")) and os.access(_V1, os.W_OK):
        return _V1
    return ""


class Group:
    """One jail's group, limited to `pids_max` tasks (threads count); `path` is None where no
    group could be made."""

    def __init__(self, pids_max: int):
        global _base
        if _base is None:
            _base = _find_base()
        self.path = None
        if not _base:
            return
        _counter[0] += 1
        path = os.path.join(_base, f"kswarm-{os.getpid()}-{_counter[0]}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(pids_max))
            self.path = path
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass

    def enter(self):
        """Moves the calling process into the group: call it in the child before exec, so that
        everything it starts is counted."""
        if self.path:
            fd = os.open(os.path.join(self.path, "cgroup.procs"), os.O_WRONLY)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)

    def remove(self):
        """Removes the group once its processes are gone (killed ones may take a moment)."""
        if self.path:
            for _ in range(50):
                try:
                    os.rmdir(self.path)
                    break
                except OSError:
                    time.sleep(0.02)
            self.path = None


def available() -> bool:
    global _base
    if _base is None:
        _base = _find_base()
    return bool(_base)


def remove_stale():
    """Removes the empty groups of kswarm processes that are gone (killed before they could)."""
    if not available():
        return
    for name in os.listdir(_base):
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "kswarm" and parts[1].isdigit() and \
                not os.path.exists(f"/proc/{parts[1]}"):
            try:
                os.rmdir(os.path.join(_base, name))
            except OSError:
                pass
