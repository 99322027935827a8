"""Storage URIs and options: every scheme parses, and every mistake is a ConfigurationError naming the field."""

from __future__ import annotations

import pytest
import redis

from patternlimit import ConfigurationError, Limiter, Request
from patternlimit.storage.options import parse_storage


@pytest.mark.parametrize(
    ("uri", "target", "cluster"),
    [
        ("redis://localhost:6379/2", "redis://localhost:6379/2", False),
        ("rediss://user:pw@host:6380/0?ssl_cert_reqs=none", "rediss://user:pw@host:6380/0?ssl_cert_reqs=none", False),
        ("redis+unix:///run/redis.sock?db=1", "unix:///run/redis.sock?db=1", False),
        ("redis+cluster://a:7000,b:7001", "redis://a:7000", True),
        ("redis://h:1/0?mode=strict&sync_interval=0.5&health_check_interval=3",
         "redis://h:1/0?health_check_interval=3", False),
    ],
)  # fmt: skip
def test_uris_are_translated_for_redis_py_and_our_options_taken_out(uri, target, cluster):
    spec = parse_storage(uri)
    assert (spec.kind, spec.target, spec.cluster) == ("redis", target, cluster)


def test_query_options_are_validated_and_the_mapping_wins():
    spec = parse_storage("redis://h/0?mode=strict&sync_interval=0.5", {"sync_interval": 0.25})
    assert spec.options.mode == "strict" and spec.options.sync_interval == 0.25
    assert parse_storage("memory://").kind == "memory"


def test_a_client_or_pool_is_accepted_as_it_is():
    pool = redis.ConnectionPool(host="localhost")
    client = redis.Redis(connection_pool=pool)
    assert parse_storage(client).target is client
    assert parse_storage(pool).target is pool
    client.close()


@pytest.mark.parametrize(
    ("storage", "options", "field"),
    [
        ("redis://h/0?mode=sometimes", None, "mode"),
        ("redis://h/0", {"timeout": -1}, "timeout"),
        ("redis://h/0", {"on_storage_error": "panic"}, "on_storage_error"),
        ("redis://h/0", {"namespace": "has spaces"}, "namespace"),
        ("redis://h/0", {"sync_intervals": 1}, "sync_intervals"),
        ("memcached://h", None, "scheme"),
        (42, None, "storage"),
    ],
)
def test_mistakes_name_the_field(storage, options, field):
    with pytest.raises(ConfigurationError, match=field):
        Limiter(storage=storage, storage_options=options, secret=b"x" * 32)


def test_a_limiter_works_over_a_unix_socket(redis_server):
    storage = f"redis+unix://{redis_server.socket}?db=0&mode=strict&namespace=unix"
    with Limiter(storage=storage, secret=b"x" * 32) as limiter:
        limiter.check(Request(account="a", ip="203.0.113.1", text="hello"), 1_760_000_000.0)
        status = limiter.storage_status
        assert status is not None and status.healthy and status.last_sync is not None and status.failures == 0
