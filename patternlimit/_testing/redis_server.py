"""Real ``redis-server`` processes for the tests and benchmarks: one server, or a three-master cluster, on free ports.

Each server runs in its own temporary directory with persistence off, so a restart starts empty (as a crashed
cache would) unless the test says otherwise. Every process is stopped in the fixture's finaliser.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_cluster_port() -> int:
    """A free port below 55535 whose cluster bus port (port + 10000) is free too."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20_000, 45_000)
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 10_000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def redis_binary(name: str = "redis-server") -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not on PATH: install it (Debian: apt-get install redis-server) or set REDIS_URL")
    return path


class RedisServer:
    """One ``redis-server`` on ``127.0.0.1:port``: start, kill, restart, pause (SIGSTOP) and resume (SIGCONT)."""

    def __init__(self, port: int | None = None, *, cluster: bool = False) -> None:
        self.port = port or (free_cluster_port() if cluster else free_port())
        self.cluster = cluster
        self.directory = Path(tempfile.mkdtemp(prefix=f"patternlimit-redis-{self.port}-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    def start(self) -> RedisServer:
        arguments = [
            redis_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--protected-mode", "no",
            "--unixsocket", str(self.socket), "--unixsocketperm", "700",
        ]  # fmt: skip
        if self.cluster:
            arguments += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            arguments += ["--cluster-node-timeout", "2000"]
        self.process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process is not None and self.process.poll() is not None:
                        raise RuntimeError(f"redis-server on port {self.port} exited early") from None
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: a crash; the data is gone."""
        if self.process is not None:
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGCONT)  # a paused process must be able to die
                self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


class RedisClusterServers:
    """Three cluster-enabled masters joined with ``redis-cli --cluster create`` (no replicas)."""

    def __init__(self) -> None:
        self.nodes = [RedisServer(cluster=True) for _ in range(3)]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> RedisClusterServers:
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [redis_binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        self.wait_ok()
        return self

    def wait_ok(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            client = redis.Redis(port=node.port, socket_timeout=1.0)
            try:
                while True:
                    info = client.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
                    text = info.decode() if isinstance(info, bytes) else str(info)
                    if "cluster_state:ok" in text:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"cluster not ok on port {node.port}: {text[:200]}")
                    time.sleep(0.05)
            finally:
                client.close()

    def node_for_slot(self, slot: int) -> RedisServer:
        client = redis.Redis(port=self.nodes[0].port, socket_timeout=1.0)
        try:
            for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):  # type: ignore[no-untyped-call]
                if start <= slot <= end:
                    port = int(master[1])
                    return next(node for node in self.nodes if node.port == port)
        finally:
            client.close()
        raise LookupError(slot)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    """``REDIS_URL`` when it is set; else the URL of a ``redis-server`` started here and stopped on exit."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()
