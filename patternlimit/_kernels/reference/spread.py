"""Twin of :mod:`patternlimit._kernels.spread`.

It takes the kernels' ``memo`` argument and ignores it: it recomputes every estimate from the registers, so any
stale memo entry in the kernels shows up as a difference in the comparison tests.
"""

from __future__ import annotations

import math

import numpy as np

from patternlimit._kernels.hashing import MASK64, mix64_py
from patternlimit._kernels.reference.window import ring_advance, ring_claim, ring_live_slots, ring_target
from patternlimit._kernels.spread import TWO_LN2


def _precision(registers: np.ndarray) -> int:
    return int(registers.shape[3]).bit_length() - 1


def _cell(key: int, seed: int, width: int) -> int:
    return mix64_py(key ^ seed) & (width - 1)


def _item_register(item: int, seed: int, precision: int) -> tuple[int, int]:
    """The register an item goes to and its rank: one plus the leading zeros of the hash's low ``64 - p`` bits."""
    rank_bits = 64 - precision
    hashed = mix64_py(item ^ seed)
    index = hashed >> rank_bits
    rest = (hashed << precision) & MASK64
    if rest == 0:
        return index, rank_bits + 1
    return index, 64 - rest.bit_length() + 1


def _sigma(fraction: float) -> float:
    power = fraction
    scale = 1.0
    total = fraction
    while True:
        power = power * power
        previous = total
        total = total + power * scale
        scale = scale + scale
        if total == previous:
            return total


def _tau(fraction: float) -> float:
    if fraction == 0.0 or fraction == 1.0:
        return 0.0
    root = fraction
    scale = 1.0
    total = 1.0 - fraction
    while True:
        root = math.sqrt(root)
        previous = total
        scale = scale * 0.5
        gap = 1.0 - root
        total = total - gap * gap * scale
        if total == previous:
            return total / 3.0


def _cardinality(values: list[int], rank_bits: int) -> float:
    count = len(values)
    histogram = [0] * (rank_bits + 2)
    for value in values:
        histogram[value] += 1
    if histogram[0] == count:
        return 0.0
    if histogram[rank_bits + 1] == count:
        return math.inf
    denominator = count * _tau(1.0 - histogram[rank_bits + 1] / count)
    for value in range(rank_bits, 0, -1):
        denominator = 0.5 * (denominator + histogram[value])
    denominator = denominator + count * _sigma(histogram[0] / count)
    return count * count / TWO_LN2 / denominator


def _spread_window_estimate(registers: np.ndarray, ring: np.ndarray, seeds: np.ndarray, key: int) -> float:
    depth, width, _, count = registers.shape
    rank_bits = 64 - _precision(registers)
    live = ring_live_slots(ring)
    estimates = []
    for row in range(depth):
        cell = _cell(key, int(seeds[row]), width)
        merged = [max([0] + [int(registers[row, cell, slot, index]) for slot in live]) for index in range(count)]
        estimates.append(_cardinality(merged, rank_bits))
    return min(estimates)


def spread_add(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    key: int,
    item: int,
    now: float,
) -> float:
    depth, width, _, _ = registers.shape
    epoch = ring_target(ring, ring_advance(ring, bucket_seconds, now))
    slot, stale = ring_claim(ring, epoch)
    if stale:
        for row in range(depth):
            for column in range(width):
                registers[row, column, slot, :] = 0
    index, rank = _item_register(int(item), int(seeds[depth]), _precision(registers))
    for row in range(depth):
        cell = _cell(int(key), int(seeds[row]), width)
        if int(registers[row, cell, slot, index]) < rank:
            registers[row, cell, slot, index] = rank
    return _spread_window_estimate(registers, ring, seeds, int(key))


def spread_add_many(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    items: np.ndarray,
    times: np.ndarray,
    out: np.ndarray,
) -> None:
    for position in range(len(keys)):
        estimate = spread_add(
            registers,
            ring,
            seeds,
            memo,
            bucket_seconds,
            int(keys[position]),
            int(items[position]),
            float(times[position]),
        )
        if len(out):
            out[position] = estimate


def spread_estimate(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    key: int,
    now: float,
) -> float:
    ring_advance(ring, bucket_seconds, now)
    return _spread_window_estimate(registers, ring, seeds, int(key))


def spread_estimate_many(
    registers: np.ndarray,
    ring: np.ndarray,
    seeds: np.ndarray,
    memo: np.ndarray,
    bucket_seconds: float,
    keys: np.ndarray,
    now: float,
    out: np.ndarray,
) -> None:
    ring_advance(ring, bucket_seconds, now)
    for position in range(len(keys)):
        out[position] = _spread_window_estimate(registers, ring, seeds, int(keys[position]))
