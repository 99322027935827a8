"""The spread kernels equal their plain-Python twins bit for bit."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import spread as kernels
from patternlimit._kernels.hashing import MASK64, derive_row_seeds, mix64_py
from patternlimit._kernels.reference import spread as reference
from patternlimit._kernels.window import EMPTY
from tests.strategies import timed_stream

SHAPES = st.tuples(
    st.sampled_from([8, 16, 32, 64]),  # width
    st.integers(1, 3),  # depth
    st.integers(4, 6),  # precision
    st.integers(1, 5),  # buckets
    st.sampled_from([0.5, 1.0, 7.5]),  # bucket seconds
)

_INVERSE_MUL1 = pow(0xBF58476D1CE4E5B9, -1, 1 << 64)
_INVERSE_MUL2 = pow(0x94D049BB133111EB, -1, 1 << 64)


def _unshift(value: int, shift: int) -> int:
    """Inverse of ``value ^ (value >> shift)``."""
    result = value
    for _ in range(64 // shift + 1):
        result = value ^ (result >> shift)
    return result


def unmix64(value: int) -> int:
    """Inverse of the SplitMix64 finaliser: the word whose ``mix64`` is ``value``."""
    value = _unshift(value, 31)
    value = (value * _INVERSE_MUL2) & MASK64
    value = _unshift(value, 27)
    value = (value * _INVERSE_MUL1) & MASK64
    return _unshift(value, 30)


def crafted_item(register: int, rank: int, precision: int, item_seed: int) -> int:
    """An item that lands in ``register`` with ``rank`` (``64 - precision + 1`` = all low bits zero)."""
    rank_bits = 64 - precision
    low = 1 << (rank_bits - rank) if rank <= rank_bits else 0
    return unmix64((register << rank_bits) | low) ^ item_seed


def fresh_state(width: int, depth: int, precision: int, buckets: int, seed: int) -> tuple[np.ndarray, ...]:
    registers = np.zeros((depth, width, buckets, 1 << precision), dtype=np.uint8)
    ring = np.full(buckets + 1, EMPTY, dtype=np.int64)
    return registers, ring, derive_row_seeds(seed, depth + 1), np.full((depth, width, 2), -1.0)


def items_for(data: st.DataObject, count: int, precision: int, item_seed: int) -> np.ndarray:
    """Random 63-bit items mixed with crafted ones that hit the extreme ranks (1, 2, q - 1, q and the saturated q + 1,
    with ``q = rank_bits = 64 - precision``)."""
    rank_bits = 64 - precision
    crafted = st.builds(
        crafted_item,
        st.integers(0, (1 << precision) - 1),
        st.sampled_from([1, 2, rank_bits - 1, rank_bits, rank_bits + 1]),
        st.just(precision),
        st.just(item_seed),
    ).filter(lambda item: item < 1 << 63)
    item = st.one_of(st.integers(0, (1 << 63) - 1), crafted)
    return np.array(data.draw(st.lists(item, min_size=count, max_size=count)), dtype=np.uint64)


def assert_same_state(left: tuple[np.ndarray, ...], right: tuple[np.ndarray, ...]) -> None:
    """Registers, ring and seeds equal; the memo (last) is the kernels' private cache, which the twin ignores."""
    for left_array, right_array in zip(left[:3], right[:3], strict=True):
        np.testing.assert_array_equal(left_array, right_array)


def test_unmix64_inverts_mix64():
    for value in (0, 1, 12345, MASK64, 0x8000000000000000, 0x0123456789ABCDEF):
        assert mix64_py(unmix64(value)) == value
        assert unmix64(mix64_py(value)) == value


@settings(max_examples=100, deadline=None)
@given(shape=SHAPES, stream=timed_stream(max_size=60), seed=st.integers(0, (1 << 64) - 1), data=st.data())
def test_add_many_matches_reference(shape, stream, seed, data):
    width, depth, precision, buckets, bucket_seconds = shape
    keys, times = stream
    jit_state, ref_state = (fresh_state(width, depth, precision, buckets, seed) for _ in range(2))
    items = items_for(data, len(keys), precision, int(jit_state[2][depth]))
    jit_out, ref_out = np.zeros(len(keys)), np.zeros(len(keys))

    kernels.spread_add_many(*jit_state, bucket_seconds, keys, items, times, jit_out)
    reference.spread_add_many(*ref_state, bucket_seconds, keys, items, times, ref_out)

    assert jit_out.tolist() == ref_out.tolist()  # == on floats: bit for bit, not approximately
    assert_same_state(jit_state, ref_state)


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, stream=timed_stream(max_size=40), later=st.floats(0.0, 1e3), data=st.data())
def test_single_add_and_estimates_match_batch_and_reference(shape, stream, later, data):
    width, depth, precision, buckets, bucket_seconds = shape
    keys, times = stream
    single, batch, ref = (fresh_state(width, depth, precision, buckets, 7) for _ in range(3))
    items = items_for(data, len(keys), precision, int(single[2][depth]))
    batch_out = np.zeros(len(keys))
    kernels.spread_add_many(*batch, bucket_seconds, keys, items, times, batch_out)
    for position, (key, item, now) in enumerate(zip(keys.tolist(), items.tolist(), times.tolist(), strict=True)):
        assert kernels.spread_add(*single, bucket_seconds, key, item, now) == batch_out[position]
        assert reference.spread_add(*ref, bucket_seconds, key, item, now) == batch_out[position]
    assert_same_state(single, batch)
    assert_same_state(single, ref)

    query_time = float(times.max()) + later
    estimates, ref_estimates = np.zeros(len(keys)), np.zeros(len(keys))
    kernels.spread_estimate_many(*batch, bucket_seconds, keys, query_time, estimates)
    reference.spread_estimate_many(*ref, bucket_seconds, keys, query_time, ref_estimates)
    assert estimates.tolist() == ref_estimates.tolist()
    assert kernels.spread_estimate(*single, bucket_seconds, int(keys[0]), query_time) == estimates[0]
    assert reference.spread_estimate(*single, bucket_seconds, int(keys[-1]), query_time) == estimates[-1]
    assert_same_state(single, batch)
    assert_same_state(single, ref)


def test_ranks_at_the_edges_land_in_the_right_register():
    precision = 5
    rank_bits = 64 - precision
    cases = [(3, 1), (3, 2), (7, rank_bits), (11, rank_bits + 1), (31, rank_bits + 1), (0, 1)]
    for implementation in (kernels, reference):
        registers, ring, seeds, memo = fresh_state(8, 2, precision, 1, 21)
        for register, rank in cases:
            item = crafted_item(register, rank, precision, int(seeds[2]))
            implementation.spread_add_many(
                registers,
                ring,
                seeds,
                memo,
                1.0,
                np.array([9], np.uint64),
                np.array([item], np.uint64),
                np.zeros(1),
                np.zeros(1),
            )
        cells = [mix64_py(9 ^ int(seeds[row])) & 7 for row in range(2)]
        for row, cell in enumerate(cells):
            written = {index: int(value) for index, value in enumerate(registers[row, cell, 0]) if value}
            # Register 3 got ranks 1 then 2 and keeps the maximum; register 0 got rank 1.
            assert written == {3: 2, 7: rank_bits, 11: rank_bits + 1, 31: rank_bits + 1, 0: 1}
        assert np.count_nonzero(registers) == 2 * 5


def test_empty_cell_estimates_zero_and_saturated_cell_estimates_infinity():
    precision = 4
    for implementation in (kernels, reference):
        registers, ring, seeds, memo = fresh_state(8, 1, precision, 2, 5)
        assert implementation.spread_estimate(registers, ring, seeds, memo, 1.0, 77, 0.0) == 0.0
        items = [crafted_item(register, 64 - precision + 1, precision, int(seeds[1])) for register in range(16)]
        out = np.zeros(16)
        implementation.spread_add_many(
            registers, ring, seeds, memo, 1.0, np.full(16, 77, np.uint64), np.array(items, np.uint64), np.zeros(16), out
        )
        # Each saturated register raises the estimate; while one register is still zero the estimate stays finite
        # (and small: an empty register is strong evidence of few items), and once all are saturated it is the
        # estimator's limit, infinity, rather than a division by zero.
        assert all(math.isfinite(value) for value in out[:-1])
        assert all(earlier < later for earlier, later in itertools.pairwise(out))
        assert out[-1] == math.inf


def test_cells_near_saturation_match_reference_and_use_the_tau_term(monkeypatch):
    precision = 4
    rank_bits = 64 - precision
    outs = {}
    for implementation in (kernels, reference):
        registers, ring, seeds, memo = fresh_state(8, 1, precision, 1, 5)
        # Half the registers at q, half saturated at q + 1: only here does Ertl's tau correction carry weight.
        ranks = [rank_bits + register % 2 for register in range(16)]
        items = [crafted_item(register, rank, precision, int(seeds[1])) for register, rank in enumerate(ranks)]
        out = np.zeros(16)
        implementation.spread_add_many(
            registers, ring, seeds, memo, 1.0, np.full(16, 3, np.uint64), np.array(items, np.uint64), np.zeros(16), out
        )
        outs[implementation.__name__] = out.tolist()
    assert outs[kernels.__name__] == outs[reference.__name__]
    final = outs[kernels.__name__][-1]
    assert 2.0**rank_bits < final < math.inf
    registers, ring, seeds, memo = fresh_state(8, 1, precision, 1, 5)
    registers[0, :, 0, :] = ranks
    with monkeypatch.context() as patch:
        patch.setattr(reference, "_tau", lambda fraction: 0.0)
        assert reference.spread_estimate(registers, ring, seeds, memo, 1.0, 3, 0.0) != final


def _stream(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 24, count).astype(np.uint64)
    items = rng.integers(0, 1 << 63, count, dtype=np.uint64)
    times = np.cumsum(rng.choice([0.0, 0.5, 1.0, -4.0, 30.0], count))
    return keys, items, np.maximum(times, 0.0)


def _differs_from_kernels(count: int = 300) -> bool:
    keys, items, times = _stream(count, 8)
    jit_state, ref_state = fresh_state(16, 3, 5, 3, 13), fresh_state(16, 3, 5, 3, 13)
    jit_out, ref_out = np.zeros(count), np.zeros(count)
    kernels.spread_add_many(*jit_state, 5.0, keys, items, times, jit_out)
    reference.spread_add_many(*ref_state, 5.0, keys, items, times, ref_out)
    return jit_out.tolist() != ref_out.tolist() or not np.array_equal(jit_state[0], ref_state[0])


def test_the_comparison_passes_on_the_faithful_twin_and_fails_on_broken_ones(monkeypatch):
    assert not _differs_from_kernels()
    item_register = reference._item_register

    def rank_off_by_one(item: int, seed: int, precision: int) -> tuple[int, int]:
        index, rank = item_register(item, seed, precision)
        return index, min(rank + 1, 64 - precision + 1)

    with monkeypatch.context() as patch:  # rank off by one: the classic HLL slip
        patch.setattr(reference, "_item_register", rank_off_by_one)
        assert _differs_from_kernels()
    with monkeypatch.context() as patch:  # expired buckets still merged into the estimate
        patch.setattr(reference, "ring_live_slots", lambda ring: list(range(len(ring) - 1)))
        assert _differs_from_kernels()
    estimate = reference._spread_window_estimate
    with monkeypatch.context() as patch:  # the last row ignored by the estimate
        patch.setattr(
            reference,
            "_spread_window_estimate",
            lambda registers, ring, seeds, key: estimate(registers[:-1], ring, seeds, key),
        )
        assert _differs_from_kernels()
