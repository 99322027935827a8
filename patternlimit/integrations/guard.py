"""The decision flow every web integration shares: request -> limiter -> a response to send, or None to serve.

Two rules hold everywhere:

- **Fail open on limiter errors.** A :class:`~patternlimit.errors.PatternLimitError` from ``check``/``acheck``
  (e.g. a :class:`~patternlimit.errors.StorageError` when Redis is down) is logged and the request is served: a
  rate limiter must not turn its own outage into the app's (Flask-Limiter's Redis outages became 500s). A
  failing ``account_context`` hook is logged too, and the request is checked without context (age unknown; see
  :mod:`patternlimit.integrations.accounts`).
- **Log mode never changes the response.** ``Action.LOG`` is logged and served.

Every decision that is not a plain ALLOW (throttle, block, and LOG, shadowed or not) is logged at WARNING on the
``patternlimit.integrations`` logger (a child of ``patternlimit``): shadow mode exists to be seen, and uvicorn's
and gunicorn's default logging prints WARNING and above, nothing below. Each record carries structured fields
(``extra=``, see :func:`log_fields`) and a one-line message with the full reason (the client sees the reason only
with ``expose_reason``). Neither holds the raw account id, client address or pattern label (which may quote a
prompt) unless ``log_identities`` is set, and every text from the request is escaped (:func:`printable`), so a
path holding ``%0a`` cannot forge a second log line.

With no ``trusted_proxies`` configured, the first request whose socket peer is a private or loopback address is
warned about, once per middleware: every client then looks like the proxy in front of the app.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from patternlimit.engine.charges import limit_names
from patternlimit.errors import ConfigurationError, PatternLimitError
from patternlimit.integrations.accounts import MISSING, NO_ACCOUNT_FIELDS, AccountFields, ContextLoader
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.extract import account_of, build_request
from patternlimit.integrations.http import RequestInfo
from patternlimit.integrations.responses import Rejection, policy_field, quotas_of, rejection, state_field
from patternlimit.integrations.usage import UsageMeter
from patternlimit.policy.decision import Action, Decision
from patternlimit.request import Request

if TYPE_CHECKING:
    from patternlimit.engine import Limiter

logger = logging.getLogger("patternlimit.integrations")


def make_config(config: WebConfig | None, options: Mapping[str, Any]) -> WebConfig:
    """``config`` or a :class:`WebConfig` built from keyword options (not both)."""
    if config is not None:
        if options:
            raise ConfigurationError(f"pass either config= or options, not both (got {sorted(options)})")
        if not isinstance(config, WebConfig):
            raise ConfigurationError(f"config must be a WebConfig, not {type(config).__name__}")
        return config
    try:
        return WebConfig(**options)
    except TypeError as exc:
        raise ConfigurationError(f"unknown web option: {exc}; see WebConfig for the valid ones") from exc


class Guard:
    """A limiter and a :class:`WebConfig`: decides one request from its :class:`RequestInfo` and body prefix."""

    def __init__(self, limiter: Limiter, config: WebConfig) -> None:
        self.limiter = limiter
        self.config = config
        self.contexts = ContextLoader(config.account_context, config.context_cache_size, config.context_ttl)
        self.quotas = quotas_of(limiter.policy)
        policies = policy_field(self.quotas) if config.headers_on_allowed else None
        self.allowed_headers: list[tuple[str, str]] = [] if policies is None else [("ratelimit-policy", policies)]
        self.state_headers = policies is not None
        """Whether an allowed response carries ``RateLimit`` (:meth:`state_header`)."""
        self.usage: frozenset[str] | None = None
        """The limit rules a response's token usage is charged to (None: usage is not read)."""
        if config.usage:
            try:
                self.usage = limit_names(limiter.policy, config.usage)
            except ValueError as exc:
                raise ConfigurationError(f"usage: {exc}") from None
        # Checked until the first private or loopback peer, then never again: no cost once warned.
        self.watch_peers = not config.networks

    def note_peer(self, peer: str) -> None:
        """Warn once if ``peer`` is private or loopback while no trusted proxy is configured (call only while
        ``watch_peers``)."""
        if _behind_proxy(peer):
            self.watch_peers = False
            logger.warning(
                "patternlimit: a request came from %s, a private or loopback address, and no trusted proxy is "
                "configured: behind a proxy? set trusted_proxies=... (the proxies' CIDRs), or every client is seen "
                "as the proxy's one address",
                printable(peer),
                extra={"peer": printable(peer)},
            )

    def state_header(self, request: Request) -> tuple[str, str] | None:
        """``RateLimit`` for an allowed ``request``: each exact limit rule's remaining quota and reset, as the
        limiter holds them now (before a usage charge); None when no rule applies or the limiter failed."""
        try:
            states = self.limiter.limit_state(request)
        except PatternLimitError:
            logger.warning("patternlimit: the limiter failed to give the RateLimit state", exc_info=True)
            return None
        value = state_field(states)
        return None if value is None else ("ratelimit", value)

    def meter(self, content_type: str, content_encoding: str) -> UsageMeter | None:
        """A meter for a response with these headers, or None when usage is off or the body is not readable."""
        if self.usage is None:
            return None
        meter = UsageMeter(content_type, content_encoding)
        return meter if meter.reading else None

    def charge(self, request: Request, meter: UsageMeter) -> None:
        """Charge the usage ``meter`` read to the usage rules (a failure is logged: the response has gone)."""
        tokens = meter.tokens()
        if tokens:
            try:
                self.limiter.charge(request, tokens, rules=self.usage)
            except (PatternLimitError, ValueError):
                logger.warning("patternlimit: the limiter failed to charge %d tokens", tokens, exc_info=True)

    async def acharge(self, request: Request, meter: UsageMeter) -> None:
        """:meth:`charge` under ASGI."""
        tokens = meter.tokens()
        if tokens:
            try:
                await self.limiter.acharge(request, tokens, rules=self.usage)
            except (PatternLimitError, ValueError):
                logger.warning("patternlimit: the limiter failed to charge %d tokens", tokens, exc_info=True)

    def exempt(self, info: RequestInfo) -> bool:
        return self.config.exempt is not None and bool(self.config.exempt(info))

    def check(self, info: RequestInfo, body: bytes, complete: bool) -> Rejection | None:
        """Under WSGI: None to serve the request, else the response to send."""
        decided = self.decide(info, body, complete)
        return None if decided is None else self.outcome(decided[0], info, decided[1])

    def decide(self, info: RequestInfo, body: bytes, complete: bool) -> tuple[Decision, Request] | None:
        """The decision (``limiter.check``) and the request it was made on; None when the limiter failed (logged:
        fail open)."""
        if self.watch_peers:
            self.note_peer(info.peer)
        account = account_of(info, self.config)
        request = build_request(info, self.config, account, self.contexts.load(account, info), body, complete)
        try:
            return self.limiter.check(request), request
        except PatternLimitError:
            log_failure(info)
            return None

    async def adecide(self, info: RequestInfo, body: bytes, complete: bool) -> tuple[Decision, Request] | None:
        """:meth:`decide` under ASGI: ``await limiter.acheck``, and the account context awaited on a cache miss."""
        if self.watch_peers:
            self.note_peer(info.peer)
        account = account_of(info, self.config)
        fields = NO_ACCOUNT_FIELDS
        if self.config.account_context is not None and account is not None:
            cached = self.contexts.cache.get(account)
            if cached is MISSING:
                fields = await self.contexts.aload(account, info)
            else:
                fields = cast(AccountFields, cached)
        request = build_request(info, self.config, account, fields, body, complete)
        try:
            return await self.limiter.acheck(request), request
        except PatternLimitError:
            log_failure(info)
            return None

    def outcome(self, decision: Decision, info: RequestInfo, request: Request) -> Rejection | None:
        """None to serve the request, else the response to send; logs whatever is not a plain ALLOW."""
        if decision.action is Action.ALLOW:
            return None
        log_decision(decision, info, request, self.config)
        if decision.allowed:
            return None
        return rejection(decision, self.config, self.quotas)


def log_decision(decision: Decision, info: RequestInfo, request: Request | None, config: WebConfig) -> None:
    """Log a decision that is not a plain ALLOW at WARNING, with :func:`log_fields` as ``extra``."""
    if logger.isEnabledFor(logging.WARNING):
        fields = log_fields(decision, info, request, config)
        logger.warning("patternlimit: %s", describe(fields, decision), extra=fields)


def log_fields(decision: Decision, info: RequestInfo, request: Request | None, config: WebConfig) -> dict[str, object]:
    """The structured fields of a decision's log record, every text escaped by :func:`printable`:

    ``action`` (what was done: ``throttle``, ``block``, ``log``), ``enforced`` (False in shadow mode),
    ``would`` (the shadowed action, or None), ``rule``, ``pattern_kind``, ``pattern_key`` (hex), ``method``,
    ``path``, ``account_digest`` and ``client_digest`` (12 hex digits of a keyed BLAKE2b of the account id and
    the client address, None when absent: the same account gives the same digest within a deployment sharing
    ``account_key``), ``reason``; with ``log_identities`` also ``account``, ``client_ip`` and ``pattern_label``.
    """
    pattern = decision.pattern
    account = request.account if request is not None else None
    ip = request.ip if request is not None else None
    fields: dict[str, object] = {
        "action": decision.action.value,
        "enforced": decision.enforced,
        "would": decision.shadowed.value if decision.shadowed is not None else None,
        "rule": printable(decision.rule) if decision.rule is not None else None,
        "pattern_kind": printable(pattern.kind) if pattern is not None else None,
        "pattern_key": f"{pattern.key:x}" if pattern is not None else None,
        "method": printable(info.method),
        "path": printable(info.path),
        "account_digest": _digest(account, config.digest_key),
        "client_digest": _digest(ip, config.digest_key),
        "reason": printable(decision.reason),
    }
    if config.log_identities:
        fields["account"] = printable(account) if account is not None else None
        fields["client_ip"] = printable(ip) if ip is not None else None
        fields["pattern_label"] = printable(pattern.label) if pattern is not None else None
    return fields


def describe(fields: Mapping[str, object], decision: Decision) -> str:
    """One log line from :func:`log_fields`: what was done to which request, by which rule, on which pattern,
    and why."""
    action = fields["action"] if decision.enforced else f"log (would {fields['would'] or 'log'})"
    who = f" account={fields['account_digest']} client={fields['client_digest']}"
    if "account" in fields:
        who += f" account_id={fields['account']} ip={fields['client_ip']}"
    pattern = "-" if fields["pattern_kind"] is None else f"{fields['pattern_kind']}#{fields['pattern_key']}"
    if fields.get("pattern_label") is not None:
        pattern += f" {fields['pattern_label']!r}"
    return (
        f"{action} {fields['method']} {fields['path']}{who} rule={fields['rule']} pattern={pattern}: {fields['reason']}"
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1, and the Unicode line and paragraph separators)
    written as a ``\\xNN`` or ``\\uNNNN`` escape: nothing taken from a request can end a log line."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def _digest(value: str | None, key: bytes) -> str | None:
    if value is None or value == "":
        return None
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=key[:64], digest_size=6).hexdigest()


def _behind_proxy(peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_private or address.is_loopback


def log_failure(info: RequestInfo) -> None:
    logger.warning(
        "patternlimit: the limiter failed; serving %s %s unchecked",
        printable(info.method),
        printable(info.path),
        exc_info=True,
    )
