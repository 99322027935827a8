"""The Prometheus collector, scraped and parsed by prometheus-client's own parser."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from patternlimit import Limiter
from patternlimit._testing import traffic
from patternlimit.integrations.prometheus import LimiterCollector


def _scrape(limiter: Limiter, now: float) -> dict[str, list]:  # type: ignore[type-arg]
    registry = CollectorRegistry()
    registry.register(LimiterCollector(limiter, top=3, clock=lambda: now))
    text = generate_latest(registry).decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_a_scrape_shows_the_decisions_latency_tables_and_top_patterns():
    limiter = Limiter(secret=b"test secret for the metrics test!")
    stream = traffic.campaign(accounts=150, per_account=8, prefixes=4)
    decisions = [limiter.check(request, now) for now, request in stream]
    limiter.check_many([request for _, request in stream[:10]], now=stream[-1][0])
    metrics = _scrape(limiter, stream[-1][0])
    counted = {
        (sample.labels["action"], sample.labels["rule"]): sample.value
        for sample in metrics["patternlimit_decisions"]
        if sample.name == "patternlimit_decisions_total"
    }
    throttled = sum(decision.action.value == "throttle" for decision in decisions)
    assert sum(value for (action, _), value in counted.items() if action == "throttle") >= throttled > 0
    assert sum(counted.values()) == len(decisions) + 10
    count = next(s.value for s in metrics["patternlimit_check_seconds"] if s.name == "patternlimit_check_seconds_count")
    assert count == len(decisions) + 10
    tables = {s.labels["table"]: s.value for s in metrics["patternlimit_table_entries"]}
    assert 100 < tables["accounts"] <= 150 and tables["flags"] > 0  # a record per account seen on a flagged pattern
    assert [s.labels["rank"] for s in metrics["patternlimit_top_pattern_hits"]] == ["1", "2", "3"]
    assert "patternlimit_storage_healthy" not in metrics  # in memory: no storage metrics


def test_the_collector_reads_no_prompt_text():
    limiter = Limiter(secret=b"test secret for the metrics test!")
    for now, request in traffic.campaign(accounts=60, per_account=4):
        limiter.check(request, now)
    registry = CollectorRegistry()
    registry.register(LimiterCollector(limiter))
    assert "expert software engineer" not in generate_latest(registry).decode().lower()
