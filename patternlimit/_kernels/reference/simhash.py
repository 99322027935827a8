"""Twin of :mod:`patternlimit._kernels.simhash`: 64 ordinary counters where the kernel keeps bit planes."""

from __future__ import annotations

from patternlimit._kernels.hashing import mix64_py


def simhash(features: list[int]) -> int:
    """Majority SimHash of 64-bit feature hashes: bit ``b`` is 1 when more than half of them have it."""
    counters = [0] * 64
    for feature in features:
        for bit in range(64):
            counters[bit] += (feature >> bit) & 1
    return sum(1 << bit for bit in range(64) if 2 * counters[bit] > len(features))


def band_keys(value: int, band_seed: int, bands: int) -> list[int]:
    """The band keys of SimHash ``value``: ``bands`` blocks of ``64 // bands`` bits, each keyed with its index."""
    width = 64 // bands
    blocks = [(value >> (band * width)) & ((1 << width) - 1) for band in range(bands)]
    return [mix64_py((block | (band << 58)) ^ band_seed) >> 1 for band, block in enumerate(blocks)]
