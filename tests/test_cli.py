"""The ``patternlimit warm`` command: every kernel a limiter runs is compiled (or loaded from the cache) by it."""

from __future__ import annotations

from patternlimit._kernels.batch import observe_batch
from patternlimit._kernels.packed import observe_one_packed
from patternlimit._kernels.text import text_fingerprint, text_fingerprint_many
from patternlimit.cli import main


def test_warm_runs_every_path_that_calls_a_kernel(capsys):
    assert main(["warm"]) == 0
    assert "kernels compiled or loaded from numba's cache in" in capsys.readouterr().out
    for kernel in (observe_one_packed, observe_batch, text_fingerprint, text_fingerprint_many):
        assert kernel.signatures, kernel  # compiled (or loaded) in this process: the cache holds it
