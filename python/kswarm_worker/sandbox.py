"""The sandbox: the one process that runs candidate code. The judge (evaluate.py) starts it and
speaks to it over JSON lines (docs/worker_protocol.md, "The sandbox"). It never sees the reference
model or its outputs: it draws the trial's inputs itself, runs the candidate, and hands the
outputs over in files that the judge compares. python3 -m kswarm_worker.sandbox --device D."""

import argparse
import ctypes
import gc
import inspect
import json
import os
import signal
import sys
import time

import torch
import torch.nn as nn

from . import buildcache, exchange, guards, inputs as inputs_mod, timing, vec_isa_cache
from . import flags as findings
from .compare import flatten_outputs, inputs_unchanged
from .errors import Outcome, ProblemError, describe_exception, device_poisoned, first_line, \
    is_build_error, is_cuda_failure
from .hello import backend_flags, restore_backend_flags
from .server import private_protocol, sanitize

_STABILITY_WAIT_S = 0.002  # how long an output must stay unchanged after forward() returns


def _clone(values):
    return [v.clone() if isinstance(v, torch.Tensor) else v for v in values]


class Sandbox:
    def __init__(self, device_type: str, index: int):
        self.device_type = device_type
        self.device = "cpu" if device_type == "cpu" else f"cuda:{index}"
        self.problem = None
        self.init = None  # the problem's init inputs (open_problem)
        self.model = None
        self.problem_path = ""
        self.integrity = None
        self.flags = backend_flags()  # as the process started; restored before every candidate
        capability = ""
        if device_type == "cuda":
            capability = "{}.{}".format(*torch.cuda.get_device_capability(self.device))
        self.arch = buildcache.arch_of(device_type, capability)
        self.proto_in = self.proto_out = None  # the judge's streams (main); ask() uses them
        self.baseline = None  # (active_state, numeric_settings) before the candidate was imported

    def ask(self, ask: str, **fields) -> dict:
        """Asks the judge something in the middle of an op and returns its answer."""
        self.proto_out.write(json.dumps(dict(fields, ask=ask)) + "\n")
        self.proto_out.flush()
        line = self.proto_in.readline()
        if not line:
            raise SystemExit(0)  # the judge is gone
        return json.loads(line)

    def state_flags(self) -> list:
        """What the candidate has left changed in the process since it was imported: modes,
        hooks or trace functions still active (a flag), numeric settings made coarser (reduced
        precision)."""
        state, settings = self.baseline
        found = [findings.flag(findings.STATE,
                               f"state left active after the candidate's code ran: {name}")
                 for name in guards.left_active(state, guards.active_state())]
        coarser = guards.coarser_settings(settings, guards.numeric_settings())
        if coarser:
            found.append(findings.flag(
                findings.REDUCED_PRECISION, "reduced precision: the candidate changed global "
                "numeric settings (" + "; ".join(coarser) + ")"))
        return found

    # -- running candidate code ------------------------------------------------------------------

    def _sync(self):
        if self.device_type == "cuda":
            torch.cuda.synchronize()

    def _step(self, what: str, fn, then=None):
        """Runs candidate code; its exceptions become outcomes, and so does any patching.
        `then(result)` runs before the device is synchronized (to snapshot outputs in stream
        order, before unjoined work on other streams has to finish)."""
        try:
            result = fn()
            if then is not None:
                result = then(result)
            self._sync()  # attribute asynchronous device errors to the candidate
        except Outcome:
            raise
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise Outcome("runtime_error", f"{what}: candidate raised {type(e).__name__}")
            outcome = "compile_error" if is_build_error(e) else "runtime_error"
            raise Outcome(outcome, f"{what}: {describe_exception(e)}")
        self._check_integrity(what)
        return result

    def _check_integrity(self, what: str):
        if type(self.integrity) is not guards.Integrity:
            raise Outcome("rejected", f"{what}: the candidate removed the sandbox's integrity "
                                      "check")
        changed = self.integrity.changed() + [f"Sandbox.{m}" for m in guards.shadowed(self)]
        if changed:
            raise Outcome("rejected", f"{what}: the candidate replaced {', '.join(changed[:5])} "
                                      "(functions the checks and timers rely on)")

    def _draw(self, seed: int, kind: str = "own"):
        return inputs_mod.draw_inputs(self.problem, seed, self.device, self.problem_path,
                                      describe_exception, kind)

    def _outputs(self, out, what: str) -> list:
        try:
            outs = flatten_outputs(out)
        except TypeError as e:
            raise Outcome("rejected", f"{what}: ModelNew.forward returned {e}")
        for i, o in enumerate(outs):
            if type(o) is not torch.Tensor:  # subclasses can defer or fake their values
                raise Outcome("rejected", f"{what}: output {i} is a {type(o).__name__}, a tensor "
                                          "subclass; return plain torch.Tensor values")
        return outs

    # -- ops -------------------------------------------------------------------------------------

    def open_problem(self, req: dict) -> dict:
        """Loads the problem and draws its inputs once, before any candidate code runs in the
        job: the only op whose problem errors the judge believes as they are."""
        self.model = self.problem = self.init = None
        exchange.forget()  # the last job's files are gone with its folder
        inputs_mod.forget_modules("kswarm_problem_", "kswarm_candidate_")
        if "torch._dynamo" in sys.modules:
            # torch.compile's state as in a fresh process: its caches and recompilation counts
            # are per process, and code it shares between candidates (the wrapper of a
            # functools.partial) stops compiling after 8 recompilations, so without this the 9th
            # torch.compile candidate of a warm sandbox ran eagerly, and how a candidate ran
            # depended on how many this sandbox had seen. File caches stay.
            torch.compiler.reset()
        gc.collect()
        if self.device_type == "cuda":
            torch.cuda.empty_cache()
        restore_backend_flags(self.flags)
        self.problem_path = req["problem_path"]
        self.problem = inputs_mod.load_problem(self.problem_path, req.get("shapes", "full"),
                                               describe_exception)
        self.init = inputs_mod.init_inputs(self.problem, self.problem_path, describe_exception)
        # The reference model is the judge's alone.
        del self.problem.Model
        # get_inputs() as contained (a file it reads may be out of the sandbox's sight).
        self._draw(int.from_bytes(os.urandom(8), "little") >> 2)
        return {}

    def load(self, req: dict) -> dict:
        """Imports and builds the candidate for the problem open_problem loaded."""
        init = self.init
        self.integrity = guards.Integrity([inputs_mod, timing, guards, exchange,
                                           sys.modules[__name__]])
        self.baseline = (guards.active_state(), guards.numeric_settings())
        try:
            with open(req["candidate_path"], "rb") as f:
                buildcache.prepare(f.read(), self.arch)  # its extensions build (or are found) there
            candidate = inputs_mod.load_module(req["candidate_path"], "kswarm_candidate_")
        except FileNotFoundError:
            raise Outcome("rejected", f"{req['candidate_path']}: no such file")
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise Outcome("compile_error", f"candidate raised {type(e).__name__} on import")
            raise Outcome("compile_error", f"candidate failed to load: {describe_exception(e)}")
        self._check_integrity("import")
        model_new = getattr(candidate, "ModelNew", None)
        if not (isinstance(model_new, type) and issubclass(model_new, nn.Module)):
            raise Outcome("rejected", f"{req['candidate_path']}: defines no class ModelNew(nn.Module)")
        try:
            inspect.signature(model_new).bind(*init)
        except TypeError as e:
            raise Outcome("rejected", f"ModelNew's constructor cannot take the problem's init "
                                      f"inputs {init!r}: {e}")
        except ValueError:
            pass
        torch.manual_seed(int(req["seed"]))
        self.model = self._step("ModelNew construction", lambda: model_new(*init).to(self.device))
        torch.manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)  # reveals no input seed
        if "torch._dynamo" in sys.modules:
            # torch.compile is in use: its CPU compiles take which vector instruction sets they
            # may use from earlier processes' checks (about 20 s of a fresh process's first one)
            vec_isa_cache.install()
        reply = {"flags": self.state_flags()}
        if req.get("ipc_probe_path") and self.device_type == "cuda":
            # A known pattern through the device-buffer transport: the judge uses the transport
            # for this job only if it reads the pattern back.
            reply["ipc_probe"] = exchange.write(req["ipc_probe_path"], [
                exchange.probe_pattern(int(req["seed"]), self.device)], ipc=True)
        return reply

    @staticmethod
    def _hand_over(outs, path: str, what: str, req: dict) -> list:
        """Writes outputs for the judge (exchange.py, as req's `ipc` and `reserve` say); returns
        their header."""
        try:
            return exchange.write(path, outs, bool(req.get("ipc")), int(req.get("reserve", 0)))
        except exchange.ExchangeError as e:
            raise Outcome("rejected", f"{what}: {e}")

    @staticmethod
    def _snapshot(outs, path: str, what: str, req: dict):
        """The outputs as the call left them, for the stability check and the judge: copied
        straight into the exchange's room for them where that is on their device (one copy, not
        two), else cloned, to be handed over after the check. Returns (header or None, copies)."""
        try:
            header, room = exchange.destination(path, outs, bool(req.get("ipc")),
                                                int(req.get("reserve", 0)))
        except exchange.ExchangeError as e:
            raise Outcome("rejected", f"{what}: {e}")
        if all(r.device == o.device for r, o in zip(room, outs)):
            for r, o in zip(room, outs):
                r.copy_(o.detach())
            return header, room
        return None, [o.detach().clone() for o in outs]

    def run(self, req: dict) -> dict:
        """One verification trial: outputs go to req["out_path"] for the judge."""
        trial = int(req["trial"])
        what = f"trial {trial}: ModelNew.forward"
        if req.get("change_weights"):
            self._step(f"trial {trial}: changing ModelNew's parameters",
                       lambda: inputs_mod.change_weights(self.model))
        inputs = self._draw(int(req["input_seed"]), req.get("dist", "own"))
        pristine = _clone(inputs)
        threads_before = guards.os_threads()

        def snap(out):  # enqueued on the current stream right after the call returns
            outs = self._outputs(out, what)
            return (outs, *self._snapshot(outs, req["out_path"], what, req))

        with torch.no_grad():
            outs, header, snapshot = self._step(what, lambda: self.model(*inputs), then=snap)
        if req.get("check_threads", True):
            started = guards.os_threads() - threads_before
            if started:
                raise Outcome("rejected", f"{what} left {len(started)} new thread(s) running "
                                          "after it returned: work must finish inside forward()")
        time.sleep(_STABILITY_WAIT_S)
        self._sync()
        for i, (o, s) in enumerate(zip(outs, snapshot)):
            if not inputs_unchanged([o], [s]):
                raise Outcome("rejected", f"{what}: output {i} changed after forward() returned "
                                          "(work continued outside the call)")
        if not inputs_unchanged(inputs, pristine):
            raise Outcome("rejected", f"{what} modified its inputs in place")
        reply = {"flags": self.state_flags(),
                 "aliases": guards.aliases(outs, inputs),
                 "devices": [o.device.type for o in outs],
                 "strides": [list(o.stride()) for o in outs],
                 "outputs": header if header is not None else
                 self._hand_over(snapshot, req["out_path"], what, req)}
        guards.poison(outs + [x for x in inputs if isinstance(x, torch.Tensor)] + pristine)
        return reply

    def time(self, req: dict) -> dict:
        """Times the candidate on req["count"] calls with fresh inputs each, in lock-step with the
        judge: it says go and done around each timed region (the judge's clock), and the answer to
        done reveals the next call's seed (the first comes with the request) and, as `keep`, the
        path that this call's outputs go to for the judge; every other output is poisoned."""
        kept = {}
        timer = timing.Timer(self.device_type, self.device)
        revealed = {"seed": int(req["seed"]), "keep": None}

        def after(i, out, call_inputs, ms):
            outs = self._outputs(out, f"timed call {i}")
            path, revealed["keep"] = revealed["keep"], None
            if path:
                kept[str(i)] = self._hand_over(outs, path, f"timed call {i}", req)
            guards.poison(outs + [x for x in call_inputs if isinstance(x, torch.Tensor)])

        cpu = req.get("timing_cpu") if self.device_type == "cuda" else None
        timer_check = lambda: [f"Timer.{m}" for m in guards.shadowed(timer)]  # noqa: E731

        def seeds():
            for _ in range(int(req["count"])):
                yield int(revealed["seed"])

        def done(i, ms):
            answer = self.ask("done", call=i, ms=ms)
            revealed["seed"], revealed["keep"] = answer.get("seed", 0), answer.get("keep")

        try:
            with torch.no_grad(), timing.pinned(cpu):
                samples = self._step("timing", lambda: timing.time_calls(
                    timer, self.model, self._draw, seeds(), after,
                    go=lambda i: self.ask("go", call=i), done=done))
            if timer_check():
                raise Outcome("rejected", f"timing: the candidate replaced "
                                          f"{', '.join(timer_check())} on the live timer")
        finally:
            timer.release()
        return {"samples_ms": samples, "kept": kept, "flags": self.state_flags()}


def _handle(sandbox: Sandbox, req: dict):
    op = req.get("op")
    try:
        if op == "problem":
            body = sandbox.open_problem(req)
        elif op == "load":
            body = sandbox.load(req)
        elif op == "run":
            body = sandbox.run(req)
        elif op == "time":
            body = sandbox.time(req)
        elif op == "shutdown":
            return {"ok": True}, False
        else:
            return {"ok": False, "error": f"unknown op {op!r}"}, True
        body["ok"] = True
        return body, True
    except Outcome as o:
        poisoned = sandbox.device_type == "cuda" and (is_cuda_failure(o) or
                                                      device_poisoned(sandbox.device_type))
        return {"ok": True, "outcome": o.outcome, "message": o.message, "poisoned": poisoned}, True
    except ProblemError as e:
        return {"ok": False, "problem": str(e)}, True
    except torch.OutOfMemoryError as e:  # the sandbox's own work (inputs, copies), not the model's
        return {"ok": False, "out_of_memory": first_line(e)}, True


def _preload(device_type: str):
    """Imports what candidates commonly build on, so a spare that takes over for a fresh job has
    it in place: library code only, nothing a candidate ran."""
    names = ["torch._dynamo", "torch._inductor.compile_fx"]
    if device_type == "cuda":
        names += ["triton", "kswarm_rt"]
    for name in names:
        try:
            __import__(name)
        except Exception:  # a missing or broken library is the candidate's to report
            pass


def main() -> int:
    parser = argparse.ArgumentParser(prog="kswarm_worker.sandbox")
    parser.add_argument("--device", choices=["cuda", "cpu"], required=True)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--preload", action="store_true",
                        help="import torch.compile's stack (and Triton) before the first request")
    args = parser.parse_args()
    try:  # die with the judge (PR_SET_PDEATHSIG = 1)
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    proto_in, proto_out = private_protocol()
    sandbox = Sandbox(args.device, args.index)
    sandbox.proto_in, sandbox.proto_out = proto_in, proto_out
    if args.preload:
        _preload(args.device)
    for line in proto_in:
        if not line.strip():
            continue
        reply, keep = _handle(sandbox, json.loads(line))
        proto_out.write(json.dumps(sanitize(reply), allow_nan=False) + "\n")
        proto_out.flush()
        if not keep:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
