"""What the limiter has seen each account do: since when it knows it, and from which networks it has been sending.

Two signals that a creation date cannot give and that separate a campaign from the organic cohorts it looks like:

* **Standing from history.** An account is established because the limiter has seen it before, not because its
  creation date is old: bought or pre-provisioned accounts are old and dormant. Once the limiter has watched for
  ``Context.proven_after`` seconds, an account it first saw less than ``proven_after`` ago counts as young whatever
  its creation date (a dormant account that wakes up is unproven until it has a history); an account caught by a
  pattern rule starts its history again. The accounts seen in the limiter's first ``proven_after`` (a fresh
  deployment, a restart on memory storage: no history to go by yet) are judged by their creation dates, so a
  restart never turns every old customer young.
* **Network hopping.** The distinct networks (/24 or /48) among an account's last :data:`RECENT` requests: a
  household or an office keeps its prefix for hours, a phone adds its carrier's, and a rotating proxy hands out a
  new one per request. This is the ``account_networks`` measure.

Bounded: at most ``capacity`` accounts in a :class:`~patternlimit._tables.SegmentedTable`. An account enters on
probation and is protected once its requests span :data:`PROTECT_AFTER` seconds, so a flood of one-shot accounts
(or of accounts that each send a burst and vanish) churns probation only and cannot evict the histories that make
returning customers established: to push them out, an attacker must keep more accounts active for an hour each
than the protected half holds. An account evicted while dormant comes back as new to the limiter, which only
matters if it then sends a fanned-out pattern with proxy-like routing.
The history is kept per process (with shared storage, each process knows the accounts it served).
"""

from __future__ import annotations

from dataclasses import dataclass

from patternlimit._tables import SegmentedTable

RECENT = 8
"""Requests of an account whose networks are remembered."""

CAPACITY = 200_000
"""Accounts whose history is kept by default (``Capacity.accounts``; about 180 bytes each with the table entry)."""

PROTECT_AFTER = 3600.0
"""An account whose requests span this many seconds is protected from eviction by newcomers."""


@dataclass(slots=True)
class Seen:
    """One account's history."""

    first_seen: float
    networks: list[int]
    """The networks of its last :data:`RECENT` requests (a ring, oldest overwritten first)."""
    cursor: int = 0


class History:
    """Per-account history; see the module docstring. Not thread-safe: the limiter holds its lock."""

    def __init__(self, proven_after: float, capacity: int = CAPACITY) -> None:
        self.proven_after = proven_after
        self.accounts: SegmentedTable[int, Seen] = SegmentedTable(capacity)
        self.started: float | None = None
        """When the limiter first saw a request: before ``started + proven_after`` it trusts creation dates."""

    def observe(self, account: int, network: int, now: float) -> tuple[bool, int]:
        """Record one request of ``account`` from ``network``; returns whether the account is new to the limiter
        (first seen less than ``proven_after`` ago, after the limiter's first ``proven_after``) and its distinct
        networks among its recent requests."""
        started = self.started
        if started is None or now < started:
            self.started = started = now
        seen = self.accounts.get(account)
        if seen is None:
            seen = Seen(now, [network])
            self.accounts.put(account, seen)
            distinct = 1
        else:
            networks = seen.networks
            if len(networks) < RECENT:
                networks.append(network)
            else:
                networks[seen.cursor] = network
                seen.cursor = (seen.cursor + 1) % RECENT
            distinct = len(set(networks))
            if now - seen.first_seen >= PROTECT_AFTER and not self.accounts.is_protected(account):
                self.accounts.protect(account)
        proven_after = self.proven_after
        first_seen = seen.first_seen
        unproven = bool(proven_after) and first_seen - started >= proven_after and now - first_seen < proven_after
        return unproven, distinct

    def restart(self, account: int, now: float) -> None:
        """A caught account earns no history: it counts as new to the limiter from ``now``."""
        seen = self.accounts.get(account)
        if seen is not None:
            seen.first_seen = now
