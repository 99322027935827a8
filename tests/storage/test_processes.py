"""Four OS processes share one Redis: a templated fan-out split round-robin across them is throttled as one
in-memory limiter would throttle it, and legitimate traffic is untouched."""

from __future__ import annotations

import multiprocessing
import queue

import pytest

from patternlimit import Action, Limiter
from patternlimit._testing import traffic

SECRET = b"test secret for the process test!"
WORKERS = 4
SYNC_EVERY = 20
"""Requests (over all workers) between exchanges: the lockstep stands in for ``sync_interval``."""


def stream() -> list:  # type: ignore[type-arg]
    legitimate = traffic.ci_harness(400) + traffic.corporate_nat(80, 3) + traffic.launch_crowd(150)
    return traffic.stream(traffic.campaign(accounts=150, per_account=4) + legitimate)


def worker(me: int, url: str, mode: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    requests = stream()
    options = {"mode": mode, "namespace": f"processes-{mode}", "sync_interval": 60.0}
    limiter = Limiter(storage=url, storage_options=options, secret=SECRET)
    decisions = []
    for index, (now, request) in enumerate(requests):
        if index % WORKERS == me:
            decision = limiter.check(request, now)
            decisions.append((index, decision.action.value, request.account or ""))
        if (index + 1) % SYNC_EVERY == 0:
            limiter.sync()  # ship
            barrier.wait()
            limiter.sync()  # read what the others shipped
            barrier.wait()
    limiter.close()
    results.put(decisions)


@pytest.mark.parametrize("mode", ["eventual", "strict"])
def test_four_processes_throttle_a_split_campaign_like_one_limiter(shared_redis_url, mode):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS, timeout=120)
    results = context.Queue()
    processes = [
        context.Process(target=worker, args=(me, shared_redis_url, mode, barrier, results)) for me in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        shared = sorted(row for _ in processes for row in results.get(timeout=240))
    except queue.Empty:
        pytest.fail("a worker process did not report")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    assert all(process.exitcode == 0 for process in processes)

    alone = Limiter(secret=SECRET)
    single = [(index, alone.check(request, now).action.value) for index, (now, request) in enumerate(stream())]
    assert len(shared) == len(single)
    throttled = {"throttle", "block"}
    campaign_shared = sum(action in throttled for _, action, account in shared if account.startswith("campaign"))
    campaign_single = sum(
        action in throttled for (index, action), (_, _, account) in zip(single, shared, strict=True)
        if account.startswith("campaign")
    )  # fmt: skip
    assert campaign_single > 300
    assert abs(campaign_shared - campaign_single) <= 0.05 * campaign_single
    legitimate = [action for _, action, account in shared if not account.startswith("campaign")]
    assert legitimate and not any(action in throttled for action in legitimate)
    assert Action.ALLOW.value in legitimate
