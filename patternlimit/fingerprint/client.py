"""HTTP client -> a short, stable client fingerprint string.

A campaign drives its thousands of accounts with one client program; a launch crowd arrives from many browsers and
SDK versions. What a client program sends that does not change per request or per account: the TLS handshake
(JA3/JA4, visible only to the TLS-terminating proxy, which can pass it on), the *names* of its headers in their
order, and the product tokens of its User-Agent. :func:`client_fingerprint` combines them into a string the
limiter hashes into a pattern key.

It never includes a header value other than the User-Agent's product names with every version masked: credentials,
cookies and request ids stay out, and so do per-request headers (tracing, length, proxies' additions) whose
presence varies between requests of one client.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping

import xxhash

VOLATILE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
        "keep-alive",
        "forwarded",
        "via",
        "x-real-ip",
        "true-client-ip",
        "x-client-ip",
        "x-request-id",
        "request-id",
        "x-correlation-id",
        "idempotency-key",
        "x-idempotency-key",
        "traceparent",
        "tracestate",
        "baggage",
        "b3",
        "sentry-trace",
        "if-none-match",
        "if-modified-since",
    }
)
"""Header names left out: secrets, per-request values, and headers added by proxies on the way."""

VOLATILE_PREFIXES = ("x-forwarded-", "x-amzn-", "cf-", "x-envoy-", "x-b3-", "x-datadog-", "x-cloud-trace")
"""Name prefixes left out: proxy, CDN and tracing headers that depend on the path a request took."""

MAX_HEADERS = 64
"""Header names considered (a bound on the cost for a request with thousands of headers)."""

NAME_CACHE_SIZE = 1024
MAX_PRODUCTS = 8
MAX_AGENT_CHARS = 512
AGENT_CACHE_SIZE = 4096
"""Masked User-Agents kept in an LRU cache (keys are at most ``MAX_AGENT_CHARS`` characters: about 3 MiB full)."""
MAX_PRODUCT_CHARS = 24
MAX_TLS_CHARS = 64
MAX_FINGERPRINT_CHARS = 160
"""Upper bound on the length of any string :func:`client_fingerprint` returns."""

_VERSION = re.compile(r"[0-9][0-9a-z._+-]*")
_PRODUCT = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+(?:/[a-z0-9!#$%&'*+.^_`|~-]+)?")  # RFC 9110 token ["/" token]
_COMMENT = re.compile(r"\([^()]*\)")
_UNSAFE = re.compile(r"[^a-z0-9._+/{}-]")
_TLS_UNSAFE = re.compile(r"[^A-Za-z0-9_.:,-]")

_PAIR_TYPES = (tuple, list)

Headers = Iterable[tuple[str | bytes, str | bytes]] | Mapping[str, str]


def client_fingerprint(headers: Headers, *, tls: str | None = None) -> str:
    """A short string identifying the client program of a request, stable across its requests and accounts.

    With ``tls`` (a JA4 or JA3 string set by a TLS-terminating proxy) it is ``"tls:" + tls`` (characters outside
    ``[A-Za-z0-9_.:,-]`` removed; longer than 64 characters, an xxh3 hex digest of it instead). Otherwise
    ``"hdr:XXXXXXXX|ua:PRODUCTS"``: 32 bits of xxh3 over the lower-cased header names in order, volatile ones left
    out (:data:`VOLATILE_HEADERS`, :data:`VOLATILE_PREFIXES`), and the User-Agent's product tokens, comments
    dropped, versions masked (``python-requests/2.31.0`` -> ``python-requests/{v}``), at most 8 products of at most
    24 characters (a longer one, or a word not shaped like ``name[/version]``, is ``{x}``); ``ua:-`` without a
    User-Agent.

    ``headers`` is a mapping or an iterable of ``(name, value)`` pairs of ``str`` or ``bytes`` (as ASGI gives them;
    bytes are read as Latin-1); other items are ignored. The result is at most :data:`MAX_FINGERPRINT_CHARS`
    characters and never contains a header value except the masked User-Agent.
    """
    if tls is not None and tls.strip():
        cleaned = _TLS_UNSAFE.sub("", tls)
        if len(cleaned) > MAX_TLS_CHARS:
            cleaned = xxhash.xxh3_64_hexdigest(cleaned.encode("ascii"))
        return "tls:" + cleaned
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    names: list[str] = []
    user_agent: str | None = None
    for pair in itertools.islice(pairs, MAX_HEADERS):
        if not isinstance(pair, _PAIR_TYPES) or len(pair) != 2:
            continue
        name = pair[0] if type(pair[0]) is str else _as_text(pair[0])
        if not name:
            continue
        kept = _kept_name(name)
        if kept:
            names.append(kept)
            if kept == "user-agent" and user_agent is None:
                user_agent = _as_text(pair[1])
    order = xxhash.xxh3_64_intdigest("\n".join(names).encode("utf-8", "surrogatepass")) & 0xFFFFFFFF
    products = _products(user_agent[:MAX_AGENT_CHARS]) if user_agent else ""
    return f"hdr:{order:08x}|ua:{products or '-'}"[:MAX_FINGERPRINT_CHARS]


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def _kept_name(name: str) -> str:
    """The lower-cased name, or ``""`` if it is volatile. Cached: clients send the same few dozen names again and
    again, and an attacker's invented names only evict each other."""
    lowered = name.lower()
    if lowered in VOLATILE_HEADERS or lowered.startswith(VOLATILE_PREFIXES):
        return ""
    return lowered


def user_agent_products(user_agent: str) -> str:
    """The product tokens of a User-Agent, lower-cased, comments dropped and versions masked as ``{v}``; a word
    that is not an RFC 9110 ``token["/"token]``, or is longer than 24 characters once masked, becomes ``{x}``.
    Only the first :data:`MAX_AGENT_CHARS` characters are read.

    ``"Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"`` -> ``"mozilla/{v} firefox/{v}"``.
    """
    return _products(user_agent[:MAX_AGENT_CHARS])


@functools.lru_cache(maxsize=AGENT_CACHE_SIZE)
def _products(user_agent: str) -> str:
    # Cached: a handful of agents make most traffic, and masking one costs a few microseconds of regexes.
    text = user_agent.lower()
    # Comments may nest: strip innermost parentheses until none are left (a few passes for real agents).
    for _ in range(4):
        stripped = _COMMENT.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    products = []
    for token in text.split()[:MAX_PRODUCTS]:
        if not _PRODUCT.fullmatch(token):
            # Not shaped like a product ("key=value", stray text): the agent is client-controlled, show nothing.
            products.append("{x}")
            continue
        product = _UNSAFE.sub("", _VERSION.sub("{v}", token))
        if product:
            products.append(product if len(product) <= MAX_PRODUCT_CHARS else "{x}")
    return " ".join(products)


def _as_text(part: object) -> str | None:
    if isinstance(part, str):
        return part
    if isinstance(part, bytes | bytearray):
        return bytes(part).decode("latin-1")
    return None
