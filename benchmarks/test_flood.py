"""A key flood with a campaign underneath (see benchmarks/flood.py). ``PATTERNLIMIT_FLOOD`` sets the flood's
one-shot accounts (default 20,000, so that the smoke run stays short; the table in docs/security.md used 1M)."""

from __future__ import annotations

import os

from benchmarks.flood import run


def test_flood(benchmark):  # type: ignore[no-untyped-def]
    flood = int(os.environ.get("PATTERNLIMIT_FLOOD", "20000"))
    result = benchmark.pedantic(run, args=(flood,), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(result)
