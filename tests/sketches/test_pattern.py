"""PatternCounter: the three sketches of a pattern family behind one call."""

from __future__ import annotations

import numpy as np
import pytest

from patternlimit.errors import ConfigurationError
from patternlimit.sketches import CountMinSketch, HeavyHitters, PatternCounter, SpreadSketch, TopPattern


def test_a_templated_fan_out_shows_as_hits_and_distinct_accounts():
    counter = PatternCounter.create(seed=11, window=3600.0)
    template, ci_template = 1001, 2002
    for account in range(500):  # one template, 500 accounts, twice each
        for second in (0.0, 30.0):
            hits, distinct = counter.observe(template, account, 1_000.0 + account + second)
    ci_hits = ci_distinct = 0.0
    for request in range(1000):  # the CI harness: one account, a thousand requests
        ci_hits, ci_distinct = counter.observe(ci_template, 77, 1_000.0 + request)
    assert hits == 1000 and 500 * 0.7 <= distinct <= 500 * 1.3
    assert ci_hits == 1000 and ci_distinct < 3
    top = counter.top(2, 2_000.0)
    assert [row.key for row in top] == [template, ci_template] or [row.key for row in top] == [ci_template, template]
    by_key = {row.key: row for row in top}
    assert by_key[template].hits == 1000 and by_key[template].error == 0
    assert by_key[template].distinct == pytest.approx(distinct)
    assert isinstance(top[0], TopPattern)


def test_observe_many_equals_observe_one_by_one():
    rng = np.random.default_rng(8)
    keys = rng.integers(0, 50, 2000).astype(np.uint64)
    items = rng.integers(0, 300, 2000).astype(np.uint64)
    times = np.sort(rng.uniform(0, 7200, 2000))
    batch, single = PatternCounter.create(seed=2, window=600.0), PatternCounter.create(seed=2, window=600.0)
    hits, distinct = batch.observe_many(keys, items, times, 2)
    for position in range(len(keys)):
        expected = single.observe(int(keys[position]), int(items[position]), float(times[position]), 2)
        assert expected == (hits[position], distinct[position])


def test_memory_is_the_sum_of_the_three_sketches():
    counter = PatternCounter.create(seed=5)
    assert counter.nbytes == counter.hits.nbytes + counter.distinct.nbytes + counter.top_keys.nbytes
    before = counter.nbytes
    counter.observe_many(np.arange(100_000), np.arange(100_000), np.linspace(0, 3600, 100_000))
    assert counter.nbytes == before


def test_create_gives_each_sketch_its_own_seed():
    counter = PatternCounter.create(seed=5)
    assert len({counter.hits.seed, counter.distinct.seed, counter.top_keys.seed}) == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.observe(-1, 1, 0.0), "key"),
        (lambda c: c.observe(1, -1, 0.0), "item"),
        (lambda c: c.observe(1, 1 << 63, 0.0), "item"),
        (lambda c: c.observe(1, 1, float("nan")), "now"),
        (lambda c: c.observe(1, 1, 0.0, -3), "increment"),
        (lambda c: c.observe_many([1, 2], [1], [0.0, 0.0]), "one entry per key"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    counter = PatternCounter(
        CountMinSketch(width=16, depth=2, seed=1),
        SpreadSketch(width=8, depth=2, seed=2),
        HeavyHitters(capacity=4, seed=3),
    )
    with pytest.raises(ValueError, match=message):
        call(counter)


def test_wrong_parts_are_a_configuration_error():
    with pytest.raises(ConfigurationError, match="CountMinSketch"):
        PatternCounter(SpreadSketch(seed=1), CountMinSketch(seed=2), HeavyHitters(seed=3))  # type: ignore[arg-type]
