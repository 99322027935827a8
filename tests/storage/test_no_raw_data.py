"""No raw prompt text, account ids, clients or attribute values in Redis (records and snapshots) unless the
operator opts in with ``share_labels``: every key and value of the namespace is scanned after traffic."""

from __future__ import annotations

import contextlib
import time
import zlib

import redis

from patternlimit import Limiter, Request

SECRET = "a scanning test secret of 32 bytes"
NEEDLES = [b"klingonese", b"acct-raw", b"client-raw", b"ORGRAWVALUE"]


def _policy() -> dict:
    when = {"young_accounts": {"min": 3}}
    return {
        "rules": [
            {"type": "limit", "name": "per-org", "limit": "5/minute", "per": "attribute:org", "action": "throttle"},
            {"type": "limit", "name": "per-client", "limit": "5/minute", "per": "client", "action": "throttle"},
            {"type": "pattern", "name": "org", "pattern": "attribute:org", "when": when, "action": "throttle"},
            {"type": "pattern", "name": "client", "pattern": "client", "when": when, "action": "throttle"},
            {"type": "pattern", "name": "tpl", "pattern": "template", "when": when, "action": "throttle"},
        ]
    }


def _namespace_bytes(client: redis.Redis, namespace: str) -> bytes:
    blob = b""
    for key in client.keys("{" + namespace + "}*"):
        kind = client.type(key)
        if kind == b"stream":
            for _, fields in client.xrange(key):
                blob += b"".join(fields.values())
        elif kind == b"hash":
            for name, value in client.hgetall(key).items():
                blob += name + value
                with contextlib.suppress(zlib.error):
                    blob += zlib.decompress(value)
        elif kind == b"string":
            blob += client.get(key) or b""
    return blob


def _traffic(limiter: Limiter) -> None:
    now = time.time()
    for i in range(300):
        request = Request(
            account=f"acct-raw-{i % 30}",
            text=f"Please translate the following sentence into klingonese, item {i}",
            client=f"client-raw-{i % 3}",
            account_created_at=now - 60,
            attributes={"org": "ORGRAWVALUE"},
        )
        limiter.check(request)
        if i % 100 == 0:
            limiter.top_patterns()


def _scan(url: str, namespace: str, **options: object) -> bytes:
    limiter = Limiter(_policy(), secret=SECRET, storage=url, storage_options={"namespace": namespace, **options})
    try:
        _traffic(limiter)
        limiter.sync()
        assert limiter._replicator is not None and limiter._replicator.publish_snapshot()
    finally:
        limiter.close()
    return _namespace_bytes(redis.Redis.from_url(url), namespace)


def test_nothing_raw_reaches_redis(shared_redis_url: str, namespace: str) -> None:
    blob = _scan(shared_redis_url, namespace)
    assert b'"labels"' in blob  # the snapshot was written and scanned
    assert [needle for needle in NEEDLES if needle in blob] == []


def test_labels_are_shared_when_the_operator_opts_in(shared_redis_url: str, namespace: str) -> None:
    """The scan can fail: with labels shared, the same traffic puts raw values in Redis."""
    blob = _scan(shared_redis_url, namespace, share_labels=True)
    assert any(needle in blob for needle in NEEDLES)
