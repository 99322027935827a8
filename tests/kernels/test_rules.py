"""The rule kernel equals its plain-Python twin bit for bit, NaN measures and all."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import rules as kernels
from patternlimit._kernels.reference import rules as reference

MEASURE = st.one_of(st.floats(0.0, 60.0), st.just(math.nan), st.just(0.0))
ROW = st.tuples(st.floats(0.0, 60.0), MEASURE, MEASURE, MEASURE, MEASURE, MEASURE, MEASURE)
CONDITION = st.tuples(
    st.integers(0, 8),
    st.one_of(st.floats(0.0, 50.0), st.just(-math.inf)),
    st.one_of(st.floats(0.0, 60.0), st.just(math.inf)),
)


def evaluate(module, rows, gate, rules):  # type: ignore[no-untyped-def]
    out = np.array(rows, dtype=np.float64).reshape(-1, 7)
    conditions = np.array([condition for rule in rules for condition in rule], dtype=np.float64).reshape(-1, 3)
    starts = np.cumsum([0, *map(len, rules)], dtype=np.int64)
    masks = np.zeros(len(rules), dtype=np.uint64)
    module.match_rules(out, len(rows), float(gate), conditions, starts, masks)
    return masks.tolist()


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(ROW, min_size=0, max_size=64),
    gate=st.integers(0, 20),
    rules=st.lists(st.lists(CONDITION, min_size=0, max_size=4), min_size=1, max_size=5),
)
def test_match_rules_matches_reference(rows, gate, rules):
    assert evaluate(kernels, rows, gate, rules) == evaluate(reference, rows, gate, rules)


def test_conditions_mean_what_they_say():
    # key 0: 50 hits, 30 accounts, 20 young (2 of them on this network); key 1: under the gate; key 2: young share
    # 0.9, diversity 0.1, 8 of its 9 young senders on this request's network
    rows = [
        (50.0, 30.0, 20.0, 2.0, 40.0, 2.0, 0.1),
        (3.0, math.nan, math.nan, 1.0, math.nan, math.nan, math.nan),
        (50.0, 10.0, 9.0, 45.0, 5.0, 8.0, 0.8),
    ]
    young_at_least_15 = [(0, 15.0, math.inf)]
    share_at_least_half = [(4, 0.5, math.inf)]
    diverse = [(5, 0.3, math.inf)]
    everything = []
    spread_out = [(7, -math.inf, 0.5)]
    no_cohort = [(8, -math.inf, 0.5)]
    rules = [young_at_least_15, share_at_least_half, diverse, everything, spread_out, no_cohort]
    assert evaluate(kernels, rows, 5, rules) == [0b001, 0b101, 0b001, 0b101, 0b001, 0b001]
    assert evaluate(kernels, rows, 0, [everything]) == [0b111]


@pytest.mark.parametrize("module", [kernels, reference])
def test_the_64th_key_has_a_bit(module):
    rows = [(0.0,) * 7] * 63 + [(9.0,) * 7]
    assert evaluate(module, rows, 5, [[(1, 5.0, math.inf)]]) == [1 << 63]
