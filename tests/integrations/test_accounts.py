"""Accounts: the keyed digest of the API key, the bounded account cache, and the single-flight
``account_context`` hook: concurrent cache misses for one account share one hook call (per event loop under ASGI,
across threads under WSGI), and the in-flight tables hold only fetches in progress."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import threading
import time
from collections import Counter

import httpx
import pytest

from patternlimit import ConfigurationError, Limiter
from patternlimit.integrations import AccountContext, RequestInfo
from patternlimit.integrations.accounts import (
    MISSING,
    NO_ACCOUNT_FIELDS,
    AccountCache,
    AccountFields,
    ContextLoader,
    account_from,
    default_account,
)
from tests.integrations import support
from tests.integrations.test_asgi import Spy, run
from tests.integrations.test_asgi import make_app as make_asgi_app
from tests.integrations.test_wsgi import call
from tests.integrations.test_wsgi import make_app as make_wsgi_app

FAILED = "account_context failed"


def make_loader(hook) -> ContextLoader:  # type: ignore[no-untyped-def]
    return ContextLoader(hook, capacity=10_000, ttl=300.0)


def info_for(key: str) -> RequestInfo:
    return RequestInfo("POST", "/v1/messages", (("x-api-key", key),), "127.0.0.1")


def assert_nothing_in_flight(loader: ContextLoader) -> None:
    assert loader._aflights == {} and loader._flights == {}


def failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum(FAILED in record.getMessage() for record in caplog.records)


# -- the account id and the cache --------------------------------------------------------------------------------------


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
    cache = AccountCache(capacity=2, ttl=10.0, clock=lambda: clock[0])
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


def test_a_long_credential_is_digested_without_the_cache():
    long_key = "sk-" + "x" * 1000
    first = default_account(RequestInfo("GET", "/", (("x-api-key", long_key),)), b"k" * 32)
    again = default_account(RequestInfo("GET", "/", (("authorization", f"Bearer {long_key}"),)), b"k" * 32)
    assert first == again and first is not None and len(first) == 28


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


def test_the_context_cache_stays_consistent_under_threads():
    cache: AccountCache[str] = AccountCache(capacity=8, ttl=60.0)
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


# -- the account_context hook under ASGI: one call per account per event loop ------------------------------------------


def test_concurrent_requests_for_a_new_account_share_one_call_of_an_async_hook():
    calls: Counter[str] = Counter()

    async def hook(account, info):  # type: ignore[no-untyped-def]
        calls[info.header("x-api-key")] += 1
        await asyncio.sleep(0.05)  # a user-store query: every request below misses the cache meanwhile
        return {"created_at": 1_000.0 if info.header("x-api-key") == "new-a" else 2_000.0, "plan": "free"}

    spy = Spy(Limiter(secret=support.SECRET))
    app = make_asgi_app(spy, account_context=hook)

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 123))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            responses = await asyncio.gather(
                *(
                    http.post("/v1/messages", content=b"{}", headers=support.headers_for(key))
                    for key in ["new-a"] * 20 + ["new-b"] * 20
                )
            )
        return [response.status_code for response in responses]

    assert run(go()) == [200] * 40
    assert calls == {"new-a": 1, "new-b": 1}
    ages = Counter((request.account_created_at, request.attributes.get("plan")) for request in spy.requests)
    assert ages == {(1_000.0, "free"): 20, (2_000.0, "free"): 20}
    assert_nothing_in_flight(app.guard.contexts)


def test_every_waiter_gets_the_same_fields_from_one_call_of_a_blocking_sync_hook():
    calls: list[str] = []
    threads: set[int] = set()

    def hook(account, info):  # type: ignore[no-untyped-def]
        calls.append(account)
        threads.add(threading.get_ident())
        time.sleep(0.1)  # blocks its worker thread, never the loop
        return {"created_at": 5.0}

    loader = make_loader(hook)

    async def go() -> list[AccountFields]:
        return await asyncio.gather(*(loader.aload("key:a", info_for("a")) for _ in range(20)))

    results = run(go())
    assert calls == ["key:a"] and threading.get_ident() not in threads
    assert results[0].created_at == 5.0 and all(fields is results[0] for fields in results)
    assert loader.cache.get("key:a") is results[0]
    assert_nothing_in_flight(loader)


@pytest.mark.parametrize("others", [4, 0])
def test_a_cancelled_first_waiter_leaves_the_fetch_running_for_the_others_and_the_cache(others):
    calls: list[str] = []

    async def go() -> tuple[ContextLoader, list[AccountFields]]:
        release = asyncio.Event()

        async def hook(account, info):  # type: ignore[no-untyped-def]
            calls.append(account)
            await release.wait()
            return {"created_at": 9.0}

        loader = make_loader(hook)
        first = asyncio.create_task(loader.aload("key:a", info_for("a")))
        await asyncio.sleep(0)  # the first waiter starts the fetch
        rest = [asyncio.create_task(loader.aload("key:a", info_for("a"))) for _ in range(others)]
        await asyncio.sleep(0)
        first.cancel()  # its client disconnected while the hook was still running
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*rest)
        assert first.cancelled()
        for _ in range(100):  # without other waiters nothing awaits the fetch: give it time to land
            if loader.cache.get("key:a") is not MISSING:
                break
            await asyncio.sleep(0.01)
        return loader, results

    loader, results = run(go())
    assert calls == ["key:a"]
    assert len(results) == others and all(fields.created_at == 9.0 for fields in results)
    cached = loader.cache.get("key:a")
    assert isinstance(cached, AccountFields) and cached.created_at == 9.0
    assert_nothing_in_flight(loader)


def test_a_failing_hook_gives_every_waiter_no_fields_is_logged_once_and_is_not_cached(caplog):
    calls: list[str] = []

    async def hook(account, info):  # type: ignore[no-untyped-def]
        calls.append(account)
        await asyncio.sleep(0.01)
        raise RuntimeError("user store down")

    loader = make_loader(hook)

    async def burst() -> list[AccountFields]:
        return await asyncio.gather(*(loader.aload("key:a", info_for("a")) for _ in range(10)))

    with caplog.at_level(logging.WARNING, logger="patternlimit.integrations"):
        results = run(burst())
        assert results == [NO_ACCOUNT_FIELDS] * 10 and calls == ["key:a"] and failures(caplog) == 1
        assert loader.cache.get("key:a") is MISSING
        assert_nothing_in_flight(loader)
        assert run(burst()) == [NO_ACCOUNT_FIELDS] * 10  # the failure was not remembered: the hook is asked again
    assert calls == ["key:a", "key:a"] and failures(caplog) == 2
    assert_nothing_in_flight(loader)


def test_a_configuration_error_reaches_every_async_waiter():
    calls: list[str] = []

    async def hook(account, info):  # type: ignore[no-untyped-def]
        calls.append(account)
        await asyncio.sleep(0.01)
        return 42  # neither an AccountContext, a mapping nor None

    loader = make_loader(hook)

    async def go() -> list[object]:
        fetches = (loader.aload("key:a", info_for("a")) for _ in range(5))
        return await asyncio.gather(*fetches, return_exceptions=True)

    results = run(go())
    assert calls == ["key:a"]
    assert all(isinstance(result, ConfigurationError) and "not int" in str(result) for result in results)
    assert_nothing_in_flight(loader)


def test_each_event_loop_fetches_for_itself_and_never_awaits_another_loops_fetch():
    calls: list[int] = []
    both_in_flight = threading.Barrier(2)

    async def hook(account, info):  # type: ignore[no-untyped-def]
        calls.append(threading.get_ident())
        # Returns only once the other loop's fetch for the same account is in flight too.
        await asyncio.to_thread(both_in_flight.wait, 5.0)
        return {"created_at": 3.0}

    loader = make_loader(hook)

    async def burst() -> list[AccountFields]:
        return await asyncio.gather(*(loader.aload("key:a", info_for("a")) for _ in range(10)))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        loops = [pool.submit(run, burst()) for _ in range(2)]
        results = [fields for loop in loops for fields in loop.result(timeout=10)]
    assert len(calls) == 2 and len(set(calls)) == 2  # one call per loop, each on its own loop's thread
    assert len(results) == 20 and all(fields.created_at == 3.0 for fields in results)
    assert_nothing_in_flight(loader)


# -- under WSGI: one call per account across threads -------------------------------------------------------------------


def burst_of_threads(work, threads: int = 10) -> list[object]:  # type: ignore[no-untyped-def]
    """``work()`` in ``threads`` threads released at once; each result, or the exception it raised."""
    start = threading.Barrier(threads)

    def one() -> object:
        start.wait(5.0)
        return work()

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(one) for _ in range(threads)]
        return [future.exception(timeout=10) or future.result(timeout=10) for future in futures]


class SlowHook:
    """A hook that answers only once every thread of the burst has asked for the account (so on a cache miss each
    of them would call it too), then ``outcome()``."""

    def __init__(self, outcome, threads: int = 10) -> None:  # type: ignore[no-untyped-def]
        self.outcome = outcome
        self.threads = threads
        self.calls = 0
        self.asking = 0
        self.lock = threading.Lock()

    def ask(self) -> None:
        with self.lock:
            self.asking += 1

    def __call__(self, account, info):  # type: ignore[no-untyped-def]
        with self.lock:
            self.calls += 1
        deadline = time.monotonic() + 5.0
        while self.asking < self.threads and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.25)  # from asking to waiting on the fetch in flight takes microseconds (slack for a busy CI)
        return self.outcome()


def test_threads_missing_at_once_under_wsgi_share_one_hook_call():
    hook = SlowHook(lambda: support.lookup("old-1"))
    spy = Spy(Limiter(secret=support.SECRET))
    app = make_wsgi_app(spy, account_context=hook)

    def request() -> str:
        hook.ask()
        return call(app, b"{}")[0]

    assert burst_of_threads(request) == ["200 OK"] * 10
    assert hook.calls == 1
    assert len({request.account_created_at for request in spy.requests}) == 1 and len(spy.requests) == 10
    assert spy.requests[0].attributes == {"plan": "enterprise"}
    assert_nothing_in_flight(app.guard.contexts)


def test_a_failing_hook_under_threads_gives_every_thread_no_fields_and_none_hangs(caplog):
    def fail() -> None:
        raise RuntimeError("user store down")

    hook = SlowHook(fail)
    loader = make_loader(hook)

    def fetch() -> AccountFields:
        hook.ask()
        return loader.load("key:a", info_for("a"))

    with caplog.at_level(logging.WARNING, logger="patternlimit.integrations"):
        assert burst_of_threads(fetch) == [NO_ACCOUNT_FIELDS] * 10
        assert hook.calls == 1 and failures(caplog) == 1
        assert loader.load("key:a", info_for("a")) is NO_ACCOUNT_FIELDS  # not cached: asked again
    assert hook.calls == 2 and failures(caplog) == 2
    assert_nothing_in_flight(loader)


def test_a_configuration_error_reaches_every_thread():
    hook = SlowHook(lambda: 42)
    loader = make_loader(hook)

    def fetch() -> AccountFields:
        hook.ask()
        return loader.load("key:a", info_for("a"))

    results = burst_of_threads(fetch)
    assert hook.calls == 1
    assert all(isinstance(result, ConfigurationError) and "not int" in str(result) for result in results)
    assert_nothing_in_flight(loader)


def test_a_thread_that_missed_just_before_a_fetch_landed_takes_the_cached_answer():
    calls: list[str] = []

    def hook(account, info):  # type: ignore[no-untyped-def]
        calls.append(account)
        return {"created_at": 4.0}

    loader = make_loader(hook)
    fields = loader.load("key:a", info_for("a"))
    cache = loader.cache

    class FirstLookupMisses:
        """This thread's first lookup ran before the other thread's fetch filled the cache."""

        missed = False

        def get(self, account: str) -> object:
            if not self.missed:
                self.missed = True
                return MISSING
            return cache.get(account)

    loader.cache = FirstLookupMisses()  # type: ignore[assignment]
    assert loader.load("key:a", info_for("a")) is fields
    assert calls == ["key:a"]
    assert_nothing_in_flight(loader)
