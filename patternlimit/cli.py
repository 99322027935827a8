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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from patternlimit.errors import ConfigurationError

DESCRIPTION = (
    "Context-aware rate limiting for LLM APIs. 'patternlimit simulate' runs campaign and legitimate traffic "
    "through patternlimit and through plain per-account limits, side by side; 'patternlimit check-policy FILE' "
    "validates a policy file; 'patternlimit top --storage redis://...' prints the heaviest patterns of a running "
    "limiter; 'patternlimit warm' compiles the kernels into numba's cache."
)
"""``--help``'s text: plain words (the module docstring is reST for the docs)."""


def main(argv: Sequence[str] | None = None) -> int:
    # Scenario names belong to the simulator; nothing outside patternlimit/sim knows them.
    from patternlimit.sim.scenarios import ALL_SCENARIOS

    parser = argparse.ArgumentParser(prog="patternlimit", description=DESCRIPTION)
    _add_version(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_check_policy(commands)
    simulate = commands.add_parser(
        "simulate",
        help="run campaign and legitimate traffic through patternlimit and a per-account baseline",
        description="Generate seeded traffic, decide every request, and print per-scenario figures.",
    )
    simulate.add_argument("--seed", type=int, default=7, help="traffic seed (default 7)")
    simulate.add_argument("--scale", type=float, default=1.0, help="traffic volume multiplier (default 1.0)")
    simulate.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    simulate.add_argument(
        "--scenario", action="append", choices=ALL_SCENARIOS, help="run only these scenarios (repeatable)"
    )
    simulate.add_argument(
        "--legit-scale", type=float, default=1.0, help="legitimate volume multiplier, apart from the campaigns"
    )
    simulate.add_argument(
        "--warmup-hours", type=float, default=0.0, help="established customers' history decided before the run"
    )
    simulate.add_argument("--policy", help="a policy file or preset name (default: distillation-defense)")
    simulate.add_argument("--json", type=Path, help="write the metrics as JSON to this file")
    simulate.add_argument("--plot", type=Path, help='draw allowed vs stopped over time (needs "patternlimit[plot]")')
    simulate.add_argument(
        "--write-jsonl", type=Path, metavar="FILE", help="write the traffic, with its labels, for patternlimit replay"
    )
    from patternlimit.replay.command import DESCRIPTION as REPLAY_DESCRIPTION
    from patternlimit.replay.command import add_arguments

    add_arguments(
        commands.add_parser(
            "replay", help="decide logged traffic on its own clock and report", description=REPLAY_DESCRIPTION
        )
    )
    commands.add_parser(
        "warm",
        help="compile every kernel into numba's cache (run once where the image or virtualenv is built)",
        description="Compile and cache the kernels a limiter uses, so that no serving process compiles them.",
    )
    _add_serve(commands)
    from patternlimit import cli_top

    cli_top.add_arguments(
        commands.add_parser("top", help="print the heaviest patterns of a running limiter's shared storage",
                            description=cli_top.DESCRIPTION)
    )  # fmt: skip
    arguments = parser.parse_args(argv)
    if arguments.command == "warm":
        return _warm()
    if arguments.command == "check-policy":
        return _check_policy(arguments.file)
    try:
        if arguments.command == "serve":
            return _serve(arguments)
        if arguments.command == "top":
            return cli_top.run(arguments)
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
            arguments.seed,
            scale=arguments.scale,
            duration_hours=arguments.hours,
            scenarios=arguments.scenario,
            legit_scale=arguments.legit_scale,
            warmup_hours=arguments.warmup_hours,
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


def _add_version(parser: argparse.ArgumentParser) -> None:
    from patternlimit import __version__

    parser.add_argument("--version", action="version", version=f"patternlimit {__version__}")


def _add_check_policy(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check-policy",
        help="validate a policy file (.yaml, .yml, .toml or .json) and summarise it",
        description=(
            "Validate a policy file or preset name. Exit 0 with a one-line summary when it is valid; "
            "exit 2 with every field at fault, one per line, when it is not."
        ),
    )
    check.add_argument("file", help="a policy file or preset name")


def _check_policy(source: str) -> int:
    from pydantic import ValidationError

    from patternlimit.policy.loading import load_policy

    try:
        policy = load_policy(source)
    except ConfigurationError as exc:
        cause = exc.__cause__
        if isinstance(cause, ValidationError):
            problems = [_problem(error) for error in cause.errors()]
            noun = "problem" if len(problems) == 1 else "problems"
            print(f"patternlimit: {source}: {len(problems)} {noun}:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
        else:
            print(f"patternlimit: {exc}", file=sys.stderr)
        return 2
    kinds = [rule.type for rule in policy.rules]
    shadowed = sum(rule.shadow for rule in policy.rules)
    print(
        f"{source}: valid policy: {len(kinds)} rules ({kinds.count('limit')} limit, {kinds.count('pattern')} "
        f"pattern, {shadowed} shadowed); policy shadow mode {'on' if policy.shadow else 'off'}"
    )
    return 0


_PLAIN = {
    "union_tag_not_found": "needs a 'type': 'pattern' or 'limit'",
    "union_tag_invalid": "has an unknown 'type': use 'pattern' or 'limit'",
    "extra_forbidden": "is not a known field (check its spelling and its place)",
    "missing": "is required and missing",
}


def _problem(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``field: what is wrong`` in plain words."""
    location = [str(part) for part in error["loc"]]
    # pydantic puts the rule's tag after its index (rules.0.limit.limit): not a field the user wrote
    if len(location) > 3 and location[0] == "rules" and location[2] in {"pattern", "limit"}:
        del location[2]
    field = ".".join(location) or "(top level)"
    message = _PLAIN.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    if error["type"] not in _PLAIN and isinstance(got, str | int | float) and repr(got) not in message:
        message += f" (got {got!r})"
    return f"{field}: {message}"


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
    compiled, loaded, places = _kernel_cache()
    print(
        f"patternlimit: kernels compiled or loaded from numba's cache in {spent:.1f} s of CPU"
        f" ({compiled} compiled, {loaded} loaded); cache: {', '.join(places) or 'none'}"
    )
    return 0


def _kernel_cache() -> tuple[int, int, list[str]]:
    """How many kernel specialisations this process compiled and loaded from numba's cache, and where that cache
    is: beside the modules when their ``__pycache__`` is writable, else numba's per-user cache directory, or
    ``NUMBA_CACHE_DIR`` when it is set. A fresh process loads from there only."""
    compiled = loaded = 0
    places: set[str] = set()
    kernels = {
        id(kernel): kernel
        for name, module in list(sys.modules.items())
        if name.startswith("patternlimit._kernels")
        for kernel in vars(module).values()
        if getattr(kernel, "signatures", None)  # a dispatcher called from Python in this process
    }
    for kernel in kernels.values():
        stats = getattr(kernel, "stats", None)
        if stats is not None and hasattr(stats, "cache_hits"):
            compiled += len(stats.cache_misses)
            loaded += len(stats.cache_hits)
            if stats.cache_path:
                places.add(str(stats.cache_path))
    return compiled, loaded, sorted(places)


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the sidecar: HTTP JSON checks, nginx auth_request, metrics and admin (docs/sidecar.md)",
        description="Serve decisions to gateways and apps in any language over HTTP (needs patternlimit[sidecar]).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8111, help="port (default 8111)")
    serve.add_argument("--workers", type=int, default=1, help="processes (share state with --storage redis://)")
    serve.add_argument("--policy", help="a policy file or preset name (default: distillation-defense)")
    serve.add_argument("--storage", default="memory://", help="memory:// (default) or redis://host:port/db")
    serve.add_argument("--secret-file", help="file holding the deployment secret (else PATTERNLIMIT_SECRET)")
    serve.add_argument("--token-file", help="file holding the admin token (else PATTERNLIMIT_ADMIN_TOKEN)")
    serve.add_argument("--max-body", type=int, default=1 << 20, help="largest request body in bytes (default 1 MiB)")
    serve.add_argument("--grpc-port", type=int, help="also serve Envoy ext_authz and rate limit over gRPC on this port")
    serve.add_argument("--trusted-proxy", action="append", default=[], help="CIDR whose X-Forwarded-For is believed")
    serve.add_argument("--json-field", action="append", default=[], help="body JSON path to fingerprint (repeatable)")


def _serve(arguments: argparse.Namespace) -> int:
    from patternlimit.sidecar.serve import serve

    return serve(
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        policy=arguments.policy,
        storage=arguments.storage,
        secret_file=arguments.secret_file,
        token_file=arguments.token_file,
        max_body=arguments.max_body,
        grpc_port=arguments.grpc_port,
        trusted_proxies=arguments.trusted_proxy,
        json_fields=arguments.json_field,
    )


if __name__ == "__main__":
    raise SystemExit(main())
