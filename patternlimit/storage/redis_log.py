"""The shared log in Redis: one stream of batches per namespace, a generation id, and a snapshot.

Keys (``ns`` is the namespace; the braces are a cluster hash tag, so all of a namespace's keys share one slot and
one Lua script may touch them all):

* ``{ns}:log`` - a stream; each entry is one process's batch of records (fields ``p``: producer, ``b``: batch),
  trimmed to about ``max_entries`` entries;
* ``{ns}:generation`` - a random id created with the state; a new id means Redis lost the state;
* ``{ns}:snapshot`` - a hash: the full state of one process (``state``), the log entry it covers (``cursor``) and
  its ``generation``, for processes that join later; ``{ns}:snapshot-lock`` elects who writes it.

Every key has a TTL (refreshed on use), so an abandoned namespace disappears. Every call has the client's socket
timeouts and no retry of its own: the caller decides what a failure means. Driver errors become
:class:`StorageError` with the driver's exception as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from patternlimit.errors import StorageError
from patternlimit.storage.options import StorageSpec

READ_LIMIT = 1000
"""Log entries read per exchange at most; a process far behind catches up over several exchanges."""

_EXCHANGE = resources.files("patternlimit.storage").joinpath("lua/exchange.lua").read_text()

_ERRORS = (redis.RedisError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class Entry:
    id: bytes
    producer: bytes
    batch: bytes


@dataclass(frozen=True, slots=True)
class Exchanged:
    """What one exchange returned: the namespace's generation, the id appended (if any) and entries read."""

    generation: bytes
    appended: bytes | None
    entries: list[Entry]


@dataclass(frozen=True, slots=True)
class Snapshot:
    generation: bytes
    cursor: bytes
    state: bytes


class _Keys:
    def __init__(self, namespace: str) -> None:
        tag = "{" + namespace + "}"
        self.log = f"{tag}:log"
        self.generation = f"{tag}:generation"
        self.snapshot = f"{tag}:snapshot"
        self.lock = f"{tag}:snapshot-lock"


def client_options(spec: StorageSpec) -> dict[str, Any]:
    options = spec.options
    return {
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
        # No retries inside redis-py: one failed call must cost one timeout, and the limiter backs off itself.
        "retry": Retry(NoBackoff(), 0),
    }


def connect(spec: StorageSpec) -> Any:
    """A synchronous client for ``spec`` (the given client itself when one was passed)."""
    target = spec.target
    if isinstance(target, redis.ConnectionPool):
        return redis.Redis(connection_pool=target)
    if not isinstance(target, str):
        return target
    if spec.cluster:
        return redis.RedisCluster.from_url(target, **client_options(spec))
    return redis.Redis.from_url(target, **client_options(spec))


def connect_async(spec: StorageSpec) -> Any | None:
    """An asyncio client for ``spec``, or None when the application passed its own synchronous client."""
    target = spec.target
    if not isinstance(target, str):
        return None
    if spec.cluster:
        return redis.asyncio.RedisCluster.from_url(target, **client_options(spec))
    return redis.asyncio.Redis.from_url(target, **client_options(spec))


class RedisLog:
    """The synchronous side of the shared log."""

    def __init__(self, client: Any, namespace: str, *, ttl: float, max_entries: int) -> None:
        self.client = client
        self.keys = _Keys(namespace)
        self.ttl_ms = max(1000, int(ttl * 1000))
        self.max_entries = max_entries
        self._exchange = client.register_script(_EXCHANGE)

    def exchange(self, producer: bytes, batch: bytes, cursor: bytes) -> Exchanged:
        """Append ``batch`` (if not empty) and read every entry after ``cursor``, in one atomic round trip."""
        try:
            reply = self._exchange(keys=self._key_list(), args=self._args(producer, batch, cursor))
        except _ERRORS as exc:
            raise StorageError(f"Redis exchange failed: {exc!r}") from exc
        return _parse(reply)

    def read_snapshot(self) -> Snapshot | None:
        try:
            fields = self.client.hgetall(self.keys.snapshot)
        except _ERRORS as exc:
            raise StorageError(f"Redis snapshot read failed: {exc!r}") from exc
        return _snapshot(fields)

    def write_snapshot(self, producer: bytes, snapshot: Snapshot, interval: float) -> bool:
        """Write ``snapshot`` if this producer holds (or wins) the snapshot lock; returns whether it wrote."""
        try:
            lock_ms = max(1000, int(interval * 1000))
            holder = self.client.get(self.keys.lock)
            if holder not in (None, producer) or (
                holder is None and not self.client.set(self.keys.lock, producer, nx=True, px=lock_ms)
            ):
                return False
            self.client.pexpire(self.keys.lock, lock_ms)
            mapping = {"generation": snapshot.generation, "cursor": snapshot.cursor, "state": snapshot.state}
            self.client.hset(self.keys.snapshot, mapping=mapping)
            self.client.pexpire(self.keys.snapshot, self.ttl_ms)
            return True
        except _ERRORS as exc:
            raise StorageError(f"Redis snapshot write failed: {exc!r}") from exc

    def memory(self) -> int:
        """Bytes Redis reports for this namespace's keys (``MEMORY USAGE``)."""
        total = 0
        for key in (self.keys.log, self.keys.generation, self.keys.snapshot, self.keys.lock):
            total += int(self.client.memory_usage(key, samples=0) or 0)
        return total

    def _key_list(self) -> list[str]:
        return [self.keys.log, self.keys.generation]

    def _args(self, producer: bytes, batch: bytes, cursor: bytes) -> list[Any]:
        fresh = secrets.token_hex(8)
        return [producer, batch, cursor, self.ttl_ms, self.max_entries, fresh, READ_LIMIT]


class AsyncRedisLog(RedisLog):
    """The exchange on ``redis.asyncio``, for :meth:`Limiter.acheck` in strict mode."""

    async def aexchange(self, producer: bytes, batch: bytes, cursor: bytes) -> Exchanged:
        try:
            reply = await self._exchange(keys=self._key_list(), args=self._args(producer, batch, cursor))
        except _ERRORS as exc:
            raise StorageError(f"Redis exchange failed: {exc!r}") from exc
        return _parse(reply)


def _parse(reply: Any) -> Exchanged:
    generation, appended, raw = reply
    entries = []
    for entry_id, fields in raw:
        values = dict(zip(fields[::2], fields[1::2], strict=True))
        entries.append(Entry(entry_id, values.get(b"p", b""), values.get(b"b", b"")))
    return Exchanged(generation, appended or None, entries)


def _snapshot(fields: dict[bytes, bytes]) -> Snapshot | None:
    if not fields or not {b"generation", b"cursor", b"state"} <= fields.keys():
        return None
    return Snapshot(fields[b"generation"], fields[b"cursor"], fields[b"state"])
