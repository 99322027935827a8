"""Two versions of the limiter timed in interleaved blocks, so that load on a shared machine falls on both alike.

Usage: ``python -m benchmarks.interleaved OLD NEW [MODE] [BLOCKS]``. ``OLD`` and ``NEW`` are git revisions of this
repository (``HEAD``, ``main~3``, a hash) or ``.`` for the working tree; ``MODE`` is ``check`` (chat-sized prompts,
about 100 characters), ``check2k`` (2 KB prompts), ``many`` or ``many2k`` (the same through ``check_many``);
``BLOCKS`` defaults to 16. Each version runs in its own worker process (its ``patternlimit`` first on the path);
the two take turns, each block timing 1,000 ``check()`` calls or one ``check_many`` of 4,000 requests over the same
requests from 5,000 established accounts. Prints each version's minimum and median microseconds per decision over
the blocks and their ratios; the minimum is the steadier figure on a loaded machine.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
MODES = ("check", "check2k", "many", "many2k")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return _worker(argv[1], argv[2])
    if len(argv) < 2 or (len(argv) > 2 and argv[2] not in MODES):
        print(__doc__, file=sys.stderr)
        return 2
    old, new = argv[0], argv[1]
    mode = argv[2] if len(argv) > 2 else "check"
    blocks = int(argv[3]) if len(argv) > 3 else 16
    with tempfile.TemporaryDirectory() as folder:
        trees = {label: _tree(revision, Path(folder) / label) for label, revision in (("old", old), ("new", new))}
        workers = {
            label: subprocess.Popen(
                [sys.executable, "-m", "benchmarks.interleaved", "--worker", str(tree), mode],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for label, tree in trees.items()
        }
        times: dict[str, list[float]] = {label: [] for label in workers}
        try:
            for worker in workers.values():
                if worker.stdout is None or worker.stdout.readline().strip() != "ready":
                    raise RuntimeError("a worker did not start")
            for block in range(blocks):
                for label in ("old", "new") if block % 2 == 0 else ("new", "old"):
                    worker = workers[label]
                    assert worker.stdin is not None and worker.stdout is not None
                    worker.stdin.write("run\n")
                    worker.stdin.flush()
                    times[label].append(float(worker.stdout.readline()))
        finally:
            for worker in workers.values():
                if worker.stdin is not None:
                    worker.stdin.close()
                worker.wait()
    for label, revision in (("old", old), ("new", new)):
        spent = times[label]
        print(f"{mode} {revision}: min {min(spent) * 1e6:.2f} us, median {statistics.median(spent) * 1e6:.2f} us")
    low = min(times["new"]) / min(times["old"])
    middle = statistics.median(times["new"]) / statistics.median(times["old"])
    print(f"new / old: {low:.3f} at the minimum, {middle:.3f} at the median")
    return 0


def _tree(revision: str, target: Path) -> Path:
    """The source tree of ``revision``: the working tree for ``.``, else its ``patternlimit/`` from git."""
    if revision == ".":
        return ROOT
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", revision, "patternlimit"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _traffic() -> ModuleType:
    """This checkout's ``patternlimit/_testing/traffic.py``, loaded by its path: both versions are timed on the same
    requests, and an older revision's tree may not have the module. Its ``Request`` is the measured version's."""
    path = ROOT / "patternlimit" / "_testing" / "traffic.py"
    spec = importlib.util.spec_from_file_location("benchmark_traffic", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _worker(tree: str, mode: str) -> int:
    sys.path.insert(0, tree)
    from patternlimit import Limiter, Request

    traffic = _traffic()

    limiter = Limiter(secret=b"benchmark secret, not for production")
    rng = random.Random(1)
    created = 1.7e9 - 400 * 86400.0

    def long_text() -> str:
        text = traffic.campaign_prompt(rng)
        while len(text) < 2048:
            text += "\n" + traffic.organic_prompt(rng)
        return text[:2048]

    requests = [
        Request(
            account=f"acct-{rng.randrange(5000)}",
            ip=traffic.ip(rng),
            text=long_text() if mode.endswith("2k") else traffic.organic_prompt(rng),
            route="/v1/messages",
            account_created_at=created - rng.uniform(0, 900) * 86400,
        )
        for _ in range(4000)
    ]
    now = 1.7e9
    batch = mode.startswith("many")
    limiter.check_many(requests, now)  # warm: compile, caches, sketches
    print("ready", flush=True)
    for _ in sys.stdin:
        started = time.perf_counter()
        if batch:
            limiter.check_many(requests, now)
        else:
            for request in requests[:1000]:
                limiter.check(request, now)
        print((time.perf_counter() - started) / (len(requests) if batch else 1000), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
