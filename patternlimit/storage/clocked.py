"""A bounded in-memory ``limits`` storage that reads the limiter's clock instead of the wall clock.

patternlimit takes an explicit ``now`` so that logs can be replayed and traffic simulated faster than real time;
``limits``' own ``MemoryStorage`` reads ``time.time()`` and would count simulated hours in real milliseconds. This
storage implements the ``limits`` storage interface for the fixed-window and moving-window strategies (the
strategies themselves stay ``limits``'), with time taken from :attr:`now`, which the limiter sets before each hit.

Memory is bounded: at most ``max_keys`` keys of each kind are kept; expired keys are dropped lazily. Fixed-window
counters live in a plain dict in the order their windows started (a hit inside a window updates the value in
place, one lookup and one store: an ``OrderedDict`` moved to its end on every hit measured 0.9 against 0.5 us
warm and 1.8 against 1.2 us with cold caches). When that table is full, the expired windows are dropped in one
sweep, and if fewer than a sixteenth of the table was expired, the windows that started earliest (the closest to
their end) go with them; a dropped key's count restarts: the documented cost of a bound. Moving windows keep up to
``limit`` timestamps per key, the least recently used key evicted first.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from limits.storage.base import MovingWindowSupport, Storage

_EMPTY = (0, 0.0)
"""A key with no count: zero, expired."""


class ClockedMemoryStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = ["patternlimit-clocked"]  # noqa: RUF012 - limits' own attribute

    def __init__(self, uri: str | None = None, *, max_keys: int = 200_000, **options: Any) -> None:
        self.now = 0.0
        self.max_keys = max_keys
        self.listener: Callable[[list[Any]], None] | None = None
        """Called with each change (``["i", key, expiry, amount, now]`` or ``["a", key, expiry, amount, now]``) so
        that a shared limiter can replay it elsewhere with :meth:`replay`."""
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (count, expires at), in window-start order
        self._events: OrderedDict[str, list[float]] = OrderedDict()  # key -> timestamps, newest first
        self._lock = threading.Lock()
        super().__init__(uri, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        counters = self._counters
        with self._lock:
            now = self.now
            entry = counters.get(key)
            if entry is not None and entry[1] > now:
                count = entry[0] + amount
                counters[key] = (count, entry[1])
            else:
                count = amount
                if entry is not None:
                    del counters[key]  # a new window: to the end, where the windows that started last are
                elif len(counters) >= self.max_keys:
                    self._make_room(now)
                counters[key] = (count, now + expiry)
        if self.listener is not None:
            self.listener(["i", key, expiry, amount, self.now])
        return count

    def get(self, key: str) -> int:
        count, expires = self._counters.get(key, _EMPTY)
        return count if expires > self.now else 0

    def get_expiry(self, key: str) -> float:
        _, expires = self._counters.get(key, _EMPTY)
        return expires if expires > self.now else self.now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            cleared = len(self._counters) + len(self._events)
            self._counters.clear()
            self._events.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)
            self._events.pop(key, None)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self._lock:
            events = self._events.pop(key, [])
            cutoff = self.now - expiry
            # newest first: drop the expired tail
            while events and events[-1] <= cutoff:
                events.pop()
            allowed = len(events) + amount <= limit
            if allowed:
                events[:0] = [self.now] * amount
            if events:
                self._events[key] = events
                self._bound(self._events)
        if allowed and self.listener is not None:
            self.listener(["a", key, expiry, amount, self.now])
        return allowed

    def replay(self, change: list[Any]) -> None:
        """Apply a change another process recorded (see :attr:`listener`), at its own time, without deciding."""
        kind, key, expiry, amount, moment = change
        if not (isinstance(key, str) and isinstance(expiry, int | float) and isinstance(amount, int)):
            raise ValueError(f"not a limits change: {change!r}")
        listener, clock = self.listener, self.now
        self.listener, self.now = None, float(moment)
        try:
            if kind == "i":
                self.incr(key, int(expiry), amount)
            elif kind == "a":
                with self._lock:
                    events = self._events.pop(key, [])
                    cutoff = self.now - expiry
                    while events and events[-1] <= cutoff:
                        events.pop()
                    position = bisect.bisect_left([-event for event in events], -self.now)
                    events[position:position] = [self.now] * amount
                    self._events[key] = events
                    self._bound(self._events)
            else:
                raise ValueError(f"not a limits change: {change!r}")
        finally:
            self.listener, self.now = listener, clock

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        events = self._events.get(key, [])
        cutoff = self.now - expiry
        # events are newest first, so negate to search an ascending sequence
        live = bisect.bisect_left([-event for event in events], -cutoff)
        if live:
            return events[live - 1], live
        return self.now, 0

    def _make_room(self, now: float) -> None:
        """Drop the expired windows, and the earliest-started ones if that frees less than a sixteenth of the table
        (in bulk: deleting one key at a time from the front of a dict would walk ever more deleted slots)."""
        counters = self._counters
        doomed = [key for key, (_, expires) in counters.items() if expires <= now]
        wanted = max(1, self.max_keys // 16)
        if len(doomed) < wanted:
            doomed += itertools.islice(
                (key for key, (_, expires) in counters.items() if expires > now), wanted - len(doomed)
            )
        for key in doomed:
            del counters[key]

    def _bound(self, table: OrderedDict[str, Any]) -> None:
        while len(table) > self.max_keys:
            table.popitem(last=False)


# limits' Storage wraps incr, get and get_expiry in a function that turns ``base_exceptions`` into its StorageError
# when ``wrap_exceptions`` is set: a layer of *args/**kwargs forwarding, about 0.2 us a hit. These three do no I/O
# and raise nothing of their own (dict reads and writes under a lock), so the wrapper has nothing to translate:
# they go unwrapped, the same behaviour with one call fewer.
for _name in ("incr", "get", "get_expiry"):
    setattr(ClockedMemoryStorage, _name, getattr(ClockedMemoryStorage, _name).__wrapped__)
del _name
