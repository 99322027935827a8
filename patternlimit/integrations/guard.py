"""The decision flow every web integration shares: facts -> limiter -> a response to send, or None to serve.

Two rules hold everywhere:

- **Fail open on limiter errors.** A :class:`~patternlimit.errors.PatternLimitError` from ``check``/``acheck``
  (e.g. a :class:`~patternlimit.errors.StorageError` when Redis is down) is logged and the request is served: a
  rate limiter must not turn its own outage into the app's (Flask-Limiter's Redis outages became 500s). A
  failing ``account_context`` hook is logged too, and the request is checked without context (age unknown).
- **Log mode never changes the response.** ``Action.LOG`` is logged at INFO and served.

The ``account_context`` hook is called on a cache miss only, and **once per account however many requests miss
at the same time** (single-flight): a burst from a new API key, or a busy key whose entry just expired, would
otherwise send one user-store query per request. Under ASGI the requests of one event loop await one shared task;
under WSGI one thread calls the hook while the others wait for its answer. The hook sees the first request's
:class:`RequestInfo`.

Throttles and blocks are logged at WARNING on the ``patternlimit.integrations`` logger with the full reason,
which the client sees only with ``expose_reason``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import limits

from patternlimit.errors import ConfigurationError, PatternLimitError
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.facts import (
    MISSING,
    NO_ACCOUNT_FACTS,
    AccountContext,
    AccountFacts,
    ContextCache,
    RequestInfo,
    account_of,
    build_request,
)
from patternlimit.integrations.responses import Rejection, rejection
from patternlimit.policy.decision import Action, Decision
from patternlimit.request import Request

if TYPE_CHECKING:
    from patternlimit.engine import Limiter
    from patternlimit.integrations.config import ContextHook

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
        self.contexts: ContextCache[AccountFacts] = ContextCache(config.context_cache_size, config.context_ttl)
        hook = config.account_context
        self.hook_is_async = hook is not None and _is_async(hook)
        # Fetches in progress, one per account (per event loop under ASGI: a task belongs to the loop that runs it,
        # and another thread's loop must never await it). An entry leaves when its fetch ends, so the tables hold
        # only fetches in progress: no more than the requests being served.
        self._flights: dict[str, concurrent.futures.Future[AccountFacts]] = {}
        self._flights_lock = threading.Lock()
        self._aflights: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[AccountFacts]] = {}
        self.windows = {
            rule.name: float(limits.parse(rule.limit).get_expiry())
            for rule in limiter.policy.rules
            if rule.type == "limit"
        }

    def exempt(self, info: RequestInfo) -> bool:
        return self.config.exempt is not None and bool(self.config.exempt(info))

    # -- sync (WSGI) -------------------------------------------------------------------------------------------

    def check(self, info: RequestInfo, body: bytes, complete: bool) -> Rejection | None:
        """None to serve the request, else the response to send."""
        decided = self.decide(info, body, complete)
        return None if decided is None else self.outcome(decided[0], info, decided[1])

    def decide(self, info: RequestInfo, body: bytes, complete: bool) -> tuple[Decision, Request] | None:
        """The decision and the request it was made on; None when the limiter failed (logged: fail open)."""
        account = account_of(info, self.config)
        request = build_request(info, self.config, account, self.account_facts(account, info), body, complete)
        try:
            return self.limiter.check(request), request
        except PatternLimitError:
            log_failure(info)
            return None

    def account_facts(self, account: str | None, info: RequestInfo) -> AccountFacts:
        """The account's context from the cache or the ``account_context`` hook, called in this thread unless
        another thread is already fetching the same account: then this one waits for that answer."""
        hook = self.config.account_context
        if hook is None or account is None:
            return NO_ACCOUNT_FACTS
        cached = self.contexts.get(account)
        if cached is not MISSING:
            return cast(AccountFacts, cached)
        with self._flights_lock:
            flight = self._flights.get(account)
            leading = flight is None
            if flight is None:
                # A fetch that ended between the miss above and taking the lock has filled the cache.
                cached = self.contexts.get(account)
                if cached is not MISSING:
                    return cast(AccountFacts, cached)
                flight = self._flights[account] = concurrent.futures.Future()
        if not leading:
            return flight.result()  # the leader's facts, or its exception (a ConfigurationError) raised here too
        try:
            facts = self._fetch(hook, account, info)
        except BaseException as exc:
            # An interruption (KeyboardInterrupt, SystemExit, a green thread's timeout) belongs to this thread
            # alone: the waiters are checked without context, as if the hook had failed.
            if isinstance(exc, Exception):
                flight.set_exception(exc)
            else:
                flight.set_result(NO_ACCOUNT_FACTS)
            raise
        else:
            flight.set_result(facts)
            return facts
        finally:
            with self._flights_lock:
                del self._flights[account]

    def _fetch(self, hook: ContextHook, account: str, info: RequestInfo) -> AccountFacts:
        try:
            result = hook(account, info)
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise ConfigurationError(
                    "account_context returned an awaitable: under WSGI the hook must be a plain function"
                )
            context = _context(result)
        except ConfigurationError:
            raise
        except Exception:
            logger.exception("patternlimit: account_context failed; checking without account context")
            return NO_ACCOUNT_FACTS  # not cached: the next miss asks the hook again
        return self._remember(account, context)

    # -- async (ASGI) ------------------------------------------------------------------------------------------

    async def adecide(self, info: RequestInfo, body: bytes, complete: bool) -> tuple[Decision, Request] | None:
        account = account_of(info, self.config)
        facts = NO_ACCOUNT_FACTS
        if self.config.account_context is not None and account is not None:
            cached = self.contexts.get(account)
            if cached is MISSING:
                facts = await self.afetch_account_facts(account, info)
            else:
                facts = cast(AccountFacts, cached)
        request = build_request(info, self.config, account, facts, body, complete)
        try:
            return await self.limiter.acheck(request), request
        except PatternLimitError:
            log_failure(info)
            return None

    async def afetch_account_facts(self, account: str, info: RequestInfo) -> AccountFacts:
        """A cache miss under ASGI: an ``async def`` hook is awaited; any other hook runs in a worker thread
        (``asyncio.to_thread``), so a blocking user-store query never stalls the event loop.

        Concurrent misses for one account on this event loop share one fetch, a task that runs to the end and
        fills the cache even if the request that started it is cancelled (a client that disconnected)."""
        hook = self.config.account_context
        if hook is None:
            return NO_ACCOUNT_FACTS
        loop = asyncio.get_running_loop()
        key = (loop, account)
        fetch = self._aflights.get(key)
        if fetch is None:
            fetch = loop.create_task(self._afetch(hook, account, info))
            self._aflights[key] = fetch
            fetch.add_done_callback(functools.partial(self._landed, key))
        # shield: cancelling this waiter cancels only its wait, never the fetch the other waiters share
        return await asyncio.shield(fetch)

    def _landed(self, key: tuple[asyncio.AbstractEventLoop, str], fetch: asyncio.Task[AccountFacts]) -> None:
        if self._aflights.get(key) is fetch:
            del self._aflights[key]

    async def _afetch(self, hook: ContextHook, account: str, info: RequestInfo) -> AccountFacts:
        try:
            if self.hook_is_async:
                result = hook(account, info)
            else:
                result = await asyncio.to_thread(hook, account, info)
            if inspect.isawaitable(result):  # a plain function that returned a coroutine
                result = await result
            context = _context(result)
        except ConfigurationError:
            raise
        except Exception:
            logger.exception("patternlimit: account_context failed; checking without account context")
            return NO_ACCOUNT_FACTS  # not cached: the next miss asks the hook again
        return self._remember(account, context)

    def _remember(self, account: str, context: AccountContext | None) -> AccountFacts:
        facts = AccountFacts.of(context)  # outside the hook's try: a malformed created_at raises, as before
        self.contexts.put(account, facts)
        return facts

    # -- shared ------------------------------------------------------------------------------------------------

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


def _is_async(hook: object) -> bool:
    """Whether calling ``hook`` gives a coroutine: an ``async def`` function, method or callable object (also
    through ``functools.partial``)."""
    return inspect.iscoroutinefunction(hook) or (callable(hook) and inspect.iscoroutinefunction(type(hook).__call__))


def _context(result: object) -> AccountContext | None:
    if result is None or isinstance(result, AccountContext):
        return result
    if isinstance(result, Mapping):
        return AccountContext(**result)
    raise ConfigurationError(
        f"account_context must return an AccountContext, a mapping of its fields or None, not {type(result).__name__}"
    )
