"""The limiter end to end: one check() with a 2 KB prompt on the default preset, and check_many, next to
`limits`' moving-window hit on memory:// in the same run (which counts one exact key and fingerprints nothing)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from patternlimit import Limiter, Request
from patternlimit._testing import traffic

NOW = traffic.START + 600.0


def prompts(count: int, size: int = 2048, rng: random.Random | None = None) -> list[str]:
    """``count`` 2 KB coding prompts: one template frame, varied fillers and payloads."""
    rng = random.Random(7) if rng is None else rng
    out = []
    for _ in range(count):
        text = traffic.campaign_prompt(rng)
        while len(text) < size:
            text += "\n" + traffic.organic_prompt(rng)
        out.append(text[:size])
    return out


def requests_of(rng: random.Random, count: int, text: Callable[[int], str]) -> list[Request]:
    """``count`` requests with ``text(index)`` as prompt, from 5,000 accounts aged 1 to 900 days at varied
    addresses (drawn from ``rng`` in that order, the prompt's own draws between the address and the age)."""
    return [
        Request(
            account=f"account-{rng.randrange(5000)}",
            ip=traffic.ip(rng),
            text=text(index),
            route="/v1/messages",
            account_created_at=traffic.START - rng.uniform(1, 900) * 86400,
        )
        for index in range(count)
    ]


@pytest.fixture(scope="module")
def requests() -> list[Request]:
    texts = prompts(2000)
    return requests_of(random.Random(8), 20_000, lambda index: texts[index % len(texts)])


@pytest.fixture(scope="module")
def chat_requests() -> list[Request]:
    """Chat-sized requests (one natural-language prompt of about 100 characters each, as an LLM chat turn): the
    issue fixes no prompt size for ``check_many``, so both are reported."""
    rng = random.Random(9)
    return requests_of(rng, 5000, lambda _: traffic.organic_prompt(rng))


def bench_check(benchmark, requests: list[Request]) -> Limiter:  # type: ignore[no-untyped-def]
    """Time one ``check()`` at a time over ``requests`` (cycled) on the default preset, warmed first."""
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    for request in requests[:500]:
        limiter.check(request, NOW)  # warm: compile, fill the sketches
    stream = itertools.cycle(requests)
    benchmark(lambda: limiter.check(next(stream), NOW))
    return limiter


def bench_check_many(benchmark, batch: list[Request]) -> None:  # type: ignore[no-untyped-def]
    """Time ``check_many`` over ``batch`` (ten rounds: on this shared VM one round in three can run at half speed)
    and report decisions per second."""
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    limiter.check_many(batch[:100], NOW)
    benchmark.pedantic(lambda: limiter.check_many(batch, NOW), rounds=10, iterations=1)
    benchmark.extra_info["items"] = len(batch)
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["million_updates_per_second"] = round(len(batch) / benchmark.stats.stats.min / 1e6, 4)


def test_check_2kb_default_preset(benchmark, requests):
    benchmark.extra_info["bytes"] = bench_check(benchmark, requests).nbytes


def test_check_many_2kb_default_preset(benchmark, requests):
    bench_check_many(benchmark, requests[:5000])


def test_check_chat_default_preset(benchmark, chat_requests):
    bench_check(benchmark, chat_requests)


def test_check_many_chat_default_preset(benchmark, chat_requests):
    bench_check_many(benchmark, chat_requests)


def test_peer_limits_moving_window_hit_100_per_minute(benchmark):
    """`limits`' moving window on memory:// for one account at a realistic limit (the list stays bounded)."""
    limiter = MovingWindowRateLimiter(storage_from_string("memory://"))
    item = parse("100/minute")
    accounts = itertools.cycle([f"account-{index}" for index in range(5000)])
    benchmark(lambda: limiter.hit(item, next(accounts)))


ATTACK_TEMPLATE = (
    "You are an expert Python engineer. Task: implement the function described below, with type hints and "
    "docstrings, and explain your reasoning step by step. Return only code in one block.\n\n"
)


def attack_requests(count: int, start: int = 0) -> list[Request]:
    """The path an attacker controls: accounts created a day ago, four requests each, on proxy prefixes, each
    request with new 2 KB text in one template frame (flagged once the limiter is warmed with a few hundred)."""
    rng = random.Random(11 + start)
    out = []
    for index in range(start, start + count):
        text = ATTACK_TEMPLATE + f"Function {index}: " + traffic.organic_prompt(rng)
        while len(text) < 2048:
            text += "\n" + traffic.organic_prompt(rng)
        out.append(
            Request(
                account=f"young-{index // 4}",
                ip=f"203.0.{index % 40}.{index % 250 + 1}",
                text=text[:2048],
                route="/v1/messages",
                account_created_at=NOW - 86400,
            )
        )
    return out


def flagged_limiter() -> Limiter:
    """A limiter on which the attack template is flagged and its senders are being throttled."""
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    for request in attack_requests(600):
        limiter.check(request, NOW)
    decisions = [limiter.check(request, NOW) for request in attack_requests(8, 600)]
    assert all(decision.rule for decision in decisions)  # the attack path is really taken: every one meets a rule
    assert any(not decision.allowed for decision in decisions)
    return limiter


def test_check_2kb_attack_path_young_accounts_on_a_flagged_template(benchmark):
    limiter = flagged_limiter()
    stream = iter(attack_requests(200_000, 1000))
    benchmark(lambda: limiter.check(next(stream), NOW))


def test_check_2kb_established_accounts_only(benchmark, requests):
    """The calm path beside the attack path: the same-sized prompts from accounts older than the young age."""
    aged = [request for request in requests if NOW - (request.account_created_at or 0) > 8 * 86400]
    bench_check(benchmark, aged)


@pytest.fixture(scope="module")
def mixed_requests() -> tuple[list[Request], list[float]]:
    """A slice of ``patternlimit simulate``'s traffic (seed 3, every scenario, 2 simulated hours): the mix of
    campaign and legitimate look-alikes the limiter meets, in time order."""
    from patternlimit.sim.scenarios import generate

    stream = generate(3, scale=1.0, duration_hours=2.0)
    return [item.request for item in stream], [item.time for item in stream]


def test_check_many_mixed_simulate_traffic(benchmark, mixed_requests):
    requests, times = mixed_requests
    batch, moments = requests[:10_000], times[:10_000]

    def run() -> None:
        Limiter(secret=b"benchmark secret, 32 bytes long!").check_many(batch, moments)

    Limiter(secret=b"benchmark secret, 32 bytes long!").check_many(batch[:100], moments[:100])  # compile
    benchmark.pedantic(run, rounds=5, iterations=1)
    benchmark.extra_info["items"] = len(batch)
    if benchmark.stats:
        benchmark.extra_info["million_updates_per_second"] = round(len(batch) / benchmark.stats.stats.min / 1e6, 4)
