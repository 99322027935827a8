"""Who sent a request, and what the app knows of that account.

- the **account id**: by default a keyed BLAKE2b digest of the API key (``Authorization`` credential or
  ``X-API-Key``; :func:`default_account`). The raw key never reaches the limiter, its logs or its storage; the key
  of the digest keeps two deployments' ids of one API key unrelated;
- the **account context** (creation time, plan, org) from the app's own user store, through the
  ``account_context`` hook (:class:`ContextLoader`), whose answers are cached in a bounded LRU with a TTL
  (:class:`AccountCache`): the default policy needs the account's age on every request, and a user-store lookup
  per request would cost more than the limiter.

The hook is called on a cache miss only, and **once per account however many requests miss at the same time**
(single-flight): a burst from a new API key, or a busy key whose entry just expired, would otherwise send one
user-store query per request. Under ASGI the requests of one event loop await one shared task; under WSGI one
thread calls the hook while the others wait for its answer. The hook sees the first request's
:class:`~patternlimit.integrations.http.RequestInfo`. A failing hook is logged and the request is checked without
context (age unknown); that failure is not cached.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Generic, NamedTuple, TypeVar, cast

from patternlimit._tables import BoundedTable
from patternlimit.errors import ConfigurationError
from patternlimit.integrations.http import CACHED_CHARS, RequestInfo

logger = logging.getLogger("patternlimit.integrations")

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AccountContext:
    """What the app's user store knows of an account: ``created_at`` (epoch seconds or an aware ``datetime``),
    and optional ``plan``, ``org`` and other string ``attributes`` that policies can count (``attribute:plan``)."""

    created_at: float | datetime | None = None
    plan: str | None = None
    org: str | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def created_epoch(self) -> float | None:
        if isinstance(self.created_at, datetime):
            return self.created_at.timestamp()
        return None if self.created_at is None else float(self.created_at)

    def request_attributes(self) -> Mapping[str, str]:
        extra = {name: value for name, value in (("plan", self.plan), ("org", self.org)) if value is not None}
        if not extra:
            return self.attributes
        return MappingProxyType({**self.attributes, **extra})


ContextResult = AccountContext | Mapping[str, object] | None
ContextHook = Callable[[str, RequestInfo], ContextResult | Awaitable[ContextResult]]
"""``(account, info) -> AccountContext | mapping of its fields | None``, or an awaitable of one (ASGI only)."""


class AccountFields(NamedTuple):
    """The :class:`patternlimit.Request` fields an :class:`AccountContext` fills (``account_created_at`` and
    ``attributes``), worked out once per cache fill, not per request."""

    created_at: float | None
    attributes: Mapping[str, str]

    @classmethod
    def of(cls, context: AccountContext | None) -> AccountFields:
        if context is None:
            return NO_ACCOUNT_FIELDS
        return cls(context.created_epoch, context.request_attributes())


NO_ACCOUNT_FIELDS = AccountFields(None, _EMPTY)
"""An anonymous or unknown account: age unknown, no attributes."""

_Value = TypeVar("_Value")


class AccountCache(Generic[_Value]):
    """At most ``capacity`` per-account values (the integrations store :class:`AccountFields`), least recently used
    evicted first, each expiring ``ttl`` seconds after it was put. Thread-safe (WSGI servers call it from many
    threads); a miss returns :data:`MISSING`, and a cached ``None`` (unknown account) is a hit."""

    __slots__ = ("_clock", "_lock", "_lookup", "_table", "capacity", "ttl")

    def __init__(self, capacity: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._clock = clock
        self._table: BoundedTable[str, tuple[float, _Value]] = BoundedTable(capacity, order="used")
        self._lookup = self._table.get  # bound once: get is on every request's path
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._table)

    def get(self, account: str) -> object:
        # A hit takes no lock (taking one costs more than the lookup): the table's lookup and its move to the young
        # end are each one C call, atomic under the GIL. The one race, an eviction by another thread in between,
        # raises KeyError from the move; the entry is gone by then, so that is a miss.
        try:
            entry = self._lookup(account)
        except KeyError:
            return MISSING
        if entry is None:
            return MISSING
        if entry[0] <= self._clock():
            with self._lock:
                if self._table.get(account) is entry:  # not refreshed by another thread meanwhile
                    self._table.pop(account)
            return MISSING
        return entry[1]

    def put(self, account: str, value: _Value) -> None:
        if self.capacity == 0 or self.ttl == 0:
            return
        with self._lock:
            self._table.put(account, (self._clock() + self.ttl, value))


MISSING = object()
"""What :meth:`AccountCache.get` returns for an account it does not hold (or whose entry expired)."""


# -- the account id ----------------------------------------------------------------------------------------------


def default_account(info: RequestInfo, key: bytes) -> str | None:
    """``"key:"`` + 24 hex digits of keyed BLAKE2b over the API key (the credential of ``Authorization``, e.g. the
    token after ``Bearer``, else ``X-API-Key``); None (anonymous) without either header."""
    return account_from(info.header("authorization"), info.header("x-api-key"), key)


def account_from(authorization: str | bytes | None, api_key: str | bytes | None, key: bytes) -> str | None:
    """:func:`default_account` from the first ``Authorization`` and ``X-API-Key`` values, as ``str`` or as the raw
    Latin-1 ``bytes`` an ASGI server gives (the same account either way)."""
    if authorization:
        api_key = None  # Authorization wins: the cache key leaves out what the answer does not depend on
    # Cached: API keys repeat request after request (only short ones, so the cache stays under ~2 MiB whatever
    # clients send; it holds credentials in this process's memory only, as the server's own request objects do).
    if len(authorization or "") <= CACHED_CHARS and len(api_key or "") <= CACHED_CHARS:
        return _cached_account(authorization, api_key, key)
    return _account(authorization, api_key, key)


def _account(authorization: str | bytes | None, api_key: str | bytes | None, key: bytes) -> str | None:
    credential = _text(authorization)
    if credential:
        scheme, _, rest = credential.strip().partition(" ")
        credential = rest.strip() if rest and scheme.lower() == "bearer" else credential.strip()
    else:
        credential = _text(api_key)
        credential = credential.strip() if credential else None
    if not credential:
        return None
    digest = hashlib.blake2b(credential.encode("latin-1"), key=key, digest_size=12, person=b"pl-account")
    return "key:" + digest.hexdigest()


_cached_account = functools.lru_cache(maxsize=4096)(_account)


def _text(value: str | bytes | None) -> str | None:
    return value.decode("latin-1") if isinstance(value, bytes) else value


# -- the account context -----------------------------------------------------------------------------------------


class ContextLoader:
    """The ``account_context`` hook behind an :class:`AccountCache` of ``capacity`` entries for ``ttl`` seconds,
    with concurrent misses for one account sharing one call (see the module docstring)."""

    def __init__(self, hook: ContextHook | None, capacity: int, ttl: float) -> None:
        self.hook = hook
        self.cache: AccountCache[AccountFields] = AccountCache(capacity, ttl)
        self.hook_is_async = hook is not None and _is_async(hook)
        # Fetches in progress, one per account (per event loop under ASGI: a task belongs to the loop that runs it,
        # and another thread's loop must never await it). An entry leaves when its fetch ends, so the tables hold
        # only fetches in progress: no more than the requests being served.
        self._flights: dict[str, concurrent.futures.Future[AccountFields]] = {}
        self._flights_lock = threading.Lock()
        self._aflights: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[AccountFields]] = {}

    # -- sync (WSGI) -------------------------------------------------------------------------------------------

    def load(self, account: str | None, info: RequestInfo) -> AccountFields:
        """The account's fields from the cache or the hook, called in this thread unless another thread is already
        fetching the same account: then this one waits for that answer. No hook or no account: no fields."""
        hook = self.hook
        if hook is None or account is None:
            return NO_ACCOUNT_FIELDS
        cached = self.cache.get(account)
        if cached is not MISSING:
            return cast(AccountFields, cached)
        with self._flights_lock:
            flight = self._flights.get(account)
            leading = flight is None
            if flight is None:
                # A fetch that ended between the miss above and taking the lock has filled the cache.
                cached = self.cache.get(account)
                if cached is not MISSING:
                    return cast(AccountFields, cached)
                flight = self._flights[account] = concurrent.futures.Future()
        if not leading:
            return flight.result()  # the leader's fields, or its exception (a ConfigurationError) raised here too
        try:
            fields = self._fetch(hook, account, info)
        except BaseException as exc:
            # An interruption (KeyboardInterrupt, SystemExit, a green thread's timeout) belongs to this thread
            # alone: the waiters are checked without context, as if the hook had failed.
            if isinstance(exc, Exception):
                flight.set_exception(exc)
            else:
                flight.set_result(NO_ACCOUNT_FIELDS)
            raise
        else:
            flight.set_result(fields)
            return fields
        finally:
            with self._flights_lock:
                del self._flights[account]

    def _fetch(self, hook: ContextHook, account: str, info: RequestInfo) -> AccountFields:
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
            return NO_ACCOUNT_FIELDS  # not cached: the next miss asks the hook again
        return self._remember(account, context)

    # -- async (ASGI) ------------------------------------------------------------------------------------------

    async def aload(self, account: str, info: RequestInfo) -> AccountFields:
        """A cache miss under ASGI: an ``async def`` hook is awaited; any other hook runs in a worker thread
        (``asyncio.to_thread``), so a blocking user-store query never stalls the event loop.

        Concurrent misses for one account on this event loop share one fetch, a task that runs to the end and
        fills the cache even if the request that started it is cancelled (a client that disconnected)."""
        hook = self.hook
        if hook is None:
            return NO_ACCOUNT_FIELDS
        loop = asyncio.get_running_loop()
        key = (loop, account)
        fetch = self._aflights.get(key)
        if fetch is None:
            fetch = loop.create_task(self._afetch(hook, account, info))
            self._aflights[key] = fetch
            fetch.add_done_callback(functools.partial(self._landed, key))
        # shield: cancelling this waiter cancels only its wait, never the fetch the other waiters share
        return await asyncio.shield(fetch)

    def _landed(self, key: tuple[asyncio.AbstractEventLoop, str], fetch: asyncio.Task[AccountFields]) -> None:
        if self._aflights.get(key) is fetch:
            del self._aflights[key]

    async def _afetch(self, hook: ContextHook, account: str, info: RequestInfo) -> AccountFields:
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
            return NO_ACCOUNT_FIELDS  # not cached: the next miss asks the hook again
        return self._remember(account, context)

    def _remember(self, account: str, context: AccountContext | None) -> AccountFields:
        # Outside the hook's try: a malformed created_at is the app's bug, so it raises instead of being logged.
        fields = AccountFields.of(context)
        self.cache.put(account, fields)
        return fields


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
