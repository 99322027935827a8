"""Client fingerprints: TLS wins; otherwise header-name order and masked User-Agent products, no secrets, bounded."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit.fingerprint import client, client_fingerprint

REQUESTS_HEADERS = [
    ("Host", "api.example.com"),
    ("User-Agent", "python-requests/2.31.0"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Accept", "*/*"),
    ("Connection", "keep-alive"),
    ("Authorization", "Bearer sk-live-SECRETSECRETSECRET"),
    ("Content-Type", "application/json"),
    ("Content-Length", "512"),
]


def test_tls_fingerprint_wins():
    ja4 = "t13d1516h2_8daaf6152771_b186095e22b6"
    assert client_fingerprint(REQUESTS_HEADERS, tls=ja4) == "tls:" + ja4
    assert client_fingerprint([], tls=ja4) == client_fingerprint({"user-agent": "curl/8.0"}, tls=ja4)


def test_long_or_unsafe_tls_strings_are_hashed_or_cleaned():
    ja3 = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392,0-23-65281-10-11-35-16-5-13-18-51-45-43,29-23-24,0"
    result = client_fingerprint([], tls=ja3)
    assert re.fullmatch(r"tls:[0-9a-f]{16}", result)
    assert result == client_fingerprint([], tls=ja3) != client_fingerprint([], tls=ja3 + "-1")
    assert client_fingerprint([], tls="t13d\n<script>|x") == "tls:t13dscriptx"


def test_blank_tls_falls_back_to_headers():
    assert client_fingerprint(REQUESTS_HEADERS, tls="  ") == client_fingerprint(REQUESTS_HEADERS)


def test_header_fingerprint_format_and_masked_versions():
    result = client_fingerprint(REQUESTS_HEADERS)
    assert re.fullmatch(r"hdr:[0-9a-f]{8}\|ua:python-requests/\{v\}", result)
    newer = [(name, "python-requests/2.32.3" if name == "User-Agent" else value) for name, value in REQUESTS_HEADERS]
    assert client_fingerprint(newer) == result


def test_volatile_headers_are_ignored():
    noisy = [*REQUESTS_HEADERS[:3], ("X-Request-Id", "abc"), ("traceparent", "00-1-2-01"), *REQUESTS_HEADERS[3:]]
    noisy += [("Cookie", "session=1"), ("X-Forwarded-For", "1.2.3.4"), ("CF-Ray", "x"), ("X-Amzn-Trace-Id", "y")]
    assert client_fingerprint(noisy) == client_fingerprint(REQUESTS_HEADERS)
    without_auth = [pair for pair in REQUESTS_HEADERS if pair[0] not in ("Authorization", "Host", "Content-Length")]
    assert client_fingerprint(without_auth) == client_fingerprint(REQUESTS_HEADERS)


def test_header_order_and_set_matter():
    swapped = [
        REQUESTS_HEADERS[0],
        REQUESTS_HEADERS[1],
        REQUESTS_HEADERS[3],
        REQUESTS_HEADERS[2],
        *REQUESTS_HEADERS[4:],
    ]
    extra = [*REQUESTS_HEADERS, ("X-Stainless-Lang", "python")]
    fingerprints = {client_fingerprint(headers) for headers in (REQUESTS_HEADERS, swapped, extra)}
    assert len(fingerprints) == 3


def test_names_are_case_insensitive_and_mappings_and_bytes_work():
    lower = [(name.lower(), value) for name, value in REQUESTS_HEADERS]
    as_bytes = [(name.encode(), value.encode()) for name, value in lower]
    expected = client_fingerprint(REQUESTS_HEADERS)
    assert client_fingerprint(lower) == client_fingerprint(dict(REQUESTS_HEADERS)) == expected
    assert client_fingerprint(as_bytes) == expected
    assert client_fingerprint([("user-agent", "x/1"), "garbage", (1, 2), ("a", "b", "c")]) == client_fingerprint(
        [("user-agent", "x/1")]
    )


@pytest.mark.parametrize(
    ("agent", "products"),
    [
        ("python-requests/2.31.0", "python-requests/{v}"),
        ("curl/8.4.0", "curl/{v}"),
        ("OpenAI/Python 1.35.3", "openai/python {v}"),
        ("Go-http-client/1.1", "go-http-client/{v}"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
            "Safari/537.36",
            "mozilla/{v} applewebkit/{v} chrome/{v} safari/{v}",
        ),
        ("Mozilla/5.0 (X11; Linux (nested; x86_64)) Firefox/126.0", "mozilla/{v} firefox/{v}"),
        ("okhttp/4.12.0-alpha1", "okhttp/{v}"),
        ("my-app/1.0 session=AbCdEfGh0123456789aBcDeFgH", "my-app/{v} {x}"),
        ("", ""),
    ],
)
def test_user_agent_products(agent, products):
    assert client.user_agent_products(agent) == products


def test_missing_user_agent():
    assert client_fingerprint([("accept", "*/*")]).endswith("|ua:-")


SECRETS = ["sk-live-SECRETSECRETSECRET", "session=1", "1.2.3.4"]


@settings(max_examples=200, deadline=None)
@given(
    headers=st.lists(st.tuples(st.text(max_size=40), st.text(max_size=300)), max_size=80),
    agent=st.text(max_size=3000),
)
def test_output_is_bounded_and_never_contains_header_values(headers, agent):
    result = client_fingerprint([*headers, ("Authorization", SECRETS[0]), ("User-Agent", agent)])
    assert len(result) <= client.MAX_FINGERPRINT_CHARS
    assert result.startswith("hdr:")
    assert re.fullmatch(r"hdr:[0-9a-f]{8}\|ua:[a-z0-9._+/{} -]*", result)
    assert SECRETS[0].lower() not in result


def test_secret_values_never_appear():
    headers = [*REQUESTS_HEADERS, ("Cookie", SECRETS[1]), ("X-Forwarded-For", SECRETS[2]), ("X-Api-Key", "k-123")]
    result = client_fingerprint(headers)
    assert all(secret.lower() not in result for secret in [*SECRETS, "k-123", "api.example.com", "keep-alive"])


def test_a_flood_of_headers_costs_a_bounded_amount():
    many = [(f"x-h{index}", "v") for index in range(10_000)]
    assert client_fingerprint(many) == client_fingerprint(many[: client.MAX_HEADERS])
