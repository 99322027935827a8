"""The prefetch intrinsic emits a prefetch of the element it names, accepts the indices an array access would,
and changes nothing."""

from __future__ import annotations

import platform

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from patternlimit._kernels.prefetch import prefetch

# The instruction llvm.prefetch(read, locality 3, data) becomes on the machines the project runs on.
PREFETCH_INSTRUCTION = {"x86_64": "prefetcht0", "AMD64": "prefetcht0", "aarch64": "prfm", "arm64": "prfm"}


@njit(cache=False)
def _read_after_prefetch(cube: np.ndarray, row: int, cell: np.uint64, slot: np.int32) -> int:  # pragma: no cover
    prefetch(cube, (row, cell, slot))  # mixed integer types, as the kernels pass them
    prefetch(cube[row, cell], slot)  # a 1-d array takes a bare integer
    return int(cube[row, cell, slot])


def test_prefetch_reads_nothing_and_changes_nothing():
    cube = np.arange(4 * 8 * 6, dtype=np.uint32).reshape(4, 8, 6)
    before = cube.copy()
    for row, cell, slot in [(0, 0, 0), (3, 7, 5), (2, 5, 1)]:
        assert _read_after_prefetch(cube, row, np.uint64(cell), np.int32(slot)) == before[row, cell, slot]
    np.testing.assert_array_equal(cube, before)


@pytest.mark.skipif(platform.machine() not in PREFETCH_INSTRUCTION, reason="no known prefetch mnemonic")
def test_prefetch_compiles_to_a_prefetch_instruction():
    cube = np.zeros((2, 2, 2), dtype=np.uint32)
    _read_after_prefetch(cube, 1, np.uint64(1), np.int32(1))
    (signature,) = _read_after_prefetch.signatures
    assembly = _read_after_prefetch.inspect_asm(signature)
    assert assembly.count(PREFETCH_INSTRUCTION[platform.machine()]) == 2


def test_prefetch_rejects_an_index_that_does_not_fit_the_array():
    @njit(cache=False)
    def two_indices_for_three_dimensions(cube: np.ndarray) -> None:  # pragma: no cover
        prefetch(cube, (0, 0))

    @njit(cache=False)
    def float_index(vector: np.ndarray) -> None:  # pragma: no cover
        prefetch(vector, 1.5)

    with pytest.raises(TypingError):
        two_indices_for_three_dimensions(np.zeros((2, 2, 2)))
    with pytest.raises(TypingError):
        float_index(np.zeros(4))
