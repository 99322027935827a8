"""What the limiter answers: an action, and the rule, pattern and reason behind it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Action(StrEnum):
    """The outcome of a check. ``LOG`` means a rule matched in shadow mode: the request goes through."""

    ALLOW = "allow"
    LOG = "log"
    THROTTLE = "throttle"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Action.ALLOW: 0, Action.LOG: 1, Action.THROTTLE: 2, Action.BLOCK: 3}


@dataclass(frozen=True, slots=True)
class PatternRef:
    """A pattern key named for people: its kind (``template``, ``network``...), a readable label, and the key."""

    kind: str
    label: str
    key: int

    def __str__(self) -> str:
        return f"{self.kind} {self.label!r}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one :meth:`Limiter.check`.

    ``action`` is what to do; ``enforced`` is False when the deciding rule (or the whole policy) is in shadow mode,
    in which case ``action`` is ``LOG`` and ``shadowed`` says what would have been done. ``rule`` names the rule,
    ``pattern`` the pattern it counted, ``reason`` is one sentence with the figures, ``retry_after`` is seconds
    for a throttle, and ``scores`` holds the measures and weights the rule looked at.
    """

    action: Action
    rule: str | None = None
    pattern: PatternRef | None = None
    reason: str = ""
    retry_after: float | None = None
    scores: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    enforced: bool = True
    shadowed: Action | None = None

    @property
    def allowed(self) -> bool:
        """True when the request should be served (``ALLOW`` or ``LOG``)."""
        return self.action is Action.ALLOW or self.action is Action.LOG


ALLOW = Decision(Action.ALLOW)
"""The decision when no rule matched (shared: decisions are immutable)."""
