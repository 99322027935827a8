"""What a replay counts, in memory bounded whatever the log's size.

Totals per action and per rule are exact. Per label and per scenario the figures are the simulator's
:class:`~patternlimit.sim.evaluate.ScenarioMetrics`, so a replay of ``simulate --write-jsonl`` output is compared
with ``simulate`` field by field. Stopped patterns and affected accounts are heavy hitters in bounded tables: each
table keeps its heaviest ``capacity`` entries and, when it holds twice that, drops the lighter half (a key dropped
and seen again restarts its count, so a light key's count can be low; the heavy ones are exact in practice).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from patternlimit.policy.decision import Action, Decision
from patternlimit.replay.records import Record
from patternlimit.sim.evaluate import ScenarioMetrics

BIN_SECONDS = 300.0
"""Width of the timeline's bins: fine enough for an hour's replay, 288 bins a day."""

SNIPPET_CHARS = 240

Entry = TypeVar("Entry")


class BoundedTable(Generic[Entry]):
    """Entries by key, at most ``2 * capacity`` of them; trimmed to the ``capacity`` heaviest by ``weight``."""

    def __init__(self, capacity: int, weight: Callable[[Entry], int]) -> None:
        self.capacity = capacity
        self.entries: dict[Any, Entry] = {}
        self._weight = weight

    def get(self, key: Any, make: Callable[[], Entry]) -> Entry:
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= 2 * self.capacity:
                kept = sorted(self.entries.items(), key=lambda item: self._weight(item[1]), reverse=True)
                self.entries = dict(kept[: self.capacity])
            entry = self.entries[key] = make()
        return entry

    def heaviest(self, count: int) -> list[Entry]:
        return sorted(self.entries.values(), key=self._weight, reverse=True)[:count]


@dataclass(slots=True)
class Sample:
    """One request, shown as an example of what a pattern or an account sent."""

    time: float
    account: str | None
    ip: str
    route: str
    text: str
    where: str
    """``file:line`` in the log."""
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "account": self.account,
            "ip": self.ip,
            "route": self.route,
            "text": self.text,
            "where": self.where,
            "reason": self.reason,
        }


def sample_of(record: Record, decision: Decision) -> Sample:
    text = record.request.text
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
    return Sample(
        record.time,
        record.request.account,
        record.request.ip,
        record.request.route,
        snippet,
        f"{record.source}:{record.line}",
        decision.reason,
    )


@dataclass(slots=True)
class StoppedPattern:
    """A pattern that rules stopped requests on (or would have, in shadow mode)."""

    rule: str
    kind: str
    label: str
    stopped: int = 0
    would_stop: int = 0
    """Logged by a shadowed rule that would have throttled or blocked."""
    labels: Counter[str] = field(default_factory=Counter)
    """Ground truth of its stopped requests: ``legitimate``, ``campaign``, ``unlabelled``..."""
    accounts: set[str] = field(default_factory=set)
    """Up to ``_ACCOUNTS_KEPT`` distinct accounts it stopped."""
    sample: Sample | None = None

    @property
    def weight(self) -> int:
        return self.stopped + self.would_stop

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "label": self.label,
            "stopped": self.stopped,
            "would_stop": self.would_stop,
            "truth": dict(self.labels),
            "accounts_seen": len(self.accounts),
            "sample": None if self.sample is None else self.sample.as_dict(),
        }


_ACCOUNTS_KEPT = 200
"""Distinct accounts remembered per stopped pattern: the table shows "200" for a pattern that stopped more. Each
is a reference to a string the request already had, so the table's memory is at most its entries times this."""


@dataclass(slots=True)
class AffectedAccount:
    account: str
    stopped: int = 0
    would_stop: int = 0
    first: float = 0.0
    last: float = 0.0
    rules: Counter[str] = field(default_factory=Counter)
    label: str | None = None
    sample: Sample | None = None

    @property
    def weight(self) -> int:
        return self.stopped + self.would_stop

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "stopped": self.stopped,
            "would_stop": self.would_stop,
            "first": self.first,
            "last": self.last,
            "rules": dict(self.rules.most_common(5)),
            "truth": self.label,
            "sample": None if self.sample is None else self.sample.as_dict(),
        }


class Tally:
    """Every count a replay reports; see the module docstring."""

    def __init__(self, limit_rules: Iterable[str], *, capacity: int = 500) -> None:
        self.limit_rules = frozenset(limit_rules)
        self.requests = 0
        self.actions: Counter[str] = Counter()
        self.rules: dict[str, Counter[str]] = {}
        self.shadowed: Counter[str] = Counter()
        self.labels: dict[str, ScenarioMetrics] = {}
        self.scenarios: dict[str, ScenarioMetrics] = {}
        self.timeline: Counter[tuple[int, str, str]] = Counter()
        """(bin, rule, outcome) -> requests: outcome ``served`` (rule ``""``), ``stopped`` or ``would_stop`` (a
        shadowed rule's, served)."""
        self.patterns: BoundedTable[StoppedPattern] = BoundedTable(capacity, lambda entry: entry.weight)
        self.accounts: BoundedTable[AffectedAccount] = BoundedTable(capacity, lambda entry: entry.weight)
        self.baseline_stopped = 0
        self.first_time: float | None = None
        self.last_time: float | None = None

    def add(self, record: Record, decision: Decision, baseline_allowed: bool) -> None:
        self.requests += 1
        moment = record.time
        if self.first_time is None:
            self.first_time = moment
        self.last_time = moment if self.last_time is None or moment > self.last_time else self.last_time
        action = decision.action
        self.actions[action.value] += 1
        self.baseline_stopped += not baseline_allowed
        rule = decision.rule
        stopped = action is Action.THROTTLE or action is Action.BLOCK
        if rule is not None:
            counts = self.rules.get(rule)
            if counts is None:
                counts = self.rules[rule] = Counter()
            counts[action.value] += 1
        would_stop = decision.shadowed is Action.THROTTLE or decision.shadowed is Action.BLOCK
        time_bin = int(moment // BIN_SECONDS)
        if stopped:
            self.timeline[time_bin, rule or "", "stopped"] += 1
        else:
            self.timeline[time_bin, "", "served"] += 1
            if would_stop:
                self.timeline[time_bin, rule or "", "would_stop"] += 1
        own_limit = rule in self.limit_rules
        for key, groups in ((record.label, self.labels), (record.scenario, self.scenarios)):
            if key is None:
                continue
            metrics = groups.get(key)
            if metrics is None:
                metrics = groups[key] = ScenarioMetrics(key, key == "campaign")
            count(metrics, moment, action, own_limit)
            metrics.baseline_allowed += baseline_allowed
        if would_stop:
            self.shadowed[decision.shadowed.value] += 1  # type: ignore[union-attr]
        if (stopped or would_stop) and rule is not None and not own_limit:
            self._stopped(record, decision, rule, stopped)

    def _stopped(self, record: Record, decision: Decision, rule: str, stopped: bool) -> None:
        pattern = decision.pattern
        kind, label = (pattern.kind, pattern.label) if pattern is not None else ("", "")
        entry = self.patterns.get((rule, kind, label), lambda: StoppedPattern(rule, kind, label))
        truth = record.label or "unlabelled"
        entry.labels[truth] += 1
        account = record.request.account or f"anonymous:{record.request.ip}"
        if len(entry.accounts) < _ACCOUNTS_KEPT:
            entry.accounts.add(account)
        affected = self.accounts.get(account, lambda: AffectedAccount(account, first=record.time))
        affected.last = record.time
        affected.rules[rule] += 1
        affected.label = record.label
        if stopped:
            entry.stopped += 1
            affected.stopped += 1
        else:
            entry.would_stop += 1
            affected.would_stop += 1
        if entry.sample is None:
            entry.sample = sample_of(record, decision)
        if affected.sample is None:  # the account's own first stopped request, not its pattern's
            affected.sample = sample_of(record, decision)

    def stopped_requests(self) -> int:
        return self.actions[Action.THROTTLE.value] + self.actions[Action.BLOCK.value]


def count(metrics: ScenarioMetrics, moment: float, action: Action, own_limit: bool) -> None:
    """Count one decision into a scenario's metrics, as ``patternlimit simulate`` counts it."""
    metrics.requests += 1
    if metrics.first_request is None:
        metrics.first_request = moment
    slot = metrics.timeline.setdefault(int(moment // 3600), [0, 0])
    if action is Action.ALLOW or action is Action.LOG:
        metrics.allowed += 1
        metrics.logged += action is Action.LOG
        slot[0] += 1
        return
    slot[1] += 1
    if action is Action.BLOCK:
        metrics.blocked += 1
    else:
        metrics.throttled += 1
    if own_limit:
        metrics.own_limit += 1
    elif metrics.first_stop is None:
        metrics.first_stop = moment
