"""The heavy-hitter kernels against their plain-Python twin: same state bit for bit, same outputs."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from patternlimit._kernels import topk as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit._kernels.reference import topk as reference
from patternlimit._kernels.window import EMPTY

TABLE_SEED = derive_row_seeds(20240601, 1)[0]


def new_state(buckets: int, capacity: int) -> list[np.ndarray]:
    """``entries, links, tallies, ring`` for an empty sketch."""
    return [
        np.zeros((buckets, capacity, 3), dtype=np.int64),
        np.zeros((buckets, 4 * capacity), dtype=np.int32),
        np.zeros((buckets, 2), dtype=np.int64),
        np.full(buckets + 1, EMPTY, dtype=np.int64),
    ]


def states_equal(first: list[np.ndarray], second: list[np.ndarray]) -> bool:
    return all(
        mine.dtype == theirs.dtype and np.array_equal(mine, theirs) for mine, theirs in zip(first, second, strict=True)
    )


def collect(
    module: ModuleType, state: list[np.ndarray], bucket_seconds: float, now: float
) -> list[tuple[int, int, int]]:
    buckets, capacity = state[0].shape[:2]
    keys = np.zeros(buckets * capacity, dtype=np.uint64)
    counts = np.zeros(buckets * capacity, dtype=np.int64)
    errors = np.zeros(buckets * capacity, dtype=np.int64)
    found = int(module.topk_collect(*state, TABLE_SEED, bucket_seconds, now, keys, counts, errors))
    return list(zip(keys[:found].tolist(), counts[:found].tolist(), errors[:found].tolist(), strict=True))


@dataclass(frozen=True)
class Stream:
    buckets: int
    capacity: int
    bucket_seconds: float
    keys: np.ndarray
    times: np.ndarray
    increments: np.ndarray
    queries: frozenset[int]  # collect after these items


@st.composite
def streams(draw: st.DrawFn) -> Stream:
    """Small summaries under pressure: a key pool larger than the capacity, skewed or uniform draws from it,
    weighted increments, and time that creeps forward, steps back and jumps far ahead."""
    capacity = draw(st.sampled_from([1, 2, 4, 8, 16]))
    buckets = draw(st.integers(1, 5))
    bucket_seconds = draw(st.sampled_from([1.0, 2.5, 60.0]))
    pool = draw(st.lists(st.integers(0, (1 << 63) - 1), min_size=1, max_size=3 * capacity + 3, unique=True))
    skewed = draw(st.booleans())
    length = draw(st.integers(0, 120))
    keys, times, increments, queries = [], [], [], set()
    now = draw(st.floats(0.0, 1e4))
    for item in range(length):
        draw_index = draw(st.integers(0, len(pool) ** 2 - 1))
        # isqrt of a uniform draw favours high values, so pool[-1 - isqrt] favours the first keys of the pool.
        index = len(pool) - 1 - int(np.sqrt(draw_index)) if skewed else draw_index % len(pool)
        keys.append(pool[max(index, 0)])
        step = draw(st.sampled_from(["stay", "forward", "forward", "back", "jump"]))
        if step == "forward":
            now += draw(st.floats(0.0, 2.0 * bucket_seconds))
        elif step == "back":
            now = max(0.0, now - draw(st.floats(0.0, 3.0 * bucket_seconds * buckets)))
        elif step == "jump":
            now += 1e6
        times.append(now)
        increments.append(draw(st.one_of(st.integers(0, 4), st.integers(0, (1 << 32) - 1))))
        if draw(st.integers(0, 9)) == 0:
            queries.add(item)
    return Stream(
        buckets,
        capacity,
        bucket_seconds,
        np.array(keys, dtype=np.uint64),
        np.array(times, dtype=np.float64),
        np.array(increments, dtype=np.int64),
        frozenset(queries),
    )


def check_against_reference(stream: Stream) -> None:
    """Feed one stream to the kernels and the twin item by item; every return, output and array must agree."""
    compiled = new_state(stream.buckets, stream.capacity)
    plain = new_state(stream.buckets, stream.capacity)
    for item in range(stream.keys.shape[0]):
        key, now, increment = int(stream.keys[item]), float(stream.times[item]), int(stream.increments[item])
        returned = kernels.topk_add(*compiled, TABLE_SEED, stream.bucket_seconds, key, now, increment)
        expected = reference.topk_add(*plain, TABLE_SEED, stream.bucket_seconds, key, now, increment)
        assert returned == expected
        if item in stream.queries:
            later = now + stream.bucket_seconds * (item % 3)
            assert collect(kernels, compiled, stream.bucket_seconds, later) == collect(
                reference, plain, stream.bucket_seconds, later
            )
            assert states_equal(compiled, plain)
    assert states_equal(compiled, plain)
    last = float(stream.times[-1]) if stream.times.size else 0.0
    assert collect(kernels, compiled, stream.bucket_seconds, last) == collect(
        reference, plain, stream.bucket_seconds, last
    )
    assert kernels.topk_total(compiled[2], compiled[3], stream.bucket_seconds, last) == reference.topk_total(
        plain[2], plain[3], stream.bucket_seconds, last
    )
    assert kernels.topk_check(*compiled[:3], TABLE_SEED) == -1
    assert reference.topk_check(*plain[:3], TABLE_SEED) == -1


@settings(max_examples=150, deadline=None)
@given(streams())
def test_kernels_match_reference(stream: Stream) -> None:
    check_against_reference(stream)


@settings(max_examples=100, deadline=None)
@given(streams())
def test_add_many_equals_single_adds(stream: Stream) -> None:
    single = new_state(stream.buckets, stream.capacity)
    batched = new_state(stream.buckets, stream.capacity)
    for item in range(stream.keys.shape[0]):
        kernels.topk_add(
            *single,
            TABLE_SEED,
            stream.bucket_seconds,
            int(stream.keys[item]),
            float(stream.times[item]),
            int(stream.increments[item]),
        )
    kernels.topk_add_many(*batched, TABLE_SEED, stream.bucket_seconds, stream.keys, stream.times, stream.increments)
    assert states_equal(single, batched)
    twin = new_state(stream.buckets, stream.capacity)
    reference.topk_add_many(*twin, TABLE_SEED, stream.bucket_seconds, stream.keys, stream.times, stream.increments)
    assert states_equal(batched, twin)


@settings(max_examples=100, deadline=None)
@given(streams())
def test_summary_invariants(stream: Stream) -> None:
    """SpaceSaving's bookkeeping, read straight off the arrays: counts sum to the bucket total, slots fill in order
    and are never more than the capacity, and the table holds exactly the used slots."""
    state = new_state(stream.buckets, stream.capacity)
    kernels.topk_add_many(*state, TABLE_SEED, stream.bucket_seconds, stream.keys, stream.times, stream.increments)
    entries, links, tallies, _ = state
    capacity = stream.capacity
    for bucket in range(stream.buckets):
        used = int(tallies[bucket, 0])
        assert 0 <= used <= capacity
        assert int(entries[bucket, :used, 1].sum()) == int(tallies[bucket, 1])
        assert sorted(links[bucket, :used].tolist()) == list(range(used))
        table = links[bucket, 2 * capacity :]
        assert sorted(table[table > 0].tolist()) == list(range(1, used + 1))
        assert len(set(entries[bucket, :used, 0].tolist())) == used
        if used:
            root = int(links[bucket, 0])
            assert int(entries[bucket, root, 1]) == int(entries[bucket, :used, 1].min())


def test_eviction_takes_over_the_smallest_counter() -> None:
    """Capacity 2: ``a`` x5, ``b`` x2, then ``c`` x3 evicts ``b`` and inherits its 2 as error."""
    state = new_state(1, 2)
    for key, increment in ((11, 5), (22, 2), (33, 3)):
        kernels.topk_add(*state, TABLE_SEED, 10.0, key, 1.0, increment)
    assert sorted(collect(kernels, state, 10.0, 1.0)) == [(11, 5, 0), (33, 5, 2)]
    assert kernels.topk_total(state[2], state[3], 10.0, 1.0) == 10


def test_collect_substitutes_the_floor_of_full_buckets() -> None:
    """A key missing from a full bucket is charged that bucket's minimum as both count and error; a bucket with free
    slots charges nothing."""
    state = new_state(2, 2)
    for key, increment, now in ((11, 5, 1.0), (22, 3, 1.0), (11, 1, 11.0)):
        kernels.topk_add(*state, TABLE_SEED, 10.0, key, now, increment)
    assert sorted(collect(kernels, state, 10.0, 11.0)) == [(11, 6, 0), (22, 3, 0)]
    kernels.topk_add(*state, TABLE_SEED, 10.0, 44, 11.0, 4)
    assert sorted(collect(kernels, state, 10.0, 11.0)) == [(11, 6, 0), (22, 3 + 1, 1), (44, 3 + 4, 3)]


def test_zero_increment_of_unmonitored_key_evicts_nothing() -> None:
    state = new_state(1, 1)
    kernels.topk_add(*state, TABLE_SEED, 10.0, 11, 1.0, 3)
    assert kernels.topk_add(*state, TABLE_SEED, 10.0, 22, 1.0, 0) == 0
    assert collect(kernels, state, 10.0, 1.0) == [(11, 3, 0)]


def test_expired_buckets_are_skipped_and_reset_when_reused() -> None:
    state = new_state(2, 4)
    kernels.topk_add(*state, TABLE_SEED, 10.0, 11, 1.0, 3)
    assert collect(kernels, state, 10.0, 25.0) == []
    assert kernels.topk_total(state[2], state[3], 10.0, 25.0) == 0
    kernels.topk_add(*state, TABLE_SEED, 10.0, 22, 25.0, 1)
    assert collect(kernels, state, 10.0, 25.0) == [(22, 1, 0)]
    assert int(state[2][0, 0]) == 1  # the slot that held key 11 was cleared before reuse


DAMAGES = [
    "used above capacity",
    "heap slot out of range",
    "heap order",
    "positions disagree",
    "count sum",
    "error above floor",
    "negative key",
    "table cell beyond used",
    "table cell emptied",
    "duplicate key",
]


def damage(entries: np.ndarray, links: np.ndarray, tallies: np.ndarray, name: str) -> None:
    """Break one invariant of bucket 1 (full, as built by the test below)."""
    capacity = entries.shape[1]
    root = int(links[1, 0])
    cell = 2 * capacity + int(np.flatnonzero(links[1, 2 * capacity :])[0])
    match name:
        case "used above capacity":
            tallies[1, 0] = capacity + 1
        case "heap slot out of range":
            links[1, 0] = 99
        case "heap order":
            entries[1, root, 1] += 10**6
            tallies[1, 1] += 10**6
        case "positions disagree":
            links[1, capacity + root] = 1
        case "count sum":
            tallies[1, 1] += 1
        case "error above floor":
            entries[1, int(links[1, 3]), 2] = int(entries[1, root, 1]) + 1
        case "negative key":
            entries[1, 0, 0] = -5
        case "table cell beyond used":
            links[1, cell] = capacity + 1
        case "table cell emptied":
            links[1, cell] = 0
        case "duplicate key":
            entries[1, 1, 0] = entries[1, 0, 0]


@pytest.mark.parametrize("name", DAMAGES)
def test_check_reports_damaged_buckets(name: str) -> None:
    state = new_state(2, 4)
    keys = np.arange(1, 13, dtype=np.uint64)
    times = np.array([1.0] * 6 + [11.0] * 6)
    kernels.topk_add_many(*state, TABLE_SEED, 10.0, keys, times, np.arange(1, 13, dtype=np.int64))
    assert kernels.topk_check(*state[:3], TABLE_SEED) == -1
    assert reference.topk_check(*state[:3], TABLE_SEED) == -1
    damage(*state[:3], name)
    assert kernels.topk_check(*state[:3], TABLE_SEED) == 1
    assert reference.topk_check(*state[:3], TABLE_SEED) == 1


class _ForgetfulSummary(reference._Summary):
    """Broken twin: a key that takes over an evicted counter forgets the error it inherits."""

    def add(self, key: int, increment: int) -> int:
        full = int(self.tallies[0]) == self.capacity
        _, slot = self.find(key)
        result = super().add(key, increment)
        if full and slot < 0 and increment:
            self.entries[self.find(key)[1], reference.ERROR] = 0
        return result


class _CountBlindSummary(reference._Summary):
    """Broken twin: the heap orders slots by number only, ignoring the counts that increments raise."""

    def before(self, first: int, second: int) -> bool:
        return first < second


@settings(max_examples=300, deadline=None, phases=[Phase.generate])
@given(streams())
def _compare_generated_streams(stream: Stream) -> None:
    check_against_reference(stream)


@pytest.mark.parametrize("broken", [_ForgetfulSummary, _CountBlindSummary])
def test_comparison_catches_a_broken_twin(monkeypatch: pytest.MonkeyPatch, broken: type) -> None:
    monkeypatch.setattr(reference, "_Summary", broken)
    with pytest.raises(AssertionError):
        _compare_generated_streams()
