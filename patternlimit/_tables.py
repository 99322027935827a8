"""Bounded in-memory tables: the one place where the package decides what to forget when memory is full.

Every map the package keeps beside its fixed-size sketches (account records, flags and taints, labels, samples,
per-value caches, the integrations' account cache, exact-limit counters) is one of these, so its memory has a
ceiling and its eviction order is stated once:

* :class:`BoundedTable` keeps at most ``capacity`` entries and, when full, evicts first the entry inserted
  longest ago (``order="inserted"``: first in, first out, for entries written once), written longest ago
  (``"written"``: a write renews an entry, a read does not) or used longest ago (``"used"``: reads renew too,
  least recently used first).
* :class:`SegmentedTable` keeps two least-recently-used segments: new entries enter *probation*, and the owner
  *protects* the ones that have earned it (an account caught, an account with a history of hours). A flood of
  one-shot keys churns probation only: to push a protected entry out an attacker must earn protection for more
  keys than the protected segment holds (get that many accounts caught, or keep that many active for hours),
  which is the cost the limiter exists to impose. A protected segment that overflows demotes its least recently
  used entry to probation, where it stays until probation churns past it.
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

    def intersection(self, keys: Iterable[Key]) -> set[Key]:
        """Those of ``keys`` that are in the table (one set operation in C: no per-key method call)."""
        return self._entries.keys() & keys

    def items_values(self) -> list[Value]:
        """A copy of the values, oldest first."""
        return list(self._entries.values())

    def items(self) -> list[tuple[Key, Value]]:
        """A copy of the entries, oldest first."""
        return list(self._entries.items())

    def clear(self) -> None:
        self._entries.clear()


class SegmentedTable(Generic[Key, Value]):
    """A map of at most ``capacity`` entries in two LRU segments (see the module docstring): ``protected_share`` of
    the capacity is reserved for protected entries, the rest is probation. Reads renew an entry in its segment."""

    __slots__ = ("_probation", "_protected", "capacity", "protected_capacity")

    def __init__(self, capacity: int, *, protected_share: float = 0.5) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        if not 0.0 < protected_share < 1.0:
            raise ValueError(f"protected_share must be between 0 and 1, got {protected_share}")
        self.capacity = capacity
        self.protected_capacity = int(capacity * protected_share)
        self._probation: OrderedDict[Key, Value] = OrderedDict()
        self._protected: OrderedDict[Key, Value] = OrderedDict()

    def __len__(self) -> int:
        return len(self._probation) + len(self._protected)

    def __contains__(self, key: object) -> bool:
        return key in self._protected or key in self._probation

    def __iter__(self) -> Iterator[Key]:
        yield from self._probation
        yield from self._protected

    def __bool__(self) -> bool:
        return bool(self._probation) or bool(self._protected)

    @property
    def protected(self) -> int:
        """Entries in the protected segment."""
        return len(self._protected)

    def is_protected(self, key: Key) -> bool:
        return key in self._protected

    def get(self, key: Key) -> Value | None:
        for segment in (self._protected, self._probation):
            value = segment.get(key)
            if value is not None:
                segment.move_to_end(key)
                return value
        return None

    def put(self, key: Key, value: Value) -> None:
        """Replace ``key`` in its segment, or insert it on probation (evicting probation's least recently used
        entry, or the protected segment's when probation is empty, while the table is full)."""
        for segment in (self._protected, self._probation):
            if key in segment:
                segment[key] = value
                segment.move_to_end(key)
                return
        if self.capacity == 0:
            return
        while len(self) >= self.capacity:
            (self._probation or self._protected).popitem(last=False)
        self._probation[key] = value

    def setdefault(self, key: Key, make: type[Value]) -> Value:
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def protect(self, key: Key) -> bool:
        """Move ``key`` from probation to the protected segment (demoting the protected segment's least recently
        used entry to probation when it is full); whether ``key`` is protected now."""
        if key in self._protected:
            return True
        value = self._probation.pop(key, None)
        if value is None or self.protected_capacity == 0:
            if value is not None:
                self._probation[key] = value
            return False
        if len(self._protected) >= self.protected_capacity:
            demoted, held = self._protected.popitem(last=False)
            self._probation[demoted] = held
        self._protected[key] = value
        return True

    def pop(self, key: Key) -> Value | None:
        value = self._protected.pop(key, None)
        return self._probation.pop(key, None) if value is None else value

    def isdisjoint(self, keys: Iterable[Key]) -> bool:
        return self._probation.keys().isdisjoint(keys) and self._protected.keys().isdisjoint(keys)

    def intersection(self, keys: Iterable[Key]) -> set[Key]:
        """Those of ``keys`` that are in the table (set operations in C: no per-key method call)."""
        keys = keys if isinstance(keys, set | frozenset) else set(keys)
        return (self._probation.keys() & keys) | (self._protected.keys() & keys)

    def items(self) -> list[tuple[Key, Value]]:
        """A copy of the entries: probation's, then the protected ones, each least recently used first."""
        return [*self._probation.items(), *self._protected.items()]

    def items_values(self) -> list[Value]:
        return [value for _, value in self.items()]

    def clear(self) -> None:
        self._probation.clear()
        self._protected.clear()


def remember(table: dict[Key, Value], key: Key, value: Value, capacity: int) -> Value:
    """Cache ``value`` under ``key`` in ``table``, emptied first when it holds ``capacity`` entries; returns
    ``value``."""
    if len(table) >= capacity:
        table.clear()
    table[key] = value
    return value
