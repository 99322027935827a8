"""``patternlimit serve`` reloads its policy file on SIGHUP, as a real subprocess: a good file takes over, a bad one
is refused with the reason in the log while the current policy keeps serving."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import IO

import httpx

from patternlimit._testing.web_servers import patternlimit_serve

SECRET = "a reload test secret of 32 bytes"

POLICY = """\
name: {name}
rules:
  - type: limit
    name: account-rate
    limit: {limit}/minute
    per: account
    strategy: fixed-window
    weighted: false
"""


def wait_for(condition: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def logged(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")


def test_sighup_reloads_the_policy_file_and_a_bad_one_is_refused_while_the_old_one_serves(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(name="first", limit=1000))
    with patternlimit_serve("--policy", str(policy), env={"PATTERNLIMIT_SECRET": SECRET}) as (url, process, log):

        def policy_name() -> str:
            return str(httpx.get(f"{url}/healthz", timeout=5).json()["policy"])

        def throttled_on_request(count: int) -> list[str]:
            facts = {"account": f"acct-{time.monotonic_ns()}", "ip": "192.0.2.7", "text": "hello"}
            return [httpx.post(f"{url}/v1/check", json=facts, timeout=5).json()["action"] for _ in range(count)]

        assert policy_name() == "first"
        assert throttled_on_request(3) == ["allow"] * 3

        policy.write_text(POLICY.format(name="second", limit=2))
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: policy_name() == "second", "the new policy serving")
        assert throttled_on_request(3) == ["allow", "allow", "throttle"]  # its own limit, at once

        policy.write_text(POLICY.format(name="third", limit=2).replace("per: account", "per: nobody"))
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: "refused" in logged(log), "the refusal in the log")
        text = logged(log)
        assert "policy" in text and "'second' keeps serving" in text and "per" in text.split("refused", 1)[1]
        assert process.poll() is None
        assert policy_name() == "second"
        assert throttled_on_request(3) == ["allow", "allow", "throttle"]

        policy.write_text("name: [unbalanced\n")
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: logged(log).count("refused") == 2, "the second refusal in the log")
        assert process.poll() is None and policy_name() == "second"


def test_with_workers_a_sighup_restarts_them_and_a_bad_file_falls_back_to_the_policy_validated_at_start(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(name="first", limit=1000))
    arguments = ("--policy", str(policy), "--workers", "2")
    with patternlimit_serve(*arguments, env={"PATTERNLIMIT_SECRET": SECRET}) as (url, process, log):
        policy.write_text("rules: [{type: limit, name: broken}]\n")
        process.send_signal(signal.SIGHUP)  # to uvicorn's supervisor: it restarts both workers
        # uvicorn replaces the workers one by one (keeping an old one if its successor is slow to be ready): wait
        # for the first replacement's refusal.
        wait_for(lambda: "serving the one validated at start" in logged(log), "a restarted worker's refusal", 90)
        assert process.poll() is None
        wait_for(lambda: _answers(url), "a restarted worker answering", 90)
        assert {httpx.get(f"{url}/healthz", timeout=5).json()["policy"] for _ in range(6)} == {"first"}


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
