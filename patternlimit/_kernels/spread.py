"""Windowed spread sketch: how many *distinct* items (accounts) a key was seen with in the window.

The sketch is a count-min of small HyperLogLogs ("Count-HLL", Ting, "Approximate distinct counts for billions of
datasets", SIGMOD 2019): ``depth`` rows of ``width`` cells, each cell an HLL of ``m = 2**precision`` registers
(Flajolet, Fusy, Gandouet & Meunier, "HyperLogLog: the analysis of a near-optimal cardinality estimation
algorithm", AofA 2007), one HLL per time bucket.

State (owned by :class:`patternlimit.sketches.spread.SpreadSketch`):

* ``registers``: ``uint8[depth, width, buckets, m]``; a cell's buckets are adjacent, so an estimate reads
  ``buckets * m`` consecutive bytes per row. ``width`` is a power of two (indices are masked, not divided).
  Memory is ``depth * width * buckets * m`` bytes.
* ``ring``: ``int64[buckets + 1]``, the time ring described in :mod:`patternlimit._kernels.window`.
* ``memo``: ``float64[depth, width, 2]``, a cache of each cell's estimate: ``memo[r, c] = (estimate, clock)``
  holds the cell's merged-HLL estimate as computed when the ring's clock was ``clock``. A cell's estimate changes
  only when one of its registers rises (the update then sets the stamp to -1) or when the clock moves (the live
  buckets change), so a repeated key costs a lookup instead of ``buckets * m`` reads and Ertl's estimator. The memo
  is derived state: it is never serialised, and a fresh one is all -1. The reference twin ignores it; the
  bit-for-bit comparison is what shows the cache is never stale. ``16 * depth * width`` bytes.
* ``seeds``: ``uint64[depth + 1]``; row ``r`` maps key ``k`` to cell ``mix64(k ^ seeds[r]) & (width - 1)``, and
  ``seeds[depth]`` keys the item hash ``h = mix64(item ^ seeds[depth])``, shared by every row.

Update: with ``p = precision`` and ``q = 64 - p`` (``rank_bits`` in the code), the item goes to register
``j = h >> q`` with rank = one plus the number of leading zeros of ``h << p`` (``q + 1`` when those bits are all
zero); in every row, register ``j`` of the key's cell in the bucket being written is raised to the rank if it is
lower. Registers never exceed ``q + 1``.

Estimate: for each row, the key's cell is merged over the live buckets (register-wise maximum: the HLL of the
union of the buckets) and read with Ertl's improved raw estimator (Ertl, "New cardinality estimation algorithms
for HyperLogLog sketches", arXiv:1702.01284, 2017, Algorithm 6), which needs neither linear counting nor bias
tables and is accurate from 0 to far beyond 2**32. The key's estimate is the minimum over rows.

Error: a cell's HLL estimates the number of distinct items of *all* keys mapped to it, with standard error about
``1.04 / sqrt(m)``. Because the item hash does not depend on the row, every row's cell holds registers at least as
high as an HLL of the key's own items would, and the estimator is monotone in the registers, so the minimum over
rows never falls below the key's own HLL estimate: collisions only add items, and the sketch undercounts only by
the HLL error itself. Overestimates come from keys sharing the cell in every row; the expected floor for a small
key is about ``min_r`` (distinct items of the other keys in row ``r``'s cell), at most about ``D / width`` for ``D``
distinct (key, item) pairs in the window. An estimate is ``inf`` only if every register of a cell is saturated
(``q + 1``), which takes about ``2**q`` items.

Not chosen: virtual HyperLogLog (Xiao, Zhou, Chen, "Better with fewer bits: improving the performance of
cardinality estimation of large data streams", SIGMETRICS 2015), where keys share one register pool and the
estimate subtracts the pool's noise. The subtraction needs the whole pool's cardinality for every estimate,
which is costly to keep under a sliding window, and it can underestimate; count-min of HLLs only overestimates,
the safe side for "is this pattern spread over many accounts".
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from patternlimit._kernels.hashing import mix64
from patternlimit._kernels.prefetch import prefetch
from patternlimit._kernels.window import advance_clock, claim_slot, oldest_live, target_epoch

TWO_LN2 = 2.0 * math.log(2.0)
"""``1 / alpha_inf``: the raw estimate is ``m * m / TWO_LN2 / z``."""

_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_TOP_BIT = np.uint64(1 << 63)
_STALE = -1.0
"""A memo stamp no clock equals (clocks are epochs >= 0, or the ring's EMPTY before any update)."""


@njit(cache=True, nogil=True, inline="always")
def _precision(registers: np.ndarray) -> np.int64:  # pragma: no cover
    """``log2(m)`` from the register axis (``m`` is a power of two)."""
    precision = np.int64(0)
    while (np.int64(1) << precision) < registers.shape[3]:
        precision += 1
    return precision


@njit(cache=True, nogil=True)
def _sigma(fraction: float) -> float:  # pragma: no cover
    """Ertl's ``sigma(x) = x + sum_{k>=1} x**(2**k) * 2**(k-1)`` for ``0 <= x < 1``, summed until it stops changing."""
    power = fraction
    scale = 1.0
    total = fraction
    while True:
        power = power * power
        previous = total
        total = total + power * scale
        scale = scale + scale
        if total == previous:
            return total


@njit(cache=True, nogil=True)
def _tau(fraction: float) -> float:  # pragma: no cover
    """Ertl's ``tau(x) = (1 - x - sum_{k>=1} (1 - x**(2**-k))**2 * 2**-k) / 3`` for ``0 <= x <= 1``."""
    if fraction == 0.0 or fraction == 1.0:
        return 0.0
    root = fraction
    scale = 1.0
    total = 1.0 - fraction
    while True:
        root = math.sqrt(root)
        previous = total
        scale = scale * 0.5
        gap = 1.0 - root
        total = total - gap * gap * scale
        if total == previous:
            return total / 3.0


@njit(cache=True, nogil=True)
def _cardinality(histogram: np.ndarray, count: np.int64, rank_bits: np.int64) -> float:  # pragma: no cover
    """Ertl's improved raw estimate of a ``count``-register HLL from ``histogram int64[rank_bits + 2]``.

    ``histogram[value]`` is the number of registers holding ``value``.

    The floating-point operations run in the same order as in the reference twin, apart from leading steps that are
    exact no-ops (skipped below), so results are bit-identical.
    """
    if histogram[0] == count:
        return 0.0
    if histogram[rank_bits + 1] == count:
        # Every register saturated: the estimator's limit is infinite (and the denominator would be 0).
        return math.inf
    denominator = count * _tau(1.0 - histogram[rank_bits + 1] / count)
    top = rank_bits
    if denominator == 0.0:
        # 0.5 * (0.0 + 0) is exactly 0.0: starting at the highest occupied value changes no bit of the result and
        # skips most of the rank_bits halvings (registers rarely exceed 20).
        while top > 0 and histogram[top] == 0:
            top -= 1
    for value in range(top, 0, -1):
        denominator = 0.5 * (denominator + histogram[value])
    denominator = denominator + count * _sigma(histogram[0] / count)
    return count * count / TWO_LN2 / denominator


@njit(cache=True, nogil=True)
def _cell_estimate(registers: np.ndarray, ring: np.ndarray, row: int, cell: np.uint64) -> float:  # pragma: no cover
    """Ertl's estimate of one cell's HLL merged over the live buckets."""
    _, _, buckets, count = registers.shape
    rank_bits = 64 - _precision(registers)
    oldest = oldest_live(ring)
    merged = np.zeros(count, dtype=np.uint8)
    for slot in range(buckets):
        if ring[slot] > oldest:
            np.maximum(merged, registers[row, cell, slot], merged)
    histogram = np.zeros(rank_bits + 2, dtype=np.int64)
    for index in range(count):
        histogram[merged[index]] += 1
    return _cardinality(histogram, np.int64(count), rank_bits)


@njit(cache=True, nogil=True)
def spread_window_estimate(
    registers: np.ndarray, ring: np.ndarray, seeds: np.ndarray, memo: np.ndarray, key: np.uint64
) -> float:  # pragma: no cover
    depth, width, buckets, _ = registers.shape
    clock = np.float64(ring[buckets])
    mask = np.uint64(width - 1)
    best = math.inf
    for row in range(depth):
        cell = mix64(key ^ seeds[row]) & mask
        if memo[row, cell, 1] == clock:
            estimate = memo[row, cell, 0]
        else:
            estimate = _cell_estimate(registers, ring, row, cell)
            memo[row, cell, 0] = estimate
            memo[row, cell, 1] = clock
        if estimate < best:
            best = estimate
    return best


@njit(cache=True, nogil=True, inline="always")
def spread_claim(
    registers: np.ndarray, ring: np.ndarray, bucket_seconds: float, now: float
) -> np.int64:  # pragma: no cover
    """Move the clock to ``now`` and claim (clearing it if it held an expired epoch) the bucket ``now`` is added to.

    Returns its slot; a second call at the same ``now`` changes nothing. Mutates ``ring`` and (rarely)
    ``registers``.
    """
    epoch = advance_clock(ring, bucket_seconds, now)
    slot, stale = claim_slot(ring, target_epoch(ring, epoch))
    if stale:
        registers[:, :, slot, :] = 0
    return slot


@njit(cache=True, nogil=True, inline="always")
def spread_item(
    registers: np.ndarray, seeds: np.ndarray, item: np.uint64
) -> tuple[np.int64, np.int64]:  # pragma: no cover
    """The register ``item`` goes to and its rank (the same in every row and for every key)."""
    depth = registers.shape[0]
    precision = _precision(registers)
    rank_bits = 64 - precision
    hashed = mix64(item ^ np.uint64(seeds[depth]))
    index = np.int64(hashed >> np.uint64(rank_bits))
    rest = hashed << np.uint64(precision)
    rank = np.int64(1)
    if rest == _ZERO:
        rank = rank_bits + 1
    else:
        while (rest & _TOP_BIT) == _ZERO:
            rank += 1
            rest = rest << _ONE
    return index, rank


@njit(cache=True, nogil=True, inline="always")
def spread_raise(
    registers: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    slot: np.int64,
    key: np.uint64,
    index: np.int64,
    rank: np.int64,
) -> None:  # pragma: no cover
    """Raise register ``index`` of ``key``'s cells in the claimed ``slot`` to ``rank`` (:func:`spread_item`)."""
    mask = np.uint64(registers.shape[1] - 1)
    for row in range(registers.shape[0]):
        cell = mix64(key ^ seeds[row]) & mask
        if registers[row, cell, slot, index] < rank:
            registers[row, cell, slot, index] = np.uint8(rank)
            memo[row, cell, 1] = _STALE


@njit(cache=True, nogil=True)
def spread_prefetch(
    registers: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    slot: np.int64,
    key: np.uint64,
    index: np.int64,
    raising: bool,
) -> None:  # pragma: no cover
    """Start loading ``key``'s memo entries and, if ``raising``, the register :func:`spread_raise` reads."""
    mask = np.uint64(registers.shape[1] - 1)
    for row in range(registers.shape[0]):
        cell = mix64(key ^ seeds[row]) & mask
        if raising:
            prefetch(registers, (row, cell, slot, index))
        prefetch(memo, (row, cell, 0))


@njit(cache=True, nogil=True)
def spread_update(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    key: np.uint64,
    item: np.uint64,
    now: float,
) -> None:  # pragma: no cover
    slot = spread_claim(registers, ring, bucket_seconds, now)
    index, rank = spread_item(registers, seeds, item)
    spread_raise(registers, seeds, memo, slot, key, index, rank)


@njit(cache=True, nogil=True)
def spread_add(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    key: int,
    item: int,
    now: float,
) -> float:  # pragma: no cover
    """Record that ``key`` was seen with ``item`` at ``now``; return the key's distinct-item estimate afterwards.

    ``key`` and ``item`` are non-negative ints below 2**63 (keyed hashes), ``now`` finite and non-negative.
    Mutates ``registers``, ``ring`` and ``memo``. Returns a ``float64``: ``0.0`` for an unseen key, otherwise within
    about ``1.04 / sqrt(m)`` (one standard error) of the distinct items in the key's cells, never below the key's
    own count by more than that HLL error.
    """
    spread_update(registers, ring, seeds, memo, bucket_seconds, np.uint64(key), np.uint64(item), now)
    return spread_window_estimate(registers, ring, seeds, memo, np.uint64(key))


@njit(cache=True, nogil=True)
def spread_add_many(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    items: np.ndarray,
    times: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover
    """Batch form of :func:`spread_add`: ``keys uint64[n]``, ``items uint64[n]``, ``times float64[n]``.

    Pairs are applied in order; ``out float64[n]`` receives each pair's estimate right after its own update, exactly
    what ``n`` calls of :func:`spread_add` would return. Pass an empty ``out`` (``float64[0]``) to skip the
    estimates, most of the cost of an update. Mutates ``registers``, ``ring``, ``memo`` and ``out``.
    """
    with_estimates = out.shape[0] > 0
    for position in range(keys.shape[0]):
        spread_update(registers, ring, seeds, memo, bucket_seconds, keys[position], items[position], times[position])
        if with_estimates:
            out[position] = spread_window_estimate(registers, ring, seeds, memo, keys[position])


@njit(cache=True, nogil=True)
def spread_estimate(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    key: int,
    now: float,
) -> float:  # pragma: no cover
    """Distinct items of ``key`` in the window as of ``now`` (the clock moves forward to ``now``).

    Mutates ``ring[-1]`` and ``memo`` only.
    """
    advance_clock(ring, bucket_seconds, now)
    return spread_window_estimate(registers, ring, seeds, memo, np.uint64(key))


@njit(cache=True, nogil=True)
def spread_estimate_many(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    now: float,
    out: np.ndarray,
) -> None:  # pragma: no cover
    """Distinct-item estimates of ``keys uint64[n]`` as of ``now`` into ``out float64[n]``.

    Mutates ``ring[-1]``, ``memo`` and ``out``.
    """
    advance_clock(ring, bucket_seconds, now)
    for position in range(keys.shape[0]):
        out[position] = spread_window_estimate(registers, ring, seeds, memo, keys[position])
