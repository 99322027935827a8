"""The one configuration shared by the ASGI middleware, the WSGI middleware and the decorator's dependency form."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from patternlimit.errors import ConfigurationError
from patternlimit.integrations.accounts import ContextHook
from patternlimit.integrations.body import parse_json_path, text_selector
from patternlimit.integrations.http import Network, RequestInfo, trust_checker

AccountHook = Callable[[RequestInfo], str | None]
ExemptHook = Callable[[RequestInfo], bool]
RouteHook = Callable[[RequestInfo], str]

PROBLEM_BASE = "https://iana.org/assignments/http-problem-types#"
"""The prefix of the problem ``type`` URIs of the 429/403 bodies: the HTTP Problem Types registry, where
draft-ietf-httpapi-ratelimit-headers registers ``quota-exceeded`` and ``abnormal-usage-detected``."""


@dataclass(frozen=True, slots=True)
class WebConfig:
    """How a web integration turns an HTTP request into a :class:`patternlimit.Request` and a decision into a
    response. Every option has a default that is safe to deploy; see docs/integrations/ for the reasoning.

    - ``max_body_bytes``: bytes of the body read for fingerprinting (and held in memory); the rest streams through.
    - ``reject_oversized``: answer 413 to a body above ``max_body_bytes`` instead of passing it on.
    - ``json_fields``: paths such as ``"messages[*].content"`` or ``"prompt"`` whose strings are the text
      fingerprinted; empty (default) or a body that is not complete, valid JSON: the raw body text.
    - ``account``: ``(info) -> account id``; default: a keyed BLAKE2b digest of the ``Authorization`` bearer
      token or the ``X-API-Key`` header (the raw key never reaches the limiter, its logs or its storage).
    - ``account_key``: the key of that digest; default a random per-process key. Set it (the same in every
      process) when processes share limiter state, or they see different accounts.
    - ``account_context``: ``(account, info) -> AccountContext | None``: the account's creation time, plan and org
      from the app's user store; cached per account, ``context_cache_size`` entries for ``context_ttl`` seconds.
      Concurrent misses for one account share one call (per event loop under ASGI, across threads under WSGI).
      Under ASGI an ``async def`` hook is awaited and any other callable runs in a worker thread
      (``asyncio.to_thread``); under WSGI it must be a plain function.
    - ``trusted_proxies``: CIDRs of the reverse proxies in front of the app. Only when the socket peer is one of
      them is ``forwarded_header`` (``"x-forwarded-for"`` or ``"forwarded"``; only that one) read, right to left.
    - ``client_header``: a header carrying a TLS fingerprint (JA4) set by a trusted proxy, e.g. ``"x-ja4"``.
    - ``block_status``: the status of a block (403); a throttle is always 429.
    - ``headers_enabled``: send ``RateLimit-Policy`` / ``RateLimit`` on rejections (``Retry-After`` is always sent
      with a 429).
    - ``headers_on_allowed``: also send ``RateLimit-Policy`` (the policy's exact limit rules) and ``RateLimit``
      (what each has left for this request's account or pattern, and when it frees) on every response the app
      gives; off by default, like Flask-Limiter's ``headers_enabled``. Only the ASGI and WSGI middlewares can add
      them (a decorator or dependency does not see the response).
    - ``usage``: names of exact limit rules to charge each response's token usage to, read from an OpenAI- or
      Anthropic-style JSON or server-sent-events body as it passes (:mod:`patternlimit.integrations.usage`),
      with ``limiter.charge`` once the body has ended; empty (default): nothing is read. Middlewares only.
    - ``log_identities``: put the raw account id, client address and pattern label (which may quote prompt text)
      in decision logs; off by default: logs carry a short keyed digest of the account and client address, and
      the pattern's kind and key (see docs/integrations/common.md, "Logs").
    - ``expose_reason``: put the decision's reason (its figures) in the problem body; off by default, because it
      tells an adversary how far under each threshold to stay.
    - ``exempt``: ``(info) -> bool``; true skips the limiter (health checks, internal callers).
    - ``route``: ``(info) -> route``; default the path.
    """

    max_body_bytes: int = 64 * 1024
    reject_oversized: bool = False
    json_fields: Sequence[str] = ()
    account: AccountHook | None = None
    account_key: bytes | None = None
    account_context: ContextHook | None = None
    context_cache_size: int = 10_000
    context_ttl: float = 300.0
    trusted_proxies: Sequence[str] = ()
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    client_header: str | None = None
    block_status: int = 403
    headers_enabled: bool = True
    headers_on_allowed: bool = False
    usage: Sequence[str] = ()
    log_identities: bool = False
    expose_reason: bool = False
    exempt: ExemptHook | None = None
    route: RouteHook | None = None
    problem_base: str = PROBLEM_BASE
    networks: tuple[Network, ...] = field(init=False, repr=False, compare=False)
    digest_key: bytes = field(init=False, repr=False, compare=False)
    trusted: Callable[[str], bool] = field(init=False, repr=False, compare=False)
    select_text: Callable[[bytes, bool], str | bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.max_body_bytes, bool) or not isinstance(self.max_body_bytes, int):
            raise ConfigurationError(f"max_body_bytes must be an int, not {self.max_body_bytes!r}")
        if not 0 <= self.max_body_bytes <= 64 * 1024 * 1024:
            raise ConfigurationError(f"max_body_bytes must be in [0, 64 MiB], not {self.max_body_bytes}")
        if isinstance(self.json_fields, str):
            raise ConfigurationError(
                f"json_fields must be a sequence of paths, not the string {self.json_fields!r}: "
                f"use ({self.json_fields!r},)"
            )
        object.__setattr__(self, "json_fields", tuple(self.json_fields))
        if isinstance(self.usage, str):
            raise ConfigurationError(
                f"usage must be a sequence of limit rule names, not the string {self.usage!r}: use ({self.usage!r},)"
            )
        object.__setattr__(self, "usage", tuple(self.usage))
        for path in self.json_fields:
            parse_json_path(path)
        object.__setattr__(self, "select_text", text_selector(self.json_fields))
        if isinstance(self.trusted_proxies, str):
            raise ConfigurationError(
                f"trusted_proxies must be a sequence of CIDRs, not the string {self.trusted_proxies!r}"
            )
        networks = []
        for cidr in self.trusted_proxies:
            try:
                networks.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError as exc:
                raise ConfigurationError(
                    f"trusted_proxies: {cidr!r} is not an IP address or CIDR (e.g. '10.0.0.0/8', '::1')"
                ) from exc
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))
        object.__setattr__(self, "networks", tuple(networks))
        object.__setattr__(self, "trusted", trust_checker(self.networks))
        if self.forwarded_header not in ("x-forwarded-for", "forwarded"):
            raise ConfigurationError(
                f"forwarded_header must be 'x-forwarded-for' or 'forwarded', not {self.forwarded_header!r}"
            )
        if self.client_header is not None:
            object.__setattr__(self, "client_header", self.client_header.lower())
        if not 400 <= self.block_status <= 599:
            raise ConfigurationError(f"block_status must be a 4xx or 5xx status, not {self.block_status}")
        if self.context_cache_size < 0 or self.context_ttl < 0:
            raise ConfigurationError("context_cache_size and context_ttl must be >= 0")
        if self.account_key is not None and not 16 <= len(self.account_key) <= 64:
            raise ConfigurationError(f"account_key must be 16 to 64 bytes, not {len(self.account_key)}")
        object.__setattr__(self, "digest_key", self.account_key or secrets.token_bytes(32))
