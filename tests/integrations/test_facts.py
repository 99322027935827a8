"""The framework-free request facts and responses: client IP walk, JSON paths, account digest, context cache."""

from __future__ import annotations

import concurrent.futures
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit import Action, ConfigurationError, Decision
from patternlimit.fingerprint import client_fingerprint
from patternlimit.integrations import WebConfig, rejection
from patternlimit.integrations.facts import (
    MISSING,
    AccountContext,
    ContextCache,
    RequestInfo,
    account_from,
    body_text,
    client_ip,
    default_account,
    headers_fingerprint,
    ip_resolver,
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


# -- the cached fast paths give what the plain functions give ------------------------------------------------------

_NAMES = ["host", "user-agent", "User-Agent", "x-api-key", "accept", "content-type", "x-forwarded-for", "a\nb", "1"]
_header_lists = st.lists(
    st.tuples(st.sampled_from(_NAMES), st.sampled_from(["curl/8.0", "Mozilla/5.0 (X11) Firefox/126.0", "", "x"])),
    max_size=70,
)


@settings(max_examples=300, deadline=None)
@given(_header_lists, st.booleans())
def test_the_cached_header_fingerprint_is_client_fingerprint(pairs, as_bytes):
    # repeated names, upper-case names, a name with a newline, more than 64 headers: each is cached or not, never wrong
    if as_bytes:
        pairs = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
    names = [name for name, _ in pairs]
    agent = b"user-agent" if as_bytes else "user-agent"
    user_agent = next((value for name, value in pairs if name == agent), None)
    joined = (b"\n" if as_bytes else "\n").join(names)  # type: ignore[attr-defined]
    for _ in range(2):  # the miss, then the hit
        assert headers_fingerprint(pairs, joined, len(pairs), user_agent) == client_fingerprint(pairs)


def test_a_cached_fingerprint_is_not_reused_for_a_name_holding_a_newline():
    plain = [(b"x-api-key", b""), (b"host", b"")]  # both volatile: no names count
    tricky = [(b"x-api-key\nhost", b"")]  # one odd name, kept: the same joined names, another fingerprint
    results = [headers_fingerprint(pairs, b"x-api-key\nhost", len(pairs), None) for pairs in (plain, tricky)]
    assert results == [client_fingerprint(plain), client_fingerprint(tricky)] and results[0] != results[1]


def _reference_body_text(body: bytes, complete: bool, json_fields: tuple[str, ...]) -> str | bytes:
    """body_text as it was written first: json.loads, then every path."""
    if json_fields and complete and body:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return body
        found: list[str] = []
        for path in json_fields:
            found.extend(select_json(document, parse_json_path(path)))
        if found:
            return "\n".join(found)
    return body


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["prompt", "messages", "content"]), inner)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    _json,
    st.sampled_from(["", " ", "\n\t", "\u00a0"]),
    st.sampled_from(["", " ", "\r\n", " x", "}", "\u00a0"]),
    st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-8-sig"]),
    st.integers(min_value=0, max_value=3),
)
def test_body_text_parses_exactly_as_json_loads(document, before, after, encoding, cut):
    body = (before + json.dumps(document, ensure_ascii=False) + after).encode(encoding, "surrogatepass")
    body = body[: len(body) - cut] if cut else body  # truncated bodies too
    fields = ("messages[*].content", "prompt")
    assert body_text(body, True, fields) == _reference_body_text(body, True, fields)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32-le"])
def test_body_text_reads_every_encoding_json_loads_reads(encoding):
    body = json.dumps({"prompt": "h\u00e9llo"}, ensure_ascii=False).encode(encoding)
    assert body_text(body, True, ("prompt",)) == "h\u00e9llo"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_body_text_falls_back_on_any_bytes_exactly_as_json_loads(tail):
    fields = ("prompt", "messages[*].content")
    for body in (tail, b"{" + tail, b'{"prompt": "a"}' + tail, b"{\x00" + tail):
        assert body_text(body, True, fields) == _reference_body_text(body, True, fields)


@pytest.mark.parametrize(
    ("authorization", "api_key"),
    [
        ("Bearer sk-1", None),
        ("bearer  sk-1 ", "other"),
        ("Basic abc", None),
        ("", "sk-2"),
        (None, " sk-2\u00a0"),  # Latin-1 0xA0 is whitespace to str.strip: the bytes path must agree
        ("\x85Bearer sk-3", None),
        ("   ", "sk-4"),
        (None, None),
        ("sk-" + "x" * 300, None),  # past the cache
    ],
)
def test_the_account_is_the_same_from_raw_bytes_and_from_text(authorization, api_key):
    key = b"k" * 32
    pairs = [
        (name, value) for name, value in (("authorization", authorization), ("x-api-key", api_key)) if value is not None
    ]
    expected = default_account(RequestInfo("GET", "/", tuple(pairs)), key)
    raw = [None if value is None else value.encode("latin-1") for value in (authorization, api_key)]
    assert account_from(raw[0], raw[1], key) == account_from(authorization, api_key, key) == expected
    assert account_from(raw[0], raw[1], key) == expected  # again, from the cache


@pytest.mark.parametrize(
    ("peer", "xff"),
    [
        ("10.0.0.1", "1.1.1.1"),
        ("10.0.0.1", "6.6.6.6, 1.1.1.1, 10.0.0.7"),
        ("10.0.0.1", "garbage"),
        ("10.0.0.1", ""),
        ("10.0.0.1", None),
        ("8.8.8.8", "1.1.1.1"),
        ("10.0.0.1", ", ".join(f"6.6.{index // 250}.{index % 250}" for index in range(100)) + ", 1.1.1.1"),
    ],
)
def test_the_raw_header_ip_resolver_agrees_with_client_ip(peer, xff):
    config = WebConfig(trusted_proxies=("10.0.0.0/8",))
    resolve = ip_resolver(config.trusted, "x-forwarded-for")
    info = RequestInfo("GET", "/", (("x-forwarded-for", xff),) if xff is not None else (), peer)
    raw = xff.encode("latin-1") if xff is not None else None
    assert resolve(peer, raw) == resolve(peer, raw) == client_ip(info, config.trusted, "x-forwarded-for")


def test_the_context_cache_stays_consistent_under_threads():
    cache: ContextCache[str] = ContextCache(capacity=8, ttl=60.0)
    wrong: list[object] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(20_000):
            account = f"a{rng.randrange(40)}"
            if rng.random() < 0.5:
                cache.put(account, account.upper())
            else:
                value = cache.get(account)  # a miss, or this account's own value
                if value is not MISSING and value != account.upper():
                    wrong.append(value)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))  # re-raises any KeyError from a racing eviction
    assert wrong == [] and len(cache) <= 8
