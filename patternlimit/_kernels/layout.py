"""The one definition of the limiter's kernel layout: state arrays, output columns, measure codes, derived keys.

Kernels, their plain-Python twins, the packed entry (:mod:`patternlimit._kernels.packed`), the limiter's sketch
state (:mod:`patternlimit.sketches.state`) and the rule compiler all read these tables instead of spelling the
layout out again.

**State.** The limiter's sketches are, in kernel order, the count-min sketch of hits (``hits``), the spread
sketches of distinct accounts (``accounts``) and distinct young accounts (``young``), the windowed Bloom filter of
texts seen (``seen``) and the heavy hitters (``top``). Each sketch's kernel arguments are its arrays in
:data:`STATE_ARRAYS` order, then (``top`` only) its table seed, then its bucket length in seconds: the 24 state
arguments of :func:`patternlimit._kernels.observe.observe_request`, which every sketch's ``kernel_args`` yields.

**Output.** The observe kernel writes one row of :data:`COLUMNS` ``float64`` values per pattern key, at the
column indices below; a NaN is a measure that was not computed for the key.

**Measures.** A pattern rule's condition names a measure; the compiler turns it into a code of
:data:`MEASURE_CODES`, which the rule kernel dispatches on.

**Derived keys.** The copy, novel, cohort, young-request and squares keys are keyed mixes of a pattern key that
share the count-min and young spread sketches with the pattern keys (see the observe kernel's docstring).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.hashing import mix64

SKETCHES = ("hits", "accounts", "young", "seen", "top")
"""The limiter's sketches, in kernel order."""

STATE_ARRAYS: tuple[tuple[str, str, type, int], ...] = (
    ("hits", "counters", np.uint32, 3),
    ("hits", "ring", np.int64, 1),
    ("hits", "row_seeds", np.uint64, 1),
    ("accounts", "registers", np.uint8, 4),
    ("accounts", "ring", np.int64, 1),
    ("accounts", "seeds", np.uint64, 1),
    ("accounts", "memo", np.float64, 3),
    ("young", "registers", np.uint8, 4),
    ("young", "ring", np.int64, 1),
    ("young", "seeds", np.uint64, 1),
    ("young", "memo", np.float64, 3),
    ("seen", "bits", np.uint64, 2),
    ("seen", "ring", np.int64, 1),
    ("seen", "seeds", np.uint64, 1),
    ("top", "entries", np.int64, 3),
    ("top", "links", np.int32, 2),
    ("top", "tallies", np.int64, 2),
    ("top", "ring", np.int64, 1),
)
"""``(sketch, array, dtype, rank)`` of every state array, in kernel order (the scalars left out)."""

STATE_ARGUMENTS = len(STATE_ARRAYS) + len(SKETCHES) + 1
"""Arrays, one bucket length per sketch, and the heavy hitters' table seed."""

MAX_KEYS = 64
"""Pattern keys per request at most: the rule kernel reports a rule's matching keys as bits of one ``uint64``."""

NEVER = 1 << 62
"""A gate no key's hits reach: the observe kernel then computes no estimate (no rule could use one)."""

HITS, ACCOUNTS, YOUNG, COPIES, NOVEL, COHORT, CONCENTRATION = range(7)
"""Columns of the observe kernel's output row of a key."""
COLUMNS = 7
OUTPUT_COLUMNS = ("hits", "accounts", "young_accounts", "copies", "novel", "cohort", "concentration")

OBSERVATION_COLUMNS: tuple[tuple[str, type], ...] = (
    ("now", np.float64),
    ("account", np.uint64),
    ("content", np.uint64),
    ("network", np.uint64),
    ("cost", np.int64),
    ("young", np.bool_),
    ("copy_count", np.int64),
)
"""One request's observation besides its keys, as the batch kernel takes its columns; the shared log's records
(:mod:`patternlimit.storage.journal`) carry the same fields under the same names."""

MEASURE_CODES = {
    "young_accounts": 0,
    "hits": 1,
    "accounts": 2,
    "copies": 3,
    "young_share": 4,
    "filler_diversity": 5,
    "pattern_age": 6,
    "network_share": 7,
    "network_concentration": 8,
    "account_networks": 9,
    "network_accounts": 10,
    "account_persistence": 11,
}
"""Measures by evaluation cost: the raw sketch outputs first, the derived ratios after."""
AGE_CODE = MEASURE_CODES["pattern_age"]
"""The one measure the rule kernel cannot see (first sightings are kept outside the sketches)."""
ROUTING_CODES = frozenset(
    {MEASURE_CODES["account_networks"], MEASURE_CODES["network_accounts"], MEASURE_CODES["account_persistence"]}
)
"""Measures of the request's routing, which the rule kernel does not see: the engine checks them (an account's
networks are kept outside the sketches)."""
REQUEST_CODES = frozenset({MEASURE_CODES["network_share"], MEASURE_CODES["network_concentration"]}) | ROUTING_CODES
"""Measures that depend on the request's own network or account as well as on the pattern."""
COHORT_MEASURES = frozenset(
    {"copies", "filler_diversity", "network_share", "network_concentration", "network_accounts"}
)
"""Measures the kernel counts only for the copy kinds (copies, new texts, cohorts)."""

COPY_TAG = np.uint64(0x636F7079_5F746167)  # "copy_tag"
NOVEL_TAG = np.uint64(0x6E6F7665_6C5F7467)  # "novel_tg"
COHORT_TAG = np.uint64(0x636F686F_72745F74)  # "cohort_t"
YOUNG_REQUESTS_TAG = np.uint64(0x796F756E_675F7271)  # "young_rq"
SQUARES_TAG = np.uint64(0x73717561_7265735F)  # "squares_"
KEY_MASK = np.uint64((1 << 63) - 1)
"""Pattern keys and derived keys are 63-bit: the count-min and spread kernels reserve the top bit."""


@njit(cache=True, nogil=True, inline="always")
def copy_key(key: np.uint64, content: np.uint64) -> np.uint64:  # pragma: no cover
    return mix64(key ^ mix64(content ^ COPY_TAG)) & KEY_MASK


@njit(cache=True, nogil=True, inline="always")
def novel_key(key: np.uint64) -> np.uint64:  # pragma: no cover
    return mix64(key ^ NOVEL_TAG) & KEY_MASK


@njit(cache=True, nogil=True, inline="always")
def cohort_key(key: np.uint64, network: np.uint64) -> np.uint64:  # pragma: no cover
    return mix64(key ^ mix64(network ^ COHORT_TAG)) & KEY_MASK


@njit(cache=True, nogil=True, inline="always")
def young_requests_key(key: np.uint64) -> np.uint64:  # pragma: no cover
    return mix64(key ^ YOUNG_REQUESTS_TAG) & KEY_MASK


@njit(cache=True, nogil=True, inline="always")
def squares_key(key: np.uint64) -> np.uint64:  # pragma: no cover
    return mix64(key ^ SQUARES_TAG) & KEY_MASK
