"""Per-call and batched cost of each sketch, its plain-Python twin, and the peer (`limits`) in the same run.

``pytest benchmarks`` runs them; ``python benchmarks/report.py`` prints the README's table with ratios.
Per-call figures include the Python wrapper's argument checks: they are what an application pays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from patternlimit._kernels.reference import countmin as countmin_reference
from patternlimit._kernels.reference import spread as spread_reference
from patternlimit._kernels.reference import topk as topk_reference
from patternlimit.sketches import CountMinSketch, HeavyHitters, SpreadSketch

from .conftest import BATCH

NOW = 1.7e9
HOT_KEY = 0x1234_5678_9ABC


def sketches() -> dict[str, Any]:
    return {
        "countmin": CountMinSketch(seed=1),
        "spread": SpreadSketch(seed=2),
        "heavy_hitters": HeavyHitters(seed=3),
    }


def record_memory(benchmark, structure) -> None:  # type: ignore[no-untyped-def]
    benchmark.extra_info["bytes"] = structure.nbytes


# -- one call from Python ------------------------------------------------------------------------------------


def test_single_countmin_add(benchmark):
    sketch = CountMinSketch(seed=1)
    record_memory(benchmark, sketch)
    benchmark(sketch.add, HOT_KEY, NOW)


def test_single_spread_add(benchmark):
    sketch = SpreadSketch(seed=2)
    record_memory(benchmark, sketch)
    benchmark(sketch.add, HOT_KEY, 42, NOW)


def test_single_heavy_hitters_add(benchmark):
    sketch = HeavyHitters(seed=3)
    record_memory(benchmark, sketch)
    benchmark(sketch.add, HOT_KEY, NOW)


@pytest.mark.parametrize("name", ["countmin", "spread", "heavy_hitters"])
def test_single_reference_add(benchmark, name):
    """The plain-Python twins, one call (what the kernels replace)."""
    structure = sketches()[name]
    if name == "countmin":
        benchmark(countmin_reference.cms_add, *structure.kernel_args, HOT_KEY, NOW, 1)
    elif name == "spread":
        benchmark(spread_reference.spread_add, *structure.kernel_args, HOT_KEY, 42, NOW)
    else:
        benchmark(topk_reference.topk_add, *structure.kernel_args, HOT_KEY, NOW, 1)


# -- the peer, same run --------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", [MovingWindowRateLimiter, FixedWindowRateLimiter])
def test_peer_limits_memory_hit(benchmark, strategy):
    """`limits` on memory://, one key: the peer's per-call cost (it counts one exact key, no sketch)."""
    limiter = strategy(storage_from_string("memory://"))
    item = parse("1000000000/hour")
    benchmark(limiter.hit, item, "account", "a1")


# -- batches -------------------------------------------------------------------------------------------------


def _batched(benchmark, run) -> None:  # type: ignore[no-untyped-def]
    run()  # warm: compile and touch the state once
    benchmark.pedantic(run, rounds=5, iterations=1)
    benchmark.extra_info["items"] = BATCH
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["million_updates_per_second"] = round(BATCH / benchmark.stats.stats.min / 1e6, 2)


def test_batch_countmin_update(benchmark, zipf_keys, times):
    sketch = CountMinSketch(seed=1)
    record_memory(benchmark, sketch)
    _batched(benchmark, lambda: sketch.update_many(zipf_keys, times))


def test_batch_countmin_add_with_estimates(benchmark, zipf_keys, times):
    sketch = CountMinSketch(seed=1)
    _batched(benchmark, lambda: sketch.add_many(zipf_keys, times))


def test_batch_spread_update(benchmark, zipf_keys, items, times):
    sketch = SpreadSketch(seed=2)
    record_memory(benchmark, sketch)
    _batched(benchmark, lambda: sketch.update_many(zipf_keys, items, times))


def test_batch_spread_add_with_estimates(benchmark, zipf_keys, items, times):
    sketch = SpreadSketch(seed=2)
    _batched(benchmark, lambda: sketch.add_many(zipf_keys, items, times))


def test_batch_heavy_hitters_update(benchmark, zipf_keys, times):
    sketch = HeavyHitters(seed=3)
    record_memory(benchmark, sketch)
    _batched(benchmark, lambda: sketch.add_many(zipf_keys, times))


def test_batch_reference_countmin(benchmark, zipf_keys, times):
    """The twin on 20,000 items (a million would take minutes); compare per item."""
    sketch = CountMinSketch(seed=1)
    state = (sketch._counters, sketch._ring, sketch._row_seeds, sketch._bucket_seconds)
    count = 20_000
    out = np.empty(0, np.int64)
    increments = np.ones(count, np.int64)

    def run() -> None:
        countmin_reference.cms_add_many(*state, zipf_keys[:count], times[:count], increments, out)

    benchmark.pedantic(run, rounds=2, iterations=1)
    benchmark.extra_info["items"] = count
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["million_updates_per_second"] = round(count / benchmark.stats.stats.min / 1e6, 4)
