"""One pattern key observed in all three sketches (hits, distinct items, heavy hitters) in one kernel call.

A call from Python into numba costs about 0.3 us plus about 45 ns per argument (measured here: 6 arguments
0.34 us, 19 arguments 1.1 us), which is most of the price of a single update. Three calls would pay the fixed part
three times; these kernels pay it once. They compose the per-sketch kernels unchanged (``cms_update``,
``spread_update``, ``topk_update``), so each sketch ends in exactly the state its own kernels would leave.

Arguments, in order: the count-min state (``counters``, ``ring``, ``row_seeds``, ``bucket_seconds``), the spread
state (``registers``, ``ring``, ``seeds``, ``memo``, ``bucket_seconds``), the heavy-hitter state (``entries``,
``links``, ``tallies``, ``ring``, ``table_seed``, ``bucket_seconds``), then the observation. Shapes and dtypes are
those documented in :mod:`~patternlimit._kernels.countmin`, :mod:`~patternlimit._kernels.spread` and
:mod:`~patternlimit._kernels.topk`. ``table_seed`` is the heavy hitters' ``uint64`` seed passed as the Python int
with the same 64 bits read as signed: a Python int crosses into numba faster than a numpy scalar.

Packing the arrays into one buffer and rebuilding typed views inside the kernel was tried and is no faster: each
view costs about as much as an argument (reference counting of the shared buffer).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.countmin import cms_update, cms_window_estimate
from patternlimit._kernels.spread import spread_update, spread_window_estimate
from patternlimit._kernels.topk import topk_update


@njit(cache=True, nogil=True)
def _observe(
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
    table_seed: np.uint64,
    top_bucket_seconds: float,
    key: np.uint64,
    item: np.uint64,
    now: float,
    increment: np.int64,
) -> tuple[int, float]:  # pragma: no cover
    cms_update(counters, cms_ring, cms_seeds, cms_bucket_seconds, key, now, increment)
    count = cms_window_estimate(counters, cms_ring, cms_seeds, key)
    spread_update(registers, spread_ring, spread_seeds, memo, spread_bucket_seconds, key, item, now)
    spread = spread_window_estimate(registers, spread_ring, spread_seeds, memo, key)
    topk_update(entries, links, tallies, top_ring, table_seed, top_bucket_seconds, np.int64(key), now, increment)
    return count, spread


@njit(cache=True, nogil=True)
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
) -> tuple[int, float]:  # pragma: no cover
    """Count ``increment`` hits of ``key`` seen with ``item`` at ``now`` in all three sketches.

    Returns ``(hits, distinct)``: the key's window count (count-min, after the update) and its distinct-item
    estimate (spread, after the update). ``key`` and ``item`` are ints in ``[0, 2**63)``. Mutates every state array
    except the seeds.
    """
    return _observe(
        counters, cms_ring, cms_seeds, cms_bucket_seconds,
        registers, spread_ring, spread_seeds, memo, spread_bucket_seconds,
        entries, links, tallies, top_ring, np.uint64(table_seed), top_bucket_seconds,
        np.uint64(key), np.uint64(item), now, np.int64(increment),
    )  # fmt: skip


@njit(cache=True, nogil=True)
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
) -> None:  # pragma: no cover
    """Batch :func:`pattern_observe`: ``keys``/``items uint64[n]``, ``times float64[n]``, ``increments int64[n]``.

    Items are applied in order; ``hits int64[n]`` and ``distinct float64[n]`` receive what ``n`` calls would
    return. Mutates every state array except the seeds, and the two outputs.
    """
    seed = np.uint64(table_seed)
    for position in range(keys.shape[0]):
        hits[position], distinct[position] = _observe(
            counters, cms_ring, cms_seeds, cms_bucket_seconds,
            registers, spread_ring, spread_seeds, memo, spread_bucket_seconds,
            entries, links, tallies, top_ring, seed, top_bucket_seconds,
            keys[position], items[position], times[position], increments[position],
        )  # fmt: skip
