"""What a gateway tells the sidecar about a request -> the :class:`patternlimit.Request` to decide on.

One mapping for every gateway protocol, built on the web integrations' own fact extraction
(:func:`patternlimit.integrations.extract.build_request`), so that nginx, Envoy and the Python middlewares turn one
HTTP request into the same facts:

- the **account**: a keyed digest of the API key (``Authorization`` credential, else ``X-Api-Key``;
  :func:`~patternlimit.integrations.accounts.account_from`); no raw key reaches the limiter;
- the **client address**: the peer the gateway reports, or, when that peer is one of ``trusted_proxies``, the
  ``X-Forwarded-For`` chain walked right to left past them (:func:`~patternlimit.integrations.http.client_ip`);
- the **client string**: the header names, their order and the User-Agent's products;
- the **text**: the forwarded body, through ``json_fields`` (:mod:`~patternlimit.integrations.body`), else the
  ``X-Patternlimit-Text`` header a gateway may set;
- the **account's creation time**: ``X-Account-Created-At`` (epoch seconds), which only the gateway's own auth
  layer may set (a client that sends it could claim any age: strip it at the edge).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from patternlimit.fingerprint.client import MAX_AGENT_CHARS, client_fingerprint
from patternlimit.integrations.accounts import AccountFields, account_from
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.extract import account_of, build_request
from patternlimit.integrations.http import RequestInfo
from patternlimit.integrations.responses import Quota, quotas_of, rejection
from patternlimit.policy.decision import Decision
from patternlimit.policy.models import Policy
from patternlimit.request import Request

CREATED_HEADER = "x-account-created-at"
TEXT_HEADER = "x-patternlimit-text"
MAX_TEXT_HEADER = 65536
MAX_ROUTE = 1024
MAX_ATTRIBUTES = 64


def epoch(value: str | None) -> float | None:
    """An ``X-Account-Created-At`` value (epoch seconds) as a time; anything else is unknown."""
    if not value:
        return None
    try:
        moment = float(value)
    except ValueError:
        return None
    return moment if 0 <= moment < 1e12 else None


@dataclass(frozen=True, slots=True)
class Answer:
    """A decision as a gateway sends it: ``status`` (200 when allowed), headers and a problem+json body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    retry_after: int | None


@dataclass(frozen=True)
class GatewayFacts:
    """The mapping for one deployment: ``digest_key`` keys the API-key digest (the same in every replica, so all
    of them see one account per key), ``json_fields`` select the prompt from a JSON body, ``trusted_proxies`` are
    the load balancers in front of the gateway whose ``X-Forwarded-For`` entries are believed."""

    digest_key: bytes = b""
    json_fields: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body: int = 64 * 1024
    block_status: int = 403
    web: WebConfig = field(init=False, repr=False, compare=False)
    account_key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The digest key may be any length (a deployment secret); BLAKE2b keys are at most 64 bytes.
        key = hashlib.blake2b(self.digest_key, digest_size=32, person=b"pl-sidecar-key").digest()
        object.__setattr__(self, "account_key", key)
        web = WebConfig(
            account_key=key,
            json_fields=tuple(self.json_fields),
            trusted_proxies=tuple(self.trusted_proxies),
            max_body_bytes=self.max_body,
            block_status=self.block_status,
        )
        object.__setattr__(self, "web", web)

    def request(self, info: RequestInfo, body: bytes = b"", complete: bool = True) -> Request:
        """The facts of the HTTP request ``info`` with the ``body`` prefix the gateway forwarded (``complete``:
        the whole body); without a body, the text is the ``X-Patternlimit-Text`` header."""
        fields = AccountFields(epoch(info.header(CREATED_HEADER)), {})
        facts = build_request(info, self.web, account_of(info, self.web), fields, body, complete)
        if len(facts.route) > MAX_ROUTE:
            facts = replace(facts, route=facts.route[:MAX_ROUTE])
        if not body:
            text = info.header(TEXT_HEADER)
            if text:
                facts = replace(facts, text=text[:MAX_TEXT_HEADER])
        return facts

    def auth_request(self, headers: Sequence[tuple[str, str]]) -> Request:
        """nginx ``auth_request``: the original request's headers, with the facts nginx set on the subrequest
        (``X-Original-URI``, ``X-Original-Method``, ``X-Real-IP``)."""
        probe = RequestInfo("GET", "", tuple(headers))
        target = probe.header("x-original-uri") or ""
        path, _, query = target.partition("?")
        info = RequestInfo(
            method=(probe.header("x-original-method") or "GET")[:16],
            path=path,
            headers=probe.headers,
            peer=(probe.header("x-real-ip") or "")[:64],
            query=query,
        )
        return self.request(info)

    def descriptor_request(self, entries: Iterable[tuple[str, str]], cost: int = 1) -> Request:
        """An Envoy rate limit descriptor's entries (see docs/deploy/envoy.md for the keys) as facts; a key
        given twice keeps its first value, and keys that name no fact become ``attributes``."""
        given: dict[str, str] = {}
        for key, value in entries:
            given.setdefault(key, value)
        account = given.get("account") or None
        if account is None:
            account = account_from(given.get("authorization"), given.get("api_key"), self.account_key)
        agent = given.get("user_agent")
        client = given.get("client") or ""
        if not client and agent:
            client = client_fingerprint([("user-agent", agent[:MAX_AGENT_CHARS])])
        attributes = {key[:64]: value[:256] for key, value in given.items() if key not in _DESCRIPTOR_FACTS}
        return Request(
            account=account[:1024] if account else None,
            ip=given.get("remote_address", given.get("ip", ""))[:64],
            text=given.get("text", "")[:MAX_TEXT_HEADER],
            route=given.get("path", given.get("route", "")).partition("?")[0][:MAX_ROUTE],
            client=client[:4096],
            account_created_at=epoch(given.get("account_created_at")),
            cost=max(0, min(cost, (1 << 32) - 1)),
            attributes=dict(list(attributes.items())[:MAX_ATTRIBUTES]),
        )

    def answer(self, decision: Decision, policy: Policy) -> Answer:
        """The gateway's answer: 200 when allowed; else 429 (throttle) or ``block_status`` with ``Retry-After``
        and the RateLimit headers (:func:`~patternlimit.integrations.responses.rejection`)."""
        if decision.allowed:
            return Answer(200, [], b"", None)
        refused = rejection(decision, self.web, _quotas(policy))
        retry = next((int(value) for name, value in refused.headers if name == "retry-after"), None)
        return Answer(refused.status, refused.headers, refused.body, retry)

    def quota(self, rule: str | None, policy: Policy) -> tuple[int, int] | None:
        """``(requests, window seconds)`` of the exact limit rule ``rule``; None for a pattern rule."""
        found = _quotas(policy).get(rule or "")
        return None if found is None else (found.amount, found.window)


_DESCRIPTOR_FACTS = frozenset(
    {
        "account",
        "authorization",
        "api_key",
        "remote_address",
        "ip",
        "text",
        "path",
        "route",
        "user_agent",
        "client",
        "account_created_at",
    }
)
"""Descriptor keys that name a fact; any other key is an attribute (``attribute:KEY`` in a policy)."""


_last_quotas: list[tuple[Policy, Mapping[str, Quota]]] = []


def _quotas(policy: Policy) -> Mapping[str, Quota]:
    """``quotas_of(policy)``, worked out again only when the limiter's policy is another object (a reload)."""
    if _last_quotas and _last_quotas[0][0] is policy:
        return _last_quotas[0][1]
    quotas = quotas_of(policy)
    _last_quotas[:] = [(policy, quotas)]
    return quotas


@functools.lru_cache(maxsize=16)
def for_key(digest_key: bytes, max_body: int = 64 * 1024, block_status: int = 403) -> GatewayFacts:
    """The :class:`GatewayFacts` of a sidecar whose API-key digests are keyed by ``digest_key`` (built once)."""
    return GatewayFacts(digest_key=digest_key, max_body=max_body, block_status=block_status)
