"""One secret per namespace: a limiter joining a namespace shared under another secret is refused at start."""

from __future__ import annotations

import time

import pytest
import redis

from patternlimit import Limiter, Request
from patternlimit._testing.redis_server import RedisServer
from patternlimit.errors import ConfigurationError

A, B = "a" * 32, "b" * 32


def test_second_secret_on_a_namespace_is_refused(shared_redis_url: str, namespace: str) -> None:
    first = Limiter(secret=A, storage=shared_redis_url, storage_options={"namespace": namespace})
    try:
        with pytest.raises(ConfigurationError, match="another secret") as caught:
            Limiter(secret=B, storage=shared_redis_url, storage_options={"namespace": namespace})
        assert first.secret_id in str(caught.value)
        same = Limiter(secret=A, storage=shared_redis_url, storage_options={"namespace": namespace})
        same.close()
        other = Limiter(secret=B, storage=shared_redis_url, storage_options={"namespace": namespace + "-b"})
        other.close()
    finally:
        first.close()


def test_the_namespace_keeps_a_fingerprint_never_the_secret(shared_redis_url: str, namespace: str) -> None:
    limiter = Limiter(secret=A, storage=shared_redis_url, storage_options={"namespace": namespace})
    try:
        client = redis.Redis.from_url(shared_redis_url)
        stored = client.get("{" + namespace + "}:secret")
        assert stored == limiter.secret_id.encode()
        assert A.encode() not in stored and client.pttl("{" + namespace + "}:secret") > 0
    finally:
        limiter.close()


def test_a_late_join_under_another_secret_never_shares() -> None:
    """Redis away at start, then back holding another secret's namespace: unhealthy, named, nothing applied."""
    server = RedisServer().start()
    try:
        url = server.url
        server.kill()
        # The first retry comes 1.5 to 3 s after the failed join: the owner claims the namespace before it.
        late = Limiter(secret=B, storage=url, storage_options={"namespace": "late", "sync_interval": 3.0})
        try:
            server.restart()
            owner = Limiter(secret=A, storage=url, storage_options={"namespace": "late"})
            owner.check(Request(account="x", text="hello there"))
            owner.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and "another secret" not in str(late.storage_status.last_error):
                time.sleep(0.02)
            status = late.storage_status
            assert not status.healthy and "another secret" in str(status.last_error)
            assert status.applied == 0
        finally:
            late.close()
    finally:
        server.stop()
