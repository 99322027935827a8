"""Which pattern keys of one request meet which pattern rule, in one kernel call over the observe kernel's output.

:func:`match_rules` reads ``out float64[>= count, 7]`` as :func:`patternlimit._kernels.observe.observe_request`
wrote it (hits, accounts, young accounts, copies, novel texts, cohort, concentration per key) and sets bit ``p``
of ``masks[r]`` when key ``p`` has at least ``gate`` hits and meets every condition of rule ``r``. Rule ``r``'s
conditions are the rows ``starts[r]`` to ``starts[r + 1]`` of ``conditions float64[n, 3]``: ``(code, low, high)``,
met when ``low <= value <= high`` (a NaN value, a measure not counted for the key, never meets a condition). The
value of a code is that of :data:`patternlimit._kernels.layout.MEASURE_CODES`:

* 0 young accounts, 1 hits, 2 accounts (``max(accounts, young)``: young accounts are accounts), 3 copies;
* 4 young share, ``young / accounts`` with the accounts of code 2 (0 when there are none);
* 5 filler diversity, ``novel / hits`` capped at 1 (0 for no hits; NaN stays NaN);
* 6 pattern age: not known here (the engine keeps first sightings in Python), so the condition passes and the
  engine checks it for the keys whose bit is set;
* 7 network share, ``cohort / young`` capped at 1 (0 when there are no young accounts; NaN stays NaN): the share
  of the key's young senders that came from this request's network;
* 8 network concentration, as the observe kernel wrote it.

``max`` is Python's: ``max(a, b)`` is ``b if b > a else a``, so a NaN first argument wins, as in the engine's
plain-Python evaluation that the twin (:mod:`patternlimit._kernels.reference.rules`) states. Keys are at most 64
(``count <= 64``). Mutates ``masks`` only.

Why a kernel: a few comparisons per key over the gate, where evaluating every rule on every key in Python costs
about 0.4 us per key and rule.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.layout import ACCOUNTS, COHORT, CONCENTRATION, COPIES, HITS, NOVEL, YOUNG

_ONE = np.uint64(1)


@njit(cache=True, nogil=True, inline="always")
def _python_max(first: float, second: float) -> float:  # pragma: no cover - compiled
    return second if second > first else first


@njit(cache=True, nogil=True)
def match_rules(
    out: np.ndarray, count: int, gate: float, conditions: np.ndarray, starts: np.ndarray, masks: np.ndarray
) -> None:  # pragma: no cover - compiled
    """See the module docstring."""
    rules = masks.shape[0]
    for rule in range(rules):
        masks[rule] = 0
    for position in range(count):
        hits = out[position, HITS]
        if not hits >= gate:
            continue
        young = out[position, YOUNG]
        accounts = _python_max(out[position, ACCOUNTS], young)
        for rule in range(rules):
            met = True
            for row in range(starts[rule], starts[rule + 1]):
                code = int(conditions[row, 0])
                if code == 0:
                    value = young
                elif code == 1:
                    value = hits
                elif code == 2:
                    value = accounts
                elif code == 3:
                    value = out[position, COPIES]
                elif code == 4:
                    value = young / accounts if accounts > 0 else 0.0
                elif code == 5:
                    if hits <= 0:
                        value = 0.0
                    else:
                        value = out[position, NOVEL] / hits
                        if value >= 1.0:
                            value = 1.0
                elif code == 7:
                    if young > 0:
                        value = out[position, COHORT] / young
                        if value >= 1.0:
                            value = 1.0
                    else:
                        value = 0.0
                elif code == 8:
                    value = out[position, CONCENTRATION]
                else:
                    continue
                if not (conditions[row, 1] <= value and value <= conditions[row, 2]):
                    met = False
                    break
            if met:
                masks[rule] |= _ONE << np.uint64(position)
