"""Decision -> problem+json response, framework-free; the header values, parsed back by an RFC 9651 parser."""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from patternlimit import Action, ConfigurationError, Decision, Limiter, load_policy
from patternlimit.integrations import WebConfig, rejection
from patternlimit.integrations.asgi import PatternLimitMiddleware
from patternlimit.integrations.fields import serialize_item, serialize_list
from patternlimit.integrations.responses import MAX_RETRY_AFTER, Quota, policy_field
from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware
from patternlimit.policy.models import LimitRule, Policy
from tests.integrations import support


def test_rejection_rounds_retry_after_up_and_only_exposes_the_reason_when_asked():
    decision = Decision(Action.THROTTLE, rule="template-fan-out", reason="85 young accounts", retry_after=0.2)
    status, headers, body = rejection(decision)
    problem = json.loads(body)
    assert status == 429 and dict(headers)["retry-after"] == "1" and "85" not in problem["detail"]
    _, _, body = rejection(decision, WebConfig(expose_reason=True))
    assert json.loads(body)["detail"] == "85 young accounts"
    blocked = Decision(Action.BLOCK, rule="escalation:network-taint", reason="r", scores={"limit": 3.0})
    status, headers, body = rejection(blocked)
    assert status == 403 and "retry-after" not in dict(headers)
    assert json.loads(body)["type"] == support.PROBLEM + "abnormal-usage-detected"
    assert "violated-policies" not in json.loads(body)  # a pattern rule's name is not the client's business
    assert support.sf_list(dict(headers)["ratelimit"]) == [("pattern", {"r": 0})]


@pytest.mark.parametrize("retry_after", [math.inf, 1e300, 10.0**20, float(MAX_RETRY_AFTER) + 0.5])
def test_an_infinite_or_huge_retry_after_is_clamped(retry_after):
    decision = Decision(Action.THROTTLE, rule="r", retry_after=retry_after, scores={"limit": 1.0})
    status, headers, body = rejection(decision, quotas={"r": Quota(1, 60)})
    assert status == 429 and dict(headers)["retry-after"] == str(MAX_RETRY_AFTER)
    assert support.sf_list(dict(headers)["ratelimit"]) == [("r", {"r": 0, "t": MAX_RETRY_AFTER})]
    assert json.loads(body)["retry_after"] == MAX_RETRY_AFTER


def test_a_nan_retry_after_sends_no_retry_after():
    status, headers, _ = rejection(Decision(Action.THROTTLE, rule="r", retry_after=math.nan))
    assert status == 429 and "retry-after" not in dict(headers)


NAMES = ['débit "max"\\', "règle\r\nX-Evil: 1", "limite 100%", "速率", "plain"]


def test_rule_names_of_any_text_stay_inside_one_header_and_distinct():
    quotas = {name: Quota(10 + index, 60) for index, name in enumerate(NAMES)}
    field = policy_field(quotas)
    assert field is not None and field.isascii() and field.isprintable()
    parsed = support.sf_list(field)
    assert [parameters for _, parameters in parsed] == [{"q": 10 + index, "w": 60} for index in range(len(NAMES))]
    assert len({name for name, _ in parsed}) == len(NAMES) and parsed[-1][0] == "plain"
    for name in NAMES:
        decision = Decision(Action.THROTTLE, rule=name, retry_after=5, scores={"limit": 1.0})
        _, headers, body = rejection(decision, quotas=quotas)
        assert all(value.isascii() and value.isprintable() for _, value in headers)
        assert json.loads(body)["violated-policies"] == [name]


@given(st.text(max_size=40), st.integers(min_value=0, max_value=10**12))
def test_any_name_serialises_to_a_list_a_parser_reads_back_as_one_item(name, quota):
    value = serialize_list([(name, [("q", quota), ("w", 60)])])
    [(parsed, parameters)] = support.sf_list(value)
    assert parameters == {"q": quota, "w": 60}
    assert parsed == name or any(char == "%" or not " " <= char <= "~" for char in name)
    assert serialize_item(name) == serialize_item(name)  # pure


def test_a_rule_name_with_crlf_and_non_ascii_text_answers_429_through_the_middleware():
    name = "débit\r\nX-Evil: 1"
    with pytest.raises(ConfigurationError, match="name"):
        load_policy({"rules": [{"type": "limit", "name": name, "limit": "1/minute"}]})  # the policy refuses it...
    # ...and were one to get through (a model built without validation), the headers still could not break
    rule = LimitRule.model_construct(**{**LimitRule(name="x", limit="1/minute", weighted=False).__dict__, "name": name})
    policy = Policy(rules=[rule])
    app = PatternLimitMiddleware(support.asgi_echo, limiter=Limiter(policy, secret=support.SECRET))

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [await http.post("/v1/messages", content=b"{}", headers={"x-api-key": "k"}) for _ in range(2)]

    ok, throttled = asyncio.run(go())
    assert ok.status_code == 200 and throttled.status_code == 429
    assert "x-evil" not in throttled.headers
    [(parsed, parameters)] = support.sf_list(throttled.headers["ratelimit-policy"])
    assert parsed == "d%C3%A9bit%0D%0AX-Evil: 1" and parameters == {"q": 1, "w": 60}
    assert throttled.json()["violated-policies"] == [name]


def test_headers_on_allowed_puts_the_same_policy_field_and_the_remaining_quota_on_every_response_asgi_and_wsgi():
    policy = Policy(rules=[LimitRule(name="per-key", limit="2/minute", weighted=False)])
    asgi = PatternLimitMiddleware(
        support.asgi_echo, limiter=Limiter(policy, secret=support.SECRET), headers_on_allowed=True
    )
    plain = PatternLimitMiddleware(support.asgi_echo, limiter=Limiter(policy, secret=support.SECRET))
    wsgi = PatternLimitWSGIMiddleware(
        support.wsgi_echo, limiter=Limiter(policy, secret=support.SECRET), headers_on_allowed=True
    )

    async def go(app) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [await http.post("/v1/m", content=b"{}", headers={"x-api-key": "k"}) for _ in range(3)]

    responses = asyncio.run(go(asgi))
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://api.test") as http:
        responses += [http.post("/v1/m", content=b"{}", headers={"x-api-key": "k"}) for _ in range(3)]
    assert [response.status_code for response in responses] == [200, 200, 429] * 2
    assert {response.headers["ratelimit-policy"] for response in responses} == {'"per-key";q=2;w=60'}
    assert support.sf_list(responses[0].headers["ratelimit-policy"]) == [("per-key", {"q": 2, "w": 60})]
    states = [support.sf_list(response.headers["ratelimit"]) for response in responses if response.status_code == 200]
    assert [state[0][1]["r"] for state in states] == [1, 0] * 2  # the quota left after each allowed request
    assert all(state[0][0] == "per-key" and 59 <= state[0][1]["t"] <= 60 for state in states)
    assert "ratelimit-policy" not in asyncio.run(go(plain))[0].headers  # off by default
