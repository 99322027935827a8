"""CSV logs: a header row, then one request a row, fields named by the header or mapped with ``--columns``.

A column named like a request field (``timestamp``, ``account``, ``text``...) is read as that field without a
mapping; ``--columns text=prompt,account=user_id`` maps the others. Rows are decoded as UTF-8 (undecodable bytes
replaced), so one bad byte costs one character, not the run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from patternlimit.replay.columns import row_builder, shape_of
from patternlimit.replay.records import BadLines, LineError, Record

MAX_FIELD_CHARS = 16 * 1024 * 1024
"""csv's default field limit (128 KiB) is below the prompts a log can hold; the fingerprint reads at most
``fingerprint.max_bytes`` of them anyway."""


def read_csv(
    stream: BinaryIO, source: str, bad: BadLines, mapping: Mapping[str, str], *, delimiter: str = ","
) -> Iterator[Record]:
    """The records of a CSV ``stream`` with a header row, in file order; bad rows go to ``bad``."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    rows = csv.reader(text, delimiter=delimiter)
    try:
        header = next(rows)
    except StopIteration:
        return
    except csv.Error as exc:
        bad.add(source, rows.line_num, f"unreadable header row: {exc}")
        return
    build = row_builder(shape_of([name.strip() for name in header], mapping, {}))
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            bad.add(source, rows.line_num, f"not a valid CSV row: {exc}")
            continue
        if not row:
            continue
        try:
            record = build(row)
        except LineError as exc:
            bad.add(source, rows.line_num, str(exc))
            continue
        record.line = rows.line_num
        record.source = source
        yield record
