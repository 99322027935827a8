"""Part keys and the persistence they need: a campaign that assembles its frames from shared parts is stopped by
them, a stock sentence that many new users each send once is not; and :class:`PairCounts` against exact counts and
the count-min bound; :class:`PeriodCounts` against exact distinct periods."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from patternlimit import Action, Limiter, Policy, Request
from patternlimit._testing import traffic
from patternlimit.engine.persistence import PERIOD, PairCounts, PeriodCounts
from patternlimit.policy.presets import DISTILLATION_DEFENSE

SECRET = b"test secret for the persistence tests"
ROLES = (
    "You are a principal engineer who reviews production code for correctness and clarity.",
    "Act as a senior backend developer with many years of experience in large systems.",
    "Take the role of a staff engineer mentoring a junior colleague on a real task.",
)
REASONING = (
    "Before answering, reason through the problem carefully and show every step of your thinking.",
    "Walk through your reasoning slowly and check each intermediate result before moving on.",
)
FORMATS = (
    "Give the final answer as a single code block followed by a short list of caveats.",
    "Return the answer as numbered steps and finish with the complete working program.",
)
STOCK = (
    "Please explain it in simple terms so that a beginner can follow along easily.",
    "Think about it step by step and tell me if anything in my question is unclear.",
    "Keep the answer short and friendly because I am reading it on my phone.",
)


def with_fingerprint(**settings: int) -> Policy:
    document = DISTILLATION_DEFENSE.model_dump()
    document["fingerprint"] = {**document["fingerprint"], **settings}
    return Policy.model_validate(document)


def hopping_address(rng: random.Random) -> str:
    """A fresh residential address per request, as a rotating proxy hands them out."""
    return f"{rng.randrange(60, 90)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def task(rng: random.Random) -> str:
    return f"Implement a function that {rng.choice(traffic.TASKS)} for module_{rng.getrandbits(32):x}.py please."


def parts_campaign(accounts: int = 150, per_account: int = 10, seed: int = 5) -> list[tuple[float, Request]]:
    """Frames assembled from parts in an order of each account's own, each frame shared by a few accounts, a new
    task in every request, a fresh address per request: no whole frame repeats often enough to fan out."""
    rng = random.Random(seed)
    out = []
    for index in range(accounts):
        role, reasoning, style = rng.choice(ROLES), rng.choice(REASONING), rng.choice(FORMATS)
        order = rng.sample(range(4), 4)
        created = traffic.START - rng.uniform(0.2, 2.0) * traffic.DAY
        time = traffic.START + rng.uniform(0, 2 * 3600)
        for _ in range(per_account):
            pieces = [role, task(rng), reasoning, style]
            text = "\n".join(pieces[position] for position in order)
            out.append((time, Request(account=f"c-{index}", ip=hopping_address(rng), text=text,
                                      account_created_at=created)))  # fmt: skip
            time += rng.uniform(600, 1800)
    return traffic.stream(out)


def stock_sentence_crowd(users: int = 200, seed: int = 6) -> list[tuple[float, Request]]:
    """New users who each send two stock sentences, each once, among asks of their own, through hopping addresses
    (the worst case: they carry routing evidence, and two requests on flagged patterns, so only persistence on one
    part tells them apart)."""
    rng = random.Random(seed)
    out = []
    for index in range(users):
        created = traffic.START - rng.uniform(0, 3600)
        time = traffic.START + rng.uniform(0, 2 * 3600)
        asks = [traffic.organic_prompt(rng) for _ in range(4)]
        for position, sentence in zip(rng.sample(range(len(asks)), 2), rng.sample(STOCK, 2), strict=True):
            asks[position] = f"{asks[position]}\n{sentence}\n{traffic.organic_prompt(rng)}"  # not at an edge
        for ask in asks:
            out.append((time, Request(account=f"u-{index}", ip=hopping_address(rng), text=ask,
                                      account_created_at=created)))  # fmt: skip
            time += rng.uniform(300, 1200)
    return traffic.stream(out)


def stopped(limiter: Limiter, stream: list[tuple[float, Request]]) -> int:
    return sum(limiter.check(request, now).action in (Action.THROTTLE, Action.BLOCK) for now, request in stream)


def test_a_campaign_assembling_frames_from_parts_is_stopped_by_its_part_keys():
    stream = parts_campaign()
    with_parts = stopped(Limiter(secret=SECRET), stream)
    without = stopped(Limiter(with_fingerprint(parts=0), secret=SECRET), stream)
    # Each account's first requests are served while its parts gather senders and it shows persistence.
    assert with_parts >= 0.5 * len(stream)
    assert without == 0


def test_a_stock_sentence_each_new_user_sends_once_is_not_acted_on():
    stream = stock_sentence_crowd()
    assert stopped(Limiter(secret=SECRET), stream) == 0
    # Without persistence the same crowd is throttled on the shared sentences (33 of its 800 requests).
    assert stopped(Limiter(with_fingerprint(part_hits=1), secret=SECRET), stream) >= 10


def test_pair_counts_are_exact_for_few_pairs_and_never_under_count():
    counts = PairCounts(3600.0, width=1 << 12)
    rng = random.Random(1)
    exact: Counter[tuple[int, int]] = Counter()
    pairs = [(rng.getrandbits(64), rng.getrandbits(63)) for _ in range(2000)]
    for step in range(20000):
        pair = pairs[int(rng.paretovariate(1.2)) % len(pairs)]
        exact[pair] += 1
        estimate = counts.hit(*pair, now=100.0 + step * 0.01)
        assert estimate >= min(exact[pair], 255)
    # The count-min bound: an estimate exceeds the truth by more than e * N / width with probability <= e**-depth.
    total = sum(exact.values())
    over = [counts.hit(*pair, now=300.0) - 1 - min(count, 254) for pair, count in exact.items()]
    far = sum(error > math.e * total / counts.width for error in over)
    assert far <= 3 * math.exp(-2) * len(over)


def test_pair_counts_cover_one_to_two_spans_and_saturate():
    counts = PairCounts(100.0, width=1 << 8)
    assert [counts.hit(1, 2, now) for now in (0.0, 50.0)] == [1, 2]
    assert counts.hit(1, 2, 120.0) == 3  # the previous span still counts
    assert counts.hit(1, 2, 60.0) == 4  # an earlier time never rotates
    assert counts.hit(1, 2, 230.0) == 3  # two spans on, the first one's two hits are gone
    assert counts.hit(1, 2, 1000.0) == 1  # idle for more than a span: both generations stale
    for now in range(300):
        counts.hit(3, 4, 1000.0 + now * 0.1)
    assert counts.hit(3, 4, 1040.0) == 255
    assert counts.nbytes == 2 * 2 * (1 << 8)


@pytest.mark.parametrize("width", [0, 3, 1000])
def test_pair_counts_width_must_be_a_power_of_two(width: int):
    with pytest.raises(ValueError, match="power of two"):
        PairCounts(60.0, width=width)


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("fingerprint", "part_hits", 0),
        ("fingerprint", "part_hits", 256),
        ("fingerprint", "parts", 9),
        ("escalation", "network_taint_share", 1.5),
        ("escalation", "network_taint_share", float("nan")),
    ],
)
def test_persistence_and_taint_share_settings_out_of_range_are_refused(section: str, field: str, value: float):
    document = DISTILLATION_DEFENSE.model_dump()
    document[section] = {**document[section], field: value}
    with pytest.raises(ValueError, match=field):
        Policy.model_validate(document)


def test_pair_counts_peek_reads_what_hit_would_without_counting():
    counts = PairCounts(3600.0, width=1 << 10)
    for _ in range(3):
        counts.hit(7, 9, 0.0)
    assert counts.peek(7, 9, 1.0) == 3 and counts.peek(7, 9, 2.0) == 3
    assert counts.hit(7, 9, 3.0) == 4


def test_period_counts_count_each_accounts_distinct_half_hours_against_exact_counts():
    """Requests in one half-hour count once, each new half-hour once more, a pause of two spans forgets; over a
    thousand accounts with random activity every count equals the exact number of distinct periods (the
    count-min collisions the width leaves are rare enough for none to show here)."""
    counts = PeriodCounts(86400.0)
    assert [counts.mark(1, now, 0.0) for now in (0.0, 60.0, PERIOD - 1, PERIOD, 3 * PERIOD + 5)] == [1, 1, 1, 2, 3]
    assert counts.mark(1, 3 * 86400.0, 0.0) == 1  # more than a span idle: both generations are stale
    rng = random.Random(3)
    exact: dict[int, set[int]] = {}
    fresh = PeriodCounts(86400.0)
    events = sorted((rng.uniform(0, 80000.0), rng.randrange(1000) + 10) for _ in range(20000))
    for now, account in events:
        periods = exact.setdefault(account, set())
        periods.add(int(now // PERIOD))
        assert fresh.mark(account, now, 0.0) == len(periods)


def test_period_counts_never_exceed_the_periods_since_the_account_was_first_seen():
    """A flood of accounts, each marked once, saturates the count cells; an account first seen in this half-hour
    still reads one period, and the conservative update keeps the others' counts far below the plain update's."""
    counts = PeriodCounts(86400.0, width=1 << 10)
    for account in range(20000):
        counts.mark(account + 100, 5.0, 5.0)
    assert counts.mark(7, 10.0, 10.0) == 1
    assert counts.mark(7, 3 * PERIOD + 10.0, 10.0) <= 4
    plain, conservative = PairCounts(86400.0, width=1 << 10), PairCounts(86400.0, width=1 << 10)
    for account in range(2000):
        plain.hit(account, 0, 0.0)
        conservative.hit_conservative(account, 0, 0.0)
    probes = range(10**6, 10**6 + 200)
    assert sum(conservative.peek(a, 0, 0.0) for a in probes) < 0.8 * sum(plain.peek(a, 0, 0.0) for a in probes)
    assert all(conservative.peek(a, 0, 0.0) >= 1 for a in range(2000))  # never under the true count
