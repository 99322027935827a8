"""Small logs for the replay tests: a fan-out campaign of young accounts beside established organic users."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC
SECRET = "replay tests: a fixed secret of enough bytes"

TOPICS = ("gardening", "sailing", "cooking", "chess", "astronomy", "knitting", "cycling", "baking", "poetry", "maps")


def traffic(seed: int = 1, *, campaign_accounts: int = 60, organic_accounts: int = 40) -> list[dict[str, Any]]:
    """About 400 requests over two hours, sorted by time.

    The campaign: ``campaign_accounts`` accounts created an hour before the start, each sending one template with a
    new filler three times from its own /24: the default preset's template fan-out (40 young accounts, most of the
    template's senders, new texts, spread networks) flags it, and persistence throttles each account's later
    requests. Organic users: old accounts, varied texts, labelled legitimate."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for index in range(campaign_accounts):
        for attempt in range(3):
            rows.append(
                {
                    "timestamp": START + 600 + index * 60 + attempt * 1200 + rng.random(),
                    "account": f"young-{index}",
                    "ip": f"198.{index // 200 + 18}.{index % 200}.{attempt + 1}",
                    "text": (
                        "You are an expert engineer. Solve the following programming task step by step and "
                        f"explain your reasoning: implement task number {index * 7 + attempt} over a list of "
                        f"{rng.randint(10, 9999)} integers with constraint {rng.random():.6f}."
                    ),
                    "route": "/v1/messages",
                    "client": "python-httpx/0.27",
                    "account_created_at": START - 3600,
                    "label": "campaign",
                }
            )
    for index in range(organic_accounts):
        for attempt in range(4):
            topic = TOPICS[(index + attempt) % len(TOPICS)]
            rows.append(
                {
                    "timestamp": START + rng.uniform(0, 7200),
                    "account": f"old-{index}",
                    "ip": f"203.0.{index}.7",
                    "text": f"{rng.choice(('Tell me', 'Explain', 'Describe'))} something about {topic} #{attempt}",
                    "route": "/v1/messages",
                    "client": "Mozilla/5.0",
                    "account_created_at": START - 400 * 86400,
                    "label": "legitimate",
                }
            )
    rows.sort(key=lambda row: row["timestamp"])
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]], *, extra_lines: dict[int, str] | None = None) -> Path:
    """Write ``rows`` one a line; ``extra_lines`` inserts raw lines at given 1-based line numbers."""
    lines = [json.dumps(row) for row in rows]
    for number, raw in sorted((extra_lines or {}).items()):
        lines.insert(number - 1, raw)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    elif path.suffix == ".zst":
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor().compress(data))
    else:
        path.write_bytes(data)
    return path


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PATTERNLIMIT_SECRET", SECRET)
    return SECRET
