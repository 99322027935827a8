"""The journal's batches: round trip, bounded waiting, and corrupt input rejected (never executed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from patternlimit import StorageError
from patternlimit.storage.journal import Journal, decode, encode

keys = st.lists(st.integers(0, (1 << 63) - 1), max_size=8).map(tuple)
observations = st.lists(
    st.tuples(
        st.floats(0, 1e11), st.integers(0, (1 << 63) - 1), st.integers(0, (1 << 63) - 1),
        st.integers(0, (1 << 63) - 1), st.integers(0, (1 << 32) - 1), st.booleans(), st.integers(0, 8), keys,
    ),
    max_size=30,
)  # fmt: skip
events = st.lists(st.lists(st.one_of(st.text(max_size=5), st.integers(0, 1 << 63), st.floats(0, 1e9)), min_size=1))


@given(observations, events)
def test_a_batch_decodes_to_what_was_encoded(records, changes):
    batch = decode(encode(records, changes))
    assert len(batch.observations) == len(records)
    assert batch.events == changes
    offset = 0
    for row, (now, account, content, network, cost, young, copy_count, record_keys) in zip(
        batch.observations.tolist(), records, strict=True
    ):
        assert row[:8] == (now, account, content, network, cost, len(record_keys), copy_count, int(young))
        assert tuple(batch.keys[offset : offset + len(record_keys)].tolist()) == record_keys
        offset += len(record_keys)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"XXXX" + bytes(12),
        encode([(1.0, 2, 3, 9, 4, True, 1, (5, 6))], [["f", 1]])[:-3],
        b"PLJ2" + bytes(12) + b"[",
        b"PLJ1" + encode([(1.0, 2, 3, 9, 4, True, 1, (5, 6))], [])[4:],  # the format before the network field
    ],
)
def test_corrupt_batches_are_a_storage_error(blob):
    with pytest.raises(StorageError):
        decode(blob)


def test_batches_waiting_for_the_store_are_bounded_and_drops_counted():
    journal = Journal(max_bytes=4096)
    for round_ in range(50):
        for index in range(10):
            journal.observe(float(round_), index, 0, 7, 1, False, 1, (1, 2, 3))
        journal.restore(journal.drain())  # the store is down: everything goes back
    assert journal.pending_bytes <= 4096
    assert journal.dropped > 0
    kept = sum(len(decode(blob).observations) for blob in journal.drain())
    assert kept + journal.dropped == 500


def test_replaying_a_journal_rebuilds_the_sketch_state_bit_for_bit():
    """What a shared limiter records, applied by another process in one batch kernel call, gives that process
    exactly the sketch state of the limiter that counted (the spread memos are the kernels' private caches)."""
    from patternlimit import Limiter
    from patternlimit._testing import traffic
    from patternlimit.engine.shared import SharedState
    from patternlimit.storage.journal import Journal, decode

    secret = b"journal replay test secret, 32 B"
    counting, replaying = Limiter(secret=secret), Limiter(secret=secret)
    journal = Journal(1 << 26)  # what Limiter(storage="redis://...") attaches
    counting._decider.journal = counting._decider.patterns.journal = journal
    stream = traffic.campaign(accounts=40, per_account=3) + traffic.launch_crowd(60) + traffic.ci_harness(100)
    stream.sort(key=lambda pair: pair[0])
    for now, request in stream:
        counting.check(request, now)
    port = SharedState(replaying._decider, replaying.secret_id)
    for blob in journal.drain():
        assert port.apply(decode(blob)) == 0
    private = {7, 12}  # positions of the spread memos in the state tuple
    mine = [part for index, part in enumerate(counting._state.arguments) if index not in private]
    theirs = [part for index, part in enumerate(replaying._state.arguments) if index not in private]
    for left, right in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(left, right)
