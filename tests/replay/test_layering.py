"""replay sits beside sim and the CLI: nothing below imports it, and it uses only the layers it is allowed."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "patternlimit"

ALLOWED = (
    "patternlimit.engine",
    "patternlimit.policy",
    "patternlimit.sim",
    "patternlimit.replay",
    "patternlimit.request",
    "patternlimit.errors",
    "patternlimit.keying",  # the secret's environment variable and minimum length
    "patternlimit.storage.clocked",  # the baseline's limits storage on the replayed clock, as sim's
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {name for name in names if name.startswith("patternlimit")}


def test_nothing_below_imports_replay() -> None:
    importers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "replay" not in path.parts
        and path.name != "cli.py"
        and any(name.startswith("patternlimit.replay") for name in imported_modules(path))
    ]
    assert importers == []


def test_replay_imports_only_the_layers_beside_and_below_it() -> None:
    used = {name for path in (PACKAGE / "replay").rglob("*.py") for name in imported_modules(path)}
    assert {name for name in used if not name.startswith(ALLOWED)} == set()
    assert not any("._" in name or name.startswith("patternlimit._") for name in used)
