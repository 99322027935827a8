"""Real nginx (Debian's) in front of a small upstream, asking two ``patternlimit serve`` replicas on one real Redis
with ``auth_request``; the nginx configurations are read from docs/deploy/nginx.md, so the page and the test run
the same text.

A templated fan-out across many new API keys from scattered addresses is refused by nginx with 429 when the
prompt field reaches the sidecar (the page's main configuration), and passes untouched when only the headers do
(its headers-only one: what the page says a body-less auth subrequest cannot see). An established CI key sending
the same template at volume, and varied traffic, pass; refused requests never reach the upstream.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import shlex
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from patternlimit._testing import nginx, traffic
from patternlimit._testing.redis_server import redis_url
from patternlimit._testing.web_servers import free_port, patternlimit_serve

pytestmark = pytest.mark.skipif(nginx.binary() is None, reason="nginx is not installed (apt-get install nginx)")

PAGE = Path(__file__).resolve().parent.parent.parent / "docs" / "deploy" / "nginx.md"
SECRET = "an nginx test secret of 32 bytes"
TOKEN = "an nginx test admin token"
DAY = 86400.0


def config(name: str) -> str:
    [block] = re.findall(rf"<!-- config: {name} -->\n```nginx\n(.*?)```\n", PAGE.read_text(), re.DOTALL)
    return block


def site(name: str, *, listen: int, sidecars: list[int], app: int) -> str:
    """The page's configuration with this test's addresses in place of the page's (each must be there)."""
    text = config(name)
    replacements = {
        "listen 8080;": f"listen 127.0.0.1:{listen};",
        "server 127.0.0.1:8111;": f"server 127.0.0.1:{sidecars[0]};",
        "server 127.0.0.1:8112;": f"server 127.0.0.1:{sidecars[1]};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app};",
        "/run/patternlimit-gate.sock": "{prefix}/gate.sock",
        "/etc/nginx/patternlimit-keys.map": "{prefix}/keys.map",
    }
    for old, new in replacements.items():
        if old in text:
            text = text.replace(old, new)
        else:
            assert not old.startswith(("listen", "server")), f"docs/deploy/nginx.md [{name}] lost {old!r}"
    return text


@dataclass
class Upstream:
    """The application behind nginx: answers 200 and keeps what reached it."""

    port: int
    received: list[dict[str, str]] = field(default_factory=list)


@contextlib.contextmanager
def upstream() -> Iterator[Upstream]:
    app = Upstream(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            app.received.append({"key": self.headers.get("x-api-key", ""), "body": body, "path": self.path})
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *arguments: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", app.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()


def serve_commands() -> list[list[str]]:
    """The page's two ``patternlimit serve`` command lines, as argument lists after ``serve``."""
    [text] = re.findall(r"```bash\n(.*?)```\n", PAGE.read_text(), re.DOTALL)
    commands = [shlex.split(line) for line in text.strip().splitlines()]
    assert all(command[:3] == ["PATTERNLIMIT_SECRET=...", "patternlimit", "serve"] for command in commands)
    return [command[3:] for command in commands]


@pytest.fixture(scope="module")
def sidecars() -> Iterator[list[str]]:
    """The page's two replicas, on one real Redis (a namespace of their own) and free ports, for the module."""
    first, second = serve_commands()
    with redis_url() as redis, contextlib.ExitStack() as stack:
        storage = f"{redis}?mode=strict&namespace=nginx-{uuid.uuid4().hex[:8]}"
        urls = []
        for arguments, page_port in ((first, "8111"), (second, "8112")):
            port = free_port()
            replacements = {"redis://127.0.0.1:6379/0": storage, page_port: str(port)}
            assert set(replacements) <= set(arguments), arguments
            given = [replacements.get(argument, argument) for argument in arguments]
            env = {"PATTERNLIMIT_SECRET": SECRET, "PATTERNLIMIT_ADMIN_TOKEN": TOKEN}
            url, _, _ = stack.enter_context(patternlimit_serve(*given, env=env, port=port))
            urls.append(url)
        yield urls


@contextlib.contextmanager
def gateway(name: str, sidecars: list[str], keys: str) -> Iterator[tuple[nginx.Nginx, Upstream]]:
    """nginx running the page's configuration ``name`` before the two sidecars and a fresh upstream; the keys
    ``<keys>-0`` ... are a few minutes to hours old in its key map, ``sk-ci`` 400 days."""
    with upstream() as app:
        listen = free_port()
        ports = [int(url.rsplit(":", 1)[1]) for url in sidecars]
        server = nginx.Nginx(site(name, listen=listen, sidecars=ports, app=app.port), port=listen)
        now = time.time()
        lines = [f'"sk-ci" {now - 400 * DAY:.0f};']
        lines += [f'"{keys}-{index}" {now - index * 600:.0f};' for index in range(CAMPAIGN_KEYS)]
        (server.prefix / "keys.map").write_text("\n".join(lines) + "\n")
        with server:
            yield server, app


CAMPAIGN_KEYS = 80


def send(client: httpx.Client, key: str, ip: str, prompt: str, decoy: str = "") -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}]}
    headers = {"x-api-key": key, "x-forwarded-for": ip, "user-agent": "python-httpx/0.27"}
    if decoy:
        headers["x-patternlimit-text"] = decoy  # what a client would send to pass for varied traffic
    return client.post("/v1/messages", content=json.dumps(body), headers=headers)


ROUNDS = 8


def campaign(client: httpx.Client, keys: str) -> list[httpx.Response]:
    """Eight rounds of one templated prompt from each of 80 new keys, each request from an address of its own and
    with a varied decoy in ``X-Patternlimit-Text``. The pattern is flagged in the first round, logged in the next
    ones, and throttled from about the fourth."""
    rng = random.Random(7)
    jobs = [
        (f"{keys}-{index}", traffic.ip(rng), traffic.campaign_prompt(rng), traffic.organic_prompt(rng))
        for _ in range(ROUNDS)
        for index in range(CAMPAIGN_KEYS)
    ]
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda job: send(client, *job), jobs))


def throttles(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.findall(r'^patternlimit_decisions_total\{action="throttle",rule="[^"]*"\} (\S+)$', text, re.M)
    return sum(float(value) for value in found)


def test_a_headers_only_auth_subrequest_cannot_see_the_template(sidecars):
    with gateway("headers", sidecars, "sk-quiet") as (server, app), httpx.Client(base_url=server.url) as client:
        answers = campaign(client, "sk-quiet")
        assert all(answer.status_code == 200 for answer in answers), server.error_log[-2000:]
        assert len(app.received) == len(answers)


def test_nginx_refuses_a_templated_fan_out_with_429_when_the_prompt_field_reaches_the_sidecar(sidecars):
    with gateway("body", sidecars, "sk-campaign") as (server, app), httpx.Client(base_url=server.url) as client:
        # The decoy header is replaced by the body's field: the campaign is seen whatever the client claims.
        answers = campaign(client, "sk-campaign")
        refused = [answer for answer in answers if answer.status_code == 429]
        assert len(refused) > 0.4 * len(answers), server.error_log[-2000:]  # the last round, below, is the bar
        assert all(answer.status_code == 429 for answer in answers[-CAMPAIGN_KEYS:])  # the last round: every key
        assert all(answer.status_code in (200, 429) for answer in answers)
        assert all(int(answer.headers["retry-after"]) >= 1 for answer in refused)
        assert all(throttles(url) > 0 for url in sidecars)  # both replicas refused: they share one view
        passed = sum(answer.status_code == 200 for answer in answers)
        assert sum(item["key"].startswith("sk-campaign") for item in app.received) == passed

        # The established CI key sends the same template at volume; varied traffic from new keys: all pass.
        rng = random.Random(8)
        for _ in range(120):
            answer = send(client, "sk-ci", "203.0.113.10", traffic.campaign_prompt(rng))
            assert answer.status_code == 200
        for index in range(150):
            answer = send(client, f"sk-organic-{index % 75}", traffic.ip(rng), traffic.organic_prompt(rng))
            assert answer.status_code == 200
        # What reached the app is the client's own request, untouched by the gate.
        expected = {"key": "sk-organic-74", "body": answer.request.content.decode(), "path": "/v1/messages"}
        assert app.received[-1] == expected


def test_a_network_an_operator_denies_on_one_replica_gets_403_through_either(sidecars):
    with gateway("headers", sidecars, "sk-denied") as (server, app), httpx.Client(base_url=server.url) as client:
        denied = {"action": "deny", "network": "192.0.2.0/24", "duration": 60, "by": "test", "why": "abuse"}
        made = httpx.post(f"{sidecars[0]}/admin/overrides", json=denied, headers={"authorization": f"Bearer {TOKEN}"})
        assert made.status_code == 200, made.text
        time.sleep(0.5)  # the override travels through Redis to the other replica
        answers = [
            send(client, f"sk-denied-{index}", f"192.0.2.{index + 1}", "hello").status_code for index in range(8)
        ]
        assert answers == [403] * 8  # both replicas (nginx alternates) block; auth_request passes 403 on
        assert send(client, "sk-denied-9", "198.51.100.9", "hello").status_code == 200
        assert len(app.received) == 1


def test_with_the_sidecars_down_the_gate_fails_open_and_an_oversized_body_gets_413():
    down = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]  # nothing listens there
    with gateway("body", down, "sk-any") as (server, app), httpx.Client(base_url=server.url) as client:
        answer = send(client, "sk-any-1", "198.51.100.9", "hello")
        assert answer.status_code == 200 and len(app.received) == 1  # the page's choice: fail open
        assert "auth request unexpected status: 502" in server.error_log
        huge = client.post("/v1/messages", content=b"x" * (1 << 20 | 1), headers={"x-api-key": "sk-any-1"})
        assert huge.status_code == 413 and len(app.received) == 1
