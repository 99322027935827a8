"""Windowed Bloom filter: has this key been seen in the last W seconds?"""

from __future__ import annotations

import math

import numpy as np

from patternlimit._kernels import bloom as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit.sketches._common import Window, check_int, check_power_of_two, check_seed, update_error, valid_update


class SeenFilter:
    """One Bloom filter of ``bits`` bits per time bucket; membership is over the live buckets' union.

    No false negative within the window; false positives with probability about ``(1 - exp(-hashes * n / bits))
    ** hashes`` for ``n`` keys in the window (:meth:`false_positive_rate`). Memory: ``bits / 8 * buckets`` bytes.
    The limiter uses it to tell a new text on a pattern from a copy. Not thread-safe.
    """

    def __init__(
        self, *, bits: int = 1 << 24, hashes: int = 4, window: float = 3600.0, buckets: int = 6, seed: int
    ) -> None:
        self.bits = check_power_of_two("bits", bits, 64, 1 << 34)
        self.hashes = check_int("hashes", hashes, 1, 16)
        self.window = Window(window, buckets)
        self.seed = check_seed(seed)
        self._bucket_seconds = self.window.bucket_seconds
        self._bits = np.zeros((buckets, bits // 64), dtype=np.uint64)
        self._ring = self.window.new_ring()
        self._seeds = derive_row_seeds(seed, hashes)

    @property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The state arguments of the Bloom kernels, in their order (for kernels that compose sketches)."""
        return self._bits, self._ring, self._seeds, self._bucket_seconds

    @property
    def nbytes(self) -> int:
        return self._bits.nbytes + self._ring.nbytes + self._seeds.nbytes

    def false_positive_rate(self, keys_in_window: int) -> float:
        """The Bloom bound for ``keys_in_window`` distinct keys."""
        return (1.0 - math.exp(-self.hashes * keys_in_window / self.bits)) ** self.hashes

    def seen_add(self, key: int, now: float) -> bool:
        """Whether ``key`` was seen in the window before; then record it at ``now``."""
        if not valid_update(key, now):
            raise update_error(key, now)
        return bool(kernels.seen_update(self._bits, self._ring, self._seeds, self._bucket_seconds, np.uint64(key), now))
