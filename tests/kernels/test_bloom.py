"""The windowed Bloom filter equals its twin bit for bit, never forgets within the window, and meets its bound."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import bloom as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit._kernels.reference import bloom as reference
from patternlimit._kernels.window import EMPTY
from tests.strategies import timed_stream


def fresh(words: int, buckets: int, hashes: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.zeros((buckets, words), np.uint64),
        np.full(buckets + 1, EMPTY, np.int64),
        derive_row_seeds(seed, hashes),
    )


@settings(max_examples=100, deadline=None)
@given(
    stream=timed_stream(),
    shape=st.tuples(st.sampled_from([1, 2, 8]), st.integers(1, 4), st.integers(1, 4)),
    seed=st.integers(0, (1 << 64) - 1),
)
def test_kernel_matches_reference(stream, shape, seed):
    keys, times = stream
    words, buckets, hashes = shape
    jit, twin = fresh(words, buckets, hashes, seed), fresh(words, buckets, hashes, seed)
    jit_out, twin_out = np.zeros(len(keys), np.bool_), np.zeros(len(keys), np.bool_)
    kernels.seen_update_many(*jit, 5.0, keys, times, jit_out)
    reference.seen_update_many(*twin, 5.0, keys, times, twin_out)
    np.testing.assert_array_equal(jit_out, twin_out)
    for mine, theirs in zip(jit, twin, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_no_false_negative_in_the_window_and_forgotten_after_it():
    state = fresh(1 << 10, 4, 4, 3)
    keys = np.arange(1, 2001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) >> np.uint64(1)
    times = np.linspace(0, 30, len(keys))  # 10 s buckets: all within the 40 s window
    first = np.zeros(len(keys), np.bool_)
    kernels.seen_update_many(*state, 10.0, keys, times, first)
    again = np.zeros(len(keys), np.bool_)
    kernels.seen_update_many(*state, 10.0, keys, np.full(len(keys), 39.0), again)
    assert again.all()  # every key seen within the window is reported present
    later = np.zeros(len(keys), np.bool_)
    kernels.seen_update_many(*state, 10.0, keys, np.full(len(keys), 1000.0), later)
    assert later.mean() < 0.05  # far past the window: forgotten, bar false positives


def test_false_positive_rate_meets_the_bloom_bound():
    words, hashes, inserted = 1 << 12, 4, 40_000  # 262,144 bits
    bits = words * 64
    state = fresh(words, 2, hashes, 9)
    rng = np.random.default_rng(1)
    probes = 4_000  # each probe is added too, so the last one sees inserted + probes keys
    keys = rng.integers(0, 1 << 63, inserted + probes, dtype=np.uint64)
    out = np.zeros(len(keys), np.bool_)
    kernels.seen_update_many(*state, 100.0, keys[:inserted], np.zeros(inserted), out[:inserted])
    probe = np.zeros(probes, np.bool_)
    kernels.seen_update_many(*state, 100.0, keys[inserted:], np.zeros(probes), probe)
    bound = (1 - math.exp(-hashes * (inserted + probes) / bits)) ** hashes
    assert probe.mean() <= 1.2 * bound
    assert probe.mean() > 0.2 * bound  # and a filter this full does answer "present" for some new keys


def test_the_comparison_fails_for_a_twin_that_ignores_older_buckets(monkeypatch):
    jit, twin = fresh(2, 3, 2, 5), fresh(2, 3, 2, 5)
    keys = np.array([7, 7, 9, 9, 7], np.uint64)
    times = np.array([0.0, 12.0, 13.0, 25.0, 26.0])
    monkeypatch.setattr(reference, "ring_live_slots", lambda ring: [int(ring[-1]) % (len(ring) - 1)])
    jit_out, twin_out = np.zeros(5, np.bool_), np.zeros(5, np.bool_)
    kernels.seen_update_many(*jit, 10.0, keys, times, jit_out)
    reference.seen_update_many(*twin, 10.0, keys, times, twin_out)
    assert not np.array_equal(jit_out, twin_out)
