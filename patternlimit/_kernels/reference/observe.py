"""Twin of :mod:`patternlimit._kernels.observe`, composed of the other twins in the same order."""

from __future__ import annotations

import math

import numpy as np

from patternlimit._kernels.hashing import MASK64, mix64_py
from patternlimit._kernels.layout import COHORT_TAG, COPY_TAG, NOVEL_TAG, SQUARES_TAG, YOUNG_REQUESTS_TAG
from patternlimit._kernels.observe import SQUARE_STEP_MAX
from patternlimit._kernels.reference.bloom import seen_update
from patternlimit._kernels.reference.countmin import cms_add, cms_estimate
from patternlimit._kernels.reference.spread import spread_add, spread_estimate
from patternlimit._kernels.reference.topk import topk_add
from patternlimit._kernels.reference.window import ring_advance

_KEY_MASK = (1 << 63) - 1


def copy_key(key: int, content: int) -> int:
    return mix64_py(key ^ mix64_py(content ^ int(COPY_TAG))) & _KEY_MASK


def novel_key(key: int) -> int:
    return mix64_py(key ^ int(NOVEL_TAG)) & _KEY_MASK


def cohort_key(key: int, network: int) -> int:
    return mix64_py(key ^ mix64_py(network ^ int(COHORT_TAG))) & _KEY_MASK


def young_requests_key(key: int) -> int:
    return mix64_py(key ^ int(YOUNG_REQUESTS_TAG)) & _KEY_MASK


def squares_key(key: int) -> int:
    return mix64_py(key ^ int(SQUARES_TAG)) & _KEY_MASK


def concentration(squares: int, requests: int) -> float:
    if requests <= 0:
        return 0.0
    return min(1.0, squares / (float(requests) * float(requests)))


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
) -> None:
    cms = (counters, cms_ring, cms_seeds, cms_bucket_seconds)
    accounts = (account_registers, account_ring, account_seeds, account_memo, account_bucket_seconds)
    youngs = (young_registers, young_ring, young_seeds, young_memo, young_bucket_seconds)
    for position in range(count):
        key = int(keys[position])
        hits = cms_add(*cms, key, now, cost)
        out[position, 0] = hits
        novel = novel_key(key)
        counts_copies = position < copy_count
        if counts_copies:
            copies_of = copy_key(key, content)
            seen = seen_update(seen_bits, seen_ring, seen_seeds, seen_bucket_seconds, copies_of, now)
            out[position, 3] = cms_add(*cms, copies_of, now, 1)
            if not seen:
                cms_add(*cms, novel, now, cost)
        else:
            out[position, 3] = math.nan
        spread_add(*accounts, key, account, now)
        cohort = cohort_key(key, network)
        if young:
            spread_add(*youngs, key, account, now)
            if counts_copies:
                spread_add(*youngs, cohort, account, now)
        else:
            ring_advance(young_ring, young_bucket_seconds, now)
        if hits >= gate:
            out[position, 4] = cms_estimate(*cms, novel, now) if counts_copies else math.nan
            # Bounded by what they count (see the kernel): senders <= requests, young <= senders, cohort <= young.
            out[position, 1] = min(spread_estimate(*accounts, key, now), float(hits))
            out[position, 2] = min(spread_estimate(*youngs, key, now), out[position, 1])
            out[position, 5] = (
                min(spread_estimate(*youngs, cohort, now), out[position, 2]) if counts_copies else math.nan
            )
        else:
            out[position, 4] = out[position, 1] = out[position, 2] = out[position, 5] = math.nan
        if young and counts_copies:
            here = cms_add(*cms, cohort, now, 1)
            cms_add(*cms, young_requests_key(key), now, 1)
            cms_add(*cms, squares_key(key), now, min(2 * here - 1, SQUARE_STEP_MAX))
        if hits >= gate and counts_copies:
            squares = cms_estimate(*cms, squares_key(key), now)
            out[position, 6] = concentration(squares, cms_estimate(*cms, young_requests_key(key), now))
        else:
            out[position, 6] = math.nan
        topk_add(entries, links, tallies, top_ring, table_seed & MASK64, top_bucket_seconds, key, now, cost)
