"""Operator overrides: allow or deny an account, a pattern, a network or a client for a while, at runtime.

A false positive is undone at once (``allow``), a confirmed campaign template stopped at once (``deny``), without a
restart or a policy change. Overrides are keyed by the same keyed hashes as the sketches (an account name, a
network prefix or a client string is never kept in clear), expire by themselves, are bounded in number, and travel
through the shared log like every other state change, so every process and replica applies them.

* **allow** on an account, network or client: the request is decided by the exact limits only (penalties,
  pattern rules and taints are not applied, and the request flags nothing); on a pattern: that pattern's rules do
  not act on it, the other patterns' still do.
* **deny**: the request is blocked, whatever else would have answered.
* A **deny** wins over an **allow** when both match one request: an operator stopping a campaign must not be
  undone by an allowance of one of its accounts.

The decision an override changes says so in its ``rule`` (``override:allow`` / ``override:deny``) and its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from patternlimit._tables import BoundedTable

Scope = Literal["account", "pattern", "network", "client"]
SCOPES: tuple[Scope, ...] = ("account", "pattern", "network", "client")
OverrideAction = Literal["allow", "deny"]

CAPACITY = 100_000
"""Overrides kept at most (oldest written evicted first): far more than operators set by hand, bounded all the
same, since an admin endpoint or a script can set them in a loop."""


@dataclass(frozen=True, slots=True)
class Override:
    """One operator override: ``action`` on the ``scope`` keyed ``key`` until ``until`` (epoch seconds)."""

    scope: Scope
    key: int
    action: OverrideAction
    until: float
    label: str
    """What the operator named (an account name is shown as given only to the process that set it; others see
    ``"(shared)"``)."""
    by: str = ""
    why: str = ""

    def describe(self) -> str:
        who = f" by {self.by}" if self.by else ""
        why = f": {self.why}" if self.why else ""
        return f"{self.scope} {self.label} {self.action}ed{who}{why}"


class Overrides:
    """The live overrides, by ``(scope, key)``. Not thread-safe: the limiter holds its lock."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.table: BoundedTable[tuple[str, int], Override] = BoundedTable(capacity, order="written")

    def __bool__(self) -> bool:
        return bool(self.table)

    def put(self, override: Override) -> None:
        self.table.put((override.scope, override.key), override)

    def remove(self, scope: str, key: int) -> bool:
        return self.table.pop((scope, key)) is not None

    def live(self, now: float) -> list[Override]:
        """Every override that has not expired (expired ones are dropped)."""
        alive = []
        for (scope, key), override in self.table.items():
            if override.until > now:
                alive.append(override)
            else:
                self.table.pop((scope, key))
        return alive

    def match(
        self, now: float, account: int, network: int, client: int, patterns: list[int]
    ) -> tuple[Override | None, frozenset[int]]:
        """The override that decides the request (a deny first, else an allow of its account, network or client),
        and the pattern keys allowed for it."""
        table = self.table
        deciding: Override | None = None
        allowed: set[int] = set()
        for scope, key in (("account", account), ("network", network), ("client", client)):
            if not key:
                continue
            override = table.get((scope, key))
            if override is None or override.until <= now:
                continue
            if override.action == "deny":
                return override, frozenset()
            deciding = deciding or override
        for key in patterns:
            override = table.get(("pattern", key))
            if override is None or override.until <= now:
                continue
            if override.action == "deny":
                return override, frozenset()
            allowed.add(key)
        return deciding, frozenset(allowed)
