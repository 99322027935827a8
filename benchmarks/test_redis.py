"""Shared state in Redis, against the peer in the same run: `limits`' Redis moving-window hit for one key, and
patternlimit's check() in strict mode (every pattern key of the request, one round trip) and eventual mode (no
round trip on the hot path), next to the in-memory check() on the same requests.

Targets: strict at most 1.5x one `limits` Redis hit; eventual within 1.3x of the in-memory check().
The server is started on a free port (or ``REDIS_URL``); run ``python benchmarks/report.py`` for the table. On a
machine shared with other work, ``python -m benchmarks.redis_interleaved`` times the rows interleaved instead.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from benchmarks.test_limiter import prompts, requests_of
from patternlimit import Limiter, Request
from patternlimit._testing import traffic
from patternlimit._testing.redis_server import redis_url as server_url

NOW = traffic.START + 600.0
SECRET = b"benchmark secret, 32 bytes long!"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with server_url() as url:
        yield url


@pytest.fixture(scope="module")
def requests() -> list[Request]:
    return build_requests()


def build_requests() -> list[Request]:
    """5,000 requests of 2 KB texts (500 distinct) from 5,000 accounts: the same for every row."""
    rng = random.Random(8)
    texts = prompts(500, rng=rng)
    return requests_of(rng, 5000, lambda index: texts[index % len(texts)])


def run(benchmark, limiter: Limiter, requests: list[Request]) -> None:  # type: ignore[no-untyped-def]
    for request in requests[:300]:
        limiter.check(request, NOW)  # warm: compile, fill the sketches, connect
    stream = itertools.cycle(requests)
    try:
        benchmark(lambda: limiter.check(next(stream), NOW))
    finally:
        limiter.close()


def test_redis_peer_limits_moving_window_hit(benchmark, redis_url):
    """One `limits` hit on Redis: one EVALSHA round trip for one key."""
    storage = storage_from_string(redis_url)
    limiter = MovingWindowRateLimiter(storage)
    item = parse("100/minute")
    accounts = itertools.cycle([f"account-{index}" for index in range(5000)])
    benchmark(lambda: limiter.hit(item, next(accounts)))
    storage.reset()


def test_redis_check_strict(benchmark, redis_url, requests):
    options = {"mode": "strict", "namespace": f"bench-{uuid.uuid4().hex[:8]}", "timeout": 1.0}
    run(benchmark, Limiter(storage=redis_url, storage_options=options, secret=SECRET), requests)


def test_redis_check_eventual(benchmark, redis_url, requests):
    options = {"mode": "eventual", "namespace": f"bench-{uuid.uuid4().hex[:8]}", "timeout": 1.0}
    run(benchmark, Limiter(storage=redis_url, storage_options=options, secret=SECRET), requests)


def test_redis_check_in_memory_same_requests(benchmark, requests):
    run(benchmark, Limiter(secret=SECRET), requests)
