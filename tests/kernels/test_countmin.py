"""The count-min kernels equal their plain-Python twins bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import countmin as kernels
from patternlimit._kernels.hashing import derive_row_seeds
from patternlimit._kernels.reference import countmin as reference
from patternlimit._kernels.window import EMPTY
from tests.strategies import timed_stream

SHAPES = st.tuples(
    st.sampled_from([2, 8, 32, 64]),  # width
    st.integers(1, 4),  # depth
    st.integers(1, 5),  # buckets
    st.sampled_from([0.5, 1.0, 7.5]),  # bucket seconds
)


def fresh_state(width: int, depth: int, buckets: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counters = np.zeros((depth, width, buckets), dtype=np.uint32)
    ring = np.full(buckets + 1, EMPTY, dtype=np.int64)
    return counters, ring, derive_row_seeds(seed, depth)


@settings(max_examples=150, deadline=None)
@given(shape=SHAPES, stream=timed_stream(), seed=st.integers(0, (1 << 64) - 1), data=st.data())
def test_add_many_matches_reference(shape, stream, seed, data):
    width, depth, buckets, bucket_seconds = shape
    keys, times = stream
    increments = np.array(data.draw(st.lists(st.integers(0, 9), min_size=len(keys), max_size=len(keys))), np.int64)
    jit_state, ref_state = fresh_state(width, depth, buckets, seed), fresh_state(width, depth, buckets, seed)
    jit_out, ref_out = np.zeros(len(keys), np.int64), np.zeros(len(keys), np.int64)

    kernels.cms_add_many(*jit_state, bucket_seconds, keys, times, increments, jit_out)
    reference.cms_add_many(*ref_state, bucket_seconds, keys, times, increments, ref_out)

    np.testing.assert_array_equal(jit_out, ref_out)
    for jit_array, ref_array in zip(jit_state, ref_state, strict=True):
        np.testing.assert_array_equal(jit_array, ref_array)


@settings(max_examples=60, deadline=None)
@given(shape=SHAPES, stream=timed_stream(max_size=40), later=st.floats(0.0, 1e3))
def test_single_add_and_estimates_match_batch_and_reference(shape, stream, later):
    width, depth, buckets, bucket_seconds = shape
    keys, times = stream
    single, batch, ref = (fresh_state(width, depth, buckets, 7) for _ in range(3))
    batch_out = np.zeros(len(keys), np.int64)
    kernels.cms_add_many(*batch, bucket_seconds, keys, times, np.ones(len(keys), np.int64), batch_out)
    for item, (key, now) in enumerate(zip(keys.tolist(), times.tolist(), strict=True)):
        assert kernels.cms_add(*single, bucket_seconds, key, now, 1) == batch_out[item]
        assert reference.cms_add(*ref, bucket_seconds, key, now, 1) == batch_out[item]

    query_time = float(times.max()) + later
    estimates = np.zeros(len(keys), np.int64)
    ref_estimates = np.zeros(len(keys), np.int64)
    kernels.cms_estimate_many(*batch, bucket_seconds, keys, query_time, estimates)
    reference.cms_estimate_many(*ref, bucket_seconds, keys, query_time, ref_estimates)
    np.testing.assert_array_equal(estimates, ref_estimates)
    assert kernels.cms_estimate(*single, bucket_seconds, int(keys[0]), query_time) == estimates[0]


def test_counters_saturate_instead_of_wrapping():
    counters, ring, seeds = fresh_state(8, 2, 1, 1)
    assert kernels.cms_add(counters, ring, seeds, 1.0, 5, 0.0, 0xFFFFFFF0) == 0xFFFFFFF0
    assert kernels.cms_add(counters, ring, seeds, 1.0, 5, 0.0, 100) == 0xFFFFFFFF
    assert kernels.cms_add(counters, ring, seeds, 1.0, 5, 0.0, 1) == 0xFFFFFFFF


def _skip_last_row_add(counters, ring, row_seeds, bucket_seconds, key, now, increment):
    """A deliberately broken twin: it never writes the last row."""
    return reference.cms_add(counters[:-1], ring, row_seeds[:-1], bucket_seconds, key, now, increment)


def test_comparison_detects_a_kernel_that_skips_a_row():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 1 << 63, 400, dtype=np.uint64)
    broken, good = fresh_state(16, 3, 2, 11), fresh_state(16, 3, 2, 11)
    differs = False
    for step, key in enumerate(keys.tolist()):
        expected = kernels.cms_add(*good, 1.0, key, step * 0.01, 1)
        differs |= _skip_last_row_add(*broken, 1.0, key, step * 0.01, 1) != expected
    assert differs, "a kernel with a row skipped must give different estimates on a colliding stream"


@pytest.mark.parametrize("width", [1024])
def test_keys_far_apart_in_value_land_in_spread_out_cells(width):
    counters, ring, seeds = fresh_state(width, 1, 1, 99)
    for key in range(2000):  # consecutive keys: a weak mixer would map them to consecutive cells
        kernels.cms_add(counters, ring, seeds, 1.0, key, 0.0, 1)
    occupied = np.count_nonzero(counters[0, :, 0])
    # 2000 balls in 1024 bins leave about 1024 * (1 - exp(-2000/1024)) = 881 bins occupied.
    assert 840 <= occupied <= 920


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, stream=timed_stream())
def test_update_without_estimates_matches_reference(shape, stream):
    width, depth, buckets, bucket_seconds = shape
    keys, times = stream
    jit_state, ref_state = fresh_state(width, depth, buckets, 5), fresh_state(width, depth, buckets, 5)
    no_out = np.zeros(0, np.int64)
    kernels.cms_add_many(*jit_state, bucket_seconds, keys, times, np.ones(len(keys), np.int64), no_out)
    reference.cms_add_many(*ref_state, bucket_seconds, keys, times, np.ones(len(keys), np.int64), no_out)
    for jit_array, ref_array in zip(jit_state, ref_state, strict=True):
        np.testing.assert_array_equal(jit_array, ref_array)
