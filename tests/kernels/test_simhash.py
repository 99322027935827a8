"""The bit-sliced SimHash counters equal plain counting."""

from __future__ import annotations

import numpy as np

from patternlimit._kernels import simhash as kernels
from patternlimit._kernels.reference import simhash as reference


def test_bit_sliced_majority_equals_counting_on_many_shingles():
    """``simhash_majority`` over planes built by repeated addition equals per-bit counting, ties included."""
    rng = np.random.default_rng(3)
    for count in (1, 2, 7, 8, 64, 1000, 4097):
        features = rng.integers(0, 1 << 64, count, dtype=np.uint64, endpoint=False)
        planes = np.zeros(kernels.PLANES, dtype=np.uint64)
        for feature in features.tolist():
            carry = feature
            plane = 0
            while carry:
                old = int(planes[plane])
                planes[plane] = old ^ carry
                carry &= old
                plane += 1
        assert int(kernels.simhash_majority(planes, count)) == reference.simhash(features.tolist())
