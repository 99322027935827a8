"""Windowed spread sketch: "how many distinct accounts sent pattern K in the last W seconds", in fixed memory."""

from __future__ import annotations

import math

import numpy as np

from patternlimit._kernels import spread as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit.errors import ConfigurationError, SketchMismatchError
from patternlimit.sketches._common import (
    KEY_LIMIT,
    Window,
    align_rings,
    as_keys,
    as_times,
    check_int,
    check_key,
    check_power_of_two,
    check_seed,
    check_time,
    pack,
    read_arrays,
    read_header,
    update_error,
    valid_update,
)

_MAGIC = b"PLSP"


class SpreadSketch:
    """Count-min of small HyperLogLogs (Ting, SIGMOD 2019) over a ring of time buckets.

    ``estimate(key)`` approximates the number of distinct items (accounts) seen with ``key`` in the window. Each of
    ``depth`` rows maps the key to one of ``width`` cells, and each cell keeps a ``2**precision``-register HLL per
    time bucket; the estimate is the minimum over rows of the cell's HLL estimate (Ertl's improved raw estimator),
    whose standard error is :attr:`standard_error` ``= 1.04 / sqrt(2**precision)`` relative to the distinct items
    of every key sharing the cell. Collisions only add items, so the estimate falls below the key's true count only
    by that HLL error; for a small key it sits near a floor of at most about ``D / width`` (``D`` distinct
    (key, item) pairs in the window). Memory is ``depth * width * (buckets * 2**precision + 16)`` bytes (registers
    and a memo of each cell's last estimate) plus the ring and seeds, whatever the number of keys or items; the
    defaults take 12.75 MiB.

    Not thread-safe: callers serialise updates (the kernels release the GIL, so a shared sketch updated from
    several threads at once could lose register updates).
    """

    def __init__(
        self,
        *,
        width: int = 1 << 14,
        depth: int = 3,
        precision: int = 6,
        window: float = 3600.0,
        buckets: int = 4,
        seed: int,
    ) -> None:
        self.width = check_power_of_two("width", width, 2, 1 << 26)
        self.depth = check_int("depth", depth, 1, 32)
        self.precision = check_int("precision", precision, 4, 12)
        self.window = Window(window, buckets)
        self.seed = check_seed(seed)
        self._bucket_seconds = self.window.bucket_seconds
        self._registers = np.zeros((depth, width, buckets, 1 << precision), dtype=np.uint8)
        self._ring = self.window.new_ring()
        self._seeds = derive_row_seeds(seed, depth + 1)
        self._memo = np.full((depth, width, 2), -1.0)

    @property
    def standard_error(self) -> float:
        """Relative standard error of one cell's HLL estimate: ``1.04 / sqrt(2**precision)``."""
        return 1.04 / math.sqrt(1 << self.precision)

    @property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
        """The state arguments of the spread kernels, in their order (for kernels that compose sketches)."""
        return self._registers, self._ring, self._seeds, self._memo, self._bucket_seconds

    @property
    def nbytes(self) -> int:
        """Bytes of state: registers, ring, seeds and the estimate memo. Fixed at construction."""
        return self._registers.nbytes + self._ring.nbytes + self._seeds.nbytes + self._memo.nbytes

    def add(self, key: int, item: int, now: float) -> float:
        """Record ``key`` seen with ``item`` at ``now``; return the key's distinct-item estimate after the update."""
        if not valid_update(key, now):
            raise update_error(key, now)
        if not (type(item) is int and 0 <= item < KEY_LIMIT):
            check_key(item, "item")
        return float(kernels.spread_add(*self.kernel_args, key, item, now))

    def update_many(self, keys: object, items: object, times: object) -> None:
        """Batch update without the per-pair estimates (the fastest way to load a sketch)."""
        key_array, item_array, time_array = self._batch(keys, items, times)
        kernels.spread_add_many(
            *self.kernel_args,
            key_array,
            item_array,
            time_array,
            np.empty(0, dtype=np.float64),
        )

    def add_many(self, keys: object, items: object, times: object) -> np.ndarray:
        """Batch :meth:`add`: one kernel call; returns ``float64[n]``, each pair's estimate after its own update."""
        key_array, item_array, time_array = self._batch(keys, items, times)
        out = np.empty(key_array.shape[0], dtype=np.float64)
        kernels.spread_add_many(
            *self.kernel_args,
            key_array,
            item_array,
            time_array,
            out,
        )
        return out

    def estimate(self, key: int, now: float) -> float:
        """Distinct items of ``key`` in the window ending at ``now`` (or at the latest time seen, if later)."""
        check_key(key)
        check_time(now)
        return float(kernels.spread_estimate(*self.kernel_args, key, now))

    def estimate_many(self, keys: object, now: float) -> np.ndarray:
        """Distinct-item estimates of many keys as of ``now``, as ``float64[n]``."""
        key_array = as_keys(keys)
        check_time(now)
        out = np.empty(key_array.shape[0], dtype=np.float64)
        kernels.spread_estimate_many(*self.kernel_args, key_array, now, out)
        return out

    @staticmethod
    def _batch(keys: object, items: object, times: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key_array = as_keys(keys)
        item_array = as_keys(items)
        count = key_array.shape[0]
        if item_array.shape[0] != count:
            raise ValueError(f"items must have one entry per key ({count}), got {item_array.shape[0]}")
        return key_array, item_array, as_times(times, count)

    def merge(self, other: SpreadSketch) -> None:
        """Fold ``other`` into this sketch: register-wise maximum on buckets of the same epoch, newer buckets adopted.

        The sketches of two time-ordered streams merge into exactly the sketch of their time-ordered union, so the
        estimates keep the same error bound. Events that arrived late (behind a sketch's clock by more than the
        window) were placed by that sketch's own clock and may sit in another bucket than the union would use.
        """
        self._check_compatible(other)
        combine, adopt = align_rings(self._ring, other._ring)
        for slot in combine:
            mine = self._registers[:, :, slot, :]
            np.maximum(mine, other._registers[:, :, slot, :], out=mine)
        for slot in adopt:
            self._registers[:, :, slot, :] = other._registers[:, :, slot, :]
        self._memo[:, :, 1] = -1.0  # every cached estimate may have changed

    def to_bytes(self) -> bytes:
        """Serialise state and parameters; :meth:`from_bytes` restores an equal sketch."""
        shape = (self.depth, self.width, self.window.buckets, self.precision)
        return pack(_MAGIC, self.seed, self._bucket_seconds, shape, [self._registers, self._ring])

    @classmethod
    def from_bytes(cls, data: bytes) -> SpreadSketch:
        """Rebuild a sketch written by :meth:`to_bytes`; raises :class:`SketchMismatchError` on bad data."""
        seed, bucket_seconds, (depth, width, buckets, precision) = read_header(_MAGIC, data)
        try:
            sketch = cls(
                width=width,
                depth=depth,
                precision=precision,
                window=bucket_seconds * buckets,
                buckets=buckets,
                seed=seed,
            )
        except ConfigurationError as exc:
            raise SketchMismatchError(f"sketch data has invalid parameters: {exc}") from exc
        registers, ring = read_arrays(
            data, [((depth, width, buckets, 1 << precision), np.uint8), ((buckets + 1,), np.int64)]
        )
        # The kernels index a histogram by register value without bounds checks: reject values no update can write.
        limit = 64 - precision + 1
        if registers.size and int(registers.max()) > limit:
            raise SketchMismatchError(
                f"sketch data has a register above {limit}, the largest rank at precision {precision}"
            )
        sketch._registers, sketch._ring = registers, ring
        return sketch

    def _check_compatible(self, other: SpreadSketch) -> None:
        mine = (self.depth, self.width, self.window.buckets, self.precision, self._bucket_seconds, self.seed)
        theirs = (other.depth, other.width, other.window.buckets, other.precision, other._bucket_seconds, other.seed)
        if mine != theirs:
            raise SketchMismatchError(
                f"cannot merge spread sketches with (depth, width, buckets, precision, bucket_seconds, seed) {theirs} "
                f"into {mine}"
            )
