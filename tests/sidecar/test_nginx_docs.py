"""The deployment pages, run as written: docs/deploy/systemd.md's unit passes ``systemd-analyze verify`` and its
``ExecStart`` serves; the container's ``ENTRYPOINT`` and ``CMD`` serve (on loopback here) and are accepted as the
exposed configuration they are; its ``HEALTHCHECK`` passes against them; the ``check-policy`` command runs. Only
paths, ports and the Redis address are replaced, and each replaced text must be on the page. (docs/deploy/nginx.md
is run by tests/sidecar/test_nginx.py.)"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from patternlimit._testing.redis_server import redis_url
from patternlimit._testing.web_servers import ROOT, free_port, patternlimit_serve
from patternlimit.sidecar.serve import settings

PAGE = ROOT / "docs" / "deploy" / "systemd.md"
SECRET = "a deployment docs secret of 32 b"
TOKEN = "a deployment docs admin token"
POLICY = "name: deployed\nrules:\n  - {type: limit, name: account-rate, limit: 600/minute, per: account}\n"


def block(marker: str, language: str) -> str:
    [text] = re.findall(rf"<!-- {marker} -->\n```{language}\n(.*?)```\n", PAGE.read_text(), re.DOTALL)
    return text


def replaced(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"docs/deploy/systemd.md lost {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    with redis_url() as url:
        yield url


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "secret").write_text(SECRET + "\n")
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "policy.yaml").write_text(POLICY)
    return {"secret": tmp_path / "secret", "token": tmp_path / "token", "policy": tmp_path / "policy.yaml"}


def serve_arguments(command: list[str]) -> list[str]:
    assert command[:2] in (["patternlimit", "serve"], [shutil.which("patternlimit") or "patternlimit", "serve"])
    return command[2:]


def test_the_check_policy_command_runs(files: dict[str, Path]) -> None:
    [command] = re.findall(r"```bash\n(patternlimit check-policy [^\n]*)\n```", PAGE.read_text())
    run = [sys.executable, "-m", "patternlimit.cli", *shlex.split(command)[1:]]
    run = [str(files["policy"]) if part == "/etc/patternlimit/policy.yaml" else part for part in run]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "valid policy: 1 rules" in done.stdout
    files["policy"].write_text(POLICY.replace("per: account", "per: nobody"))
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "per" in done.stderr


def test_the_systemd_unit_verifies_and_its_exec_start_serves(tmp_path: Path, files: dict[str, Path], redis: str):
    unit = block("unit: patternlimit.service", "ini")
    script = shutil.which("patternlimit")
    if script is None:
        pytest.skip("the patternlimit script is not on PATH (pip install -e .)")
    unit = replaced(unit, {"/opt/patternlimit/bin/patternlimit": script})
    if shutil.which("systemd-analyze"):
        path = tmp_path / "patternlimit.service"
        path.write_text(unit)
        done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "patternlimit.service" not in done.stderr, done.stderr  # no warning about the unit itself
    [exec_start] = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    port = free_port()
    command = replaced(
        exec_start,
        {
            "${CREDENTIALS_DIRECTORY}": str(tmp_path),
            "/etc/patternlimit/policy.yaml": str(files["policy"]),
            "redis://127.0.0.1:6379/0": redis,
            "--port 8111": f"--port {port}",
        },
    )
    with patternlimit_serve(*serve_arguments(shlex.split(command)), env={}, port=port) as (url, _, _):
        assert httpx.get(f"{url}/healthz", timeout=5).json()["policy"] == "deployed"
        admin = httpx.get(f"{url}/admin/overrides", headers={"authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert admin.status_code == 200  # the token came from the credential file


def test_the_container_command_serves_and_its_healthcheck_passes(files: dict[str, Path], redis: str) -> None:
    dockerfile = block("container: Dockerfile", "dockerfile")
    extras = re.findall(r'"patternlimit\[([^\]]+)\]"', dockerfile)[0].split(",")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras) <= set(declared)
    [entrypoint] = re.findall(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M)
    [cmd] = re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)
    [health] = re.findall(r"^HEALTHCHECK .*?CMD (\[.*\])$", dockerfile, re.M)
    arguments = serve_arguments(json.loads(entrypoint)) + json.loads(cmd)
    paths = {
        "/run/secrets/patternlimit_secret": str(files["secret"]),
        "/run/secrets/patternlimit_token": str(files["token"]),
        "/etc/patternlimit/policy.yaml": str(files["policy"]),
        "redis://redis:6379/0": redis,
    }
    arguments = [paths.get(argument, argument) for argument in arguments]
    options = dict(zip(arguments[::2], arguments[1::2], strict=True))
    # As the container runs it (every interface): the secret and token files make it an acceptable exposed setup.
    exposed = settings(
        host=options["--host"],
        policy=options["--policy"],
        storage=options["--storage"],
        secret_file=options["--secret-file"],
        token_file=options["--token-file"],
        max_body=1 << 20,
    )
    assert options["--host"] == "0.0.0.0" and exposed["token_for_checks"] and exposed["token"] == TOKEN
    port = free_port()
    options.update({"--host": "127.0.0.1", "--port": str(port)})  # here: loopback, and a free port
    with patternlimit_serve(*[part for pair in options.items() for part in pair], env={}, port=port) as (url, _, _):
        assert httpx.get(f"{url}/healthz", timeout=5).json()["policy"] == "deployed"
        check = [part.replace("127.0.0.1:8111", f"127.0.0.1:{port}") for part in json.loads(health)]
        assert check[0] == "python" and "127.0.0.1:8111" in health
        assert subprocess.run([sys.executable, *check[1:]], timeout=30).returncode == 0
    assert subprocess.run([sys.executable, *check[1:]], capture_output=True, timeout=30).returncode != 0
