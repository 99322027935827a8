"""Windowed Bloom filter: "was this (pattern, text) pair seen in the window?", in fixed memory.

State (owned by :class:`patternlimit.sketches.seen.SeenFilter`):

* ``bits``: ``uint64[buckets, words]``, one Bloom filter of ``64 * words`` bits per time bucket (``words`` a power
  of two);
* ``ring``: ``int64[buckets + 1]``, the time ring of :mod:`patternlimit._kernels.window`;
* ``seeds``: ``uint64[hashes]``; hash ``i`` of key ``k`` is bit ``mix64(k ^ seeds[i]) & (64 * words - 1)``.

A key is *present* when each of its bits is set in some live bucket (the filter of the union of the buckets);
``seen_add`` answers that, then sets the key's bits in the bucket its time falls in. Never a false negative within
the window; a false positive with probability about ``(1 - exp(-hashes * n / bits))**hashes`` for ``n`` keys in
the window and ``bits`` bits per bucket (Bloom 1970; the union of per-bucket filters is a filter of the same size
over all their keys). Count-min answers "seen before?" badly under load: at a few counts per cell no cell is ever
zero, so every new key looks seen; a bit array holds 32 times more cells in the same memory.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.hashing import mix64
from patternlimit._kernels.prefetch import prefetch
from patternlimit._kernels.window import advance_clock, claim_slot, oldest_live, target_epoch

_SIX = np.uint64(6)
_LOW6 = np.uint64(63)
_ONE = np.uint64(1)


@njit(cache=True, nogil=True, inline="always")
def seen_claim(bits: np.ndarray, ring: np.ndarray, bucket_seconds: float, now: float) -> np.int64:  # pragma: no cover
    """Move the clock to ``now`` and claim (clearing it if it held an expired epoch) the bucket ``now`` is added to.

    Returns its slot; a second call at the same ``now`` changes nothing. Mutates ``ring`` and (rarely) ``bits``.
    """
    epoch = advance_clock(ring, bucket_seconds, now)
    slot, stale = claim_slot(ring, target_epoch(ring, epoch))
    if stale:
        bits[slot, :] = 0
    return slot


@njit(cache=True, nogil=True, inline="always")
def seen_test_and_set(
    bits: np.ndarray, ring: np.ndarray, seeds: np.ndarray, slot: np.int64, key: np.uint64
) -> bool:  # pragma: no cover
    """Whether ``key`` was present in the window; then set its bits in the claimed ``slot`` (:func:`seen_claim`)."""
    buckets = ring.shape[0] - 1
    oldest = oldest_live(ring)
    mask = np.uint64(bits.shape[1] * 64 - 1)
    present = True
    for hash_index in range(seeds.shape[0]):
        position = mix64(key ^ seeds[hash_index]) & mask
        word = position >> _SIX
        flag = _ONE << (position & _LOW6)
        if present:
            found = False
            for other in range(buckets):
                if ring[other] > oldest and bits[other, word] & flag:
                    found = True
                    break
            present = found
        bits[slot, word] |= flag
    return present


@njit(cache=True, nogil=True)
def seen_prefetch(
    bits: np.ndarray, ring: np.ndarray, seeds: np.ndarray, slot: np.int64, key: np.uint64
) -> None:  # pragma: no cover
    """Start loading the words :func:`seen_test_and_set` reads and writes for ``key``: every hash's word in the
    claimed slot, and the first hash's word in every other live bucket (a new key is decided by that hash; the
    later hashes read the other buckets only while the key still looks present)."""
    buckets = ring.shape[0] - 1
    oldest = oldest_live(ring)
    mask = np.uint64(bits.shape[1] * 64 - 1)
    for hash_index in range(seeds.shape[0]):
        word = (mix64(key ^ seeds[hash_index]) & mask) >> _SIX
        prefetch(bits, (slot, word))
        if hash_index == 0:
            for other in range(buckets):
                if other != slot and ring[other] > oldest:
                    prefetch(bits, (other, word))


@njit(cache=True, nogil=True)
def seen_update(
    bits: np.ndarray, ring: np.ndarray, seeds: np.ndarray, bucket_seconds: float, key: np.uint64, now: float
) -> bool:  # pragma: no cover
    """Whether ``key`` was present in the window before this call; then add it at ``now``. Mutates all but seeds."""
    slot = seen_claim(bits, ring, bucket_seconds, now)
    return seen_test_and_set(bits, ring, seeds, slot, key)


@njit(cache=True, nogil=True)
def seen_update_many(
    bits: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    times: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover
    """Batch :func:`seen_update`: ``keys uint64[n]``, ``times float64[n]``, ``out bool[n]``. Mutates state and out."""
    for position in range(keys.shape[0]):
        out[position] = seen_update(bits, ring, seeds, bucket_seconds, keys[position], times[position])
