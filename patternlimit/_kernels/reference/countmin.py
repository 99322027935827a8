"""Twin of :mod:`patternlimit._kernels.countmin`."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels.hashing import mix64_py
from patternlimit._kernels.reference.window import ring_advance, ring_claim, ring_live_slots, ring_target

COUNTER_MAX = 0xFFFFFFFF


def _cms_index(key: int, seed: int, width: int) -> int:
    return mix64_py(key ^ seed) % width


def _cms_window_estimate(counters: np.ndarray, ring: np.ndarray, row_seeds: np.ndarray, key: int) -> int:
    depth, width, _ = counters.shape
    live = ring_live_slots(ring)
    totals = []
    for row in range(depth):
        index = _cms_index(key, int(row_seeds[row]), width)
        totals.append(sum(int(counters[row, index, slot]) for slot in live))
    return min(totals)


def cms_add(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    bucket_seconds: float,
    key: int,
    now: float,
    increment: int,
) -> int:
    depth, width, _ = counters.shape
    epoch = ring_target(ring, ring_advance(ring, bucket_seconds, now))
    slot, stale = ring_claim(ring, epoch)
    if stale:
        for row in range(depth):
            for column in range(width):
                counters[row, column, slot] = 0
    indices = [_cms_index(int(key), int(row_seeds[row]), width) for row in range(depth)]
    current = min(int(counters[row, indices[row], slot]) for row in range(depth))
    raised = min(current + int(increment), COUNTER_MAX)
    for row in range(depth):
        if int(counters[row, indices[row], slot]) < raised:
            counters[row, indices[row], slot] = raised
    return _cms_window_estimate(counters, ring, row_seeds, int(key))


def cms_add_many(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    times: np.ndarray,
    increments: np.ndarray,
    out: np.ndarray,
) -> None:
    for item in range(len(keys)):
        estimate = cms_add(
            counters, ring, row_seeds, bucket_seconds, int(keys[item]), float(times[item]), int(increments[item])
        )
        if len(out):
            out[item] = estimate


def cms_estimate(
    counters: np.ndarray, ring: np.ndarray, row_seeds: np.ndarray, bucket_seconds: float, key: int, now: float
) -> int:
    ring_advance(ring, bucket_seconds, now)
    return _cms_window_estimate(counters, ring, row_seeds, int(key))


def cms_estimate_many(
    counters: np.ndarray,
    ring: np.ndarray,
    row_seeds: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    now: float,
    out: np.ndarray,
) -> None:
    ring_advance(ring, bucket_seconds, now)
    for item in range(len(keys)):
        out[item] = _cms_window_estimate(counters, ring, row_seeds, int(keys[item]))
