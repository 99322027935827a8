"""Writing requests as JSON Lines, the format :mod:`~patternlimit.replay.jsonl` reads: ``simulate --write-jsonl``
writes its stream with this, so that ``simulate`` and ``replay`` decide one stream.

The ground truth goes in fields of its own, ``label`` (``campaign`` or ``legitimate``) and ``scenario``, which the
replay reads for scoring and never gives to the limiter. ``.gz`` and ``.zst`` paths are compressed.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from patternlimit.errors import ConfigurationError
from patternlimit.replay.records import CAMPAIGN, LEGITIMATE
from patternlimit.request import Request
from patternlimit.sim.labels import Labelled


def request_object(time: float, request: Request) -> dict[str, Any]:
    """The JSON object of one request: ``timestamp`` and the non-default :class:`~patternlimit.Request` fields."""
    text = request.text
    item: dict[str, Any] = {
        "timestamp": time,
        "account": request.account,
        "ip": request.ip,
        "text": text.decode("utf-8", "replace") if isinstance(text, bytes) else text,
        "route": request.route,
        "client": request.client,
        "account_created_at": request.account_created_at,
    }
    if request.cost != 1:
        item["cost"] = request.cost
    if request.attributes:
        item["attributes"] = dict(request.attributes)
    return item


def write_labelled(stream: Iterable[Labelled], path: Path) -> int:
    """Write a simulator stream to ``path``; returns the number of lines."""
    lines = 0
    with open_output(path) as out:
        for item in stream:
            document = request_object(item.time, item.request)
            document["label"] = CAMPAIGN if item.campaign else LEGITIMATE
            document["scenario"] = item.scenario
            out.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
            out.write(b"\n")
            lines += 1
    return lines


def open_output(path: Path) -> BinaryIO:
    """A binary file for writing, compressed by the path's extension (``.gz``, ``.zst``)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".gz":
            return gzip.open(path, "wb", compresslevel=6)  # type: ignore[return-value]
        if suffix in {".zst", ".zstd"}:
            try:
                import zstandard
            except ImportError as exc:
                raise ConfigurationError(
                    f'writing {str(path)!r} needs zstandard: pip install "patternlimit[replay]"'
                ) from exc
            return zstandard.ZstdCompressor(level=3).stream_writer(open(path, "wb"), closefd=True)
        return io.BufferedWriter(open(path, "wb", buffering=0), 1 << 20)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
