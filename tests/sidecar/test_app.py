"""The sidecar app in process (httpx's ASGI transport): checks, batch, nginx auth, admin, limits, metrics."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from patternlimit import Limiter
from patternlimit._testing import traffic
from patternlimit.sidecar.app import SidecarConfig, build_app

TOKEN = "an admin token of 32 characters!"


def _client(limiter: Limiter, **options: object) -> httpx.AsyncClient:
    app = build_app(limiter, SidecarConfig(token=TOKEN, digest_key=b"k", **options))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sidecar")


def _facts(now: float, request: object) -> dict[str, object]:
    fields = ("account", "ip", "text", "route", "client", "account_created_at", "cost")
    return {**{name: getattr(request, name) for name in fields}, "now": now}


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


def test_a_templated_fan_out_is_throttled_through_the_json_api_and_a_ci_harness_is_not():
    limiter = Limiter(secret=b"sidecar test secret of 32 bytes!")

    async def go() -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
        async with _client(limiter) as client:
            campaign = [
                (await client.post("/v1/check", json=_facts(now, request))).json()
                for now, request in traffic.campaign(accounts=150, per_account=8)
            ]
            harness = [
                (await client.post("/v1/check", json=_facts(now, request))).json()
                for now, request in traffic.ci_harness(300)
            ]
        return campaign, harness

    campaign, harness = run(go())
    throttled = [answer for answer in campaign if answer["action"] == "throttle"]
    assert len(throttled) > 0.5 * len(campaign)
    assert throttled[-1]["rule"] and throttled[-1]["reason"] and throttled[-1]["headers"]["retry-after"].isdigit()
    assert throttled[-1]["pattern"]["kind"] in ("template", "near_duplicate", "network")
    assert all(answer["allowed"] for answer in harness)


def test_the_batch_endpoint_answers_in_order_like_check_many():
    stream = traffic.campaign(accounts=80, per_account=6)
    direct = Limiter(secret=b"sidecar test secret of 32 bytes!")
    expected = [d.action.value for d in direct.check_many([r for _, r in stream], [now for now, _ in stream])]

    async def go() -> list[str]:
        async with _client(Limiter(secret=b"sidecar test secret of 32 bytes!")) as client:
            response = await client.post("/v1/check/batch", json={"requests": [_facts(n, r) for n, r in stream]})
            assert response.status_code == 200
            return [answer["action"] for answer in response.json()["decisions"]]

    assert run(go()) == expected


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (b"{not json", 400, "not JSON"),
        (json.dumps({"account": 5}).encode(), 400, "account"),
        (json.dumps({"cost": -1}).encode(), 400, "cost"),
        (json.dumps({"account_created_at": "yesterday"}).encode(), 400, "account_created_at"),
        (json.dumps({"surprise": 1}).encode(), 400, "surprise"),
        (json.dumps([1, 2]).encode(), 400, "body"),
        (b"x" * 5000, 413, "bytes"),
    ],
)
def test_bad_bodies_are_answered_with_the_field_named(body, status, names):
    async def go() -> httpx.Response:
        async with _client(Limiter(secret=b"sidecar test secret of 32 bytes!"), max_body=4096) as client:
            return await client.post("/v1/check", content=body, headers={"content-type": "application/json"})

    response = run(go())
    assert response.status_code == status
    assert names in json.dumps(response.json())


def test_admin_needs_the_token_and_an_override_takes_effect_at_once():
    limiter = Limiter(secret=b"sidecar test secret of 32 bytes!")
    stream = traffic.campaign(accounts=150, per_account=8)
    now, request = stream[-1]

    async def go() -> None:
        async with _client(limiter) as client:
            for moment, item in stream:
                await client.post("/v1/check", json=_facts(moment, item))
            assert (await client.post("/v1/check", json=_facts(now + 1, request))).json()["action"] == "throttle"
            body = {"action": "allow", "account": request.account, "duration": 600, "why": "ticket 7"}
            assert (await client.post("/admin/overrides", json=body)).status_code == 401
            wrong = {"authorization": "Bearer nope"}
            assert (await client.post("/admin/overrides", json=body, headers=wrong)).status_code == 401
            good = {"authorization": f"Bearer {TOKEN}"}
            assert (await client.post("/admin/overrides", json=body, headers=good)).status_code == 200
            answer = (await client.post("/v1/check", json=_facts(now + 2, request))).json()
            assert answer["rule"] == "override:allow" and "ticket 7" in answer["reason"]
            listed = (await client.get("/admin/overrides", headers=good)).json()["overrides"]
            assert [entry["action"] for entry in listed] == ["allow"]
            bad = await client.post("/admin/overrides", json={"action": "allow", "duration": 5}, headers=good)
            assert bad.status_code == 400 and "exactly one" in bad.json()["error"]

    run(go())


def test_a_bad_reload_keeps_the_old_policy_and_a_good_one_is_applied():
    limiter = Limiter(secret=b"sidecar test secret of 32 bytes!")
    good = {"authorization": f"Bearer {TOKEN}"}

    async def go() -> None:
        async with _client(limiter) as client:
            broken = {"policy": {"rules": [{"type": "pattern", "name": "x", "nonsense": 1}]}}
            response = await client.post("/admin/reload", json=broken, headers=good)
            assert response.status_code == 400 and "keeps serving" in response.json()["error"]
            assert limiter.policy.name == "distillation-defense"
            response = await client.post("/admin/reload", json={"policy": "distillation-defense"}, headers=good)
            assert response.status_code == 200 and response.json()["counts_kept"] is True

    run(go())


def test_admin_is_off_without_a_token_and_checks_can_require_it():
    async def go() -> None:
        app = build_app(Limiter(secret=b"sidecar test secret of 32 bytes!"), SidecarConfig())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
            assert (await client.get("/admin/overrides")).status_code == 403
        async with _client(Limiter(secret=b"sidecar test secret of 32 bytes!"), token_for_checks=True) as client:
            assert (await client.post("/v1/check", json={})).status_code == 401
            headers = {"authorization": f"Bearer {TOKEN}"}
            assert (await client.post("/v1/check", json={}, headers=headers)).status_code == 200
            assert (await client.get("/healthz")).status_code == 200

    run(go())


def test_the_nginx_auth_endpoint_reads_the_headers_nginx_sets():
    limiter = Limiter(secret=b"sidecar test secret of 32 bytes!")

    async def go() -> list[int]:
        async with _client(limiter) as client:
            statuses = []
            for index in range(400):
                headers = {
                    "x-api-key": f"sk-live-{index % 100}",  # 100 keys, four requests each
                    "x-real-ip": f"198.51.{index % 4}.{index % 200 + 1}",
                    "x-original-uri": "/v1/messages?stream=true",
                    "user-agent": "python-requests/2.31",
                    "x-account-created-at": str(time.time() - 3600),
                    "x-patternlimit-text": "You are an expert software engineer. Write a Python function that "
                    f"parses config number {index}. Include type hints and three unit tests. Return only code.",
                }
                statuses.append((await client.get("/v1/auth", headers=headers)).status_code)
            return statuses

    statuses = run(go())
    assert statuses[0] == 204 and 429 in statuses
    assert not any("sk-live" in str(key) for key in limiter._facts._accounts)  # API keys are digested first


def test_metrics_are_served():
    async def go() -> httpx.Response:
        async with _client(Limiter(secret=b"sidecar test secret of 32 bytes!")) as client:
            await client.post("/v1/check", json={"account": "a", "text": "hello"})
            return await client.get("/metrics")

    response = run(go())
    assert response.status_code == 200 and "patternlimit_decisions_total" in response.text
