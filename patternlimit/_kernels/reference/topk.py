"""Twin of :mod:`patternlimit._kernels.topk`: the same heap sifts, tie-break, probing and backward-shift deletion,
so the state arrays end up equal bit for bit. ``collect`` merges through a dict instead of a scratch table; only
its outputs, not its scratch, are compared."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels.hashing import mix64_py
from patternlimit._kernels.reference.window import ring_advance, ring_claim, ring_live_slots, ring_target

KEY = 0
COUNT = 1
ERROR = 2


class _Summary:
    """One bucket's SpaceSaving summary, read and written through the kernel's arrays."""

    def __init__(
        self, entries: np.ndarray, links: np.ndarray, tallies: np.ndarray, table_seed: int, bucket: int
    ) -> None:
        self.entries = entries[bucket]
        self.links = links[bucket]
        self.tallies = tallies[bucket]
        self.seed = table_seed
        self.capacity = int(entries.shape[1])
        self.mask = 2 * self.capacity - 1

    def count(self, slot: int) -> int:
        return int(self.entries[slot, COUNT])

    def before(self, first: int, second: int) -> bool:
        return (self.count(first), first) < (self.count(second), second)

    def heap(self, position: int) -> int:
        return int(self.links[position])

    def place(self, position: int, slot: int) -> None:
        self.links[position] = slot
        self.links[self.capacity + slot] = position

    def sift_down(self, position: int) -> None:
        used = int(self.tallies[0])
        slot = self.heap(position)
        while 2 * position + 1 < used:
            child = 2 * position + 1
            if child + 1 < used and self.before(self.heap(child + 1), self.heap(child)):
                child += 1
            if not self.before(self.heap(child), slot):
                break
            self.place(position, self.heap(child))
            position = child
        self.place(position, slot)

    def sift_up(self, position: int) -> None:
        slot = self.heap(position)
        while position > 0:
            parent = (position - 1) // 2
            if not self.before(slot, self.heap(parent)):
                break
            self.place(position, self.heap(parent))
            position = parent
        self.place(position, slot)

    def home(self, key: int) -> int:
        return mix64_py(key ^ self.seed) & self.mask

    def cell(self, index: int) -> int:
        return int(self.links[2 * self.capacity + index])

    def set_cell(self, index: int, value: int) -> None:
        self.links[2 * self.capacity + index] = value

    def find(self, key: int) -> tuple[int, int]:
        index = self.home(key)
        while self.cell(index) != 0:
            slot = self.cell(index) - 1
            if int(self.entries[slot, KEY]) == key:
                return index, slot
            index = (index + 1) & self.mask
        return index, -1

    def delete(self, index: int) -> None:
        hole = index
        probe = index
        while True:
            probe = (probe + 1) & self.mask
            occupant = self.cell(probe)
            if occupant == 0:
                break
            home = self.home(int(self.entries[occupant - 1, KEY]))
            if (probe - home) & self.mask >= (probe - hole) & self.mask:
                self.set_cell(hole, occupant)
                hole = probe
        self.set_cell(hole, 0)

    def add(self, key: int, increment: int) -> int:
        index, slot = self.find(key)
        if slot >= 0:
            self.entries[slot, COUNT] = self.count(slot) + increment
            self.tallies[1] = int(self.tallies[1]) + increment
            self.sift_down(int(self.links[self.capacity + slot]))
            return self.count(slot)
        if increment == 0:
            return 0
        self.tallies[1] = int(self.tallies[1]) + increment
        used = int(self.tallies[0])
        if used < self.capacity:
            self.entries[used] = (key, increment, 0)
            self.set_cell(index, used + 1)
            self.place(used, used)
            self.tallies[0] = used + 1
            self.sift_up(used)
            return increment
        slot = self.heap(0)
        floor = self.count(slot)
        evicted, _ = self.find(int(self.entries[slot, KEY]))
        self.delete(evicted)
        index, _ = self.find(key)
        self.set_cell(index, slot + 1)
        self.entries[slot] = (key, floor + increment, floor)
        self.sift_down(0)
        return floor + increment

    def floor(self) -> int:
        """The smallest count if every slot is in use (an unmonitored key's bound), else 0."""
        return self.count(self.heap(0)) if int(self.tallies[0]) == self.capacity else 0


def topk_add(
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    ring: np.ndarray,
    table_seed: int,
    bucket_seconds: float,
    key: int,
    now: float,
    increment: int,
) -> int:
    epoch = ring_target(ring, ring_advance(ring, bucket_seconds, now))
    bucket, stale = ring_claim(ring, epoch)
    if stale:
        entries[bucket] = 0
        links[bucket] = 0
        tallies[bucket] = 0
    return _Summary(entries, links, tallies, int(table_seed), bucket).add(int(key), int(increment))


def topk_add_many(
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    ring: np.ndarray,
    table_seed: int,
    bucket_seconds: float,
    keys: np.ndarray,
    times: np.ndarray,
    increments: np.ndarray,
) -> None:
    for item in range(len(keys)):
        topk_add(
            entries,
            links,
            tallies,
            ring,
            table_seed,
            bucket_seconds,
            int(keys[item]),
            float(times[item]),
            int(increments[item]),
        )


def topk_collect(
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    ring: np.ndarray,
    table_seed: int,
    bucket_seconds: float,
    now: float,
    out_keys: np.ndarray,
    out_counts: np.ndarray,
    out_errors: np.ndarray,
) -> int:
    ring_advance(ring, bucket_seconds, now)
    summaries = [_Summary(entries, links, tallies, int(table_seed), bucket) for bucket in ring_live_slots(ring)]
    keys: list[int] = []
    for summary in summaries:
        for slot in range(int(summary.tallies[0])):
            key = int(summary.entries[slot, KEY])
            if key not in keys:
                keys.append(key)
    for item, key in enumerate(keys):
        count = error = 0
        for summary in summaries:
            _, slot = summary.find(key)
            count += summary.count(slot) if slot >= 0 else summary.floor()
            error += int(summary.entries[slot, ERROR]) if slot >= 0 else summary.floor()
        out_keys[item] = key
        out_counts[item] = count
        out_errors[item] = error
    return len(keys)


def topk_total(tallies: np.ndarray, ring: np.ndarray, bucket_seconds: float, now: float) -> int:
    ring_advance(ring, bucket_seconds, now)
    return sum(int(tallies[bucket, 1]) for bucket in ring_live_slots(ring))


def topk_check(entries: np.ndarray, links: np.ndarray, tallies: np.ndarray, table_seed: int) -> int:
    capacity = entries.shape[1]
    for bucket in range(entries.shape[0]):
        if not _summary_is_sound(entries, links, tallies, int(table_seed), bucket, capacity):
            return bucket
    return -1


def _summary_is_sound(
    entries: np.ndarray, links: np.ndarray, tallies: np.ndarray, table_seed: int, bucket: int, capacity: int
) -> bool:
    used, total = int(tallies[bucket, 0]), int(tallies[bucket, 1])
    if not (0 <= used <= capacity and total >= 0):
        return False
    summary = _Summary(entries, links, tallies, table_seed, bucket)
    heap = [summary.heap(position) for position in range(used)]
    if sorted(heap) != list(range(used)):
        return False
    if any(int(links[bucket, capacity + slot]) != position for position, slot in enumerate(heap)):
        return False
    if any(summary.before(heap[position], heap[(position - 1) // 2]) for position in range(1, used)):
        return False
    floor = summary.count(heap[0]) if used else 0
    for slot in range(used):
        key, count, error = (int(value) for value in entries[bucket, slot])
        if key < 0 or not 0 <= error <= floor <= count:
            return False
    if sum(summary.count(slot) for slot in range(used)) != total:
        return False
    cells = {index: summary.cell(index) for index in range(2 * capacity) if summary.cell(index) != 0}
    if sorted(cells.values()) != list(range(1, used + 1)):
        return False
    for index, occupant in cells.items():
        key = int(entries[bucket, occupant - 1, KEY])
        probe = summary.home(key)
        while probe != index:
            other = cells.get(probe)
            if other is None or int(entries[bucket, other - 1, KEY]) == key:
                return False
            probe = (probe + 1) & summary.mask
    return True
