"""Twin of :mod:`patternlimit._kernels.window`: the time ring."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels.window import epoch_of


def ring_advance(ring: np.ndarray, bucket_seconds: float, now: float) -> int:
    epoch = epoch_of(now, bucket_seconds)
    buckets = len(ring) - 1
    if epoch > int(ring[buckets]):
        ring[buckets] = epoch
    return epoch


def ring_target(ring: np.ndarray, epoch: int) -> int:
    buckets = len(ring) - 1
    oldest = int(ring[buckets]) - buckets + 1
    return max(epoch, oldest)


def ring_live_slots(ring: np.ndarray) -> list[int]:
    buckets = len(ring) - 1
    clock = int(ring[buckets])
    return [slot for slot in range(buckets) if int(ring[slot]) > clock - buckets]


def ring_claim(ring: np.ndarray, epoch: int) -> tuple[int, bool]:
    buckets = len(ring) - 1
    slot = epoch % buckets
    stale = int(ring[slot]) != epoch
    ring[slot] = epoch
    return slot, stale
