"""The shared log in Redis: one stream of batches per namespace, a generation id, and a snapshot.

Keys (``ns`` is the namespace; the braces are a cluster hash tag, so all of a namespace's keys share one slot and
one Lua script may touch them all):

* ``{ns}:log`` - a stream; each entry is one process's batch of records (fields ``p``: producer, ``b``: batch),
  trimmed to about ``max_entries`` entries;
* ``{ns}:generation`` - a random id created with the state; a new id means Redis lost the state;
* ``{ns}:snapshot`` - a hash: the full state of one process (``state``), the log entry it covers (``cursor``) and
  its ``generation``, for processes that join later; ``{ns}:snapshot-lock`` elects who writes it.

One exchange is one ``EVALSHA`` of ``lua/exchange.lua`` (GET the generation, XADD the batch, XRANGE what was
logged between the cursor and it; see the script's header). Every key has a TTL, set when the key is created and
refreshed by each process's exchanges at most once a second, so an abandoned namespace disappears. Every call has
the client's socket timeouts and no retry of its own: the caller decides what a failure means. Driver errors
become :class:`StorageError` with the driver's exception as ``__cause__``. Needs Redis 6.2 or later (exclusive
XRANGE bounds, XADD NOMKSTREAM).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from patternlimit.errors import ConfigurationError, StorageError
from patternlimit.storage.options import StorageSpec

READ_LIMIT = 1000
"""Log entries read per exchange at most; a process far behind catches up over several exchanges."""

_EXCHANGE = resources.files("patternlimit.storage").joinpath("lua/exchange.lua").read_text()

_ERRORS = (redis.RedisError, OSError, asyncio.TimeoutError)


class Entry(NamedTuple):  # a catch-up read builds up to READ_LIMIT of these: half the cost of a frozen dataclass
    id: bytes
    producer: bytes
    batch: bytes


class Exchanged(NamedTuple):
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
        self.secret = f"{tag}:secret"
        self.shipped = f"{tag}:shipped:"


def client_options(spec: StorageSpec, *, asynchronous: bool = False) -> dict[str, Any]:
    options = spec.options
    return {
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
        # No retries inside redis-py: one failed call must cost one timeout, and the limiter backs off itself.
        # An asyncio client takes the asyncio Retry (redis-py 8.2 warns on, and converts, a synchronous one).
        "retry": AsyncRetry(NoBackoff(), 0) if asynchronous else Retry(NoBackoff(), 0),
    }


def connect(spec: StorageSpec) -> Any:
    """A synchronous client for ``spec``: the given client itself when one was passed, unless it decodes replies.

    The log's records and snapshots are binary, so a client or pool made with ``decode_responses=True`` (common in
    apps that use Redis for text) would fail on them: the limiter then uses a pool of its own with the same
    connection settings and ``decode_responses=False`` (closed with the limiter)."""
    target = spec.target
    if isinstance(target, redis.ConnectionPool):
        return redis.Redis(connection_pool=_binary(target))
    if isinstance(target, redis.Redis) and _decodes(target.connection_pool):
        return redis.Redis(connection_pool=_binary(target.connection_pool))
    if not isinstance(target, str):
        return target
    if spec.cluster:
        return redis.RedisCluster.from_url(target, **client_options(spec))
    return redis.Redis.from_url(target, **client_options(spec))


def _decodes(pool: redis.ConnectionPool) -> bool:
    return bool(pool.connection_kwargs.get("decode_responses"))


def _binary(pool: redis.ConnectionPool) -> redis.ConnectionPool:
    """``pool`` itself, or a pool of the limiter's own like it but with ``decode_responses=False``."""
    if not _decodes(pool):
        return pool
    settings = {**pool.connection_kwargs, "decode_responses": False}
    return redis.ConnectionPool(
        connection_class=pool.connection_class, max_connections=pool.max_connections, **settings
    )


def owns_pool(spec: StorageSpec, client: Any) -> bool:
    """Whether ``client``'s pool was made by :func:`connect` (so the limiter disconnects it at close)."""
    pool = getattr(client, "connection_pool", None)
    target = spec.target
    given = target if isinstance(target, redis.ConnectionPool) else getattr(target, "connection_pool", None)
    return pool is not None and not isinstance(target, str) and pool is not given


def connect_async(spec: StorageSpec) -> Any | None:
    """An asyncio client for ``spec``, or None when the application passed its own synchronous client."""
    target = spec.target
    if not isinstance(target, str):
        return None
    if spec.cluster:
        return redis.asyncio.RedisCluster.from_url(target, **client_options(spec, asynchronous=True))
    return redis.asyncio.Redis.from_url(target, **client_options(spec, asynchronous=True))


class RedisLog:
    """The synchronous side of the shared log.

    Exchanges are not thread-safe: the caller runs one at a time (the replicator holds its exchange lock). On a
    ``redis.Redis`` client an exchange is one pre-encoded ``EVALSHA`` written to a connection this log keeps for
    itself and read back as raw bytes: no pool checkout, retry wrapper or response callback per request, which
    is most of what redis-py adds to a round trip. A cluster client goes through redis-py's ``Script`` (it routes
    the call to the slot's master).
    """

    def __init__(self, client: Any, namespace: str, *, ttl: float, max_entries: int) -> None:
        self.client = client
        self.keys = _Keys(namespace)
        self.ttl_ms = max(1000, int(ttl * 1000))
        self.max_entries = max_entries
        self.read_limit = READ_LIMIT
        # Refresh the TTLs at most every second (a quarter of the TTL when that is shorter): each key keeps at
        # least three quarters of its TTL while any process exchanges, without a PEXPIRE on every request.
        self.refresh_period = min(1.0, self.ttl_ms / 4000)
        self._refresh_at = 0.0
        self._exchange = client.register_script(_EXCHANGE)
        self._direct = _direct(client)
        self._prefix: tuple[bytes, bytes] | None = None  # (producer, the command's constant head)
        self._candidate = b""
        self._new_candidate()
        self._connection: Any = None
        self._pid = 0

    def exchange(self, producer: bytes, batch: bytes, cursor: bytes, until: bytes | None = None) -> Exchanged:
        """Append ``batch`` (if not empty) and read the entries after ``cursor`` and before the one appended (when
        nothing is appended: before ``until``, or to the end), at most :attr:`read_limit`, in one atomic round
        trip."""
        refresh = time.monotonic() >= self._refresh_at
        end = _end(until)
        try:
            if self._direct:
                reply = self._send(self._command(producer, batch, cursor, end, refresh))
            else:
                reply = self._exchange(
                    keys=self._key_list(producer), args=self._args(producer, batch, cursor, end, refresh)
                )
        except _ERRORS as exc:
            self._new_candidate()  # a call that timed out may have created the generation
            raise StorageError(f"Redis exchange failed: {exc!r}") from exc
        return self._finish(reply, refresh)

    def read_snapshot(self) -> Snapshot | None:
        try:
            fields = self.client.hgetall(self.keys.snapshot)
        except _ERRORS as exc:
            raise StorageError(f"Redis snapshot read failed: {exc!r}") from exc
        return _snapshot(fields)

    def snapshot_lock(self, producer: bytes, interval: float) -> bool:
        """Whether this producer holds (or wins, and then holds for ``interval``) the snapshot lock: the one
        process that writes snapshots. Asked before a snapshot is built, so that only that process stops to copy
        its state."""
        try:
            lock_ms = max(1000, int(interval * 1000))
            holder = self.client.get(self.keys.lock)
            if holder not in (None, producer) or (
                holder is None and not self.client.set(self.keys.lock, producer, nx=True, px=lock_ms)
            ):
                return False
            self.client.pexpire(self.keys.lock, lock_ms)
            return True
        except _ERRORS as exc:
            raise StorageError(f"Redis snapshot lock failed: {exc!r}") from exc

    def write_snapshot(self, producer: bytes, snapshot: Snapshot, interval: float) -> bool:
        """Write ``snapshot`` if this producer holds (or wins) the snapshot lock; returns whether it wrote."""
        try:
            if not self.snapshot_lock(producer, interval):
                return False
            mapping = {"generation": snapshot.generation, "cursor": snapshot.cursor, "state": snapshot.state}
            self.client.hset(self.keys.snapshot, mapping=mapping)
            self.client.pexpire(self.keys.snapshot, self.ttl_ms)
            return True
        except _ERRORS as exc:
            raise StorageError(f"Redis snapshot write failed: {exc!r}") from exc

    def claim_secret(self, fingerprint: bytes) -> None:
        """Record ``fingerprint`` (a keyed digest of the secret, never the secret) as the namespace's, or check it
        against the one recorded: records made under another secret would be applied as noise (every key differs),
        so a limiter with another secret is refused. The key lives as long as the log's; every claim refreshes it,
        and a namespace left idle past the TTL may be taken by a new secret."""
        try:
            # SET NX then GET, not SET NX GET: that needs Redis 7, and the namespace keeps to 6.2.
            held = (
                None
                if self.client.set(self.keys.secret, fingerprint, nx=True, px=self.ttl_ms)
                else (self.client.get(self.keys.secret))
            )
            if isinstance(held, str):
                held = held.encode()
            if held == fingerprint:
                self.client.pexpire(self.keys.secret, self.ttl_ms)
        except _ERRORS as exc:
            raise StorageError(f"Redis secret check failed: {exc!r}") from exc
        if held is not None and held != fingerprint:
            namespace = self.keys.log[1 : self.keys.log.index("}")]
            raise ConfigurationError(
                f"Redis namespace {namespace!r} is shared under another secret (secret id "
                f"{held[:16].decode('ascii', 'replace')!r}, this limiter's is "
                f"{fingerprint.decode('ascii', 'replace')!r}): "
                f"give every process of a deployment the same secret, or use another namespace"
            )

    def memory(self) -> int:
        """Bytes Redis reports for this namespace's keys (``MEMORY USAGE``)."""
        total = 0
        for key in (self.keys.log, self.keys.generation, self.keys.snapshot, self.keys.lock, self.keys.secret):
            total += int(self.client.memory_usage(key, samples=0) or 0)
        return total

    def close(self) -> None:
        """Give the exchange connection back to the client's pool."""
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            self.client.connection_pool.release(connection)

    def _send(self, command: bytes) -> Any:
        connection = self._connection
        if connection is None or self._pid != os.getpid():
            # After a fork the parent's connection is not ours: the pool hands the child a new one.
            connection = self._connection = self.client.connection_pool.get_connection()
            self._pid = os.getpid()
        try:
            connection.send_packed_command((command,))
            return connection.read_response(disable_decoding=True)
        except redis.exceptions.NoScriptError:  # a restarted or other server: load the script, then once more
            connection.send_command("SCRIPT", "LOAD", _EXCHANGE)
            connection.read_response()
            connection.send_packed_command((command,))
            return connection.read_response(disable_decoding=True)

    def _command(self, producer: bytes, batch: bytes, cursor: bytes, end: bytes, refresh: bool) -> bytes:
        """The exchange as RESP bytes: a head encoded once per producer and generation candidate, then the
        refresh flag, the cursor, the read's end and the batch."""
        prefix = self._prefix
        if prefix is None or prefix[0] != producer:
            keys = self._key_list(producer)
            head = [b"EVALSHA", self._exchange.sha.encode(), b"%d" % len(keys), *(key.encode() for key in keys)]
            head += [producer, *(str(value).encode() for value in self._constants()), self._candidate]
            encoded = b"*%d\r\n" % (len(head) + 4) + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in head)
            prefix = self._prefix = (producer, encoded)
        flag = b"$1\r\n1\r\n" if refresh else b"$1\r\n0\r\n"
        return b"%s%s$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            prefix[1], flag, len(cursor), cursor, len(end), end, len(batch), batch
        )  # fmt: skip

    def _finish(self, reply: Any, refresh: bool) -> Exchanged:
        if refresh:
            self._refresh_at = time.monotonic() + self.refresh_period
        result = _parse(reply)
        if result.generation == self._candidate:  # created by this call: the next one must be new
            self._new_candidate()
        return result

    def _new_candidate(self) -> None:
        """A fresh generation id to create if the namespace has none: a lost namespace must get a new one."""
        self._candidate = secrets.token_hex(8).encode()
        self._prefix = None

    def _constants(self) -> tuple[int, int, int]:
        return self.ttl_ms, self.max_entries, self.read_limit

    def _key_list(self, producer: bytes) -> list[str]:
        return [self.keys.log, self.keys.generation, self.keys.shipped + producer.decode("ascii")]

    def _args(self, producer: bytes, batch: bytes, cursor: bytes, end: bytes, refresh: bool) -> list[Any]:
        return [producer, *self._constants(), self._candidate, int(refresh), cursor, end, batch]


class AsyncRedisLog(RedisLog):
    """The exchange on ``redis.asyncio``, for :meth:`Limiter.acheck` in strict mode (the same direct connection
    on a ``redis.asyncio.Redis`` client; the caller runs one exchange at a time)."""

    async def aexchange(self, producer: bytes, batch: bytes, cursor: bytes, until: bytes | None = None) -> Exchanged:
        refresh = time.monotonic() >= self._refresh_at
        end = _end(until)
        try:
            if self._direct:
                reply = await self._asend(self._command(producer, batch, cursor, end, refresh))
            else:
                reply = await self._exchange(
                    keys=self._key_list(producer), args=self._args(producer, batch, cursor, end, refresh)
                )
        except _ERRORS as exc:
            self._new_candidate()
            raise StorageError(f"Redis exchange failed: {exc!r}") from exc
        return self._finish(reply, refresh)

    async def aread_snapshot(self) -> Snapshot | None:
        try:
            fields = await self.client.hgetall(self.keys.snapshot)
        except _ERRORS as exc:
            raise StorageError(f"Redis snapshot read failed: {exc!r}") from exc
        return _snapshot(fields)

    async def aclose(self) -> None:
        """Give the exchange connection back to the pool and close the client."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await self.client.connection_pool.release(connection)
        await self.client.aclose()

    async def _asend(self, command: bytes) -> Any:
        connection = self._connection
        if connection is None:
            connection = self._connection = await self.client.connection_pool.get_connection()
        try:
            await connection.send_packed_command((command,))
            return await connection.read_response(disable_decoding=True)
        except redis.exceptions.NoScriptError:
            await connection.send_command("SCRIPT", "LOAD", _EXCHANGE)
            await connection.read_response()
            await connection.send_packed_command((command,))
            return await connection.read_response(disable_decoding=True)


def _end(until: bytes | None) -> bytes:
    """The end of a read that appends nothing, as XRANGE takes it: before ``until``, or the stream's end."""
    return b"+" if until is None else b"(" + until


def _direct(client: Any) -> bool:
    """Whether exchanges may go straight to a connection of ``client``'s pool (a plain, non-cluster client)."""
    return isinstance(client, redis.Redis | redis.asyncio.Redis)


def _parse(reply: Any) -> Exchanged:
    """Read the script's reply: ``b"generation appended-id"`` when no entries came with it, else the flat list
    ``[generation, appended-id, id, producer, batch, id, producer, batch, ...]`` (see exchange.lua)."""
    if isinstance(reply, bytes):
        generation, _, appended = reply.partition(b" ")
        return Exchanged(generation, appended or None, [])
    generation, appended = reply[0], reply[1]
    entries = [Entry(reply[index], reply[index + 1], reply[index + 2]) for index in range(2, len(reply) - 2, 3)]
    return Exchanged(generation, appended or None, entries)


def _snapshot(fields: dict[bytes, bytes]) -> Snapshot | None:
    if not fields or not {b"generation", b"cursor", b"state"} <= fields.keys():
        return None
    return Snapshot(fields[b"generation"], fields[b"cursor"], fields[b"state"])
