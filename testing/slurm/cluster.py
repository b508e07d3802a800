"""A one-host Slurm cluster for tests and benchmarks: munged, slurmctld and slurmd of its own, on
free ports, with its state in one folder. Needs the Debian packages slurm-wlm and munge, and
root (slurmd runs jobs as their users)."""

import contextlib
import os
import shutil
import socket
import subprocess
import time


def available():
    """Why no cluster can be started here, or None when one can."""
    for tool in ("munged", "mungekey", "slurmctld", "slurmd", "srun", "squeue", "sinfo"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install slurm-wlm munge)"
    if os.getuid() != 0:
        return "a one-host Slurm cluster needs root"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SLURM_CONF = """ClusterName=kswarm-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={dir}/munge.sock
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# More CPU slots than cores, so workers and build steps never wait for each other's cores.
SlurmdParameters=config_overrides
NodeName={host} CPUs={slots} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@contextlib.contextmanager
def local_cluster(directory):
    """Starts the cluster in `directory`; yields the environment its clients need (SLURM_CONF)."""
    why = available()
    if why:
        raise RuntimeError(why)
    d = os.path.abspath(directory)
    os.makedirs(f"{d}/state", exist_ok=True)
    os.makedirs(f"{d}/spool", exist_ok=True)
    subprocess.run(["mungekey", "--create", f"--keyfile={d}/munge.key", "--force"], check=True,
                   capture_output=True)
    os.chmod(f"{d}/munge.key", 0o600)
    host = socket.gethostname().split(".")[0]
    with open(f"{d}/slurm.conf", "w") as f:
        f.write(SLURM_CONF.format(host=host, dir=d, slots=8 * (os.cpu_count() or 1),
                                  ctld_port=_free_port(),
                                  d_port=_free_port()))
    env = dict(os.environ, SLURM_CONF=f"{d}/slurm.conf")
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["munged", "--foreground", "--force", f"--socket={d}/munge.sock",
             f"--key-file={d}/munge.key", f"--pid-file={d}/munged.pid",
             f"--log-file={d}/munged.log", f"--seed-file={d}/munge.seed"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait(lambda: os.path.exists(f"{d}/munge.sock"), "munged", d)
        for daemon in ("slurmctld", "slurmd"):
            procs.append(subprocess.Popen([daemon, "-D"], env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        _wait(lambda: _idle(env), "the node to come up", d)
        yield env
    finally:
        # Jobs first, and gone before slurmd is: a step whose slurmd ends lives on without it.
        subprocess.run(["scancel", "--user", str(os.getuid())], env=env, capture_output=True)
        with contextlib.suppress(RuntimeError, subprocess.CalledProcessError):
            _wait(lambda: not jobs(env), "the jobs to end", d, timeout=30)
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def _idle(env):
    out = subprocess.run(["sinfo", "--noheader", "--format=%T"], env=env, capture_output=True,
                         text=True)
    return out.returncode == 0 and "idle" in out.stdout


def _wait(ready, what, d, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    logs = ""
    for name in ("munged.log", "slurmctld.log", "slurmd.log"):
        with contextlib.suppress(OSError), open(f"{d}/{name}") as f:
            logs += f"--- {name}\n" + "".join(f.readlines()[-10:])
    raise RuntimeError(f"waited {timeout} s for {what}\n{logs}")


def jobs(env, prefix=""):
    """[(id, name, state)] of this user's jobs whose name starts with `prefix`."""
    out = subprocess.run(["squeue", "--noheader", "--user", str(os.getuid()), "--format=%i %j %T"],
                         env=env, capture_output=True, text=True, check=True)
    rows = [line.split() for line in out.stdout.splitlines() if line.strip()]
    return [tuple(r) for r in rows if len(r) == 3 and r[1].startswith(prefix)]
