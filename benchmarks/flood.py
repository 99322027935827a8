"""A key flood with a campaign underneath, for benchmarks/test_flood.py and by hand:

    python -m benchmarks.flood 1000000

One-shot young accounts, each with a new address and a new prompt (never throttled themselves), spread over the
same two hours as a 200-account campaign and 1,200 legitimate new users. Reports the campaign's stopped share in
its last third, the legitimate users throttled, peak RSS and the ``check_many`` cost per decision by quarter of the
run (the marginal cost as the tables fill).
"""

from __future__ import annotations

import random
import resource
import sys
import time

from patternlimit import Action, Limiter, Request
from patternlimit._testing import traffic

SECRET = "flood benchmark secret, 32 bytes"
CHUNK = 1000


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))


def workload(flood: int, seed: int = 11) -> list[tuple[float, str, Request]]:
    rng = random.Random(seed)
    out: list[tuple[float, str, Request]] = [
        (now, "campaign", r) for now, r in traffic.campaign(accounts=200, per_account=15)
    ]
    for index in range(1200):
        created = traffic.START - rng.uniform(0, traffic.DAY)
        address = traffic.ip(rng)
        for _ in range(rng.randint(1, 4)):
            request = Request(
                account=f"new-{index}", ip=address, text=traffic.organic_prompt(rng), account_created_at=created
            )
            out.append((traffic.START + rng.uniform(0, 7200), "legit", request))
    for index in range(flood):
        now = traffic.START + rng.uniform(0, 7200)
        text = " ".join(_word(rng) for _ in range(rng.randint(6, 30))) + "?"  # a frame of its own
        request = Request(account=f"flood-{index}", ip=traffic.ip(rng), text=text, account_created_at=now - 30)
        out.append((now, "flood", request))
    out.sort(key=lambda item: item[0])
    return out


def run(flood: int) -> dict[str, object]:
    items = workload(flood)
    limiter = Limiter(secret=SECRET, clock="replay")
    limiter.check_many([items[0][2]], [items[0][0]])  # compile before timing
    campaign_times = sorted(now for now, kind, _ in items if kind == "campaign")
    last_third = campaign_times[2 * len(campaign_times) // 3]
    stopped = last = 0
    throttled_legit: set[object] = set()
    legit: set[object] = set()
    cost: list[float] = []
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        began = time.perf_counter()
        decisions = limiter.check_many([request for _, _, request in chunk], [now for now, _, _ in chunk])
        cost.append((time.perf_counter() - began) / len(chunk))
        for (now, kind, request), decision in zip(chunk, decisions, strict=True):
            enforced = decision.action in (Action.THROTTLE, Action.BLOCK)
            if kind == "campaign" and now >= last_third:
                last += 1
                stopped += enforced
            elif kind == "legit":
                legit.add(request.account)
                if enforced:
                    throttled_legit.add(request.account)
    quarters = [cost[len(cost) * q // 4 : max(len(cost) * (q + 1) // 4, len(cost) * q // 4 + 1)] for q in range(4)]
    return {
        "flood": flood,
        "requests": len(items),
        "campaign_last_third_stopped": f"{stopped}/{last}",
        "legit_new_users_throttled": f"{len(throttled_legit)}/{len(legit)}",
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "us_per_decision_by_quarter": [round(1e6 * sorted(q)[len(q) // 2], 1) for q in quarters],
        "sketch_mib": round(limiter.nbytes / 2**20, 1),
    }


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
