"""Windowed count-min sketch with conservative update.

State (owned by :class:`patternlimit.sketches.CountMinSketch`):

* ``counters``: ``uint32[depth, width, buckets]``; a cell's buckets are adjacent so an estimate reads one cache
  line per row. ``width`` is a power of two (indices are masked, not divided).
* ``ring``: ``int64[buckets + 1]``, the time ring described in :mod:`patternlimit._kernels.window`.
* ``row_seeds``: ``uint64[depth]``; row ``r`` maps key ``k`` to ``mix64(k ^ row_seeds[r]) & (width - 1)``.

Update (Cormode & Muthukrishnan, "An improved data stream summary: the count-min sketch and its applications",
J. Algorithms 2005; conservative update from Estan & Varghese, SIGCOMM 2002): within the bucket being written, the
key's bucket estimate ``c = min_r cell_r`` becomes ``c + increment`` and each row's cell is raised to that value
only if it is lower. Conservative update is applied *per bucket*, never to the window sum: raising a row only up to
the window minimum would let a row's count for this bucket sit below the key's true count once older buckets
expire, and the sketch would then underestimate.

Estimate: ``min_r sum_{live buckets b} counters[r, index_r, b]``. Every row's bucket cell is at least the key's
true count in that bucket, so the estimate never underestimates; with ``width >= e / epsilon`` and
``depth >= ln(1 / delta)`` it overestimates by more than ``epsilon * N`` (``N`` = total increments in the window)
with probability at most ``delta``. Counters saturate at ``2**32 - 1`` instead of wrapping.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.hashing import mix64
from patternlimit._kernels.prefetch import prefetch
from patternlimit._kernels.window import advance_clock, claim_slot, oldest_live, target_epoch

COUNTER_MAX = np.int64(0xFFFFFFFF)


@njit(cache=True, nogil=True)
def cms_window_estimate(
    counters: np.ndarray, ring: np.ndarray, row_seeds: np.ndarray, key: np.uint64
) -> int:  # pragma: no cover
    buckets = ring.shape[0] - 1
    oldest = oldest_live(ring)
    mask = np.uint64(counters.shape[1] - 1)
    best = np.int64(-1)
    for row in range(counters.shape[0]):
        index = mix64(key ^ row_seeds[row]) & mask
        total = np.int64(0)
        for slot in range(buckets):
            if ring[slot] > oldest:
                total += np.int64(counters[row, index, slot])
        if best < 0 or total < best:
            best = total
    return int(best)


@njit(cache=True, nogil=True, inline="always")
def cms_claim(
    counters: np.ndarray, ring: np.ndarray, bucket_seconds: float, now: float
) -> np.int64:  # pragma: no cover
    """Move the clock to ``now`` and claim the bucket an update at ``now`` is counted in; return its slot.

    The slot is cleared if it held an expired epoch. Every update starts with this, and a second call at the same
    ``now`` changes nothing and returns the same slot, so a kernel that updates many keys at one ``now`` calls it
    once. Mutates ``ring`` and (rarely) ``counters``.
    """
    epoch = advance_clock(ring, bucket_seconds, now)
    slot, stale = claim_slot(ring, target_epoch(ring, epoch))
    if stale:
        counters[:, :, slot] = 0
    return slot


@njit(cache=True, nogil=True, inline="always")
def _conservative_target(
    counters: np.ndarray, row_seeds: np.ndarray, slot: np.int64, key: np.uint64, increment: np.int64
) -> np.int64:  # pragma: no cover
    """The value every row's cell of ``key`` in ``slot`` is raised to: the smallest of them plus ``increment``."""
    mask = np.uint64(counters.shape[1] - 1)
    current = COUNTER_MAX
    for row in range(counters.shape[0]):
        value = np.int64(counters[row, mix64(key ^ row_seeds[row]) & mask, slot])
        if value < current:
            current = value
    raised = current + increment
    if raised > COUNTER_MAX:
        raised = COUNTER_MAX
    return raised


@njit(cache=True, nogil=True, inline="always")
def cms_raise(
    counters: np.ndarray, row_seeds: np.ndarray, slot: np.int64, key: np.uint64, increment: np.int64
) -> None:  # pragma: no cover
    """Conservative update of ``key`` by ``increment`` in the claimed ``slot`` (see :func:`cms_claim`)."""
    raised = _conservative_target(counters, row_seeds, slot, key, increment)
    mask = np.uint64(counters.shape[1] - 1)
    for row in range(counters.shape[0]):
        index = mix64(key ^ row_seeds[row]) & mask
        if np.int64(counters[row, index, slot]) < raised:
            counters[row, index, slot] = np.uint32(raised)


@njit(cache=True, nogil=True, inline="always")
def cms_raise_estimate(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    slot: np.int64,
    key: np.uint64,
    increment: np.int64,
) -> int:  # pragma: no cover
    """:func:`cms_raise` then :func:`cms_window_estimate`, in one pass over the rows after the minimum.

    Each row's window sum is read right after that row's cell is raised; rows hold disjoint cells, so this is the
    estimate after the whole update, with two hashes of the key per row instead of three.
    """
    raised = _conservative_target(counters, row_seeds, slot, key, increment)
    buckets = ring.shape[0] - 1
    oldest = oldest_live(ring)
    mask = np.uint64(counters.shape[1] - 1)
    best = np.int64(-1)
    for row in range(counters.shape[0]):
        index = mix64(key ^ row_seeds[row]) & mask
        if np.int64(counters[row, index, slot]) < raised:
            counters[row, index, slot] = np.uint32(raised)
        total = np.int64(0)
        for other in range(buckets):
            if ring[other] > oldest:
                total += np.int64(counters[row, index, other])
        if best < 0 or total < best:
            best = total
    return int(best)


@njit(cache=True, nogil=True)
def cms_prefetch(counters: np.ndarray, row_seeds: np.ndarray, key: np.uint64) -> None:  # pragma: no cover
    """Start loading the cells of ``key`` (all buckets of each row; a cell may straddle two cache lines)."""
    mask = np.uint64(counters.shape[1] - 1)
    last = counters.shape[2] - 1
    for row in range(counters.shape[0]):
        index = mix64(key ^ row_seeds[row]) & mask
        prefetch(counters, (row, index, 0))
        prefetch(counters, (row, index, last))


@njit(cache=True, nogil=True)
def cms_update(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    bucket_seconds: float,
    key: np.uint64,
    now: float,
    increment: np.int64,
) -> None:  # pragma: no cover
    slot = cms_claim(counters, ring, bucket_seconds, now)
    cms_raise(counters, row_seeds, slot, key, increment)


@njit(cache=True, nogil=True)
def cms_add(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    bucket_seconds: float,
    key: int,
    now: float,
    increment: int,
) -> int:  # pragma: no cover
    """Count ``increment`` hits of ``key`` at time ``now``; return the key's window count after the update.

    ``key`` is a non-negative int below 2**63 (a keyed hash), ``now`` finite and non-negative, ``increment``
    non-negative. Mutates ``counters`` and ``ring``.
    """
    cms_update(counters, ring, row_seeds, bucket_seconds, np.uint64(key), now, np.int64(increment))
    return cms_window_estimate(counters, ring, row_seeds, np.uint64(key))


@njit(cache=True, nogil=True)
def cms_add_many(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    times: np.ndarray,
    increments: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover
    """Batch form of :func:`cms_add`: ``keys uint64[n]``, ``times float64[n]``, ``increments int64[n]``.

    Items are applied in order; ``out int64[n]`` receives each item's estimate right after its own update, exactly
    what ``n`` calls of :func:`cms_add` would return. Pass an empty ``out`` (``int64[0]``) to skip the estimates:
    a pure update is about a third cheaper. Mutates ``counters``, ``ring`` and ``out``.
    """
    with_estimates = out.shape[0] > 0
    for item in range(keys.shape[0]):
        cms_update(counters, ring, row_seeds, bucket_seconds, keys[item], times[item], increments[item])
        if with_estimates:
            out[item] = cms_window_estimate(counters, ring, row_seeds, keys[item])


@njit(cache=True, nogil=True)
def cms_estimate(
    counters: np.ndarray, ring: np.ndarray, row_seeds: np.ndarray, bucket_seconds: float, key: int, now: float
) -> int:  # pragma: no cover
    """The window count of ``key`` as of ``now`` (the clock moves forward to ``now``). Mutates ``ring[-1]`` only."""
    advance_clock(ring, bucket_seconds, now)
    return cms_window_estimate(counters, ring, row_seeds, np.uint64(key))


@njit(cache=True, nogil=True)
def cms_estimate_many(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    now: float,
    out: np.ndarray,
) -> None:  # pragma: no cover
    """Window counts of ``keys uint64[n]`` as of ``now`` into ``out int64[n]``. Mutates ``ring[-1]`` and ``out``."""
    advance_clock(ring, bucket_seconds, now)
    for item in range(keys.shape[0]):
        out[item] = cms_window_estimate(counters, ring, row_seeds, keys[item])
