"""Twin of :mod:`patternlimit._kernels.bloom`."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels.hashing import mix64_py
from patternlimit._kernels.reference.window import ring_advance, ring_claim, ring_live_slots, ring_target


def seen_update(
    bits: np.ndarray, ring: np.ndarray, seeds: np.ndarray, bucket_seconds: float, key: int, now: float
) -> bool:
    slot, stale = ring_claim(ring, ring_target(ring, ring_advance(ring, bucket_seconds, now)))
    if stale:
        bits[slot, :] = 0
    live = ring_live_slots(ring)
    size = bits.shape[1] * 64
    positions = [mix64_py(int(key) ^ int(seed)) % size for seed in seeds]
    present = all(
        any(int(bits[other, position // 64]) >> (position % 64) & 1 for other in live) for position in positions
    )
    for position in positions:
        bits[slot, position // 64] = int(bits[slot, position // 64]) | (1 << (position % 64))
    return present


def seen_update_many(
    bits: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    times: np.ndarray,
    out: np.ndarray,
) -> None:
    for position in range(len(keys)):
        out[position] = seen_update(bits, ring, seeds, bucket_seconds, int(keys[position]), float(times[position]))
