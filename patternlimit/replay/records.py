"""What every reader yields: a :class:`Record` per request, and :class:`BadLines` for the lines it could not use.

A record carries the :class:`~patternlimit.Request` the limiter sees, its time, and the ground truth a log may hold
beside it (a ``label`` column, the simulator's ``scenario``), which only the tally and the threshold suggestions read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from patternlimit.request import Request

LEGITIMATE = "legitimate"
CAMPAIGN = "campaign"

_LABELS = {
    **dict.fromkeys(("legitimate", "legit", "good", "benign", "ok", "human", "normal", "false", "0"), LEGITIMATE),
    **dict.fromkeys(("campaign", "bad", "abuse", "malicious", "attack", "fraud", "true", "1"), CAMPAIGN),
}
"""Label values as operators write them, by what they mean; anything else is kept as the operator's own label."""

MAX_TIME = 1e12
"""Timestamps must be epoch seconds in ``[0, MAX_TIME)``, as :meth:`Limiter.check` requires."""

MAX_COST = 1 << 32


def normalise_label(value: object) -> str | None:
    """``"Legitimate"``, ``"good"``, ``False`` -> ``"legitimate"``; ``"campaign"``, ``"abuse"``, ``True`` ->
    ``"campaign"``; an empty value -> ``None``; any other string is kept, lower-cased."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    return _LABELS.get(text, text) if text else None


@dataclass(slots=True)
class Record:
    """One request of a log, with its time and ground truth."""

    time: float
    request: Request
    label: str | None = None
    """``"legitimate"``, ``"campaign"``, another label of the operator's, or ``None`` when the log has none."""
    scenario: str | None = None
    """The simulator's scenario name, when the log was written by ``patternlimit simulate --write-jsonl``."""
    line: int = 0
    source: str = ""


class LineError(ValueError):
    """Raised by a reader's line parser; the reader records it and goes on with the next line."""


@dataclass(slots=True)
class BadLines:
    """Lines that were skipped: counted, and the first ``keep`` kept with their file, line number and reason."""

    keep: int = 20
    count: int = 0
    samples: list[tuple[str, int, str]] = field(default_factory=list)

    def add(self, source: str, line: int, reason: str) -> None:
        self.count += 1
        if len(self.samples) < self.keep:
            self.samples.append((source, line, reason[:300]))


def check_time(value: float, name: str = "timestamp") -> float:
    """``value`` as a float if it is finite epoch seconds the limiter accepts, else :class:`LineError`."""
    if not (math.isfinite(value) and 0.0 <= value < MAX_TIME):
        raise LineError(f"{name} must be epoch seconds in [0, 1e12), got {value!r}")
    return float(value)


def check_cost(value: int) -> int:
    if not 0 <= value < MAX_COST:
        raise LineError(f"cost must be an integer in [0, 2**32), got {value!r}")
    return value
