"""Requests observed and matched against the pattern rules in one kernel call (the batch path).

:func:`observe_batch` runs, for each request ``i`` in order, :func:`patternlimit._kernels.observe.observe_request`
on its keys ``keys[offsets[i]:offsets[i + 1]]`` with its own account, content, network, standing, time, cost and
copy count, writing the key rows of ``out float64[total, 6]`` at the same offsets, then
:func:`patternlimit._kernels.rules.match_rules` on those rows into ``masks[i]``. Observing does not depend on any
decision (every request is counted whatever the answer), so the sketch state after the call, and every row, are
what ``n`` single calls in order give; the caller then decides request by request.

One difference, on purpose: each request has its own ``observe_gates[i]``, and the engine passes 0 for a request
that some pattern rule applies to, so every key's estimates (accounts, young accounts, novel texts) are computed,
not only those over the rules' gate. A single ``check()`` computes an estimate under the gate later, in Python,
when a key flagged earlier needs it for its reason; in a batch the state has moved on by then, so the value is
taken at the request's own time instead: the same value the single path computes. A request no rule applies to
gets a gate no key reaches (no rule will read its estimates). ``match_rules`` still applies the real ``gate``.

Arguments: the 24 state arguments of ``observe_request``; ``keys uint64[total]``, ``offsets int64[n + 1]``;
``accounts``, ``contents``, ``networks`` (``uint64[n]``), ``young`` (``bool[n]``), ``times`` (``float64[n]``),
``costs`` and ``copy_counts`` (``int64[n]``); ``observe_gates`` (``int64[n]``), the gate passed to
``observe_request``; ``gate``, ``conditions``, ``starts`` as ``match_rules`` takes them; ``out float64[total, 6]``;
``masks uint64[n, rules]``. Mutates the state, ``out`` and ``masks``. Replaying another process's observations
(shared storage) is the same call with ``observe_gates`` no key reaches and no rules: the sketches are updated,
nothing is estimated.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.observe import observe_request
from patternlimit._kernels.rules import match_rules


@njit(cache=True, nogil=True)
def observe_batch(
    counters: np.ndarray,
    cms_ring: np.ndarray,
    cms_seeds: np.ndarray,
    cms_bucket_seconds: float,
    account_registers: np.ndarray,
    account_ring: np.ndarray,
    account_seeds: np.ndarray,
    account_memo: np.ndarray,
    account_bucket_seconds: float,
    young_registers: np.ndarray,
    young_ring: np.ndarray,
    young_seeds: np.ndarray,
    young_memo: np.ndarray,
    young_bucket_seconds: float,
    seen_bits: np.ndarray,
    seen_ring: np.ndarray,
    seen_seeds: np.ndarray,
    seen_bucket_seconds: float,
    entries: np.ndarray,
    links: np.ndarray,
    tallies: np.ndarray,
    top_ring: np.ndarray,
    table_seed: int,
    top_bucket_seconds: float,
    keys: np.ndarray,
    offsets: np.ndarray,
    accounts: np.ndarray,
    contents: np.ndarray,
    networks: np.ndarray,
    young: np.ndarray,
    times: np.ndarray,
    costs: np.ndarray,
    copy_counts: np.ndarray,
    observe_gates: np.ndarray,
    gate: float,
    conditions: np.ndarray,
    starts: np.ndarray,
    out: np.ndarray,
    masks: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """See the module docstring."""
    for index in range(offsets.shape[0] - 1):
        first = offsets[index]
        count = offsets[index + 1] - first
        rows = out[first : first + count]
        observe_request(
            counters,
            cms_ring,
            cms_seeds,
            cms_bucket_seconds,
            account_registers,
            account_ring,
            account_seeds,
            account_memo,
            account_bucket_seconds,
            young_registers,
            young_ring,
            young_seeds,
            young_memo,
            young_bucket_seconds,
            seen_bits,
            seen_ring,
            seen_seeds,
            seen_bucket_seconds,
            entries,
            links,
            tallies,
            top_ring,
            table_seed,
            top_bucket_seconds,
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
