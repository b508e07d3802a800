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
