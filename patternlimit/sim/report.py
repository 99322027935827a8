"""How an evaluation is shown: a rich table for people, a plot for the operator's eyes."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from patternlimit.errors import ConfigurationError
from patternlimit.sim.evaluate import Evaluation


def table(result: Evaluation, *, seed: int, scale: float, hours: float) -> Table:
    """One row per scenario: what patternlimit served and stopped, next to the per-account baseline."""
    title = (
        f"patternlimit simulate: seed {seed}, scale {scale:g}, {hours:g} simulated hours, "
        f"{result.requests:,} requests, {result.decisions_per_second:,.0f} decisions/s, "
        f"limiter state {result.limiter_bytes / 2**20:.1f} MiB, "
        f"peak RSS {result.peak_rss_bytes / 2**20:.0f} MiB"
    )
    view = Table(title=title, title_justify="left")
    for header in ("scenario", "requests", "served", "logged", "stopped (pattern)", "stopped (own limit)"):
        view.add_column(header, justify="right" if header != "scenario" else "left")
    view.add_column("campaign leak / false positives", justify="right")
    view.add_column(f"baseline {result.baseline_rate}/account", justify="right")
    view.add_column("first stop after", justify="right")
    for metrics in sorted(result.scenarios.values(), key=lambda item: (not item.campaign, item.scenario)):
        share = f"leak {metrics.leak:.2%}" if metrics.campaign else f"FP {metrics.false_positive_rate:.3%}"
        baseline = f"leak {metrics.baseline_leak:.2%}" if metrics.campaign else f"served {metrics.baseline_leak:.2%}"
        delay = metrics.time_to_first_stop
        view.add_row(
            metrics.scenario,
            f"{metrics.requests:,}",
            f"{metrics.allowed:,}",
            f"{metrics.logged:,}",
            f"{metrics.pattern_stopped:,}",
            f"{metrics.own_limit:,}",
            share,
            baseline,
            "-" if delay is None else f"{delay / 60:.1f} min",
        )
    return view


def plot(result: Evaluation, path: Path) -> None:
    """Allowed vs stopped requests per simulated hour, one panel per scenario (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as pyplot
    except ImportError as exc:
        raise ConfigurationError('--plot needs matplotlib: pip install "patternlimit[plot]"') from exc
    scenarios = sorted(result.scenarios.values(), key=lambda item: (not item.campaign, item.scenario))
    figure, axes = pyplot.subplots(len(scenarios), 1, figsize=(10, 2.2 * len(scenarios)), sharex=True, squeeze=False)
    start = min(min(metrics.timeline) for metrics in scenarios if metrics.timeline)
    for axis, metrics in zip(axes[:, 0], scenarios, strict=True):
        hours = sorted(metrics.timeline)
        offsets = [hour - start for hour in hours]
        axis.bar(offsets, [metrics.timeline[hour][0] for hour in hours], color="#4c9f70", label="served")
        axis.bar(
            offsets,
            [metrics.timeline[hour][1] for hour in hours],
            bottom=[metrics.timeline[hour][0] for hour in hours],
            color="#d1495b",
            label="stopped",
        )
        axis.set_title(metrics.scenario, loc="left", fontsize=10)
        axis.set_ylabel("requests/h")
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("simulated hour")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
