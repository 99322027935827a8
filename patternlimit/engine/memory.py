"""What the limiter remembers beyond its sketches: accounts' histories, flagged patterns, tainted networks and
clients, and when each pattern was first seen. Every table is bounded (:mod:`patternlimit._tables`).

An account's record counts its requests on flagged patterns (persistence), its catches and its penalty; a flag
keeps a pattern acted on for ``memory`` seconds after it last met a rule; a taint counts the accounts caught from
one network or client. Not thread-safe: the limiter holds its lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from patternlimit._tables import BoundedTable, SegmentedTable
from patternlimit.engine.history import History
from patternlimit.engine.persistence import PairCounts, PeriodCounts
from patternlimit.policy.decision import PatternRef
from patternlimit.policy.models import Escalation as EscalationPolicy


@dataclass(slots=True)
class AccountRecord:
    """What the limiter remembers of one account (about 120 bytes with its table entry)."""

    flagged_hits: int = 0
    """Requests on flagged patterns since ``flagged_since``."""
    flagged_since: float = 0.0
    penalty_until: float = 0.0
    penalty_rule: str = ""
    penalty_pattern: PatternRef | None = None
    offences: int = 0
    """Times the account was caught (throttled or blocked by a pattern rule)."""
    tainted: bool = False
    """Whether its catch has already been counted against its network and client."""


@dataclass(slots=True)
class Flag:
    rule: str
    until: float


@dataclass(slots=True)
class Taint:
    caught: int
    until: float


class Memory:
    """Account records and flags (protected once earned: see below), taints (oldest write first) and first
    sightings, with the escalation policy that governs them.

    Account records are a :class:`~patternlimit._tables.SegmentedTable`: a record is created on probation the
    first time its account meets a pattern rule, and protected once the account is caught. A flood of one-shot
    accounts on a flagged pattern (each with one hit, never caught) churns probation only, so it cannot make the
    limiter forget the penalties and offences of the accounts it caught."""

    def __init__(
        self, *, accounts: int, flags: int, policy: EscalationPolicy, proven_after: float = 0.0, window: float = 0.0
    ) -> None:
        self.policy = policy
        self.part_hits = PairCounts(window or policy.memory)
        self.persistence = PeriodCounts(policy.memory)
        self.history = History(proven_after, accounts)
        self.accounts: SegmentedTable[int, AccountRecord] = SegmentedTable(accounts)
        self.flags: SegmentedTable[int, Flag] = SegmentedTable(flags)
        self.taints: BoundedTable[int, Taint] = BoundedTable(flags, order="written")
        self.first_seen: BoundedTable[int, float] = BoundedTable(flags)

    # -- accounts --------------------------------------------------------------------------------------------

    def record(self, account: int) -> AccountRecord:
        """The account's record, created if needed."""
        return self.accounts.setdefault(account, AccountRecord)

    def flagged_hit(self, account: int, now: float) -> AccountRecord:
        """Count one request of ``account`` on a flagged pattern (the persistence count) and return its record."""
        record = self.record(account)
        if now - record.flagged_since > self.policy.memory:
            record.flagged_hits, record.flagged_since = 0, now
        record.flagged_hits += 1
        return record

    def caught(
        self,
        record: AccountRecord,
        rule: str,
        pattern: PatternRef,
        now: float,
        network: int,
        client: int,
        account: int | None = None,
    ) -> None:
        """An account caught by ``rule`` on ``pattern``: its penalty starts, its history starts again (``account``,
        its key), and its first catch taints its network and client (0: none, or a network that is not public)."""
        if account is not None:
            self.history.restart(account, now)
            self.accounts.protect(account)
        record.offences += 1
        record.penalty_until = max(record.penalty_until, now + self.policy.account_penalty)
        record.penalty_rule, record.penalty_pattern = rule, pattern
        if not record.tainted:
            record.tainted = True
            if self.policy.network_taint and network:
                self.taint(network, now)
            if self.policy.client_taint and client:
                self.taint(client, now)

    def blocks(self, record: AccountRecord) -> bool:
        """Whether the account has been caught often enough to be blocked."""
        after = self.policy.block_after
        return bool(after) and record.offences >= after

    # -- patterns --------------------------------------------------------------------------------------------

    def flag(self, key: int, rule: str, now: float) -> None:
        """Flag ``key`` for ``rule`` until ``now`` plus the memory. A flag met again (a campaign's every request
        renews its keys' flags) is protected: a flood of keys that each meet a rule once, under a saturated sketch,
        churns the unprotected ones and cannot make the limiter forget a campaign's."""
        flags = self.flags
        flag = flags.get(key)
        if flag is not None and flag.rule == rule:
            flag.until = now + self.policy.memory
            flags.protect(key)
        else:
            flags.put(key, Flag(rule, now + self.policy.memory))

    def remote_flag(self, key: int, rule: str, until: float) -> None:
        """Another process's flag of ``key``, already bounded by the caller; a renewal is protected as a local
        one is."""
        flag = self.flags.get(key)
        if flag is None:
            self.flags.put(key, Flag(rule, until))
        elif flag.until < until:
            self.flags.put(key, Flag(rule, until))
            self.flags.protect(key)

    def flagged(self, key: int, now: float) -> Flag | None:
        """``key``'s flag if it has not expired (an expired one is dropped)."""
        flag = self.flags.get(key)
        if flag is not None and flag.until <= now:
            self.flags.pop(key)
            return None
        return flag

    def first_sightings(self, keys: Iterable[int], now: float) -> None:
        """Remember when each of ``keys`` was first seen (for the ``pattern_age`` measure)."""
        first_seen = self.first_seen
        for key in keys:
            if key not in first_seen:
                first_seen.put(key, now)

    # -- networks and clients --------------------------------------------------------------------------------

    def taint(self, key: int, now: float) -> int:
        """Count one more caught account on ``key``; returns the count."""
        current = self.tainted(key, now)
        self.taints.put(key, Taint(current + 1, now + self.policy.memory))
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
