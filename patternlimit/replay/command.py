"""``patternlimit replay``: its arguments, and the run behind them (the CLI only adds the subcommand)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from patternlimit.errors import ConfigurationError

DESCRIPTION = (
    "Decide every request of one or more logs (JSON Lines, CSV or nginx/Apache access logs; gzip or zstd) on the "
    "logs' own clock, as the serving limiter with the same secret and policy would, and report what each rule did."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", type=Path, metavar="LOG", help="log files, merged by timestamp")
    parser.add_argument("--policy", help="a policy file or preset name (default: distillation-defense)")
    parser.add_argument(
        "--format", choices=("auto", "jsonl", "csv", "combined"), default="auto", help="default: by extension"
    )
    parser.add_argument("--columns", help="field=column,... mapping for CSV columns or access-log fields")
    parser.add_argument("--body-field", type=int, metavar="N", help="access logs: the prompt is extra field N")
    parser.add_argument("--log-regex", help="access logs in another format: a regex whose named groups are columns")
    parser.add_argument("--delimiter", default=",", help="CSV delimiter (default ','; .tsv files use tab)")
    parser.add_argument(
        "--max-skew",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="skip (as bad lines) requests this far behind the latest timestamp (default 300)",
    )
    parser.add_argument("--secret-file", type=Path, help="the serving secret (default: $PATTERNLIMIT_SECRET)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the figures as JSON")
    parser.add_argument("--report", type=Path, metavar="OUT.html", help="write a self-contained HTML report")
    parser.add_argument("--legit-accounts", type=Path, metavar="FILE", help="known-good accounts, one a line")
    parser.add_argument(
        "--fp-budget", type=float, default=0.001, help="false-positive budget for suggestions (default 0.001)"
    )
    parser.add_argument(
        "--suggest-policy", type=Path, metavar="OUT", help="write suggested thresholds as a policy (.json/.yaml)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(arguments: argparse.Namespace) -> int:
    from rich.console import Console

    from patternlimit.policy.loading import load_policy
    from patternlimit.replay.columns import parse_columns
    from patternlimit.replay.runner import replay, secret_from
    from patternlimit.replay.sources import Reading
    from patternlimit.replay.summary import document, render

    columns = parse_columns(arguments.columns)
    if arguments.body_field is not None:
        if arguments.body_field < 1:
            raise ConfigurationError(f"--body-field counts from 1 (extra1), got {arguments.body_field}")
        columns.setdefault("text", f"extra{arguments.body_field}")
    if not 0.0 <= arguments.fp_budget < 1.0:
        raise ConfigurationError(f"--fp-budget must be in [0, 1), got {arguments.fp_budget}")
    if arguments.max_skew < 0:
        raise ConfigurationError(f"--max-skew must be >= 0 seconds, got {arguments.max_skew}")
    reading = Reading(
        format=arguments.format,
        columns=columns,
        delimiter=arguments.delimiter,
        log_regex=arguments.log_regex,
        max_skew=arguments.max_skew,
    )
    policy = load_policy(arguments.policy)
    secret = secret_from(arguments.secret_file)
    errors = Console(stderr=True)
    if secret is None:
        errors.print(
            "patternlimit replay: no secret (--secret-file or PATTERNLIMIT_SECRET): a random one is used, so "
            "decisions match the serving limiter's only statistically",
            style="yellow",
        )
    legit = _accounts(arguments.legit_accounts) if arguments.legit_accounts else None
    wants_probe = bool(arguments.report or arguments.suggest_policy or legit is not None)
    probe = None
    if wants_probe:
        from patternlimit.replay.probe import Probe

        probe = Probe(policy, secret, legit_accounts=legit)
    result = _with_progress(
        errors,
        not arguments.quiet and sys.stderr.isatty(),
        lambda progress: replay(
            arguments.logs,
            policy=policy,
            secret=secret,
            reading=reading,
            observers=[probe] if probe is not None else [],
            progress=progress,
        ),
    )
    output = Console() if sys.stdout.isatty() else Console(width=170)
    output.print(render(result))
    summary: dict[str, Any] = document(result)
    # Suggestions replay the logs again (to measure them): only when asked for.
    if probe is not None and (arguments.suggest_policy or legit is not None):
        from patternlimit.replay.suggest import suggest, suggestion_text, write_policy

        suggestion = suggest(
            probe,
            arguments.logs,
            policy=policy,
            secret=secret,
            reading=reading,
            budget=arguments.fp_budget,
        )
        output.print(suggestion_text(suggestion))
        summary["suggestion"] = suggestion.as_dict()
        if arguments.suggest_policy and suggestion.policy is not None:
            write_policy(suggestion.policy, arguments.suggest_policy)
    if arguments.report and probe is not None:
        from patternlimit.replay.html import write_report

        write_report(arguments.report, result, probe, summary.get("suggestion"))
    if arguments.json:
        arguments.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0


def _accounts(path: Path) -> frozenset[str]:
    try:
        with path.open(encoding="utf-8") as lines:
            return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    except OSError as exc:
        raise ConfigurationError(f"--legit-accounts {str(path)!r}: {exc.strerror or exc}") from exc


def _with_progress(console: Any, shown: bool, work: Any) -> Any:
    """Run ``work(progress)`` with a bar over the bytes read (off when stderr is not a terminal)."""
    if not shown:
        return work(None)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("replaying"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[requests]:,} requests"))
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("replay", total=None, requests=0)

        def progress(consumed: int, total: int, requests: int) -> None:
            bar.update(task, completed=consumed, total=total or None, requests=requests)

        return work(progress)
