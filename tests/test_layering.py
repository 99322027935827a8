"""The architecture, checked: imports flow one way, nothing imports a twin, no module outgrows its job.

Layers, lowest first: ``_kernels`` <- ``sketches`` <- ``engine`` <- ``integrations``, ``sidecar``, ``cli``;
``fingerprint`` and ``policy`` feed the engine; ``storage`` and ``replication`` sit below it and import neither the
engine nor the sketches. :data:`ALLOWED` is that picture as data: each part of the package and the parts it may
import. Imports are read from the source (every ``import`` statement, including those inside functions and under
``TYPE_CHECKING``), so a lazy import that reaches up is caught too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "patternlimit"

_BOTTOM = {"_kernels", "errors", "_tables"}
_FEEDS = _BOTTOM | {"keying", "request", "sketches", "policy", "fingerprint", "storage", "replication"}
_ENGINE = _FEEDS | {"engine"}
ALLOWED: dict[str, set[str]] = {
    "_kernels": set(),
    # The kernels' plain-Python twins, for tests only: they may share plain code the package uses beside them.
    "_kernels.reference": {"_kernels", "fingerprint", "keying", "errors"},
    "errors": {"policy"},  # only for the annotation of RateLimitExceeded.decision, under TYPE_CHECKING
    "_tables": set(),
    "keying": {"_kernels", "errors"},
    "request": {"errors"},
    "sketches": {"_kernels", "errors"},
    "policy": {"_kernels", "errors", "request"},
    "fingerprint": {"_kernels", "errors", "keying", "_tables"},
    "storage": {"_kernels", "errors", "_tables", "policy"},
    "replication": {"errors", "_tables", "policy", "storage"},
    "engine": _FEEDS,
    "integrations": _ENGINE,
    "sim": _ENGINE,
    "replay": _ENGINE | {"sim"},
    "sidecar": _ENGINE | {"integrations"},
    "cli": _ENGINE | {"integrations", "sidecar", "sim", "replay", "__init__", "cli_top"},  # __init__: __version__
    "cli_top": _ENGINE,
    "__init__": _ENGINE | {"integrations"},
    "__main__": {"cli"},
    "_testing": set(),  # test and benchmark harness: may import anything, imported by nothing in the package
}
"""Each part of the package (a subpackage or a top-level module) and the other parts it may import."""

PRIVATE_TO_TESTS = ("patternlimit._kernels.reference", "patternlimit._testing")
"""Modules that only tests and benchmarks (and themselves) may import."""

MAX_LINES = 500
DATA_MODULE_LINES = 2000
"""A module of pure literal data (word lists, tables) may be longer; code modules stay under ``MAX_LINES``."""


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path) -> set[str]:
    """The package modules ``name`` imports (``from x import y`` counts ``x.y`` when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)
    return {target for target in targets if target == "patternlimit" or target.startswith("patternlimit.")}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {target for target in _imports(name, path) if target in modules} for name, path in modules.items()}


def _part(module: str) -> str:
    if module.startswith("patternlimit._kernels.reference"):
        return "_kernels.reference"
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import of ``graph`` that :data:`ALLOWED` or :data:`PRIVATE_TO_TESTS` forbids."""
    found = []
    for source, targets in sorted(graph.items()):
        part = _part(source)
        for target in sorted(targets):
            target_part = _part(target)
            if target_part == part or part == "_testing":
                pass
            elif target_part not in ALLOWED.get(part, set()):
                found.append(f"{source} imports {target}: {part} may import only {sorted(ALLOWED.get(part, ()))}")
                continue
            for private in PRIVATE_TO_TESTS:
                if (target == private or target.startswith(private + ".")) and not source.startswith(private):
                    found.append(f"{source} imports {target}, which only tests and benchmarks may import")
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph`` among modules (Tarjan's strongly connected components of size > 1, and
    self-imports). A package importing its own submodules is not a circle unless a submodule imports it back."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _runtime_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """``graph`` without a package's edges to its own submodules (``__init__`` re-exports), which are imports
    *down* into the package, never a circle by themselves."""
    return {
        source: {target for target in targets if not target.startswith(source + ".")}
        for source, targets in graph.items()
    }


def test_every_part_of_the_package_is_placed_in_a_layer() -> None:
    unplaced = {_part(module) for module in _modules()} - set(ALLOWED)
    assert not unplaced, f"add these to ALLOWED in tests/test_layering.py: {sorted(unplaced)}"


def test_no_import_goes_against_the_layering() -> None:
    assert layering_violations(_graph()) == []


def test_no_import_circle() -> None:
    assert circles(_runtime_graph(_graph())) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("patternlimit.storage.journal", "patternlimit.engine.limiter"),  # storage reaching up
        ("patternlimit.replication.replicator", "patternlimit.engine.shared"),  # the port bypassed
        ("patternlimit._kernels.observe", "patternlimit.sketches.state"),  # a kernel reaching up
        ("patternlimit.engine.facts", "patternlimit.integrations.asgi"),  # the engine importing web code
        ("patternlimit.fingerprint.text", "patternlimit._kernels.reference.text"),  # package code using a twin
        ("patternlimit.storage.journal", "patternlimit.sketches.state"),  # storage importing sketches
    ],
)
def test_the_checks_catch_a_deliberate_back_import(source: str, target: str) -> None:
    graph = _graph()
    graph[source] = {*graph[source], target}
    assert layering_violations(graph), f"{source} -> {target} was not reported"


def test_the_circle_check_catches_a_deliberate_circle() -> None:
    graph = _graph()
    graph["patternlimit.engine.facts"] = {*graph["patternlimit.engine.facts"], "patternlimit.engine.limiter"}
    assert ["patternlimit.engine.facts", "patternlimit.engine.limiter"] in [
        [member for member in circle if member in ("patternlimit.engine.facts", "patternlimit.engine.limiter")]
        for circle in circles(_runtime_graph(graph))
    ]


def _is_data_module(tree: ast.Module) -> bool:
    """Only a docstring, imports and assignments of literal values (containers of constants)."""

    def literal(node: ast.AST) -> bool:
        try:
            ast.literal_eval(node)
        except ValueError:
            return False
        return True

    for statement in tree.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
        if value is None or not literal(value):
            return False
    return True


def _long_modules(paths: Iterable[Path]) -> list[str]:
    long = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n")
        limit = DATA_MODULE_LINES if _is_data_module(ast.parse(source)) else MAX_LINES
        if lines > limit:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines (limit {limit})")
    return long


def test_no_module_outgrows_its_job() -> None:
    assert _long_modules(sorted(PACKAGE.rglob("*.py"))) == []


def test_benchmarks_do_not_import_tests() -> None:
    offenders = []
    for path in sorted((ROOT / "benchmarks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] == "tests"]
    assert offenders == []
