"""The benchmarks still run: each benchmark function executed once (pytest-benchmark's --benchmark-disable), and the
sidecar's HTTP benchmark script in its quick mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS`` from the project's root; fails the test with the output's tail unless it exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result


def test_every_benchmark_runs_once():
    result = run_module("pytest", "benchmarks", "-q", "--benchmark-disable", "-p", "no:cacheprovider")
    assert " passed" in result.stdout.splitlines()[-1]


def test_the_sidecar_http_benchmark_runs_once():
    """``python -m benchmarks.sidecar_http --quick``: real ``patternlimit serve`` processes (one worker on
    memory://, then one and two workers on a real Redis), one short round each."""
    result = run_module("benchmarks.sidecar_http", "--quick")
    assert "protocol overhead" in result.stdout and "N=2 / N=1" in result.stdout, result.stdout


def test_the_scale_out_benchmark_runs_once():
    """``python -m benchmarks.scale_out`` on a small stream: two real processes on one real Redis, each reads every
    record the other served."""
    result = run_module("benchmarks.scale_out", "600", "--hosts", "2")
    hosts = [line for line in result.stdout.splitlines() if line.startswith("N=2 host")]
    assert len(hosts) == 2 and all("applied 250 of 250 served elsewhere" in line for line in hosts), result.stdout
    assert "of a core on sync" in result.stdout


def test_the_campaign_variants_run_once_small():
    """``python -m benchmarks.campaign_variants`` at a tenth of the volume over four hours: one line per variant."""
    result = run_module("benchmarks.campaign_variants", "--hours", "4", "--scale", "0.1", "default", "600-prefixes")
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["default", "600-prefixes"], result.stdout
    assert all("campaign leak" in line and "legitimate stopped" in line for line in lines)
    unknown = subprocess.run(
        [sys.executable, "-m", "benchmarks.campaign_variants", "no-such-variant"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert unknown.returncode == 2 and "600-prefixes" in unknown.stderr
