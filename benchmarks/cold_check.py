"""check() warm and cold: the same short prompts timed back to back, then each after an 8 MiB memory sweep that
evicts the caches as a server's own work between two requests does.

Usage: ``python -m benchmarks.cold_check`` from the repository root. Prints the median per call of both. The
requests are the middleware benchmark's: ~94-character natural-language prompts from 2,000 established accounts
behind 8 /24 prefixes.
"""

from __future__ import annotations

import random
import statistics
import time

import numpy as np

from patternlimit import Limiter, Request
from patternlimit._testing import traffic

SWEEP_BYTES = 8 << 20


def main() -> None:
    rng = random.Random(1)
    created = time.time() - 400 * 86400.0
    requests = []
    for _ in range(8000):
        client = rng.randrange(2000)
        requests.append(
            Request(
                account=f"account-{rng.randrange(2000)}",
                ip=f"203.0.{client // 250}.{client % 250 + 1}",
                text=traffic.organic_prompt(rng),
                route="/v1/messages",
                client="benchmark-client",
                account_created_at=created,
            )
        )
    limiter = Limiter(secret=b"benchmark secret, 32 bytes long!")
    for request in requests[:3000]:
        limiter.check(request)
    sweep = np.zeros(SWEEP_BYTES, dtype=np.uint8)
    warm, cold = [], []
    for request in requests[3000:]:
        started = time.perf_counter_ns()
        limiter.check(request)
        warm.append(time.perf_counter_ns() - started)
    for request in requests[3000:]:
        sweep[::64] += 1  # one write per cache line
        started = time.perf_counter_ns()
        limiter.check(request)
        cold.append(time.perf_counter_ns() - started)
    print(f"check() warm {statistics.median(warm) / 1e3:.1f} us median; cold {statistics.median(cold) / 1e3:.1f} us")


if __name__ == "__main__":
    main()
