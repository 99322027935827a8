"""Real nginx and ``patternlimit serve`` processes for the tests: each on a free loopback port, each stopped on exit.

:class:`Nginx` runs Debian's ``/usr/sbin/nginx`` (``apt-get install nginx``; ``PATTERNLIMIT_NGINX`` names another
binary) in the foreground (``daemon off``) with a master and one worker, in a temporary prefix directory of its
own: its configuration, pid file, temporary files and error log live there, so nothing under ``/etc/nginx`` or
``/var`` is read or written. The site configuration given is included in the ``http`` block, as a file of
``/etc/nginx/conf.d/`` would be. The master runs in a session of its own; stopping it sends SIGQUIT (graceful), and
kills the whole group if the workers are still there after a few seconds.

:func:`patternlimit._testing.web_servers.patternlimit_serve` starts ``patternlimit serve`` from this checkout
and waits until ``/healthz`` answers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from patternlimit._testing.web_servers import free_port

BINARY_VARIABLE = "PATTERNLIMIT_NGINX"

MAIN = """\
{user}daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log {level};
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
"""


def binary() -> str | None:
    """The nginx to run: ``PATTERNLIMIT_NGINX``, else ``nginx`` on ``PATH``, else ``/usr/sbin/nginx``."""
    named = os.environ.get(BINARY_VARIABLE)
    if named:
        return named if os.access(named, os.X_OK) else None
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


class Nginx:
    """nginx serving ``site`` (the text of a configuration for the ``http`` block) from a prefix of its own.

    ``{prefix}`` in ``site`` is replaced by the prefix directory (for unix sockets and files of the test)."""

    def __init__(self, site: str, *, port: int | None = None, level: str = "warn") -> None:
        found = binary()
        if found is None:
            raise RuntimeError(f"no nginx to run: apt-get install nginx, or name a binary in {BINARY_VARIABLE}")
        self.binary = found
        self.port = port or free_port()
        self.prefix = Path(tempfile.mkdtemp(prefix="patternlimit-nginx-"))
        (self.prefix / "site.conf").write_text(site.replace("{prefix}", str(self.prefix)))
        # As root, the master would hand the workers to "nobody", who cannot enter the prefix (0700) nor connect
        # to its unix sockets: the workers stay the test's own user.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        (self.prefix / "nginx.conf").write_text(MAIN.format(user=user, prefix=self.prefix, level=level))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def command(self, *extra: str) -> list[str]:
        # -e: the error log before the configuration is read (else nginx opens its compiled-in default first).
        configuration = str(self.prefix / "nginx.conf")
        return [self.binary, "-p", str(self.prefix), "-e", str(self.prefix / "error.log"), "-c", configuration, *extra]

    def test_configuration(self) -> str:
        """``nginx -t``: raises ``RuntimeError`` with nginx's own words when the configuration is refused."""
        done = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{done.stderr}")
        return done.stderr

    def start(self, timeout: float = 15.0) -> Nginx:
        self.test_configuration()
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.error_log[-3000:]
                self.stop()
                raise RuntimeError(f"nginx did not listen on {self.port}:\n{log}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful: the workers finish, then the master leaves
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the master and its workers: one session
                process.wait(timeout=5)
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
