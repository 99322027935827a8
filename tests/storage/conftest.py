"""Redis fixtures: a real ``redis-server`` started by the tests on a free port, or ``REDIS_URL`` when set."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from patternlimit._testing.redis_server import RedisClusterServers, RedisServer, redis_url


@pytest.fixture(scope="session")
def shared_redis_url() -> Iterator[str]:
    """A server for the whole session (``REDIS_URL`` if set): tests isolate themselves by namespace."""
    with redis_url() as url:
        yield url


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A server of the test's own, for tests that kill, restart or pause it."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[RedisClusterServers]:
    cluster = RedisClusterServers().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_client(shared_redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(shared_redis_url)
    try:
        yield client
    finally:
        client.close()
