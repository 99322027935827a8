"""The decision flow every web integration shares: request -> limiter -> a response to send, or None to serve.

Two rules hold everywhere:

- **Fail open on limiter errors.** A :class:`~patternlimit.errors.PatternLimitError` from ``check``/``acheck``
  (e.g. a :class:`~patternlimit.errors.StorageError` when Redis is down) is logged and the request is served: a
  rate limiter must not turn its own outage into the app's (Flask-Limiter's Redis outages became 500s). A
  failing ``account_context`` hook is logged too, and the request is checked without context (age unknown; see
  :mod:`patternlimit.integrations.accounts`).
- **Log mode never changes the response.** ``Action.LOG`` is logged at INFO and served.

Throttles and blocks are logged at WARNING on the ``patternlimit.integrations`` logger with the full reason,
which the client sees only with ``expose_reason``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import limits

from patternlimit.errors import ConfigurationError, PatternLimitError
from patternlimit.integrations.accounts import MISSING, NO_ACCOUNT_FIELDS, AccountFields, ContextLoader
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.extract import account_of, build_request
from patternlimit.integrations.http import RequestInfo
from patternlimit.integrations.responses import Rejection, rejection
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
        self.windows = {
            rule.name: float(limits.parse(rule.limit).get_expiry())
            for rule in limiter.policy.rules
            if rule.type == "limit"
        }

    def exempt(self, info: RequestInfo) -> bool:
        return self.config.exempt is not None and bool(self.config.exempt(info))

    def check(self, info: RequestInfo, body: bytes, complete: bool) -> Rejection | None:
        """Under WSGI: None to serve the request, else the response to send."""
        decided = self.decide(info, body, complete)
        return None if decided is None else self.outcome(decided[0], info, decided[1])

    def decide(self, info: RequestInfo, body: bytes, complete: bool) -> tuple[Decision, Request] | None:
        """The decision (``limiter.check``) and the request it was made on; None when the limiter failed (logged:
        fail open)."""
        account = account_of(info, self.config)
        request = build_request(info, self.config, account, self.contexts.load(account, info), body, complete)
        try:
            return self.limiter.check(request), request
        except PatternLimitError:
            log_failure(info)
            return None

    async def adecide(self, info: RequestInfo, body: bytes, complete: bool) -> tuple[Decision, Request] | None:
        """:meth:`decide` under ASGI: ``await limiter.acheck``, and the account context awaited on a cache miss."""
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
        if decision.allowed:
            if logger.isEnabledFor(logging.INFO):
                logger.info("patternlimit: %s", describe(decision, info, request))
            return None
        logger.warning("patternlimit: %s", describe(decision, info, request))
        return rejection(decision, self.config, self.windows)


def describe(decision: Decision, info: RequestInfo, request: Request | None = None) -> str:
    """One log line: what was done to which request, by which rule, on which pattern, and why."""
    action = decision.action.value if decision.enforced else f"log (would {decision.shadowed or 'log'})"
    who = f" account={request.account} ip={request.ip}" if request is not None else ""
    return f"{action} {info.method} {info.path}{who} rule={decision.rule} pattern={decision.pattern}: {decision.reason}"


def log_failure(info: RequestInfo) -> None:
    logger.warning("patternlimit: the limiter failed; serving %s %s unchecked", info.method, info.path, exc_info=True)
