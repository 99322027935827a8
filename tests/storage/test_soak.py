"""A bounded soak: three OS processes decide a templated stream on one real Redis for ``PATTERNLIMIT_SOAK_SECONDS``
(default 12; longer on demand) while the server is killed and restarted empty, frozen with ``SIGSTOP`` and killed
again. No worker hangs, no check waits past its bound, memory stays flat, and once the faults are over every
process's count of the stream's template agrees with the requests served, within the documented error: counts
err upwards only, except that a restart that loses Redis's data may hide from a process what the others shipped
in the last exchanges before the loss (docs/storage.md, "When Redis goes away")."""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import resource
import time
from typing import Any

import pytest

from patternlimit import Limiter, Request
from patternlimit._testing import traffic
from patternlimit._testing.redis_server import RedisServer

SECRET = b"test secret for the soak test!!!"
WORKERS = 3
SECONDS = float(os.environ.get("PATTERNLIMIT_SOAK_SECONDS", "12"))
TIMEOUT = 0.05
SYNC_INTERVAL = 0.05
RATE = 300.0
"""Requests per second per worker (paced, so that a busy machine does not turn the soak into a CPU benchmark)."""


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(me: int, url: str, mode: str, start: Any, done: Any, results: Any) -> None:
    options = {
        "mode": mode,
        "namespace": f"soak-{mode}",
        "sync_interval": SYNC_INTERVAL,
        "timeout": TIMEOUT,
        "connect_timeout": TIMEOUT,
        "backoff_max": 0.2,
        "on_storage_error": "local",
    }
    rng = random.Random(me)
    limiter = Limiter(storage=url, storage_options=options, secret=SECRET)
    limiter.check(Request(account="warm", ip="192.0.2.1", text="warm up"))  # compile before the clock starts
    start.wait()
    began = time.monotonic()
    latencies: list[float] = []
    rss: list[float] = []
    served = 0
    while (elapsed := time.monotonic() - began) < SECONDS:
        request = Request(
            account=f"soak-{me}-{rng.randrange(500)}",
            ip=traffic.ip(rng, 16),
            text=traffic.campaign_prompt(rng),
            account_created_at=time.time() - 3600.0,
        )
        checked = time.perf_counter()
        limiter.check(request)
        latencies.append(time.perf_counter() - checked)
        served += 1
        if served % 500 == 0:
            rss.append(_rss_mib())
        ahead = served / RATE - elapsed
        if ahead > 0:
            time.sleep(ahead)
    deadline = time.monotonic() + 20.0
    while True:  # ship everything once Redis answers again
        try:
            limiter.sync()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    results.put(("served", me, served))
    done.wait()  # every worker has shipped: read what the others shipped last
    limiter.sync()
    hits = max((row.hits for row in limiter.top_patterns(5)), default=0)
    limiter.close()
    latencies.sort()
    results.put(
        ("report", me, hits, latencies[int(0.99 * len(latencies))], latencies[-1], rss, resource.getrusage(0).ru_maxrss)
    )


@pytest.mark.parametrize("mode", ["eventual", "strict"])
def test_a_soak_with_restarts_and_freezes_hangs_nothing_and_counts_converge(redis_server: RedisServer, mode: str):
    limiter_bytes = Limiter(secret=SECRET).nbytes  # the state a snapshot copies
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(WORKERS + 1), context.Barrier(WORKERS + 1)
    results = context.Queue()
    workers = [
        context.Process(target=worker, args=(me, redis_server.url, mode, start, done, results), daemon=True)
        for me in range(WORKERS)
    ]
    for process in workers:
        process.start()
    start.wait(timeout=120)
    began = time.monotonic()
    faults = [
        (0.25, RedisServer.kill, 0.5, RedisServer.start),  # restarted empty: no persistence
        (0.5, RedisServer.pause, 1.0, RedisServer.resume),
        (0.75, RedisServer.kill, 0.5, RedisServer.start),
    ]
    for at, stop, lasting, restore in faults:
        time.sleep(max(0.0, began + at * SECONDS - time.monotonic()))
        stop(redis_server)
        time.sleep(lasting)
        restore(redis_server)
    served: dict[int, int] = {}
    reports: dict[int, tuple[Any, ...]] = {}
    deadline = time.monotonic() + SECONDS + 60.0
    while len(served) < WORKERS:
        try:
            _, me, *rest = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"workers {sorted(set(range(WORKERS)) - set(served))} hung (no report)")
        served[me] = rest[0]
    done.wait(timeout=60)
    while len(reports) < WORKERS:
        _, me, *rest = results.get(timeout=60)
        reports[me] = tuple(rest)
    for process in workers:
        process.join(timeout=30)
        assert process.exitcode == 0
    total = sum(served.values())
    # Lost on each data-losing restart at most: what the other workers shipped in the exchanges just before it.
    allowance = 2 * (WORKERS - 1) * RATE * (SYNC_INTERVAL + TIMEOUT) * 4 + 0.01 * total
    print(f"soak {mode}: {total} served; per worker (hits, p99 s, slowest s):",
          [(r[0], round(r[1], 4), round(r[2], 3)) for r in reports.values()])  # fmt: skip
    for me, (hits, p99, slowest, rss, _) in reports.items():
        assert total - allowance <= hits <= total * 1.02 + 10, (me, hits, total)
        # No hang: the slowest check of a process is bounded (a loaded CI machine adds scheduling delays to it).
        assert slowest < 5.0, f"worker {me}: a check took {slowest:.3f} s"
        # Eventual checks never wait on the network; a strict one waits at most one timeout per exchange.
        assert p99 < (0.02 if mode == "eventual" else 2 * TIMEOUT) + 0.03, (me, p99)
        # Flat: no growth from a third of the way in to the end; a snapshot's copy of the state (96 MiB by
        # default) comes and goes.
        copy, settled = limiter_bytes / 2**20, rss[len(rss) // 3]
        assert rss[-1] - settled < 32 and max(rss) - settled < copy + 40, f"worker {me}: RSS {rss}"
    assert total > 0.5 * WORKERS * RATE * SECONDS  # the soak served traffic throughout
