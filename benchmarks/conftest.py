"""Benchmark fixtures: workloads built once, kernels compiled before any timing starts.

Run: ``pytest benchmarks --benchmark-sort=name`` (not part of the default test run; see docs/development.md).
"""

from __future__ import annotations

import numpy as np
import pytest

BATCH = 1_000_000
SEED = 0x5EED


@pytest.fixture(scope="session")
def zipf_keys() -> np.ndarray:
    """``BATCH`` keys with a Zipf(1.2) popularity over a million distinct 63-bit keys: a skewed pattern stream."""
    rng = np.random.default_rng(1)
    ranks = rng.zipf(1.2, BATCH) % 1_000_000
    return (ranks.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(1)


@pytest.fixture(scope="session")
def items() -> np.ndarray:
    """``BATCH`` distinct-ish items (accounts) drawn from 200k."""
    rng = np.random.default_rng(2)
    return rng.integers(0, 200_000, BATCH).astype(np.uint64) * np.uint64(0x2545F4914F6CDD1D) >> np.uint64(1)


@pytest.fixture(scope="session")
def times() -> np.ndarray:
    """``BATCH`` timestamps over two hours, so buckets turn over during a batch."""
    return np.linspace(1.7e9, 1.7e9 + 7200.0, BATCH)
