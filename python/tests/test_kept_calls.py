import random

import pytest

from kswarm_worker.kept_calls import KeptCalls


# Each case: the calls picked at random, then blocks of timed calls as the judge's milliseconds;
# the room each call gets, and the fastest calls' rooms left at the end.
@pytest.mark.parametrize("checked,blocks,rooms,fastest", [
    # Faster and faster: each call enters, the slowest's room is reused.
    (set(), [[5, 4, 3, 2, 1]],
     ["fastest_0", "fastest_1", "fastest_2", "fastest_0", "fastest_1"],
     {2: "fastest_2", 3: "fastest_0", 4: "fastest_1"}),
    # Slower and slower: only the first three are kept.
    (set(), [[1, 2, 3, 4, 5]], ["fastest_0", "fastest_1", "fastest_2", None, None],
     {0: "fastest_0", 1: "fastest_1", 2: "fastest_2"}),
    # A checked call among the fastest is compared with its block and takes no second room.
    ({1}, [[3, 1, 2, 5]], ["fastest_0", "checked_0", "fastest_1", None],
     {0: "fastest_0", 2: "fastest_1"}),
    # A checked call is checked however slow; two in one block get two rooms, reused next block.
    ({1, 2, 4}, [[1, 9, 9], [8, 9]], ["fastest_0", "checked_0", "checked_1", "fastest_1",
                                      "checked_0"],
     {0: "fastest_0", 3: "fastest_1"}),
    # A tie does not displace the call timed first.
    (set(), [[2, 2, 2, 2]], ["fastest_0", "fastest_1", "fastest_2", None],
     {0: "fastest_0", 1: "fastest_1", 2: "fastest_2"}),
    # A checked call pushed out of the fastest frees no room; the next entrant takes a free one.
    ({0}, [[3, 1, 2, 0.5, 0.4]], ["checked_0", "fastest_0", "fastest_1", "fastest_2",
                                  "fastest_1"],
     {1: "fastest_0", 3: "fastest_2", 4: "fastest_1"}),
])
def test_rooms_of_timed_calls(checked, blocks, rooms, fastest):
    kept, got, call = KeptCalls(checked, 3), [], 0
    for block in blocks:
        kept.new_block()
        for ms in block:
            got.append(kept.room(call, ms))
            call += 1
    assert got == rooms
    assert kept.fastest_rooms() == fastest


@pytest.mark.parametrize("seed", range(20))
def test_the_fastest_calls_are_kept_in_three_rooms(seed):
    rng = random.Random(seed)
    times = [rng.choice([rng.random(), 0.5]) for _ in range(100)]
    checked = set(rng.sample(range(100), 3)) | {99}
    kept = KeptCalls(checked, 3)
    written = {}  # room -> the last call written there
    for block in range(0, 100, 5):
        kept.new_block()
        for call in range(block, block + 5):
            room = kept.room(call, times[call])
            if room is not None:
                written[room] = call
    assert {r for r in written if r.startswith("fastest_")} <= {"fastest_0", "fastest_1",
                                                                 "fastest_2"}
    three = sorted(range(100), key=lambda c: (times[c], c))[:3]
    assert kept.fastest_rooms() == {c: r for c in three if c not in checked
                                    for r in [kept.fastest_rooms()[c]]}
    for call, room in kept.fastest_rooms().items():
        assert written[room] == call  # nothing overwrote a room still needed
