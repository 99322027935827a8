"""A limiter created before a fork (gunicorn ``--preload``): the child is a producer of its own with a sync thread
of its own, and every request is counted once in the shared log, the parent's and the child's."""

from __future__ import annotations

import multiprocessing
import time

from patternlimit import Limiter, Request
from patternlimit._testing import traffic

SECRET = b"test secret for the fork test!!!!"
TEXT = "Translate the following paragraph into formal {language} and list every idiom you changed: {n}"
_LIMITERS: dict[str, Limiter] = {}


def requests(prefix: str, count: int, start: float) -> list[tuple[float, Request]]:
    return [
        (
            start + index,
            Request(account=f"{prefix}-{index}", ip="198.51.100.7", text=TEXT.format(language="German", n=index)),
        )
        for index in range(count)
    ]


def _child(key: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limiter = _LIMITERS[key]
    replicator = limiter._replicator
    assert replicator is not None
    for now, request in requests("child", 30, traffic.START + 100):
        limiter.check(request, now)
    deadline = time.monotonic() + 10
    while replicator.journal.pending_bytes and time.monotonic() < deadline:
        time.sleep(0.02)  # the child's own sync thread ships what it counted
    results.put((replicator.producer, replicator._thread.is_alive(), replicator.journal.pending_bytes))
    limiter.close()


def template_hits(limiter: Limiter, now: float) -> int:
    return max(row.hits for row in limiter.top_patterns(50, now) if row.kind == "template")


def test_a_limiter_created_before_a_fork_counts_each_request_once_from_parent_and_child(shared_redis_url, namespace):
    options = {"mode": "eventual", "namespace": namespace, "sync_interval": 0.05, "share_labels": True}
    parent = Limiter(storage=shared_redis_url, storage_options=options, secret=SECRET)
    key = shared_redis_url + namespace
    try:
        for now, request in requests("before", 20, traffic.START):
            parent.check(request, now)
        _LIMITERS[key] = parent
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_child, args=(key, results))
        child.start()
        producer, syncing, pending = results.get(timeout=60)
        child.join(timeout=30)
        assert child.exitcode == 0
        assert producer != parent._replicator.producer  # type: ignore[union-attr]
        assert syncing and pending == 0
        for now, request in requests("after", 10, traffic.START + 200):
            parent.check(request, now)
        parent.sync()
        later = traffic.START + 300
        with Limiter(storage=shared_redis_url, storage_options=options, secret=SECRET) as observer:
            observer.sync()
            assert template_hits(observer, later) == 20 + 30 + 10
        assert template_hits(parent, later) == 20 + 30 + 10  # the parent read the child's records once
    finally:
        _LIMITERS.pop(key, None)
        parent.close()
