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
