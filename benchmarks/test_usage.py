"""Token usage after the response: the meter scanning a streamed body (Anthropic-style server-sent events in the
small chunks a streaming app sends) and a plain JSON body, and ``Limiter.charge`` / ``limit_state`` on a policy
with a token rule (what the middleware adds per response with ``usage=`` and ``headers_on_allowed``).

Run: ``pytest benchmarks/test_usage.py --benchmark-columns=mean,stddev,rounds``.
"""

from __future__ import annotations

import pytest

from patternlimit import Limiter, Request
from patternlimit._testing import llm_responses
from patternlimit.integrations.usage import UsageMeter
from patternlimit.policy.models import LimitRule, Policy

NOW = 1_760_000_000.0


@pytest.fixture(scope="module")
def stream_chunks() -> list[bytes]:
    """A 1,000-word streamed answer (about 110 KB of events), cut into 64-byte chunks."""
    return list(llm_responses.pieces(llm_responses.anthropic_events(1500, words=1000), 64))


def test_meter_streamed_body(benchmark, stream_chunks):
    def scan() -> int | None:
        meter = UsageMeter("text/event-stream")
        for chunk in stream_chunks:
            meter.feed(chunk)
        return meter.tokens()

    assert benchmark(scan) == 1500
    benchmark.extra_info["bytes"] = sum(map(len, stream_chunks))


def test_meter_json_body(benchmark):
    body = llm_responses.openai_json(1500)

    def scan() -> int | None:
        meter = UsageMeter("application/json")
        meter.feed(body)
        return meter.tokens()

    assert benchmark(scan) == 1500


@pytest.fixture(scope="module")
def token_limiter() -> Limiter:
    rules = [
        LimitRule(name="requests", limit="600/minute"),
        LimitRule(name="tokens", limit="100000000/hour", strategy="fixed-window"),
    ]
    return Limiter(Policy(rules=rules), secret=b"benchmark secret for the usage charge", clock="replay")


def test_charge(benchmark, token_limiter):
    request = Request(account="acct", text="a 2 KB prompt " * 140, account_created_at=NOW - 400 * 86400)
    benchmark(token_limiter.charge, request, 1500, rules=("tokens",), now=NOW)


def test_limit_state(benchmark, token_limiter):
    request = Request(account="acct", text="a 2 KB prompt " * 140, account_created_at=NOW - 400 * 86400)
    assert len(benchmark(token_limiter.limit_state, request, now=NOW)) == 2
