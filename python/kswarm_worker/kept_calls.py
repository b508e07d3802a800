"""Which timed calls of the candidate the judge checks (docs/worker_protocol.md, step 4), decided
call by call in the judge's answer to each call's done, so the candidate cannot know ahead of a
call whether it will be checked. Each kept call's outputs go to a room (a file, or a device
buffer, reused for the job: set up and pinned once, not once per call)."""


class KeptCalls:
    """Rooms for the calls picked at random (`checked`: compared after their block, so
    `checked_<n>` is the block's n-th) and for the `fastest` calls by the judge's clock so far
    (`fastest_<slot>`: the speed-up is their time; a slot is reused when its call drops out).
    A checked call that is also among the fastest takes no second room."""

    def __init__(self, checked, fastest: int):
        self.checked = set(checked)
        self.fastest = fastest
        self.top = []  # (ms, call, slot or None when checked), fastest first
        self.free = list(range(fastest - 1, -1, -1))  # slots, the lowest popped first
        self.in_block = 0  # checked calls so far in the current block

    def new_block(self):
        self.in_block = 0

    def room(self, call: int, ms: float):
        """Where call's outputs go now that it took `ms` (the judge's figure), or None: poisoned."""
        room = None
        if call in self.checked:
            room = f"checked_{self.in_block}"
            self.in_block += 1
        if self.fastest and (len(self.top) < self.fastest or ms < self.top[-1][0]):
            if len(self.top) == self.fastest:
                freed = self.top.pop()[2]
                if freed is not None:
                    self.free.append(freed)
            slot = None
            if room is None:
                slot = self.free.pop()
                room = f"fastest_{slot}"
            self.top.append((ms, call, slot))
            self.top.sort(key=lambda entry: entry[:2])
        return room

    def fastest_rooms(self) -> dict:
        """call -> room of the fastest calls whose outputs were not checked with their block."""
        return {call: f"fastest_{slot}" for _, call, slot in self.top if slot is not None}
