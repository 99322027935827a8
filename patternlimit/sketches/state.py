"""The limiter's sketch state: its five sketches as one packed state that the observe kernels update together.

:class:`SketchState` owns a :class:`CountMinSketch` of hits, two :class:`SpreadSketch` (distinct accounts and
distinct young accounts), a :class:`SeenFilter` of texts and a :class:`HeavyHitters`, in the kernel order of
:mod:`patternlimit._kernels.layout`, packed once into the table of addresses the kernels take
(:mod:`patternlimit._kernels.packed`). It observes one request (:meth:`observe_one`, through the kernel's compiled
entry), a batch (:meth:`observe_many`) or another process's records (:meth:`replay`); answers the estimates a
decision reads after the kernel skipped them (:meth:`fill_estimates`) and the heaviest keys (:meth:`top`); and
writes and loads its arrays for snapshots (:meth:`arrays_header`, :meth:`to_bytes`, :meth:`load`).

Memory is fixed at construction (:attr:`nbytes`); arrays are updated and restored in place, never rebound,
because the packed table holds their addresses. Not thread-safe: the limiter serialises every call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from patternlimit._kernels.batch import observe_batch
from patternlimit._kernels.entry import direct
from patternlimit._kernels.layout import (
    ACCOUNTS,
    COHORT,
    COLUMNS,
    CONCENTRATION,
    COPIES,
    HITS,
    MAX_KEYS,
    NEVER,
    NOVEL,
    OBSERVATION_COLUMNS,
    YOUNG,
    cohort_key,
    novel_key,
    squares_key,
    young_requests_key,
)
from patternlimit._kernels.packed import observe_one_packed, pack_state
from patternlimit.sketches.countmin import CountMinSketch
from patternlimit.sketches.seen import SeenFilter
from patternlimit.sketches.spread import SpreadSketch
from patternlimit.sketches.topk import HeavyHitters

_NO_CONDITIONS = np.zeros((0, 3), dtype=np.float64)
_NO_STARTS = np.zeros(1, dtype=np.int64)


class SketchState:
    """See the module docstring. ``seed(purpose)`` gives each sketch its keyed seed."""

    def __init__(
        self,
        *,
        count_width: int,
        count_depth: int,
        spread_width: int,
        spread_depth: int,
        precision: int,
        seen_bits: int,
        top_capacity: int,
        window: float,
        buckets: int,
        seed: Callable[[str], int],
    ) -> None:
        self.hits = CountMinSketch(
            width=count_width, depth=count_depth, window=window, buckets=buckets, seed=seed("sketch:hits")
        )
        spread = {"width": spread_width, "depth": spread_depth, "precision": precision}
        self.accounts = SpreadSketch(**spread, window=window, buckets=buckets, seed=seed("sketch:accounts"))
        self.young = SpreadSketch(**spread, window=window, buckets=buckets, seed=seed("sketch:young"))
        self.seen = SeenFilter(bits=seen_bits, window=window, buckets=buckets, seed=seed("sketch:seen"))
        self.top_keys = HeavyHitters(capacity=top_capacity, window=window, buckets=buckets, seed=seed("sketch:top"))
        self.arguments = arguments = (
            *self.hits.kernel_args,
            *self.accounts.kernel_args,
            *self.young.kernel_args,
            *self.seen.kernel_args,
            *self.top_keys.kernel_args,
        )
        """The 24 state arguments of the observe kernel, in its order (:mod:`patternlimit._kernels.layout`)."""
        self.packed = pack_state(arguments)
        self.arrays: list[np.ndarray] = [part for part in arguments if isinstance(part, np.ndarray)]
        self.keys = np.zeros(MAX_KEYS, dtype=np.uint64)
        """The single-request path's key buffer (:meth:`observe_one` reads its first ``count`` keys)."""
        self.out = np.zeros((MAX_KEYS, COLUMNS), dtype=np.float64)
        """The single-request path's output rows."""

    @property
    def nbytes(self) -> int:
        """Bytes of sketch state, fixed at construction."""
        sketches = (self.hits, self.accounts, self.young, self.seen, self.top_keys)
        return sum(sketch.nbytes for sketch in sketches)

    def single_entry(self, gate: int, conditions: np.ndarray, starts: np.ndarray, masks: np.ndarray) -> Any:
        """The compiled entry of :func:`observe_one_packed` for exactly these argument types (no per-call type
        dispatch: :mod:`patternlimit._kernels.entry`). Call it as ``entry(*self.packed, self.keys, count,
        account, content, network, young, now, cost, gate, copy_count, self.out, conditions, starts, masks)``,
        with values of the types given here."""
        return direct(
            observe_one_packed,
            *self.packed,
            self.keys,
            0,
            0,
            0,
            0,
            False,
            0.0,
            1,
            gate,
            0,
            self.out,
            conditions,
            starts,
            masks,
        )

    def observe_many(
        self,
        keys: np.ndarray,
        offsets: np.ndarray,
        columns: dict[str, np.ndarray],
        observe_gates: np.ndarray,
        gate: int,
        conditions: np.ndarray,
        starts: np.ndarray,
        out: np.ndarray,
        masks: np.ndarray,
    ) -> None:
        """Observe a batch (:func:`patternlimit._kernels.batch.observe_batch`); ``columns`` holds the
        observation columns of ``OBSERVATION_COLUMNS`` by name, with those dtypes."""
        observe_batch(  # type: ignore[call-arg]  # the stubs cannot count star-arguments' items
            *self.packed,
            keys,
            offsets,
            *(columns[name] for name, _ in OBSERVATION_COLUMNS),  # type: ignore[arg-type]
            observe_gates,
            gate,
            conditions,
            starts,
            out,
            masks,
        )

    def replay(self, keys: np.ndarray, observations: np.ndarray) -> np.ndarray:
        """Update the sketches with recorded observations (a structured array with the ``OBSERVATION_COLUMNS``
        fields and ``count``, keys back to back); estimates nothing. Returns the offsets of each one's keys."""
        records = observations.shape[0]
        offsets = np.zeros(records + 1, dtype=np.int64)
        if not records:
            return offsets
        np.cumsum(observations["count"], out=offsets[1:])
        # Writeable copies where the decoded batch is a read-only view: numba compiles a read-only array as another
        # type, and a second specialisation of the batch kernel would compile (tens of seconds) on a process's
        # first applied record, inside a request.
        columns: dict[str, np.ndarray] = {
            name: np.require(observations[name], dtype=dtype, requirements=["C", "W"])
            for name, dtype in OBSERVATION_COLUMNS
        }
        self.observe_many(
            np.require(keys, dtype=np.uint64, requirements=["C", "W"]),
            offsets,
            columns,
            np.full(records, NEVER, dtype=np.int64),
            0,
            _NO_CONDITIONS,
            _NO_STARTS,
            np.empty((int(offsets[-1]), COLUMNS), dtype=np.float64),
            np.empty((records, 0), dtype=np.uint64),
        )
        return offsets

    def fill_estimates(self, key: int, row: list[float], now: float, network: int) -> list[float]:
        """``row`` with the estimates the kernel skipped under its gate (NaN) computed now; the same row if none
        was skipped. The copy-kind measures are filled only where the kernel counted them."""
        if not math.isnan(row[ACCOUNTS]):
            return row
        row = list(row)
        # Bounded as the kernel bounds them (senders <= requests, young <= senders, cohort <= young).
        row[ACCOUNTS] = min(self.accounts.estimate(key, now), float(row[HITS]))
        row[YOUNG] = min(self.young.estimate(key, now), row[ACCOUNTS])
        if not math.isnan(row[COPIES]):
            row[NOVEL] = float(self.hits.estimate(int(novel_key(np.uint64(key))), now))
            row[COHORT] = min(self.young.estimate(int(cohort_key(np.uint64(key), np.uint64(network))), now), row[YOUNG])
            requests = self.hits.estimate(int(young_requests_key(np.uint64(key))), now)
            squares = self.hits.estimate(int(squares_key(np.uint64(key))), now)
            row[CONCENTRATION] = min(1.0, squares / (float(requests) * float(requests))) if requests > 0 else 0.0
        return row

    def top(self, n: int, now: float) -> list[tuple[int, int, int, float, float]]:
        """The ``n`` heaviest keys in the window: ``(key, hits, error, accounts, young_accounts)``."""
        rows = self.top_keys.top(n, now)
        if not rows:
            return []
        keys = np.array([key for key, _, _ in rows], dtype=np.uint64)
        accounts = self.accounts.estimate_many(keys, now).tolist()
        young = self.young.estimate_many(keys, now).tolist()
        return [
            (key, hits, error, min(spread, float(hits)), min(young_spread, spread, float(hits)))
            for (key, hits, error), spread, young_spread in zip(rows, accounts, young, strict=True)
        ]

    def arrays_header(self) -> list[list[Any]]:
        """Each array's dtype and shape: what a snapshot must match to be loaded here."""
        return [[part.dtype.str, list(part.shape)] for part in self.arrays]

    @property
    def arrays_nbytes(self) -> int:
        return sum(part.nbytes for part in self.arrays)

    def to_bytes(self) -> bytes:
        out = bytearray(self.arrays_nbytes)
        self.write_into(memoryview(out))
        return bytes(out)

    def write_into(self, buffer: memoryview) -> None:
        """Copy every array into ``buffer`` (``arrays_nbytes`` long), back to back: one copy of the state, the
        least a snapshot taken under the limiter's lock can cost (``tobytes`` and a join would be two)."""
        offset = 0
        for part in self.arrays:
            size = part.nbytes
            np.frombuffer(buffer, dtype=np.uint8, count=size, offset=offset)[...] = part.reshape(-1).view(np.uint8)
            offset += size

    def load(self, blob: bytes, offset: int) -> None:
        """Overwrite every array in place from ``blob`` at ``offset`` (as :meth:`to_bytes` wrote them); the caller
        has checked the header and the length."""
        for part in self.arrays:
            part[...] = np.frombuffer(blob, dtype=part.dtype, count=part.size, offset=offset).reshape(part.shape)
            offset += part.nbytes
