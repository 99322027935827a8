"""HeavyHitters: the SpaceSaving guarantee over windows, windowing, serialisation and validation."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import topk as kernels
from patternlimit._kernels.reference import topk as reference
from patternlimit.errors import ConfigurationError, SketchMismatchError
from patternlimit.sketches import topk as module
from patternlimit.sketches.topk import HeavyHitters

SEED = 0x5EED


def window_truth(
    keys: np.ndarray, times: np.ndarray, increments: np.ndarray, now: float, sketch: HeavyHitters
) -> tuple[np.ndarray, np.ndarray]:
    """Exact window counts under the ring's rules, as sorted ``(keys, counts)``: an update counts in its own
    bucket, or in the oldest live one if it is older; the window is the ``buckets`` epochs ending at the clock."""
    buckets, bucket_seconds = sketch.window.buckets, sketch.window.bucket_seconds
    epochs = np.floor(times / bucket_seconds).astype(np.int64)
    clocks = np.maximum.accumulate(epochs)
    targets = np.maximum(epochs, clocks - buckets + 1)
    clock = max(int(clocks[-1]) if clocks.size else 0, math.floor(now / bucket_seconds))
    live = targets > clock - buckets
    unique, inverse = np.unique(keys[live], return_inverse=True)
    return unique, np.bincount(inverse, weights=increments[live], minlength=unique.size).astype(np.int64)


def guarantee_violations(
    sketch: HeavyHitters, keys: np.ndarray, times: np.ndarray, increments: np.ndarray, now: float
) -> list[str]:
    """Every way the reported summary breaks the documented guarantee against the exact window counts."""
    true_keys, true_counts = window_truth(keys, times, increments, now, sketch)
    total = sketch.total(now)
    bound = sketch.guarantee(now)
    problems = []
    if total != int(true_counts.sum()):
        problems.append(f"total {total} != true total {int(true_counts.sum())}")
    reported = sketch.top(sketch.capacity * sketch.window.buckets, now)
    reported_keys = np.array([key for key, _, _ in reported], dtype=np.uint64)
    heavy = true_keys[true_counts > bound]
    missing = heavy[~np.isin(heavy, reported_keys)]
    if missing.size:
        problems.append(f"{missing.size} keys above N/capacity = {bound} not reported")
    lookup = dict(zip(true_keys.tolist(), true_counts.tolist(), strict=True))
    for key, count, error in reported:
        true = lookup.get(key, 0)
        if not count - error <= true <= count:
            problems.append(f"key {key}: count - error <= true <= count fails for {count}, {error}, {true}")
        if count - true > bound or error > bound:
            problems.append(f"key {key}: overcount {count - true} or error {error} above N/capacity = {bound}")
    return problems


def zipf_stream(seed: int, size: int, universe: int) -> tuple[np.ndarray, np.ndarray]:
    """Zipf(1.2) ranks folded into ``universe`` keys, each rank mapped to a random 63-bit key; and weights 1-4."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 1 << 63, size=universe, dtype=np.uint64)
    ranks = (rng.zipf(1.2, size) - 1) % universe
    return pool[ranks], rng.integers(1, 5, size=size, dtype=np.int64)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12))
def test_guarantee_on_zipf_streams(seed: int) -> None:
    """2e5 weighted Zipf updates, capacity 256: once inside one bucket, once spread over 1.5 windows so that the
    query sees several buckets, some full and some expired."""
    keys, increments = zipf_stream(seed, 200_000, 100_000)
    rng = np.random.default_rng(seed + 1000)
    one_bucket = np.full(keys.size, 100.0)
    spread = np.sort(rng.uniform(0.0, 5400.0, keys.size))
    for times in (one_bucket, spread):
        sketch = HeavyHitters(capacity=256, window=3600.0, buckets=4, seed=SEED + seed)
        sketch.add_many(keys, times, increments)
        now = float(times[-1])
        assert guarantee_violations(sketch, keys, times, increments, now) == []
        # The guarantee is not vacuous: the bound is far below the top key's count, and the top keys come first.
        top_key, top_count, _ = sketch.top(1, now)[0]
        true_keys, true_counts = window_truth(keys, times, increments, now, sketch)
        assert top_count > 20 * sketch.guarantee(now)
        assert top_key == int(true_keys[np.argmax(true_counts)])


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.sampled_from([1, 2, 4, 8]),
    buckets=st.integers(1, 4),
    items=st.lists(
        st.tuples(st.integers(0, 11), st.floats(-30.0, 30.0), st.booleans(), st.integers(0, 6)), max_size=150
    ),
    query_step=st.floats(0.0, 50.0),
)
def test_guarantee_on_generated_streams(
    capacity: int, buckets: int, items: list[tuple[int, float, bool, int]], query_step: float
) -> None:
    """Small summaries, keys that repeat, time that moves back and jumps ahead by 1e6 seconds."""
    keys, times, increments = [], [], []
    now = 50.0
    for key, step, jump, increment in items:
        now = max(0.0, now + step + (1e6 if jump and step > 25.0 else 0.0))
        keys.append(key * 0x9E3779B97F4A7C15 % (1 << 63))
        times.append(now)
        increments.append(increment)
    key_array = np.array(keys, dtype=np.uint64)
    time_array = np.array(times, dtype=np.float64)
    increment_array = np.array(increments, dtype=np.int64)
    sketch = HeavyHitters(capacity=capacity, window=40.0, buckets=buckets, seed=SEED)
    sketch.add_many(key_array, time_array, increment_array)
    assert guarantee_violations(sketch, key_array, time_array, increment_array, now + query_step) == []


def test_guarantee_check_fails_without_the_error_term(monkeypatch: pytest.MonkeyPatch) -> None:
    """A summary that reports errors as 0 claims its counts are exact, which the overestimates contradict."""
    keys, increments = zipf_stream(1, 50_000, 100_000)
    times = np.full(keys.size, 5.0)

    def collect_without_errors(*arguments: object) -> int:
        found = int(kernels.topk_collect(*arguments))
        arguments[-1][:found] = 0  # type: ignore[index]
        return found

    monkeypatch.setattr(module, "kernels", SimpleNamespace(**{**vars(kernels), "topk_collect": collect_without_errors}))
    sketch = HeavyHitters(capacity=64, seed=SEED)
    sketch.add_many(keys, times, increments)
    assert any(
        "count - error <= true" in problem for problem in guarantee_violations(sketch, keys, times, increments, 5.0)
    )


class _EvictMaxSummary(reference._Summary):
    """Broken twin: a max-heap, so a new key takes over the *largest* counter."""

    def before(self, first: int, second: int) -> bool:
        return (self.count(first), first) > (self.count(second), second)


@pytest.mark.parametrize(("summary", "holds"), [(reference._Summary, True), (_EvictMaxSummary, False)])
def test_guarantee_check_on_the_twin(monkeypatch: pytest.MonkeyPatch, summary: type, holds: bool) -> None:
    """The sketch run on the plain-Python twin meets the guarantee; evicting the max instead of the min breaks it."""
    monkeypatch.setattr(reference, "_Summary", summary)
    monkeypatch.setattr(module, "kernels", reference)
    keys, increments = zipf_stream(2, 4_000, 2_000)
    times = np.sort(np.random.default_rng(2).uniform(0.0, 100.0, keys.size))
    sketch = HeavyHitters(capacity=32, window=60.0, buckets=3, seed=SEED)
    sketch.add_many(keys, times, increments)
    assert (guarantee_violations(sketch, keys, times, increments, 100.0) == []) is holds


def test_top_orders_by_count_then_key_and_truncates() -> None:
    sketch = HeavyHitters(capacity=8, window=60.0, buckets=2, seed=SEED)
    for key, increment in ((30, 5), (10, 5), (20, 9), (40, 1)):
        sketch.add(key, 1.0, increment)
    assert sketch.top(10, 1.0) == [(20, 9, 0), (10, 5, 0), (30, 5, 0), (40, 1, 0)]
    assert sketch.top(2, 1.0) == [(20, 9, 0), (10, 5, 0)]
    assert sketch.top(0, 1.0) == []
    assert sketch.total(1.0) == 20
    assert sketch.guarantee(1.0) == 20 / 8


def test_every_top_n_is_a_prefix_of_the_full_ranking() -> None:
    """Many tied counts, so the preselection before sorting must keep every key tied at the cut."""
    rng = np.random.default_rng(5)
    sketch = HeavyHitters(capacity=16, window=60.0, buckets=3, seed=SEED)
    sketch.add_many(rng.integers(0, 200, 3_000, dtype=np.uint64), rng.uniform(0.0, 59.0, 3_000))
    ranking = sketch.top(48, 59.0)
    assert len(ranking) > 40  # the three buckets monitor some of the same keys
    assert ranking == sorted(ranking, key=lambda entry: (-entry[1], entry[0]))
    assert len({count for _, count, _ in ranking}) < 30  # ties really occur
    for n in range(len(ranking) + 2):
        assert sketch.top(n, 59.0) == ranking[:n]


def test_counts_from_expired_buckets_disappear() -> None:
    sketch = HeavyHitters(capacity=8, window=40.0, buckets=4, seed=SEED)  # buckets of 10 s
    sketch.add(1, 0.0, 5)
    sketch.add(2, 15.0, 3)
    assert sketch.top(10, 39.0) == [(1, 5, 0), (2, 3, 0)]
    assert sketch.top(10, 40.0) == [(2, 3, 0)]  # epoch 0 left the window when epoch 4 began
    assert sketch.total(40.0) == 3
    assert sketch.top(10, 50.0) == []
    assert sketch.total(50.0) == 0


def test_time_going_backwards_counts_in_the_oldest_live_bucket() -> None:
    sketch = HeavyHitters(capacity=8, window=40.0, buckets=4, seed=SEED)
    sketch.add(1, 100.0, 2)  # clock at epoch 10; live epochs 7-10
    sketch.add(2, 5.0, 4)  # far in the past: counted in epoch 7, not dropped
    assert sketch.top(10, 100.0) == [(2, 4, 0), (1, 2, 0)]
    assert sketch.top(10, 109.0) == [(2, 4, 0), (1, 2, 0)]
    assert sketch.top(10, 110.0) == [(1, 2, 0)]  # epoch 7 expires first


def test_a_jump_far_ahead_empties_the_window() -> None:
    sketch = HeavyHitters(capacity=8, window=40.0, buckets=4, seed=SEED)
    sketch.add_many([1, 2, 3], [1.0, 11.0, 21.0], [3, 2, 1])
    sketch.add(4, 1e6, 7)
    assert sketch.top(10, 1e6) == [(4, 7, 0)]
    assert sketch.total(1e6) == 7
    sketch.add(5, 2.0, 1)  # late: counted in the oldest live bucket of the new window
    assert sketch.top(10, 1e6) == [(4, 7, 0), (5, 1, 0)]


def test_add_equals_add_many() -> None:
    keys, increments = zipf_stream(3, 3_000, 500)
    times = np.random.default_rng(3).uniform(0.0, 200.0, keys.size)
    single = HeavyHitters(capacity=16, window=60.0, buckets=3, seed=SEED)
    for key, now, increment in zip(keys.tolist(), times.tolist(), increments.tolist(), strict=True):
        single.add(key, now, increment)
    batched = HeavyHitters(capacity=16, window=60.0, buckets=3, seed=SEED)
    batched.add_many(keys, times, increments)
    assert single.to_bytes() == batched.to_bytes()
    assert single.top(48, 200.0) == batched.top(48, 200.0) != []


def test_the_table_seed_follows_the_sketch_seed() -> None:
    keys = np.arange(40, dtype=np.uint64)
    one = HeavyHitters(capacity=8, window=60.0, buckets=1, seed=1)
    other = HeavyHitters(capacity=8, window=60.0, buckets=1, seed=2)
    one.add_many(keys, 1.0)
    other.add_many(keys, 1.0)
    assert one.top(8, 1.0) == other.top(8, 1.0)  # same counters ...
    assert one._links.tobytes() != other._links.tobytes()  # ... filed in different table cells


def _filled_sketch() -> HeavyHitters:
    keys, increments = zipf_stream(4, 2_000, 300)
    sketch = HeavyHitters(capacity=16, window=60.0, buckets=3, seed=SEED)
    sketch.add_many(keys, np.sort(np.random.default_rng(4).uniform(0.0, 70.0, keys.size)), increments)
    return sketch


def test_bytes_round_trip() -> None:
    sketch = _filled_sketch()
    data = sketch.to_bytes()
    copy = HeavyHitters.from_bytes(data)
    assert copy.to_bytes() == data
    assert (copy.capacity, copy.window, copy.seed, copy.nbytes) == (sketch.capacity, sketch.window, SEED, sketch.nbytes)
    assert copy.top(48, 70.0) == sketch.top(48, 70.0) != []
    for target in (sketch, copy):
        target.add_many([7, 8, 7], [71.0, 72.0, 95.0], [2, 1, 3])
    assert copy.to_bytes() == sketch.to_bytes()


def _header(data: bytes, **fields: int) -> bytes:
    """``data`` with header fields replaced (layout of :func:`patternlimit.sketches._common.pack`)."""
    layout = struct.Struct("<4sHQdQQQQ")
    magic, version, seed, bucket_seconds, *shape = layout.unpack_from(data)
    shape[0] = fields.get("capacity", shape[0])
    return layout.pack(magic, fields.get("version", version), seed, bucket_seconds, *shape) + data[layout.size :]


def _poke(data: bytes, offset: int, value: int, dtype: type) -> bytes:
    size = np.dtype(dtype).itemsize
    return data[:offset] + np.array([value], dtype=dtype).tobytes() + data[offset + size :]


@pytest.mark.parametrize(
    "garble",
    [
        lambda data, header: b"PLCM" + data[4:],
        lambda data, header: _header(data, version=2),
        lambda data, header: data[: header - 1],
        lambda data, header: data[:-1],
        lambda data, header: data + b"\0",
        lambda data, header: _header(data, capacity=12),
        lambda data, header: _header(data, capacity=8),
        # The body: entries int64[3, 16, 3], links int32[3, 64], tallies int64[3, 2], ring int64[4].
        lambda data, header: _poke(data, header + 8, 12345, np.int64),  # a count, so the bucket sum is off
        lambda data, header: _poke(data, header + 3 * 16 * 3 * 8, 999, np.int32),  # a heap slot out of range
        lambda data, header: _poke(data, header + 3 * 16 * 3 * 8 + 4 * 40, 17, np.int32),  # a table cell past used
        lambda data, header: _poke(data, header + 3 * 16 * 3 * 8 + 3 * 64 * 4, 17, np.int64),  # used > capacity
    ],
)
def test_garbled_bytes_raise(garble: Callable[[bytes, int], bytes]) -> None:
    data = _filled_sketch().to_bytes()
    header = struct.calcsize("<4sHQdQQQQ")
    with pytest.raises(SketchMismatchError):
        HeavyHitters.from_bytes(garble(data, header))


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 12}, "capacity"),
        ({"capacity": 1 << 21}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": 16.0}, "capacity"),
        ({"window": 0.0}, "window"),
        ({"window": -5.0}, "window"),
        ({"window": math.nan}, "window"),
        ({"window": math.inf}, "window"),
        ({"buckets": 0}, "buckets"),
        ({"buckets": 1025}, "buckets"),
        ({"buckets": 2.0}, "buckets"),
        ({"seed": -1}, "seed"),
        ({"seed": 1 << 64}, "seed"),
    ],
)
def test_invalid_parameters_name_the_field(arguments: dict[str, object], field: str) -> None:
    settings = {"seed": SEED, **arguments}
    with pytest.raises(ConfigurationError, match=field):
        HeavyHitters(**settings)  # type: ignore[arg-type]


def test_invalid_arguments_raise_value_error() -> None:
    sketch = HeavyHitters(capacity=8, seed=SEED)
    with pytest.raises(ValueError, match="key"):
        sketch.add(-1, 1.0)
    with pytest.raises(ValueError, match="key"):
        sketch.add_many([1 << 63], 1.0)
    with pytest.raises(ValueError, match="now"):
        sketch.add(1, -1.0)
    with pytest.raises(ValueError, match="increment"):
        sketch.add(1, 1.0, -1)
    with pytest.raises(ValueError, match="n must"):
        sketch.top(-1, 1.0)
    with pytest.raises(ValueError, match="now"):
        sketch.total(math.inf)
    assert sketch.total(1.0) == 0


def test_nbytes_is_fixed_whatever_the_number_of_keys() -> None:
    sketch = HeavyHitters(capacity=64, window=60.0, buckets=4, seed=SEED)
    expected = 40 * 64 * 4 + 16 * 4 + 8 * 5 + 8
    assert sketch.nbytes == expected
    sketch.add_many(np.arange(100_000, dtype=np.uint64), np.linspace(0.0, 59.0, 100_000))
    assert sketch.nbytes == expected
    assert len(sketch.top(1_000, 59.0)) == 64 * 4
