"""The text fingerprint kernel alone (no wrapper): the figures in ``patternlimit._kernels.text``.

Usage, from the repository root::

    python -m benchmarks.text_kernel                         # this tree's kernel
    python -m benchmarks.text_kernel --against HEAD~1        # and the kernel at a git revision, interleaved
    python -m benchmarks.text_kernel --against /tmp/text.py  # or a kernel module in a file

Each workload is timed two ways: *per call*, one ``text_fingerprint`` call per text from a Python loop (numba's
dispatch, about 0.4 us, included: the module docstring's figures), and *batched*, all the texts concatenated in one
buffer and fingerprinted by one ``text_fingerprint_many`` call. The figure is the time per text (or per byte), the
minimum over ``--repeats`` runs. With ``--against``, the two kernels run one after the other within each repeat, so
that load from other processes on a shared machine falls on both alike.

Workloads: 2 KB of the benchmark prose (:func:`benchmarks.test_fingerprint.prose`), a different text each call
(1,000 texts: what a limiter sees) and one text repeated (the CPU learns its branches); 2 KB prompts built from
``patternlimit/_testing/traffic.py`` as ``benchmarks/test_limiter.py`` builds them (a coding template, then organic
prompts), each different; the 2 KB coding prompt (a fenced block, repeated); 64 KiB of prose (per byte).

The same source can time up to 15% apart between two builds of it (here a copy loaded from numba's cache against
the same copy compiled afresh, with the same machine code but for its addresses), so judge a small change on more
than one build: e.g. add a comment to the copy given to ``--against`` to make it compile afresh.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from benchmarks.test_fingerprint import coding_prompt, prose
from benchmarks.test_limiter import prompts
from patternlimit._kernels import text as current

TEXTS = 1000
EDGE_TOKENS = 8
BANDS = 4
SEEDS = np.array([0x0123456789ABCDEF, 0xFEDCBA9876543210, 0x5555AAAA5555AAAA, 0x0F0F0F0F0F0F0F0F], np.uint64)


def workloads() -> dict[str, tuple[list[bytes], int]]:
    """Name -> (texts, unit divisor): the figure is the batch's seconds divided by the divisor."""
    distinct = [prose(2048, seed=seed).encode() for seed in range(TEXTS)]
    long_prose = prose(65536).encode()
    return {
        "2 KB prose, a different text each call (us/text)": (distinct, TEXTS),
        "2 KB prose, one text repeated (us/text)": ([distinct[0]] * TEXTS, TEXTS),
        "2 KB traffic prompts, each different (us/text)": ([text.encode() for text in prompts(TEXTS)], TEXTS),
        "2 KB coding prompt, repeated (us/text)": ([coding_prompt(2048).encode()] * TEXTS, TEXTS),
        "64 KiB prose (ns/byte)": ([long_prose] * 16, 16 * len(long_prose)),
    }


def kernel_at(revision: str) -> ModuleType:
    """``patternlimit/_kernels/text.py`` as it was at git ``revision`` (or the kernel module in the file
    ``revision``), imported under another name; numba caches its compiled code next to the copy, so a second run
    with the same source loads it."""
    if Path(revision).is_file():
        source = Path(revision).read_text()
    else:
        source = subprocess.run(
            ["git", "show", f"{revision}:patternlimit/_kernels/text.py"], capture_output=True, check=True, text=True
        ).stdout
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    directory = Path(tempfile.gettempdir()) / f"patternlimit-text-kernel-{digest}"
    directory.mkdir(exist_ok=True)
    path = directory / "text_kernel_copy.py"
    if not path.exists():
        path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"text_kernel_{digest}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # numba's cache finds the module's globals again by its name
    spec.loader.exec_module(module)
    return module


def batch(texts: list[bytes]) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(text) for text in texts])
    out = np.zeros((len(texts), current.OUT_BANDS + BANDS), dtype=np.uint64)
    scratch = np.zeros(current.PLANES + EDGE_TOKENS, dtype=np.uint64)
    return b"".join(texts), offsets, out, scratch


def seconds_per_call(module: ModuleType, texts: list[bytes], out: np.ndarray, scratch: np.ndarray) -> float:
    """One ``text_fingerprint`` call per text from Python (numba's dispatch included, about 0.4 us)."""
    fingerprint = module.text_fingerprint
    start = time.perf_counter()
    for data in texts:
        fingerprint(data, SEEDS, out, scratch)
    return time.perf_counter() - start


def seconds_batched(module: ModuleType, arguments: tuple[bytes, np.ndarray, np.ndarray, np.ndarray]) -> float:
    """One ``text_fingerprint_many`` call for all the texts (the dispatch paid once)."""
    data, offsets, out, scratch = arguments
    start = time.perf_counter()
    module.text_fingerprint_many(data, offsets, SEEDS, out, scratch)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--against", metavar="REVISION", help="also time the kernel at this git revision or in this file"
    )
    parser.add_argument("--repeats", type=int, default=200, help="runs per workload and kernel (default 200)")
    parser.add_argument("--only", default="", help="run only the workloads whose name contains this text")
    options = parser.parse_args()
    kernels = {"this tree": current}
    if options.against:
        kernels = {options.against: kernel_at(options.against), **kernels}
    print(f"python {sys.version.split()[0]}, min of {options.repeats} runs", flush=True)
    for name, (texts, divisor) in workloads().items():
        if options.only not in name:
            continue
        arguments = batch(texts)
        out = arguments[2][0].copy()
        scratch = arguments[3]
        ways = {
            "per call": lambda module: seconds_per_call(module, texts, out, scratch),  # noqa: B023 - used at once
            "batched": lambda module: seconds_batched(module, arguments),  # noqa: B023
        }
        for way, timer in ways.items():
            for module in kernels.values():
                timer(module)  # compile or load, fault in the buffers
            best = dict.fromkeys(kernels, float("inf"))
            for _ in range(options.repeats):
                for label, module in kernels.items():
                    best[label] = min(best[label], timer(module))
            scale = 1e9 if "ns/byte" in name else 1e6
            figures = ", ".join(f"{label} {best[label] * scale / divisor:.3f}" for label in kernels)
            ratio = f" ({best['this tree'] / best[options.against]:.3f}x)" if options.against else ""
            print(f"{name}, {way}: {figures}{ratio}", flush=True)


if __name__ == "__main__":
    main()
