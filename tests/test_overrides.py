"""Operator overrides: a false positive undone at once, a confirmed template stopped at once, state cleared."""

from __future__ import annotations

from dataclasses import replace

import pytest

from patternlimit import Action, ConfigurationError, Limiter, Request
from patternlimit._testing import traffic
from patternlimit.policy.presets import DISTILLATION_DEFENSE

SECRET = b"test secret for the override test"


def _caught(limiter: Limiter) -> list[tuple[float, Request]]:
    """Run a campaign until it is throttled; returns its requests."""
    stream = traffic.campaign(accounts=150, per_account=8, prefixes=4)
    decisions = [limiter.check(request, now) for now, request in stream]
    assert sum(decision.action is Action.THROTTLE for decision in decisions) > 300
    return stream


def test_allowing_an_account_lifts_its_penalty_and_the_pattern_rules_at_once():
    limiter = Limiter(secret=SECRET)
    stream = _caught(limiter)
    now, request = stream[-1]
    assert limiter.check(request, now + 1).action is Action.THROTTLE
    limiter.allow(account=request.account, duration=3600, by="oncall", why="ticket 42", now=now)
    decision = limiter.check(request, now + 2)
    assert decision.action is Action.ALLOW and decision.rule == "override:allow"
    assert "oncall" in decision.reason and "ticket 42" in decision.reason
    other = next(item for _, item in reversed(stream) if item.account != request.account)
    assert limiter.check(other, now + 3).action is Action.THROTTLE  # only the allowed account
    assert [entry.action for entry in limiter.overrides(now=now + 4)] == ["allow"]
    assert limiter.overrides(now=now + 3601) == []  # expired
    assert limiter.check(request, now + 3602).action is Action.THROTTLE


def test_denying_a_template_by_a_sample_text_blocks_it_for_every_account():
    limiter = Limiter(secret=SECRET)
    sample = traffic.campaign(accounts=1, per_account=1)[0][1].text
    override = limiter.deny(text=sample, duration=600, why="confirmed campaign", now=traffic.START)
    assert override.scope == "pattern"
    for index in range(20):
        request = Request(account=f"buyer-{index}", ip=f"198.51.{index}.9", text=sample)
        decision = limiter.check(request, traffic.START + index)
        assert decision.action is Action.BLOCK and decision.rule == "override:deny"
        assert "confirmed campaign" in decision.reason
    organic = Request(account="someone", ip="192.0.2.1", text="What is a monad, in simple terms?")
    assert limiter.check(organic, traffic.START + 30).action is Action.ALLOW


def _stops_on(key: int | None) -> tuple[int, int]:
    """A campaign through a fresh limiter, with pattern ``key`` allowed from the start (None: nothing allowed):
    the first template key a rule stopped it on, and how many requests a pattern rule stopped on that key."""
    limiter = Limiter(secret=SECRET)
    if key is not None:
        limiter.allow(pattern=key, duration=86400, now=traffic.START - 1)
    decisions = [limiter.check(request, now) for now, request in traffic.campaign(accounts=150, per_account=8)]
    # an account penalty names the rule and pattern that caught it, but carries its offences instead of measures
    stopped = [d for d in decisions if not d.allowed and d.pattern is not None and "offences" not in d.scores]
    first = next(d.pattern.key for d in stopped if d.pattern.kind == "template")
    wanted = first if key is None else key
    return first, sum(d.pattern.key == wanted for d in stopped if d.rule != "override:allow")


def test_allowing_a_pattern_keeps_its_rules_off_that_pattern():
    key, stopped = _stops_on(None)
    assert stopped > 20
    _, stopped_when_allowed = _stops_on(key)  # the same secret gives the same keys
    assert stopped_when_allowed == 0


def test_a_deny_wins_over_an_allow():
    limiter = Limiter(secret=SECRET)
    request = Request(account="acme", ip="192.0.2.7", text="a prompt")
    limiter.allow(account="acme", duration=60, now=traffic.START)
    assert limiter.check(request, traffic.START + 1).rule == "override:allow"
    limiter.deny(network="192.0.2.0/24", duration=60, now=traffic.START)
    assert limiter.check(request, traffic.START + 2).rule == "override:deny"


def test_clear_forgets_a_penalty_and_a_taint():
    limiter = Limiter(secret=SECRET)
    _caught(limiter)
    later = traffic.START + 7300
    newcomer = Request(account="fresh", ip="198.51.0.77", text="hello there", account_created_at=later - 60)
    assert limiter.check(newcomer, later).rule == "escalation:network-taint"
    assert limiter.clear(network="198.51.0.0/24") is True
    assert limiter.check(replace(newcomer, account="fresh-2"), later + 1).allowed
    assert limiter.clear(account="never-seen") is False


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"duration": 60}, "exactly one"),
        ({"account": "a", "network": "1.2.3.4", "duration": 60}, "exactly one"),
        ({"account": "a", "duration": 0}, "duration"),
        ({"account": "a", "duration": float("inf")}, "duration"),
        ({"account": 5, "duration": 60}, "account must be"),
        ({"network": "not an address", "duration": 60}, "network must be"),
        ({"pattern": -1, "duration": 60}, "pattern must be"),
        ({"text": "", "duration": 60}, "text"),
        ({"account": "a", "duration": 60, "why": "x" * 500}, "why"),
    ],
)
def test_bad_override_arguments_are_refused_with_the_field_named(arguments, message):
    limiter = Limiter(secret=SECRET)
    with pytest.raises((ValueError, TypeError), match=message):
        limiter.allow(**arguments)
    assert limiter.overrides() == []


def test_reload_swaps_the_policy_keeps_the_counts_and_refuses_a_bad_one():
    limiter = Limiter(secret=SECRET)
    stream = traffic.campaign(accounts=150, per_account=8, prefixes=4)
    half = len(stream) // 2
    for now, request in stream[:half]:
        limiter.check(request, now)
    before = limiter.top_patterns(3, now=stream[half][0])
    with pytest.raises(ConfigurationError):
        limiter.reload({"rules": [{"type": "pattern", "name": "x", "kind": "template", "nonsense": 1}]})
    assert limiter.policy.name == DISTILLATION_DEFENSE.name  # the old policy still serves
    shadowed = DISTILLATION_DEFENSE.model_copy(update={"shadow": True})
    assert limiter.reload(shadowed) is True  # same capacity: the counts are kept
    assert limiter.top_patterns(3, now=stream[half][0]) == before
    decisions = [limiter.check(request, now) for now, request in stream[half:]]
    assert all(decision.allowed for decision in decisions)  # the shadow policy enforces nothing...
    assert sum(decision.shadowed is not None for decision in decisions) > 100  # ...and still sees the campaign


def test_reload_to_another_capacity_starts_the_sketches_afresh_and_keeps_overrides():
    limiter = Limiter(secret=SECRET)
    limiter.deny(account="mallory", duration=86400, now=traffic.START)
    for now, request in traffic.campaign(accounts=30, per_account=2):
        limiter.check(request, now)
    smaller = DISTILLATION_DEFENSE.model_copy(
        update={"capacity": DISTILLATION_DEFENSE.capacity.model_copy(update={"top_capacity": 256})}
    )
    assert limiter.reload(smaller) is False
    assert limiter.top_patterns(5, now=traffic.START + 10) == []
    assert limiter.check(Request(account="mallory", text="hi"), traffic.START + 11).rule == "override:deny"
