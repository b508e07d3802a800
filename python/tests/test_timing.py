"""Where timed calls run: the worker's own timing core, everything else on the other cores."""
import os
import threading

import pytest

from kswarm_worker import timing


def test_pinned_runs_the_block_on_one_core_and_restores_the_thread():
    before = os.sched_getaffinity(0)
    core = min(before)
    with timing.pinned(core):
        assert os.sched_getaffinity(0) == {core}
    assert os.sched_getaffinity(0) == before
    with timing.pinned(None):  # no timing core: nothing changes
        assert os.sched_getaffinity(0) == before
    with timing.pinned(100000):  # a core the kernel refuses: nothing changes either
        assert os.sched_getaffinity(0) == before


def test_place_process_moves_every_thread_and_what_they_start():
    before = os.sched_getaffinity(0)
    core = min(before)
    started, stop = threading.Event(), threading.Event()
    tid = []

    def idle():
        tid.append(threading.get_native_id())
        started.set()
        stop.wait()

    t = threading.Thread(target=idle)
    t.start()
    started.wait()
    try:
        timing.place_process([core])
        assert os.sched_getaffinity(0) == {core}
        assert os.sched_getaffinity(tid[0]) == {core}
        child = os.fork()
        if child == 0:
            os._exit(0 if os.sched_getaffinity(0) == {core} else 1)
        assert os.waitpid(child, 0)[1] == 0
    finally:
        stop.set()
        t.join()
        timing.place_process(sorted(before))
    assert os.sched_getaffinity(0) == before


def test_the_cpu_flush_buffer_is_made_once_per_process():
    # A fresh 64 MiB buffer's first flush faults in every page (about 0.2 s); the sandbox makes a
    # Timer for each block of timed calls.
    first = timing.Timer("cpu", "cpu")
    buf = first.flush_buf
    first.time_once(lambda: None)
    first.release()
    second = timing.Timer("cpu", "cpu")
    assert second.flush_buf is buf
    assert second.flush_buf.numel() * second.flush_buf.element_size() == 64 << 20
    assert second.time_once(lambda: None) >= 0


def test_the_judges_clock_bounds_each_call_from_below_less_a_round_trip():
    cases = [  # (inside ms, outside ms, judged ms)
        ([1.0, 1.1], [1.1, 1.2], [1.0, 1.1]),  # honest: a round trip apart
        ([0.01], [0.2], [0.01]),  # short calls: the candidate's clock
        ([2.0, 2.0, 2.1], [5.0, 6.5, 9.1], [2.0, 2.0, 4.1]),  # a loaded host's slow round trips
        ([3.0, 30.0], [15.0, 31.0], [10.0, 30.0]),  # an understated call gains 5 ms at most
        ([float("nan")], [7.0], [7.0]),  # no time said: the judge's
        ([], [], []),
    ]
    for inside, outside, judged in cases:
        assert timing.judged_ms(inside, outside) == pytest.approx(judged), (inside, outside)
