"""Replay throughput and peak memory against file size, for JSON Lines and access logs with ~1 KB prompts.

Usage: ``python -m benchmarks.replay [--format jsonl|combined] [--size 100MB] [--size 1GB] [--stage read|replay]``.
Each size's log is generated once into ``/tmp/patternlimit-bench/`` (prompts of about 1 KB drawn from a small
vocabulary, from 5,000 established accounts over 24 hours; the access log carries the account's creation time in
a second extra field, as the JSON Lines do), then every (size, stage) is measured in a fresh worker process, so
that its peak RSS (``VmHWM``) is its own:

* ``read``: the reader alone (open, decompress, parse, type-check, build each ``Request``), no decisions;
* ``replay``: end to end, what ``patternlimit replay`` does without a report: ``check_many`` in chunks, the
  baseline and the tally. The figure reports the decision time apart from the rest.

Prints one line per measurement: requests, wall seconds, requests per wall second and per CPU second of the worker
(on a shared machine the second is the steadier figure: one process, one core), and peak RSS. The replay stage also
gives the time spent in ``check_many`` alone, as decisions per second.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patternlimit.replay.records import BadLines

FOLDER = Path("/tmp/patternlimit-bench")
START = 1_767_225_600.0
VOCABULARY = (
    "function parse config file error retry network timeout cache user session token model prompt answer list "
    "value index table query server client request response stream buffer async thread lock queue event handler "
    "python rust java go typescript docker kubernetes database schema migration test coverage benchmark latency"
)
WORDS = tuple(VOCABULARY.split())
UNITS = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return _worker(Path(argv[1]), argv[2], argv[3])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", choices=("jsonl", "combined"), action="append")
    parser.add_argument("--size", action="append", help="file size such as 100MB or 1GB (repeatable)")
    parser.add_argument("--stage", choices=("read", "replay"), action="append")
    arguments = parser.parse_args(argv)
    sizes = [_bytes(size) for size in arguments.size or ["100MB"]]
    for kind in arguments.format or ["jsonl", "combined"]:
        for size in sizes:
            path = _generate(kind, size)
            for stage in arguments.stage or ["read", "replay"]:
                result = subprocess.run(
                    [sys.executable, "-m", "benchmarks.replay", "--worker", str(path), kind, stage],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if result.returncode:
                    raise SystemExit(f"{kind} {stage} worker failed:\n{result.stderr.strip()}")
                figures = json.loads(result.stdout.splitlines()[-1])
                extra = (
                    f", of which check_many {figures['decide_cpu_seconds'] / figures['cpu_seconds']:.0%} of the CPU "
                    f"({figures['requests'] / figures['decide_cpu_seconds']:,.0f} decisions per CPU second)"
                    if "decide_seconds" in figures
                    else ""
                )
                print(
                    f"{kind:8} {path.stat().st_size / 2**20:7.0f} MiB {stage:6}: {figures['requests']:,} requests in "
                    f"{figures['seconds']:.1f} s = {figures['requests'] / figures['seconds']:,.0f} requests/s "
                    f"({figures['requests'] / figures['cpu_seconds']:,.0f} per CPU second){extra}; "
                    f"peak RSS {figures['peak_rss'] / 2**20:.0f} MiB",
                    flush=True,
                )
    return 0


def _worker(path: Path, kind: str, stage: str) -> int:
    from patternlimit.replay.columns import parse_columns
    from patternlimit.replay.records import BadLines
    from patternlimit.replay.runner import peak_rss, replay
    from patternlimit.replay.sources import Reading, Sources

    reading = Reading(columns=parse_columns("text=extra1,account_created_at=extra2") if kind == "combined" else {})
    if stage == "read":
        started, cpu = time.perf_counter(), time.process_time()
        bad = BadLines()
        count = sum(1 for _ in Sources([path], reading, bad))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        _no_bad_lines(bad)
        print(json.dumps({"requests": count, "seconds": seconds, "cpu_seconds": cpu, "peak_rss": peak_rss()}))
        return 0
    from patternlimit import Limiter, Request

    # Compile (or load) the kernels before the clock starts, as a serving process has.
    Limiter(secret=b"benchmark warm-up secret, 32 bytes").check_many([Request(text="warm up")] * 2, now=START)
    cpu = time.process_time()
    result = replay([path], secret=b"benchmark secret of thirty-two bytes", reading=reading)
    cpu = time.process_time() - cpu
    _no_bad_lines(result.bad)
    print(
        json.dumps(
            {
                "requests": result.requests,
                "seconds": result.seconds,
                "cpu_seconds": cpu,
                "decide_seconds": result.decide_seconds,
                "decide_cpu_seconds": result.decide_cpu_seconds,
                "peak_rss": peak_rss(),
            }
        )
    )
    return 0


def _no_bad_lines(bad: BadLines) -> None:
    """A benchmark of lines the reader refuses measures nothing: stop, naming the first."""
    if bad.count:
        raise SystemExit(f"{bad.count:,} bad lines, the first: {bad.samples[0]}")


def _generate(kind: str, size: int) -> Path:
    FOLDER.mkdir(exist_ok=True)
    path = FOLDER / f"traffic-{size >> 20}MiB.{'jsonl' if kind == 'jsonl' else 'v3.log'}"
    if path.exists() and path.stat().st_size >= size:
        return path
    rng = random.Random(size)
    written, index = 0, 0
    rate = 24 * 3600 / max(1, size // 1200)  # spread the lines over a day
    with path.open("w", encoding="utf-8") as out:
        while written < size:
            account = f"acct-{rng.randrange(5000)}"
            ip = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            text = " ".join(rng.choice(WORDS) for _ in range(140))[:1000]
            moment = START + index * rate
            if kind == "jsonl":
                line = json.dumps(
                    {
                        "timestamp": round(moment, 3),
                        "account": account,
                        "ip": ip,
                        "text": text,
                        "route": "/v1/messages",
                        "client": "python-httpx/0.27",
                        "account_created_at": START - 400 * 86400,
                    }
                )
            else:
                clock = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(moment))
                line = (
                    f'{ip} - {account} [{clock}] "POST /v1/messages HTTP/1.1" 200 512 "-" "python-httpx/0.27" "{text}" '
                    f"{START - 400 * 86400:.0f}"
                )
            out.write(line + "\n")
            written += len(line) + 1
            index += 1
    return path


def _bytes(text: str) -> int:
    text = text.strip().upper()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
