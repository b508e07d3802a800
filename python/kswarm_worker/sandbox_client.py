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

import collections
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from . import containment
from .errors import DeviceError, Outcome, ProblemError, SandboxClaim


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


def _children(pid: int) -> list:
    """The processes `pid` started (from every one of its threads)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(c) for c in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def process_tree(pid: int) -> list:
    """`pid` and every process below it: a contained sandbox is bubblewrap, its init and the
    sandbox process, and whatever a candidate started there."""
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p not in tree:
            tree.append(p)
            todo += _children(p)
    return tree


_STOP_WAIT_S = 0.1
_STOPPED = ("T", "t", "Z", "X", "")  # stopped, traced, ended, or gone


def _state(pid: int) -> str:
    """A process's state letter (/proc/PID/stat), "" for one that is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


class _Process:
    """One sandbox process and the folder it exchanges outputs through (the only place of the
    host it may write, beside its private /tmp)."""

    def __init__(self, argv: list, trusted: bool, device_type: str):
        self.exchange = tempfile.mkdtemp(prefix=f"{_EXCHANGE_PREFIX}{os.getpid()}-",
                                         dir=_exchange_base())
        jail = containment.Jail(writable=[self.exchange], shared_caches=trusted,
                                memory_bytes=_cpu_memory_limit() if device_type == "cpu" else 0)
        try:
            self.proc = containment.popen(argv, jail, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True, errors="replace", close_fds=True,
                                          trusted=trusted)
        except BaseException:
            shutil.rmtree(self.exchange, ignore_errors=True)
            raise
        # The sandbox's stderr goes on to the worker's, and its last lines are kept: a sandbox
        # that dies is reported with what it said last.
        self.stderr_tail = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._stderr_done = threading.Thread(target=self._pass_stderr, daemon=True)
        self._stderr_done.start()

    def _pass_stderr(self):
        for line in self.proc.stderr:
            self.stderr_tail.append(line.rstrip("\n")[:_STDERR_LINE_CHARS])
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    def last_words(self) -> str:
        """The sandbox's last stderr lines, once it has ended (what its pipe still held)."""
        self._stderr_done.join(timeout=2)
        return "\n".join(self.stderr_tail)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig):
        """Sends `sig` to the whole process tree, again to processes started meanwhile (a parent
        may fork just before its stop) until a pass finds none."""
        seen = set()
        for _ in range(10):
            new = [pid for pid in process_tree(self.proc.pid) if pid not in seen]
            if not new:
                break
            for pid in new:
                seen.add(pid)
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass

    def stop(self):
        """SIGSTOP to the whole tree until every process in it is stopped, for at most 0.1 s: a
        child forked as its parent stopped shows up in the tree only a moment later."""
        deadline = time.monotonic() + _STOP_WAIT_S
        while True:
            self.signal(signal.SIGSTOP)
            if all(_state(pid) in _STOPPED for pid in process_tree(self.proc.pid)) or \
                    time.monotonic() > deadline:
                return
            time.sleep(0.002)

    def kill(self):
        if self.alive():
            self.signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait()
        containment.release(self.proc)
        shutil.rmtree(self.exchange, ignore_errors=True)


_EXCHANGE_PREFIX = "kswarm-sbx-"  # then the judge's pid: whose folder it is


def _exchange_base():
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


def remove_stale_exchanges():
    """Removes the exchange folders (and jail cgroups) of judges that are gone (killed before they
    could): a folder holds a candidate's outputs, in memory where /dev/shm is."""
    from . import cgroups
    cgroups.remove_stale()
    base = _exchange_base()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        pid = name[len(_EXCHANGE_PREFIX):].split("-", 1)[0]
        if name.startswith(_EXCHANGE_PREFIX) and pid.isdigit() and \
                not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def _how_it_ended(code: int) -> str:
    """A sandbox's end from its exit status; bubblewrap passes a signal on as 128 + its number."""
    if code < 0:
        return f"killed by signal {-code}"
    if code > 128 and containment.probe()[0]:
        return f"killed by signal {code - 128}"
    return f"exit status {code}"


_STDERR_TAIL_LINES = 12
_STDERR_LINE_CHARS = 400


def died_message(op: str, code: int, stderr_tail: str) -> str:
    """What a sandbox that ended during `op` is reported with: how it ended, whether it ran out
    of memory, and the last lines it wrote to stderr."""
    how = _how_it_ended(code)
    lowered = stderr_tail.lower()
    if "out of memory" in lowered or "memoryerror" in lowered or "cannot allocate memory" in lowered:
        how += ", out of memory"
    elif code in (-signal.SIGKILL, 128 + signal.SIGKILL) and not stderr_tail:
        how += ", without a word: the kernel's out-of-memory killer ends processes so"
    message = f"the candidate took its sandbox process down ({how}) during {op}"
    if stderr_tail:
        message += "; its last words on stderr:\n" + stderr_tail
    return message


def _cpu_memory_limit() -> int:
    """A CPU sandbox's address-space limit: three quarters of the host's memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 3 // 4
    except (ValueError, OSError):
        return 0


# What the sandbox may say in reply to each op, and only then: candidate code can write into its
# protocol stream (docs/worker_protocol.md, "The sandbox's replies").
SANDBOX_OUTCOMES = ("compile_error", "runtime_error", "rejected")
_REPLY_FIELDS = {
    "problem": {},
    "load": {"flags": list},
    "run": {"flags": list, "aliases": list, "devices": list, "strides": list, "outputs": list},
    "time": {"flags": list, "samples_ms": list, "kept": dict},
}


def reply_kind(op: str, reply) -> tuple:
    """What a sandbox reply to `op` is, as (kind, text). "reply": an answer of the op's shape.
    "outcome": a failure of the candidate (text its message). "problem": the problem's error,
    believed only from the op that runs no candidate code. "claim problem" or "claim
    out_of_memory": a claim that would clear the candidate, for the judge to confirm. "forged":
    nothing a sandbox of kswarm's says (text what is wrong)."""
    if not isinstance(reply, dict):
        return "forged", "is not an object"
    if not reply.get("ok"):
        for claim in ("problem", "out_of_memory"):
            if isinstance(reply.get(claim), str):
                if claim == "problem" and op == "problem":
                    return "problem", reply[claim]
                return f"claim {claim}", reply[claim]
        return "forged", f"is an error no request of the judge's causes ({reply.get('error')!r})"
    if "outcome" in reply:
        if reply["outcome"] not in SANDBOX_OUTCOMES or not isinstance(reply.get("message"), str):
            return "forged", f"claims the outcome {reply['outcome']!r}, which only the judge gives"
        return "outcome", reply["message"]
    for field, kind in _REPLY_FIELDS.get(op, {}).items():
        if not isinstance(reply.get(field), kind):
            return "forged", f"lacks its {field!r} {kind.__name__}"
    return "reply", ""


class SandboxClient:
    """The sandboxes of one device and one kind of author: kswarm's own recipes (`trusted`: one
    warm process, the shared compiler caches) or anyone else's (a process no other candidate ran
    in for every job, caches of its own; docs/containment.md)."""

    def __init__(self, device_type: str, index: int, trusted: bool = True):
        self.device_type = device_type
        self.index = index
        self.trusted = trusted
        self.proc = None  # _Process
        self.started = 0
        self.spares = []  # _Process started ahead, oldest (the readiest) first
        self.from_spare = False  # whether the current sandbox was a spare
        self.in_flight = []  # ops sent whose replies are not read yet, oldest first
        self.spares_wanted = spares_wanted(device_type)

    def _spawn(self, spare: bool = False) -> "_Process":
        return _Process([sys.executable, "-m", "kswarm_worker.sandbox", "--device",
                         self.device_type, "--index", str(self.index)] +
                        (["--preload"] if spare else []), self.trusted, self.device_type)

    def ensure(self):
        """A live sandbox process to send the next job to."""
        if self.proc is not None and self.proc.alive():
            return
        if self.proc is not None:
            self.proc.kill()
        self.in_flight.clear()  # replies of a process that is gone
        self._drop_dead_spares()
        if self.spares:
            self.proc, self.from_spare = self.spares.pop(0), True
        else:
            self.proc, self.from_spare = self._spawn(), False
        self.started += 1

    def job_dir(self) -> str:
        """A folder for one job's files, in the current sandbox's exchange folder."""
        self.ensure()
        return tempfile.mkdtemp(prefix="job-", dir=self.proc.exchange)

    def prepare_spare(self):
        """Starts fresh sandboxes now, between jobs, until spares_wanted are waiting."""
        self._drop_dead_spares()
        while len(self.spares) < self.spares_wanted:
            self.spares.append(self._spawn(spare=True))

    def _drop_dead_spares(self):
        for spare in [s for s in self.spares if not s.alive()]:
            spare.kill()
            self.spares.remove(spare)

    def call(self, op: str, **fields) -> dict:
        """The sandbox's reply. A candidate outcome raises Outcome; a broken problem raises
        ProblemError; a dead sandbox raises Outcome("crashed")."""
        self.send(op, **fields)
        return self.receive()

    def send(self, op: str, **fields):
        """Sends a request without waiting: the judge works beside the sandbox until receive().
        A write to a dead sandbox is noticed by receive()."""
        self.ensure()
        self.in_flight.append(op)
        self._write(dict(fields, op=op))

    def _write(self, message: dict):
        try:
            self.proc.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def _read(self, op: str) -> dict:
        try:
            line = self.proc.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            code = self.proc.proc.wait()
            said = self.proc.last_words()
            self.proc.kill()
            self.proc = None
            self.in_flight.clear()
            raise Outcome("crashed", died_message(op, code, said))
        try:
            return json.loads(line)
        except ValueError:
            self.close()
            raise Outcome("rejected", f"the sandbox's reply to {op} is not JSON (something wrote "
                                      "into its protocol stream)")

    def receive(self, on_message=None) -> dict:
        """The reply to the oldest request sent (see call). Messages the sandbox sends before its
        reply (a request of its own, {"ask": ...}) go to on_message, whose answer is sent back."""
        op = self.in_flight.pop(0)
        while True:
            reply = self._read(op)
            if "ask" not in reply:
                break
            if on_message is None:
                self.close()
                raise Outcome("rejected", f"the sandbox asked {reply['ask']!r} during {op}")
            self._write(on_message(reply))
        kind, text = reply_kind(op, reply)
        if kind == "reply":
            return reply
        if kind == "outcome":
            if reply.get("poisoned"):
                self.close()  # its CUDA context is unusable; the next job gets a fresh one
            raise Outcome(reply["outcome"], text)
        if kind == "problem":
            raise ProblemError(text)
        self.close()  # nothing more of this process is believed
        if kind == "forged":
            raise Outcome("rejected", f"the sandbox's reply to {op} {text}: something wrote into "
                                      "its protocol stream")
        raise SandboxClaim(kind.removeprefix("claim "), text, op)

    def pause(self):
        """Stops the sandbox (and everything a candidate started there) while the judge times
        eager."""
        if self.proc is not None and self.proc.alive():
            self.proc.stop()

    def resume(self):
        if self.proc is not None and self.proc.alive():
            self.proc.signal(signal.SIGCONT)

    @contextlib.contextmanager
    def spares_held(self):
        """Stops the spares while the block runs (the timing phase): one still starting
        (importing torch on another core) slowed a torch.compile candidate's timed calls by 20-50%
        through the host's shared caches (bench/results/2026-12-01-h200-torch-compile-host-time.md,
        part 3)."""
        held = [s for s in self.spares if s.alive()]
        for spare in held:
            spare.stop()
        try:
            yield
        finally:
            for spare in held:
                if spare.alive():
                    spare.signal(signal.SIGCONT)

    def close(self):
        self.in_flight.clear()
        if self.proc is None:
            return
        self.proc.kill()
        self.proc = None

    def shutdown(self):
        """Ends the sandbox and its spares (the worker exits)."""
        self.close()
        for spare in self.spares:
            spare.kill()
        self.spares.clear()
