"""What the web integrations log: structured fields without identities, one line per record whatever the request
holds, shadow decisions at WARNING, and the one warning about a proxy that is not trusted."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from patternlimit import Limiter
from patternlimit.integrations.asgi import PatternLimitMiddleware
from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware
from patternlimit.policy.models import LimitRule, Policy
from patternlimit.policy.presets import DISTILLATION_DEFENSE
from tests.integrations import support

ONE_PER_MINUTE = Policy(rules=[LimitRule(name="per-key", limit="1/minute", weighted=False)])


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """Everything the ``patternlimit`` loggers write at WARNING, formatted as a plain text handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("patternlimit")
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def records(caplog: pytest.LogCaptureFixture, action: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if getattr(record, "action", None) == action]


def send(app, paths, client=("8.8.4.4", 5000), key="old-secret-key-1"):  # type: ignore[no-untyped-def]
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [await http.post(path, content=b"{}", headers={"x-api-key": key}) for path in paths]

    return asyncio.run(go())


def test_a_throttle_with_a_newline_in_the_path_is_one_log_line(log):
    app = PatternLimitMiddleware(support.asgi_echo, limiter=Limiter(ONE_PER_MINUTE, secret=support.SECRET))
    responses = send(app, ["/v1/ok", "/v1/%0aWARNING patternlimit forged%0d%e2%80%a8line"])
    assert [response.status_code for response in responses] == [200, 429]
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("WARNING patternlimit.integrations patternlimit: throttle POST")
    assert "/v1/\\nWARNING patternlimit forged\\r\\u2028line" in lines[0]


def test_decision_records_carry_structured_fields_and_no_raw_identity(caplog):
    app = PatternLimitMiddleware(support.asgi_echo, limiter=Limiter(ONE_PER_MINUTE, secret=support.SECRET))
    with caplog.at_level(logging.WARNING, logger="patternlimit"):
        send(app, ["/v1/a", "/v1/b"])
    [record] = records(caplog, "throttle")
    assert record.levelno == logging.WARNING and record.name == "patternlimit.integrations"
    assert record.rule == "per-key" and record.pattern_kind == "account" and record.enforced is True  # type: ignore[attr-defined]
    assert record.path == "/v1/b" and len(record.account_digest) == 12 and len(record.client_digest) == 12  # type: ignore[attr-defined]
    text = record.getMessage() + repr(record.__dict__)
    assert "8.8.4.4" not in text and "old-secret-key-1" not in text
    assert not hasattr(record, "account") and not hasattr(record, "client_ip")


def test_log_identities_puts_the_account_and_address_in(caplog):
    app = PatternLimitMiddleware(
        support.asgi_echo,
        limiter=Limiter(ONE_PER_MINUTE, secret=support.SECRET),
        account=lambda info: info.header("x-api-key"),
        log_identities=True,
    )
    with caplog.at_level(logging.WARNING, logger="patternlimit"):
        send(app, ["/v1/a", "/v1/b"])
    [record] = records(caplog, "throttle")
    assert record.account == "old-secret-key-1" and record.client_ip == "8.8.4.4"  # type: ignore[attr-defined]
    assert "ip=8.8.4.4" in record.getMessage()


def test_shadow_decisions_are_logged_at_warning_so_server_defaults_show_them(caplog):
    shadow = Limiter(DISTILLATION_DEFENSE.model_copy(update={"shadow": True}), secret=support.SECRET)
    app = PatternLimitMiddleware(
        support.asgi_echo,
        limiter=shadow,
        account_context=support.account_context,
        json_fields=("messages[*].content",),
    )

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [
                await http.post("/v1/messages", content=body, headers=support.headers_for(key))
                for _, key, body in support.fan_out()
            ]

    with caplog.at_level(logging.WARNING, logger="patternlimit"):
        responses = asyncio.run(go())
    assert {response.status_code for response in responses} == {200}
    shadowed = records(caplog, "log")
    assert shadowed and all(record.levelno == logging.WARNING for record in shadowed)
    assert any(record.enforced is False and record.would == "throttle" for record in shadowed)  # type: ignore[attr-defined]
    assert any("would throttle" in record.getMessage() for record in shadowed)


PROXY_HINT = "behind a proxy? set trusted_proxies="


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.1.2.3", "::1", "fd00::5"])
def test_a_private_or_loopback_peer_without_trusted_proxies_is_warned_about_once(caplog, peer):
    app = PatternLimitMiddleware(support.asgi_echo, limiter=Limiter(secret=support.SECRET))
    with caplog.at_level(logging.WARNING, logger="patternlimit"):
        send(app, ["/a"], client=("8.8.4.4", 1))  # public: no warning yet
        assert not any(PROXY_HINT in record.getMessage() for record in caplog.records)
        send(app, ["/a", "/b", "/c"], client=(peer, 1))
        send(app, ["/d"], client=("192.168.0.1", 1))
    warnings = [record for record in caplog.records if PROXY_HINT in record.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING and peer in warnings[0].getMessage()


def test_no_proxy_warning_when_trusted_proxies_are_set_and_the_wsgi_middleware_warns_too(caplog):
    trusted = PatternLimitMiddleware(
        support.asgi_echo, limiter=Limiter(secret=support.SECRET), trusted_proxies=("10.0.0.0/8",)
    )
    wsgi = PatternLimitWSGIMiddleware(support.wsgi_echo, limiter=Limiter(secret=support.SECRET))
    with caplog.at_level(logging.WARNING, logger="patternlimit"):
        send(trusted, ["/a"], client=("127.0.0.1", 1))
        assert not any(PROXY_HINT in record.getMessage() for record in caplog.records)
        with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://api.test") as http:
            http.get("/a")
            http.get("/b")
    assert sum(PROXY_HINT in record.getMessage() for record in caplog.records) == 1
