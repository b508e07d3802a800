"""Where timed calls run: the worker's own timing core, everything else on the other cores."""
import os
import threading

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


def test_the_judges_clock_contradicts_a_candidate_clock_only_beyond_a_round_trip():
    cases = [  # (inside ms, outside ms, flagged)
        ([1.0, 1.1, 1.2, 1.3], [1.1, 1.2, 1.3, 1.4], False),  # honest: a round trip apart
        ([0.01, 0.01, 0.01], [0.2, 0.2, 0.2], False),  # too short for the judge's clock to tell
        ([2.0, 2.0, 2.1, 2.2], [5.0, 6.5, 6.9, 3.0], False),  # a loaded host's slow round trips
        ([3.0, 3.0, 3.0, 15.0], [15.0, 15.1, 15.2, 15.3], True),  # its three fastest are fake
        ([15.0, 15.0, 3.0, 15.0], [15.1, 15.1, 15.0, 15.1], False),  # one fake call, not two
        ([3.0] * 3 + [30.0] * 9, [31.0] * 12, True),  # the fastest three, and a quarter of all
        ([30.0] * 3 + [10.0] * 9, [31.0] * 3 + [30.0] * 9, True),  # three quarters, not the fastest
        ([], [], False),
    ]
    for inside, outside, flagged in cases:
        assert bool(timing.clock_disagreement(inside, outside)) == flagged, (inside, outside)
