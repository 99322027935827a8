"""Scale-out: what staying in sync costs each host in eventual mode, as the fleet grows.

Usage: ``python -m benchmarks.scale_out [REQUESTS] [--hosts 2,4] [--fleet-rate 100000] [--simulate 64]``. A real
Redis (started on a free port, or ``REDIS_URL``) and, for each N of ``--hosts``, N processes on one namespace,
each deciding its share (every N-th request) of one fixed stream of REQUESTS 2 KB requests (default 20,000: the
in-memory benchmark's accounts and prompts, ``benchmarks.test_redis.build_requests``) through ``check()`` in
eventual mode. When every process is done, each syncs until it has read every other's records, and reports:

- the CPU time, from the end of the warm-up on, its sync thread spent absorbing the others' records (decoding and
  replaying them into its sketches under the limiter's lock: ``Replicator._absorb``), and the whole exchange
  (Redis round trips and the reply's parsing included: ``Replicator._exchange_all``), each measured with
  ``time.thread_time`` in the thread doing it;
- how many requests the others served (the records it applied).

From those, per host: sync CPU per 1,000 requests served elsewhere, and the share of a core that a host would
spend on sync in a fleet of ``--simulate`` hosts serving ``--fleet-rate`` requests a second in all (each host
applies the other hosts' (H - 1) / H of the fleet's records): ``rate * (H - 1) / H * cost per request``. In this
design that share grows with the fleet's rate and not with the host's own: the figure the scale-out target (under
10% of a core at 100,000 requests a second) is set on.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
import uuid
from typing import Any

from benchmarks.test_redis import NOW, SECRET, build_requests
from patternlimit import Limiter
from patternlimit._testing.redis_server import redis_url

WARM = 50
"""Requests each host decides before the clocks start."""


def host(index: int, hosts: int, url: str, namespace: str, count: int, barrier: Any, results: Any) -> None:
    """One host: decide every ``hosts``-th request from ``index`` on, then read every other host's records."""
    requests = build_requests()
    stream = [requests[at % len(requests)] for at in range(index, count, hosts)]
    limiter = Limiter(storage=url, storage_options={"namespace": namespace, "timeout": 5.0}, secret=SECRET)
    replicator = limiter._replicator
    assert replicator is not None
    spent = {"absorb": 0.0, "exchange": 0.0, "applied": 0}
    absorb, exchange, apply = replicator._absorb, replicator._exchange_all, replicator.port.apply

    def timed(name: str, call: Any) -> Any:
        """``call``, adding the CPU time of the thread running it to ``spent[name]``."""

        def wrapper(*args: Any, **kwargs: Any) -> None:
            started = time.thread_time()
            try:
                call(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - started

        return wrapper

    def counted_apply(batch: Any) -> int:
        spent["applied"] += len(batch.observations)
        return int(apply(batch))

    replicator._absorb = timed("absorb", absorb)  # type: ignore[method-assign]
    replicator._exchange_all = timed("exchange", exchange)  # type: ignore[method-assign]
    replicator.port.apply = counted_apply  # type: ignore[method-assign]
    for request in stream[:WARM]:  # compile, connect and join (a snapshot, if a peer wrote one) before counting
        limiter.check(request, NOW)
    limiter.sync()
    barrier.wait()
    limiter.sync()
    spent.update(absorb=0.0, exchange=0.0, applied=0)
    started = time.perf_counter()
    for request in stream[WARM:]:
        limiter.check(request, NOW)
    served = time.perf_counter() - started
    barrier.wait()  # every host has decided its share (its records are shipped within a sync interval)
    # The others' requests after the warm-up (a peer's warm-up may reach this host inside a snapshot instead).
    others = count - len(stream) - WARM * (hosts - 1)
    deadline = time.monotonic() + 60.0
    while spent["applied"] < others and time.monotonic() < deadline:
        limiter.sync()
        time.sleep(0.05)
    limiter.close()
    results.put((index, len(stream) - WARM, others, spent["applied"], spent["absorb"], spent["exchange"], served))


def run(hosts: int, url: str, count: int) -> list[tuple[int, int, int, int, float, float, float]]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(hosts), context.Queue()
    namespace = f"scale-{uuid.uuid4().hex[:8]}"
    processes = [
        context.Process(target=host, args=(index, hosts, url, namespace, count, barrier, results))
        for index in range(hosts)
    ]
    for process in processes:
        process.start()
    rows = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return sorted(rows)


def main(argv: list[str]) -> int:
    options = {"--hosts": "2,4", "--fleet-rate": "100000", "--simulate": "64"}
    positional = []
    while argv:
        argument = argv.pop(0)
        if argument in options:
            options[argument] = argv.pop(0)
        else:
            positional.append(argument)
    count = int(positional[0]) if positional else 20_000
    fleet_rate, fleet = float(options["--fleet-rate"]), int(options["--simulate"])
    costs: list[float] = []
    with redis_url() as url:
        for hosts in (int(value) for value in options["--hosts"].split(",")):
            for index, own, others, applied, absorbed, exchanged, served in run(hosts, url, count):
                per_absorb = absorbed / max(applied, 1) * 1e6
                per_exchange = exchanged / max(applied, 1) * 1e6
                costs.append(per_exchange)
                print(
                    f"N={hosts} host {index}: served {own:,} ({own / served:,.0f}/s), applied {applied:,} of {others:,}"
                    f" served elsewhere; sync CPU per 1,000 of them: absorb {per_absorb:.1f} ms,"
                    f" whole exchange {per_exchange:.1f} ms"
                )
    cost = statistics.median(costs) / 1e6
    share = fleet_rate * (fleet - 1) / fleet * cost
    print(
        f"simulated: {fleet} hosts, {fleet_rate:,.0f} requests/s in all: each host spends {share:.0%} of a core on"
        f" sync ({cost * 1e6:.2f} us per request served elsewhere, the median above), whatever its own share"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
