"""The records a limiter shares: what it observed, and what it decided that other processes must know.

A process appends one *observation* per request (time, account, content hash, network, cost, young flag and the
pattern keys, exactly what the sketch kernel consumed) and an *event* per state change of the decision layer (a pattern
flagged, an account's request on a flagged pattern, a catch, an exact-limit hit). Applying the same records in
the same order to the same state gives the same state: that is how processes share one view.

A batch is bytes::

    b"PLJ2" | u32 observations | u32 keys | u32 event bytes | observations (40 B each) | keys (u64) | events (JSON)

(``PLJ1``, before the network field, is refused like any other corrupt batch: processes of one deployment run
one version's format.)

Nothing here executes what it decodes: observations are fixed-layout numbers and events are JSON lists, checked
by the applier. The journal is bounded: batches waiting for the store beyond ``max_bytes`` are dropped oldest
first, and counted in :attr:`Journal.dropped`.
"""

from __future__ import annotations

import json
import struct
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from patternlimit.errors import StorageError

MAGIC = b"PLJ2"
_HEADER = struct.Struct("<4sIII")
OBSERVATION = np.dtype(
    [
        ("now", "<f8"),
        ("account", "<u8"),
        ("content", "<u8"),
        ("network", "<u8"),
        ("cost", "<u4"),
        ("count", "u1"),
        ("copy_count", "u1"),
        ("young", "u1"),
        ("pad", "u1"),
    ]
)
_RECORD = struct.Struct("<dQQQIBB?x")
assert _RECORD.size == OBSERVATION.itemsize
_JSON = json.JSONEncoder(separators=(",", ":"))  # json.dumps with arguments builds an encoder per call: 2x slower
MAX_BATCH_RECORDS = 20_000
"""Observations per batch at most, so that one log entry stays under about 1.5 MiB."""


Observation = tuple[float, int, int, int, int, bool, int, tuple[int, ...]]
"""``(now, account, content, network, cost, young, copy_count, keys)``."""


@dataclass(frozen=True, slots=True)
class Batch:
    """A decoded batch: ``observations`` (structured array), their ``keys`` back to back, and ``events``."""

    observations: np.ndarray
    keys: np.ndarray
    events: list[list[Any]]

    def __len__(self) -> int:
        return len(self.observations) + len(self.events)


class Journal:
    """Records waiting to be shipped. Thread-safe; appends cost a tuple and a list append."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.dropped = 0
        """Observations dropped because the store was unreachable for longer than ``max_bytes`` of records lasts."""
        self._observations: list[Observation] = []
        self._events: list[list[Any]] = []
        self._waiting: deque[tuple[bytes, int]] = deque()  # encoded batches that failed to ship, with record counts
        self._waiting_bytes = 0
        self._lock = threading.Lock()
        self.share_labels = False
        """Whether labels (read from prompts, account ids, clients or attribute values) leave the process. When
        not, label events stay local and a catch's label is shared as its pattern key's digest, ``#<hex>``: the key
        is already a keyed hash, so the record says nothing the other processes could not read from it."""

    def observe(self, now: float, account: int, content: int, network: int, cost: int, young: bool, copy_count: int,
                keys: tuple[int, ...]) -> None:  # fmt: skip
        self._observations.append((now, account, content, network, cost, young, copy_count, keys))

    def event(self, *fields: Any) -> None:
        if not self.share_labels and fields and fields[0] in ("l", "c"):
            if fields[0] == "l":
                return
            fields = (*fields[:4], redacted(fields[5]), *fields[5:])
        self._events.append(list(fields))

    def event_list(self, fields: list[Any]) -> None:
        self._events.append(fields)

    @property
    def pending_bytes(self) -> int:
        """Bytes waiting to be shipped (encoded batches; the records of the current batch are not counted)."""
        return self._waiting_bytes

    def has_pending(self) -> bool:
        """Whether anything is waiting to be shipped, the current batch's records included."""
        return bool(self._observations or self._events or self._waiting)

    def drain(self) -> list[bytes]:
        """Every waiting batch and the current records, encoded, oldest first; the journal is left empty."""
        with self._lock:
            observations, self._observations = self._observations, []
            events, self._events = self._events, []
            batches = [blob for blob, _ in self._waiting]
            self._waiting.clear()
            self._waiting_bytes = 0
        for start in range(0, max(len(observations), 1), MAX_BATCH_RECORDS):
            chunk = observations[start : start + MAX_BATCH_RECORDS]
            if chunk or (events and start == 0):
                batches.append(encode(chunk, events if start == 0 else []))
        return batches

    def restore(self, batches: list[bytes]) -> None:
        """Put back batches that could not be shipped (before anything recorded since), within the bound."""
        with self._lock:
            for blob in reversed(batches):
                self._waiting.appendleft((blob, _records(blob)))
                self._waiting_bytes += len(blob)
            while self._waiting_bytes > self.max_bytes and self._waiting:
                blob, records = self._waiting.popleft()
                self._waiting_bytes -= len(blob)
                self.dropped += records


def redacted(key: int) -> str:
    """The label shared for pattern ``key`` when labels stay local."""
    return f"#{int(key) & 0xFFFFFFFFFFFFFFFF:016x}"


def encode(observations: list[Observation], events: list[list[Any]]) -> bytes:
    parts = [b""]
    key_count = 0
    pack = _RECORD.pack
    for now, account, content, network, cost, young, copy_count, record_keys in observations:
        count = len(record_keys)
        parts.append(pack(now, account, content, network, cost, count, copy_count, young))
        key_count += count
    for *_, record_keys in observations:
        parts.append(struct.pack(f"<{len(record_keys)}Q", *record_keys))
    text = _JSON.encode(events).encode() if events else b""
    parts[0] = _HEADER.pack(MAGIC, len(observations), key_count, len(text))
    parts.append(text)
    return b"".join(parts)


def decode(blob: bytes) -> Batch:
    """Decode a batch; raises :class:`StorageError` for anything that is not one (never executes it)."""
    try:
        magic, observations, key_count, text_bytes = _HEADER.unpack_from(blob)
        if magic != MAGIC:
            raise ValueError(f"bad magic {magic!r}")
        start = _HEADER.size
        keys_at = start + observations * OBSERVATION.itemsize
        text_at = keys_at + key_count * 8
        if text_at + text_bytes != len(blob):
            raise ValueError(f"length {len(blob)} does not match its header")
        table = np.frombuffer(blob, dtype=OBSERVATION, count=observations, offset=start)
        keys = np.frombuffer(blob, dtype="<u8", count=key_count, offset=keys_at)
        if int(table["count"].sum()) != key_count:
            raise ValueError("key counts do not add up")
        events = json.loads(blob[text_at:]) if text_bytes else []
        if not isinstance(events, list) or not all(isinstance(event, list) and event for event in events):
            raise ValueError("events are not a list of lists")
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise StorageError(f"a shared-log batch is corrupt: {exc}") from exc
    return Batch(table, keys, events)


def _records(blob: bytes) -> int:
    _, observations, _, _ = _HEADER.unpack_from(blob)
    return int(observations)
