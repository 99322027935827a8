"""Start an app of the checkout under a real server (uvicorn, gunicorn) in a subprocess on a free port, and stop it.

The apps are the checkout's (``examples/``, ``benchmarks/web_apps.py``): this works from a source checkout, with the
``test`` extra installed (httpx, uvicorn, gunicorn; imported here only when a server is started).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent.parent
"""The checkout's root: servers import patternlimit and the apps from here, as the tests do."""


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    @property
    def worker_pid(self) -> int:
        """The pid serving requests: the process itself (uvicorn), or gunicorn's one worker."""
        children = _children(self.process.pid)
        return children[0] if children else self.process.pid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command(kind: str, target: str, port: int) -> list[str]:
    if kind == "uvicorn":
        # --no-proxy-headers: uvicorn would otherwise rewrite the client address from X-Forwarded-For for peers
        # in --forwarded-allow-ips (127.0.0.1 by default); the middleware's trusted_proxies decides instead.
        return [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--no-proxy-headers",
                "--log-level", "warning", "--no-access-log"]  # fmt: skip
    return [sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--log-level", "warning"]  # fmt: skip


@contextlib.contextmanager
def serve(name: str, kind: str, target: str, timeout: float = 40.0) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PATTERNLIMIT_SECRET": "a test secret for the server tests",
    }
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command(kind, target, port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(process, url, timeout, log, workers=kind != "uvicorn")
            yield Server(name, url, process)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """Terminate ``process``, and kill it if it has not exited after ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(
    process: subprocess.Popen[bytes],
    log: IO[bytes],
    ready: Callable[[], bool],
    timeout: float,
    name: str,
    poll: float = 0.1,
) -> None:
    """Until ``ready()`` is true (an HTTP error counts as not yet); a clear error with the tail of ``log`` (the
    process's stderr) if ``process`` exits first, or after ``timeout`` seconds."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited {process.returncode}: {tail}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} was not ready within {timeout} s")
        time.sleep(poll)


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout: float, log: IO[bytes], *, workers: bool) -> None:
    """Until the server answers HTTP and, for a server with ``workers`` (gunicorn), has forked one."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                client.get(url + "/ready")  # any HTTP answer (404 included) means it serves
                if not workers or _children(process.pid):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"{process.args!r} did not start within {timeout} s:\n{log.read().decode()[-3000:]}")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        text = ""
    if text.strip():
        return [int(child) for child in text.split()]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of ``pid``, in KiB, from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


@contextlib.contextmanager
def patternlimit_serve(
    *arguments: str, env: dict[str, str] | None = None, port: int | None = None, timeout: float = 240.0
) -> Iterator[tuple[str, subprocess.Popen[bytes], IO[bytes]]]:
    """``patternlimit serve --port <free> *arguments`` from this checkout; yields its URL, process and log (its
    stderr). ``timeout`` allows for a cold numba cache, which compiles every kernel before the first answer."""
    import httpx

    port = port or free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        **(env or {}),
    }
    command = [sys.executable, "-m", "patternlimit.cli", "serve", "--port", str(port), *arguments]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(process, log, lambda: httpx.get(f"{url}/healthz", timeout=1).status_code == 200, timeout,
                       "patternlimit serve (/healthz)")  # fmt: skip
            yield url, process, log
        finally:
            stop(process)
