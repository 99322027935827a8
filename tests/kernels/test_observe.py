"""The limiter's per-request kernel equals its twin bit for bit, and its measures mean what they say."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import observe as kernels
from patternlimit._kernels.reference import observe as reference
from patternlimit.sketches import CountMinSketch, HeavyHitters, SpreadSketch
from patternlimit.sketches.seen import SeenFilter


def fresh_state(seed: int, width: int = 32, spread_width: int = 16, precision: int = 4) -> tuple:  # type: ignore[type-arg]
    """Tiny sketches by default, so that keys collide and every branch of the twin is compared."""
    hits = CountMinSketch(width=width, depth=2, window=60.0, buckets=3, seed=seed)
    spread = {"width": spread_width, "depth": 2, "precision": precision, "window": 60.0, "buckets": 3}
    accounts = SpreadSketch(**spread, seed=seed + 1)
    young = SpreadSketch(**spread, seed=seed + 2)
    seen = SeenFilter(bits=64 * 4 if width == 32 else 1 << 16, hashes=2, window=60.0, buckets=3, seed=seed + 4)
    top = HeavyHitters(capacity=4, window=60.0, buckets=3, seed=seed + 3)
    return (*hits.kernel_args, *accounts.kernel_args, *young.kernel_args, *seen.kernel_args, *top.kernel_args)


def arrays(state: tuple) -> list[np.ndarray]:  # type: ignore[type-arg]
    """The state arrays the twin keeps (the spread memos, positions 7 and 12, are the kernels' private caches)."""
    return [value for index, value in enumerate(state) if isinstance(value, np.ndarray) and index not in (7, 12)]


REQUEST = st.tuples(
    st.lists(st.integers(0, 30), min_size=0, max_size=6),  # pattern keys (small: they collide)
    st.integers(0, 20),  # account
    st.integers(0, 5),  # content (text) hash
    st.integers(0, 4),  # network
    st.booleans(),  # young
    st.floats(-5.0, 40.0),  # time step
    st.integers(0, 3),  # cost
)


@settings(max_examples=80, deadline=None)
@given(
    requests=st.lists(REQUEST, min_size=1, max_size=40),
    seed=st.integers(0, 1 << 40),
    gate=st.integers(0, 4),
    copy_count=st.integers(0, 6),
)
def test_observe_request_matches_reference(requests, seed, gate, copy_count):
    jit_state, twin_state = fresh_state(seed), fresh_state(seed)
    now = 1000.0
    for keys, account, content, network, young, step, cost in requests:
        now = max(0.0, now + step)
        key_array = np.zeros(8, np.uint64)
        key_array[: len(keys)] = keys
        jit_out, twin_out = np.zeros((8, 7)), np.zeros((8, 7))
        scalars = (account, content, network, young, now, cost, gate, copy_count)
        kernels.observe_request(*jit_state, key_array, len(keys), *scalars, jit_out)
        reference.observe_request(*twin_state, key_array, len(keys), *scalars, twin_out)
        np.testing.assert_array_equal(jit_out, twin_out)  # NaN (skipped estimates) compares equal here
    for mine, theirs in zip(arrays(jit_state), arrays(twin_state), strict=True):
        np.testing.assert_array_equal(mine, theirs)


MEASURES = ("hits", "accounts", "young", "copies", "novel", "cohort", "concentration")


def observe(state, key, account, content, young, now=1000.0, network=0):  # type: ignore[no-untyped-def]
    out = np.zeros((1, 7))
    keys = np.array([key], np.uint64)
    kernels.observe_request(*state, keys, 1, account, content, network, young, now, 1, 0, 1, out)
    return dict(zip(MEASURES, out[0].tolist(), strict=True))


def test_measures_separate_coverage_from_duplication():
    state = fresh_state(1, width=4096)  # wide enough that no copy key collides
    for account in range(10):  # ten young accounts, ten different fillers on one pattern
        varied = observe(state, 7, account, 100 + account, young=True)
    for account in range(10):  # ten established accounts, one copied text on another pattern
        copied = observe(state, 9, 50 + account, 5, young=False)
    assert varied["hits"] == 10 and varied["novel"] == 10 and varied["copies"] == 1
    assert 7 <= varied["young"] <= 13 and 7 <= varied["accounts"] <= 13
    assert copied["hits"] == 10 and copied["novel"] == 1 and copied["copies"] == 10
    assert copied["young"] < 3  # established accounts are counted in accounts only


def test_estimates_below_the_gate_are_skipped_but_the_sketches_still_count():
    gated, open_ = fresh_state(2, width=4096), fresh_state(2, width=4096)
    for account in range(6):
        below = observe_gated(gated, 7, account, account, gate=5)
        observe_gated(open_, 7, account, account, gate=0)
    assert below["hits"] == 6 and not math.isnan(below["accounts"])  # 6 hits >= gate 5: estimated
    first = observe_gated(fresh_state(2, width=4096), 7, 0, 0, gate=5)
    assert first["hits"] == 1 and math.isnan(first["accounts"]) and math.isnan(first["young"])
    for mine, theirs in zip(arrays(gated), arrays(open_), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # the gate changes what is read, never what is counted


def observe_gated(state, key, account, content, gate):  # type: ignore[no-untyped-def]
    out = np.zeros((1, 7))
    keys = np.array([key], np.uint64)
    kernels.observe_request(*state, keys, 1, account, content, 0, True, 1000.0, 1, gate, 1, out)
    return dict(zip(MEASURES, out[0].tolist(), strict=True))


def test_the_comparison_fails_when_the_twin_forgets_young_accounts(monkeypatch):
    jit_state, twin_state = fresh_state(3), fresh_state(3)
    original = reference.spread_add
    calls = {"count": 0}

    def forgetful(*arguments):  # type: ignore[no-untyped-def]
        calls["count"] += 1
        return original(*arguments) if calls["count"] % 2 else 0.0  # every young update dropped

    monkeypatch.setattr(reference, "spread_add", forgetful)
    differs = False
    for account in range(20):
        jit_out, twin_out = np.zeros((1, 7)), np.zeros((1, 7))
        keys = np.array([4], np.uint64)
        kernels.observe_request(*jit_state, keys, 1, account, account, 0, True, 1000.0, 1, 0, 1, jit_out)
        reference.observe_request(*twin_state, keys, 1, account, account, 0, True, 1000.0, 1, 0, 1, twin_out)
        differs |= jit_out.tolist() != twin_out.tolist()
    assert differs


def test_the_cohort_counts_a_patterns_young_senders_from_the_requests_network():
    state = fresh_state(4, width=4096, spread_width=1024, precision=6)
    for account in range(30):  # a class: thirty young accounts behind one network, varied texts
        campus = observe(state, 7, account, 100 + account, young=True, network=5)
    for account in range(30):  # a proxy pool: thirty young accounts over thirty networks
        pooled = observe(state, 8, 200 + account, 300 + account, young=True, network=1000 + account)
    for account in range(10):  # established senders on the class's network are not young: not counted
        observe(state, 7, 500 + account, 600 + account, young=False, network=5)
    late = observe(state, 7, 99, 700, young=True, network=5)
    assert 25 <= campus["young"] <= 36 and campus["cohort"] >= 0.8 * campus["young"]
    assert late["cohort"] >= 0.8 * late["young"] and late["young"] <= 40
    assert 25 <= pooled["young"] <= 36 and pooled["cohort"] <= 3
    established = observe(state, 9, 1, 2, young=False, network=5)
    assert established["cohort"] < 2 and established["young"] < 2


def test_the_concentration_tells_a_class_with_stragglers_from_a_proxy_pool():
    state = fresh_state(5, width=1 << 14, spread_width=1024, precision=6)
    for account in range(34):  # thirty on the campus network, four from home, two requests each
        network = 5 if account < 30 else 900 + account
        for attempt in range(2):
            campus = observe(state, 7, account, 100 * account + attempt, young=True, network=network)
    straggler = observe(state, 7, 33, 999, young=True, network=933)
    for account in range(34):  # the same over thirty-four proxy prefixes
        for attempt in range(2):
            pooled = observe(state, 8, 500 + account, 100 * account + attempt, young=True, network=2000 + account)
    # (30 * 2)**2 + 4 * 2**2 over (34 * 2)**2 is 0.78; the straggler's own share is 1 / 34, its pattern's is not
    assert 0.7 <= campus["concentration"] <= 0.85 and 0.7 <= straggler["concentration"] <= 0.85
    assert straggler["cohort"] <= 2
    assert pooled["concentration"] <= 0.05  # 34 * 2**2 / 68**2 = 0.03
    assert observe(fresh_state(6), 7, 1, 1, young=False)["concentration"] == 0.0  # no young request: 0


def test_a_saturated_spread_sketch_reports_no_more_senders_than_requests():
    """A flood of one-shot keys fills every spread cell (a floor of about D / width distinct accounts on every
    key); a quiet pattern's senders stay bounded by its requests, young senders by senders, cohort by young, and
    the twin agrees."""
    jit_state, twin_state = fresh_state(9, width=1 << 12), fresh_state(9, width=1 << 12)
    for index in range(3000):  # 3,000 distinct one-shot keys from 3,000 young accounts
        keys = np.array([10_000 + index], np.uint64)
        for state, module in ((jit_state, kernels), (twin_state, reference)):
            row = np.zeros((1, 7))
            module.observe_request(*state, keys, 1, 50_000 + index, index, index, True, 1000.0, 1, 0, 1, row)
    flooded = observe(jit_state, 7, 1, 2, young=True)
    raw = SpreadSketch(width=16, depth=2, precision=4, window=60.0, buckets=3, seed=10)
    assert flooded["hits"] < 20 and flooded["accounts"] <= flooded["hits"] and flooded["young"] <= flooded["accounts"]
    assert flooded["cohort"] <= flooded["young"]
    twin = np.zeros((1, 7))
    reference.observe_request(*twin_state, np.array([7], np.uint64), 1, 1, 2, 0, True, 1000.0, 1, 0, 1, twin)
    assert twin[0].tolist()[:3] == [flooded["hits"], flooded["accounts"], flooded["young"]]
    # Without the bound the floor shows: the same flood read from the raw sketch reports far more than one sender.
    for index in range(3000):
        raw.add(10_000 + index, 50_000 + index, 1000.0)
    assert raw.estimate(7, 1000.0) > 5 * flooded["hits"]
