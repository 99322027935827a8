"""The limiter end to end: one check() with a 2 KB prompt on the default preset, and check_many, next to
`limits`' moving-window hit on memory:// in the same run (which counts one exact key and fingerprints nothing)."""

from __future__ import annotations

import itertools
import random

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from patternlimit import Limiter, Request
from tests import traffic

NOW = traffic.START + 600.0


def prompts(count: int, size: int = 2048) -> list[str]:
    """``count`` 2 KB coding prompts: one template frame, varied fillers and payloads."""
    rng = random.Random(7)
    out = []
    for _ in range(count):
        text = traffic.campaign_prompt(rng)
        while len(text) < size:
            text += "\n" + traffic.organic_prompt(rng)
        out.append(text[:size])
    return out


@pytest.fixture(scope="module")
def requests() -> list[Request]:
    rng = random.Random(8)
    texts = prompts(2000)
    return [
        Request(
            account=f"account-{rng.randrange(5000)}",
            ip=traffic.ip(rng),
            text=texts[index % len(texts)],
            route="/v1/messages",
            account_created_at=traffic.START - rng.uniform(1, 900) * 86400,
        )
        for index in range(20_000)
    ]


def test_check_2kb_default_preset(benchmark, requests):
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    for request in requests[:500]:
        limiter.check(request, NOW)  # warm: compile, fill the sketches
    stream = itertools.cycle(requests)
    benchmark.extra_info["bytes"] = limiter.nbytes
    benchmark(lambda: limiter.check(next(stream), NOW))


def test_check_many_2kb_default_preset(benchmark, requests):
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    batch = requests[:5000]
    limiter.check_many(batch[:100], NOW)
    benchmark.pedantic(lambda: limiter.check_many(batch, NOW), rounds=3, iterations=1)
    benchmark.extra_info["items"] = len(batch)
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["million_updates_per_second"] = round(len(batch) / benchmark.stats.stats.min / 1e6, 4)


@pytest.fixture(scope="module")
def chat_requests() -> list[Request]:
    """Chat-sized requests (one natural-language prompt of about 100 characters each, as an LLM chat turn), from
    established accounts of varied ages: the issue fixes no prompt size for ``check_many``, so both are reported."""
    rng = random.Random(9)
    return [
        Request(
            account=f"account-{rng.randrange(5000)}",
            ip=traffic.ip(rng),
            text=traffic.organic_prompt(rng),
            route="/v1/messages",
            account_created_at=traffic.START - rng.uniform(1, 900) * 86400,
        )
        for _ in range(5000)
    ]


def test_check_chat_default_preset(benchmark, chat_requests):
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    for request in chat_requests[:500]:
        limiter.check(request, NOW)
    stream = itertools.cycle(chat_requests)
    benchmark(lambda: limiter.check(next(stream), NOW))


def test_check_many_chat_default_preset(benchmark, chat_requests):
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    limiter.check_many(chat_requests[:100], NOW)
    benchmark.pedantic(lambda: limiter.check_many(chat_requests, NOW), rounds=3, iterations=1)
    benchmark.extra_info["items"] = len(chat_requests)
    if benchmark.stats:
        rate = len(chat_requests) / benchmark.stats.stats.min
        benchmark.extra_info["million_updates_per_second"] = round(rate / 1e6, 4)


def test_peer_limits_moving_window_hit_100_per_minute(benchmark):
    """`limits`' moving window on memory:// for one account at a realistic limit (the list stays bounded)."""
    limiter = MovingWindowRateLimiter(storage_from_string("memory://"))
    item = parse("100/minute")
    accounts = itertools.cycle([f"account-{index}" for index in range(5000)])
    benchmark(lambda: limiter.hit(item, next(accounts)))
