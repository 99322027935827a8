"""SimHash over 64-bit feature hashes with bit-sliced counters, and its band keys.

**SimHash** (Charikar, STOC 2002; Manku, Jain & Das Sarma, WWW 2007): bit ``b`` of the SimHash is 1 when more than
half of the feature hashes have bit ``b`` set (the sign of the usual +1/-1 sum). The 64 counters are *bit-sliced*
("vertical counters"): plane ``k`` holds bit ``k`` of all 64 counters, so adding one feature hash to all 64 counters
is a carry-save add of one word, not 64 increments. The caller keeps the three low planes in registers, where a
feature takes five word operations (``carry = low0 & hash; low0 ^= hash; low1 ^= carry; low2 ^= carry & ~low1``),
and every 7 features, before those 3-bit counters can overflow, adds them with :func:`add_planes` into the
``PLANES = 32`` planes in memory (enough for ``2**32 - 1`` features), a ripple carry that stops when the carry is
zero. Rippling every feature straight into memory would cost about seven dependent read-modify-writes each, and
long carry chains once the counters are large. :func:`simhash_majority` then compares the 64 counters with
``features // 2`` in 32 bit-sliced word steps.

**Band keys**: the SimHash is cut into ``bands`` blocks of ``64 / bands`` bits; band ``i``'s key is
``mix64((block_i | i << 58) ^ band_seed) >> 1`` (the index sits above the block, so equal blocks of different
bands differ).

Memory: ``PLANES`` words of the caller's scratch; nothing is allocated.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.hashing import mix64

PLANES = 32
"""Bit planes of the SimHash counters: enough for ``2**32 - 1`` features."""

ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_BAND_INDEX_SHIFT = np.uint64(58)


@njit(cache=True, nogil=True, inline="always")
def add_planes(planes: np.ndarray, low0: np.uint64, low1: np.uint64, low2: np.uint64) -> None:  # pragma: no cover
    """Add the bit-sliced 3-bit lane counters ``(low0, low1, low2)`` into the counters in ``planes[:PLANES]``."""
    bits = planes[0]
    planes[0] = bits ^ low0
    carry = bits & low0
    bits = planes[1]
    partial = bits ^ low1
    planes[1] = partial ^ carry
    carry = (bits & low1) | (partial & carry)
    bits = planes[2]
    partial = bits ^ low2
    planes[2] = partial ^ carry
    carry = (bits & low2) | (partial & carry)
    plane = 3
    while carry != _ZERO:
        bits = planes[plane]
        planes[plane] = bits ^ carry
        carry &= bits
        plane += 1


@njit(cache=True, nogil=True)
def simhash_majority(planes: np.ndarray, shingles: int) -> np.uint64:  # pragma: no cover - compiled
    """Bit ``b`` set where counter ``b`` (bit-sliced over ``planes uint64[PLANES]``) exceeds ``shingles // 2``.

    A bit-sliced unsigned comparison from the top plane down: ``equal`` holds the lanes whose high bits equal the
    threshold's so far; a lane becomes ``greater`` at the first plane where it has a 1 and the threshold a 0.
    """
    threshold = shingles >> 1
    greater = _ZERO
    equal = ALL_ONES
    for plane in range(PLANES - 1, -1, -1):
        bits = planes[plane]
        if (threshold >> plane) & 1:
            equal &= bits
        else:
            greater |= equal & bits
            equal &= ~bits
    return greater


@njit(cache=True, nogil=True)
def simhash_band_keys(simhash: np.uint64, band_seed: np.uint64, out: np.ndarray) -> None:  # pragma: no cover
    """Band keys of a SimHash into ``out uint64[bands]`` (``bands`` divides 64); mutates ``out`` only."""
    bands = out.shape[0]
    if bands == 0:
        return
    width = 64 // bands
    mask = ALL_ONES if width == 64 else (_ONE << np.uint64(width)) - _ONE
    for band in range(bands):
        block = (simhash >> np.uint64(band * width)) & mask
        out[band] = mix64((block | (np.uint64(band) << _BAND_INDEX_SHIFT)) ^ band_seed) >> _ONE
