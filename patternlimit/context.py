"""Account context: standing from age, and a bounded history of what each account did on flagged patterns."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

from patternlimit.policy.models import Context


class Standing(StrEnum):
    """How much an account is trusted, from its age: young, then established from ``young_age``, then trusted
    from ``trusted_age`` (the limiter demotes a trusted account it has caught before to established)."""

    YOUNG = "young"
    ESTABLISHED = "established"
    TRUSTED = "trusted"


def standing_of(age: float | None, context: Context) -> Standing:
    """``age`` in seconds (``None`` when unknown: then ``context.unknown_age`` decides)."""
    if age is None:
        return Standing.YOUNG if context.unknown_age == "young" else Standing.ESTABLISHED
    if age < context.young_age:
        return Standing.YOUNG
    return Standing.TRUSTED if age >= context.trusted_age else Standing.ESTABLISHED


@dataclass(slots=True)
class AccountRecord:
    """What the limiter remembers of one account (about 120 bytes with its dict entry)."""

    flagged_hits: int = 0
    """Requests on flagged patterns since ``flagged_since``."""
    flagged_since: float = 0.0
    penalty_until: float = 0.0
    penalty_rule: str = ""
    penalty_pattern: object = None
    offences: int = 0
    """Times the account was caught (throttled or blocked by a pattern rule)."""
    tainted: bool = False
    """Whether its catch has already been counted against its network and client."""


class AccountBook:
    """At most ``capacity`` account records, least recently used evicted first.

    An evicted account loses its persistence count and penalty: bounded memory's price, paid by the accounts
    that have been quiet longest. Not thread-safe; the limiter holds its lock.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._records: OrderedDict[int, AccountRecord] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def get(self, account: int) -> AccountRecord | None:
        record = self._records.get(account)
        if record is not None:
            self._records.move_to_end(account)
        return record

    def record(self, account: int) -> AccountRecord:
        """The account's record, created if needed."""
        record = self.get(account)
        if record is None:
            record = self._records[account] = AccountRecord()
            if len(self._records) > self.capacity:
                self._records.popitem(last=False)
        return record
