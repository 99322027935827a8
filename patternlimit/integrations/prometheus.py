"""Prometheus metrics of a limiter: a custom collector that the application registers.

::

    from prometheus_client import REGISTRY, start_http_server
    from patternlimit.integrations.prometheus import LimiterCollector

    REGISTRY.register(LimiterCollector(limiter))

Metrics, read at scrape time (nothing is recorded per request beyond the limiter's own counters):

* ``patternlimit_decisions_total{action, rule}``: decisions by action and deciding rule (``rule=""``: none);
* ``patternlimit_check_seconds``: histogram of check latency (from the request's facts to its decision);
* ``patternlimit_table_entries{table}`` and ``patternlimit_table_capacity{table}``: the bounded tables' fill;
* ``patternlimit_sketch_bytes``: the sketch state, fixed at construction;
* ``patternlimit_storage_healthy``, ``patternlimit_storage_failures_total``, ``patternlimit_storage_pending_bytes``,
  ``patternlimit_storage_dropped_total``: the shared storage, when there is one;
* ``patternlimit_top_pattern_hits{kind, rank}``, ``..._accounts`` and ``..._young_share``: the heaviest patterns
  (``top`` of them, 10 by default); labelled by rank and kind, never by prompt text, which stays out of metrics.

Needs ``pip install "patternlimit[metrics]"``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from patternlimit.engine import Limiter
from patternlimit.engine.stats import LATENCY_BUCKETS

try:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
    from prometheus_client.registry import Collector
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'patternlimit.integrations.prometheus needs prometheus-client: pip install "patternlimit[metrics]"'
    ) from exc


class LimiterCollector(Collector):
    """Collects one limiter's metrics at each scrape (see the module docstring)."""

    def __init__(self, limiter: Limiter, *, top: int = 10, clock: Callable[[], float] = time.time) -> None:
        self.limiter = limiter
        self.top = top
        self.clock = clock
        """The time the top patterns are read at: the wall clock, or a replay's clock."""

    def collect(self) -> Iterator[Any]:
        limiter = self.limiter
        stats = limiter.stats
        decisions = CounterMetricFamily(
            "patternlimit_decisions", "Decisions by action and deciding rule.", labels=["action", "rule"]
        )
        for (action, rule), count in sorted(stats.decisions.items()):
            decisions.add_metric([action, rule], count)
        yield decisions

        buckets, running = [], 0
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), stats.latency_counts, strict=True):
            running += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
        latency = HistogramMetricFamily("patternlimit_check_seconds", "Check latency, facts to decision.")
        latency.add_metric([], buckets, sum_value=stats.latency_sum)
        yield latency

        entries = GaugeMetricFamily("patternlimit_table_entries", "Entries of each bounded table.", labels=["table"])
        capacity = GaugeMetricFamily("patternlimit_table_capacity", "Capacity of each bounded table.", labels=["table"])
        for table, (used, size) in sorted(limiter.occupancy().items()):
            entries.add_metric([table], used)
            capacity.add_metric([table], size)
        yield entries
        yield capacity
        yield GaugeMetricFamily("patternlimit_sketch_bytes", "Bytes of sketch state.", value=limiter.nbytes)

        status = limiter.storage_status
        if status is not None:
            yield GaugeMetricFamily(
                "patternlimit_storage_healthy", "1 while the shared storage answers.", value=status.healthy
            )
            yield CounterMetricFamily("patternlimit_storage_failures", "Failed exchanges.", value=status.failures)
            yield GaugeMetricFamily(
                "patternlimit_storage_pending_bytes", "Records waiting.", value=status.pending_bytes
            )
            yield CounterMetricFamily("patternlimit_storage_dropped", "Observations dropped.", value=status.dropped)

        hits = GaugeMetricFamily(
            "patternlimit_top_pattern_hits", "Hits of the heaviest patterns.", labels=["kind", "rank"]
        )
        accounts = GaugeMetricFamily(
            "patternlimit_top_pattern_accounts", "Distinct accounts (estimate).", labels=["kind", "rank"]
        )
        young = GaugeMetricFamily(
            "patternlimit_top_pattern_young_share", "Share of young accounts (estimate).", labels=["kind", "rank"]
        )
        for rank, pattern in enumerate(limiter.top_patterns(self.top, now=self.clock()), start=1):
            labels = [pattern.kind, str(rank)]
            hits.add_metric(labels, pattern.hits)
            accounts.add_metric(labels, pattern.accounts)
            young.add_metric(labels, pattern.young_accounts / pattern.accounts if pattern.accounts else 0.0)
        yield hits
        yield accounts
        yield young
