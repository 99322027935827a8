"""Windowed heavy hitters: one SpaceSaving summary per time bucket, merged when queried.

State (owned by :class:`patternlimit.sketches.topk.HeavyHitters`), for ``B`` buckets of ``C`` counters each
(``C``, the capacity, a power of two):

* ``entries``: ``int64[B, C, 3]``; slot ``s`` of bucket ``b`` is the counter ``entries[b, s] = (key, count, error)``.
  Keys are keyed hashes below 2**63, stored as their ``int64`` bits. Slots ``0 .. used - 1`` are in use.
* ``links``: ``int32[B, 4 * C]``, the summary's index structures over those slots:

  - ``links[b, 0:C]``, the *heap*: a binary min-heap of slot numbers in positions ``0 .. used - 1`` (root at 0,
    children of ``i`` at ``2i + 1`` and ``2i + 2``), ordered by ``(count, slot)``; the slot number breaks ties, so
    the order is strict and the heap's shape after any sequence of updates is fully determined.
  - ``links[b, C:2C]``, the *positions*: ``links[b, C + s]`` is slot ``s``'s position in the heap.
  - ``links[b, 2C:4C]``, the *table*: open addressing over ``2C`` cells, each ``slot + 1`` or 0 when empty. Key ``k``
    probes from ``mix64(k ^ table_seed) & (2C - 1)`` upwards (linear probing, wrapping). Deletion shifts the rest
    of the probe chain back (Knuth, TAOCP vol. 3, section 6.4, Algorithm R), so there are no tombstones; the table
    is never more than half full, so a probe always ends at an empty cell.
* ``tallies``: ``int64[B, 2]``; ``tallies[b, 0]`` is ``used`` and ``tallies[b, 1]`` the sum of every increment the
  bucket has counted (``N_b``). SpaceSaving keeps ``sum(count) == N_b``; :func:`topk_check` verifies it.
* ``ring``: ``int64[B + 1]``, the time ring described in :mod:`patternlimit._kernels.window`.
* ``table_seed``: a ``uint64`` scalar drawn from the sketch's seed, so that without the secret nobody can choose
  keys that share a probe chain and slow every update down.

All zeros is the empty summary: a bucket is reset to zeros when its ring slot is claimed for a new epoch. Memory is
``40 * B * C + 16 * B`` bytes plus the ring; :func:`topk_collect` also allocates an ``int64`` scratch table of
16 to 32 bytes per ``B * C`` per call.

Update, within the bucket the time falls in (Metwally, Agrawal & El Abbadi, "Efficient computation of frequent and
top-k elements in data streams", ICDT 2005, with weighted increments): a monitored key's count grows by the
increment; an unmonitored key takes a free slot with ``count = increment, error = 0``; when all ``C`` slots are in
use it takes over the slot with the smallest count ``m`` (the heap root) with ``count = m + increment`` and
``error = m``. Every bucket counter therefore satisfies ``count - error <= true <= count`` and
``error <= m_b <= N_b / C``, where ``m_b`` is the bucket's smallest count, and a key the bucket does not monitor
occurred at most ``m_b`` times in it (0 times if the bucket has free slots). A zero increment of an unmonitored
key changes no counter, so it cannot evict one (it still moves the clock and may claim, so clear, a bucket).

Query: SpaceSaving summaries are mergeable (Agarwal et al., "Mergeable summaries", PODS 2012). Over the live
buckets, a key's ``count`` is the sum of its bucket counts, taking ``m_b`` for each full bucket that does not
monitor it (0 for one with free slots), and its ``error`` the sum of its bucket errors with the same substitution.
Then ``count - error <= true <= count`` and ``error <= N / C`` (``N`` = total increments in the window), and every
key whose true window count exceeds ``N / C`` is monitored by at least one live bucket, so it is reported. The
merged union (up to ``B * C`` keys) is only reported, never stored, so it needs no pruning back to ``C`` counters
and the bound stays ``N / C`` rather than growing with each merge.

Counts are ``int64``; with increments below 2**32 they cannot overflow before 2**31 maximal updates per bucket.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.hashing import mix64
from patternlimit._kernels.prefetch import prefetch
from patternlimit._kernels.window import advance_clock, claim_slot, oldest_live, target_epoch

KEY = 0
COUNT = 1
ERROR = 2


@njit(cache=True, nogil=True, inline="always")
def _home(key: np.int64, table_seed: np.uint64, mask: np.uint64) -> np.int64:  # pragma: no cover
    """The cell where ``key``'s probe starts in a table of ``mask + 1`` cells."""
    return np.int64(mix64(np.uint64(key) ^ table_seed) & mask)


@njit(cache=True, nogil=True, inline="always")
def _before(entries: np.ndarray, bucket: np.int64, first: np.int64, second: np.int64) -> bool:  # pragma: no cover
    """Heap order: slot ``first`` sorts before slot ``second`` by count, then by slot number."""
    first_count = entries[bucket, first, COUNT]
    second_count = entries[bucket, second, COUNT]
    return bool(first_count < second_count or (first_count == second_count and first < second))


@njit(cache=True, nogil=True)
def _sift_down(
    entries: np.ndarray, links: np.ndarray, bucket: np.int64, position: np.int64, used: np.int64
) -> None:  # pragma: no cover
    capacity = entries.shape[1]
    slot = np.int64(links[bucket, position])
    while True:
        child = 2 * position + 1
        if child >= used:
            break
        if child + 1 < used and _before(entries, bucket, links[bucket, child + 1], links[bucket, child]):
            child += 1
        below = np.int64(links[bucket, child])
        if not _before(entries, bucket, below, slot):
            break
        links[bucket, position] = below
        links[bucket, capacity + below] = position
        position = child
    links[bucket, position] = slot
    links[bucket, capacity + slot] = position


@njit(cache=True, nogil=True)
def _sift_up(entries: np.ndarray, links: np.ndarray, bucket: np.int64, position: np.int64) -> None:  # pragma: no cover
    capacity = entries.shape[1]
    slot = np.int64(links[bucket, position])
    while position > 0:
        parent = (position - 1) // 2
        above = np.int64(links[bucket, parent])
        if not _before(entries, bucket, slot, above):
            break
        links[bucket, position] = above
        links[bucket, capacity + above] = position
        position = parent
    links[bucket, position] = slot
    links[bucket, capacity + slot] = position


@njit(cache=True, nogil=True)
def _find(
    entries: np.ndarray, links: np.ndarray, bucket: np.int64, table_seed: np.uint64, key: np.int64
) -> tuple[np.int64, np.int64]:  # pragma: no cover
    """The table cell holding ``key`` and its slot, or the empty cell that ends its probe and -1."""
    capacity = entries.shape[1]
    base = 2 * capacity
    mask = 2 * capacity - 1
    cell = _home(key, table_seed, np.uint64(mask))
    while links[bucket, base + cell] != 0:
        slot = np.int64(links[bucket, base + cell]) - 1
        if entries[bucket, slot, KEY] == key:
            return cell, slot
        cell = (cell + 1) & mask
    return cell, np.int64(-1)


@njit(cache=True, nogil=True)
def _delete(
    entries: np.ndarray, links: np.ndarray, bucket: np.int64, table_seed: np.uint64, cell: np.int64
) -> None:  # pragma: no cover
    """Empty table cell ``cell``, moving later members of its probe chain back so every key stays reachable."""
    capacity = entries.shape[1]
    base = 2 * capacity
    mask = 2 * capacity - 1
    hole = cell
    probe = cell
    while True:
        probe = (probe + 1) & mask
        occupant = np.int64(links[bucket, base + probe])
        if occupant == 0:
            break
        home = _home(entries[bucket, occupant - 1, KEY], table_seed, np.uint64(mask))
        # An occupant whose home lies cyclically in (hole, probe] must stay; any other can fill the hole.
        if ((probe - home) & mask) >= ((probe - hole) & mask):
            links[bucket, base + hole] = occupant
            hole = probe
    links[bucket, base + hole] = 0


@njit(cache=True, nogil=True, inline="always")
def topk_claim(
    entries: np.ndarray, links: np.ndarray, tallies: np.ndarray, ring: np.ndarray, bucket_seconds: float, now: float
) -> np.int64:  # pragma: no cover
    """Move the clock to ``now`` and claim (emptying it if it held an expired epoch) the bucket ``now`` counts in.

    Returns the bucket; a second call at the same ``now`` changes nothing. Mutates ``ring`` and (rarely) the
    bucket's ``entries``, ``links`` and ``tallies``.
    """
    epoch = advance_clock(ring, bucket_seconds, now)
    bucket, stale = claim_slot(ring, target_epoch(ring, epoch))
    if stale:
        entries[bucket, :, :] = 0
        links[bucket, :] = 0
        tallies[bucket, :] = 0
    return bucket


@njit(cache=True, nogil=True)
def topk_prefetch(
    links: np.ndarray, table_seed: np.uint64, bucket: np.int64, key: np.int64
) -> None:  # pragma: no cover
    """Start loading the table cell where ``key``'s probe starts in the claimed ``bucket``."""
    capacity = links.shape[1] // 4
    prefetch(links, (bucket, 2 * capacity + _home(key, table_seed, np.uint64(2 * capacity - 1))))


@njit(cache=True, nogil=True)
def topk_update(
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    ring: np.ndarray,
    table_seed: np.uint64,
    bucket_seconds: float,
    key: np.int64,
    now: float,
    increment: np.int64,
) -> np.int64:  # pragma: no cover
    bucket = topk_claim(entries, links, tallies, ring, bucket_seconds, now)
    capacity = entries.shape[1]
    cell, slot = _find(entries, links, bucket, table_seed, key)
    if slot >= 0:
        entries[bucket, slot, COUNT] += increment
        tallies[bucket, 1] += increment
        _sift_down(entries, links, bucket, np.int64(links[bucket, capacity + slot]), tallies[bucket, 0])
        return np.int64(entries[bucket, slot, COUNT])
    if increment == 0:
        return np.int64(0)
    tallies[bucket, 1] += increment
    used = tallies[bucket, 0]
    if used < capacity:
        entries[bucket, used, KEY] = key
        entries[bucket, used, COUNT] = increment
        entries[bucket, used, ERROR] = 0
        links[bucket, 2 * capacity + cell] = used + 1
        links[bucket, used] = used
        links[bucket, capacity + used] = used
        tallies[bucket, 0] = used + 1
        _sift_up(entries, links, bucket, used)
        return increment
    # Full: the counter with the smallest count gives its slot to the new key, which inherits that count as error.
    slot = np.int64(links[bucket, 0])
    floor = entries[bucket, slot, COUNT]
    evicted, _ = _find(entries, links, bucket, table_seed, entries[bucket, slot, KEY])
    _delete(entries, links, bucket, table_seed, evicted)
    cell, _ = _find(entries, links, bucket, table_seed, key)
    links[bucket, 2 * capacity + cell] = slot + 1
    entries[bucket, slot, KEY] = key
    entries[bucket, slot, COUNT] = floor + increment
    entries[bucket, slot, ERROR] = floor
    _sift_down(entries, links, bucket, np.int64(0), used)
    return np.int64(floor + increment)


@njit(cache=True, nogil=True)
def topk_add(
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    ring: np.ndarray,
    table_seed: np.uint64,
    bucket_seconds: float,
    key: int,
    now: float,
    increment: int,
) -> np.int64:  # pragma: no cover
    """Count ``increment`` hits of ``key`` at time ``now``; return the key's count in the bucket it was counted in.

    The returned count includes the error a newly monitored key inherits; it is 0 when ``increment`` is 0 and the
    bucket does not monitor ``key``. ``key`` is a non-negative int below 2**63 (a keyed hash), ``now`` finite and
    non-negative, ``increment`` non-negative. Mutates ``entries``, ``links``, ``tallies`` and ``ring``.
    """
    return topk_update(
        entries, links, tallies, ring, table_seed, bucket_seconds, np.int64(key), now, np.int64(increment)
    )


@njit(cache=True, nogil=True)
def topk_add_many(
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    ring: np.ndarray,
    table_seed: np.uint64,
    bucket_seconds: float,
    keys: np.ndarray,
    times: np.ndarray,
    increments: np.ndarray,
) -> None:  # pragma: no cover
    """Batch form of :func:`topk_add`: ``keys uint64[n]``, ``times float64[n]``, ``increments int64[n]``.

    Items are applied in order, leaving exactly the state ``n`` calls of :func:`topk_add` would. Mutates
    ``entries``, ``links``, ``tallies`` and ``ring``.
    """
    for item in range(keys.shape[0]):
        topk_update(
            entries,
            links,
            tallies,
            ring,
            table_seed,
            bucket_seconds,
            np.int64(keys[item]),
            times[item],
            increments[item],
        )


@njit(cache=True, nogil=True)
def topk_collect(
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    ring: np.ndarray,
    table_seed: np.uint64,
    bucket_seconds: float,
    now: float,
    out_keys: np.ndarray,
    out_counts: np.ndarray,
    out_errors: np.ndarray,
) -> np.int64:  # pragma: no cover
    """Merge the live buckets' summaries as of ``now``; return ``n``, the number of distinct keys they monitor.

    Writes each key with its window ``count`` and ``error`` (see the module docstring) to the first ``n`` items of
    ``out_keys uint64[B * C]``, ``out_counts int64[B * C]`` and ``out_errors int64[B * C]``, in order of first
    appearance scanning buckets by ring slot and each bucket by slot number. Mutates ``ring[-1]`` (the clock moves
    forward to ``now``) and the outputs.
    """
    advance_clock(ring, bucket_seconds, now)
    oldest = oldest_live(ring)
    buckets = entries.shape[0]
    capacity = entries.shape[1]
    floors = np.zeros(buckets, dtype=np.int64)
    base = np.int64(0)
    for bucket in range(buckets):
        if ring[bucket] > oldest and tallies[bucket, 0] == capacity:
            floors[bucket] = entries[bucket, links[bucket, 0], COUNT]
            base += floors[bucket]
    size = 1
    while size < 2 * buckets * capacity:
        size <<= 1
    mask = np.int64(size - 1)
    found = np.zeros(size, dtype=np.int64)  # output index + 1 per cell, 0 when empty
    count = np.int64(0)
    for bucket in range(buckets):
        if ring[bucket] <= oldest:
            continue
        for slot in range(tallies[bucket, 0]):
            key = np.uint64(entries[bucket, slot, KEY])
            cell = _home(entries[bucket, slot, KEY], table_seed, np.uint64(mask))
            while found[cell] != 0 and out_keys[found[cell] - 1] != key:
                cell = (cell + 1) & mask
            if found[cell] == 0:
                out_keys[count] = key
                out_counts[count] = base
                out_errors[count] = base
                count += 1
                found[cell] = count
            item = found[cell] - 1
            out_counts[item] += entries[bucket, slot, COUNT] - floors[bucket]
            out_errors[item] += entries[bucket, slot, ERROR] - floors[bucket]
    return count


@njit(cache=True, nogil=True)
def topk_total(
    tallies: np.ndarray, ring: np.ndarray, bucket_seconds: float, now: float
) -> np.int64:  # pragma: no cover
    """``N``, the sum of increments counted by the live buckets as of ``now``. Mutates ``ring[-1]`` only."""
    advance_clock(ring, bucket_seconds, now)
    oldest = oldest_live(ring)
    total = np.int64(0)
    for bucket in range(tallies.shape[0]):
        if ring[bucket] > oldest:
            total += tallies[bucket, 1]
    return total


@njit(cache=True, nogil=True)
def topk_check(
    entries: np.ndarray, links: np.ndarray, tallies: np.ndarray, table_seed: np.uint64
) -> np.int64:  # pragma: no cover
    """The first bucket whose summary breaks an invariant the kernels rely on, or -1 if all hold.

    Run on state read from bytes before any other kernel touches it: the kernels index arrays with the slot and
    heap numbers they store, without bounds checks, so a damaged summary could make them write out of bounds or
    probe forever. Checked per bucket: ``0 <= used <= C``; the heap is a permutation of ``0 .. used - 1`` in
    heap order whose positions agree; ``0 <= error <= min count <= count`` and keys are non-negative;
    ``sum(count) == N_b``; the table holds exactly the ``used`` slots, once each, every key reachable from its
    home cell and none repeated. Reads only; allocates two ``bool[...]`` scratch arrays.
    """
    capacity = entries.shape[1]
    base = 2 * capacity
    mask = 2 * capacity - 1
    seen_heap = np.zeros(capacity, dtype=np.bool_)
    seen_table = np.zeros(capacity, dtype=np.bool_)
    for bucket in range(entries.shape[0]):
        used = tallies[bucket, 0]
        if used < 0 or used > capacity or tallies[bucket, 1] < 0:
            return np.int64(bucket)
        seen_heap[:] = False
        for position in range(used):
            slot = links[bucket, position]
            if slot < 0 or slot >= used or seen_heap[slot] or links[bucket, capacity + slot] != position:
                return np.int64(bucket)
            seen_heap[slot] = True
        for position in range(1, used):
            if _before(entries, np.int64(bucket), links[bucket, position], links[bucket, (position - 1) // 2]):
                return np.int64(bucket)
        total = np.int64(0)
        floor = entries[bucket, links[bucket, 0], COUNT] if used > 0 else np.int64(0)
        for slot in range(used):
            error = entries[bucket, slot, ERROR]
            if entries[bucket, slot, KEY] < 0 or error < 0 or error > floor or entries[bucket, slot, COUNT] < floor:
                return np.int64(bucket)
            total += entries[bucket, slot, COUNT]
        if total != tallies[bucket, 1]:
            return np.int64(bucket)
        seen_table[:] = False
        occupied = 0
        for cell in range(base):
            occupant = np.int64(links[bucket, base + cell])
            if occupant == 0:
                continue
            if occupant < 0 or occupant > used or seen_table[occupant - 1]:
                return np.int64(bucket)
            seen_table[occupant - 1] = True
            occupied += 1
            key = entries[bucket, occupant - 1, KEY]
            probe = _home(key, table_seed, np.uint64(mask))
            while probe != cell:
                other = np.int64(links[bucket, base + probe])
                if other == 0 or (0 < other <= used and entries[bucket, other - 1, KEY] == key):
                    return np.int64(bucket)
                probe = (probe + 1) & mask
        if occupied != used:
            return np.int64(bucket)
    return np.int64(-1)
