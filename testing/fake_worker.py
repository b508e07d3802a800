#!/usr/bin/env python3
"""A stand-in worker for the evaluator's tests of workers that die (docs/worker_protocol.md):
it says hello, then dies under each of the first FAKE_WORKER_DEATHS evaluate jobs (counted in the
file FAKE_WORKER_COUNT across its restarts), writing slurmstepd's cancel banner first when
FAKE_WORKER_BANNER=1, and answers the jobs after that with a pass. Arguments are ignored."""

import json
import os
import sys


def reply(req, **fields):
    sys.stdout.write(json.dumps({"protocol": 1, "id": req["id"], "ok": True, **fields}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "hello":
        reply(req, worker_version="0", python="3", torch="2.11.0", cuda=None, triton=None,
              device={"type": "cpu", "name": "fake"}, backend_flags={}, build_arch="",
              device_count=1)
    elif req["op"] == "evaluate":
        path = os.environ["FAKE_WORKER_COUNT"]
        count = int(open(path).read() or 0) if os.path.exists(path) else 0
        with open(path, "w") as f:
            f.write(str(count + 1))
        if count < int(os.environ.get("FAKE_WORKER_DEATHS", "0")):
            if os.environ.get("FAKE_WORKER_BANNER") == "1":
                sys.stderr.write("slurmstepd: error: *** STEP 7.0 ON n1 CANCELLED AT "
                                 "2026-12-04T23:00:00 ***\n")
            sys.stderr.flush()
            os._exit(1)
        reply(req, outcome="passed", message="ok", trials_run=1, max_abs_err=0.0,
              max_rel_err=0.0, failure=None,
              timing={"baseline": {"median_ms": 2.0, "iqr_ms": 0.1, "count": 5, "min_ms": 2.0},
                      "candidate": {"median_ms": 1.0, "iqr_ms": 0.1, "count": 5, "min_ms": 1.0},
                      "rounds": 5},
              phase_ms={}, poisoned=False)
    elif req["op"] == "shutdown":
        reply(req)
        break
