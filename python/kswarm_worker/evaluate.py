"""The evaluate op, on the judge's side: the judge holds the problem's reference model, draws the
same inputs as the sandbox, compares the sandbox's outputs and times eager. Candidate code never
runs in this process (sandbox.py runs it); docs/worker_protocol.md describes both."""

import contextlib
import gc
import hashlib
import os
import random
import shutil
import time

import torch

from . import exchange, flags as findings, inputs as inputs_mod, precision, roofline
from .compare import TOLERANCES, compare_outputs, flatten_outputs, layout_differs, mean_float64
from .errors import Outcome, ProblemError, SandboxClaim, describe_exception, device_poisoned, \
    first_line, require_device
from .hello import backend_flags, restore_backend_flags
from .kept_calls import KeptCalls
from .sandbox_client import SandboxClient
from .static_check import check_source
from .timing import Timer, judged_ms, pinned, place_process, summarize, time_calls

_sandboxes = {}  # (device type, index, trusted) -> SandboxClient, kept between jobs
_CHECKED_TIMED_CALLS = 3  # timed candidate calls, picked at random, whose outputs are checked
_CHECKED_FASTEST_CALLS = 3  # and its fastest timed calls, on which its speed-up rests
_TIMING_BLOCKS = 20  # eager and candidate alternate in this many blocks of calls each


class _Job:
    """One evaluate request; the fields of the reply accumulate here."""

    def __init__(self, req: dict, device: str, index: int, sandbox: SandboxClient):
        self.req = req
        self.device = device if device == "cpu" else f"cuda:{index}"
        self.device_type = device
        self.sandbox = sandbox
        self.problem_path = req["problem_path"]
        self.footprint = None  # inputs.Footprint, once the problem is loaded
        self.candidate_path = req["candidate_path"]
        # kswarm's own recipes share a warm sandbox; anyone else's candidate gets a fresh one.
        self.trusted = bool(req.get("trusted", False))
        self.trials = int(req["trials"])
        # Halfway through the trials both sides change their weights in place (as loading a
        # state dict does): a candidate must follow, not keep a copy made earlier.
        self.change_at = self.trials // 2 if self.trials >= 2 else None
        self.seed = int(req["seed"])
        # Every input the sandbox draws comes from a seed revealed to it only for that call,
        # derived from a secret it never sees: no candidate can compute inputs ahead.
        self._secret = os.urandom(16)
        tolerance = req.get("tolerance", "seed")
        if tolerance not in TOLERANCES:
            raise KeyError(f"tolerance (one of {sorted(TOLERANCES)}, got {tolerance!r})")
        self.tolerance = tolerance
        self.static_policy = req.get("static_policy", "reject")
        self.timing_opts = req.get("timing", {})
        cpus = req.get("cpus") or {}
        self.timing_cpu = cpus.get("timing") if device == "cuda" else None
        self.phase_ms = {"load": 0.0, "build": 0.0, "verify": 0.0, "time": 0.0}
        self.trials_run = 0
        self.max_abs_err = None
        self.max_rel_err = None
        self.failure = None
        self.timing = None
        self.flags = []
        self.reference = None
        self.work = None  # bytes and FLOPs of one call (roofline.count_work)
        self.xdir = None  # the job's folder in its sandbox's exchange folder (run())
        self.copies = {}  # path in the job's folder -> the file the user named
        self.ipc = False  # outputs cross on the device (exchange.py); decided by the load's probe
        # (seed, distribution) of the draws the sandbox's request in flight makes: where a claim
        # that the problem failed is checked (confirm)
        self.claim_draws = []

    def _sync(self):
        if self.device_type == "cuda":
            torch.cuda.synchronize()

    def _reference_step(self, what: str, fn):
        try:
            result = fn()
            self._sync()
            return result
        except torch.OutOfMemoryError:
            raise  # whose it is depends on what the candidate holds (out_of_memory)
        except BaseException as e:
            raise ProblemError(f"{self.problem_path}: the reference Model failed in {what}: "
                               f"{describe_exception(e)}")

    def _input_seed(self, k: int) -> int:
        """The seed of the k-th input the sandbox draws in this job (trials first, then timing)."""
        digest = hashlib.blake2b(k.to_bytes(8, "little"), key=self._secret, digest_size=8)
        return int.from_bytes(digest.digest(), "little") >> 2

    def _draw(self, seed: int, kind: str = "own"):
        return inputs_mod.draw_inputs(self.problem, seed, self.device, self.problem_path,
                                      describe_exception, kind)

    def _load_outputs(self, path: str, header, what: str) -> list:
        try:
            return exchange.read(path, header, self.device)
        except exchange.ExchangeError as e:
            raise Outcome("rejected", f"{what}: the candidate's outputs could not be read back "
                                      f"({e})")

    def _reference(self, inputs, what: str) -> list:
        out = self._reference_step(what, lambda: self.reference(*inputs))
        try:
            return flatten_outputs(out)
        except TypeError as e:
            raise ProblemError(f"{self.problem_path}: Model.forward returned {e}")

    def _compare(self, cand, ref, what: str, input_seed: int):
        result = compare_outputs(cand, ref, TOLERANCES[self.tolerance])
        if result.max_abs_err is not None:
            self.max_abs_err = max(self.max_abs_err or 0.0, result.max_abs_err)
            self.max_rel_err = max(self.max_rel_err or 0.0, result.max_rel_err)
        if result.failure is not None:
            self.failure = dict(result.failure)
            raise Outcome("wrong", f"{what} (input seed {input_seed}): {result.message}")

    def _load_problem(self):
        self.problem = inputs_mod.load_problem(self.problem_path, self.req.get("shapes", "full"),
                                               describe_exception)
        init = inputs_mod.init_inputs(self.problem, self.problem_path, describe_exception)
        self.footprint = inputs_mod.check_fits(self.problem, init, self.problem_path,
                                               self.req.get("shapes", "full"), self.device_type,
                                               self.device)
        return init

    def _build_reference(self, init):
        torch.manual_seed(self.seed)
        reference = self._reference_step("construction", lambda: self.problem.Model(*init))
        self.reference = self._reference_step("moving to the device",
                                              lambda: reference.to(self.device))

    @contextlib.contextmanager
    def _phase(self, name: str):
        """Records the block's milliseconds as phase `name`, also when it ends the evaluation
        (a wrong trial, a crash): a failed candidate's time counts where it was spent."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.phase_ms[name] = (time.perf_counter() - t0) * 1e3

    def run(self) -> dict:
        with self._phase("load"):
            init = self._load_problem()

        with self._phase("build"):
            self._static_check()
            if self.req.get("fresh_sandbox") or not self.trusted:
                self.sandbox.close()  # the candidate starts in a process no earlier job touched
            self.xdir = self.sandbox.job_dir()
            probe_path = f"{self.xdir}/ipc_probe.bin" if self.device_type == "cuda" and \
                os.environ.get("KSWARM_CUDA_IPC", "1") != "0" else ""
            with self._phase("build_sandbox"):
                self.sandbox.call("problem", problem_path=self._copy(self.problem_path, "problem"),
                                  shapes=self.req.get("shapes", "full"))
            with self._phase("build_candidate"):
                loaded = self.sandbox.call(
                    "load", candidate_path=self._copy(self.candidate_path, "candidate"),
                    seed=self.seed, ipc_probe_path=probe_path)
            self._build_reference(init)
            self.ipc = self._ipc_works(loaded.get("ipc_probe"), probe_path)
            self._add_flags(loaded)

        with self._phase("verify"), torch.no_grad():
            self._degenerate_check()
            self._verify()

        with self._phase("time"), torch.no_grad():
            with pinned(self.timing_cpu):
                self._time()
            self._speed_of_light()
        return {"outcome": "passed", "message": self._passed_message()}

    def _add_flags(self, reply: dict):
        """The findings a sandbox reply carries (state left active, settings made coarser)."""
        for finding in reply.get("flags") or []:
            if findings.is_flag(finding) and finding not in self.flags:
                self.flags.append(finding)

    def _copy(self, path: str, name: str) -> str:
        """A copy of a file the sandbox loads, in the job's folder: the sandbox sees nothing of
        the user's folders (docs/containment.md)."""
        copy = os.path.join(self.xdir, f"{name}.py")
        try:
            shutil.copyfile(path, copy)
        except OSError:
            return path  # the sandbox reports the missing file under its own name
        self.copies[copy] = path
        return copy

    def original_paths(self, text: str) -> str:
        """`text` naming the files the user gave rather than the sandbox's copies."""
        for copy, path in self.copies.items():
            text = text.replace(copy, path)
        return text

    def _ipc_works(self, header, path: str) -> bool:
        """Whether the sandbox's probe came through the device-buffer transport intact. Anything
        else (no driver, IPC refused here, a candidate meddling) means files for this job."""
        if not header or not all(isinstance(h, dict) and h.get("ipc") for h in header):
            return False
        try:
            back = exchange.read(path, header, self.device)
        except exchange.ExchangeError:
            return False
        expected = exchange.probe_pattern(self.seed, self.device)
        return len(back) == 1 and back[0].dtype == expected.dtype and \
            back[0].shape == expected.shape and bool(torch.equal(back[0], expected))

    def _static_check(self):
        try:
            with open(self.candidate_path, encoding="utf-8", errors="replace") as f:
                source = f.read()
        except OSError:
            return  # the sandbox reports a missing file
        found = check_source(source)
        forbidden = [f for f in found if f.severity == "forbidden"]
        if forbidden and self.static_policy == "reject":
            raise Outcome("rejected", "static check: " + "; ".join(f.text() for f in forbidden))
        self.flags += [findings.flag(findings.STATIC, f"static {f.text()}") for f in found]

    def _degenerate_check(self) -> list:
        """Flags the problem when an answer that ignores the work passes its tolerance on every
        input distribution: zeros, a constant (the output's mean), or an input returned as is.
        Counts the work of one call on the way (the first distribution is the timed one).
        Returns the names of the answers that pass."""
        passes = {"zeros": True, "a constant": True, "the input": True}
        constants = None  # one constant per output, from the first distribution, used for all
        for i, kind in enumerate(inputs_mod.DISTRIBUTIONS):
            inputs = self._draw(self.seed + 1 + i, kind)
            what = f"the degenerate-problem check ({kind} inputs)"
            if i == 0:
                ref, self.work = self._reference_step(what, lambda: roofline.count_work(
                    self.reference, inputs, flatten_outputs))
            else:
                ref = self._reference(inputs, what)
            tensors = [x for x in inputs if isinstance(x, torch.Tensor)]
            if constants is None:
                constants = [mean_float64(r) if r.numel() and r.is_floating_point() else 0.0
                             for r in ref]
            # Made one at a time, as each is compared: three output-sized guesses alive at once
            # took a 6.4 GB activation's judge past an 80 GB GPU.
            tries = {
                "zeros": lambda: [torch.zeros_like(r) for r in ref],
                "a constant": lambda: [torch.full_like(r, c) for r, c in zip(ref, constants)]
                if len(constants) == len(ref) else None,
                "the input": lambda: [tensors[0]] if len(ref) == 1 and tensors and
                tensors[0].shape == ref[0].shape and tensors[0].dtype == ref[0].dtype else None,
            }
            for name, make in tries.items():
                if not passes[name]:
                    continue
                guess = make()
                if guess is None or compare_outputs(guess, ref, TOLERANCES[self.tolerance]).failure:
                    passes[name] = False
                del guess
        del inputs, ref, tensors, tries
        self._release()
        trivial = [name for name, ok in passes.items() if ok]
        if trivial:
            self.flags.append(findings.flag(
                findings.DEGENERATE_PROBLEM,
                f"degenerate problem: {' and '.join(trivial)} pass(es) its tolerance on every "
                "input distribution"))
        return trivial

    def _speed_of_light(self):
        peaks = roofline.measure_peaks(self.device_type, self.device)
        detail = roofline.check(self.work, peaks, self.timing["candidate"]["min_ms"],
                                self.timing["baseline"]["min_ms"])
        if detail:
            self.flags.append(findings.flag(findings.SPEED_OF_LIGHT, detail))

    def _verify(self):
        """The trials, pipelined: while the sandbox runs trial t the judge draws its inputs and
        runs the reference (from trial 1 on); the sandbox starts t + 1 (into the other outputs
        buffer) as soon as t's reply is in, while the judge reads and compares t."""
        def request(trial: int):
            input_seed, kind, path = self._trial_spec(trial)
            self.claim_draws = [(input_seed, kind)]
            self.sandbox.send("run", trial=trial, input_seed=input_seed, dist=kind,
                              out_path=path, check_threads=trial > 0, ipc=self.ipc,
                              reserve=self._reserve(), change_weights=trial == self.change_at)

        try:
            if self.trials:
                request(0)
            for trial in range(self.trials):
                self._trial(trial, request)
        except BaseException:
            if self.sandbox.in_flight:
                self.sandbox.close()  # a trial still running there: the next job gets a fresh one
            raise

    def _trial_spec(self, trial: int):
        """Trial t's input seed, input distribution and outputs file (two, used in turn)."""
        return (self._input_seed(trial),
                inputs_mod.DISTRIBUTIONS[trial % len(inputs_mod.DISTRIBUTIONS)],
                f"{self.xdir}/trial_{trial % 2}.bin")

    def _trial(self, trial: int, request):
        input_seed, kind, path = self._trial_spec(trial)
        what = f"trial {trial} of {self.trials}, {kind} inputs"
        # The candidate's first call is where lazy compilation and Triton's autotuning measure
        # configurations: nothing of the judge's runs on the device beside it.
        first = trial == 0
        reply = self.sandbox.receive() if first else None
        if trial == self.change_at:
            self._reference_step("changing its parameters",
                                 lambda: inputs_mod.change_weights(self.reference))
        if self.change_at is not None and trial >= self.change_at:
            what += (f", after both sides' parameters changed in place at trial {self.change_at} "
                     "(as load_state_dict does: read the weights at each call, keep no copy)")
        inputs = self._draw(input_seed, kind)
        ref = self._reference(inputs, f"trial {trial}")
        if not first:
            reply = self.sandbox.receive()
            if trial + 1 < self.trials:
                request(trial + 1)
        cand = self._load_outputs(path, reply.get("outputs"), what)
        self.trials_run = trial + 1
        for i, (dev, alias) in enumerate(zip(reply["devices"], reply["aliases"])):
            if i < len(ref) and dev != ref[i].device.type:
                raise Outcome("wrong", f"{what}: output {i} is on {dev}, the reference's on "
                                       f"{ref[i].device.type}")
            strides = reply.get("strides", [None] * len(ref))[i] if i < len(ref) else None
            if i < len(cand) and isinstance(strides, list) and \
                    layout_differs(cand[i].shape, strides, ref[i]):
                raise Outcome("wrong", f"{what}: output {i} has strides {strides}, the "
                                       f"reference's {list(ref[i].stride())} (same shape "
                                       f"{list(ref[i].shape)}): return outputs in the reference's "
                                       "memory layout (e.g. .contiguous()), or code that views "
                                       "them breaks")
            if alias is not None and i < len(ref):
                x = inputs[alias]
                if ref[i].untyped_storage().data_ptr() != x.untyped_storage().data_ptr():
                    raise Outcome("rejected", f"{what}: output {i} shares memory with input "
                                              f"{alias}; the reference returns new memory")
        self._add_flags(reply)
        try:
            self._compare(cand, ref, what, input_seed)
        except Outcome:
            self.failure["trial"] = trial
            raise
        if first:  # the problem's own distribution: how the user's inputs look
            detail = precision.check(self.reference, inputs, ref, cand)
            finding = findings.flag(findings.REDUCED_PRECISION, detail) if detail else None
            if finding and finding not in self.flags:
                self.flags.append(finding)
            # The float64 run's copies go back to the device before the sandbox's next call
            # (not beside it: a 6.4 GB input's took an 80 GB device from the candidate).
            del inputs, ref, cand
            self._release()
            if self.trials > 1:
                request(1)

    def _reserve(self) -> int:
        """Device bytes the sandbox leaves free for the judge when it decides where to keep
        outputs (exchange.fits_on_device): the judge's side of the footprint."""
        return self.footprint.judge if self.footprint and self.device_type == "cuda" else 0

    def _release(self):
        """Returns the judge's cached device memory to the driver after a step whose temporaries
        the trials do not reuse, so the sandbox's calls have the room."""
        if self.device_type == "cuda":
            torch.cuda.empty_cache()

    def _time(self):
        self.phase_ms["time_between_calls"] = self.phase_ms["time_checks"] = 0.0
        warmup = max(1, int(self.timing_opts.get("warmup_runs", 3)))
        seed_of = lambda i: self._input_seed(self.trials + i)  # noqa: E731 (timed call i)
        timer = Timer(self.device_type, self.device)
        try:
            with self.sandbox.spares_held():
                rounds = self._rounds(timer, [seed_of(i) for i in range(warmup)])
                ref_ms, cand_ms = self._timed_blocks(
                    timer, [seed_of(warmup + i) for i in range(rounds)])
        finally:
            timer.release()
        self.timing = {"baseline": summarize(ref_ms), "candidate": summarize(cand_ms),
                       "rounds": rounds}

    def _rounds(self, timer, warm: list) -> int:
        """Times the warm-up calls of both sides; returns how many timed calls the budget buys."""
        opts = self.timing_opts
        self.sandbox.pause()
        try:
            warm_ref = time_calls(timer, self.reference, self._draw, warm)
        finally:
            self.sandbox.resume()
        warm_cand = self._time_candidate(warm)
        per_round = max(warm_ref[-1] + warm_cand["samples_ms"][-1], 1e-3)
        return int(min(int(opts.get("max_runs", 100)),
                       max(int(opts.get("min_runs", 10)),
                           float(opts.get("budget_ms", 10000)) // per_round)))

    def _timed_blocks(self, timer, seeds: list) -> tuple:
        """Both sides' timed calls, one per seed, in alternating blocks; each block's checked
        calls compared after it and the fastest calls at the end. Returns (eager's ms, the
        candidate's ms)."""
        rounds = len(seeds)
        # Short blocks, alternating (and alternating which side goes first), on the same fresh
        # inputs per call: load that changes over time hits both sides alike.
        size = max(1, rounds // _TIMING_BLOCKS)
        blocks = [seeds[i:i + size] for i in range(0, rounds, size)]
        checked = set(random.Random(self.seed).sample(range(rounds),
                                                      min(_CHECKED_TIMED_CALLS, rounds)))
        checked.add(rounds - 1)
        kept = KeptCalls(checked, _CHECKED_FASTEST_CALLS)
        fastest = {}  # room -> header of the outputs last written there
        ref_ms, cand_ms = [], []
        offset = 0
        for b, block in enumerate(blocks):
            kept.new_block()
            block_checked = []
            for side in ("eager", "candidate") if b % 2 == 0 else ("candidate", "eager"):
                if side == "eager":
                    self.sandbox.pause()
                    try:
                        ref_ms += time_calls(timer, self.reference, self._draw, block)
                    finally:
                        self.sandbox.resume()
                    continue
                reply = self._time_candidate(block, kept, offset)
                cand_ms += reply["samples_ms"]
                for room, (i, header) in reply["rooms"].items():
                    if i in checked:
                        block_checked.append((i, room, header))
                    else:
                        fastest[room] = header
            # The block's random calls (and the last) now: their rooms serve the next block.
            self._check_timed_calls(block_checked, seeds, checked)
            offset += len(block)
        self.claim_draws = []
        # The fastest calls (a candidate fast only when it is wrong: the speed-up is their time).
        self._check_timed_calls([(i, room, fastest[room])
                                 for i, room in kept.fastest_rooms().items()], seeds, checked)
        return ref_ms, cand_ms

    def _check_timed_calls(self, calls, seeds: list, checked: set):
        """Compares the outputs of timed calls, (call, room, header) each, with the reference's on
        the same inputs."""
        start = time.perf_counter()
        for i, room, header in sorted(calls):
            what = f"timed call {i} of {len(seeds)}" + \
                ("" if i in checked else ", one of the fastest")
            cand = self._load_outputs(f"{self.xdir}/{room}.bin", header, what)
            ref = self._reference(self._draw(seeds[i]), what)
            self._compare(cand, ref, what + " (outputs re-checked after timing)", seeds[i])
        self.phase_ms["time_checks"] += (time.perf_counter() - start) * 1e3

    def _time_candidate(self, seeds: list, kept: KeptCalls = None, offset: int = 0) -> dict:
        """One block of the candidate's timed calls (timed calls offset.. of the phase), in
        lock-step with the sandbox: the judge's clock runs from its go to the sandbox's done, and
        the answer to done reveals the next call's seed (the first comes with the request) and
        the room, if `kept` picks one, that the call's outputs go to. The reply's samples_ms are
        what the sandbox said, bounded below by the judge's clock (judged_ms); its rooms are
        {room: (timed call, header)}."""
        inside, outside = [], []
        asked = {}  # call in the block -> room
        state = {"call": 0, "next": "go", "go": None}

        def answer(message: dict) -> dict:
            ask, call = message.get("ask"), message.get("call")
            if ask != state["next"] or call != state["call"] or \
                    state["call"] >= len(seeds):
                self.sandbox.close()
                raise Outcome("rejected", f"the sandbox's timing messages are out of order "
                                          f"({ask!r} for call {call!r}): something wrote into "
                                          "its protocol stream")
            if ask == "go":
                state["next"] = "done"
                state["go"] = time.perf_counter()
                return {}
            outside.append((time.perf_counter() - state["go"]) * 1e3)
            ms = message.get("ms")
            inside.append(ms if isinstance(ms, float) else float("nan"))
            state["next"], state["call"] = "go", call + 1
            out = {"seed": seeds[call + 1]} if call + 1 < len(seeds) else {}
            room = kept.room(offset + call, judged_ms(inside[-1:], outside[-1:])[0]) \
                if kept is not None else None
            if room is not None:
                asked[call] = room
                out["keep"] = f"{self.xdir}/{room}.bin"
            return out

        self.claim_draws = [(s, "own") for s in seeds]
        t0 = time.perf_counter()
        self.sandbox.send("time", count=len(seeds), seed=seeds[0], ipc=self.ipc,
                          reserve=self._reserve(), timing_cpu=self.timing_cpu)
        reply = self.sandbox.receive(on_message=answer)
        self.phase_ms["time_between_calls"] += (time.perf_counter() - t0) * 1e3 - sum(outside)
        # The block's times are those the sandbox said as each call ended, while the judge's clock
        # ran: a list rewritten afterwards is not believed.
        if state["call"] != len(seeds) or reply.get("samples_ms") != inside:
            self.sandbox.close()
            raise Outcome("rejected", "the sandbox's timing reply differs from the times it gave "
                                      "call by call")
        self._add_flags(reply)
        return dict(reply, samples_ms=judged_ms(inside, outside),
                    rooms={room: (offset + c, reply["kept"].get(str(c)))  # None: fails its read
                           for c, room in asked.items()})

    def _passed_message(self) -> str:
        b, c = self.timing["baseline"], self.timing["candidate"]
        return (f"correct on {self.trials_run} trials (max_abs_err {self.max_abs_err:.3g}, "
                f"max_rel_err {self.max_rel_err:.3g}); candidate {c['min_ms']:.4g} ms vs "
                f"eager {b['min_ms']:.4g} ms (fastest of {c['count']} calls; medians "
                f"{c['median_ms']:.4g} vs {b['median_ms']:.4g} ms)")

    def reply(self, outcome: str, message: str) -> dict:
        return {
            "outcome": outcome,
            "message": self.original_paths(message),
            "trials_run": self.trials_run,
            "max_abs_err": self.max_abs_err,
            "max_rel_err": self.max_rel_err,
            "failure": self.failure,
            "timing": self.timing if outcome == "passed" else None,
            "phase_ms": {k: round(v, 3) for k, v in self.phase_ms.items()},
            "flags": self.flags,
            "outputs_via": "cuda_ipc" if self.ipc else "file",
        }

    def cleanup(self):
        exchange.forget()
        if self.xdir:
            shutil.rmtree(self.xdir, ignore_errors=True)


def close_sandboxes():
    """Ends every sandbox and spare of this worker, removing their exchange folders."""
    for client in _sandboxes.values():
        client.shutdown()
    _sandboxes.clear()


def out_of_memory(job: _Job, sandbox: SandboxClient, error: BaseException):
    """The judge's own work, or the sandbox's (a report confirm found can be true), ran out of
    device memory: the candidate's Outcome when its process held far more than its side of the
    evaluation needs (inputs.memory_blame), else the problem's ProblemError. Never kswarm's
    failure, and never silently 1x."""
    cuda = job.device_type == "cuda"
    free_before = torch.cuda.mem_get_info(job.device)[0] if cuda else 0
    sandbox.close()  # what the candidate held comes back with its process
    held = max(0, torch.cuda.mem_get_info(job.device)[0] - free_before) if cuda else 0
    share = job.footprint.sandbox if job.footprint else 0
    seen = first_line(error)
    who = "the sandbox's own work" if isinstance(error, SandboxClaim) else "the judge"
    if inputs_mod.memory_blame(held, share) == "candidate":
        return Outcome("runtime_error",
                       f"the candidate's process held {held / 2**30:.1f} GiB of device memory, "
                       f"more than twice the {share / 2**30:.1f} GiB its side of the evaluation "
                       f"needs, and {who} ran out of memory beside it ({seen})")
    return ProblemError(
        f"{job.problem_path}: does not fit the {job.device_type} device at "
        f"these shapes as evaluated: {who} ran out of device memory ({seen}) while the "
        f"candidate's process held {held / 2**30:.1f} GiB")


def confirm(job: _Job, sandbox: SandboxClient, claim: SandboxClaim):
    """A sandbox's claim that would clear the candidate, checked by the judge itself: the
    problem's ProblemError where it holds, else the candidate's Outcome. That the problem failed
    holds if the judge's own draw of the same inputs fails too; that the sandbox's own work ran
    out of device memory, if the device has no room for that work (inputs.memory_claim_holds)
    and the candidate's process did not hold far more than its share (out_of_memory)."""
    if claim.kind == "out_of_memory":
        free = inputs_mod.device_free(job.device_type, job.device)
        share = job.footprint.sandbox if job.footprint else 0
        if inputs_mod.memory_claim_holds(free, share):
            return out_of_memory(job, sandbox, claim)
        sandbox.close()
        return Outcome("runtime_error",
                       f"the sandbox reported that its own work ran out of device memory "
                       f"({first_line(claim)}) while the device had {free / 2**30:.1f} GiB free, "
                       f"more than that work needs ({share / 2**30:.1f} GiB): the candidate's "
                       "code failed it or wrote the report")
    sandbox.close()
    for seed, kind in job.claim_draws:
        try:
            job._draw(seed, kind)
        except ProblemError as e:
            return e
    why = ("the judge's own draw of the same inputs works" if job.claim_draws else
           "where none of the problem's code runs (it loaded and drew inputs before the "
           "candidate's did)")
    return Outcome("runtime_error",
                   f"the sandbox reported the problem failing in {claim.op} "
                   f"({first_line(claim)}) after the candidate's code ran, {why}: the "
                   "candidate's code failed it or wrote the report")


def evaluate(req: dict, device: str, index: int) -> dict:
    require_device(device)
    place_process((req.get("cpus") or {}).get("others"))
    trusted = bool(req.get("trusted", False))
    key = (device, index, trusted)
    if key not in _sandboxes:
        _sandboxes[key] = SandboxClient(device, index, trusted)
    sandbox = _sandboxes[key]
    job = _Job(req, device, index, sandbox)
    flags = backend_flags()
    try:
        result = job.run()
        reply = job.reply(result["outcome"], result["message"])
    except Outcome as o:
        reply = job.reply(o.outcome, o.message)
    except (torch.OutOfMemoryError, SandboxClaim) as e:
        blamed = confirm(job, sandbox, e) if isinstance(e, SandboxClaim) else \
            out_of_memory(job, sandbox, e)
        if isinstance(blamed, ProblemError):
            raise ProblemError(job.original_paths(str(blamed))) from None
        reply = job.reply(blamed.outcome, blamed.message)
    except ProblemError as e:
        if device_poisoned(device):
            reply = job.reply("runtime_error", "the device failed after the candidate ran; "
                                               "its work left the CUDA context unusable")
            reply["poisoned"] = True
            return reply
        raise ProblemError(job.original_paths(str(e))) from None
    finally:
        job.cleanup()
        restore_backend_flags(flags)
        inputs_mod.forget_modules("kswarm_problem_")
        job.reference = None
        gc.collect()
        poisoned = device_poisoned(device)
        if device == "cuda" and not poisoned:
            torch.cuda.empty_cache()
    reply["poisoned"] = poisoned
    reply["sandboxes_started"] = sandbox.started
    reply["sandbox_from_spare"] = sandbox.from_spare
    if not poisoned:
        sandbox.prepare_spare()  # starts while the supervisor records this job and sends the next
    return reply


def probe(req: dict, device: str, index: int) -> dict:
    """The probe op: what the problem itself allows, with no candidate. The degenerate-problem
    check, the work of one call, the device's speed-of-light bound and eager's time against it."""
    require_device(device)
    place_process((req.get("cpus") or {}).get("others"))
    req = dict(req, candidate_path="", trials=0)
    job = _Job(req, device, index, sandbox=None)
    flags = backend_flags()
    try:
        job._build_reference(job._load_problem())
        with torch.no_grad():
            trivial = job._degenerate_check()
            timer = Timer(job.device_type, job.device)
            try:
                base = job.seed + 100
                n = max(1, int(req.get("timing", {}).get("min_runs", 10)))
                with pinned(job.timing_cpu):
                    eager = summarize(time_calls(timer, job.reference, job._draw,
                                                 range(base, base + n)))
            finally:
                timer.release()
            peaks = roofline.measure_peaks(job.device_type, job.device)
        return {"degenerate": trivial, "work": job.work, "peaks": peaks,
                "bound_ms": roofline.bound_ms(job.work, peaks), "slack": roofline.SLACK,
                "eager": eager}
    except torch.OutOfMemoryError as e:  # no candidate here: the problem's size
        raise ProblemError(f"{job.problem_path}: does not fit the {job.device_type} device at "
                           f"these shapes as evaluated: {first_line(e)}") from None
    finally:
        restore_backend_flags(flags)
        inputs_mod.forget_modules("kswarm_problem_")
        job.reference = None
        gc.collect()
