"""The packed observe kernel: the state as a table of addresses gives exactly what the 24 arguments give."""

from __future__ import annotations

import random

import numpy as np
import pytest

from patternlimit import Limiter
from patternlimit._kernels.observe import observe_request
from patternlimit._kernels.packed import observe_one_packed, pack_state
from patternlimit._kernels.rules import match_rules

SECRET = b"a test secret of 32 bytes, fixed"


def _copy(state: tuple) -> tuple:
    return tuple(part.copy() if isinstance(part, np.ndarray) else part for part in state)


def test_the_packed_kernel_changes_and_answers_exactly_what_the_plain_one_does():
    limiter = Limiter(secret=SECRET)
    plain = _copy(limiter._state.arguments)
    packed = _copy(limiter._state.arguments)
    layout, seconds, table_seed = pack_state(packed)
    conditions, starts = limiter._decider.conditions, limiter._decider.starts
    rules = starts.shape[0] - 1
    rng = random.Random(5)
    pool = [rng.getrandbits(63) for _ in range(40)]  # few keys, so counts grow past the rules' gates
    now = 1.7e9
    for _ in range(400):
        now += rng.choice([0.0, 0.5, 30.0, 900.0])
        count = rng.randrange(0, 9)
        keys = np.array([rng.choice(pool) for _ in range(count)] + [0] * (16 - count), dtype=np.uint64)
        scalars = (
            count,
            rng.getrandbits(63),  # account
            rng.choice([0, rng.getrandbits(63)]),  # content
            rng.choice([1, 2, rng.getrandbits(63)]),  # network
            rng.random() < 0.3,  # young
            now,
            rng.randrange(1, 4),  # cost
            rng.choice([1, 3, limiter._decider.compiled.gate]),
            rng.randrange(0, count + 1),  # copy count
        )
        out_plain, out_packed = np.full((16, 7), -1.0), np.full((16, 7), -1.0)
        masks_plain, masks_packed = np.zeros(rules, np.uint64), np.zeros(rules, np.uint64)
        observe_request(*plain, keys, *scalars, out_plain)
        match_rules(out_plain, count, scalars[7], conditions, starts, masks_plain)
        observe_one_packed(layout, seconds, table_seed, keys, *scalars, out_packed, conditions, starts, masks_packed)
        np.testing.assert_array_equal(out_plain[:count], out_packed[:count])
        np.testing.assert_array_equal(masks_plain, masks_packed)
    for index, (left, right) in enumerate(zip(plain, packed, strict=True)):
        if isinstance(left, np.ndarray):
            np.testing.assert_array_equal(left, right, err_msg=f"state array at {index}")
    assert any(isinstance(part, np.ndarray) and part.any() for part in packed[:3])  # the updates did land


def test_pack_state_rejects_what_the_kernel_would_misread():
    state = list(Limiter(secret=SECRET)._state.arguments)
    pack_state(state)
    with pytest.raises(TypeError, match="24 state arguments"):
        pack_state(state[:-1])
    wrong_dtype = list(state)
    wrong_dtype[0] = state[0].astype(np.int64)
    with pytest.raises(TypeError, match=r"state array hits\.counters: expected uint32"):
        pack_state(wrong_dtype)
    wrong_rank = list(state)
    wrong_rank[1] = state[1].reshape(1, -1)
    with pytest.raises(TypeError, match=r"state array hits\.ring"):
        pack_state(wrong_rank)
    strided = list(state)
    strided[14] = np.zeros((8, 262144), dtype=np.uint64)[::2]  # the seen filter's bits, not contiguous
    with pytest.raises(TypeError, match="C-contiguous"):
        pack_state(strided)
