"""The time ring shared by every windowed sketch.

A window of ``W`` seconds is split into ``B`` buckets of ``W / B`` seconds. Bucket *epochs* are
``floor(now / bucket_seconds)``; slot ``epoch % B`` of the ring holds one epoch at a time. The ring state is one
``int64[B + 1]`` array: ``ring[:B]`` is the epoch each slot holds (``EMPTY`` if never written) and ``ring[B]`` is the
sketch's *clock*, the latest epoch it has seen.

Semantics, identical in every kernel and its reference:

* The clock only moves forward: ``clock = max(clock, epoch(now))``.
* The window is the clock's bucket and the ``B - 1`` before it, so it spans between ``W * (B - 1) / B`` and ``W``
  seconds of real time. A slot is *live* when ``ring[slot] > clock - B``.
* An update whose time falls before the window (time went backwards by more than the window) is counted in the
  oldest live bucket rather than dropped: late events from a skewed clock still count, and expire first.
* Slots are cleared lazily, when an update needs a slot that holds an expired epoch; a jump far ahead clears
  nothing until a slot is reused, and estimates skip expired slots.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

EMPTY = np.int64(-(1 << 62))


@njit(cache=True, nogil=True, inline="always")
def advance_clock(ring: np.ndarray, bucket_seconds: float, now: float) -> np.int64:  # pragma: no cover
    """Move ``ring[-1]`` (the clock) to ``epoch(now)`` if that is later; return the epoch of ``now``."""
    epoch = np.int64(math.floor(now / bucket_seconds))
    buckets = ring.shape[0] - 1
    if epoch > ring[buckets]:
        ring[buckets] = epoch
    return epoch


@njit(cache=True, nogil=True, inline="always")
def target_epoch(ring: np.ndarray, epoch: np.int64) -> np.int64:  # pragma: no cover
    """The epoch an update at ``epoch`` is counted in: its own, or the oldest live one if it is older."""
    buckets = ring.shape[0] - 1
    oldest = ring[buckets] - buckets + 1
    return epoch if epoch > oldest else oldest


def epoch_of(now: float, bucket_seconds: float) -> int:
    """Plain-Python twin of the epoch arithmetic (``math.floor`` of an IEEE double division, as numba does)."""
    return math.floor(now / bucket_seconds)


@njit(cache=True, nogil=True, inline="always")
def claim_slot(ring: np.ndarray, epoch: np.int64) -> tuple[np.int64, bool]:  # pragma: no cover
    """The slot for ``epoch`` and whether it held an expired epoch (the caller must then clear the slot's data).

    Records ``epoch`` in the slot. ``epoch`` must be live (as :func:`target_epoch` returns).
    """
    buckets = ring.shape[0] - 1
    slot = epoch % buckets
    stale = ring[slot] != epoch
    ring[slot] = epoch
    return slot, stale


@njit(cache=True, nogil=True, inline="always")
def oldest_live(ring: np.ndarray) -> np.int64:  # pragma: no cover
    """Slots holding an epoch greater than this are live (in the window ending at the clock)."""
    buckets = ring.shape[0] - 1
    return ring[buckets] - buckets
