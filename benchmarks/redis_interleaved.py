"""The rows of benchmarks/test_redis.py timed interleaved in one process: blocks of 50 calls of each row in turn,
so that load from other processes falls on every row alike and the ratios hold on a shared machine (pytest-
benchmark runs the rows one after the other, seconds apart).

Usage: ``python -m benchmarks.redis_interleaved [rounds]`` from the repository root (default 200 rounds); the
server is started on a free port (or ``REDIS_URL``). Prints the median and minimum per call of each row and
strict / limits.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
import uuid
from collections.abc import Callable

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from benchmarks.test_redis import NOW, SECRET, build_requests
from patternlimit import Limiter
from patternlimit._testing.redis_server import redis_url

BLOCK = 50


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with redis_url() as url:
        requests = build_requests()
        peer = MovingWindowRateLimiter(storage_from_string(url))
        item = parse("100/minute")
        accounts = itertools.cycle([f"account-{index}" for index in range(5000)])
        limiters = {
            mode: Limiter(storage=url, storage_options={"mode": mode, "namespace": f"bench-{uuid.uuid4().hex[:8]}",
                                                        "timeout": 1.0}, secret=SECRET)
            for mode in ("strict", "eventual")
        }  # fmt: skip
        memory = Limiter(secret=SECRET)
        streams = {name: itertools.cycle(requests) for name in ("strict", "eventual", "memory")}
        rows: dict[str, Callable[[], object]] = {
            "limits moving-window hit": lambda: peer.hit(item, next(accounts)),
            "strict check": lambda: limiters["strict"].check(next(streams["strict"]), NOW),
            "eventual check": lambda: limiters["eventual"].check(next(streams["eventual"]), NOW),
            "in-memory check": lambda: memory.check(next(streams["memory"]), NOW),
        }
        for _ in range(300):  # warm: compile, fill the sketches, connect
            for run in rows.values():
                run()
        times: dict[str, list[float]] = {name: [] for name in rows}
        clock = time.perf_counter
        for _ in range(rounds):
            for name, run in rows.items():
                out = times[name]
                for _ in range(BLOCK):
                    started = clock()
                    run()
                    out.append(clock() - started)
        for limiter in limiters.values():
            limiter.close()
    stats = {name: (statistics.median(values) * 1e6, min(values) * 1e6) for name, values in times.items()}
    for name, (median, minimum) in stats.items():
        print(f"{name:26s} median {median:7.1f} us   min {minimum:7.1f} us")
    (peer_median, peer_min), (strict_median, strict_min) = stats["limits moving-window hit"], stats["strict check"]
    print(f"strict / limits: {strict_median / peer_median:.2f}x median, {strict_min / peer_min:.2f}x min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
