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
* adds ``cost`` to ``k``'s count in the heavy hitters,

and writes ``out[i] = (hits, accounts, young_accounts, copies, novel)`` as ``float64``.

The three estimates that read many cache lines (``accounts``, ``young_accounts``, ``novel``) are computed only for
keys with at least ``gate`` hits and are NaN otherwise: a key with fewer hits than a rule's smallest threshold on
accounts cannot meet it (distinct accounts never exceed hits), and skipping them halves the memory traffic of a
cold key. The sketches are updated either way. Copies and new texts are counted only for the first ``copy_count``
keys (the kinds whose rules use them; the others get NaN), which saves two count-min updates per key of the other
kinds. The copy and novel keys share the count-min sketch with the hits. A Bloom false positive can only make a
new text look like a copy, which lowers the diversity: the safe side.

State arguments, in order: count-min (``counters``, ``ring``, ``row_seeds``, ``bucket_seconds``), accounts spread
(``registers``, ``ring``, ``seeds``, ``memo``, ``bucket_seconds``), young spread (same), the seen filter
(``bits``, ``ring``, ``seeds``, ``bucket_seconds``), heavy hitters
(``entries``, ``links``, ``tallies``, ``ring``, ``table_seed`` as a signed int, ``bucket_seconds``); then
``keys uint64[>= count]``, ``count``, ``account``, ``content``, ``young``, ``now``, ``cost``, ``gate``,
``copy_count`` and ``out float64[>= count, 5]``. Mutates every state array except the seeds, and ``out``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.bloom import seen_update
from patternlimit._kernels.countmin import cms_update, cms_window_estimate
from patternlimit._kernels.hashing import mix64
from patternlimit._kernels.spread import spread_update, spread_window_estimate
from patternlimit._kernels.topk import topk_update
from patternlimit._kernels.window import advance_clock

COPY_TAG = np.uint64(0x636F7079_5F746167)  # "copy_tag"
NOVEL_TAG = np.uint64(0x6E6F7665_6C5F7467)  # "novel_tg"
_KEY_MASK = np.uint64((1 << 63) - 1)

HITS, ACCOUNTS, YOUNG, COPIES, NOVEL = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True, inline="always")
def copy_key(key: np.uint64, content: np.uint64) -> np.uint64:  # pragma: no cover
    return mix64(key ^ mix64(content ^ COPY_TAG)) & _KEY_MASK


@njit(cache=True, nogil=True, inline="always")
def novel_key(key: np.uint64) -> np.uint64:  # pragma: no cover
    return mix64(key ^ NOVEL_TAG) & _KEY_MASK


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
    young: bool,
    now: float,
    cost: int,
    gate: int,
    copy_count: int,
    out: np.ndarray,
) -> None:  # pragma: no cover
    """Observe one request's ``count`` pattern keys; see the module docstring."""
    seed = np.uint64(table_seed)
    item = np.uint64(account)
    text = np.uint64(content)
    weight = np.int64(cost)
    for position in range(count):
        key = keys[position]
        cms_update(counters, cms_ring, cms_seeds, cms_bucket_seconds, key, now, weight)
        hits = cms_window_estimate(counters, cms_ring, cms_seeds, key)
        out[position, HITS] = hits
        counts_copies = position < copy_count
        novel_of = novel_key(key)
        if counts_copies:
            copies_of = copy_key(key, text)
            seen = seen_update(seen_bits, seen_ring, seen_seeds, seen_bucket_seconds, copies_of, now)
            cms_update(counters, cms_ring, cms_seeds, cms_bucket_seconds, copies_of, now, np.int64(1))
            out[position, COPIES] = cms_window_estimate(counters, cms_ring, cms_seeds, copies_of)
            if not seen:
                cms_update(counters, cms_ring, cms_seeds, cms_bucket_seconds, novel_of, now, weight)
        else:
            out[position, COPIES] = np.nan
        spread_update(
            account_registers, account_ring, account_seeds, account_memo, account_bucket_seconds, key, item, now
        )
        if young:
            spread_update(young_registers, young_ring, young_seeds, young_memo, young_bucket_seconds, key, item, now)
        else:
            advance_clock(young_ring, young_bucket_seconds, now)
        if hits >= gate:
            if counts_copies:
                out[position, NOVEL] = cms_window_estimate(counters, cms_ring, cms_seeds, novel_of)
            else:
                out[position, NOVEL] = np.nan
            out[position, ACCOUNTS] = spread_window_estimate(
                account_registers, account_ring, account_seeds, account_memo, key
            )
            out[position, YOUNG] = spread_window_estimate(young_registers, young_ring, young_seeds, young_memo, key)
        else:
            out[position, NOVEL] = np.nan
            out[position, ACCOUNTS] = np.nan
            out[position, YOUNG] = np.nan
        topk_update(entries, links, tallies, top_ring, seed, top_bucket_seconds, np.int64(key), now, weight)
