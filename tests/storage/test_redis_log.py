"""The shared log's exchange against a real server: what one round trip appends and returns, the generation, the
TTLs, and the connection the log keeps for itself (script cache flushed, fork, returned to the pool at close)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest
import redis

from patternlimit import Limiter, Request
from patternlimit.storage.redis_log import RedisLog

TTL = 100.0


@pytest.fixture
def make_log(redis_client: redis.Redis, namespace: str) -> Iterator[object]:
    made: list[RedisLog] = []

    def build(ttl: float = TTL) -> RedisLog:
        log = RedisLog(redis_client, namespace, ttl=ttl, max_entries=1000)
        made.append(log)
        return log

    yield build
    for log in made:
        log.close()


def test_an_exchange_returns_exactly_the_entries_logged_between_the_cursor_and_its_own(make_log):
    first, second = make_log(), make_log()
    own = first.exchange(b"first", b"a1", b"0-0")
    assert own.entries == [] and own.appended is not None
    others = [second.exchange(b"second", f"b{index}".encode(), b"0-0").appended for index in range(3)]
    mine = first.exchange(b"first", b"a2", own.appended)
    assert [(entry.id, entry.producer, entry.batch) for entry in mine.entries] == [
        (others[0], b"second", b"b0"), (others[1], b"second", b"b1"), (others[2], b"second", b"b2"),
    ]  # fmt: skip
    # the second process's own entries are not sent back; the first's are, as another's
    later = second.exchange(b"second", b"", others[2])
    assert [entry.batch for entry in later.entries] == [b"a2"] and later.appended is None
    assert len({own.generation, mine.generation, later.generation}) == 1


def test_a_batch_shipped_again_after_a_timeout_that_reached_redis_is_logged_once(make_log, redis_client, namespace):
    """A frozen server runs the commands buffered on its sockets when it resumes, so a call that timed out may
    have appended its batch; the producer ships the same batch again, and the log keeps one copy."""
    producer, other = make_log(), make_log()
    first = producer.exchange(b"producer", b"batch-1", b"0-0")
    between = other.exchange(b"other", b"other-1", b"0-0").appended
    again = producer.exchange(b"producer", b"batch-1", b"0-0")  # the retry of a call that reached Redis
    assert again.appended == first.appended  # answered with the first copy's id: the read ends before it
    assert [entry.batch for entry in again.entries] == []
    log = redis_client.xrange("{" + namespace + "}:log")
    assert [fields[b"b"] for _, fields in log] == [b"batch-1", b"other-1"]
    following = producer.exchange(b"producer", b"batch-2", first.appended)
    assert [entry.id for entry in following.entries] == [between]  # nothing skipped, nothing twice
    assert len(redis_client.xrange("{" + namespace + "}:log")) == 3
    # The same bytes from another producer are another batch.
    assert other.exchange(b"other", b"batch-2", between).appended != following.appended


def test_a_read_stops_at_the_read_limit_and_reads_on_up_to_a_given_id(make_log):
    log, other = make_log(), make_log()
    log.read_limit = 2
    appended = [other.exchange(b"other", f"{index}".encode(), b"0-0").appended for index in range(5)]
    mine = log.exchange(b"me", b"mine", b"0-0")
    assert [entry.batch for entry in mine.entries] == [b"0", b"1"]
    other.exchange(b"other", b"after mine", b"0-0")
    rest = log.exchange(b"me", b"", appended[1], until=mine.appended)
    assert [entry.batch for entry in rest.entries] == [b"2", b"3"]
    rest = log.exchange(b"me", b"", appended[3], until=mine.appended)
    assert [entry.batch for entry in rest.entries] == [b"4"]  # not past our own entry
    assert [entry.batch for entry in log.exchange(b"me", b"", mine.appended).entries] == [b"after mine"]


def test_a_lost_namespace_gets_a_new_generation_every_time(make_log, redis_client, namespace):
    log, other = make_log(), make_log()
    seen = []
    for _ in range(3):
        generation = log.exchange(b"me", b"x", b"0-0").generation
        assert other.exchange(b"other", b"", b"0-0").generation == generation
        seen.append(generation)
        redis_client.delete(log.keys.log, log.keys.generation)  # what a restart without persistence does
    assert len(set(seen)) == 3


def test_keys_get_their_ttl_when_created_and_refreshed_on_the_client_s_schedule(make_log, redis_client):
    log = make_log()
    log.exchange(b"me", b"x", b"0-0")
    keys = (log.keys.log, log.keys.generation)
    assert all(TTL * 1000 - 5000 < redis_client.pttl(key) <= TTL * 1000 for key in keys)
    for key in keys:
        redis_client.pexpire(key, 50_000)
    log.exchange(b"me", b"y", b"0-0")  # within the refresh period: no PEXPIRE
    assert all(redis_client.pttl(key) <= 50_000 for key in keys)
    log._refresh_at = 0.0  # the period is over
    log.exchange(b"me", b"", b"0-0")
    assert all(redis_client.pttl(key) > 90_000 for key in keys)
    # The log alone lost (the generation kept): the append that creates it again gives it its TTL at once.
    redis_client.delete(log.keys.log)
    log.exchange(b"me", b"z", b"0-0")
    assert redis_client.pttl(log.keys.log) > 90_000


def test_a_flushed_script_cache_is_loaded_again(make_log, redis_client):
    log = make_log()
    log.exchange(b"me", b"x", b"0-0")
    redis_client.script_flush()
    assert log.exchange(b"me", b"y", b"0-0").appended is not None


def _connection_id(log: RedisLog) -> int:
    """The server's id of the connection the log keeps for its exchanges."""
    log._connection.send_command("CLIENT", "ID")
    return int(log._connection.read_response())


_LOGS: dict[str, RedisLog] = {}


def _exchange_in_child(key: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    log = _LOGS[key]
    appended = log.exchange(b"child", b"from the child", b"0-0").appended
    results.put((appended, _connection_id(log)))


def test_a_forked_child_exchanges_on_a_connection_of_its_own(shared_redis_url, namespace):
    client = redis.Redis.from_url(shared_redis_url, socket_timeout=5.0)
    log = RedisLog(client, namespace, ttl=TTL, max_entries=1000)
    key = shared_redis_url + namespace
    try:
        first = log.exchange(b"parent", b"one", b"0-0").appended
        ours = _connection_id(log)
        _LOGS[key] = log
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_exchange_in_child, args=(key, results))
        child.start()
        appended, theirs = results.get(timeout=30)
        child.join(timeout=30)
        assert child.exitcode == 0 and appended is not None
        assert theirs != ours  # a socket shared by two processes would mix their replies
        after = log.exchange(b"parent", b"two", first)
        assert [entry.batch for entry in after.entries] == [b"from the child"]
        assert _connection_id(log) == ours
    finally:
        _LOGS.pop(key, None)
        log.close()
        client.close()


def test_a_limiter_gives_the_exchange_connection_back_to_a_pool_it_was_given(shared_redis_url, namespace):
    pool = redis.ConnectionPool.from_url(shared_redis_url)
    options = {"mode": "strict", "namespace": namespace}
    with Limiter(storage=pool, storage_options=options, secret=b"x" * 32) as limiter:
        limiter.check(Request(account="a", ip="203.0.113.1", text="hello"), 1_760_000_000.0)
        assert len(pool._in_use_connections) == 1  # the one the log keeps
    assert len(pool._in_use_connections) == 0
    pool.disconnect()


def test_entries_are_read_by_field_name_whatever_their_order(make_log, redis_client):
    log = make_log()
    first = log.exchange(b"me", b"x", b"0-0")
    redis_client.xadd(log.keys.log, {"extra": "ignored", "b": b"batch", "p": b"writer"})
    (entry,) = log.exchange(b"me", b"", first.appended).entries
    assert (entry.producer, entry.batch) == (b"writer", b"batch")


@pytest.mark.parametrize("mode", ["eventual", "strict"])
@pytest.mark.parametrize("given", ["client", "pool"])
def test_a_client_that_decodes_replies_still_shares_binary_state(shared_redis_url, namespace, mode, given):
    """Apps often make their client with decode_responses=True; the log's binary records and snapshots must still
    travel (the limiter uses a pool of its own like the app's), and the app's client keeps decoding."""
    pool = redis.ConnectionPool.from_url(shared_redis_url, decode_responses=True)
    client = redis.Redis(connection_pool=pool)
    target = client if given == "client" else pool
    options = {"mode": mode, "namespace": namespace, "snapshot_interval": 0.01}
    requests = [Request(account=f"a{index}", ip="203.0.113.9", text="hello there, old friend") for index in range(40)]
    try:
        with Limiter(storage=target, storage_options=options, secret=b"x" * 32) as first:
            for index, request in enumerate(requests):
                first.check(request, 1e9 + index)
            first.sync()
            with Limiter(storage=target, storage_options=options, secret=b"x" * 32) as later:
                later.sync()
                assert later.storage_status is not None and later.storage_status.healthy
                assert max(row.hits for row in later.top_patterns(5, 1e9 + 60)) == 40
        client.set(f"{namespace}:app", "text")
        assert client.get(f"{namespace}:app") == "text"  # the app's own client is untouched
    finally:
        client.close()
        pool.disconnect()


def test_a_snapshot_holds_exactly_the_log_up_to_its_cursor(shared_redis_url, namespace):
    """Requests counted here but not yet shipped when a snapshot is written are shipped first: a process joining
    from the snapshot must not count them twice (once in the snapshot, once from the log)."""
    options = {"mode": "eventual", "namespace": namespace, "sync_interval": 60.0}
    requests = [Request(account=f"a{index}", ip="203.0.113.9", text="hello there, old friend") for index in range(40)]
    with Limiter(storage=shared_redis_url, storage_options=options, secret=b"x" * 32) as first:
        for index, request in enumerate(requests):
            first.check(request, 1e9 + index)  # counted locally, nothing shipped (the next sync is a minute away)
        assert first._replicator is not None and first._replicator.publish_snapshot()
        first.sync()
        with Limiter(storage=shared_redis_url, storage_options=options, secret=b"x" * 32) as later:
            later.sync()
            assert max(row.hits for row in later.top_patterns(5, 1e9 + 60)) == 40
