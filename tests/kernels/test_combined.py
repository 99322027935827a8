"""The combined kernels equal their twin and the three per-sketch kernels they compose, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import combined as kernels
from patternlimit._kernels.reference import combined as reference
from patternlimit.sketches import CountMinSketch, HeavyHitters, PatternCounter, SpreadSketch
from tests.strategies import timed_stream


def small_counter(seed: int, buckets: tuple[int, int, int]) -> PatternCounter:
    """Tiny sketches with different windows and bucket counts, so collisions, evictions and expiry all happen."""
    return PatternCounter(
        CountMinSketch(width=16, depth=2, window=30.0, buckets=buckets[0], seed=seed),
        SpreadSketch(width=8, depth=2, precision=4, window=20.0, buckets=buckets[1], seed=seed + 1),
        HeavyHitters(capacity=4, window=40.0, buckets=buckets[2], seed=seed + 2),
    )


def state_arrays(counter: PatternCounter) -> list[np.ndarray]:
    """Every state array except the spread memo (a cache the twin does not keep)."""
    return [value for index, value in enumerate(counter._state) if isinstance(value, np.ndarray) and index != 7]


@settings(max_examples=80, deadline=None)
@given(
    stream=timed_stream(),
    seed=st.integers(0, (1 << 62)),
    buckets=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    data=st.data(),
)
def test_observe_many_matches_reference(stream, seed, buckets, data):
    keys, times = stream
    count = len(keys)
    items = np.array(data.draw(st.lists(st.integers(0, 50), min_size=count, max_size=count)), np.uint64)
    increments = np.array(data.draw(st.lists(st.integers(0, 5), min_size=count, max_size=count)), np.int64)
    jit, twin = small_counter(seed, buckets), small_counter(seed, buckets)
    jit_out = (np.zeros(count, np.int64), np.zeros(count))
    twin_out = (np.zeros(count, np.int64), np.zeros(count))

    kernels.pattern_observe_many(*jit._state, keys, items, times, increments, *jit_out)
    reference.pattern_observe_many(*twin._state, keys, items, times, increments, *twin_out)

    np.testing.assert_array_equal(jit_out[0], twin_out[0])
    assert jit_out[1].tolist() == twin_out[1].tolist()
    for mine, theirs in zip(state_arrays(jit), state_arrays(twin), strict=True):
        np.testing.assert_array_equal(mine, theirs)


@settings(max_examples=40, deadline=None)
@given(stream=timed_stream(max_size=50), buckets=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)))
def test_one_call_equals_the_three_sketches_updated_separately(stream, buckets):
    keys, times = stream
    combined, separate = small_counter(3, buckets), small_counter(3, buckets)
    for position, (key, now) in enumerate(zip(keys.tolist(), times.tolist(), strict=True)):
        item = position % 7
        hits, distinct = combined.observe(key, item, now)
        assert hits == separate.hits.add(key, now)
        assert distinct == separate.distinct.add(key, item, now)
        separate.top_keys.add(key, now)
    assert combined.hits.to_bytes() == separate.hits.to_bytes()
    assert combined.distinct.to_bytes() == separate.distinct.to_bytes()
    assert combined.top_keys.to_bytes() == separate.top_keys.to_bytes()


def test_the_comparison_fails_when_the_twin_skips_a_sketch(monkeypatch):
    keys = np.arange(1, 200, dtype=np.uint64) % np.uint64(13)
    times, items, increments = np.linspace(0, 100, len(keys)), keys * np.uint64(3), np.ones(len(keys), np.int64)
    jit, twin = small_counter(5, (2, 2, 2)), small_counter(5, (2, 2, 2))
    outputs = [(np.zeros(len(keys), np.int64), np.zeros(len(keys))) for _ in range(2)]
    monkeypatch.setattr(reference, "topk_add", lambda *arguments: 0)  # broken: heavy hitters never updated
    kernels.pattern_observe_many(*jit._state, keys, items, times, increments, *outputs[0])
    reference.pattern_observe_many(*twin._state, keys, items, times, increments, *outputs[1])
    assert any(
        not np.array_equal(mine, theirs) for mine, theirs in zip(state_arrays(jit), state_arrays(twin), strict=True)
    )
