"""``--report out.html``: one self-contained page (inline CSS and SVG, nothing fetched) that shows a replay.

It shows served and stopped requests over time (and each rule's stops), the probe's per-pattern measures as
histograms with the policy's thresholds drawn on them, the patterns nearest each threshold (where a small change
flips decisions), the threshold sweep when the log says which traffic is legitimate, and the tables of the terminal
summary: rules by action, stopped patterns with a sample request, the accounts most affected.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from patternlimit.policy.decision import Action
from patternlimit.policy.models import PatternRule
from patternlimit.replay.probe import RATIO_BINS, Probe, bin_scale
from patternlimit.replay.runner import Replayed
from patternlimit.replay.svg import PALETTE, SERVED, Marker, Series, lines, stacked_bars, time_ticks
from patternlimit.replay.tally import BIN_SECONDS

MAX_BARS = 144
NEAREST = 4
_PEAK_MEASURES = ("young_accounts", "young_share", "filler_diversity")

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 24px auto;
       max-width: 1120px; padding: 0 16px; background: #f7f7f5; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #555; margin-bottom: 14px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
.chart { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 6px 0; display: block; }
.chart .title { font-weight: 600; font-size: 13px; } .chart .tick, .chart .legend { font-size: 11px; fill: #444; }
.chart .axis { font-size: 12px; fill: #333; } .chart .marker { font-size: 11px; font-weight: 600; }
table { border-collapse: collapse; background: #fff; margin: 6px 0; width: 100%; max-width: 1082px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef0f2; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.text { font-family: ui-monospace, monospace; font-size: 12px; width: 40%; overflow-wrap: anywhere; }
.note { color: #666; font-size: 12px; }
"""


def write_report(path: Path, result: Replayed, probe: Probe, suggestion: dict[str, Any] | None) -> None:
    path.write_text(render_report(result, probe, suggestion), encoding="utf-8")


def render_report(result: Replayed, probe: Probe, suggestion: dict[str, Any] | None) -> str:
    tally = result.tally
    sections = [
        _header(result),
        "<h2>Over time</h2>",
        *_timelines(result),
        "<h2>Decisions by rule</h2>",
        _rules_table(result),
        "<h2>Per-pattern measures, with the policy's thresholds</h2>",
        '<p class="note">Every pattern sent by at least a few young accounts, as the probe measured it at its peak '
        "number of young accounts (see docs/replay.md). Dashed lines are the policy's thresholds.</p>",
        *_histograms(probe),
        "<h2>Patterns nearest each threshold</h2>",
        _nearest(probe),
    ]
    if probe.legitimate.requests:
        sections += ["<h2>Threshold sweep</h2>", _sweep(probe, suggestion)]
    sections += ["<h2>Top stopped patterns</h2>", _stopped_patterns(result)]
    sections += ["<h2>Accounts most affected</h2>", _accounts(result)]
    groups = tally.scenarios or tally.labels
    if groups:
        sections += [f"<h2>By {'scenario' if tally.scenarios else 'label'}</h2>", _groups(groups)]
    if result.bad.count:
        sections += ["<h2>Bad lines</h2>", _bad_lines(result)]
    title = f"patternlimit replay: {escape(result.policy.name)}"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n"
    )


def _header(result: Replayed) -> str:
    tally = result.tally
    span = ((tally.last_time or 0.0) - (tally.first_time or 0.0)) / 3600.0
    stopped = tally.stopped_requests()
    cards = [
        ("requests", f"{tally.requests:,}"),
        ("stopped", f"{stopped:,} ({_share(stopped, tally.requests):.2%})"),
        ("would stop (shadow)", f"{sum(tally.shadowed.values()):,}"),
        (f"per-account {result.baseline_rate} alone", f"{tally.baseline_stopped:,} stopped"),
        ("bad lines", f"{result.bad.count:,}"),
    ]
    files = ", ".join(escape(Path(name).name) for name in result.paths)
    return (
        f"<h1>patternlimit replay</h1><div class='meta'>{files} · policy <b>{escape(result.policy.name)}</b> · "
        f"secret {escape(result.secret_id)}{'' if result.secret_given else ' (random)'} · "
        f"{_clock(tally.first_time)} to {_clock(tally.last_time)} UTC ({span:.1f} h) · "
        f"replayed in {result.seconds:.1f} s</div><div class='cards'>"
        + "".join(f"<div class='card'>{escape(name)}<b>{escape(value)}</b></div>" for name, value in cards)
        + "</div>"
    )


def _timelines(result: Replayed) -> list[str]:
    timeline = result.tally.timeline
    if not timeline:
        return ["<p class='note'>No requests.</p>"]
    first = min(key[0] for key in timeline)
    last = max(key[0] for key in timeline)
    factor = max(1, math.ceil((last - first + 1) / MAX_BARS))
    bars = (last - first) // factor + 1
    served = [0.0] * bars
    stopped: dict[str, list[float]] = {}
    would: dict[str, list[float]] = {}
    for (time_bin, rule, outcome), count in timeline.items():
        index = (time_bin - first) // factor
        if outcome == "served":
            served[index] += count
        else:
            table = stopped if outcome == "stopped" else would
            table.setdefault(rule or "(no rule)", [0.0] * bars)[index] += count
    edges = [(first + index * factor) * BIN_SECONDS for index in range(bars + 1)]
    width = factor * BIN_SECONDS
    by_rule = sorted(stopped.items(), key=lambda item: -sum(item[1]))
    all_stopped = [sum(values[index] for values in stopped.values()) for index in range(bars)]
    label = f"time (UTC), bars of {width / 60:g} min"
    ticks = time_ticks(edges[0], edges[-1])
    charts = [
        stacked_bars(
            "Served vs stopped, all requests",
            [Series("served", SERVED, served), Series("stopped", PALETTE[0], all_stopped)],
            edges,
            x_label=label,
            y_label="requests",
            tick=_tick_clock,
            x_ticks=ticks,
        )
    ]
    colors = {rule: PALETTE[index % len(PALETTE)] for index, (rule, _) in enumerate(by_rule)}
    if stopped:
        charts.append(
            stacked_bars(
                "Stopped, by rule",
                [Series(rule, colors[rule], values) for rule, values in by_rule],
                edges,
                x_label=label,
                y_label="requests stopped",
                tick=_tick_clock,
                x_ticks=ticks,
            )
        )
    if would:
        charts.append(
            stacked_bars(
                "Would have stopped (shadowed rules, served)",
                [
                    Series(rule, PALETTE[(index + 3) % len(PALETTE)], values)
                    for index, (rule, values) in enumerate(sorted(would.items()))
                ],
                edges,
                x_label=label,
                y_label="requests",
                tick=_tick_clock,
                x_ticks=ticks,
            )
        )
    if not stopped and not would:
        charts.append("<p class='note'>No rule stopped a request.</p>")
    return charts


def _histograms(probe: Probe) -> list[str]:
    patterns = list(probe.patterns.entries.values())
    if not patterns:
        return ["<p class='note'>No pattern reached the probe's floor of young accounts.</p>"]
    kinds = sorted({entry.kind for entry in patterns})
    colors = {kind: PALETTE[(index + 2) % len(PALETTE)] for index, kind in enumerate(kinds)}
    rules = [rule for rule in probe.policy.rules if isinstance(rule, PatternRule)]
    charts = []
    young = [max(1.0, entry.young_accounts) for entry in patterns]
    top = max(young) * 1.05
    top = max(top, *(_bound(rule, "young_accounts") or 1.0 for rule in rules)) * 1.1
    edges = [10 ** (math.log10(1.0) + (math.log10(top) - 0.0) * step / 40) for step in range(41)]
    charts.append(
        _histogram(
            "Young accounts per pattern (distinct, in the window; log scale)",
            patterns,
            lambda entry: max(1.0, entry.young_accounts),
            edges,
            kinds,
            colors,
            _markers(rules, "young_accounts"),
            "young accounts",
            log_x=True,
        )
    )
    unit = [step / 20 for step in range(21)]
    for measure, title in (
        ("young_share", "Young share per pattern (young accounts / accounts)"),
        ("filler_diversity", "Filler diversity per pattern (share of requests with new text)"),
    ):
        charts.append(
            _histogram(
                title,
                [entry for entry in patterns if not math.isnan(getattr(entry, measure))],
                lambda entry, measure=measure: min(1.0, getattr(entry, measure)),
                unit,
                kinds,
                colors,
                _markers(rules, measure),
                measure.replace("_", " "),
            )
        )
    return charts


def _histogram(
    title: str,
    patterns: Sequence[Any],
    value: Any,
    edges: Sequence[float],
    kinds: Sequence[str],
    colors: dict[str, str],
    markers: Sequence[Marker],
    x_label: str,
    *,
    log_x: bool = False,
) -> str:
    counts = {kind: [0.0] * (len(edges) - 1) for kind in kinds}
    for entry in patterns:
        position = value(entry)
        index = next((number for number in range(len(edges) - 1) if position < edges[number + 1]), len(edges) - 2)
        counts[entry.kind][index] += 1
    return stacked_bars(
        title,
        [Series(kind, colors[kind], counts[kind]) for kind in kinds],
        edges,
        x_label=x_label,
        y_label="patterns (square-root scale)",
        markers=markers,
        log_x=log_x,
        sqrt_y=True,
    )


def _markers(rules: Sequence[PatternRule], measure: str) -> list[Marker]:
    markers = []
    for rule in rules:
        threshold = rule.when.get(measure)  # type: ignore[call-overload]
        if threshold is None:
            continue
        for bound, sign in ((threshold.min, "≥"), (threshold.max, "≤")):
            if bound is not None:
                color = "#222" if rule.action != "log" else "#777"
                markers.append(Marker(bound, f"{rule.name} {sign} {bound:g}", color))
    return markers


def _bound(rule: PatternRule, measure: str) -> float | None:
    threshold = rule.when.get(measure)  # type: ignore[call-overload]
    return None if threshold is None else threshold.min


def _nearest(probe: Probe) -> str:
    """For each threshold of each throttling rule, the patterns that meet the rule's other conditions (at their
    peak) and sit closest to this one: moving it past them flips their decisions."""
    rows = []
    patterns = list(probe.patterns.entries.values())
    seen: set[tuple[str, str, float, tuple[tuple[str, float | None], ...]]] = set()
    for rule in probe.tuned:
        own = [entry for entry in patterns if entry.kind == rule.pattern]
        for measure, threshold in rule.when.items():
            if measure not in _PEAK_MEASURES or threshold.min is None:
                continue
            bound = threshold.min
            others = tuple(
                (name, other.min)
                for name, other in sorted(rule.when.items())
                if name in _PEAK_MEASURES and name != measure
            )
            if (rule.pattern, measure, bound, others) in seen:
                continue  # the same test on the same kind (a mass rule's share thresholds): shown once
            seen.add((rule.pattern, measure, bound, others))
            candidates = [
                (getattr(entry, measure), entry)
                for entry in own
                if not math.isnan(getattr(entry, measure))
                and all(minimum is None or getattr(entry, name) >= minimum for name, minimum in others)
            ]
            if measure == "young_accounts":
                candidates.sort(key=lambda item: abs(math.log(max(item[0], 0.5) / bound)))
            else:
                candidates.sort(key=lambda item: abs(item[0] - bound))
            if not candidates:
                rows.append(
                    f"<tr><td>{escape(rule.name)}</td><td>{measure} ≥ {bound:g}</td>"
                    "<td colspan='9' class='note'>no pattern meets the rule's other thresholds</td></tr>"
                )
            for measured, entry in candidates[:NEAREST]:
                side = "meets" if measured >= bound else "below"
                rows.append(
                    f"<tr><td>{escape(rule.name)}</td><td>{measure} ≥ {bound:g}</td><td class='n'>{measured:.3g}</td>"
                    f"<td>{side}</td><td>{escape(entry.kind)}</td><td class='text'>{escape(_short(entry.label))}</td>"
                    f"<td class='n'>{entry.young_accounts:.0f}</td><td class='n'>{entry.young_share:.0%}</td>"
                    f"<td class='n'>{_percent(entry.filler_diversity)}</td><td class='n'>{entry.legitimate:,}</td>"
                    f"<td class='n'>{entry.other:,}</td></tr>"
                )
    if not rows:
        return "<p class='note'>The policy has no throttling pattern rule to show.</p>"
    return (
        "<p class='note'>Patterns that meet the rule's other thresholds, nearest to this one: moving the threshold "
        "past them flips their decisions. Measures at each pattern's peak of young accounts.</p>"
        "<table><tr><th>rule</th><th>threshold</th><th>value</th><th></th><th>kind</th><th>pattern</th>"
        "<th>young accounts</th><th>young share</th><th>filler diversity</th><th>legitimate requests</th>"
        "<th>other requests</th></tr>" + "".join(rows) + "</table>"
    )


def _sweep(probe: Probe, suggestion: dict[str, Any] | None) -> str:
    legitimate, rest = probe.legitimate, probe.rest
    scales = [bin_scale(index) for index in range(RATIO_BINS)]
    false_positives = [_share(sum(legitimate.ratios[index:]), legitimate.requests) for index in range(RATIO_BINS)]
    rest_share = [_share(sum(rest.ratios[index:]), rest.requests) for index in range(RATIO_BINS)]
    markers = [Marker(1.0, "policy as replayed", "#555")]
    measured_rows = ""
    if suggestion is not None:
        chosen = suggestion["estimate"]["scale"]
        if chosen is not None:
            markers.append(Marker(chosen, f"suggested: x {chosen:.3g}", PALETTE[0]))
        rounds = [("policy as replayed", suggestion["current"]), ("estimate (probe)", suggestion["estimate"])]
        rounds += [(f"measured, round {number}", item) for number, item in enumerate(suggestion["measured"], 1)]
        for name, item in rounds:
            if item.get("scale") is None:
                continue
            measured_rows += (
                f"<tr><td>{name}</td><td class='n'>{item['scale']:.3g}</td>"
                f"<td class='n'>{item['false_positive_rate']:.4%}</td>"
                f"<td class='n'>{item['rest_stopped_share']:.2%}</td></tr>"
            )
    chart = lines(
        "Estimated share stopped if every young_accounts threshold is multiplied by x",
        scales,
        [
            Series("legitimate (false positives)", PALETTE[0], false_positives),
            Series("the rest", PALETTE[3], rest_share),
        ],
        x_label="threshold multiplier (log scale)",
        y_label="share of requests",
        y_tick=lambda value: f"{value:.0%}" if value >= 0.05 or value == 0 else f"{value:.2%}",
        markers=markers,
        log_x=True,
    )
    table = ""
    if measured_rows:
        table = (
            "<table><tr><th>policy</th><th>multiplier</th><th>legitimate stopped</th><th>rest stopped</th></tr>"
            + measured_rows
            + "</table>"
        )
    return chart + table


def _rules_table(result: Replayed) -> str:
    tally = result.tally
    header = "".join(f"<th>{action.value}</th>" for action in Action)
    rows = [
        f"<tr><td>{escape(rule)}</td>" + "".join(f"<td class='n'>{counts[action.value]:,}</td>" for action in Action)
        for rule, counts in sorted(tally.rules.items(), key=lambda item: -sum(item[1].values()))
    ]
    rows.append(
        "<tr><td><b>all requests</b></td>"
        + "".join(f"<td class='n'><b>{tally.actions[action.value]:,}</b></td>" for action in Action)
    )
    return f"<table><tr><th>rule</th>{header}</tr>" + "</tr>".join(rows) + "</tr></table>"


def _stopped_patterns(result: Replayed) -> str:
    entries = result.tally.patterns.heaviest(15)
    if not entries:
        return "<p class='note'>No pattern or escalation rule stopped a request.</p>"
    rows = []
    for entry in entries:
        sample = entry.sample
        truth = ", ".join(f"{name} {count:,}" for name, count in entry.labels.most_common())
        rows.append(
            f"<tr><td>{escape(entry.rule)}</td><td>{escape(entry.kind)}</td>"
            f"<td class='text'>{escape(_short(entry.label))}</td><td class='n'>{entry.stopped:,}</td>"
            f"<td class='n'>{entry.would_stop:,}</td><td class='n'>{len(entry.accounts):,}</td><td>{escape(truth)}</td>"
            f"<td class='text'>{'' if sample is None else escape(f'{sample.where} {sample.account}: {sample.text}')}"
            "</td></tr>"
        )
    return (
        "<table><tr><th>rule</th><th>kind</th><th>pattern</th><th>stopped</th><th>would stop</th><th>accounts</th>"
        "<th>truth</th><th>sample request</th></tr>" + "".join(rows) + "</table>"
    )


def _accounts(result: Replayed) -> str:
    entries = result.tally.accounts.heaviest(15)
    if not entries:
        return "<p class='note'>No account was stopped by a pattern or escalation rule.</p>"
    rows = [
        f"<tr><td>{escape(entry.account[:60])}</td><td class='n'>{entry.stopped:,}</td>"
        f"<td class='n'>{entry.would_stop:,}</td><td>{escape(_top_rules(entry.rules))}</td>"
        f"<td>{escape(entry.label or '')}</td><td>{_clock(entry.first)}</td><td>{_clock(entry.last)}</td></tr>"
        for entry in entries
    ]
    return (
        "<table><tr><th>account</th><th>stopped</th><th>would stop</th><th>rules</th><th>truth</th>"
        "<th>first stop</th><th>last stop</th></tr>" + "".join(rows) + "</table>"
    )


def _top_rules(rules: Counter[str]) -> str:
    return ", ".join(rule for rule, _ in rules.most_common(3))


def _groups(groups: dict[str, Any]) -> str:
    rows = []
    for metrics in sorted(groups.values(), key=lambda item: (not item.campaign, item.scenario)):
        share = f"leak {metrics.leak:.2%}" if metrics.campaign else f"FP {metrics.false_positive_rate:.3%}"
        rows.append(
            f"<tr><td>{escape(metrics.scenario)}</td><td class='n'>{metrics.requests:,}</td>"
            f"<td class='n'>{metrics.allowed:,}</td><td class='n'>{metrics.pattern_stopped:,}</td>"
            f"<td class='n'>{metrics.own_limit:,}</td><td class='n'>{share}</td>"
            f"<td class='n'>{metrics.baseline_leak:.2%}</td></tr>"
        )
    return (
        "<table><tr><th>group</th><th>requests</th><th>served</th><th>stopped (pattern)</th>"
        "<th>stopped (own limit)</th><th>leak / false positives</th><th>baseline served</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _bad_lines(result: Replayed) -> str:
    rows = "".join(
        f"<tr><td>{escape(source)}</td><td class='n'>{line}</td><td class='text'>{escape(reason)}</td></tr>"
        for source, line, reason in result.bad.samples
    )
    more = result.bad.count - len(result.bad.samples)
    return (
        f"<p>{result.bad.count:,} lines skipped{f'; the first {len(result.bad.samples)} shown' if more else ''}.</p>"
        f"<table><tr><th>file</th><th>line</th><th>reason</th></tr>{rows}</table>"
    )


def _clock(moment: float | None) -> str:
    return "-" if moment is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(moment))


def _tick_clock(moment: float) -> str:
    return time.strftime("%H:%M", time.gmtime(moment))


def _short(label: str, limit: int = 90) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0%}"


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0
