"""A flood of one-shot accounts cannot make the limiter forget what protects its customers or stops a campaign:
established histories and caught accounts' records survive a flood many times the tables' capacity."""

from __future__ import annotations

from patternlimit.engine.history import PROTECT_AFTER, History
from patternlimit.engine.memory import Memory
from patternlimit.policy.decision import PatternRef
from patternlimit.policy.models import Escalation

DAY = 86400.0


def test_a_flood_of_one_shot_accounts_leaves_established_histories_established() -> None:
    history = History(proven_after=DAY, capacity=1000)
    customers = range(300)
    for account in customers:  # customers active over two hours on the first day
        history.observe(account, network=account, now=0.0)
        history.observe(account, network=account, now=PROTECT_AFTER + 60.0)
    for flood in range(10_000, 60_000):  # fifty times the table, each account seen once
        history.observe(flood, network=flood, now=1.5 * DAY + flood * 1e-3)
    later = 1.5 * DAY + 3600.0
    unproven = [history.observe(account, network=account, now=later)[0] for account in customers]
    assert not any(unproven)
    # ... while a newcomer after the first day is still unproven, and the flood's accounts were forgotten:
    assert history.observe(999_999, network=1, now=later)[0]
    assert len(history.accounts) <= 1000


def test_accounts_seen_once_are_not_protected() -> None:
    history = History(proven_after=DAY, capacity=100)
    for account in range(60):  # a burst within the hour earns no protection
        history.observe(account, network=1, now=0.0)
        history.observe(account, network=1, now=PROTECT_AFTER / 2)
    assert history.accounts.protected == 0


def test_a_flood_on_a_flagged_pattern_cannot_evict_the_caught_accounts_records() -> None:
    memory = Memory(accounts=1000, flags=100, policy=Escalation(account_penalty=6 * 3600.0, memory=DAY))
    pattern = PatternRef("template", "t", 7)
    for account in range(200):
        record = memory.flagged_hit(account, now=0.0)
        memory.caught(record, "fan-out", pattern, 0.0, network=0, client=0, account=account)
    for flood in range(10_000, 60_000):  # one hit each on the flagged pattern, never caught
        memory.flagged_hit(flood, now=100.0)
    kept = [memory.accounts.get(account) for account in range(200)]
    assert all(record is not None and record.penalty_until > 100.0 for record in kept)
    assert len(memory.accounts) <= 1000


def test_a_flood_of_one_time_flags_cannot_evict_a_campaign_s_renewed_flags() -> None:
    memory = Memory(accounts=1000, flags=1000, policy=Escalation(account_penalty=6 * 3600.0, memory=DAY))
    campaign = range(50)
    for now in (0.0, 60.0):  # the campaign's keys meet their rule again and again
        for key in campaign:
            memory.flag(key, "fan-out", now)
    for key in range(10_000, 60_000):  # keys that meet a rule once each (a saturated sketch's noise)
        memory.flag(key, "fan-out", 120.0)
    assert all(memory.flagged(key, 200.0) is not None for key in campaign)
    assert len(memory.flags) <= 1000
