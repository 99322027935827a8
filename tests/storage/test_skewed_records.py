"""A far-future or far-past record shipped through a real Redis changes no later decision of a live limiter."""

from __future__ import annotations

import pytest

from patternlimit import Action, Limiter
from patternlimit._testing import traffic
from tests.test_hostile_inputs import SECRET, SKEWED, slow_young_traffic


@pytest.mark.parametrize("skew", [1e9, -1e9 + 1])
def test_a_skewed_record_through_redis_changes_no_later_decision(shared_redis_url: str, namespace: str, skew: float):
    stream = slow_young_traffic()

    def actions(shared: bool) -> list[Action]:
        options = {"namespace": namespace if shared else namespace + "-control", "snapshot_interval": 0}
        limiter = Limiter(secret=SECRET, storage=shared_redis_url, storage_options=options)
        try:
            out = []
            for index, (now, request) in enumerate(stream):
                if index == 1 and shared:
                    # Another process whose clock is far off (replay mode takes its time as given).
                    other = Limiter(secret=SECRET, clock="replay", storage=shared_redis_url, storage_options=options)
                    other.check(SKEWED, max(1.0, stream[0][0] + skew))
                    other.close()
                    limiter.sync()
                    assert limiter.storage_status.applied >= 1
                out.append(limiter.check(request, now).action)
            return out
        finally:
            limiter.close()

    assert traffic.START > 0
    assert actions(True) == actions(False)
