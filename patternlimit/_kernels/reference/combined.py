"""Twin of :mod:`patternlimit._kernels.combined`: the three reference twins called in the same order."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels.reference.countmin import cms_add
from patternlimit._kernels.reference.spread import spread_add
from patternlimit._kernels.reference.topk import topk_add


def pattern_observe(
    counters: np.ndarray,
    cms_ring: np.ndarray,
    cms_seeds: np.ndarray,
    cms_bucket_seconds: float,
    registers: np.ndarray,
    spread_ring: np.ndarray,
    spread_seeds: np.ndarray,
    memo: np.ndarray,
    spread_bucket_seconds: float,
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    top_ring: np.ndarray,
    table_seed: int,
    top_bucket_seconds: float,
    key: int,
    item: int,
    now: float,
    increment: int,
) -> tuple[int, float]:
    hits = cms_add(counters, cms_ring, cms_seeds, cms_bucket_seconds, key, now, increment)
    distinct = spread_add(registers, spread_ring, spread_seeds, memo, spread_bucket_seconds, key, item, now)
    topk_add(entries, links, tallies, top_ring, table_seed & ((1 << 64) - 1), top_bucket_seconds, key, now, increment)
    return hits, distinct


def pattern_observe_many(
    counters: np.ndarray,
    cms_ring: np.ndarray,
    cms_seeds: np.ndarray,
    cms_bucket_seconds: float,
    registers: np.ndarray,
    spread_ring: np.ndarray,
    spread_seeds: np.ndarray,
    memo: np.ndarray,
    spread_bucket_seconds: float,
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    top_ring: np.ndarray,
    table_seed: int,
    top_bucket_seconds: float,
    keys: np.ndarray,
    items: np.ndarray,
    times: np.ndarray,
    increments: np.ndarray,
    hits: np.ndarray,
    distinct: np.ndarray,
) -> None:
    state = (
        counters, cms_ring, cms_seeds, cms_bucket_seconds,
        registers, spread_ring, spread_seeds, memo, spread_bucket_seconds,
        entries, links, tallies, top_ring, table_seed, top_bucket_seconds,
    )  # fmt: skip
    for position in range(len(keys)):
        hits[position], distinct[position] = pattern_observe(
            *state, int(keys[position]), int(items[position]), float(times[position]), int(increments[position])
        )
