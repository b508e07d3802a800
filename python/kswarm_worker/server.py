"""The request loop: one JSON object per line in, one per line out, in order."""

import json
import math
import os
import sys
import time
import traceback

from . import PROTOCOL_VERSION
from .errors import DeviceError, ProblemError
from .evaluate import evaluate, probe
from .hello import hello


def private_protocol():
    """Moves the protocol onto private descriptors and returns (input, output) files; fd 0 then
    reads /dev/null and fd 1 goes to stderr, so code the process runs (Python or C) can neither
    read requests nor write into the reply stream through them."""
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto_in, proto_out


def answer_once(compute, ms_key: str) -> int:
    """The tail of a one-shot tool (profile, inductor_code): moves the protocol onto private
    descriptors, runs compute() and writes its dict, or {"error"} when it raised, with the
    milliseconds it took under `ms_key`, as one JSON line."""
    from .errors import describe_exception
    _, proto_out = private_protocol()  # what compute() prints goes to stderr
    started = time.perf_counter()
    try:
        reply = compute()
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        reply = {"error": describe_exception(e)}
    reply[ms_key] = round((time.perf_counter() - started) * 1e3, 3)
    proto_out.write(json.dumps(sanitize(reply)) + "\n")
    proto_out.flush()
    return 0


def sanitize(value):
    """Make a value JSON-safe: non-finite floats become the strings 'nan', 'inf', '-inf'."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    return value


def _error(req_id, kind, message):
    return {"protocol": PROTOCOL_VERSION, "id": req_id, "ok": False,
            "error": {"kind": kind, "message": message}}


def handle(line: str, device: str, index: int):
    """Answers one request line. Returns (reply dict, keep_running)."""
    try:
        req = json.loads(line)
    except json.JSONDecodeError as e:
        return _error(None, "protocol", f"request is not JSON: {e}"), True
    if not isinstance(req, dict):
        return _error(None, "protocol", "request is not a JSON object"), True
    req_id = req.get("id")
    if req.get("protocol") != PROTOCOL_VERSION:
        return _error(req_id, "protocol",
                      f"protocol {req.get('protocol')!r} not supported; this worker speaks "
                      f"{PROTOCOL_VERSION}"), True
    op = req.get("op")
    try:
        if op == "hello":
            body, keep = hello(device, index), True
        elif op == "evaluate":
            body, keep = evaluate(req, device, index), True
        elif op == "probe":
            body, keep = probe(req, device, index), True
        elif op == "shutdown":
            body, keep = {}, False
        else:
            return _error(req_id, "protocol", f"unknown op {op!r}"), True
    except ProblemError as e:
        return _error(req_id, "problem", str(e)), True
    except DeviceError as e:
        return _error(req_id, "device", str(e)), True
    except KeyError as e:
        return _error(req_id, "protocol", f"request lacks field {e}"), True
    except Exception:  # a bug in the worker itself
        return _error(req_id, "internal", traceback.format_exc(limit=20)), True
    reply = {"protocol": PROTOCOL_VERSION, "id": req_id, "ok": True}
    reply.update(body)
    return reply, keep


def serve(proto_in, proto_out, device: str, index: int) -> int:
    from .evaluate import close_sandboxes
    from .sandbox_client import remove_stale_exchanges
    remove_stale_exchanges()
    try:
        for line in proto_in:
            if not line.strip():
                continue
            reply, keep = handle(line, device, index)
            proto_out.write(json.dumps(sanitize(reply), allow_nan=False) + "\n")
            proto_out.flush()
            if not keep:
                break
    finally:
        close_sandboxes()  # and their exchange folders, which live in memory under /dev/shm
    sys.stderr.flush()
    return 0
