"""JSON Lines: one object a line, with the :class:`~patternlimit.Request` fields and ``timestamp`` (epoch seconds).

``label`` (``"legitimate"``/``"campaign"`` and the synonyms of :func:`~patternlimit.replay.records.normalise_label`)
and ``scenario`` are ground truth, read beside the request and never given to the limiter. Other fields (a status,
a latency) are ignored. With msgspec installed (``patternlimit[replay]``) each line is decoded and type-checked in
one C call; without it the standard library's ``json`` does the same checks, about half as fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from patternlimit.replay.records import BadLines, LineError, Record, check_cost, check_time, normalise_label
from patternlimit.request import Request

_STRING_FIELDS = ("ip", "text", "route", "client")


def read_jsonl(stream: BinaryIO, source: str, bad: BadLines, *, fast: bool = True) -> Iterator[Record]:
    """The records of ``stream``, in file order; lines that do not parse or type-check go to ``bad``."""
    parse = _msgspec_parser() if fast else None
    if parse is None:
        parse = _parse_stdlib
    for number, line in enumerate(stream, 1):
        if line.isspace() or not line:
            continue
        try:
            record = parse(line)
        except LineError as exc:
            bad.add(source, number, str(exc))
            continue
        except ValueError as exc:  # msgspec.DecodeError and ValidationError, json.JSONDecodeError
            bad.add(source, number, f"not a valid request object: {exc}")
            continue
        record.line = number
        record.source = source
        yield record


def _msgspec_parser() -> Any:
    try:
        import msgspec
    except ImportError:
        return None

    class Line(msgspec.Struct):
        timestamp: float
        account: str | None = None
        ip: str = ""
        text: str = ""
        route: str = ""
        client: str = ""
        account_created_at: float | None = None
        cost: int = 1
        attributes: dict[str, str] = {}
        label: str | bool | None = None
        scenario: str | None = None

    decode = msgspec.json.Decoder(Line).decode

    def parse(line: bytes) -> Record:
        item = decode(line)
        request = Request(
            item.account,
            item.ip,
            item.text,
            item.route,
            item.client,
            item.account_created_at,
            check_cost(item.cost),
            item.attributes,
        )
        return Record(check_time(item.timestamp), request, normalise_label(item.label), item.scenario)

    return parse


def _parse_stdlib(line: bytes) -> Record:
    item = json.loads(line)
    if not isinstance(item, dict):
        raise LineError(f"expected a JSON object, got {type(item).__name__}")
    timestamp: Any = item.get("timestamp")
    if not _is_number(timestamp):
        raise LineError(f"timestamp must be a number (epoch seconds), got {timestamp!r}"[:200])
    account = item.get("account")
    if account is not None and not isinstance(account, str):
        raise LineError(f"account must be a string or null, got {type(account).__name__}")
    for name in _STRING_FIELDS:
        if not isinstance(item.get(name, ""), str):
            raise LineError(f"{name} must be a string, got {type(item[name]).__name__}")
    created = item.get("account_created_at")
    if created is not None and not _is_number(created):
        raise LineError(f"account_created_at must be a number or null, got {type(created).__name__}")
    cost = item.get("cost", 1)
    if type(cost) is not int:
        raise LineError(f"cost must be an integer, got {type(cost).__name__}")
    attributes = item.get("attributes", {})
    if not isinstance(attributes, dict) or not all(isinstance(value, str) for value in attributes.values()):
        raise LineError("attributes must be an object of strings")
    label, scenario = item.get("label"), item.get("scenario")
    if not (label is None or isinstance(label, str | bool)):
        raise LineError(f"label must be a string, a boolean or null, got {type(label).__name__}")
    if not (scenario is None or isinstance(scenario, str)):
        raise LineError(f"scenario must be a string or null, got {type(scenario).__name__}")
    request = Request(
        account,
        item.get("ip", ""),
        item.get("text", ""),
        item.get("route", ""),
        item.get("client", ""),
        None if created is None else float(created),
        check_cost(cost),
        attributes,
    )
    return Record(check_time(float(timestamp)), request, normalise_label(label), scenario)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
