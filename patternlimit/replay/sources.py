"""From log paths to one time-ordered stream of records, in constant memory.

Each file is read in its own order; several files (rotated logs, one per server) are merged by timestamp, one
pending record per file. The replay clock is the latest timestamp seen. A record up to ``max_skew`` seconds behind
it (log lines are written when a request ends, workers interleave) is decided at its own time, as a serving
process would decide a request whose clock ran a little behind: the sketches' window never moves back and counts
it in its own bucket. A record further behind cannot be replayed faithfully (its window is gone): it is skipped
and reported as a bad line, never silently moved.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from patternlimit.errors import ConfigurationError
from patternlimit.replay.combined import read_combined
from patternlimit.replay.csvlog import read_csv
from patternlimit.replay.jsonl import read_jsonl
from patternlimit.replay.opening import CountingFile, file_size, open_log
from patternlimit.replay.records import BadLines, Record

Format = Literal["auto", "jsonl", "csv", "combined"]
FORMATS = ("auto", "jsonl", "csv", "combined")

_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "csv", ".log": "combined"}

DEFAULT_MAX_SKEW = 300.0


@dataclass(frozen=True, slots=True)
class Reading:
    """How to read the logs: the format and its options."""

    format: Format = "auto"
    columns: Mapping[str, str] = field(default_factory=dict)
    delimiter: str = ","
    log_regex: str | None = None
    max_skew: float = DEFAULT_MAX_SKEW
    fast_json: bool = True
    """Decode JSON Lines with msgspec when it is installed (the standard library otherwise)."""


class Sources:
    """The records of ``paths`` as one stream (see the module docstring), with the bytes read for progress."""

    def __init__(self, paths: Sequence[Path], reading: Reading, bad: BadLines) -> None:
        if not paths:
            raise ConfigurationError("no log given: name at least one file")
        for path in paths:
            if not path.is_file():
                raise ConfigurationError(f"log {str(path)!r} does not exist (or is not a file)")
        self.paths = list(paths)
        self.reading = reading
        self.bad = bad
        self.total_bytes = sum(file_size(path) for path in paths)
        self._counters: list[CountingFile] = []
        self._streams: list[BinaryIO] = []
        self.latest = -1.0

    @property
    def consumed_bytes(self) -> int:
        return sum(counter.consumed for counter in self._counters)

    def __iter__(self) -> Iterator[Record]:
        try:
            readers = [self._read(path) for path in self.paths]
            merged = readers[0] if len(readers) == 1 else heapq.merge(*readers, key=_time_of)
            max_skew, bad = self.reading.max_skew, self.bad
            latest = -1.0
            for record in merged:
                moment = record.time
                if moment >= latest:
                    latest = moment
                elif latest - moment > max_skew:
                    bad.add(
                        record.source,
                        record.line,
                        f"timestamp {moment:.3f} is {latest - moment:.0f} s before the latest "
                        f"({latest:.3f}), more than --max-skew {max_skew:g} s",
                    )
                    continue
                self.latest = latest
                yield record
        finally:
            for stream in self._streams:
                stream.close()

    def _read(self, path: Path) -> Iterator[Record]:
        stream, counter = open_log(path)
        self._streams.append(stream)
        self._counters.append(counter)
        reading, source = self.reading, str(path)
        kind = format_of(path, stream) if reading.format == "auto" else reading.format
        if kind == "jsonl":
            return read_jsonl(stream, source, self.bad, fast=reading.fast_json)
        if kind == "csv":
            delimiter = "\t" if reading.delimiter == "," and _stem_suffix(path) == ".tsv" else reading.delimiter
            return read_csv(stream, source, self.bad, reading.columns, delimiter=delimiter)
        return read_combined(stream, source, self.bad, reading.columns, pattern=reading.log_regex)


def format_of(path: Path, stream: BinaryIO) -> str:
    """The format of a log: from its extension (under ``.gz``/``.zst``), else from its first byte."""
    suffix = _stem_suffix(path)
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    peek = getattr(stream, "peek", None)
    head = peek(64)[:64].lstrip() if peek is not None else b""
    return "jsonl" if head.startswith(b"{") else "combined"


def _stem_suffix(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    while suffixes and suffixes[-1] in {".gz", ".zst", ".zstd"}:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _time_of(record: Record) -> float:
    return record.time
