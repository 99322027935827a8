"""Run the benchmarks once and print the README's table: per-call latency, batch throughput, memory, and ratios
to the peer (`limits`) measured in the same run.

Usage: ``python benchmarks/report.py [pytest-benchmark selection args]``
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PEERS = ("test_peer_limits_moving_window_hit_100_per_minute", "test_peer_limits_memory_hit[MovingWindowRateLimiter]")
"""The peer the ratios are taken against: `limits`' moving-window hit on memory://, whichever ran."""


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "bench.json"
        command = [sys.executable, "-m", "pytest", "benchmarks", "-q", f"--benchmark-json={output}", *sys.argv[1:]]
        completed = subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
        if completed.returncode != 0:
            print(f"benchmarks failed: {' '.join(command)}", file=sys.stderr)
            return completed.returncode
        results = json.loads(output.read_text())
    machine = results["machine_info"]
    print(f"Python {machine['python_version']} on {machine['cpu']['brand_raw']} ({machine['cpu']['count']} cores)\n")
    rows = {bench["name"]: bench for bench in results["benchmarks"]}
    peer = next((rows[name]["stats"]["median"] for name in PEERS if name in rows), None)
    print("| benchmark | median | min | x limits moving-window hit | throughput | bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, bench in sorted(rows.items()):
        stats, extra = bench["stats"], bench["extra_info"]
        median, minimum = stats["median"], stats["min"]
        per_call = "items" not in extra  # batches report throughput, not a per-call ratio
        ratio = f"{median / peer:.2f}" if peer and per_call else ""
        if "million_updates_per_second" in extra:
            throughput = f"{extra['million_updates_per_second']:.2f} M items/s"
        else:
            throughput = f"{1 / median / 1e3:.0f} k calls/s"
        size = f"{extra['bytes'] / 2**20:.2f} MiB" if "bytes" in extra else ""
        print(
            f"| {name.removeprefix('test_')} | {_time(median)} | {_time(minimum)} | {ratio} | {throughput} | {size} |"
        )
    return 0


def _time(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
