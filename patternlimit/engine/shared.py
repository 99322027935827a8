"""The engine's side of shared state: what :mod:`patternlimit.replication` may do to a limiter, and nothing more.

:class:`SharedState` implements :class:`patternlimit.replication.port.ReplicaPort`: decide a request whose
observation the replicator already logged, record one, apply another process's records, and write and load a
snapshot (the sketch arrays, flags, taints and labels) for processes that join later.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from patternlimit.engine.decide import Decider
from patternlimit.engine.facts import RequestFacts
from patternlimit.engine.memory import Flag, Taint
from patternlimit.engine.overrides import SCOPES, Override
from patternlimit.errors import StorageError
from patternlimit.policy.decision import Decision, PatternRef
from patternlimit.request import TIME_LIMIT
from patternlimit.storage.journal import Batch


def _time(value: object) -> float:
    """A recorded time as a float; ``ValueError`` (a malformed record) unless epoch seconds in ``[0, 1e12)``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < TIME_LIMIT:
        raise ValueError(f"not a recorded time: {value!r}")
    return float(value)


class SharedState:
    """The port a :class:`~patternlimit.replication.Replicator` drives; see the module docstring."""

    def __init__(self, decider: Decider, secret_id: str) -> None:
        self._decider = decider
        self._secret_id = secret_id

    @property
    def secret_id(self) -> str:
        return self._secret_id

    def use(self, decider: Decider) -> None:
        """Drive ``decider`` from now on (the limiter's policy was reloaded; the lock is held)."""
        self._decider = decider

    @property
    def lock(self) -> threading.Lock:
        """The lock every read or write of the state holds."""
        return self._decider.lock

    def renew_lock(self) -> None:
        """A fresh lock, in a child process after a fork (the parent's may have been held by another thread)."""
        self._decider.lock = threading.Lock()

    def decide(self, facts: RequestFacts, journaled: bool = False) -> Decision:
        return self._decider.decide(facts, journaled)

    def record(self, facts: RequestFacts) -> None:
        self._decider.record(facts)

    def apply(self, batch: Batch) -> int:
        """Apply another process's records (the lock is held); returns how many records were malformed.

        Times are admitted by the limiter's clock as a local request's are: in live mode a record far ahead of
        this process's clock (or far behind it) is counted at this process's clock, and counted as malformed, so
        one skewed process cannot move every process's windows."""
        decider = self._decider
        clock = decider.clock
        malformed = 0
        observations = batch.observations
        if clock.live and observations.shape[0]:
            given = observations["now"].tolist()
            admitted = [clock.admit(moment) for moment in given]
            if admitted != given:
                observations = observations.copy()
                observations["now"] = admitted
                malformed += sum(moment != was for moment, was in zip(admitted, given, strict=True))
        offsets = decider.state.replay(batch.keys, observations)
        if decider.compiled.needs_age and observations.shape[0]:
            bounds = offsets.tolist()
            for index, now in enumerate(observations["now"].tolist()):
                decider.memory.first_sightings(batch.keys[bounds[index] : bounds[index + 1]].tolist(), now)
        for event in batch.events:
            adjusted = clock.adjusted
            try:
                self._apply_event(event)
            except (TypeError, ValueError, IndexError, KeyError, OverflowError):
                malformed += 1
            else:
                malformed += clock.adjusted != adjusted
        return malformed

    def _apply_event(self, event: list[Any]) -> None:
        decider = self._decider
        memory, clock = decider.memory, decider.clock
        kind = event[0]
        if kind == "f":
            _, key, rule, until = event
            until = clock.bound(_time(until), memory.policy.memory)
            memory.remote_flag(int(key), str(rule), until)
        elif kind == "h":
            _, account, now = event
            memory.flagged_hit(int(account), clock.admit(_time(now)))
        elif kind == "o":
            _, scope, key, action, until, by, why = event
            if scope not in SCOPES or action not in ("allow", "deny"):
                raise ValueError(f"unknown override {scope!r} {action!r}")
            decider.overrides.put(Override(scope, int(key), action, float(until), "(shared)", str(by), str(why)))
        elif kind == "x":
            _, scope, key = event
            decider.clear(str(scope), int(key))
        elif kind == "l":
            _, key, pattern_kind, label = event
            decider.labels.put(int(key), str(pattern_kind), str(label))
        elif kind == "c":
            _, account, rule, pattern_kind, label, key, now, network, client = event
            pattern = PatternRef(str(pattern_kind), str(label), int(key))
            moment = clock.admit(_time(now))
            account = int(account)
            memory.caught(memory.record(account), str(rule), pattern, moment, int(network), int(client), account)
        else:
            change = list(event)
            if len(change) == 5:
                change[4] = clock.admit(_time(change[4]))
            decider.limits_storage.replay(change)

    def snapshot(self, labels: bool = True) -> bytes | bytearray:
        """The sketch state, the flags, taints and (``labels``) labels (the lock is held)."""
        decider = self._decider
        memory = decider.memory
        header = json.dumps(
            {
                "secret": self._secret_id,
                "arrays": decider.state.arrays_header(),
                "flags": [[key, flag.rule, flag.until] for key, flag in memory.flags.items()],
                "taints": [[key, taint.caught, taint.until] for key, taint in memory.taints.items()],
                "labels": [[key, kind, label] for key, (kind, label) in decider.labels.labels.items()]
                if labels
                else [],
                "overrides": [
                    [entry.scope, entry.key, entry.action, entry.until, entry.by, entry.why]
                    for entry in decider.overrides.table.items_values()
                ],
            }
        ).encode()
        # One copy of the arrays, into the blob itself: the writer's requests wait for this lock meanwhile.
        blob = bytearray(4 + len(header) + decider.state.arrays_nbytes)
        blob[: 4 + len(header)] = len(header).to_bytes(4, "little") + header
        decider.state.write_into(memoryview(blob)[4 + len(header) :])
        return blob

    def restore(self, blob: bytes) -> None:
        """Load a :meth:`snapshot` (the lock is held); raises :class:`StorageError` if it does not fit."""
        decider = self._decider
        state, memory = decider.state, decider.memory
        try:
            size = int.from_bytes(blob[:4], "little")
            header = json.loads(blob[4 : 4 + size])
            if header["secret"] != self._secret_id or header["arrays"] != state.arrays_header():
                raise ValueError("the snapshot was written by a limiter with another secret or capacity")
            if 4 + size + state.arrays_nbytes != len(blob):
                raise ValueError("the snapshot's length does not match its header")
            state.load(blob, 4 + size)
            # Expiries are held to this process's clock, as applied records are (see apply).
            clock, horizon = decider.clock, memory.policy.memory
            for key, rule, until in header["flags"]:
                memory.flags.put(int(key), Flag(str(rule), clock.bound(_time(until), horizon)))
            for key, caught, until in header["taints"]:
                memory.taints.put(int(key), Taint(int(caught), clock.bound(_time(until), horizon)))
            for key, kind, label in header["labels"]:
                decider.labels.put(int(key), str(kind), str(label))
            for scope, key, action, until, by, why in header.get("overrides", []):
                decider.overrides.put(Override(scope, int(key), action, float(until), "(shared)", str(by), str(why)))
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"the shared snapshot cannot be loaded: {exc}") from exc
