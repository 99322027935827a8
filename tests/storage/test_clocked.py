"""The clocked limits storage: limits' own strategies, driven by the limiter's clock, in bounded memory."""

from __future__ import annotations

from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from patternlimit.storage.clocked import ClockedMemoryStorage


def run(strategy_class, times):  # type: ignore[no-untyped-def]
    storage = ClockedMemoryStorage()
    strategy = strategy_class(storage)
    item = parse("3/minute")
    results = []
    for moment in times:
        storage.now = moment
        results.append(strategy.hit(item, "account-1"))
    return storage, strategy, item, results


def test_moving_window_follows_the_explicit_clock():
    _, strategy, item, results = run(MovingWindowRateLimiter, [0, 1, 2, 3, 59, 60.5, 61, 62, 62.5])
    assert results == [True, True, True, False, False, True, True, True, False]
    reset, remaining = strategy.get_window_stats(item, "account-1")
    assert (reset, remaining) == (120.5, 0)


def test_fixed_window_follows_the_explicit_clock():
    _, strategy, item, results = run(FixedWindowRateLimiter, [0, 1, 2, 3, 59.9, 60, 61, 62, 63])
    assert results == [True, True, True, False, False, True, True, True, False]
    assert strategy.get_window_stats(item, "account-1").reset_time == 120


def test_a_simulated_day_takes_no_real_time_and_memory_stays_bounded():
    storage = ClockedMemoryStorage(max_keys=100)
    strategy = MovingWindowRateLimiter(storage)
    item = parse("5/second")
    for second in range(86_400):
        storage.now = float(second)
        assert strategy.hit(item, f"account-{second % 1000}")
    assert len(storage._events) <= 100
    fixed = FixedWindowRateLimiter(storage)
    for account in range(1000):
        fixed.hit(item, f"other-{account}")
    assert len(storage._counters) <= 100
    assert storage.reset() > 0 and storage.get("anything") == 0


def test_a_full_table_drops_expired_windows_first_then_those_that_started_earliest():
    storage = ClockedMemoryStorage(max_keys=32)
    storage.now = 0.0
    storage.incr("long", 3600)  # starts first, lives an hour
    for index in range(31):
        storage.incr(f"short-{index}", 60)
    storage.now = 100.0  # every short window has ended; the table is full
    assert storage.incr("new", 60) == 1
    assert storage.get("long") == 1 and len(storage._counters) == 2  # the live window survives, started first or not

    for index in range(30):
        storage.incr(f"live-{index}", 3600)
    storage.now = 200.0
    assert storage.incr("long", 3600) == 2  # a hit inside its window keeps its place (and its count)
    assert len(storage._counters) == 32
    storage.incr("one-more", 3600)  # "new" has expired; a sixteenth is two: the earliest-started live one, "long"
    assert storage.get("long") == 0 and storage.get("new") == 0
    assert storage.get("live-0") == 1 and storage.get("one-more") == 1
    assert len(storage._counters) == 31


def test_a_window_that_restarts_moves_behind_the_others():
    storage = ClockedMemoryStorage(max_keys=16)
    storage.now = 0.0
    for index in range(16):
        storage.incr(f"key-{index}", 60 if index == 0 else 3600)
    storage.now = 61.0
    assert storage.incr("key-0", 60) == 1  # its window ended: a new one, now the latest started
    assert list(storage._counters)[-1] == "key-0"
    storage.incr("newcomer", 3600)  # full, nothing expired: key-1 (the earliest live window) goes
    assert storage.get("key-1") == 0 and storage.get("key-0") == 1
