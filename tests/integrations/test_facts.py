"""The framework-free request facts and responses: client IP walk, JSON paths, account digest, context cache."""

from __future__ import annotations

import json

import pytest

from patternlimit import Action, ConfigurationError, Decision
from patternlimit.integrations import WebConfig, rejection
from patternlimit.integrations.facts import (
    MISSING,
    AccountContext,
    ContextCache,
    RequestInfo,
    body_text,
    client_ip,
    default_account,
    parse_json_path,
    select_json,
)


def networks(*cidrs: str):  # type: ignore[no-untyped-def]
    return WebConfig(trusted_proxies=cidrs).trusted


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("10.0.0.1", "1.1.1.1", "1.1.1.1"),  # one trusted proxy
        ("10.0.0.1", "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # the client prepended a claim: ignored
        ("10.0.0.1", "1.1.1.1, 10.0.0.7", "1.1.1.1"),  # two proxies of ours
        ("10.0.0.1", "10.0.0.9, 10.0.0.7", "10.0.0.9"),  # every hop ours: the leftmost
        ("10.0.0.1", "1.1.1.1, garbage", "10.0.0.1"),  # unparseable: stop at the last trusted hop
        ("10.0.0.1", "[2001:db8::1]:443, 1.2.3.4:8080", "1.2.3.4"),  # ports stripped
        ("8.8.8.8", "1.1.1.1", "8.8.8.8"),  # an untrusted peer is the client
        ("::ffff:10.0.0.1", "1.1.1.1", "1.1.1.1"),  # an IPv4-mapped peer matches the IPv4 CIDR
    ],
)
def test_x_forwarded_for_is_walked_right_to_left_past_trusted_proxies(peer, xff, expected):
    info = RequestInfo("GET", "/", (("x-forwarded-for", xff),), peer)
    assert client_ip(info, networks("10.0.0.0/8"), "x-forwarded-for") == expected


def test_several_forwarding_header_lines_are_one_list():
    info = RequestInfo("GET", "/", (("x-forwarded-for", "9.9.9.9"), ("x-forwarded-for", "1.1.1.1")), "10.0.0.1")
    assert client_ip(info, networks("10.0.0.0/8"), "x-forwarded-for") == "1.1.1.1"


def test_json_paths_parse_and_select_strings():
    assert parse_json_path("messages[*].content") == ("messages", None, "content")
    assert parse_json_path("a.b[0][*].c") == ("a", "b", 0, None, "c")
    for bad in ("", "a..b", "a[x]", "a[", "[0]"):
        with pytest.raises(ConfigurationError, match="json_fields"):
            parse_json_path(bad)
    document = {
        "messages": [
            {"content": "one"},
            {"content": [{"type": "text", "text": "two"}, {"type": "image", "data": 3}]},
            {"role": "x"},
        ],
        "prompt": 5,
    }
    assert select_json(document, parse_json_path("messages[*].content")) == ["one", "text", "two", "image"]
    assert select_json(document, parse_json_path("messages[1].content[0].text")) == ["two"]
    assert select_json(document, parse_json_path("messages[-1].role")) == ["x"]
    assert select_json(document, parse_json_path("prompt")) == []
    assert select_json([1], parse_json_path("a[*]")) == []


def test_body_text_uses_json_fields_only_for_complete_valid_json():
    body = json.dumps({"prompt": "write a poem"}).encode()
    assert body_text(body, True, ("prompt",)) == "write a poem"
    assert body_text(body, False, ("prompt",)) == body  # truncated: raw
    assert body_text(body, True, ()) == body
    assert body_text(b"[" * 100_000, True, ("prompt",)) == b"[" * 100_000  # deeply nested: raw, no RecursionError
    assert body_text(b'{"other": 1}', True, ("prompt",)) == b'{"other": 1}'


def test_the_default_account_is_a_keyed_digest_of_the_credential():
    key = b"k" * 32
    bearer = RequestInfo("GET", "/", (("authorization", "Bearer sk-123"),))
    api_key = RequestInfo("GET", "/", (("x-api-key", "sk-123"),))
    assert default_account(bearer, key) == default_account(api_key, key)  # the same credential, however sent
    assert default_account(bearer, key) != default_account(bearer, b"j" * 32)
    assert default_account(RequestInfo("GET", "/"), key) is None
    assert "sk-123" not in (default_account(bearer, key) or "")


def test_the_context_cache_is_bounded_and_expires():
    clock = [0.0]
    cache = ContextCache(capacity=2, ttl=10.0, clock=lambda: clock[0])
    context = AccountContext(created_at=1.0)
    cache.put("a", context)
    cache.put("b", None)
    assert cache.get("a") is context  # a is now the most recent
    cache.put("c", context)
    assert cache.get("b") is MISSING and cache.get("a") is context and len(cache) == 2
    assert cache.get("c") is context
    clock[0] = 10.0
    assert cache.get("a") is MISSING and cache.get("c") is MISSING


def test_account_context_attributes_and_datetimes():
    from datetime import UTC, datetime

    context = AccountContext(created_at=datetime(2025, 1, 1, tzinfo=UTC), plan="free", attributes={"tier": "1"})
    assert context.created_epoch == datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    assert dict(context.request_attributes()) == {"tier": "1", "plan": "free"}


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
    assert json.loads(body)["type"].endswith("/abnormal-usage-detected")
    assert dict(headers)["ratelimit"] == '"pattern";r=0'


def test_long_forwarding_headers_and_credentials_are_handled_without_the_caches():
    claims = ", ".join(f"6.6.{index // 250}.{index % 250}" for index in range(100))  # ~1,200 characters
    info = RequestInfo("GET", "/", (("x-forwarded-for", claims + ", 1.1.1.1"),), "10.0.0.1")
    assert client_ip(info, networks("10.0.0.0/8"), "x-forwarded-for") == "1.1.1.1"
    long_key = "sk-" + "x" * 1000
    first = default_account(RequestInfo("GET", "/", (("x-api-key", long_key),)), b"k" * 32)
    again = default_account(RequestInfo("GET", "/", (("authorization", f"Bearer {long_key}"),)), b"k" * 32)
    assert first == again and first is not None and len(first) == 28
