"""The judge's handle on its sandbox process. The sandbox shares the judge's process group, so the
C++ side's deadline kills both; this class has no deadlines of its own.

Spares: starting a sandbox (importing torch, setting up the device, importing torch.compile's
machinery) takes seconds, and a recheck asks for a fresh one each time. Between jobs the client
tops up a few fresh sandboxes started ahead (prepare_spare), which also import the compiler stacks
that candidates commonly use (sandbox.py --preload); no job has touched one when it takes over.
Two, so that a spare has had the time of a whole problem's jobs to start when a recheck takes it,
and two rechecks in a row both find one. KSWARM_SPARE_SANDBOX=N keeps N (default 2 on CUDA, where
the host has cores to spare, and 0 on the CPU).

torch.compile's compile processes (TORCHINDUCTOR_COMPILE_THREADS where the user has not set it;
compile_threads): none on CUDA, where a pool started by one candidate busied every core of the host
while another was timed on this GPU or the next, and a timed call's host code ran up to 2.7x slower
(bench/spin_timing.py --busy, bench/results/2026-12-01-h200x2-host-load.md); on the CPU one per core
the worker may use, since the worker compiles a candidate only while verifying it, when it times
nothing (a cold torch.compile of 11_tiny_unet on 2 cores: 9.6 s against 14.9 s in-process)."""

import json
import os
import signal
import subprocess
import sys

from .errors import DeviceError, Outcome, ProblemError


def spares_wanted(device_type: str) -> int:
    default = "2" if device_type == "cuda" else "0"
    value = os.environ.get("KSWARM_SPARE_SANDBOX", default)
    try:
        return max(0, int(value))
    except ValueError:
        raise DeviceError(f"KSWARM_SPARE_SANDBOX={value!r}: give the number of spare sandboxes "
                          "to keep (0 for none)")


def compile_threads(device_type) -> str:
    """TORCHINDUCTOR_COMPILE_THREADS for this process and what it starts: the user's value, else
    the cores this process may use (at most 32, torch's own limit) for a CPU worker's sandboxes,
    and 1 (kernels compile in the process that compiles the model) on CUDA and for the tools
    (device_type None: builds and profiles, which may run beside a timed candidate)."""
    value = os.environ.get("TORCHINDUCTOR_COMPILE_THREADS", "")
    if value:
        return value
    if device_type != "cpu":
        return "1"
    return str(min(32, len(os.sched_getaffinity(0))))


class SandboxClient:
    def __init__(self, device_type: str, index: int):
        self.device_type = device_type
        self.index = index
        self.proc = None
        self.started = 0
        self.spares = []  # started ahead, oldest (the readiest) first
        self.from_spare = False  # whether the current sandbox was a spare
        self.in_flight = []  # ops sent whose replies are not read yet, oldest first
        self.spares_wanted = spares_wanted(device_type)

    def _spawn(self, spare: bool = False):
        return subprocess.Popen(
            [sys.executable, "-m", "kswarm_worker.sandbox", "--device", self.device_type,
             "--index", str(self.index)] + (["--preload"] if spare else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True,
            env=os.environ.copy(), close_fds=True)

    def _ensure(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        self.in_flight.clear()  # replies of a process that is gone
        self._drop_dead_spares()
        if self.spares:
            self.proc, self.from_spare = self.spares.pop(0), True
        else:
            self.proc, self.from_spare = self._spawn(), False
        self.started += 1

    def prepare_spare(self):
        """Starts fresh sandboxes now, between jobs, until spares_wanted are waiting."""
        self._drop_dead_spares()
        while len(self.spares) < self.spares_wanted:
            self.spares.append(self._spawn(spare=True))

    def _drop_dead_spares(self):
        for spare in [s for s in self.spares if s.poll() is not None]:
            spare.wait()
            self.spares.remove(spare)

    def call(self, op: str, **fields) -> dict:
        """The sandbox's reply. A candidate outcome raises Outcome; a broken problem raises
        ProblemError; a dead sandbox raises Outcome("crashed")."""
        self.send(op, **fields)
        return self.receive()

    def send(self, op: str, **fields):
        """Sends a request without waiting: the judge works beside the sandbox until receive().
        A write to a dead sandbox is noticed by receive()."""
        self._ensure()
        self.in_flight.append(op)
        try:
            self.proc.stdin.write(json.dumps(dict(fields, op=op)) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def receive(self) -> dict:
        """The reply to the oldest request sent (see call)."""
        op = self.in_flight.pop(0)
        try:
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            code = self.proc.wait()
            self.proc = None
            self.in_flight.clear()
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            raise Outcome("crashed", f"the candidate took its sandbox process down ({how}) "
                                     f"during {op}")
        reply = json.loads(line)
        if not reply.get("ok"):
            if "problem" in reply:
                raise ProblemError(reply["problem"])
            raise RuntimeError(f"sandbox: {reply.get('error')}")
        if "outcome" in reply:
            if reply.get("poisoned"):
                self.close()  # its CUDA context is unusable; the next job gets a fresh one
            raise Outcome(reply["outcome"], reply["message"])
        return reply

    def pause(self):
        """Stops the sandbox (and threads a candidate left behind) while the judge times eager."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def close(self):
        self.in_flight.clear()
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait()
        self.proc = None
