"""The status page: ``GET /`` loaded in headless Chromium from a real ``patternlimit serve`` after a campaign renders
the top-patterns table with data and the decisions chart, and writes a label holding HTML as text. The screenshot
is kept in pytest's temporary directory (``status.png``) and copied into ``$PATTERNLIMIT_ARTIFACTS`` when set.
``/v1/status`` follows the token rules of the check endpoints."""

from __future__ import annotations

import asyncio
import html
import os
import random
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from patternlimit import Limiter
from patternlimit._testing import traffic
from patternlimit._testing.web_servers import free_port, patternlimit_serve
from patternlimit.sidecar.app import SidecarConfig, build_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECRET = "a status page test secret of 32b"
TOKEN = "a status page admin token"
MARKUP = "<img src=x onerror=alert(1)><b>bot</b>"
"""The campaign's user agent: the label of its client pattern, which the page must show as text."""

POLICY = """\
name: status-page-test
rules:
  - type: pattern
    name: template-fan-out
    pattern: template
    when: {young_accounts: {min: 40}, young_share: {min: 0.5}, filler_diversity: {min: 0.3}}
    min_account_hits: 2
    action: throttle
  - type: pattern
    name: client-fan-out
    pattern: client
    when: {young_accounts: {min: 40}}
    action: log
"""


def chromium(*arguments: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--hide-scrollbars", f"--user-data-dir={profile}", "--virtual-time-budget=6000", *arguments,
    ]  # fmt: skip
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


def send_campaign(url: str) -> None:
    """A templated fan-out over 80 young accounts in six rounds a second or more apart (so the chart has points),
    with varied traffic beside it."""
    rng = random.Random(11)
    now = time.time()
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(6):
            requests = [
                {
                    "account": f"young-{index}",
                    "ip": traffic.ip(rng),
                    "text": traffic.campaign_prompt(rng),
                    "client": MARKUP,
                    "account_created_at": now - 3600,
                }
                for index in range(80)
            ]
            requests += [
                {"account": f"user-{index}", "ip": traffic.ip(rng), "text": traffic.organic_prompt(rng)}
                for index in range(40)
            ]
            assert client.post("/v1/check/batch", json={"requests": requests}).status_code == 200
            assert client.get("/v1/status").status_code == 200  # a sample now
            time.sleep(1.1)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_status_page_renders_the_top_patterns_in_headless_chromium(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    with patternlimit_serve("--policy", str(policy), env={"PATTERNLIMIT_SECRET": SECRET}) as (url, _, _):
        first = httpx.get(f"{url}/v1/status", timeout=10).json()
        assert first["top"] == [] and first["policy"] == "status-page-test"
        send_campaign(url)
        data = httpx.get(f"{url}/v1/status", timeout=10).json()
        template = next(row for row in data["top"] if row["kind"] == "template")
        assert template["action"] == "throttle" and template["flagged_by"] == "template-fan-out"
        # 80 young accounts: the estimates carry the spread sketch's error (18% each at 32 registers)
        assert template["accounts"] > 60 and template["young_share"] > 0.7
        client = next(row for row in data["top"] if row["kind"] == "client")
        assert client["label"] == MARKUP and client["action"] == "log"
        assert len(data["history"]) >= 6 and data["history"][-1]["counts"]["throttle"] > 0

        dom = chromium("--dump-dom", f"{url}/", profile=tmp_path / "profile").stdout
        rows = re.findall(r'<tr class="pattern">(.*?)</tr>', dom, re.DOTALL)
        assert len(rows) == len(data["top"]) >= 3
        assert 'data-loaded="yes"' in dom
        assert re.search(r'<span class="pill"[^>]*>throttle</span>', rows[0] + rows[1] + rows[2])
        # The label's markup is text in the table, never an element of the page.
        assert html.escape(MARKUP, quote=False) in dom
        assert "<img src=x" not in dom and "<b>bot</b>" not in dom
        # The chart drew the decisions: allowed and throttled series.
        assert 'class="series-allow"' in dom and 'class="series-throttle"' in dom

        png = tmp_path / "status.png"
        chromium(f"--screenshot={png}", "--window-size=1280,1100", f"{url}/", profile=tmp_path / "profile")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 40_000
    if os.environ.get("PATTERNLIMIT_ARTIFACTS"):
        folder = Path(os.environ["PATTERNLIMIT_ARTIFACTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, folder / "sidecar-status.png")


def test_the_status_json_needs_the_token_where_the_checks_do() -> None:
    async def run() -> None:
        exposed = build_app(Limiter(secret=SECRET, clock="replay"), SidecarConfig(token=TOKEN, token_for_checks=True))
        local = build_app(Limiter(secret=SECRET, clock="replay"))
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=exposed), base_url="http://sidecar") as client,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=local), base_url="http://sidecar") as nearby,
        ):
            assert (await client.get("/v1/status")).status_code == 401
            assert (await client.get("/v1/status", headers={"authorization": "Bearer wrong"})).status_code == 401
            given = await client.get("/v1/status", headers={"authorization": f"Bearer {TOKEN}"})
            assert given.status_code == 200 and given.json()["top"] == []
            page = await client.get("/")  # the page holds no data: it asks with the token from its URL's fragment
            assert page.status_code == 200 and "<table" in page.text
            assert "connect-src 'self'" in page.headers["content-security-policy"]
            assert (await nearby.get("/v1/status")).status_code == 200

    asyncio.run(run())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_behind_a_token_the_page_loads_with_the_token_from_its_fragment_and_says_so_without(tmp_path: Path) -> None:
    limiter = Limiter(secret=SECRET)
    app = build_app(limiter, SidecarConfig(token=TOKEN, token_for_checks=True))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.05)
        refused = chromium("--dump-dom", f"{url}/", profile=tmp_path / "profile").stdout
        assert "needs the token" in refused and 'data-loaded="yes"' not in refused
        given = chromium("--dump-dom", f"{url}/#token={TOKEN.replace(' ', '%20')}", profile=tmp_path / "profile")
        assert 'data-loaded="yes"' in given.stdout and "no patterns counted in the window" in given.stdout
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        limiter.close()
