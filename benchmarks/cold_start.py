"""Cold start: how long a fresh Python process takes to answer its first ``check()``, with numba's cache empty (what
the first process after ``pip install`` pays) and once ``patternlimit warm`` has filled it.

Usage: ``python -m benchmarks.cold_start [RUNS] [--no-cold] [--python PYTHON]`` from the repository root (RUNS,
default 5, fresh processes on the warm cache; about two minutes, most of it the two compilations). With
``--python`` the processes run that interpreter, outside the checkout: a virtualenv where ``pip install .`` put
patternlimit, as a user gets it. Every process gets ``NUMBA_CACHE_DIR`` set to a temporary directory, so no
existing cache is used or changed:

1. ``patternlimit warm`` on an empty cache: what the recommended step after ``pip install`` costs, once;
2. RUNS fresh processes on that cache, each timing ``import patternlimit``, ``Limiter(...)`` and the first
   ``check()``; and as many again with scipy hidden (``sys.modules["scipy"] = None``): scipy is no dependency of
   patternlimit, but when it is installed (the ``test`` extra brings it) numba imports ``scipy.linalg`` the first
   time it loads a kernel in a process, cached or not. The two kinds take turns;
3. one fresh process with another empty cache: the first ``check()`` when nothing was warmed (skipped with
   ``--no-cold``).

Each figure is wall time, the process's start included (the parent times the child from ``Popen`` to its exit,
the child reports its phases), and the child's CPU time up to its first decision: on a shared machine the CPU
time is the steadier figure, the wall time what a user waits.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST_CHECK = """
import json, sys, time
started = time.perf_counter()
if sys.argv[1] == "hide-scipy":
    sys.modules["scipy"] = None  # as if scipy were not installed: numba's BLAS probe then finds none
from patternlimit import Limiter, Request
imported = time.perf_counter()
limiter = Limiter(secret=b"cold start benchmark, 32 bytes!!")
built = time.perf_counter()
decision = limiter.check(Request(account="a", ip="192.0.2.1", text="hi"))
checked = time.perf_counter()
assert decision.allowed
phases = {"import": imported - started, "limiter": built - imported, "check": checked - built}
print(json.dumps({**phases, "cpu": time.process_time()}))
"""


PYTHON = sys.executable
"""The interpreter measured: this one, on the checkout, or ``--python``'s, on what is installed there."""


def environment(cache: str) -> dict[str, str]:
    if sys.executable != PYTHON:
        return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "NUMBA_CACHE_DIR": cache}
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": path}


def folder() -> Path:
    """Where the processes start: the checkout, or (for ``--python``) its parent, so it is not imported."""
    return ROOT if sys.executable == PYTHON else ROOT.parent


def first_check(cache: str, mode: str = "as-installed") -> dict[str, float]:
    """One fresh process's phases and its whole wall time (``total``)."""
    started = time.perf_counter()
    result = subprocess.run(
        [PYTHON, "-c", FIRST_CHECK, mode],
        cwd=folder(),
        env=environment(cache),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    phases: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    phases["total"] = time.perf_counter() - started
    return phases


def warm(cache: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [PYTHON, "-m", "patternlimit.cli", "warm"],
        cwd=folder(),
        env=environment(cache),
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return time.perf_counter() - started, result.stdout.strip()


def span(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def describe(label: str, runs: list[dict[str, float]]) -> str:
    parts = ", ".join(f"{phase} {span([run[phase] for run in runs])}" for phase in ("import", "limiter", "check"))
    total, cpu = span([run["total"] for run in runs]), span([run["cpu"] for run in runs])
    return f"{label}: first check() {total} after the process started, {cpu} of CPU ({parts})"


def scipy_installed() -> bool:
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('scipy') is None)"
    return subprocess.run([PYTHON, "-c", probe], cwd=folder(), check=False).returncode == 0


def main(argv: list[str]) -> int:
    global PYTHON
    if "--python" in argv:
        at = argv.index("--python")
        PYTHON = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    cold = "--no-cold" not in argv
    numbers = [argument for argument in argv if not argument.startswith("--")]
    runs = int(numbers[0]) if numbers else 5
    print(f"{PYTHON}: patternlimit from {'this checkout' if sys.executable == PYTHON else 'its installation'}")
    modes = ["as-installed", "hide-scipy"] if scipy_installed() else ["as-installed"]
    with tempfile.TemporaryDirectory() as cache:
        spent, said = warm(cache)
        print(f"patternlimit warm on an empty cache: {spent:.1f} s wall ({said})")
        measured: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
        for index in range(runs):
            for mode in modes if index % 2 == 0 else modes[::-1]:
                measured[mode].append(first_check(cache, mode))
    print(describe("warm cache", measured["as-installed"]))
    if "hide-scipy" in measured:
        print(describe("warm cache, scipy hidden", measured["hide-scipy"]))
    if cold:
        with tempfile.TemporaryDirectory() as cache:
            print(describe("empty cache (nothing warmed)", [first_check(cache)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
