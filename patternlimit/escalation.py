"""Pattern state that outlives account bans: flagged patterns and tainted networks and clients, bounded."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

Value = TypeVar("Value")


@dataclass(slots=True)
class Flag:
    rule: str
    until: float


@dataclass(slots=True)
class Taint:
    caught: int
    until: float


class ExpiringTable(Generic[Value]):
    """A bounded map whose entries expire; the oldest insertion is evicted when full. Not thread-safe."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[int, Value] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: int) -> bool:
        return key in self._entries

    def isdisjoint(self, keys: Iterable[int]) -> bool:
        """Whether none of ``keys`` is in the table (expired entries included: the caller checks expiry)."""
        return self._entries.keys().isdisjoint(keys)

    def items(self) -> list[tuple[int, Value]]:
        return list(self._entries.items())

    def get(self, key: int) -> Value | None:
        return self._entries.get(key)

    def put(self, key: int, value: Value) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def pop(self, key: int) -> None:
        self._entries.pop(key, None)


class Escalation:
    """Flagged patterns (key -> rule, until) and taints (network or client key -> caught accounts, until)."""

    def __init__(self, capacity: int, memory: float) -> None:
        self.memory = memory
        self.flags: ExpiringTable[Flag] = ExpiringTable(capacity)
        self.taints: ExpiringTable[Taint] = ExpiringTable(capacity)

    def flag(self, key: int, rule: str, now: float) -> None:
        self.flags.put(key, Flag(rule, now + self.memory))

    def flagged(self, key: int, now: float) -> Flag | None:
        flag = self.flags.get(key)
        if flag is not None and flag.until <= now:
            self.flags.pop(key)
            return None
        return flag

    def taint(self, key: int, now: float) -> int:
        """Count one more caught account on ``key``; returns the count."""
        current = self.tainted(key, now)
        self.taints.put(key, Taint(current + 1, now + self.memory))
        return current + 1

    def tainted(self, key: int, now: float) -> int:
        """Caught accounts on ``key`` within the memory (0 if none)."""
        taint = self.taints.get(key)
        if taint is None:
            return 0
        if taint.until <= now:
            self.taints.pop(key)
            return 0
        return taint.caught
