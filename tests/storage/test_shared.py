"""The shared-state suite: one table of backends (memory, Redis eventual, Redis strict), the same behaviour.

Redis limiters here talk to a real ``redis-server`` (started by the fixture, or ``REDIS_URL``). "Processes" in this
module are limiters in one test process, each with its own state, sharing only Redis; tests/storage/
test_processes.py runs real OS processes.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Iterator

import pytest

from patternlimit import Action, Decision, Limiter, Request, StorageStatus
from patternlimit._testing import traffic
from patternlimit.storage.redis_log import READ_LIMIT, AsyncRedisLog, RedisLog

SECRET = b"test secret for the shared state!"

BACKENDS = ["memory", "redis-eventual", "redis-strict"]


def blocked(decisions: list) -> int:  # type: ignore[type-arg]
    return sum(decision.action in (Action.THROTTLE, Action.BLOCK) for decision in decisions)


@pytest.fixture
def make(shared_redis_url: str, namespace: str) -> Iterator[Callable[..., Limiter]]:
    """Build limiters of one backend sharing one namespace; all are closed at the end."""
    made: list[Limiter] = []

    def build(backend: str, policy: object = None, **options: object) -> Limiter:
        if backend == "memory":
            limiter = Limiter(policy, secret=SECRET)
        else:
            mode = backend.removeprefix("redis-")
            limiter = Limiter(
                policy,  # type: ignore[arg-type]
                storage=shared_redis_url,
                storage_options={"mode": mode, "namespace": namespace, "sync_interval": 0.05, **options},
                secret=SECRET,
            )
        made.append(limiter)
        return limiter

    yield build
    for limiter in made:
        limiter.close()


def run_round_robin(limiters: list[Limiter], requests: list[tuple[float, Request]], sync_every: int = 1) -> list:  # type: ignore[type-arg]
    """Send the stream round-robin; every ``sync_every`` requests each limiter ships what it counted, then each
    reads what the others shipped (two passes: one sync ships and reads in one round trip)."""
    decisions = []
    cycle = itertools.cycle(limiters)
    for index, (now, request) in enumerate(requests):
        decisions.append(next(cycle).check(request, now))
        if (index + 1) % sync_every == 0:
            for limiter in limiters * 2:
                limiter.sync()
    return decisions


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_campaign_split_across_processes_is_throttled_and_look_alikes_are_not(make, backend):
    limiters = [make(backend) for _ in range(1 if backend == "memory" else 3)]
    campaign = traffic.campaign(accounts=150, per_account=4)
    decisions = run_round_robin(limiters, campaign)
    assert blocked(decisions) / len(decisions) > 0.5
    assert any(decision.rule == "template-fan-out" for decision in decisions)
    legitimate = traffic.stream(traffic.ci_harness(600) + traffic.corporate_nat(100, 3) + traffic.launch_crowd(200))
    assert blocked(run_round_robin(limiters, legitimate)) == 0


@pytest.mark.parametrize("backend", ["redis-eventual", "redis-strict"])
def test_shared_limiters_decide_as_one_in_memory_limiter_on_the_same_stream(make, backend):
    shared = [make(backend) for _ in range(3)]
    alone = make("memory")
    stream = traffic.stream(traffic.campaign(accounts=120, per_account=4) + traffic.corporate_nat(60, 3))
    together = run_round_robin(shared, stream)
    single = [alone.check(request, now) for now, request in stream]
    agree = sum(a.action == b.action for a, b in zip(together, single, strict=True))
    # The documented difference: a catch made by one process reaches the others with its next exchange.
    assert agree / len(stream) >= 0.98
    assert abs(blocked(together) - blocked(single)) <= 0.02 * len(stream)


def test_eventual_limiters_that_sync_rarely_still_catch_the_campaign_later(make):
    shared = [make("redis-eventual") for _ in range(3)]
    alone = make("memory")
    stream = traffic.campaign(accounts=150, per_account=4)
    together = run_round_robin(shared, stream, sync_every=30)
    single = [alone.check(request, now) for now, request in stream]
    first_shared = next(index for index, decision in enumerate(together) if not decision.allowed)
    first_single = next(index for index, decision in enumerate(single) if not decision.allowed)
    # Staleness: at most one sync period (30 requests here) of extra leak per limiter.
    assert first_single <= first_shared <= first_single + 30 * len(shared)
    assert blocked(together) >= blocked(single) - 30 * len(shared)


@pytest.mark.parametrize("backend", ["redis-eventual", "redis-strict"])
def test_a_process_that_joins_later_starts_from_the_snapshot_and_the_log(make, backend):
    first = make(backend)
    campaign = traffic.campaign(accounts=100, per_account=3)
    run_round_robin([first], campaign[: len(campaign) // 2])
    first.sync()
    assert first._replicator is not None and first._replicator.publish_snapshot()
    run_round_robin([first], campaign[len(campaign) // 2 :])
    first.sync()
    joiner = make(backend)
    now = campaign[-1][0]
    ours = {row.key: row.hits for row in first.top_patterns(5, now)}
    theirs = {row.key: row.hits for row in joiner.top_patterns(5, now)}
    assert ours and theirs == ours


@pytest.mark.parametrize("backend", ["redis-eventual", "redis-strict"])
@pytest.mark.parametrize("strategy", ["moving-window", "fixed-window"])
def test_exact_limits_count_every_process_s_hits(make, backend, strategy):
    rule = {"type": "limit", "name": "per-account", "limit": "10/minute", "strategy": strategy, "weighted": False}
    policy = {"rules": [rule]}
    shared = [make(backend, policy=policy) for _ in range(2)]
    request = Request(account="one", ip="203.0.113.9", text="hello", account_created_at=traffic.START - 30 * 86400)
    decisions = run_round_robin(shared, [(traffic.START + index, request) for index in range(16)])
    # 10 per minute for the account, whichever process served each request
    assert [decision.allowed for decision in decisions] == [True] * 10 + [False] * 6
    assert decisions[-1].rule == "per-account"


def test_strict_acheck_awaits_the_round_trip(make):
    first, second = make("redis-strict"), make("redis-strict")
    campaign = traffic.campaign(accounts=100, per_account=4)

    async def drive() -> list:  # type: ignore[type-arg]
        decisions = []
        for index, (now, request) in enumerate(campaign):
            limiter = first if index % 2 else second
            decisions.append(await limiter.acheck(request, now))
        await first.aclose()
        await second.aclose()
        return decisions

    decisions = asyncio.run(drive())
    assert blocked(decisions) / len(decisions) > 0.5


def test_each_event_loop_keeps_its_own_client_and_closed_loops_let_theirs_go(make, monkeypatch):
    from patternlimit.replication import replicator as replication

    opened = []
    real = replication.connect_async

    def counting(spec):  # type: ignore[no-untyped-def]
        opened.append(spec)
        return real(spec)

    monkeypatch.setattr(replication, "connect_async", counting)
    limiter = make("redis-strict")
    request = Request(account="one", ip="203.0.113.9", text="hello", account_created_at=traffic.START - 30 * 86400)
    turns = [threading.Event() for _ in range(8)]
    errors: list[BaseException] = []

    def loop_thread(parity: int) -> None:
        async def calls() -> None:
            for turn in range(parity, 8, 2):  # the two loops take turns: each call follows one on the other loop
                if turn:
                    await asyncio.to_thread(turns[turn - 1].wait, 10.0)
                await limiter.acheck(request, traffic.START + turn)
                turns[turn].set()

        try:
            asyncio.run(calls())
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=loop_thread, args=(parity,)) for parity in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30.0)
    assert not errors and all(turn.is_set() for turn in turns)
    assert len(opened) == 2  # one client per loop, not one per switch between them (8 before)

    for second in range(3):  # asyncio.run per call: each run's loop is closed after it
        asyncio.run(limiter.acheck(request, traffic.START + 10 + second))
    assert len(opened) == 5
    assert len(limiter._replicator._async) == 0  # each loop closed its client as it shut down  # type: ignore[union-attr]


@pytest.mark.parametrize("call", ["check", "acheck"])
def test_a_strict_check_reads_every_entry_logged_before_its_own_even_past_one_read_s_limit(make, monkeypatch, call):
    """More entries wait than one exchange returns (READ_LIMIT): the check reads on until it reaches its own
    entry, not past it, and only then decides."""
    rule = {"type": "limit", "name": "per-account", "limit": "10/minute", "strategy": "fixed-window", "weighted": False}
    policy = {"rules": [rule]}
    # sync_interval 60 s: no background exchange reads the entries for the checks under test
    reader = make("redis-strict", policy=policy, sync_interval=60.0)
    writer = make("redis-eventual", policy=policy, sync_interval=60.0)
    assert reader._replicator is not None

    def request(account: str) -> Request:
        return Request(account=account, ip="203.0.113.9", text="hello", account_created_at=traffic.START - 30 * 86400)

    for index in range(READ_LIMIT):  # one log entry each, none about the account checked below
        writer.check(request(f"filler-{index}"), traffic.START)
        writer.sync()
    for index in range(12):  # then twelve hits of "one", past the first read
        writer.check(request("one"), traffic.START + index)
        writer.sync()

    # Once the reader has appended its entry, the writer logs one more: it comes after the reader's in the log.
    late: list[int] = []

    def log_one_late() -> None:
        if not late:
            late.append(1)
            writer.check(request("late"), traffic.START + 12)
            writer.sync()

    exchange, aexchange = RedisLog.exchange, AsyncRedisLog.aexchange

    def spy(log: RedisLog, producer: bytes, *args: object) -> object:
        result = exchange(log, producer, *args)  # type: ignore[arg-type]
        if producer == reader._replicator.producer:  # type: ignore[union-attr]
            log_one_late()
        return result

    async def aspy(log: AsyncRedisLog, producer: bytes, *args: object) -> object:
        result = await aexchange(log, producer, *args)  # type: ignore[arg-type]
        log_one_late()
        return result

    monkeypatch.setattr(RedisLog, "exchange", spy)
    monkeypatch.setattr(AsyncRedisLog, "aexchange", aspy)
    if call == "check":
        decision, status = reader.check(request("one"), traffic.START + 13), reader.storage_status
    else:

        async def drive() -> tuple[Decision, StorageStatus | None]:
            decision = await reader.acheck(request("one"), traffic.START + 13)
            status = reader.storage_status
            await reader.aclose()
            return decision, status

        decision, status = asyncio.run(drive())
    assert late
    assert decision.rule == "per-account" and not decision.allowed
    assert status is not None and status.applied == READ_LIMIT + 12  # the late entry waits for the next exchange
