"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{index}" for index in range(len(BLOCKS))])
def test_readme_example_runs(block):
    namespace: dict[str, object] = {}
    exec(compile(block, str(README), "exec"), namespace)  # our own documentation


def test_readme_has_examples_and_the_test_command():
    assert BLOCKS
    assert 'pip install -e ".[test]" && pytest' in README.read_text()
