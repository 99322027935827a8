"""The replay's readers on 2,000 lines with ~1 KB prompts: JSON Lines (msgspec and the standard library) and an
access log. Decisions are measured in ``test_limiter.py``; end-to-end figures and peak RSS against file size come
from ``python -m benchmarks.replay`` (see docs/replay.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.replay import VOCABULARY
from patternlimit.replay.columns import parse_columns
from patternlimit.replay.records import BadLines
from patternlimit.replay.sources import Reading, Sources

LINES = 2000
WORDS = VOCABULARY.split()


def _prompt(index: int) -> str:
    return " ".join(WORDS[(index * 7 + position) % len(WORDS)] for position in range(140))[:1000]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("replay-bench")
    jsonl, combined = folder / "traffic.jsonl", folder / "access.log"
    with jsonl.open("w") as out:
        for index in range(LINES):
            out.write(
                f'{{"timestamp": {1_767_225_600 + index}, "account": "acct-{index % 500}", '
                f'"ip": "192.0.2.{index % 250}", '
                f'"text": "{_prompt(index)}", "route": "/v1/messages", "client": "python-httpx/0.27"}}\n'
            )
    with combined.open("w") as out:
        for index in range(LINES):
            clock = f"01/Jan/2026:00:{index // 60 % 60:02d}:{index % 60:02d} +0000"
            out.write(
                f"192.0.2.{index % 250} - acct-{index % 500} [{clock}] "
                f'"POST /v1/messages HTTP/1.1" 200 512 "-" "python-httpx/0.27" "{_prompt(index)}"\n'
            )
    return {"jsonl": jsonl, "combined": combined}


def _read(path: Path, reading: Reading) -> int:
    bad = BadLines()
    count = sum(1 for _ in Sources([path], reading, bad))
    assert bad.count == 0
    return count


@pytest.mark.parametrize("fast", [True, False], ids=["msgspec", "stdlib-json"])
def test_read_jsonl(benchmark, logs: dict[str, Path], fast: bool) -> None:  # type: ignore[no-untyped-def]
    assert benchmark(_read, logs["jsonl"], Reading(fast_json=fast)) == LINES


def test_read_combined(benchmark, logs: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    reading = Reading(columns=parse_columns("text=extra1"))
    assert benchmark(_read, logs["combined"], reading) == LINES
