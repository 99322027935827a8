"""The direct entry point: the same compiled code without numba's per-call dispatch, or the kernel itself."""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit import Limiter
from patternlimit._kernels.entry import direct
from patternlimit._kernels.packed import observe_one_packed
from patternlimit._kernels.text import text_fingerprint


@njit(nogil=True)
def _weighted_sum(values: np.ndarray, weight: int, scale: float, out: np.ndarray) -> None:  # pragma: no cover
    out[0] = values.sum() * weight * scale


def test_the_entry_point_runs_the_compiled_code_for_new_arguments_of_the_same_types():
    out = np.zeros(1)
    entry = direct(_weighted_sum, np.zeros(3, dtype=np.int64), 0, 0.0, out)
    assert entry is not _weighted_sum
    values = np.arange(5, dtype=np.int64)
    entry(values, 3, 0.5, out)
    assert out[0] == 15.0
    _weighted_sum(values, 2, 1.0, out)
    assert out[0] == 20.0


def test_a_function_numba_did_not_compile_is_returned_as_it_is():
    calls = []

    def plain(*arguments: object) -> None:
        calls.append(arguments)

    assert direct(plain, 1, 2) is plain
    assert calls == [(1, 2)]  # the example call still happens


def test_the_limiter_and_the_fingerprinter_call_their_kernels_directly():
    limiter = Limiter(secret=b"a test secret of 32 bytes, fixed")
    assert limiter._decider._observe is not observe_one_packed
    assert limiter._facts.text._kernel is not text_fingerprint
