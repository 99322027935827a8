"""The streaming runner: records in chunks through ``Limiter.check_many`` on the log's clock, and into the tally.

Memory does not grow with the log: records live for one chunk, the limiter's state is fixed at construction, and
every table the tally and the observers keep is bounded. The secret is the serving limiter's (``--secret-file`` or
``PATTERNLIMIT_SECRET``): with it, a replay of the requests a process saw decides them as that process did.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from patternlimit.engine import Limiter, TopPattern
from patternlimit.errors import ConfigurationError
from patternlimit.keying import MIN_SECRET_BYTES, SECRET_ENV
from patternlimit.policy.decision import Decision
from patternlimit.policy.loading import PolicySource, load_policy
from patternlimit.policy.models import LimitRule, Policy
from patternlimit.replay.baseline import Baseline
from patternlimit.replay.records import BadLines, Record
from patternlimit.replay.sources import Reading, Sources
from patternlimit.replay.tally import Tally

CHUNK = 2048
"""Records per ``check_many`` call: the limiter chunks further inside; this bounds what a chunk keeps alive."""

TOP_PATTERNS = 50


class Observer(Protocol):
    """Something that looks at every decided chunk besides the tally (the probe of the report and suggestions)."""

    def observe(self, records: Sequence[Record], decisions: Sequence[Decision]) -> None: ...


@dataclass(slots=True)
class Replayed:
    """The result of :func:`replay`."""

    tally: Tally
    bad: BadLines
    policy: Policy
    secret_id: str
    secret_given: bool
    baseline_rate: str
    seconds: float
    decide_seconds: float
    """Of :attr:`seconds`, the time spent in ``check_many`` (the rest is reading, parsing and counting)."""
    decide_cpu_seconds: float
    """The process's CPU time in ``check_many``: the steadier figure on a shared machine."""
    limiter_bytes: int
    peak_rss_bytes: int
    top_patterns: list[TopPattern] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return self.tally.requests


def secret_from(path: Path | None) -> bytes | None:
    """The secret in ``path`` (surrounding whitespace removed), else ``PATTERNLIMIT_SECRET``, else ``None``."""
    if path is not None:
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigurationError(f"--secret-file {str(path)!r}: {exc.strerror or exc}") from exc
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"--secret-file {str(path)!r} holds {len(secret)} bytes; a secret has at least {MIN_SECRET_BYTES}"
            )
        return secret
    value = os.environ.get(SECRET_ENV)
    return value.encode("utf-8") if value else None


def replay(
    paths: Sequence[Path],
    *,
    policy: PolicySource = None,
    secret: bytes | None = None,
    reading: Reading | None = None,
    chunk: int = CHUNK,
    observers: Sequence[Observer] = (),
    progress: Callable[[int, int, int], None] | None = None,
) -> Replayed:
    """Decide every request of ``paths`` with a fresh in-memory limiter; ``progress(bytes_read, total_bytes,
    requests)`` is called after each chunk."""
    loaded = load_policy(policy)
    bad = BadLines()
    sources = Sources(paths, reading or Reading(), bad)
    limiter = Limiter(loaded, secret=secret, clock="replay")  # a log's times are history, taken as given
    baseline = Baseline(loaded)
    tally = Tally(rule.name for rule in loaded.rules if isinstance(rule, LimitRule))
    started = time.perf_counter()
    deciding = deciding_cpu = 0.0
    records: list[Record] = []

    def flush() -> None:
        nonlocal deciding, deciding_cpu
        begun, begun_cpu = time.perf_counter(), time.process_time()
        decisions = _decide(limiter, records, bad)
        deciding += time.perf_counter() - begun
        deciding_cpu += time.process_time() - begun_cpu
        allows, add = baseline.allows, tally.add
        for record, decision in zip(records, decisions, strict=True):
            if decision is not None:
                add(record, decision, allows(record.request, record.time))
        if observers:
            kept = [(record, decision) for record, decision in zip(records, decisions, strict=True) if decision]
            for observer in observers:
                observer.observe([pair[0] for pair in kept], [pair[1] for pair in kept])
        records.clear()
        if progress is not None:
            progress(sources.consumed_bytes, sources.total_bytes, tally.requests)

    if progress is not None:
        progress(0, sources.total_bytes, 0)
    for record in sources:
        records.append(record)
        if len(records) >= chunk:
            flush()
    if records:
        flush()
    seconds = time.perf_counter() - started
    top = limiter.top_patterns(TOP_PATTERNS, now=sources.latest) if tally.requests else []
    limiter.close()
    return Replayed(
        tally=tally,
        bad=bad,
        policy=loaded,
        secret_id=limiter.secret_id,
        secret_given=secret is not None,
        baseline_rate=baseline.rate,
        seconds=seconds,
        decide_seconds=deciding,
        decide_cpu_seconds=deciding_cpu,
        limiter_bytes=limiter.nbytes,
        peak_rss_bytes=peak_rss(),
        top_patterns=top,
        paths=[str(path) for path in paths],
    )


def _decide(limiter: Limiter, records: list[Record], bad: BadLines) -> list[Decision | None]:
    """``check_many`` on the chunk; should the limiter refuse it (the readers check what it checks), each record
    is decided alone and the ones it refuses become bad lines."""
    try:
        return list(limiter.check_many([record.request for record in records], [record.time for record in records]))
    except (TypeError, ValueError):
        pass
    decisions: list[Decision | None] = []
    for record in records:
        try:
            decisions.append(limiter.check(record.request, now=record.time))
        except (TypeError, ValueError) as exc:
            bad.add(record.source, record.line, f"refused by the limiter: {exc}")
            decisions.append(None)
    return decisions


def peak_rss() -> int:
    """The process's peak resident memory (Linux ``VmHWM``), 0 where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0
