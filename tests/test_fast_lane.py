"""The fast lane answers /users/me and /verify exactly as the router would.

A query string sends a request past the lane to FastAPI's router and the routes' own
declarations, so each case is asked both ways and the answers compared: status, body and
headers (but the request id, and the rate-limit count the first request used up)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response as Answer
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, basic
from tokenry.core import Core
from tokenry.http.app import create_app
from tokenry.http.fast_lane import FastLane
from tokenry.storage.models import UsageCounter

METRICS_TOKEN = "scrape-secret-for-tests"
# ratelimit-reset counts whole seconds to the window's end: one second apart when the two
# requests straddle a second's turn
VARYING = {"x-request-id", "x-rate-limit-remaining", "ratelimit-remaining", "ratelimit-reset",
           "date"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"metrics_token": METRICS_TOKEN, "auth_failure_limit": 1000}


def both_ways(client: TestClient, path: str, headers: dict[str, str]) -> tuple[Answer, ...]:
    lane = client.get(path, headers=headers)
    router = client.get(f"{path}?via=router", headers=headers)
    return lane, router


def comparable(answer: Answer) -> tuple[int, bytes, dict[str, str]]:
    kept = {k: v for k, v in answer.headers.items() if k not in VARYING}
    return answer.status_code, answer.content, kept


CASES: dict[str, dict[str, str] | None] = {
    "anonymous": {},
    "api token": None,  # the admin's token, filled in by the test
    "password": basic(ADMIN_EMAIL, ADMIN_PASSWORD, token=False),
    "unknown token": basic(ADMIN_EMAIL, "tkry_" + "x" * 40),
    "malformed": {"Authorization": "Basic !!!"},
    "no such account": {"Authorization": "Basic Zm9vOmJhcg==", "Host": "nowhere.example.com"},
}


@pytest.mark.parametrize("path", ["/api/v2/users/me.json", "/api/v2/users/me",
                                  "/api/v2/users/me/", "/api/v2/verify.json", "/api/v2/verify"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_lane_answers_as_the_router_does(client: TestClient, admin_auth: dict[str, str],
                                             path: str, case: str) -> None:
    given = CASES[case]
    headers = admin_auth if given is None else given
    lane, router = both_ways(client, path, headers)
    assert comparable(lane) == comparable(router)
    assert lane.headers["x-request-id"] != router.headers["x-request-id"]
    assert lane.headers["x-content-type-options"] == "nosniff"
    if lane.status_code == 200 and case != "anonymous":
        # the rate-limit headers come from the same counter: one request apart
        assert int(lane.headers["x-rate-limit-remaining"]) \
            == int(router.headers["x-rate-limit-remaining"]) + 1
        assert 0 <= int(lane.headers["ratelimit-reset"]) \
            - int(router.headers["ratelimit-reset"]) <= 1


def test_a_rate_limited_account_gets_the_same_429_both_ways(
        client: TestClient, core: Core, admin_auth: dict[str, str]) -> None:
    from tokenry.operations.account_settings import update_account_settings
    from tokenry.operations.context import Actor
    actor = Actor(account_id=1, user_id=1, label=ADMIN_EMAIL, via="cli")
    update_account_settings(core, actor, {"rate_limit_per_minute": 10})
    for _ in range(10):
        client.get("/api/v2/users/me.json", headers=admin_auth)
    lane, router = both_ways(client, "/api/v2/users/me.json", admin_auth)
    assert lane.status_code == 429 and comparable(lane) == comparable(router)
    assert lane.headers["retry-after"] and lane.headers["x-rate-limit-remaining"] == "0"


def test_lane_requests_are_labelled_and_counted_by_their_route(
        client: TestClient, core: Core, admin_auth: dict[str, str]) -> None:
    for path in ("/api/v2/users/me.json", "/api/v2/users/me", "/api/v2/verify"):
        assert client.get(path, headers=admin_auth).status_code == 200
    core.usage.flush(core.db)
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    counts = {tuple(sorted(s.labels.items())): s.value
              for family in text_string_to_metric_families(text) for s in family.samples
              if s.name == "tokenry_http_request_duration_seconds_count"}
    assert counts[(("method", "GET"), ("route", "/api/v2/users/me"))] == 2
    assert counts[(("method", "GET"), ("route", "/api/v2/verify"))] == 1
    with core.db.read() as session:
        endpoints = {c.endpoint: c.count for c in session.query(UsageCounter)}
    assert endpoints == {"GET /api/v2/users/me": 2, "GET /api/v2/verify": 1}


def test_an_unexpected_error_in_the_lane_is_the_apps_500(
        core: Core, admin_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the verifier broke")

    monkeypatch.setattr(core.verifier, "authenticate_header", broken)
    with TestClient(create_app(core.settings, core), raise_server_exceptions=False) as client:
        answer = client.get("/api/v2/users/me.json", headers=admin_auth)
    assert answer.status_code == 500
    assert answer.json()["error"] == "InternalError" and "broke" not in answer.text


def test_an_unexpected_error_past_the_lane_still_gets_the_envelope(
        core: Core, admin_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The envelope is outside FastAPI's own error layer: its 500 gets the same headers."""
    from tokenry.http.routes import api_tokens

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the listing broke")

    monkeypatch.setattr(api_tokens, "list_tokens", broken)
    with TestClient(create_app(core.settings, core), raise_server_exceptions=False) as client:
        answer = client.get("/api/v2/api_tokens.json", headers=admin_auth)
        text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert answer.status_code == 500 and answer.json()["error"] == "InternalError"
    assert len(answer.headers["x-request-id"]) == 32
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert 'route="/api/v2/api_tokens",method="GET"' in text \
        or 'method="GET",route="/api/v2/api_tokens"' in text


def test_the_lane_answers_without_the_router(
        client: TestClient, admin_auth: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_route(*args: object) -> None:
        raise AssertionError("the router handled a fast-lane request")

    monkeypatch.setattr(APIRoute, "handle", no_route)
    for path in ("/api/v2/users/me.json", "/api/v2/verify"):
        assert client.get(path, headers=admin_auth).status_code == 200
    with pytest.raises(AssertionError, match="router"):
        client.get("/api/v2/verify?scope=read", headers=admin_auth)


def test_the_lane_refuses_a_path_with_no_get_route() -> None:
    async def nothing(request: Request) -> Response:
        raise AssertionError

    with pytest.raises(RuntimeError, match="/api/v2/nothing"):
        FastLane(FastAPI(), routes=[], endpoints={"/api/v2/nothing": nothing})
