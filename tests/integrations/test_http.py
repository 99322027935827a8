"""Requests as the hooks see them: the client address walk behind proxies, and the cached client string."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit.fingerprint import client_fingerprint
from patternlimit.integrations import WebConfig
from patternlimit.integrations.http import RequestInfo, client_ip, client_of, headers_fingerprint, ip_resolver


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


def test_a_long_forwarding_header_is_walked_without_the_cache():
    claims = ", ".join(f"6.6.{index // 250}.{index % 250}" for index in range(100))  # ~1,200 characters
    info = RequestInfo("GET", "/", (("x-forwarded-for", claims + ", 1.1.1.1"),), "10.0.0.1")
    assert client_ip(info, networks("10.0.0.0/8"), "x-forwarded-for") == "1.1.1.1"


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


def test_the_client_string_takes_a_tls_fingerprint_only_when_given_one_that_is_not_blank():
    pairs = [("user-agent", "curl/8.0"), ("accept", "*/*")]
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
    from_headers = client_fingerprint(pairs)
    assert client_of(pairs, "user-agent\naccept", "curl/8.0", None) == from_headers
    assert client_of(pairs, "user-agent\naccept", "curl/8.0", "  ") == from_headers  # blank: absent
    assert client_of(raw, b"user-agent\naccept", b"curl/8.0", b" ") == from_headers
    tls = client_fingerprint(pairs, tls="t13d1516h2_abc_def")
    assert client_of(pairs, "user-agent\naccept", "curl/8.0", "t13d1516h2_abc_def") == tls
    assert client_of(raw, b"user-agent\naccept", b"curl/8.0", b"t13d1516h2_abc_def") == tls


# -- the cached header fingerprint gives what the plain function gives --------------------------------------------

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
