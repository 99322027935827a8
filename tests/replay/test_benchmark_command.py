"""``python -m benchmarks.replay`` (the figures of docs/replay.md) runs: on a small access log, whose generated lines
the documented mapping must read without a bad line, both stages print their figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_replay_benchmark_runs_on_a_small_access_log() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.replay", "--format", "combined", "--size", "200KB"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    read, replayed = result.stdout.splitlines()
    for line, stage in ((read, "read"), (replayed, "replay")):
        found = re.search(rf"combined .* {stage} *: ([\d,]+) requests in .* peak RSS (\d+) MiB", line)
        assert found is not None, line
        assert int(found[1].replace(",", "")) > 150 and int(found[2]) > 10
    assert "check_many" in replayed
