"""The cost known after the response: Limiter.charge against the exact limit rules, and Limiter.limit_state."""

from __future__ import annotations

import asyncio
import random

import pytest

from patternlimit import Action, Limiter, Request
from patternlimit._testing import traffic
from patternlimit.errors import InvalidRequestError
from patternlimit.policy.models import LimitRule, Policy

SECRET = b"test secret for the charge tests"
T0 = 1_700_000_000.0


def _limiter(strategy: str = "fixed-window", per: str = "account") -> Limiter:
    rules = [
        LimitRule(name="requests", limit="100/minute", weighted=False),
        LimitRule(name="tokens", limit="10000/hour", weighted=False, strategy=strategy, per=per),
    ]
    return Limiter(Policy(rules=rules), secret=SECRET, clock="replay")


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window"])
def test_tokens_charged_after_each_response_stop_the_account_once_its_window_is_full(strategy):
    limiter = _limiter(strategy)
    request = Request(account="acct", text="write me a poem")
    other = Request(account="other", text="write me a poem")
    served = 0
    for step in range(10):
        decision = limiter.check(request, T0 + step)
        if decision.action is not Action.ALLOW:
            break
        served += 1
        limiter.charge(request, 3000, rules=["tokens"], now=T0 + step)
    # 3000 + 3000 + 3000 fit in 10000, the fourth takes it over: the fifth request is refused.
    assert served == 4
    assert decision.action is Action.THROTTLE and decision.rule == "tokens"
    assert 3590 < decision.retry_after <= 3600
    assert limiter.check(other, T0 + 11).action is Action.ALLOW  # per account
    assert limiter.check(request, T0 + 3700).action is Action.ALLOW  # a new window


def test_the_charge_that_fills_a_window_says_so_and_only_named_rules_are_charged():
    limiter = _limiter()
    request = Request(account="acct")
    limiter.check(request, T0)
    assert limiter.charge(request, 9000, rules="tokens", now=T0).action is Action.ALLOW
    over = limiter.charge(request, 5000, rules=("tokens",), now=T0)
    assert over.action is Action.THROTTLE and over.rule == "tokens"
    states = {state.rule: state for state in limiter.limit_state(request, now=T0)}
    assert states["requests"].remaining == 99  # the check's hit; the tokens never reached this rule
    assert states["tokens"].limit == 10000 and states["tokens"].remaining == 0


def test_every_limit_rule_is_charged_when_none_is_named_and_a_zero_cost_is_nothing():
    limiter = _limiter()
    request = Request(account="acct")
    assert limiter.charge(request, 0, now=T0).action is Action.ALLOW
    assert [state.remaining for state in limiter.limit_state(request, now=T0)] == [100, 10000]
    decision = limiter.charge(request, 150, now=T0)
    assert decision.rule == "requests"
    assert [state.remaining for state in limiter.limit_state(request, now=T0)] == [0, 9850]


def test_a_per_pattern_token_limit_counts_the_template_across_accounts():
    limiter = _limiter(per="template")
    rng = random.Random(3)
    for index in range(4):
        request = Request(account=f"acct-{index}", text=traffic.campaign_prompt(rng))
        assert limiter.check(request, T0 + index).action is Action.ALLOW
        limiter.charge(request, 3000, rules=["tokens"], now=T0 + index)
    fifth = Request(account="acct-5", text=traffic.campaign_prompt(rng))
    decision = limiter.check(fifth, T0 + 5)
    assert decision.rule == "tokens" and decision.pattern.kind == "template"
    assert limiter.check(Request(account="acct-6", text="an unrelated question about tides"), T0 + 6).allowed


def test_limit_state_counts_nothing_and_follows_the_standing_weight():
    rules = [LimitRule(name="tokens", limit="1000/hour", strategy="fixed-window")]
    limiter = Limiter(Policy(rules=rules), secret=SECRET, clock="replay")
    young = Request(account="new", account_created_at=T0 - 60)
    before = limiter.limit_state(young, now=T0)
    assert before == limiter.limit_state(young, now=T0)
    [state] = before
    assert state.rule == "tokens" and state.limit == 500 and state.remaining == 500  # young weight 0.5
    assert 3599 <= state.reset <= 3600


def test_acharge_charges_like_charge():
    limiter = _limiter()
    request = Request(account="acct")
    assert asyncio.run(limiter.acharge(request, 10001, rules=["tokens"], now=T0)).rule == "tokens"
    assert limiter.check(request, T0 + 1).rule == "tokens"


def test_bad_costs_and_rule_names_are_clear_errors():
    limiter = _limiter()
    request = Request(account="acct")
    for cost in (-1, 1.5, True, 1 << 32, "10"):
        with pytest.raises(InvalidRequestError, match="cost"):
            limiter.charge(request, cost, now=T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'tokenz' not among the policy's limit rules"):
        limiter.charge(request, 5, rules=["tokenz"], now=T0)
    with pytest.raises(InvalidRequestError):
        limiter.charge("not a request", 5, now=T0)  # type: ignore[arg-type]


def test_a_charge_in_one_process_stops_the_account_in_another_on_one_redis():
    from patternlimit._testing.redis_server import redis_url

    rules = [LimitRule(name="tokens", limit="10000/hour", weighted=False, strategy="fixed-window")]
    with redis_url() as url:
        options = {"namespace": "charge-test-" + str(random.random()), "sync_interval": 0.05}
        first = Limiter(Policy(rules=rules), storage=url, storage_options=options, secret=SECRET)
        second = Limiter(Policy(rules=rules), storage=url, storage_options=options, secret=SECRET)
        try:
            request = Request(account="acct")
            assert second.check(request).allowed
            first.charge(request, 12000)
            first.sync()
            second.sync()
            decision = second.check(request)
            assert decision.action is Action.THROTTLE and decision.rule == "tokens"
        finally:
            first.close()
            second.close()
