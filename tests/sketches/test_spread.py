"""SpreadSketch: the published HLL error bound, collisions, the window, merging, bytes and validation."""

from __future__ import annotations

import math
import struct
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import spread as kernels
from patternlimit._kernels.hashing import mix64_py
from patternlimit._kernels.reference import spread as reference
from patternlimit.errors import ConfigurationError, SketchMismatchError
from patternlimit.sketches._common import pack
from patternlimit.sketches.spread import SpreadSketch
from tests.strategies import timed_stream

KEY = 42


def relative_errors(implementation: ModuleType, *, count: int, trials: int, precision: int = 6, depth: int = 3):
    """Final estimates of ``count`` distinct items sent with one key, run through ``implementation`` (the kernels
    or a twin) on a sketch of its own per trial; returns the relative errors ``(estimate - count) / count``."""
    errors = []
    for trial in range(trials):
        sketch = SpreadSketch(width=16, depth=depth, precision=precision, window=3600.0, buckets=4, seed=trial)
        items = np.random.default_rng(trial).choice(1 << 62, count, replace=False).astype(np.uint64)
        keys, times, out = np.full(count, KEY, np.uint64), np.linspace(0.0, 3000.0, count), np.zeros(count)
        implementation.spread_add_many(
            sketch._registers,
            sketch._ring,
            sketch._seeds,
            sketch._memo,
            sketch._bucket_seconds,
            keys,
            items,
            times,
            out,
        )
        errors.append((sketch.estimate(KEY, 3000.0) - count) / count)
    return np.array(errors)


def assert_within_hll_bound(errors: np.ndarray, standard_error: float) -> None:
    """The published bound, checked as a statistician would over ``len(errors)`` independent seeds.

    * 3-sigma exceedances: each has probability about 0.27%, so over 30 trials two or more happen with
      probability about 0.3%; we allow one.
    * Bias: the mean relative error is within 3 standard errors of the mean (``3 * se / sqrt(trials)``).
    * Spread: the root-mean-square error is at most 1.5 times the standard error (the sample RMS of 30 normal
      draws exceeds 1.5 sigma with probability far below 0.1%).
    """
    trials = len(errors)
    assert np.count_nonzero(np.abs(errors) > 3 * standard_error) <= 1, errors
    assert abs(errors.mean()) <= 3 * standard_error / math.sqrt(trials), errors.mean()
    assert math.sqrt(float(np.mean(errors**2))) <= 1.5 * standard_error, errors


@pytest.mark.parametrize(
    ("count", "precision"),
    [(10, 6), (1_000, 6), (1_000, 4), (1_000, 10), pytest.param(100_000, 6, marks=pytest.mark.slow)],
)
def test_isolated_key_is_within_the_published_hll_error(count, precision):
    errors = relative_errors(kernels, count=count, trials=30, precision=precision)
    assert_within_hll_bound(errors, SpreadSketch(precision=precision, seed=0).standard_error)


def test_the_accuracy_check_fails_for_a_broken_rank(monkeypatch):
    item_register = reference._item_register

    def rank_off_by_one(item: int, seed: int, precision: int) -> tuple[int, int]:
        index, rank = item_register(item, seed, precision)
        return index, min(rank + 1, 64 - precision + 1)

    # The faithful twin passes the same check on the same (small) run, so the failure below is the rank's doing.
    assert_within_hll_bound(relative_errors(reference, count=300, trials=5, depth=1), 1.04 / 8)
    with monkeypatch.context() as patch:
        patch.setattr(reference, "_item_register", rank_off_by_one)
        errors = relative_errors(reference, count=300, trials=5, depth=1)
    with pytest.raises(AssertionError):
        assert_within_hll_bound(errors, 1.04 / 8)
    assert errors.mean() > 0.5  # every rank one higher roughly doubles the estimate


def expected_minimum_of_poissons(rate: float, rows: int) -> float:
    """``E[min of rows iid Poisson(rate)] = sum_{k>=1} P(X >= k)**rows``."""
    total, below, term = 0.0, 0.0, math.exp(-rate)  # below = P(X < k), term = P(X = k - 1)
    for k in range(1, 200):
        below += term
        term *= rate / k
        total += (1.0 - below) ** rows
    return total


def test_background_load_only_adds_noise_near_the_predicted_floor():
    width, depth, background_keys, items_per_key, probes, probe_items = 1 << 12, 3, 20_000, 10, 100, 20
    sketch = SpreadSketch(width=width, depth=depth, seed=2024)
    rng = np.random.default_rng(5)
    background = rng.choice(1 << 62, background_keys, replace=False).astype(np.uint64) | np.uint64(1 << 62)
    probe_keys = np.arange(1, probes + 1, dtype=np.uint64)
    keys = np.concatenate([np.repeat(background, items_per_key), np.repeat(probe_keys, probe_items)])
    items = rng.integers(0, 1 << 63, len(keys), dtype=np.uint64)  # 202,000 pairs, distinct items w.h.p.
    order = rng.permutation(len(keys))
    sketch.add_many(keys[order], items[order], np.linspace(0.0, 3000.0, len(keys)))
    estimates = sketch.estimate_many(probe_keys, 3000.0)
    error = sketch.standard_error

    # Exact union sizes of each probe's cell in each row: what the min over rows estimates.
    cells = {}
    for key in keys.tolist():
        for row in range(depth):
            cell = (row, mix64_py(key ^ int(sketch._seeds[row])) & (width - 1))
            cells[cell] = cells.get(cell, 0) + (items_per_key if key >= 1 << 62 else probe_items)
    smallest_union = np.array(
        [
            min(cells[(row, mix64_py(key ^ int(sketch._seeds[row])) & (width - 1))] for row in range(depth))
            for key in probe_keys.tolist()
        ]
    )

    # Never below the truth by more than the 3-sigma HLL error; never above the least-loaded row's union by more.
    assert np.all(estimates >= probe_items * (1 - 3 * error)), estimates.min()
    assert np.count_nonzero(estimates > smallest_union * (1 + 3 * error)) <= 1
    # Stronger, and exact: collisions only raise registers, so each probe's estimate is at least what the same
    # sketch gives for the probe alone.
    for key in probe_keys.tolist():
        alone = SpreadSketch(width=width, depth=depth, seed=2024)
        alone.add_many(np.full(probe_items, key, np.uint64), items[keys == key], 0.0)
        assert sketch.estimate(key, 3000.0) >= alone.estimate(key, 0.0)

    # The noise floor: each row's cell holds Poisson(rate) other keys (rate = keys / width = 4.9), so a small key
    # is overestimated by about items_per_key * E[min of 3 Poisson(4.9)] = 10 * 3.1 = 31 distinct items, roughly
    # the window's distinct pairs over the width (49) thinned by the min over rows.
    rate = (background_keys + probes) / width
    floor = items_per_key * expected_minimum_of_poissons(rate, depth)
    assert 28.0 < floor < 38.0
    overestimate = float(np.mean(estimates - probe_items))
    assert 0.75 * floor <= overestimate <= 1.25 * floor, (overestimate, floor)


def test_items_leave_the_window_as_buckets_expire():
    sketch = SpreadSketch(width=256, window=100.0, buckets=4, seed=1)  # 25 s buckets
    error = 3 * sketch.standard_error
    for bucket in range(4):  # 400 new items per bucket, at t = 1000, 1025, 1050, 1075
        items = np.arange(400, dtype=np.uint64) + np.uint64(400 * bucket)
        sketch.add_many(np.full(400, KEY), items, 1000.0 + 25.0 * bucket)
    for now, expected in [(1099.0, 1600), (1100.0, 1200), (1125.0, 800), (1150.0, 400)]:
        assert abs(sketch.estimate(KEY, now) - expected) <= error * expected, now
    assert sketch.estimate(KEY, 1175.0) == 0.0
    assert sketch.estimate(KEY, 1000.0) == 0.0  # the clock never moves back


def test_repeats_across_buckets_count_once():
    sketch = SpreadSketch(width=256, window=100.0, buckets=4, seed=1)
    for bucket in range(4):  # the same 500 accounts in every bucket: 500 distinct, not 2000
        sketch.add_many(np.full(500, KEY), np.arange(500), 1000.0 + 25.0 * bucket)
    assert abs(sketch.estimate(KEY, 1099.0) - 500) <= 3 * sketch.standard_error * 500


def test_late_events_count_in_their_bucket_or_the_oldest_live_one():
    sketch = SpreadSketch(width=256, window=40.0, buckets=4, seed=1)  # 10 s buckets
    one = SpreadSketch(width=256, window=40.0, buckets=4, seed=1).add(7, 100, 0.0)  # the estimate of item 100 alone
    assert sketch.add(7, 100, 1000.0) == one
    two = sketch.add(7, 101, 995.0)  # 5 s late: its own bucket 990 is live
    assert two > one
    three = sketch.add(7, 102, 10.0)  # far too late: counted in the oldest live bucket (970)
    assert three > two
    assert sketch.estimate(7, 1009.0) == three
    assert sketch.estimate(7, 1010.0) == two  # bucket 970 expires, taking the late event with it
    assert sketch.estimate(7, 1030.0) == one  # bucket 990 expires
    assert sketch.estimate(7, 1000.0) == one  # the clock never moves back
    # A jump far ahead expires everything; the next item starts from zero.
    assert sketch.estimate(7, 1e9) == 0.0
    assert sketch.add(7, 555, 1e9) == SpreadSketch(width=256, window=40.0, buckets=4, seed=1).add(7, 555, 0.0)


def sorted_stream(stream: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    keys, times = stream
    order = np.argsort(times, kind="stable")
    return keys[order], times[order]


def small_sketch() -> SpreadSketch:
    return SpreadSketch(width=16, depth=2, precision=4, window=60.0, buckets=3, seed=9)


@settings(max_examples=60, deadline=None)
@given(stream=timed_stream(), data=st.data())
def test_merge_equals_the_sketch_of_the_union_and_is_commutative(stream, data):
    keys, times = sorted_stream(stream)
    count = len(keys)
    items = np.array(data.draw(st.lists(st.integers(0, (1 << 63) - 1), min_size=count, max_size=count)), np.uint64)
    to_left = np.array(data.draw(st.lists(st.booleans(), min_size=count, max_size=count)), dtype=bool)
    whole, left, right, left_again, right_again = (small_sketch() for _ in range(5))
    whole.add_many(keys, items, times)
    for sketch, mask in ((left, to_left), (right, ~to_left), (left_again, to_left), (right_again, ~to_left)):
        sketch.add_many(keys[mask], items[mask], times[mask])

    left.merge(right)
    right_again.merge(left_again)

    np.testing.assert_array_equal(left._registers, whole._registers)
    np.testing.assert_array_equal(left._ring, whole._ring)
    assert left.to_bytes() == right_again.to_bytes()
    now = float(times[-1])
    assert left.estimate_many(keys, now).tolist() == whole.estimate_many(keys, now).tolist()


def test_merge_rejects_a_different_shape_or_seed():
    sketch = SpreadSketch(width=64, depth=2, seed=1)
    with pytest.raises(SketchMismatchError, match="seed"):
        sketch.merge(SpreadSketch(width=64, depth=2, seed=2))
    with pytest.raises(SketchMismatchError, match="precision"):
        sketch.merge(SpreadSketch(width=64, depth=2, precision=7, seed=1))


def test_bytes_round_trip_and_garbage_is_rejected():
    sketch = SpreadSketch(width=64, depth=3, precision=5, window=60.0, buckets=3, seed=77)
    sketch.add_many(np.arange(500) % 7, np.arange(500), np.linspace(0, 100, 500))
    data = sketch.to_bytes()
    restored = SpreadSketch.from_bytes(data)
    assert (restored.width, restored.depth, restored.precision, restored.window) == (64, 3, 5, sketch.window)
    assert restored.estimate_many(np.arange(7), 100.0).tolist() == sketch.estimate_many(np.arange(7), 100.0).tolist()
    assert restored.to_bytes() == sketch.to_bytes()
    assert restored.add(3, 10_000, 101.0) == sketch.add(3, 10_000, 101.0)

    header = len(data) - sketch._registers.nbytes - sketch._ring.nbytes
    too_high = bytearray(data)
    too_high[header + 5] = 64 - 5 + 2  # one above the largest rank at precision 5
    bad_precision = pack(b"PLSP", 77, 20.0, (3, 64, 3, 13), [sketch._registers, sketch._ring])
    for garbage in (data[:-1], data + b"\0", b"PLCM" + data[4:], b"", bytes(too_high), bad_precision):
        with pytest.raises(SketchMismatchError):
            SpreadSketch.from_bytes(garbage)
    assert struct.unpack_from("<4s", data)[0] == b"PLSP"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"width": 1000}, "width"),
        ({"width": 0}, "width"),
        ({"depth": 0}, "depth"),
        ({"depth": 33}, "depth"),
        ({"precision": 3}, "precision"),
        ({"precision": 13}, "precision"),
        ({"precision": 6.0}, "precision"),
        ({"window": -1.0}, "window"),
        ({"window": float("nan")}, "window"),
        ({"buckets": 0}, "buckets"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_parameters_name_the_field(kwargs, field):
    with pytest.raises(ConfigurationError, match=field):
        SpreadSketch(**{"seed": 1, **kwargs})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.add(-1, 1, 0.0), "2\\*\\*63"),
        (lambda s: s.add(1 << 63, 1, 0.0), "2\\*\\*63"),
        (lambda s: s.add(1, -1, 0.0), "-1"),
        (lambda s: s.add(1, 1 << 63, 0.0), str(1 << 63)),
        (lambda s: s.add(1, 1, float("nan")), "now"),
        (lambda s: s.add(1, 1, -5.0), "now"),
        (lambda s: s.estimate(1, float("inf")), "now"),
        (lambda s: s.estimate(-3, 0.0), "-3"),
        (lambda s: s.add_many([1, 2], [1], [0.0, 0.0]), "items"),
        (lambda s: s.add_many([1, 2], [1, -2], [0.0, 0.0]), "non-negative"),
        (lambda s: s.add_many([1, 2], [1, 2], [0.0, float("inf")]), "times"),
        (lambda s: s.add_many([1], [1.5], [0.0]), "integers"),
        (lambda s: s.estimate_many(np.array([1, 1 << 63], np.uint64), 0.0), "2\\*\\*63"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(SpreadSketch(width=64, depth=2, seed=1))


def test_different_seeds_use_different_cells_and_registers():
    one, two = (SpreadSketch(width=1 << 12, depth=1, buckets=1, seed=seed) for seed in (1, 2))
    one.add(12345, 99, 0.0)
    two.add(12345, 99, 0.0)
    cell_one, register_one = np.nonzero(one._registers[0, :, 0, :])
    cell_two, register_two = np.nonzero(two._registers[0, :, 0, :])
    assert len(cell_one) == len(cell_two) == 1
    assert cell_one[0] != cell_two[0]
    rank_one, rank_two = (
        one._registers[0, cell_one[0], 0, register_one[0]],
        two._registers[0, cell_two[0], 0, register_two[0]],
    )
    assert (register_one[0], rank_one) != (register_two[0], rank_two)  # the item hash is keyed by the seed too


def test_memory_is_fixed_and_reported():
    sketch = SpreadSketch(width=1 << 10, depth=3, precision=6, buckets=4, seed=5)
    # registers + ring + seeds + estimate memo (16 bytes per cell)
    expected = 3 * (1 << 10) * 4 * 64 + 8 * 5 + 8 * 4 + 16 * 3 * (1 << 10)
    assert sketch.nbytes == expected
    assert SpreadSketch(seed=1).nbytes == 3 * (1 << 14) * (4 * 64 + 16) + 8 * 5 + 8 * 4  # the defaults: 12.75 MiB
    size = len(sketch.to_bytes())
    rng = np.random.default_rng(0)
    sketch.add_many(
        rng.integers(0, 1 << 63, 100_000, dtype=np.uint64), np.arange(100_000), np.linspace(0, 3600, 100_000)
    )
    assert sketch.nbytes == expected
    assert len(sketch.to_bytes()) == size


def test_standard_error_follows_the_precision():
    assert SpreadSketch(seed=1).standard_error == pytest.approx(0.13)
    assert SpreadSketch(precision=10, width=2, seed=1).standard_error == pytest.approx(1.04 / 32)


def test_estimates_after_a_merge_see_the_merged_items():
    mine, theirs = (SpreadSketch(width=64, depth=2, precision=6, window=60.0, buckets=3, seed=4) for _ in range(2))
    mine.update_many(np.full(5, 9), np.arange(5), np.full(5, 10.0))
    assert 4 <= mine.estimate(9, 10.0) <= 6  # computed and memoised
    theirs.update_many(np.full(500, 9), np.arange(1000, 1500), np.full(500, 10.0))
    mine.merge(theirs)
    assert mine.estimate(9, 10.0) > 400  # the memo of the old estimate must not survive the merge
