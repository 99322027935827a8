"""The ``patternlimit`` command. ``patternlimit simulate`` is the main job: campaign and legitimate traffic,
measured side by side through patternlimit and through plain per-account limits. ``patternlimit replay`` decides
logged traffic (JSON Lines, CSV, access logs) on its own clock and reports what each rule did (see
:mod:`patternlimit.replay`). ``patternlimit warm`` compiles every kernel into numba's cache (about 30 s of CPU,
once per installation): run it where the image or virtualenv is built, so that no serving process pays it on its
first request."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from patternlimit.errors import ConfigurationError


def main(argv: Sequence[str] | None = None) -> int:
    # Scenario names belong to the simulator; nothing outside patternlimit/sim knows them.
    from patternlimit.sim.scenarios import SCENARIOS

    parser = argparse.ArgumentParser(prog="patternlimit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    simulate = commands.add_parser(
        "simulate",
        help="run campaign and legitimate traffic through patternlimit and a per-account baseline",
        description="Generate seeded traffic, decide every request, and print per-scenario figures.",
    )
    simulate.add_argument("--seed", type=int, default=7, help="traffic seed (default 7)")
    simulate.add_argument("--scale", type=float, default=1.0, help="traffic volume multiplier (default 1.0)")
    simulate.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    simulate.add_argument(
        "--scenario", action="append", choices=SCENARIOS, help="run only these scenarios (repeatable)"
    )
    simulate.add_argument("--policy", help="a policy file or preset name (default: distillation-defense)")
    simulate.add_argument("--json", type=Path, help="write the metrics as JSON to this file")
    simulate.add_argument("--plot", type=Path, help='draw allowed vs stopped over time (needs "patternlimit[plot]")')
    simulate.add_argument(
        "--write-jsonl", type=Path, metavar="FILE", help="write the traffic, with its labels, for patternlimit replay"
    )
    from patternlimit.replay.command import DESCRIPTION, add_arguments

    add_arguments(
        commands.add_parser("replay", help="decide logged traffic on its own clock and report", description=DESCRIPTION)
    )
    commands.add_parser(
        "warm",
        help="compile every kernel into numba's cache (run once where the image or virtualenv is built)",
        description="Compile and cache the kernels a limiter uses, so that no serving process compiles them.",
    )
    arguments = parser.parse_args(argv)
    if arguments.command == "warm":
        return _warm()
    try:
        if arguments.command == "replay":
            from patternlimit.replay.command import run

            return run(arguments)
        return _simulate(arguments)
    except ConfigurationError as exc:
        print(f"patternlimit: {exc}", file=sys.stderr)
        return 2


def _simulate(arguments: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from patternlimit.sim.evaluate import evaluate
    from patternlimit.sim.report import plot, table
    from patternlimit.sim.scenarios import generate

    if not (0 < arguments.scale <= 100 and 0 < arguments.hours <= 24 * 60):
        raise ConfigurationError("--scale must be in (0, 100] and --hours in (0, 1440]")
    console = Console(stderr=True)
    with console.status("generating traffic"):
        stream = generate(
            arguments.seed, scale=arguments.scale, duration_hours=arguments.hours, scenarios=arguments.scenario
        )
    columns = (TextColumn("deciding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("decide", total=len(stream))
        result = evaluate(stream, policy=arguments.policy, progress=lambda done: progress.advance(task, done))
    # A pipe or CI log has no width: give the table room instead of rich's 80-column default.
    output = Console() if sys.stdout.isatty() else Console(width=170)
    output.print(table(result, seed=arguments.seed, scale=arguments.scale, hours=arguments.hours))
    if arguments.json:
        document = {"seed": arguments.seed, "scale": arguments.scale, "hours": arguments.hours, **result.as_dict()}
        arguments.json.write_text(json.dumps(document, indent=2))
    if arguments.plot:
        plot(result, arguments.plot)
    if arguments.write_jsonl:
        from patternlimit.replay.writing import write_labelled

        write_labelled(stream, arguments.write_jsonl)
    return 0


def _warm() -> int:
    """One pass through every path that runs a kernel: check, check_many, the heavy hitters and the labels."""
    import time

    from patternlimit.engine import Limiter
    from patternlimit.request import Request

    started = time.process_time()
    limiter = Limiter(secret=b"patternlimit warm: compiles the kernels, serves nothing")
    text = "Write a Python function that parses `config.yaml`:\n\n```python\ndef parse(path):\n    ...\n```\n"
    request = Request(account="warm", ip="192.0.2.1", text=text * 4, route="/warm", client="warm")
    limiter.check(request, now=1_000_000_000.0)
    limiter.check_many([request, Request(ip="2001:db8::1", text=b"\xff bytes")], now=1_000_000_001.0)
    limiter.top_patterns(n=1)
    limiter.close()
    spent = time.process_time() - started
    print(f"patternlimit: kernels compiled or loaded from numba's cache in {spent:.1f} s of CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
