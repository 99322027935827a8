"""A replay shown: rich tables for the terminal, one JSON document (``--json``) for machines.

With ground truth in the log (``label`` or ``scenario``), the per-group figures are printed with the simulator's own
table (:func:`patternlimit.sim.report.table`): a replay of ``simulate --write-jsonl`` output reads as ``simulate``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from patternlimit.policy.decision import Action
from patternlimit.replay.runner import Replayed
from patternlimit.sim.evaluate import Evaluation
from patternlimit.sim.report import table as scenario_table

SHOWN = 10
"""Rows of each table in the terminal (``--json`` has more)."""

BAD_SHOWN = 5


def document(result: Replayed, *, rows: int = 50) -> dict[str, Any]:
    """The ``--json`` document: ``requests``, ``bad_lines``, ``seconds``, ``actions`` (each action value),
    ``rules`` (per rule, per action), and the rest of what the terminal shows."""
    tally = result.tally
    actions = {action.value: tally.actions[action.value] for action in Action}
    return {
        "files": result.paths,
        "policy": result.policy.name,
        "secret_id": result.secret_id,
        "secret_given": result.secret_given,
        "requests": tally.requests,
        "bad_lines": result.bad.count,
        "bad_line_samples": [
            {"file": source, "line": line, "reason": reason} for source, line, reason in result.bad.samples
        ],
        "seconds": result.seconds,
        "decide_seconds": result.decide_seconds,
        "decide_cpu_seconds": result.decide_cpu_seconds,
        "requests_per_second": tally.requests / result.seconds if result.seconds else 0.0,
        "first_timestamp": tally.first_time,
        "last_timestamp": tally.last_time,
        "actions": actions,
        "rules": {rule: dict(sorted(counts.items())) for rule, counts in sorted(tally.rules.items())},
        "shadowed": dict(tally.shadowed),
        "baseline": {
            "rate": result.baseline_rate,
            "stopped": tally.baseline_stopped,
            "allowed": tally.requests - tally.baseline_stopped,
        },
        "labels": {name: metrics.as_dict() for name, metrics in sorted(tally.labels.items())},
        "scenarios": [metrics.as_dict() for metrics in tally.scenarios.values()],
        "stopped_patterns": [entry.as_dict() for entry in tally.patterns.heaviest(rows)],
        "accounts": [entry.as_dict() for entry in tally.accounts.heaviest(rows)],
        "heavy_patterns": [pattern._asdict() for pattern in result.top_patterns],
        "limiter_bytes": result.limiter_bytes,
        "peak_rss_bytes": result.peak_rss_bytes,
    }


def render(result: Replayed) -> Group:
    """Everything the terminal shows, in one renderable."""
    tally = result.tally
    stopped = tally.stopped_requests()
    rate = tally.requests / result.seconds if result.seconds else 0.0
    parts: list[Any] = [
        Text(
            f"patternlimit replay: {tally.requests:,} requests from {len(result.paths)} file(s) through policy "
            f"{result.policy.name!r} (secret {result.secret_id}{'' if result.secret_given else ', random'}) in "
            f"{result.seconds:.1f} s ({rate:,.0f} requests/s, {result.decide_seconds:.1f} s deciding); "
            f"{stopped:,} stopped, {result.bad.count:,} bad lines",
            style="bold",
        )
    ]
    if result.bad.count:
        lines = [f"  {source}:{line}: {reason}" for source, line, reason in result.bad.samples[:BAD_SHOWN]]
        more = result.bad.count - min(len(result.bad.samples), BAD_SHOWN)
        parts.append(Text("\n".join([*lines, *([f"  ... and {more:,} more"] if more else [])]), style="yellow"))
    parts.append(_rules_table(result))
    if tally.patterns.entries:
        parts.append(_patterns_table(result))
    if tally.accounts.entries:
        parts.append(_accounts_table(result))
    groups = tally.scenarios or tally.labels
    if groups:
        evaluation = Evaluation(
            dict(groups),
            tally.requests,
            result.seconds,
            result.limiter_bytes,
            result.peak_rss_bytes,
            result.policy.name,
            result.baseline_rate,
        )
        hours = ((tally.last_time or 0.0) - (tally.first_time or 0.0)) / 3600.0
        view = scenario_table(evaluation, seed=0, scale=1.0, hours=hours)
        view.title = f"by {'scenario' if tally.scenarios else 'label'} (ground truth in the log)"
        parts.append(view)
    return Group(*parts)


def _rules_table(result: Replayed) -> Table:
    tally = result.tally
    view = Table(title="decisions by rule and action", title_justify="left")
    view.add_column("rule")
    for action in Action:
        view.add_column(action.value, justify="right")
    for rule, counts in sorted(tally.rules.items(), key=lambda item: -sum(item[1].values())):
        view.add_row(rule, *(f"{counts[action.value]:,}" for action in Action))
    view.add_row(Text("all requests", style="bold"), *(f"{tally.actions[action.value]:,}" for action in Action))
    baseline_stopped = tally.baseline_stopped
    view.caption = (
        f"per-account limits alone ({result.baseline_rate} per account, moving window): "
        f"{baseline_stopped:,} stopped of {tally.requests:,}; shadowed rules would have stopped "
        f"{sum(tally.shadowed.values()):,} more"
    )
    view.caption_justify = "left"
    return view


def _patterns_table(result: Replayed) -> Table:
    view = Table(title="top stopped patterns", title_justify="left")
    for header in ("rule", "pattern", "stopped", "would stop", "accounts", "truth", "sample request"):
        view.add_column(header, justify="right" if header in {"stopped", "would stop", "accounts"} else "left")
    for entry in result.tally.patterns.heaviest(SHOWN):
        sample = entry.sample
        truth = ", ".join(f"{name} {count:,}" for name, count in entry.labels.most_common())
        view.add_row(
            entry.rule,
            f"{entry.kind} {entry.label[:60]!r}",
            f"{entry.stopped:,}",
            f"{entry.would_stop:,}",
            f"{len(entry.accounts):,}",
            truth,
            "" if sample is None else f"{sample.where} {sample.account}: {sample.text[:80]!r}",
        )
    return view


def _accounts_table(result: Replayed) -> Table:
    view = Table(title="accounts most affected", title_justify="left")
    for header in ("account", "stopped", "would stop", "rules", "truth", "first stop", "last stop"):
        view.add_column(header, justify="right" if header in {"stopped", "would stop"} else "left")
    for entry in result.tally.accounts.heaviest(SHOWN):
        view.add_row(
            entry.account[:40],
            f"{entry.stopped:,}",
            f"{entry.would_stop:,}",
            ", ".join(rule for rule, _ in entry.rules.most_common(2)),
            entry.label or "",
            _clock(entry.first),
            _clock(entry.last),
        )
    return view


def _clock(moment: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment))
