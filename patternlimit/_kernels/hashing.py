"""Keyed 64-bit mixing for sketch indices.

Pattern keys reach the kernels already hashed with a keyed xxh3 (:mod:`patternlimit.keying`); here each sketch row
turns a key into an index with ``mix64(key ^ row_seed)``, where the row seeds come from the sketch's seed, itself
derived from the deployment secret. Without the secret an adversary can neither predict which cells a key touches
nor aim two keys at the same cell.

``mix64`` is the SplitMix64 finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014): a bijection on 64-bit words with full avalanche. All arithmetic is on ``uint64`` and wraps modulo
2**64; every constant is a ``np.uint64`` so numba never promotes to float.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)


@njit(cache=True, nogil=True, inline="always")
def mix64(value: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """SplitMix64 finaliser of one ``uint64`` word (a bijection)."""
    value = (value ^ (value >> _S30)) * _MUL1
    value = (value ^ (value >> _S27)) * _MUL2
    return value ^ (value >> _S31)


def derive_row_seeds(seed: int, count: int) -> np.ndarray:
    """``count`` independent ``uint64`` seeds from one sketch seed: the SplitMix64 sequence started at ``seed``.

    Runs once when a sketch is built, in plain Python; the result is stored in the sketch's state.
    """
    seeds = np.empty(count, dtype=np.uint64)
    state = seed & MASK64
    for row in range(count):
        state = (state + int(GOLDEN_GAMMA)) & MASK64
        seeds[row] = mix64_py(state)
    return seeds


def mix64_py(value: int) -> int:
    """Plain-Python twin of :func:`mix64` over Python ints (used by the references and at set-up)."""
    value &= MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)
