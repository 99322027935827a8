"""Column mappings: which column of a CSV file or which field of a web server log fills which request field.

``--columns field=column,...`` names, for each of :data:`FIELDS` (``attributes.NAME`` for an attribute), the column
that holds it. Values are text; they are converted here: times are epoch seconds, ISO 8601 (``2025-01-31T12:00:00Z``;
no zone means UTC) or the web servers' ``10/Oct/2025:13:55:36 +0000``; ``cost`` is an integer; an empty ``account``
is anonymous.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from patternlimit.errors import ConfigurationError
from patternlimit.replay.records import LineError, Record, check_cost, check_time, normalise_label
from patternlimit.request import Request

FIELDS = (
    "timestamp",
    "account",
    "ip",
    "text",
    "route",
    "client",
    "account_created_at",
    "cost",
    "label",
    "scenario",
)
ATTRIBUTE_PREFIX = "attributes."

_MONTHS = {name: index for index, name in enumerate(calendar.month_abbr) if name}
_CLF_TIME = re.compile(r"(\d{1,2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\s+([+-])(\d{2})(\d{2}))?$")


def parse_columns(spec: str | None) -> dict[str, str]:
    """``"text=prompt,account=user_id"`` -> ``{"text": "prompt", "account": "user_id"}``, checked."""
    mapping: dict[str, str] = {}
    if not spec:
        return mapping
    for part in spec.split(","):
        name, equals, column = part.partition("=")
        name, column = name.strip(), column.strip()
        if not equals or not name or not column:
            raise ConfigurationError(f"--columns: expected field=column, got {part.strip()!r}")
        if name not in FIELDS and not (name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX)):
            raise ConfigurationError(
                f"--columns: unknown field {name!r}; valid: {', '.join(FIELDS)}, or attributes.NAME"
            )
        mapping[name] = column
    return mapping


class TimeParser:
    """Epoch seconds from text, remembering the last value: log lines of one second share their time string."""

    __slots__ = ("_last_text", "_last_value", "_minute_text", "_minute_value")

    def __init__(self) -> None:
        self._last_text = ""
        self._last_value = 0.0
        self._minute_text = ""
        self._minute_value = 0.0

    def __call__(self, text: str, name: str = "timestamp") -> float:
        if text == self._last_text:
            return self._last_value
        # A web server time (dd/Mon/yyyy:HH:MM:SS +zone) in the minute of the last one is that minute plus its
        # seconds: no regex, no calendar, on a log with fewer than one line a second as on a busy one.
        if len(text) == 26 and text[2] == "/" and text[17] == ":" and text[20] == " " and text[18:20].isdigit():
            minute = text[:17] + text[20:]
            if minute != self._minute_text:
                seconds = check_time(parse_time(text, name), name)
                self._minute_text, self._minute_value = minute, seconds - int(text[18:20])
                value = seconds
            else:
                value = self._minute_value + int(text[18:20])
        else:
            value = check_time(parse_time(text, name), name)
        self._last_text, self._last_value = text, value
        return value


def parse_time(text: str, name: str = "timestamp") -> float:
    """Epoch seconds from epoch seconds, ISO 8601 or the Common Log Format's time; :class:`LineError` otherwise."""
    text = text.strip()
    # Web server times first: a failed float() raises, and raising costs more than the match.
    match = _CLF_TIME.match(text) if "/" in text[:3] else None
    if match is None:
        try:
            return float(text)
        except ValueError:
            pass
    if match is not None:
        day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
        if month not in _MONTHS:
            raise LineError(f"{name}: unknown month {month!r} in {text!r}")
        epoch = calendar.timegm((int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second)))
        if sign:
            offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
            epoch += -offset if sign == "+" else offset
        return float(epoch)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise LineError(
            f"{name}: expected epoch seconds, ISO 8601 or dd/Mon/yyyy:HH:MM:SS +zone, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True, slots=True)
class RowShape:
    """Where each request field sits in a row of values (an index, or ``None`` when the log lacks it)."""

    indices: Mapping[str, int]
    attributes: Mapping[str, int]
    width: int
    """The fewest values a row must have: one more than the largest index used."""


def shape_of(columns: Sequence[str], mapping: Mapping[str, str], defaults: Mapping[str, str]) -> RowShape:
    """Resolve ``mapping`` (over ``defaults``, then fields named like a column) against the log's ``columns``."""
    position = {name: index for index, name in enumerate(columns)}
    chosen = {field: field for field in FIELDS if field in position}
    chosen.update({field: column for field, column in defaults.items() if column in position})
    for field, column in mapping.items():
        if column not in position:
            raise ConfigurationError(
                f"--columns {field}={column}: no column {column!r}; the log has {', '.join(columns)}"
            )
        chosen[field] = column
    if "timestamp" not in chosen:
        raise ConfigurationError(
            f"no timestamp column: name one with --columns timestamp=COLUMN (the log has {', '.join(columns)})"
        )
    indices = {field: position[column] for field, column in chosen.items() if not field.startswith(ATTRIBUTE_PREFIX)}
    attributes = {
        field[len(ATTRIBUTE_PREFIX) :]: position[column]
        for field, column in chosen.items()
        if field.startswith(ATTRIBUTE_PREFIX)
    }
    width = max([*indices.values(), *attributes.values()]) + 1
    return RowShape(indices, attributes, width)


def row_builder(shape: RowShape, *, dash_is_empty: bool = False) -> Callable[[Sequence[str]], Record]:
    """A function from a row of text values to a :class:`Record`; it raises :class:`LineError` on a bad value.

    ``dash_is_empty``: web server logs write ``-`` for an empty value."""
    indices = shape.indices
    timestamp_at = indices["timestamp"]
    account_at = indices.get("account")
    created_at = indices.get("account_created_at")
    cost_at = indices.get("cost")
    label_at = indices.get("label")
    scenario_at = indices.get("scenario")
    strings = tuple(indices.get(name) for name in ("ip", "text", "route", "client"))
    attributes = tuple(shape.attributes.items())
    width = shape.width
    times, created_times = TimeParser(), TimeParser()

    def value(row: Sequence[str], index: int | None) -> str:
        if index is None:
            return ""
        text = row[index]
        return "" if dash_is_empty and text == "-" else text

    def build(row: Sequence[str]) -> Record:
        if len(row) < width:
            raise LineError(f"expected at least {width} columns, got {len(row)}")
        account = value(row, account_at) or None
        created_text = value(row, created_at)
        created = created_times(created_text, "account_created_at") if created_text else None
        cost_text = value(row, cost_at)
        try:
            cost = int(cost_text) if cost_text else 1
        except ValueError:
            raise LineError(f"cost must be an integer, got {cost_text[:40]!r}") from None
        ip, text, route, client = (value(row, index) for index in strings)
        cost = check_cost(cost)
        if attributes:
            named = {name: row[index] for name, index in attributes}
            request = Request(account, ip, text, route, client, created, cost, named)
        else:
            request = Request(account, ip, text, route, client, created, cost)
        return Record(
            times(row[timestamp_at]),
            request,
            normalise_label(value(row, label_at)),
            value(row, scenario_at) or None,
        )

    return build
