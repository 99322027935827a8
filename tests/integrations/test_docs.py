"""The framework pages show the example files verbatim, and the examples run (the server tests serve FastAPI,
Flask and Django; the Starlette one runs here in-process)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from tests.integrations import support

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs" / "integrations"
MARKER = re.compile(r"<!-- example: (examples/\w+\.py)[^>]*-->\n```python\n(.*?)```\n", re.DOTALL)
PAGES = {
    "fastapi.md": "examples/fastapi_app.py",
    "starlette.md": "examples/starlette_app.py",
    "flask.md": "examples/flask_app.py",
    "django.md": "examples/django_app.py",
}


@pytest.mark.parametrize(("page", "example"), sorted(PAGES.items()))
def test_each_framework_page_shows_its_example_file_verbatim(page, example):
    blocks = MARKER.findall((DOCS / page).read_text())
    assert [path for path, _ in blocks] == [example]
    assert blocks[0][1] == (ROOT / example).read_text()


def test_the_index_links_every_integration_page():
    index = (ROOT / "docs" / "index.md").read_text()
    for page in [*PAGES, "common.md"]:
        assert f"integrations/{page}" in index or f"({page})" in index, page
        assert (DOCS / page).exists()


def test_the_starlette_example_trusts_its_proxies_exempts_health_and_replays_the_body():
    from examples import starlette_app

    seen = []
    original = starlette_app.limiter.acheck

    async def spy(request, now=None):  # type: ignore[no-untyped-def]
        seen.append(request)
        return await original(request, now)

    starlette_app.limiter.acheck = spy  # type: ignore[method-assign]
    try:

        async def go(client: tuple[str, int]) -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=starlette_app.app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
                headers = {"x-api-key": "k", "x-forwarded-for": "198.51.100.4", "x-ja4": "t13d1516h2_abc_def"}
                return [
                    await http.post("/v1/complete", json={"prompt": "write a haiku"}, headers=headers),
                    await http.get("/health"),
                ]

        via_proxy, health = asyncio.run(go(("10.1.2.3", 5000)))
        direct, _ = asyncio.run(go(("203.0.113.5", 5000)))
    finally:
        del starlette_app.limiter.acheck
    body = b'{"prompt":"write a haiku"}'
    assert via_proxy.status_code == 200 and via_proxy.json() == {"sha256": support.sha(body), "bytes": len(body)}
    assert health.json() == {"ok": True} and direct.status_code == 200
    assert len(seen) == 2  # the health checks were exempt
    assert (seen[0].ip, seen[0].client, seen[0].text) == ("198.51.100.4", "tls:t13d1516h2_abc_def", "write a haiku")
    assert seen[1].ip == "203.0.113.5" and seen[1].client.startswith("hdr:")


COMMON = DOCS / "common.md"
FILE = re.compile(r"<!-- file: ([\w.]+) -->\n```\w*\n(.*?)```\n", re.DOTALL)
RUN = re.compile(r"<!-- run: [\w.]+ -->\n```\n\$ patternlimit ([^\n]*)\n(.*?)```\n", re.DOTALL)
SCRIPT = re.compile(r"<!-- script: fan-out -->\n```python\n(.*?)```\n", re.DOTALL)


def test_the_check_policy_commands_in_common_md_print_what_it_shows(tmp_path, monkeypatch, capsys):
    from patternlimit.cli import main

    text = COMMON.read_text()
    files = FILE.findall(text)
    runs = RUN.findall(text)
    assert [name for name, _ in files] == ["policy.toml", "broken.yaml"] and len(runs) == 2
    for name, content in files:
        (tmp_path / name).write_text(content)
    monkeypatch.chdir(tmp_path)
    for (arguments, expected), code in zip(runs, (0, 2), strict=True):
        assert main(arguments.split()) == code
        captured = capsys.readouterr()
        assert captured.out + captured.err == expected


def test_the_version_common_md_shows_is_the_installed_one():
    import patternlimit

    assert f"(`patternlimit {patternlimit.__version__}`)" in COMMON.read_text()


def test_the_fan_out_script_in_common_md_sees_a_throttle_from_the_fastapi_example(tmp_path):
    import subprocess
    import sys

    from patternlimit._testing.web_servers import serve

    [script] = SCRIPT.findall(COMMON.read_text())
    (tmp_path / "fan_out.py").write_text(script)
    # the command the page gives: uvicorn examples.fastapi_app:app --no-proxy-headers (servers.command)
    with serve("fastapi-uvicorn", "uvicorn", "examples.fastapi_app:app") as server:
        run = subprocess.run(
            [sys.executable, "fan_out.py", server.url + "/v1/messages"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    lines = run.stdout.splitlines()
    rounds = [line for line in lines if line.startswith("round ")]
    assert rounds[0] == "round 0: {200: 64}" and rounds[2] == "round 2: {429: 64}"
    assert "429" in rounds[1]
    first = next(line for line in lines if line.startswith("429:"))
    assert "'ratelimit': '\"pattern\";r=0;t=" in first and "'ratelimit-policy': '\"account-rate\";q=600;w=60'" in first


def test_the_usage_example_in_common_md_prints_what_it_shows(capsys):
    text = COMMON.read_text()
    [block] = re.findall(r"<!-- example: usage -->\n```python\n(.*?)```\n", text, re.DOTALL)
    [shown] = re.findall(r"<!-- output: usage -->\n```\n(.*?)```\n", text, re.DOTALL)
    exec(compile(block, str(COMMON), "exec"), {})  # the documentation's own example
    assert capsys.readouterr().out == shown
