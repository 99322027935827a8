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
