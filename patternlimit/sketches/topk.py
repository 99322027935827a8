"""Windowed heavy hitters: "which keys had the most hits in the last W seconds", in fixed memory."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels import topk as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit.errors import ConfigurationError, SketchMismatchError
from patternlimit.sketches._common import (
    Window,
    as_increments,
    as_keys,
    as_times,
    check_power_of_two,
    check_seed,
    check_time,
    pack,
    read_arrays,
    read_header,
    update_error,
    valid_update,
)

_MAGIC = b"PLHH"


class HeavyHitters:
    """SpaceSaving summaries of ``capacity`` counters, one per time bucket, merged when queried.

    Metwally, Agrawal & El Abbadi, "Efficient computation of frequent and top-k elements in data streams" (ICDT
    2005), with weighted increments; the bucket summaries are combined as mergeable summaries (Agarwal et al.,
    "Mergeable summaries", PODS 2012). Layout and algorithm: :mod:`patternlimit._kernels.topk`.

    Guarantee, with ``N`` the sum of increments in the window (:meth:`total`) and ``N / capacity`` the bound
    (:meth:`guarantee`): every key whose true window count exceeds ``N / capacity`` is among the
    ``capacity * buckets`` keys :meth:`top` can return, and for every reported ``(key, count, error)``,
    ``count - error <= true count <= count`` with ``error <= N / capacity``. Deterministic: no failure probability.
    True counts follow the ring's rules (:mod:`patternlimit._kernels.window`): an update older than the window
    counts in the oldest live bucket.

    Memory is ``40 * capacity * buckets`` bytes plus a few per bucket (:attr:`nbytes`), whatever the number of
    distinct keys; :meth:`top` allocates up to ``56 * capacity * buckets`` bytes of scratch per call.

    Not thread-safe: callers serialise all calls, queries included (the kernels release the GIL, and a query moves
    the clock, so concurrent calls could corrupt a summary).
    """

    def __init__(self, *, capacity: int = 1024, window: float = 3600.0, buckets: int = 4, seed: int) -> None:
        self.capacity = check_power_of_two("capacity", capacity, 1, 1 << 20)
        self.window = Window(window, buckets)
        self.seed = check_seed(seed)
        self._bucket_seconds = self.window.bucket_seconds
        self._entries = np.zeros((buckets, capacity, 3), dtype=np.int64)
        self._links = np.zeros((buckets, 4 * capacity), dtype=np.int32)
        self._tallies = np.zeros((buckets, 2), dtype=np.int64)
        self._ring = self.window.new_ring()
        self._table_seed = np.uint64(derive_row_seeds(seed, 1)[0])

    @property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, float]:
        """The state arguments of the composing kernels (``observe``), in their order. The table seed
        is passed as the Python int with the same 64 bits read as signed: numba types it ``int64`` without boxing a
        numpy scalar, and the kernels reinterpret it as ``uint64``."""
        seed = int(self._table_seed)
        signed = seed - (1 << 64) if seed >= 1 << 63 else seed
        return self._entries, self._links, self._tallies, self._ring, signed, self._bucket_seconds

    @property
    def nbytes(self) -> int:
        """Bytes of state: counters, heaps and tables, tallies, ring and table seed. Fixed at construction."""
        arrays = (self._entries, self._links, self._tallies, self._ring)
        return sum(array.nbytes for array in arrays) + self._table_seed.nbytes

    def add(self, key: int, now: float, increment: int = 1) -> None:
        """Count ``increment`` hits of ``key`` at ``now``."""
        if not valid_update(key, now, increment):
            raise update_error(key, now, increment)
        kernels.topk_add(
            self._entries,
            self._links,
            self._tallies,
            self._ring,
            self._table_seed,
            self._bucket_seconds,
            key,
            now,
            increment,
        )

    def add_many(self, keys: object, times: object, increments: object = 1) -> None:
        """Batch :meth:`add` in one kernel call: items are applied in order, as ``n`` calls of :meth:`add` would."""
        key_array = as_keys(keys)
        count = key_array.shape[0]
        time_array = as_times(times, count)
        increment_array = as_increments(increments, count)
        kernels.topk_add_many(
            self._entries,
            self._links,
            self._tallies,
            self._ring,
            self._table_seed,
            self._bucket_seconds,
            key_array,
            time_array,
            increment_array,
        )

    def top(self, n: int, now: float) -> list[tuple[int, int, int]]:
        """The ``n`` keys with the largest counts in the window ending at ``now`` (or at the latest time seen, if
        later), as ``(key, count, error)``.

        Sorted by count descending, then key ascending; fewer than ``n`` if fewer keys are monitored (at most
        ``capacity * buckets``). ``count`` overestimates the true window count by at most ``error``.
        """
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        check_time(now)
        size = self.capacity * self.window.buckets
        keys = np.empty(size, dtype=np.uint64)
        counts = np.empty(size, dtype=np.int64)
        errors = np.empty(size, dtype=np.int64)
        found = int(
            kernels.topk_collect(
                self._entries,
                self._links,
                self._tallies,
                self._ring,
                self._table_seed,
                self._bucket_seconds,
                now,
                keys,
                counts,
                errors,
            )
        )
        chosen = np.arange(found)
        if 0 < n < found:
            # Only keys counted at least the n-th largest count can rank in the top n; lexsorting just those (ties
            # included) is much faster than lexsorting all B * C. np.sort, not np.partition: the merged counts have
            # long runs of ties (sums of bucket minimums), on which introselect is several times slower.
            threshold = np.sort(counts[:found])[found - n]
            chosen = np.flatnonzero(counts[:found] >= threshold)
        order = chosen[np.lexsort((keys[chosen], -counts[chosen]))][:n]
        return list(zip(keys[order].tolist(), counts[order].tolist(), errors[order].tolist(), strict=True))

    def total(self, now: float) -> int:
        """``N``, the sum of all increments in the window ending at ``now`` (or at the latest time seen)."""
        check_time(now)
        return int(kernels.topk_total(self._tallies, self._ring, self._bucket_seconds, now))

    def guarantee(self, now: float) -> float:
        """``N / capacity``: the largest overcount of any reported key, and the count above which no key is missed."""
        return self.total(now) / self.capacity

    def to_bytes(self) -> bytes:
        """Serialise state and parameters; :meth:`from_bytes` restores an equal sketch."""
        shape = (self.capacity, self.window.buckets)
        arrays: list[np.ndarray] = [self._entries, self._links, self._tallies, self._ring]
        return pack(_MAGIC, self.seed, self._bucket_seconds, shape, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> HeavyHitters:
        """Rebuild a sketch written by :meth:`to_bytes`; raises :class:`SketchMismatchError` on bad data.

        The summaries are checked before use (:func:`patternlimit._kernels.topk.topk_check`): the kernels trust the
        slot numbers they store, so damaged data must not reach them.
        """
        seed, bucket_seconds, (capacity, buckets, _, _) = read_header(_MAGIC, data)
        try:
            sketch = cls(capacity=capacity, window=bucket_seconds * buckets, buckets=buckets, seed=seed)
        except ConfigurationError as exc:
            raise SketchMismatchError(f"sketch data has invalid parameters: {exc}") from exc
        sketch._entries, sketch._links, sketch._tallies, sketch._ring = read_arrays(
            data,
            [
                ((buckets, capacity, 3), np.int64),
                ((buckets, 4 * capacity), np.int32),
                ((buckets, 2), np.int64),
                ((buckets + 1,), np.int64),
            ],
        )
        broken = int(kernels.topk_check(sketch._entries, sketch._links, sketch._tallies, sketch._table_seed))
        if broken >= 0:
            raise SketchMismatchError(f"sketch data has an inconsistent summary in ring slot {broken}")
        return sketch
