"""A key flood with a campaign underneath, for benchmarks/test_flood.py and by hand:

    python -m benchmarks.flood 1000000

A day and a half before the flood, 2,000 established customers are active for two hours (so the limiter has their
history). Then, over two hours, ``flood`` one-shot young accounts, each with a new address and a new prompt
(never throttled themselves), arrive with a 200-account campaign and 1,200 legitimate new users, while the
customers come back. The workload is generated as it is consumed, so the process's peak RSS is the limiter's.

Reports the campaign's stopped share in its last third, the legitimate new users and returning customers stopped,
the customers whose history the limiter still holds after the flood (a forgotten customer is new to the limiter
again: "young" for a day), peak RSS, the ``check_many`` cost per decision by quarter of the run (the marginal cost
as the tables fill), and the p99 of single ``check()`` probes (an established account's organic prompt) during the
flood against the same probes on a limiter that saw everything but the flood.
"""

from __future__ import annotations

import heapq
import random
import resource
import sys
import time
from collections.abc import Iterator

from patternlimit import Action, Limiter, Request
from patternlimit._testing import traffic

SECRET = "flood benchmark secret, 32 bytes"
CHUNK = 1000
CUSTOMERS = 2000
WARMUP = traffic.START - 1.5 * traffic.DAY
PROBES = 20
"""Single ``check()`` probes timed every :data:`PROBE_EVERY` seconds of the flood's two hours."""
PROBE_EVERY = 300.0

Item = tuple[float, str, Request]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))


def _customer(index: int, rng: random.Random, now: float) -> Request:
    return Request(
        account=f"customer-{index}",
        ip=f"203.0.{index % 200}.{1 + index % 250}",
        text=traffic.organic_prompt(rng),
        account_created_at=traffic.START - 400 * traffic.DAY,
    )


def _background(seed: int) -> list[Item]:
    """Everything but the flood, in time order (a few thousand requests)."""
    rng = random.Random(seed)
    out: list[Item] = [(now, "campaign", r) for now, r in traffic.campaign(accounts=200, per_account=15)]
    for index in range(1200):
        created = traffic.START - rng.uniform(0, traffic.DAY)
        address = traffic.ip(rng)
        for _ in range(rng.randint(1, 4)):
            request = Request(
                account=f"new-{index}", ip=address, text=traffic.organic_prompt(rng), account_created_at=created
            )
            out.append((traffic.START + rng.uniform(0, 7200), "legit", request))
    for index in range(CUSTOMERS):
        for moment in (WARMUP + rng.uniform(0, 600), WARMUP + 7200 + rng.uniform(0, 600)):
            out.append((moment, "warmup", _customer(index, rng, moment)))
        for _ in range(2):
            moment = traffic.START + rng.uniform(0, 7200)
            out.append((moment, "customer", _customer(index, rng, moment)))
    out.sort(key=lambda item: item[0])
    return out


def _flood(flood: int, seed: int) -> Iterator[Item]:
    """``flood`` one-shot young accounts over two hours, in time order, made as they are consumed."""
    rng = random.Random(seed + 1)
    now = traffic.START
    step = 7200.0 / max(flood, 1)
    for index in range(flood):
        now += rng.expovariate(1.0 / step)
        text = " ".join(_word(rng) for _ in range(rng.randint(6, 30))) + "?"  # a text of its own
        yield (
            now,
            "flood",
            Request(account=f"flood-{index}", ip=traffic.ip(rng), text=text, account_created_at=now - 30),
        )


def workload(flood: int, seed: int = 11, background: list[Item] | None = None) -> Iterator[Item]:
    """The background (made here unless given) and the flood, merged in time order."""
    given = _background(seed) if background is None else background
    return heapq.merge(given, _flood(flood, seed), key=lambda item: item[0])


def _chunks(items: Iterator[Item]) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _probe(limiter: Limiter, rng: random.Random, now: float) -> list[float]:
    times = []
    for index in range(PROBES):
        request = Request(
            account=f"probe-{index}", ip="192.0.2.7", text=traffic.organic_prompt(rng), account_created_at=0.0
        )
        began = time.perf_counter()
        limiter.check(request, now=now)
        times.append(time.perf_counter() - began)
    return times


def _quantile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return round(1e6 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _replay(limiter: Limiter, items: Iterator[Item], last_third: float) -> dict[str, object]:
    """Decide ``items`` chunk by chunk; the tallies :func:`run` reports (the campaign's from ``last_third`` on)."""
    _probe(limiter, random.Random(4), WARMUP - 60.0)  # loads the compiled single-request entry before timing
    stopped = last = 0
    stopped_of: dict[str, set[object]] = {"legit": set(), "customer": set()}
    seen_of: dict[str, set[object]] = {"legit": set(), "customer": set()}
    cost: list[float] = []
    probes: list[float] = []
    rng = random.Random(5)
    probed = -1
    for chunk in _chunks(items):
        began = time.perf_counter()
        decisions = limiter.check_many([request for _, _, request in chunk], [now for now, _, _ in chunk])
        cost.append((time.perf_counter() - began) / len(chunk))
        for (now, kind, request), decision in zip(chunk, decisions, strict=True):
            enforced = decision.action in (Action.THROTTLE, Action.BLOCK)
            if kind == "campaign" and now >= last_third:
                last += 1
                stopped += enforced
            elif kind in seen_of:
                seen_of[kind].add(request.account)
                if enforced:
                    stopped_of[kind].add(request.account)
        slot = int((chunk[-1][0] - traffic.START) // PROBE_EVERY)
        if slot > probed:
            probed = slot
            probes += _probe(limiter, rng, chunk[-1][0])
    return {
        "stopped": stopped,
        "last": last,
        "stopped_of": stopped_of,
        "seen_of": seen_of,
        "cost": cost,
        "probes": probes,
    }


def _remembered(limiter: Limiter) -> int:
    """Customers whose history still starts before the flood (not new to the limiter again)."""
    history = limiter._decider.memory.history.accounts  # a benchmark looks inside
    count = 0
    for index in range(CUSTOMERS):
        seen = history.get(limiter._facts.account_key(f"customer-{index}"))
        count += seen is not None and seen.first_seen < traffic.START
    return count


def run(flood: int) -> dict[str, object]:
    quiet = Limiter(secret=SECRET, clock="replay")
    background = _background(11)
    campaign_times = sorted(now for now, kind, _ in background if kind == "campaign")
    last_third = campaign_times[2 * len(campaign_times) // 3]
    quiet_tally = _replay(quiet, iter(background), last_third)
    quiet.close()
    limiter = Limiter(secret=SECRET, clock="replay")
    tally = _replay(limiter, workload(flood, background=background), last_third)
    cost: list[float] = tally["cost"]  # type: ignore[assignment]
    quarters = [cost[len(cost) * q // 4 : max(len(cost) * (q + 1) // 4, len(cost) * q // 4 + 1)] for q in range(4)]
    stopped_of: dict[str, set[object]] = tally["stopped_of"]  # type: ignore[assignment]
    seen_of: dict[str, set[object]] = tally["seen_of"]  # type: ignore[assignment]
    result = {
        "flood": flood,
        "campaign_last_third_stopped": f"{tally['stopped']}/{tally['last']}",
        "legit_new_users_stopped": f"{len(stopped_of['legit'])}/{len(seen_of['legit'])}",
        "customers_stopped": f"{len(stopped_of['customer'])}/{len(seen_of['customer'])}",
        "customers_remembered": f"{_remembered(limiter)}/{CUSTOMERS}",
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "us_per_decision_by_quarter": [round(1e6 * sorted(q)[len(q) // 2], 1) for q in quarters],
        "probe_p50_p99_us": [_quantile(tally["probes"], q) for q in (0.5, 0.99)],  # type: ignore[arg-type]
        "quiet_probe_p50_p99_us": [_quantile(quiet_tally["probes"], q) for q in (0.5, 0.99)],  # type: ignore[arg-type]
        "sketch_mib": round(limiter.nbytes / 2**20, 1),
        "tables": limiter.occupancy(),
    }
    limiter.close()
    return result


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
