"""Redis Cluster: three real masters started by the tests; one namespace's keys share a slot (hash tag), the
limiter works through the cluster client, and survives the restart of the node that holds its slot."""

from __future__ import annotations

import time

import pytest
from redis.crc import key_slot

from patternlimit import Limiter
from patternlimit._testing import traffic
from patternlimit._testing.redis_server import RedisClusterServers

SECRET = b"test secret for the cluster test!"


def blocked(decisions: list) -> int:  # type: ignore[type-arg]
    return sum(not decision.allowed for decision in decisions)


@pytest.mark.parametrize("mode", ["eventual", "strict"])
def test_a_campaign_is_throttled_through_the_cluster_and_a_node_restart_loses_nothing(redis_cluster, mode):
    cluster: RedisClusterServers = redis_cluster
    namespace = f"cluster-{mode}"
    options = {"mode": mode, "namespace": namespace, "sync_interval": 0.02, "backoff_max": 0.2,
               "timeout": 0.1, "connect_timeout": 0.1}  # fmt: skip
    limiters = [Limiter(storage=cluster.url, storage_options=options, secret=SECRET) for _ in range(2)]
    try:
        slots = {key_slot(f"{{{namespace}}}:{name}".encode()) for name in ("log", "generation", "snapshot")}
        assert len(slots) == 1
        campaign = traffic.campaign(accounts=120, per_account=4)
        half = len(campaign) // 2
        decisions = []
        for index, (now, request) in enumerate(campaign[:half]):
            decisions.append(limiters[index % 2].check(request, now))
            for limiter in limiters * 2:
                limiter.sync()
        assert blocked(decisions) > 0

        node = cluster.node_for_slot(slots.pop())
        node.kill()
        during = []
        for index, (now, request) in enumerate(campaign[half:]):
            started = time.perf_counter()
            during.append(limiters[index % 2].check(request, now))
            assert time.perf_counter() - started < 2.0  # one failed call at most, never a hang
        assert blocked(during) > len(during) / 2  # on_storage_error="local": decided on local state
        node.start()
        cluster.wait_ok()
        deadline = time.monotonic() + 20
        while not all(limiter.storage_status.healthy for limiter in limiters):  # type: ignore[union-attr]
            assert time.monotonic() < deadline, [limiter.storage_status for limiter in limiters]
            time.sleep(0.05)
        for limiter in limiters * 2:
            limiter.sync()
        now = campaign[-1][0]
        first, second = ({row.key: row.hits for row in limiter.top_patterns(3, now)} for limiter in limiters)
        assert first == second and max(first.values()) >= len(campaign) - 10
    finally:
        for limiter in limiters:
            limiter.close()
