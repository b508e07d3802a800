"""How a sandbox that ended is reported (sandbox_client.died_message), and what the judge makes
of a sandbox's reply (sandbox_client.reply_kind), as tables; spares held while a job is timed."""
import signal
import time

import pytest

from kswarm_worker import sandbox_client


@pytest.mark.parametrize("code,said,expected", [
    (1, "Traceback (most recent call last):\nValueError: boom",
     "(exit status 1) during run; its last words on stderr:\nTraceback (most recent call last):\n"
     "ValueError: boom"),
    (-signal.SIGSEGV, "", f"(killed by signal {signal.SIGSEGV}) during run"),
    (1, "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 6.00 GiB",
     "(exit status 1, out of memory) during run; its last words"),
    (1, "MemoryError", "(exit status 1, out of memory) during run"),
    (-signal.SIGKILL, "", f"(killed by signal {signal.SIGKILL}, without a word: the kernel's "
                          "out-of-memory killer ends processes so) during run"),
    (-signal.SIGKILL, "still here", f"(killed by signal {signal.SIGKILL}) during run; its last"),
])
def test_a_dead_sandbox_says_how_it_ended_and_what_it_said(code, said, expected):
    message = sandbox_client.died_message("run", code, said)
    assert message.startswith("the candidate took its sandbox process down ")
    assert expected in message, message
    assert message.endswith(said)


_RUN = {"ok": True, "flags": [], "aliases": [None], "devices": ["cpu"], "strides": [[1]],
        "outputs": []}


@pytest.mark.parametrize("op,reply,kind", [
    ("run", _RUN, "reply"),
    ("problem", {"ok": True}, "reply"),
    ("load", {"ok": True, "flags": []}, "reply"),
    ("run", {"ok": True, "outcome": "runtime_error", "message": "boom"}, "outcome"),
    ("run", {"ok": True, "outcome": "passed", "message": "fine"}, "forged"),  # the judge's word
    ("run", {"ok": True, "outcome": "wrong", "message": "x"}, "forged"),
    ("run", {"ok": True, "outcome": "rejected"}, "forged"),  # no message
    ("problem", {"ok": False, "problem": "p.py: get_inputs() failed"}, "problem"),
    ("load", {"ok": False, "problem": "p.py: get_inputs() failed"}, "claim problem"),
    ("run", {"ok": False, "problem": "p.py: get_inputs() failed"}, "claim problem"),
    ("run", {"ok": False, "out_of_memory": "CUDA out of memory"}, "claim out_of_memory"),
    ("problem", {"ok": False, "out_of_memory": "CUDA out of memory"}, "claim out_of_memory"),
    ("run", {"ok": False, "error": "unknown op"}, "forged"),
    ("run", {"ok": False, "problem": 3}, "forged"),
    ("run", [1, 2], "forged"),
    ("run", {"ok": True}, "forged"),
    ("run", dict(_RUN, aliases=None), "forged"),
    ("time", {"ok": True, "flags": [], "samples_ms": [1.0], "kept": {"0": []}}, "reply"),
    ("time", {"ok": True, "flags": [], "samples_ms": [1.0], "kept": []}, "forged"),
])
def test_only_replies_no_candidate_gains_by_writing_are_believed_as_they_are(op, reply, kind):
    assert sandbox_client.reply_kind(op, reply)[0] == kind


def _states(pid: int) -> set:
    return {sandbox_client._state(p) for p in sandbox_client.process_tree(pid)} - {""}


def test_spares_are_stopped_while_a_job_is_timed(monkeypatch):
    # A spare still starting slows a timed call's host side; the judge holds them for the phase.
    monkeypatch.setenv("KSWARM_SPARE_SANDBOX", "1")
    client = sandbox_client.SandboxClient("cpu", 0)
    try:
        client.prepare_spare()
        spare = client.spares[0].proc.pid
        with client.spares_held():  # while the spare starts: bubblewrap forks as it stops
            assert _states(spare) == {"T"}
            time.sleep(0.2)
            assert _states(spare) == {"T"}  # nothing started after
        assert "T" not in _states(spare)
        assert client.spares[0].alive()
    finally:
        client.shutdown()
