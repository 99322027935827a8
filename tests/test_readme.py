"""The README's Python examples run as written, its two commands come first and verbatim, and its links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEXT = README.read_text()
FENCES = re.findall(r"```(\w*)\n(.*?)```", TEXT, flags=re.DOTALL)
BLOCKS = [body for language, body in FENCES if language == "python"]
COMMANDS = ["pip install -e . && patternlimit simulate\n", 'pip install -e ".[test]" && pytest\n']
"""Tools and CI run these two verbatim (`.ci/run` runs the second)."""


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{index}" for index in range(len(BLOCKS))])
def test_readme_example_runs(index):
    """Blocks run in order in one namespace, as a reader pastes them: later ones use the `limiter` of the first."""
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in BLOCKS[: index + 1]:
        exec(compile(block, str(README), "exec"), namespace)  # our own documentation


def test_readme_has_a_block_per_use():
    joined = "\n".join(BLOCKS)
    for needle in ("Limiter(", "Request(", ".check(", "PatternLimitMiddleware", "PatternLimitWSGIMiddleware"):
        assert needle in joined, needle
    assert "from patternlimit.integrations.decorators import limit\n" in joined
    assert "@limit(limiter, request=" in joined
    assert "limiter.limit(" not in TEXT  # the decorator lives in patternlimit.integrations.decorators


def test_the_two_commands_come_first_and_verbatim():
    assert FENCES[0] == ("bash", COMMANDS[0])
    assert FENCES[1] == ("bash", COMMANDS[1])


def test_every_relative_link_resolves():
    links = re.findall(r"\]\(([^)#]+)\)", TEXT)
    local = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/") for link in local)
    for link in local:
        assert (ROOT / link).exists(), link


def test_readme_stays_short():
    assert len(TEXT.splitlines()) <= 200
