"""Hostile input: every Request field, time and batch has a defined outcome, and no time can move the clock.

The hypothesis tests run ``PATTERNLIMIT_FUZZ_EXAMPLES`` examples each (default 60, so CI stays fast); set it to
50000 for the full run described in docs/security.md.
"""

from __future__ import annotations

import math
import os
import random
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patternlimit import Action, InvalidRequestError, Limiter, Request
from patternlimit._testing import traffic
from patternlimit.engine.shared import SharedState
from patternlimit.storage.journal import Journal, decode

SECRET = b"hostile input test secret, 32 B!"
FUZZ = settings(
    max_examples=int(os.environ.get("PATTERNLIMIT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HOUR = 3600.0


@pytest.fixture(scope="module")
def limiter() -> Limiter:
    return Limiter(secret=SECRET)


# -- Request fields ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"account": 5}, "Request.account"),
        ({"account_created_at": 10**400}, "Request.account_created_at"),
        ({"account_created_at": 1.7e12}, "milliseconds"),
        ({"account_created_at": "2024-01-01"}, "Request.account_created_at"),
        ({"account_created_at": True}, "Request.account_created_at"),
        ({"route": None}, "Request.route"),
        ({"client": None}, "Request.client"),
        ({"ip": None}, "Request.ip"),
        ({"attributes": None}, "Request.attributes"),
        ({"attributes": {"plan": None}}, "Request.attributes"),
        ({"attributes": {1: "x"}}, "Request.attributes"),
        ({"text": None}, "Request.text"),
        ({"text": 42}, "Request.text"),
        ({"cost": -1}, "Request.cost"),
        ({"cost": 1 << 32}, "Request.cost"),
        ({"cost": 1.5}, "Request.cost"),
        ({"cost": True}, "Request.cost"),
    ],
)
def test_a_bad_field_is_refused_when_the_request_is_built(fields, named):
    with pytest.raises(InvalidRequestError, match=named):
        Request(**fields)


def test_the_request_error_is_a_type_and_a_value_error():
    with pytest.raises(TypeError):
        Request(account=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Request(cost=-1)


def test_what_has_one_meaning_is_converted():
    assert Request(text=memoryview(b"abc")).text == b"abc"  # type: ignore[arg-type]
    assert Request(text=bytearray(b"abc")).text == b"abc"  # type: ignore[arg-type]
    aware = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    assert Request(account_created_at=aware).account_created_at == aware.timestamp()  # type: ignore[arg-type]
    naive = datetime(2025, 1, 1)
    expected = naive.replace(tzinfo=UTC).timestamp()
    assert Request(account_created_at=naive).account_created_at == expected  # type: ignore[arg-type]
    assert Request(account_created_at=1_700_000_000).account_created_at == 1.7e9
    assert math.isnan(Request(account_created_at=float("nan")).account_created_at or 0.0)
    attributes = {"plan": "free"}
    request = Request(attributes=attributes)
    attributes["plan"] = None  # type: ignore[assignment]
    assert request.attributes == {"plan": "free"}  # a copy: later changes do not reach the limiter


def test_a_busy_key_never_raises_later(limiter):
    """A field that once failed only on a busy key's 16th request (``_Sample.of``) is refused at once now; odd
    but valid values pass every time."""
    request = Request(account="busy", ip="203.0.113.9", text=memoryview(b"same text"), client="")  # type: ignore[arg-type]
    decisions = [limiter.check(request, traffic.START + index) for index in range(40)]
    assert len(decisions) == 40


def test_check_refuses_bad_times(limiter):
    for now in (float("inf"), float("nan"), -1.0, 1e12, True, "1700000000", None.__class__):
        with pytest.raises(InvalidRequestError, match="now"):
            limiter.check(Request(), now)  # type: ignore[arg-type]


def test_check_many_is_all_or_nothing_and_names_the_index():
    limiter = Limiter(secret=SECRET)
    good = Request(account="a", ip="203.0.113.1", text="hello")
    batch = [good] * 99 + ["not a request"]
    with pytest.raises(InvalidRequestError, match=r"requests\[99\]"):
        limiter.check_many(batch, traffic.START)  # type: ignore[list-item]
    times = [traffic.START] * 99 + [float("inf")]
    with pytest.raises(InvalidRequestError, match=r"now\[99\]"):
        limiter.check_many([good] * 100, times)
    with pytest.raises(InvalidRequestError, match="one per request"):
        limiter.check_many([good] * 2, [traffic.START])
    # Nothing was counted: the account's first request is still the first.
    assert limiter.top_patterns(now=traffic.START) == []
    assert len(limiter.check_many(iter([good, good]), traffic.START)) == 2  # any iterable


# -- the clock -------------------------------------------------------------------------------------------------------


def slow_young_traffic() -> list[tuple[float, Request]]:
    """80 young accounts sending one templated request every 5 hours over 33 days: never a fan-out within a
    window, so a clock that expires windows throttles none of it."""
    rng = random.Random(3)
    out = []
    for index in range(160):
        now = traffic.START + index * 5 * HOUR
        account = index % 80
        request = Request(
            account=f"slow-{account}",
            ip=traffic.ip(rng),
            text=traffic.campaign_prompt(rng),
            account_created_at=now - HOUR,
        )
        out.append((now, request))
    return out


SKEWED = Request(account="skewed", ip="198.51.100.7", text="an unrelated request with a broken clock")


def run(limiter: Limiter, skew: float | None, batched: bool = False) -> list[Action]:
    """The slow traffic's actions, with one request at ``first time + skew`` after the first request."""
    stream = slow_young_traffic()
    actions = []
    for index, (now, request) in enumerate(stream):
        if batched:
            batch, times = [request], [now]
            if index == 1 and skew is not None:
                batch, times = [SKEWED, request], [stream[0][0] + skew, now]
            actions.append(limiter.check_many(batch, times)[-1].action)
            continue
        if index == 1 and skew is not None:
            limiter.check(SKEWED, stream[0][0] + skew)
        actions.append(limiter.check(request, now).action)
    return actions


@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("skew", [1e9, -1e9])
def test_a_far_future_or_far_past_time_changes_no_later_decision(skew, batched):
    control = run(Limiter(secret=SECRET), None, batched)
    assert control.count(Action.ALLOW) + control.count(Action.LOG) == len(control)
    skewed_limiter = Limiter(secret=SECRET)
    assert run(skewed_limiter, skew, batched) == control
    assert skewed_limiter._clock.adjusted == 1


def test_times_each_a_little_ahead_cannot_walk_the_clock_away():
    limiter = Limiter(secret=SECRET)
    start = time.time()
    for step in range(20):
        limiter.check(SKEWED, start + 290.0 * step)
    assert limiter._clock.latest <= time.time() + 300.0
    assert limiter._clock.adjusted >= 18


def test_replay_mode_takes_times_as_given():
    """The rule the live clock enforces can fail: taken as given, one far-future time throttles slow traffic."""
    control = run(Limiter(secret=SECRET, clock="replay"), None)
    skewed = run(Limiter(secret=SECRET, clock="replay"), 1e9)
    assert skewed != control


def test_records_from_a_skewed_process_change_no_later_decision():
    stream = slow_young_traffic()
    # Another process whose clock is 1e9 s ahead (replay mode takes its time as given) records one request.
    other = Limiter(secret=SECRET, clock="replay")
    journal = Journal(1 << 20)
    other._decider.journal = other._decider.patterns.journal = journal
    other.check(SKEWED, stream[0][0] + 1e9)
    other._decider.memory.flag(12345, "young-fan-out", stream[0][0] + 1e9)
    journal.event("f", 12345, "young-fan-out", stream[0][0] + 1e9 + 86400)
    (blob,) = journal.drain()

    def actions(apply: bool) -> tuple[list[Action], int]:
        limiter = Limiter(secret=SECRET)
        port = SharedState(limiter._decider, limiter.secret_id)
        malformed = 0
        out = []
        for index, (now, request) in enumerate(stream):
            if index == 1 and apply:
                with limiter._decider.lock:
                    malformed = port.apply(decode(blob))
            out.append(limiter.check(request, now).action)
        return out, malformed

    control, _ = actions(False)
    applied, malformed = actions(True)
    assert applied == control
    assert malformed >= 2  # the observation and the flag's expiry were both brought back to this clock


def test_the_clock_options_are_checked():
    from patternlimit import ConfigurationError

    with pytest.raises(ConfigurationError, match="clock"):
        Limiter(secret=SECRET, clock="wall")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="clock_tolerance"):
        Limiter(secret=SECRET, clock_tolerance=float("inf"))


# -- hypothesis over the public surface -------------------------------------------------------------------------------

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.builds(memoryview, st.binary(max_size=20)),
)
TEXT = st.one_of(st.text(max_size=300), st.binary(max_size=300), st.sampled_from(["", " ", "\x00", "\ud800"]))
FIELDS = {
    "account": st.one_of(st.none(), st.text(max_size=30), ANYTHING),
    "ip": st.one_of(
        st.sampled_from(["", "203.0.113.7", "::ffff:1.2.3.4", "[2001:db8::1]:443", "fe80::1%eth0", "10.0.0.1"]),
        st.ip_addresses().map(str),
        st.text(max_size=60),
        ANYTHING,
    ),
    "text": st.one_of(TEXT, ANYTHING),
    "route": st.one_of(st.text(max_size=30), ANYTHING),
    "client": st.one_of(st.text(max_size=30), ANYTHING),
    "account_created_at": st.one_of(st.floats(), st.integers(), ANYTHING),
    "cost": st.one_of(st.integers(min_value=-2, max_value=1 << 33), ANYTHING),
    "attributes": st.one_of(
        st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
        st.dictionaries(ANYTHING.filter(lambda value: value.__hash__ is not None), ANYTHING, max_size=2),
        ANYTHING,
    ),
}
TIMES = st.one_of(
    st.floats(min_value=traffic.START - 1e6, max_value=traffic.START + 1e10),
    st.floats(),
    st.integers(min_value=-1, max_value=10**13),
    ANYTHING,
)


def build(fields: dict[str, object]) -> Request | None:
    try:
        return Request(**fields)  # type: ignore[arg-type]
    except InvalidRequestError as exc:
        assert str(exc).startswith("Request.")
        return None


@FUZZ
@given(fields=st.fixed_dictionaries({}, optional=FIELDS), now=TIMES)
def test_any_request_is_refused_at_once_or_checked_every_time(limiter, fields, now):
    request = build(fields)
    if request is None:
        return
    try:
        decision = limiter.check(request, now)  # type: ignore[arg-type]
    except InvalidRequestError as exc:
        assert "now" in str(exc)
        return
    assert isinstance(decision.action, Action)
    for offset in range(17):  # the 16th request of a busy key once took another path
        limiter.check(request, traffic.START + offset)


@FUZZ
@given(
    items=st.lists(
        st.one_of(
            st.fixed_dictionaries({}, optional=FIELDS).map(lambda fields: (True, fields)),
            ANYTHING.map(lambda value: (False, value)),
        ),
        max_size=12,
    ),
    times=st.one_of(TIMES, st.lists(TIMES, max_size=13)),
)
def test_any_batch_is_decided_whole_or_refused_whole(limiter, items, times):
    requests = [build(item) if is_fields else item for is_fields, item in items]
    try:
        decisions = limiter.check_many(requests, times)  # type: ignore[arg-type]
    except InvalidRequestError as exc:
        assert "check_many" in str(exc) or "now" in str(exc)
        return
    assert len(decisions) == len(requests)
