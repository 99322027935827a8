"""One request's pattern keys observed in every sketch the limiter keeps, in one kernel call.

For each of the request's ``count`` pattern keys ``k`` (keyed 63-bit hashes) the kernel

* adds ``cost`` to ``k``'s hits in the count-min sketch,
* adds 1 to the *copy key* ``mix64(k ^ content ^ COPY_TAG)`` (``content`` is a keyed hash of the text): its
  count-min estimate is how often this exact text was sent on ``k`` (an upper bound);
* asks the windowed Bloom filter whether the copy key was seen in the window (then records it); if not, the text
  is new on ``k`` and ``cost`` is added to the *novel key* ``mix64(k ^ NOVEL_TAG)``, so ``novel / hits`` is the
  share of ``k``'s requests that carried a new filler: its diversity. (A count-min "count == 1" test fails under
  load: with a few counts per cell no cell is ever zero and every new text looks like a copy.)
* adds ``account`` to ``k``'s distinct accounts (spread sketch ``accounts``),
* adds ``account`` to ``k``'s distinct *young* accounts (spread sketch ``young``) if ``young`` is set, else only
  reads that estimate,
* for the first ``copy_count`` keys, if ``young`` is set, adds ``account`` to the young accounts of the *cohort
  key* ``mix64(k ^ mix64(network ^ COHORT_TAG))`` in the same sketch: how many of ``k``'s young senders came
  from this request's network (``network``: the engine passes the network key, or the account's own key when the
  address is unknown, so that an unknown network is never shared),
* adds ``cost`` to ``k``'s count in the heavy hitters,

* for the same keys of a young request, counts the pattern's young requests from this network (``c``, the cohort
  key in the count-min sketch), its young requests (``n``) and, with a step of ``2c - 1``, the sum over networks
  of ``c`` squared: ``concentration = sum / n**2`` is the chance that two of its young requests came from one
  network (about 1 for a class behind its NAT, stragglers included; about 1 / prefixes for a proxy pool),

and writes ``out[i] = (hits, accounts, young_accounts, copies, novel, cohort, concentration)`` as ``float64``,
with ``accounts <= hits``, ``young_accounts <= accounts`` and ``cohort <= young_accounts`` (a saturated spread
sketch cannot report more senders than requests).

The estimates that read many cache lines (``accounts``, ``young_accounts``, ``novel``, ``cohort``,
``concentration``) are computed only for
keys with at least ``gate`` hits and are NaN otherwise: a key with fewer hits than a rule's smallest threshold on
accounts cannot meet it (distinct accounts never exceed hits), and skipping them halves the memory traffic of a
cold key. The sketches are updated either way. Copies and new texts are counted only for the first ``copy_count``
keys (the kinds whose rules use them; the others get NaN), which saves two count-min updates per key of the other
kinds; the cohort is counted for the same keys (NaN for the others). The copy and novel keys share the count-min
sketch with the hits, and the cohort keys the young spread sketch with the pattern keys. A Bloom false positive can
only make a new text look like a copy, which lowers the diversity: the safe side.

Layout of the work: each sketch's clock is moved and its write slot claimed once per call (at one ``now`` the
per-key claims after the first are no-ops), and the item's register and rank are hashed once per spread sketch.
Then the keys are walked in order, and before key ``i`` is updated every cache line key ``i + 1`` will touch is
prefetched (:mod:`patternlimit._kernels.prefetch`): its count-min cells and those of its copy and novel keys, the
seen filter's words, the spread registers and memo entries, the heavy hitters' table cell. A key's cells depend
only on the key, so these misses overlap the previous key's work instead of following one another. The updates
are the per-sketch kernels' own steps (``cms_raise``, ``seen_test_and_set``, ``spread_raise``, ``topk_update``...)
in the twin's order, except that the novel key's count-min estimate is read right after its update (the spread
updates in between touch no count-min cell), so the state and ``out`` are bit for bit the reference twin's.

Cost: ``python -m benchmarks.report`` times the single-request path. Prefetching overlaps the cache misses of
consecutive keys, which dominate on a warm 56 MiB state (the default preset); what remains is mostly numba's
dispatch of the arguments (the engine packs the state into one table and calls the compiled entry directly:
:mod:`patternlimit._kernels.packed`, :mod:`patternlimit._kernels.entry`) and the heavy hitters' probe chains and
heap, whose each step's address is read in the step before. Prefetching more than one key ahead was no faster.

State arguments, in order: the 24 of :mod:`patternlimit._kernels.layout` (each sketch's arrays of
``STATE_ARRAYS``, the heavy hitters' ``table_seed`` as a signed int, each sketch's ``bucket_seconds``); then
``keys uint64[>= count]``, ``count``, ``account``, ``content``, ``network``, ``young``, ``now``, ``cost``,
``gate``, ``copy_count`` and ``out float64[>= count, 7]``. Mutates every state array except the seeds, and ``out``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.bloom import seen_claim, seen_prefetch, seen_test_and_set
from patternlimit._kernels.countmin import cms_claim, cms_prefetch, cms_raise, cms_raise_estimate, cms_window_estimate
from patternlimit._kernels.layout import (
    ACCOUNTS,
    COHORT,
    CONCENTRATION,
    COPIES,
    HITS,
    NOVEL,
    YOUNG,
    cohort_key,
    copy_key,
    novel_key,
    squares_key,
    young_requests_key,
)
from patternlimit._kernels.spread import (
    spread_claim,
    spread_item,
    spread_prefetch,
    spread_raise,
    spread_window_estimate,
)
from patternlimit._kernels.topk import topk_claim, topk_prefetch, topk_update
from patternlimit._kernels.window import advance_clock

SQUARE_STEP_MAX = 65535
"""The largest step of a pattern's sum of squares: a network sending more than 32,768 of its young requests in one
window adds no more, so the sum stays far below the count-min counters' cap (its share is known from the
request's own ``network_share`` anyway)."""

_PREFETCH_AHEAD = 1
"""How many keys ahead the kernel prefetches. One is enough: a key's work (about half a microsecond) outlasts a miss
to DRAM; 2 and all keys at once measured the same or slower."""


@njit(cache=True, nogil=True, inline="always")
def square_step(here: int) -> np.int64:  # pragma: no cover
    """``2 * here - 1`` (``here >= 1``), at most :data:`SQUARE_STEP_MAX`."""
    step = np.int64(2 * here - 1)
    return step if step < SQUARE_STEP_MAX else np.int64(SQUARE_STEP_MAX)


@njit(cache=True, nogil=True, inline="always")
def concentration(squares: int, requests: int) -> float:  # pragma: no cover
    """``squares / requests**2`` capped at 1 (0 without requests)."""
    if requests <= 0:
        return 0.0
    value = squares / (float(requests) * float(requests))
    return value if value < 1.0 else 1.0


@njit(cache=True, nogil=True)
def observe_request(
    counters: np.ndarray,
    cms_ring: np.ndarray,
    cms_seeds: np.ndarray,
    cms_bucket_seconds: float,
    account_registers: np.ndarray,
    account_ring: np.ndarray,
    account_seeds: np.ndarray,
    account_memo: np.ndarray,
    account_bucket_seconds: float,
    young_registers: np.ndarray,
    young_ring: np.ndarray,
    young_seeds: np.ndarray,
    young_memo: np.ndarray,
    young_bucket_seconds: float,
    seen_bits: np.ndarray,
    seen_ring: np.ndarray,
    seen_seeds: np.ndarray,
    seen_bucket_seconds: float,
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    top_ring: np.ndarray,
    table_seed: int,
    top_bucket_seconds: float,
    keys: np.ndarray,
    count: int,
    account: int,
    content: int,
    network: int,
    young: bool,
    now: float,
    cost: int,
    gate: int,
    copy_count: int,
    out: np.ndarray,
) -> None:  # pragma: no cover
    """Observe one request's ``count`` pattern keys; see the module docstring."""
    if count <= 0:
        return
    seed = np.uint64(table_seed)
    item = np.uint64(account)
    text = np.uint64(content)
    place = np.uint64(network)
    weight = np.int64(cost)
    # Each sketch's clock and write slot, once per call. The per-key kernels would claim the same slot on the first
    # key and find nothing left to do on the others (one ``now``), and no sketch is read before its first update,
    # so the state ends the same. Likewise the item's register and rank are the same for every key. (The heavy
    # hitters keep their per-key kernel, whose own claims are then no-ops: its bucket is claimed here only so that
    # its table can be prefetched.)
    cms_slot = cms_claim(counters, cms_ring, cms_bucket_seconds, now)
    seen_slot = np.int64(0)
    if copy_count > 0:
        seen_slot = seen_claim(seen_bits, seen_ring, seen_bucket_seconds, now)
    account_slot = spread_claim(account_registers, account_ring, account_bucket_seconds, now)
    account_index, account_rank = spread_item(account_registers, account_seeds, item)
    young_slot, young_index, young_rank = np.int64(0), np.int64(0), np.int64(0)
    if young:
        young_slot = spread_claim(young_registers, young_ring, young_bucket_seconds, now)
        young_index, young_rank = spread_item(young_registers, young_seeds, item)
    else:
        advance_clock(young_ring, young_bucket_seconds, now)
    top_bucket = topk_claim(entries, links, tallies, top_ring, top_bucket_seconds, now)
    # Memory-level parallelism: the cells a key touches depend only on the key, so every cache line key
    # ``position + _PREFETCH_AHEAD`` will read is requested (prefetched) before key ``position`` is worked on, and
    # its misses overlap that work instead of following it one after another.
    for position in range(-_PREFETCH_AHEAD, count):
        ahead = position + _PREFETCH_AHEAD
        if ahead < count:
            key = keys[ahead]
            cms_prefetch(counters, cms_seeds, key)
            if ahead < copy_count:
                copies_of = copy_key(key, text)
                cms_prefetch(counters, cms_seeds, copies_of)
                cms_prefetch(counters, cms_seeds, novel_key(key))
                seen_prefetch(seen_bits, seen_ring, seen_seeds, seen_slot, copies_of)
            spread_prefetch(account_registers, account_seeds, account_memo, account_slot, key, account_index, True)
            spread_prefetch(young_registers, young_seeds, young_memo, young_slot, key, young_index, young)
            if young and ahead < copy_count:
                cohort = cohort_key(key, place)
                spread_prefetch(young_registers, young_seeds, young_memo, young_slot, cohort, young_index, True)
                cms_prefetch(counters, cms_seeds, cohort)
                cms_prefetch(counters, cms_seeds, young_requests_key(key))
                cms_prefetch(counters, cms_seeds, squares_key(key))
            topk_prefetch(links, seed, top_bucket, np.int64(key))
        if position < 0:
            continue
        key = keys[position]
        hits = cms_raise_estimate(counters, cms_ring, cms_seeds, cms_slot, key, weight)
        out[position, HITS] = hits
        gated = hits >= gate
        if position < copy_count:
            copies_of = copy_key(key, text)
            novel_of = novel_key(key)
            seen = seen_test_and_set(seen_bits, seen_ring, seen_seeds, seen_slot, copies_of)
            out[position, COPIES] = cms_raise_estimate(counters, cms_ring, cms_seeds, cms_slot, copies_of, np.int64(1))
            # The novel key's update and estimate are adjacent in count-min order (the spread updates between
            # them touch no count-min cell), so they share one pass when both happen.
            if not seen and gated:
                out[position, NOVEL] = cms_raise_estimate(counters, cms_ring, cms_seeds, cms_slot, novel_of, weight)
            elif not seen:
                cms_raise(counters, cms_seeds, cms_slot, novel_of, weight)
            elif gated:
                out[position, NOVEL] = cms_window_estimate(counters, cms_ring, cms_seeds, novel_of)
        else:
            out[position, COPIES] = np.nan
        spread_raise(account_registers, account_seeds, account_memo, account_slot, key, account_index, account_rank)
        counts_cohort = young and position < copy_count
        if young:
            spread_raise(young_registers, young_seeds, young_memo, young_slot, key, young_index, young_rank)
            if counts_cohort:
                cohort = cohort_key(key, place)
                spread_raise(young_registers, young_seeds, young_memo, young_slot, cohort, young_index, young_rank)
        if gated:
            if position >= copy_count:
                out[position, NOVEL] = np.nan
            # Bounded by what they count: a pattern has no more distinct senders than requests, no more young
            # senders than senders, no more young senders on one network than young senders. A spread sketch
            # saturated by a flood of one-shot keys reads a floor of about D / width distinct items on every
            # cell; the bounds keep that floor from making a quiet pattern look like a fan-out.
            accounts = min(
                spread_window_estimate(account_registers, account_ring, account_seeds, account_memo, key),
                np.float64(hits),
            )
            out[position, ACCOUNTS] = accounts
            young_accounts = min(
                spread_window_estimate(young_registers, young_ring, young_seeds, young_memo, key), accounts
            )
            out[position, YOUNG] = young_accounts
            if position < copy_count:
                out[position, COHORT] = min(
                    spread_window_estimate(
                        young_registers, young_ring, young_seeds, young_memo, cohort_key(key, place)
                    ),
                    young_accounts,
                )
            else:
                out[position, COHORT] = np.nan
        else:
            out[position, NOVEL] = np.nan
            out[position, ACCOUNTS] = np.nan
            out[position, YOUNG] = np.nan
            out[position, COHORT] = np.nan
        if counts_cohort:
            # The pattern's concentration: its young requests from this network (c, after this one), its young
            # requests (n) and the sum over networks of c squared, raised by c**2 - (c - 1)**2 = 2c - 1.
            here = cms_raise_estimate(counters, cms_ring, cms_seeds, cms_slot, cohort_key(key, place), np.int64(1))
            cms_raise(counters, cms_seeds, cms_slot, young_requests_key(key), np.int64(1))
            cms_raise(counters, cms_seeds, cms_slot, squares_key(key), square_step(here))
        if gated and position < copy_count:
            out[position, CONCENTRATION] = concentration(
                cms_window_estimate(counters, cms_ring, cms_seeds, squares_key(key)),
                cms_window_estimate(counters, cms_ring, cms_seeds, young_requests_key(key)),
            )
        else:
            out[position, CONCENTRATION] = np.nan
        topk_update(entries, links, tallies, top_ring, seed, top_bucket_seconds, np.int64(key), now, weight)
