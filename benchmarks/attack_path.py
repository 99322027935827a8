"""The attack path against the calm path and the peer, interleaved in one process so that load falls on all three.

Usage: ``python -m benchmarks.attack_path [BLOCKS]``. Each block times 500 ``check()`` calls on 2 KB prompts from
young accounts on a flagged template with new text (the path an attacker controls), 500 from established
accounts, and 500 ``limits`` moving-window hits on ``memory://``; prints each row's minimum and median
microseconds per call over the blocks, and the ratios the issue sets targets on (attack / established <= 2,
attack / limits <= 4).
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from benchmarks.test_limiter import NOW, attack_requests, flagged_limiter, prompts, requests_of


def main(argv: list[str]) -> int:
    blocks = int(argv[0]) if argv else 12
    limiter = flagged_limiter()
    attack = attack_requests(500 * blocks, 1000)
    texts = prompts(2000)
    calm = [
        request
        for request in requests_of(random.Random(8), 20_000, lambda index: texts[index % len(texts)])
        if NOW - (request.account_created_at or 0) > 8 * 86400
    ]
    for request in calm[:500]:
        limiter.check(request, NOW)
    peer = MovingWindowRateLimiter(storage_from_string("memory://"))
    item = parse("100/minute")
    keys = itertools.cycle([f"account-{index}" for index in range(5000)])
    rows: dict[str, list[float]] = {"attack": [], "established": [], "limits": []}
    calm_stream = itertools.cycle(calm[500:])
    for block in range(blocks):
        chunk = attack[block * 500 : (block + 1) * 500]
        rows["attack"].append(_time(lambda request: limiter.check(request, NOW), chunk))
        rows["established"].append(
            _time(lambda request: limiter.check(request, NOW), [next(calm_stream) for _ in range(500)])
        )
        rows["limits"].append(_time(lambda key: peer.hit(item, key), [next(keys) for _ in range(500)]))
    for name, values in rows.items():
        print(f"{name:12s} min {min(values):7.2f} us  median {statistics.median(values):7.2f} us")
    for name, value in (("min", min), ("median", statistics.median)):
        attack_time, calm_time, peer_time = (value(rows[row]) for row in ("attack", "established", "limits"))
        print(
            f"{name}: attack / established {attack_time / calm_time:.2f}, attack / limits {attack_time / peer_time:.2f}"
        )
    return 0


def _time(call, items) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter_ns()
    for item in items:
        call(item)
    return (time.perf_counter_ns() - started) / len(items) / 1000


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
