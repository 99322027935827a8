"""docs/operations.md: its Python blocks run as written and print what the page shows; ``patternlimit top`` prints
what the page shows for a campaign on a real Redis."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
BLOCKS = re.findall(r"```python\n(.*?)```\n", PAGE.read_text(), re.DOTALL)
IDS = ["overrides", "reload", "metrics", "charge"]


def test_the_page_has_its_examples():
    assert len(BLOCKS) == len(IDS)


@pytest.mark.parametrize("block", BLOCKS, ids=IDS)
def test_each_block_runs(block, capsys):
    exec(compile(block, str(PAGE), "exec"), {})  # the documentation's own example
    assert capsys.readouterr().out  # each block prints what an operator would look at


def test_the_charge_block_prints_what_the_page_shows(capsys):
    text = PAGE.read_text()
    block = BLOCKS[IDS.index("charge")]
    shown = text.split(block, 1)[1].split("prints\n\n```\n", 1)[1].split("```\n", 1)[0]
    exec(compile(block, str(PAGE), "exec"), {})
    assert capsys.readouterr().out == shown


def test_top_prints_what_the_page_shows_for_a_campaign_on_a_real_redis(monkeypatch, capsys):
    from patternlimit import Limiter
    from patternlimit._testing import traffic
    from patternlimit._testing.redis_server import redis_url
    from patternlimit.cli import main

    [(command, shown)] = re.findall(
        r"<!-- run: top -->\n```\n\$ patternlimit ([^\n]*)\n(.*?)```\n", PAGE.read_text(), re.DOTALL
    )
    secret = "an example deployment secret"
    with redis_url() as url:
        limiter = Limiter(storage=url, secret=secret, storage_options={"share_labels": True})
        try:
            # The campaign's two hours end just now: its patterns are in the window at the wall clock.
            offset = time.time() - 7300 - traffic.START
            for now, request in traffic.campaign(accounts=150, per_account=8, prefixes=4):
                created = request.account_created_at
                assert created is not None
                limiter.check(replace(request, account_created_at=created + offset), now + offset)
            limiter.sync()
            monkeypatch.setenv("PATTERNLIMIT_SECRET", secret)
            assert main(command.replace("redis://localhost:6379/0", url).split()) == 0
        finally:
            limiter.close()
    assert capsys.readouterr().out == shown.replace("redis://localhost:6379/0", url.split("?")[0])
