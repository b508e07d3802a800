"""How a sandbox that ended is reported (sandbox_client.died_message), as a table."""
import signal

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
