"""CountMinSketch: the published error bound, the window, merging, bytes and validation."""

from __future__ import annotations

import math
from collections import Counter
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import countmin as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit._kernels.reference import countmin as reference
from patternlimit._kernels.window import EMPTY
from patternlimit.errors import ConfigurationError, SketchMismatchError
from patternlimit.sketches.countmin import CountMinSketch
from tests.strategies import timed_stream


def bound_violations(
    implementation: ModuleType, *, width: int, depth: int, trials: int, items: int
) -> tuple[int, float]:
    """Run ``trials`` Zipf streams through ``implementation`` (the kernels or a twin).

    Returns the number of underestimates and the rate of (key, trial) pairs whose estimate exceeds the truth by
    more than ``epsilon * N``.
    """
    underestimates, exceeded, checked = 0, 0, 0
    epsilon = math.e / width
    for trial in range(trials):
        rng = np.random.default_rng(trial)
        keys = (rng.zipf(1.3, items) % 5000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C1) % np.uint64(1 << 63)
        counters = np.zeros((depth, width, 1), np.uint32)
        ring = np.full(2, EMPTY, np.int64)
        seeds = derive_row_seeds(trial * 7919 + 1, depth)
        out = np.zeros(items, np.int64)
        times, increments = np.zeros(items), np.ones(items, np.int64)
        implementation.cms_add_many(counters, ring, seeds, 3600.0, keys, times, increments, out)
        truth = Counter(keys.tolist())
        distinct = np.array(list(truth), np.uint64)
        estimates = np.zeros(len(distinct), np.int64)
        implementation.cms_estimate_many(counters, ring, seeds, 3600.0, distinct, 0.0, estimates)
        for key, estimate in zip(distinct.tolist(), estimates.tolist(), strict=True):
            underestimates += int(estimate < truth[key])
            exceeded += int(estimate - truth[key] > epsilon * items)
            checked += 1
    return underestimates, exceeded / checked


@pytest.mark.parametrize(("width", "depth"), [(64, 2), (256, 3)])
def test_never_underestimates_and_overestimates_within_epsilon_n_at_most_delta_often(width, depth):
    underestimates, rate = bound_violations(kernels, width=width, depth=depth, trials=40, items=20_000)
    assert underestimates == 0
    assert rate <= math.exp(-depth)


_reference_add = reference.cms_add


def _first_row_only_add(counters, ring, row_seeds, bucket_seconds, key, now, increment):
    """Broken: conservative update that raises only the first row, so the others fall behind."""
    return _reference_add(counters[:1], ring, row_seeds[:1], bucket_seconds, key, now, increment)


def test_the_bound_check_fails_for_broken_kernels(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(reference, "cms_add", _first_row_only_add)
        underestimates, _ = bound_violations(reference, width=64, depth=2, trials=2, items=3000)
    assert underestimates > 0
    with monkeypatch.context() as patch:  # every key in one of two cells: the index ignores most of the key
        patch.setattr(reference, "_cms_index", lambda key, seed, width: key % 2)
        _, rate = bound_violations(reference, width=64, depth=2, trials=2, items=3000)
    assert rate > math.exp(-2)


def test_counts_leave_the_window_as_buckets_expire():
    sketch = CountMinSketch(width=1024, depth=3, window=60.0, buckets=6, seed=1)  # 10 s buckets
    for second in range(60):
        sketch.add(42, 1000.0 + second)
    assert sketch.estimate(42, 1059.0) == 60
    # At t=1065 the window holds buckets 1010..1069: the ten hits of bucket 1000..1009 expired.
    assert sketch.estimate(42, 1065.0) == 50
    assert sketch.estimate(42, 1125.0) == 0
    # A jump far ahead expires everything; the next hit starts from zero.
    assert sketch.add(42, 1e9) == 1


def test_late_events_count_in_their_bucket_or_the_oldest_live_one():
    sketch = CountMinSketch(width=1024, depth=3, window=40.0, buckets=4, seed=1)  # 10 s buckets
    sketch.add(7, 1000.0)
    assert sketch.add(7, 995.0) == 2  # 5 s late: its own bucket 990 is live
    assert sketch.add(7, 10.0) == 3  # far too late: counted in the oldest live bucket (970)
    assert sketch.estimate(7, 1009.0) == 3
    assert sketch.estimate(7, 1010.0) == 2  # bucket 970 expires, taking the late event with it
    assert sketch.estimate(7, 1030.0) == 1  # bucket 990 expires
    assert sketch.estimate(7, 1000.0) == 1  # the clock never moves back


def test_from_error_sizes_width_and_depth():
    sketch = CountMinSketch.from_error(0.001, 0.01, seed=3)
    assert sketch.width == 4096 and sketch.width >= math.e / 0.001
    assert sketch.depth == 5
    assert sketch.epsilon <= 0.001 and sketch.delta <= 0.01


def test_memory_is_fixed_and_reported():
    sketch = CountMinSketch(width=1 << 12, depth=4, window=3600.0, buckets=6, seed=5)
    expected = 4 * 4 * (1 << 12) * 6 + 8 * 7 + 8 * 4
    assert sketch.nbytes == expected
    rng = np.random.default_rng(0)
    sketch.add_many(rng.integers(0, 1 << 63, 200_000, dtype=np.uint64), np.linspace(0, 3600, 200_000))
    assert sketch.nbytes == expected


@settings(max_examples=40, deadline=None)
@given(stream=timed_stream(), split=st.integers(0, 120))
def test_merge_of_two_halves_never_underestimates_the_whole(stream, split):
    keys, times = stream
    order = np.argsort(times, kind="stable")
    keys, times = keys[order], times[order]
    left, right = (CountMinSketch(width=64, depth=2, window=60.0, buckets=3, seed=9) for _ in range(2))
    left.add_many(keys[:split], times[:split])
    right.add_many(keys[split:], times[split:])
    left.merge(right)
    now = float(times[-1])
    merged = left.estimate_many(keys, now)
    truth = Counter(k for k, t in zip(keys.tolist(), times.tolist(), strict=True) if t // 20 > now // 20 - 3)
    for key, estimate in zip(keys.tolist(), merged.tolist(), strict=True):
        assert estimate >= truth[key]


def test_merge_rejects_a_different_shape_or_seed():
    sketch = CountMinSketch(width=64, depth=2, seed=1)
    with pytest.raises(SketchMismatchError, match="seed"):
        sketch.merge(CountMinSketch(width=64, depth=2, seed=2))
    with pytest.raises(SketchMismatchError, match="depth"):
        sketch.merge(CountMinSketch(width=64, depth=3, seed=1))


def test_bytes_round_trip_and_garbage_is_rejected():
    sketch = CountMinSketch(width=256, depth=3, window=60.0, buckets=3, seed=77)
    sketch.add_many(np.arange(500, dtype=np.uint64), np.linspace(0, 100, 500))
    data = sketch.to_bytes()
    restored = CountMinSketch.from_bytes(data)
    np.testing.assert_array_equal(
        restored.estimate_many(np.arange(500), 100.0), sketch.estimate_many(np.arange(500), 100.0)
    )
    assert restored.to_bytes() == sketch.to_bytes()
    with pytest.raises(SketchMismatchError):
        CountMinSketch.from_bytes(data[:-1])
    with pytest.raises(SketchMismatchError):
        CountMinSketch.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(SketchMismatchError):
        CountMinSketch.from_bytes(b"")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"width": 1000}, "width"),
        ({"width": 0}, "width"),
        ({"depth": 0}, "depth"),
        ({"window": -1.0}, "window"),
        ({"window": float("nan")}, "window"),
        ({"buckets": 0}, "buckets"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_parameters_name_the_field(kwargs, field):
    with pytest.raises(ConfigurationError, match=field):
        CountMinSketch(**{"seed": 1, **kwargs})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.add(-1, 0.0), "key"),
        (lambda s: s.add(1 << 63, 0.0), "key"),
        (lambda s: s.add(1, float("nan")), "now"),
        (lambda s: s.add(1, -5.0), "now"),
        (lambda s: s.add(1, 0.0, -1), "increment"),
        (lambda s: s.add_many([1, -2], [0.0, 0.0]), "non-negative"),
        (lambda s: s.add_many([1, 2], [0.0, float("inf")]), "times"),
        (lambda s: s.add_many([1.5], [0.0]), "integers"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(CountMinSketch(width=64, depth=2, seed=1))


def test_different_seeds_use_different_cells():
    one, two = CountMinSketch(width=1 << 16, depth=1, seed=1), CountMinSketch(width=1 << 16, depth=1, seed=2)
    one.add(12345, 0.0)
    two.add(12345, 0.0)
    assert not np.array_equal(np.nonzero(one._counters)[1], np.nonzero(two._counters)[1])


def test_update_many_leaves_the_same_state_as_add_many():
    rng = np.random.default_rng(4)
    keys, times = rng.integers(0, 1 << 63, 3000, dtype=np.uint64), np.sort(rng.uniform(0, 500, 3000))
    with_estimates, without = (CountMinSketch(width=128, depth=3, window=100.0, buckets=4, seed=3) for _ in range(2))
    with_estimates.add_many(keys, times, 2)
    without.update_many(keys, times, 2)
    assert with_estimates.to_bytes() == without.to_bytes()
