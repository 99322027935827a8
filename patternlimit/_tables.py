"""Bounded in-memory tables: the one place where the package decides what to forget when memory is full.

Every map the package keeps beside its fixed-size sketches (account records, flags and taints, labels, samples,
per-value caches, the integrations' account cache, exact-limit counters) is one of these, so its memory has a
ceiling and its eviction order is stated once:

* :class:`BoundedTable` keeps at most ``capacity`` entries and, when full, evicts first the entry inserted
  longest ago (``order="inserted"``: first in, first out, for entries written once), written longest ago
  (``"written"``: a write renews an entry, a read does not) or used longest ago (``"used"``: reads renew too,
  least recently used first).
* :func:`remember` caches a value in a plain ``dict`` that is emptied when it reaches ``capacity``: for caches of
  pure functions on the hot path (an IP's prefix, an account name's keyed hash), where a miss only costs the
  recomputation and no eviction bookkeeping is worth its price per request.

Not thread-safe: callers hold their own lock (the limiter's, or the integrations' cache lock).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from typing import Generic, Literal, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")
Order = Literal["inserted", "written", "used"]


class BoundedTable(Generic[Key, Value]):
    """A map of at most ``capacity`` entries; see the module docstring for the eviction order."""

    __slots__ = ("_entries", "_renew_on_read", "_renew_on_write", "capacity", "order")

    def __init__(self, capacity: int, *, order: Order = "inserted") -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        if order not in ("inserted", "written", "used"):
            raise ValueError(f"order must be 'inserted', 'written' or 'used', got {order!r}")
        self.capacity = capacity
        self.order = order
        self._renew_on_read = order == "used"
        self._renew_on_write = order != "inserted"
        # OrderedDict, not dict: evicting the oldest entry of a plain dict again and again makes next(iter(d)) walk
        # an ever longer run of deleted slots.
        self._entries: OrderedDict[Key, Value] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[Key]:
        return iter(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def get(self, key: Key) -> Value | None:
        value = self._entries.get(key)
        if value is not None and self._renew_on_read:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Key, value: Value) -> None:
        """Insert or replace ``key``, then evict down to ``capacity``."""
        entries = self._entries
        if key in entries:
            if self._renew_on_write:
                entries.move_to_end(key)
        elif len(entries) >= self.capacity:
            if self.capacity == 0:
                return
            entries.popitem(last=False)
        entries[key] = value

    def renew(self, key: Key, value: Value) -> bool:
        """Move an existing ``key`` to the young end as a write would, leaving its value to the caller to update in
        place; returns False (and does nothing) when ``key`` is absent."""
        entries = self._entries
        if key not in entries:
            return False
        if self._renew_on_write:
            entries.move_to_end(key)
        return True

    def setdefault(self, key: Key, make: type[Value]) -> Value:
        """The value of ``key``, or a new ``make()`` inserted under it (evicting as :meth:`put` does)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def pop(self, key: Key) -> Value | None:
        return self._entries.pop(key, None)

    def isdisjoint(self, keys: Iterable[Key]) -> bool:
        """Whether none of ``keys`` is in the table."""
        return self._entries.keys().isdisjoint(keys)

    def items_values(self) -> list[Value]:
        """A copy of the values, oldest first."""
        return list(self._entries.values())

    def items(self) -> list[tuple[Key, Value]]:
        """A copy of the entries, oldest first."""
        return list(self._entries.items())

    def clear(self) -> None:
        self._entries.clear()


def remember(table: dict[Key, Value], key: Key, value: Value, capacity: int) -> Value:
    """Cache ``value`` under ``key`` in ``table``, emptied first when it holds ``capacity`` entries; returns
    ``value``."""
    if len(table) >= capacity:
        table.clear()
    table[key] = value
    return value
