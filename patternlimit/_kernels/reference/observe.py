"""Twin of :mod:`patternlimit._kernels.observe`, composed of the other twins in the same order."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels.hashing import MASK64, mix64_py
from patternlimit._kernels.observe import COPY_TAG, NOVEL_TAG
from patternlimit._kernels.reference.countmin import cms_add, cms_estimate
from patternlimit._kernels.reference.spread import spread_add, spread_estimate
from patternlimit._kernels.reference.topk import topk_add

_KEY_MASK = (1 << 63) - 1


def copy_key(key: int, content: int) -> int:
    return mix64_py(key ^ mix64_py(content ^ int(COPY_TAG))) & _KEY_MASK


def novel_key(key: int) -> int:
    return mix64_py(key ^ int(NOVEL_TAG)) & _KEY_MASK


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
    out: np.ndarray,
) -> None:
    cms = (counters, cms_ring, cms_seeds, cms_bucket_seconds)
    for position in range(count):
        key = int(keys[position])
        out[position, 0] = cms_add(*cms, key, now, cost)
        copies = cms_add(*cms, copy_key(key, content), now, 1)
        out[position, 3] = copies
        novel = novel_key(key)
        out[position, 4] = cms_add(*cms, novel, now, cost) if copies == 1 else cms_estimate(*cms, novel, now)
        out[position, 1] = spread_add(
            account_registers, account_ring, account_seeds, account_memo, account_bucket_seconds, key, account, now
        )
        young_state = (young_registers, young_ring, young_seeds, young_memo, young_bucket_seconds)
        out[position, 2] = (
            spread_add(*young_state, key, account, now) if young else spread_estimate(*young_state, key, now)
        )
        topk_add(entries, links, tallies, top_ring, table_seed & MASK64, top_bucket_seconds, key, now, cost)
