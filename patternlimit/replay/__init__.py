"""Shadow replay: yesterday's traffic through a policy before it is enforced today (``patternlimit replay``).

The modules, one job each: :mod:`~patternlimit.replay.opening` (plain, gzip, zstd), the readers
:mod:`~patternlimit.replay.jsonl`, :mod:`~patternlimit.replay.csvlog` and :mod:`~patternlimit.replay.combined`
(with :mod:`~patternlimit.replay.columns` for column mappings), :mod:`~patternlimit.replay.sources` (several logs
merged into one time-ordered stream), :mod:`~patternlimit.replay.runner` (the stream through ``check_many`` in
chunks), :mod:`~patternlimit.replay.tally` and :mod:`~patternlimit.replay.baseline` (what is counted), and how the
result is shown: :mod:`~patternlimit.replay.summary` (the terminal and ``--json``), :mod:`~patternlimit.replay.html`
with :mod:`~patternlimit.replay.svg` (``--report``); :mod:`~patternlimit.replay.probe` measures every pattern near
the policy's thresholds, which the report draws and :mod:`~patternlimit.replay.suggest` turns into thresholds.
:mod:`~patternlimit.replay.writing` writes requests as JSON Lines (``simulate --write-jsonl``).

Nothing below this package imports it: it uses the limiter's public API, the policy models and the simulator's
evaluation types.
"""

from __future__ import annotations

from patternlimit.replay.runner import Replayed, replay
from patternlimit.replay.sources import Reading

__all__ = ["Reading", "Replayed", "replay"]
