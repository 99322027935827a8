"""A pattern family's three sketches, observed together in one kernel call per update."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from patternlimit._kernels import combined as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit.errors import ConfigurationError
from patternlimit.sketches._common import (
    KEY_LIMIT,
    as_increments,
    as_keys,
    as_times,
    check_key,
    check_seed,
    update_error,
    valid_update,
)
from patternlimit.sketches.countmin import CountMinSketch
from patternlimit.sketches.spread import SpreadSketch
from patternlimit.sketches.topk import HeavyHitters


class TopPattern(NamedTuple):
    """One row of :meth:`PatternCounter.top`."""

    key: int
    hits: int
    """Upper bound of the key's hits in the window (heavy hitters' count)."""
    error: int
    """``hits - error`` is a lower bound of the key's hits."""
    distinct: float
    """Estimated distinct items (accounts) seen with the key in the window."""


class PatternCounter:
    """Hits per key, distinct items per key and the heaviest keys of one family of pattern keys.

    ``observe(key, item, now)`` updates a :class:`CountMinSketch`, a :class:`SpreadSketch` and a
    :class:`HeavyHitters` in one numba call and returns the key's hits and distinct items in the window; the
    sketches keep their own windows and guarantees, and stay usable on their own. Memory is the sum of the three
    (:attr:`nbytes`).

    Not thread-safe, like the sketches it holds.
    """

    def __init__(self, hits: CountMinSketch, distinct: SpreadSketch, top: HeavyHitters) -> None:
        if not (
            isinstance(hits, CountMinSketch) and isinstance(distinct, SpreadSketch) and isinstance(top, HeavyHitters)
        ):
            raise ConfigurationError("PatternCounter takes a CountMinSketch, a SpreadSketch and a HeavyHitters")
        self.hits, self.distinct, self.top_keys = hits, distinct, top
        # The kernels' state arguments, gathered once: star-unpacking a tuple is far cheaper per call than reading
        # fifteen attributes. The sketches mutate their arrays in place, so the tuple stays current.
        self._state = (*hits.kernel_args, *distinct.kernel_args, *top.kernel_args)

    @classmethod
    def create(cls, *, seed: int, window: float = 3600.0) -> PatternCounter:
        """The three sketches at their default sizes over one window, with independent seeds derived from ``seed``."""
        check_seed(seed)
        hits_seed, distinct_seed, top_seed = (int(value) for value in derive_row_seeds(seed, 3))
        return cls(
            CountMinSketch(window=window, seed=hits_seed),
            SpreadSketch(window=window, seed=distinct_seed),
            HeavyHitters(window=window, seed=top_seed),
        )

    @property
    def nbytes(self) -> int:
        """Bytes of state of the three sketches. Fixed at construction."""
        return self.hits.nbytes + self.distinct.nbytes + self.top_keys.nbytes

    def observe(self, key: int, item: int, now: float, increment: int = 1) -> tuple[int, float]:
        """Count ``increment`` hits of ``key`` by ``item`` (e.g. an account) at ``now``.

        Returns ``(hits, distinct)`` in the window after the update, as the sketches' own ``add`` would.
        """
        if not (valid_update(key, now, increment) and type(item) is int and 0 <= item < KEY_LIMIT):
            if not valid_update(key, now, increment):
                raise update_error(key, now, increment)
            check_key(item, "item")
        return kernels.pattern_observe(*self._state, key, item, now, increment)

    def observe_many(
        self, keys: object, items: object, times: object, increments: object = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batch :meth:`observe` in one kernel call: ``(hits int64[n], distinct float64[n])``."""
        key_array, item_array = as_keys(keys), as_keys(items)
        count = key_array.shape[0]
        if item_array.shape[0] != count:
            raise ValueError(f"items must have one entry per key ({count}), got {item_array.shape[0]}")
        hits, distinct = np.empty(count, dtype=np.int64), np.empty(count, dtype=np.float64)
        kernels.pattern_observe_many(
            *self._state,
            key_array,
            item_array,
            as_times(times, count),
            as_increments(increments, count),
            hits,
            distinct,
        )
        return hits, distinct

    def top(self, n: int, now: float) -> list[TopPattern]:
        """The ``n`` keys with the most hits in the window, with their distinct-item estimates."""
        rows = self.top_keys.top(n, now)
        if not rows:
            return []
        distinct = self.distinct.estimate_many(np.array([key for key, _, _ in rows], dtype=np.uint64), now)
        return [
            TopPattern(key, hits, error, float(spread))
            for (key, hits, error), spread in zip(rows, distinct.tolist(), strict=True)
        ]
