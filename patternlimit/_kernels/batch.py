"""Requests observed and matched against the pattern rules in one kernel call (the batch path).

:func:`observe_batch` runs, for each request ``i`` in order, :func:`patternlimit._kernels.observe.observe_request`
on its keys ``keys[offsets[i]:offsets[i + 1]]`` with its own time, account, content, network, cost, standing and
copy count, writing the key rows of ``out float64[total, COLUMNS]`` at the same offsets, then
:func:`patternlimit._kernels.rules.match_rules` on those rows into ``masks[i]``. Observing does not depend on any
decision (every request is counted whatever the answer), so the sketch state after the call, and every row, are
what ``n`` single calls in order give; the caller then decides request by request.

One difference, on purpose: each request has its own ``observe_gates[i]``, and the engine passes 0 for a request
that some pattern rule applies to, so every key's estimates (accounts, young accounts, novel texts) are computed,
not only those over the rules' gate. A single ``check()`` computes an estimate under the gate later, in Python,
when a key flagged earlier needs it for its reason; in a batch the state has moved on by then, so the value is
taken at the request's own time instead: the same value the single path computes. A request no rule applies to
gets a gate no key reaches (no rule will read its estimates). ``match_rules`` still applies the real ``gate``.

Arguments: the packed state (``layout``, ``seconds``, ``table_seed``: :mod:`patternlimit._kernels.packed`);
``keys uint64[total]``, ``offsets int64[n + 1]``; the observation columns of
:data:`patternlimit._kernels.layout.OBSERVATION_COLUMNS`, in that order (``times float64[n]``, ``accounts``,
``contents``, ``networks`` ``uint64[n]``, ``costs int64[n]``, ``young bool[n]``, ``copy_counts int64[n]``);
``observe_gates int64[n]``, the gate passed to ``observe_request``; ``gate``, ``conditions``, ``starts`` as
``match_rules`` takes them; ``out float64[total, COLUMNS]``; ``masks uint64[n, rules]``. Mutates the state,
``out`` and ``masks``. Replaying another process's observations (shared storage) is the same call with
``observe_gates`` no key reaches and no rules: the sketches are updated, nothing is estimated.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.observe import observe_request
from patternlimit._kernels.packed import unpack_state
from patternlimit._kernels.rules import match_rules


@njit(cache=True, nogil=True)
def observe_batch(
    layout: np.ndarray,
    seconds: np.ndarray,
    table_seed: int,
    keys: np.ndarray,
    offsets: np.ndarray,
    times: np.ndarray,
    accounts: np.ndarray,
    contents: np.ndarray,
    networks: np.ndarray,
    costs: np.ndarray,
    young: np.ndarray,
    copy_counts: np.ndarray,
    observe_gates: np.ndarray,
    gate: float,
    conditions: np.ndarray,
    starts: np.ndarray,
    out: np.ndarray,
    masks: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """See the module docstring."""
    state = unpack_state(layout, seconds, table_seed)
    for index in range(offsets.shape[0] - 1):
        first = offsets[index]
        count = offsets[index + 1] - first
        rows = out[first : first + count]
        observe_request(  # type: ignore[call-arg]  # the stubs cannot count a star-argument tuple's items
            *state,
            keys[first : first + count],
            count,
            accounts[index],
            contents[index],
            networks[index],
            young[index],
            times[index],
            costs[index],
            observe_gates[index],
            copy_counts[index],
            rows,
        )
        match_rules(rows, count, gate, conditions, starts, masks[index])
