"""The Activity tab's data: requests over time and their top sources, from the usage counters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, Clock, basic
from tokenry.core import Core
from tokenry.domain import activity
from tokenry.domain.errors import Invalid
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token


def test_a_window_is_whole_buckets_ending_after_now() -> None:
    now = datetime(2027, 3, 4, 10, 17, tzinfo=UTC)
    day = activity.window("24h", now)
    assert (day.start, day.end, day.buckets) == (
        datetime(2027, 3, 3, 11, tzinfo=UTC), datetime(2027, 3, 4, 11, tzinfo=UTC), 24)
    assert activity.window("7d", now).buckets == 28
    assert activity.window("30d", now).buckets == 30
    points = activity.series(day, [(now, 2), (now - timedelta(minutes=1), 3),
                                   (now - timedelta(days=2), 99)])  # outside: ignored
    assert points[-1] == (datetime(2027, 3, 4, 10, tzinfo=UTC), 5)
    assert sum(n for _, n in points) == 5
    with pytest.raises(Invalid):
        activity.window("1y", now)


def test_activity_counts_requests_by_token_caller_and_endpoint(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    clock: Clock, cli: Any
) -> None:
    other = create_token(core, admin_actor, description="script").secret
    for _ in range(3):
        client.get("/api/v2/users/me.json", headers=basic(ADMIN_EMAIL, other))
    client.get("/api/v2/api_tokens.json", headers=admin_auth)
    core.usage.flush(core.db)

    found = client.get("/api/v2/api_tokens/activity.json?period=24h", headers=admin_auth)
    assert found.status_code == 200, found.text
    body = found.json()["activity"]
    # the activity request itself is counted only at the next flush
    assert body["total"] == 4 and len(body["series"]) == 24
    assert [t["count"] for t in body["top_tokens"]] == [3, 1]
    assert body["top_callers"] == [{"user_id": 1, "email": ADMIN_EMAIL,
                                    "ip_address": "testclient", "count": 4}]
    assert {e["endpoint"]: e["count"] for e in body["top_endpoints"]} == {
        "GET /api/v2/users/me": 3, "GET /api/v2/api_tokens": 1}

    one = client.get(f"/api/v2/api_tokens/activity?period=7d&token_id="
                     f"{body['top_tokens'][0]['token_id']}", headers=admin_auth).json()
    assert one["activity"]["total"] == 3 and len(one["activity"]["series"]) == 28
    assert client.get("/api/v2/api_tokens/activity?period=1y",
                      headers=admin_auth).status_code == 422
    assert client.get("/api/v2/api_tokens/activity?token_id=999999",
                      headers=admin_auth).status_code == 404

    clock.now += timedelta(days=2)  # out of the last 24 hours, still in the last 7 days
    assert client.get("/api/v2/api_tokens/activity", headers=admin_auth).json()[
        "activity"]["total"] == 0
    result = cli("tokens", "activity", "--period", "7d", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["activity"]["total"] >= 4
    assert "requests from" in cli("tokens", "activity", "--period", "30d").output
    assert cli("tokens", "activity", "--period", "1y").exit_code == 1


def test_activity_is_for_admins_only(client: TestClient, core: Core,
                                     admin_actor: Actor) -> None:
    from tokenry.operations.users import create_user

    create_user(core, admin_actor, email="agent@example.com", name="Al", role="agent")
    agent = create_token(core, admin_actor, description="agent",
                         user_id=2).secret
    refused = client.get("/api/v2/api_tokens/activity",
                         headers=basic("agent@example.com", agent))
    assert refused.status_code == 403
