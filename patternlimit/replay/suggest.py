"""Threshold suggestions: the strictest scaling of the fan-out rules' ``young_accounts`` thresholds that keeps the
legitimate traffic's false positives within a budget, checked by replaying the logs again with it.

1. *Estimate* (one pass, beside the replay): the probe's ratio histograms (:mod:`~patternlimit.replay.probe`) give,
   for each multiplier ``s``, the share of legitimate requests whose pattern reached ``s`` times a rule's
   threshold with the rule's other conditions holding. The smallest ``s`` on the grid whose share is within the
   budget is the estimate: every tuned rule's ``young_accounts`` minimum becomes ``ceil(s * threshold)``.
2. *Measure*: the logs are replayed with the suggested policy, and the false-positive rate (legitimate requests
   stopped by pattern or escalation rules, per legitimate request) and the share of the rest stopped are counted
   exactly. The estimate leaves out persistence (``min_account_hits``), penalties and taints; if the measured
   rate is over the budget the multiplier is raised (halfway, geometrically, to one known or assumed to be within
   it) and measured again, at most :data:`ROUNDS` times.

Only ``young_accounts`` moves; ``young_share``, ``filler_diversity`` and the network bounds stay as the policy has
them. Legitimate means labelled so in the log or listed in ``--legit-accounts``; everything else is "the rest".
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from patternlimit.errors import ConfigurationError
from patternlimit.policy.decision import Action, Decision
from patternlimit.policy.models import LimitRule, PatternRule, Policy, Threshold
from patternlimit.replay.probe import RATIO_BINS, RATIO_HIGH, Probe, bin_scale, tuned_rules
from patternlimit.replay.records import Record
from patternlimit.replay.runner import replay
from patternlimit.replay.sources import Reading

ROUNDS = 3
"""Measured replays at most; each raises the multiplier when the last one was over the budget."""

STEP = 1.25
"""The least a measured round over the budget raises the multiplier by."""


@dataclass(slots=True)
class Round:
    scale: float
    false_positive_rate: float
    rest_stopped_share: float
    legitimate_requests: int
    rest_requests: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "false_positive_rate": self.false_positive_rate,
            "rest_stopped_share": self.rest_stopped_share,
            "legitimate_requests": self.legitimate_requests,
            "rest_requests": self.rest_requests,
        }


@dataclass(slots=True)
class Suggestion:
    budget: float
    legitimate_requests: int
    rest_requests: int
    current: Round
    """The replayed policy as it is."""
    estimate_scale: float | None = None
    estimated_false_positive_rate: float | None = None
    estimated_rest_share: float | None = None
    rounds: list[Round] = field(default_factory=list)
    thresholds: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Rule -> (current, suggested) ``young_accounts`` minimum."""
    policy: Policy | None = None
    note: str = ""

    @property
    def within_budget(self) -> bool:
        return bool(self.rounds) and self.rounds[-1].false_positive_rate <= self.budget

    def as_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "legitimate_requests": self.legitimate_requests,
            "rest_requests": self.rest_requests,
            "current": self.current.as_dict(),
            "estimate": {
                "scale": self.estimate_scale,
                "false_positive_rate": self.estimated_false_positive_rate,
                "rest_stopped_share": self.estimated_rest_share,
            },
            "measured": [item.as_dict() for item in self.rounds],
            "within_budget": self.within_budget,
            "thresholds": {
                rule: {"young_accounts_min": current, "suggested": new}
                for rule, (current, new) in self.thresholds.items()
            },
            "note": self.note,
        }


def scaled_policy(policy: Policy, scale: float) -> tuple[Policy, dict[str, tuple[float, float]]]:
    """``policy`` with every tuned rule's ``young_accounts`` minimum multiplied by ``scale`` (rounded up)."""
    tuned = {rule.name for rule in tuned_rules(policy)}
    thresholds: dict[str, tuple[float, float]] = {}
    rules: list[PatternRule | LimitRule] = []
    for rule in policy.rules:
        if isinstance(rule, PatternRule) and rule.name in tuned:
            current = rule.when["young_accounts"]
            assert current.min is not None  # tuned_rules keeps only rules with a minimum
            suggested = float(max(2, math.ceil(scale * current.min - 1e-9)))
            thresholds[rule.name] = (current.min, suggested)
            when = {**rule.when, "young_accounts": Threshold(min=suggested, max=current.max)}
            rules.append(rule.model_copy(update={"when": when}))
        else:
            rules.append(rule)
    name = policy.name if policy.name.endswith("-suggested") else f"{policy.name}-suggested"
    return Policy.model_validate({**policy.model_dump(), "name": name, "rules": [r.model_dump() for r in rules]}), (
        thresholds
    )


class _Scorer:
    """Counts legitimate and other requests, and those stopped by pattern or escalation rules."""

    def __init__(self, probe: Probe, limit_rules: frozenset[str]) -> None:
        self._probe = probe
        self._limit_rules = limit_rules
        self.counts = [0, 0, 0, 0]  # legitimate, legitimate stopped, rest, rest stopped

    def observe(self, records: Sequence[Record], decisions: Sequence[Decision]) -> None:
        counts, limit_rules, is_legitimate = self.counts, self._limit_rules, self._probe.is_legitimate
        for record, decision in zip(records, decisions, strict=True):
            offset = 0 if is_legitimate(record) else 2
            counts[offset] += 1
            action = decision.action
            counts[offset + 1] += (action is Action.THROTTLE or action is Action.BLOCK) and (
                decision.rule not in limit_rules
            )

    def round(self, scale: float) -> Round:
        legitimate, legitimate_stopped, rest, rest_stopped = self.counts
        return Round(scale, _share(legitimate_stopped, legitimate), _share(rest_stopped, rest), legitimate, rest)


def suggest(
    probe: Probe,
    paths: Sequence[Path],
    *,
    policy: Policy,
    secret: bytes | None,
    reading: Reading,
    budget: float,
) -> Suggestion:
    """Estimate from ``probe`` (which observed the replay of ``paths``), then measure (see the module docstring)."""
    legitimate, rest = probe.legitimate, probe.rest
    current = Round(
        1.0,
        _share(legitimate.stopped_now, legitimate.requests),
        _share(rest.stopped_now, rest.requests),
        legitimate.requests,
        rest.requests,
    )
    suggestion = Suggestion(budget, legitimate.requests, rest.requests, current)
    if not probe.tuned:
        suggestion.note = "the policy has no throttling pattern rule with a young_accounts minimum to tune"
        return suggestion
    if legitimate.requests == 0:
        suggestion.note = "no legitimate traffic (no 'legitimate' label in the log, no --legit-accounts match)"
        return suggestion
    allowed = math.floor(budget * legitimate.requests)
    index = next(
        (candidate for candidate in range(RATIO_BINS) if sum(legitimate.ratios[candidate:]) <= allowed),
        RATIO_BINS - 1,
    )
    scale = bin_scale(index)
    suggestion.estimate_scale = scale
    suggestion.estimated_false_positive_rate = _share(sum(legitimate.ratios[index:]), legitimate.requests)
    suggestion.estimated_rest_share = _share(sum(rest.ratios[index:]), rest.requests)
    limit_rules = frozenset(rule.name for rule in policy.rules if isinstance(rule, LimitRule))
    # A failed round is bisected (geometrically) towards a multiplier known or assumed to be within the budget:
    # the replayed policy's own (1) when it was, else the top of the probe's range.
    upper = 1.0 if current.false_positive_rate <= budget and scale < 1.0 else RATIO_HIGH
    for _ in range(ROUNDS):
        candidate, thresholds = scaled_policy(policy, scale)
        scorer = _Scorer(probe, limit_rules)
        replay(paths, policy=candidate, secret=secret, reading=reading, observers=[scorer])
        measured = scorer.round(scale)
        suggestion.rounds.append(measured)
        suggestion.policy, suggestion.thresholds = candidate, thresholds
        if measured.false_positive_rate <= budget:
            break
        scale = math.sqrt(scale * upper) if upper > scale * STEP else scale * STEP
    if not suggestion.within_budget:
        suggestion.note = (
            f"still over the budget after {ROUNDS} measured rounds: the false positives come from something the "
            "young_accounts threshold does not control (persistence, penalties, taints, another rule)"
        )
    return suggestion


def suggestion_text(suggestion: Suggestion) -> Table:
    view = Table(
        title=f"threshold suggestion at a false-positive budget of {suggestion.budget:g}", title_justify="left"
    )
    for header in ("policy", "young_accounts scale", "legitimate stopped", "rest stopped"):
        view.add_column(header, justify="left" if header == "policy" else "right")
    current = suggestion.current
    view.add_row("as replayed", "1", f"{current.false_positive_rate:.4%}", f"{current.rest_stopped_share:.2%}")
    if suggestion.estimate_scale is not None:
        view.add_row(
            "estimate (probe)",
            f"{suggestion.estimate_scale:.3g}",
            f"{suggestion.estimated_false_positive_rate or 0.0:.4%}",
            f"{suggestion.estimated_rest_share or 0.0:.2%}",
        )
    for number, measured in enumerate(suggestion.rounds, 1):
        view.add_row(
            f"measured, round {number}",
            f"{measured.scale:.3g}",
            f"{measured.false_positive_rate:.4%}",
            f"{measured.rest_stopped_share:.2%}",
        )
    thresholds = ", ".join(f"{rule} {old:g} -> {new:g}" for rule, (old, new) in suggestion.thresholds.items())
    view.caption = (
        f"{suggestion.legitimate_requests:,} legitimate requests, {suggestion.rest_requests:,} others. "
        + (f"young_accounts: {thresholds}. " if thresholds else "")
        + suggestion.note
    )
    view.caption_justify = "left"
    return view


def write_policy(policy: Policy, path: Path) -> None:
    """Write ``policy`` as JSON or YAML (by extension), in the format ``--policy`` reads back."""
    data = policy.model_dump(mode="json")
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    elif suffix in {".yaml", ".yml"}:
        try:
            import yaml
        except ImportError as exc:
            raise ConfigurationError('writing a YAML policy needs PyYAML: pip install "patternlimit[yaml]"') from exc
        text = yaml.safe_dump(data, sort_keys=False)
    else:
        raise ConfigurationError(f"--suggest-policy {str(path)!r}: use .json, .yaml or .yml, not {suffix!r}")
    path.write_text(text, encoding="utf-8")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
