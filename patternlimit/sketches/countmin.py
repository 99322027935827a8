"""Windowed count-min sketch: "how many hits did key K get in the last W seconds", in fixed memory."""

from __future__ import annotations

import math

import numpy as np

from patternlimit._kernels import countmin as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit.errors import ConfigurationError, SketchMismatchError
from patternlimit.sketches._common import (
    Window,
    align_rings,
    as_increments,
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

_MAGIC = b"PLCM"


class CountMinSketch:
    """Count-min with conservative update over a ring of time buckets.

    ``estimate`` never underestimates a key's count in the window and, with probability at least ``1 - delta``,
    overestimates it by at most ``epsilon * N``, where ``N`` is the sum of all increments in the window,
    ``epsilon = e / width`` and ``delta = exp(-depth)``. Memory is ``4 * depth * width * buckets`` bytes plus
    the ring, whatever the number of distinct keys.

    Not thread-safe: callers serialise updates (the kernels release the GIL, so a shared sketch updated from
    several threads at once could lose increments).
    """

    def __init__(
        self,
        *,
        width: int = 1 << 16,
        depth: int = 4,
        window: float = 3600.0,
        buckets: int = 6,
        seed: int,
    ) -> None:
        self.width = check_power_of_two("width", width, 2, 1 << 26)
        self.depth = check_int("depth", depth, 1, 32)
        self.window = Window(window, buckets)
        self.seed = check_seed(seed)
        self._bucket_seconds = self.window.bucket_seconds
        self._counters = np.zeros((depth, width, buckets), dtype=np.uint32)
        self._ring = self.window.new_ring()
        self._row_seeds = derive_row_seeds(seed, depth)

    @classmethod
    def from_error(
        cls, epsilon: float, delta: float, *, window: float = 3600.0, buckets: int = 6, seed: int
    ) -> CountMinSketch:
        """Size the sketch from its guarantee: ``width = e / epsilon`` rounded up to a power of two and
        ``depth = ceil(ln(1 / delta))``."""
        if not (isinstance(epsilon, int | float) and 0 < epsilon < 1):
            raise ConfigurationError(f"epsilon must be in (0, 1), got {epsilon!r}")
        if not (isinstance(delta, int | float) and 0 < delta < 1):
            raise ConfigurationError(f"delta must be in (0, 1), got {delta!r}")
        width = 1 << max(1, math.ceil(math.log2(math.e / epsilon)))
        depth = max(1, math.ceil(math.log(1 / delta)))
        return cls(width=width, depth=depth, window=window, buckets=buckets, seed=seed)

    @property
    def epsilon(self) -> float:
        """The relative error bound this width gives: ``e / width``."""
        return math.e / self.width

    @property
    def delta(self) -> float:
        """The failure probability this depth gives: ``exp(-depth)``."""
        return math.exp(-self.depth)

    @property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """The state arguments of the count-min kernels, in their order (for kernels that compose sketches)."""
        return self._counters, self._ring, self._row_seeds, self._bucket_seconds

    @property
    def nbytes(self) -> int:
        """Bytes of state: counters, ring and row seeds. Fixed at construction."""
        return self._counters.nbytes + self._ring.nbytes + self._row_seeds.nbytes

    def add(self, key: int, now: float, increment: int = 1) -> int:
        """Count ``increment`` hits of ``key`` at ``now``; return the key's window count after the update."""
        if not valid_update(key, now, increment):
            raise update_error(key, now, increment)
        return int(
            kernels.cms_add(self._counters, self._ring, self._row_seeds, self._bucket_seconds, key, now, increment)
        )

    def add_many(self, keys: object, times: object, increments: object = 1) -> np.ndarray:
        """Batch :meth:`add`: one kernel call; returns ``int64[n]``, each item's estimate after its own update."""
        key_array = as_keys(keys)
        count = key_array.shape[0]
        time_array = as_times(times, count)
        increment_array = as_increments(increments, count)
        out = np.empty(count, dtype=np.int64)
        kernels.cms_add_many(
            *self.kernel_args,
            key_array,
            time_array,
            increment_array,
            out,
        )
        return out

    def update_many(self, keys: object, times: object, increments: object = 1) -> None:
        """Batch update without the per-item estimates (the fastest way to load a sketch)."""
        key_array = as_keys(keys)
        count = key_array.shape[0]
        kernels.cms_add_many(
            *self.kernel_args,
            key_array,
            as_times(times, count),
            as_increments(increments, count),
            np.empty(0, dtype=np.int64),
        )

    def estimate(self, key: int, now: float) -> int:
        """The key's count in the window ending at ``now`` (or at the latest time seen, if later)."""
        check_key(key)
        check_time(now)
        return int(kernels.cms_estimate(self._counters, self._ring, self._row_seeds, self._bucket_seconds, key, now))

    def estimate_many(self, keys: object, now: float) -> np.ndarray:
        """Window counts of many keys as of ``now``, as ``int64[n]``."""
        key_array = as_keys(keys)
        check_time(now)
        out = np.empty(key_array.shape[0], dtype=np.int64)
        kernels.cms_estimate_many(*self.kernel_args, key_array, now, out)
        return out

    def merge(self, other: CountMinSketch) -> None:
        """Add ``other``'s counts into this sketch (bucket by bucket, aligned on epochs).

        The merged sketch still never underestimates; its error bound is the sum of both sketches' bounds.
        """
        self._check_compatible(other)
        combine, adopt = align_rings(self._ring, other._ring)
        for slot in combine:
            total = self._counters[:, :, slot].astype(np.int64) + other._counters[:, :, slot]
            self._counters[:, :, slot] = np.minimum(total, int(kernels.COUNTER_MAX)).astype(np.uint32)
        for slot in adopt:
            self._counters[:, :, slot] = other._counters[:, :, slot]

    def to_bytes(self) -> bytes:
        """Serialise state and parameters; :meth:`from_bytes` restores an equal sketch."""
        shape = (self.depth, self.width, self.window.buckets)
        return pack(_MAGIC, self.seed, self._bucket_seconds, shape, [self._counters, self._ring])

    @classmethod
    def from_bytes(cls, data: bytes) -> CountMinSketch:
        """Rebuild a sketch written by :meth:`to_bytes`; raises :class:`SketchMismatchError` on bad data."""
        seed, bucket_seconds, (depth, width, buckets, _) = read_header(_MAGIC, data)
        try:
            sketch = cls(width=width, depth=depth, window=bucket_seconds * buckets, buckets=buckets, seed=seed)
        except ConfigurationError as exc:
            raise SketchMismatchError(f"sketch data has invalid parameters: {exc}") from exc
        sketch._counters, sketch._ring = read_arrays(
            data, [((depth, width, buckets), np.uint32), ((buckets + 1,), np.int64)]
        )
        return sketch

    def _check_compatible(self, other: CountMinSketch) -> None:
        mine = (self.depth, self.width, self.window.buckets, self._bucket_seconds, self.seed)
        theirs = (other.depth, other.width, other.window.buckets, other._bucket_seconds, other.seed)
        if mine != theirs:
            raise SketchMismatchError(
                f"cannot merge count-min sketches with (depth, width, buckets, bucket_seconds, seed) {theirs} "
                f"into {mine}"
            )
