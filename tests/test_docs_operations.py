"""docs/operations.md: its Python blocks run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
BLOCKS = re.findall(r"```python\n(.*?)```\n", PAGE.read_text(), re.DOTALL)


def test_the_page_has_its_examples():
    assert len(BLOCKS) == 3


@pytest.mark.parametrize("block", BLOCKS, ids=["overrides", "reload", "metrics"])
def test_each_block_runs(block, capsys):
    exec(compile(block, str(PAGE), "exec"), {})  # the documentation's own example
    assert capsys.readouterr().out  # each block prints what an operator would look at
