"""The token lifecycle through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import ADMIN_EMAIL, basic, me_status
from tokenry.core import Core
from tokenry.storage.models import ApiToken


def create(client: TestClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v2/api_tokens.json", json={"api_token": fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["api_token"]  # type: ignore[no-any-return]


def test_create_returns_the_full_token_once_then_only_the_truncated_form(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    created = create(client, admin_auth, description="Zapier sync")
    secret = created["token"]
    assert secret.startswith("tkry_") and len(secret) == 43
    assert created["active"] is True and created["description"] == "Zapier sync"

    shown = client.get(f"/api/v2/api_tokens/{created['id']}.json", headers=admin_auth).json()
    listed = client.get("/api/v2/api_tokens.json", headers=admin_auth).json()
    assert shown["api_token"]["token"] == f"{secret[:9]}********"
    assert secret not in str(listed) and secret not in str(shown)
    assert {t["id"] for t in listed["api_tokens"]} >= {created["id"]}


def test_new_token_authenticates_as_the_email_it_is_paired_with(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    secret = create(client, admin_auth)["token"]
    me = client.get("/api/v2/users/me.json", headers=basic(ADMIN_EMAIL, secret))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == ADMIN_EMAIL and me.json()["user"]["role"] == "admin"


def test_routes_answer_with_and_without_the_json_suffix(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    assert client.get("/api/v2/api_tokens", headers=admin_auth).status_code == 200
    assert client.get("/api/v2/api_tokens.json", headers=admin_auth).status_code == 200
    assert client.get("/api/v2/users/me", headers=admin_auth).status_code == 200


def test_delete_active_token_is_refused(client: TestClient, admin_auth: dict[str, str]) -> None:
    token = create(client, admin_auth)
    response = client.delete(f"/api/v2/api_tokens/{token['id']}.json", headers=admin_auth)
    assert response.status_code == 409
    assert "Deactivate it first" in response.json()["description"]
    assert client.get(f"/api/v2/api_tokens/{token['id']}", headers=admin_auth).status_code == 200


def test_deactivated_token_can_be_deleted_and_is_then_gone(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    token = create(client, admin_auth)
    url = f"/api/v2/api_tokens/{token['id']}.json"
    assert client.put(url, json={"api_token": {"active": False}},
                      headers=admin_auth).status_code == 200
    assert client.delete(url, headers=admin_auth).status_code == 204
    missing = client.get(url, headers=admin_auth)
    assert missing.status_code == 404 and missing.json()["error"] == "RecordNotFound"
    assert me_status(client, ADMIN_EMAIL, token["token"]) == 401


def test_edit_changes_only_the_description(client: TestClient, admin_auth: dict[str, str]) -> None:
    token = create(client, admin_auth, description="old")
    url = f"/api/v2/api_tokens/{token['id']}.json"
    edited = client.put(url, json={"api_token": {"description": "new"}}, headers=admin_auth)
    assert edited.status_code == 200 and edited.json()["api_token"]["description"] == "new"
    assert me_status(client, ADMIN_EMAIL, token["token"]) == 200


def test_edit_cannot_change_the_token_value(client: TestClient, admin_auth: dict[str, str]) -> None:
    token = create(client, admin_auth)
    url = f"/api/v2/api_tokens/{token['id']}.json"
    response = client.put(url, json={"api_token": {"token": "tkry_mine"}}, headers=admin_auth)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "RecordInvalid"
    assert "Delete this token and create a new one" in body["description"]
    assert "token" in body["details"]
    assert me_status(client, ADMIN_EMAIL, token["token"]) == 200


def test_echoing_back_the_shown_token_unchanged_is_accepted(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    token = create(client, admin_auth)
    url = f"/api/v2/api_tokens/{token['id']}.json"
    shown = client.get(url, headers=admin_auth).json()["api_token"]
    shown["description"] = "round trip"
    response = client.put(url, json={"api_token": shown}, headers=admin_auth)
    assert response.status_code == 200, response.text
    assert response.json()["api_token"]["description"] == "round trip"


@pytest.mark.parametrize("change", [{"expires_at": "2030-01-01T00:00:00Z"}, {"user_id": 1},
                                    {"colour": "blue"}, {"active": "yes"}])
def test_edit_refuses_anything_but_description_and_active(
    client: TestClient, admin_auth: dict[str, str], change: dict[str, Any]
) -> None:
    token = create(client, admin_auth, description="kept")
    url = f"/api/v2/api_tokens/{token['id']}.json"
    response = client.put(url, json={"api_token": change}, headers=admin_auth)
    assert response.status_code == 422
    assert response.json()["error"] == "RecordInvalid"
    assert client.get(url, headers=admin_auth).json()["api_token"]["description"] == "kept"


def test_deactivation_takes_effect_on_the_very_next_request(
    client: TestClient, admin_auth: dict[str, str], core: Core
) -> None:
    assert core.settings.verify_cache_ttl > 0  # the cache is on: invalidation, not expiry
    token = create(client, admin_auth)
    auth = basic(ADMIN_EMAIL, token["token"])
    url = f"/api/v2/api_tokens/{token['id']}"
    assert client.get("/api/v2/users/me", headers=auth).status_code == 200
    client.put(url, json={"api_token": {"active": False}}, headers=admin_auth)
    assert client.get("/api/v2/users/me", headers=auth).status_code == 401
    client.put(url, json={"api_token": {"active": True}}, headers=admin_auth)
    assert client.get("/api/v2/users/me", headers=auth).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"verify_cache_ttl": 300}])
def test_deactivation_is_immediate_even_with_a_long_cache_lifetime(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    token = create(client, admin_auth)
    auth = basic(ADMIN_EMAIL, token["token"])
    assert client.get("/api/v2/users/me", headers=auth).status_code == 200
    client.put(f"/api/v2/api_tokens/{token['id']}", json={"api_token": {"active": False}},
               headers=admin_auth)
    assert client.get("/api/v2/users/me", headers=auth).status_code == 401


def test_description_longer_than_255_is_refused(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    response = client.post("/api/v2/api_tokens", headers=admin_auth,
                           json={"api_token": {"description": "x" * 256}})
    assert response.status_code == 422
    assert "description" in response.json()["details"]


def test_create_refuses_a_chosen_token_value(client: TestClient, admin_auth: dict[str, str],
                                             core: Core) -> None:
    response = client.post("/api/v2/api_tokens", headers=admin_auth,
                           json={"api_token": {"token": "tkry_chosen"}})
    assert response.status_code == 422
    with core.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 1  # admin's own


@pytest.mark.parametrize("body", [{}, {"api_token": "x"}, [], {"api_token": {"description": 5}}])
def test_malformed_bodies_get_record_invalid(client: TestClient, admin_auth: dict[str, str],
                                             body: Any) -> None:
    response = client.post("/api/v2/api_tokens", headers=admin_auth, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "RecordInvalid"


def test_unknown_token_id_is_404(client: TestClient, admin_auth: dict[str, str]) -> None:
    for method in ("get", "delete"):
        response = getattr(client, method)("/api/v2/api_tokens/999999.json", headers=admin_auth)
        assert response.status_code == 404
    response = client.put("/api/v2/api_tokens/999999.json", headers=admin_auth,
                          json={"api_token": {"description": "x"}})
    assert response.status_code == 404


def test_list_is_paginated(client: TestClient, admin_auth: dict[str, str]) -> None:
    for n in range(4):
        create(client, admin_auth, description=f"t{n}")
    first = client.get("/api/v2/api_tokens.json?per_page=2", headers=admin_auth).json()
    assert first["count"] == 5 and len(first["api_tokens"]) == 2
    assert first["next_page"].endswith("page=2&per_page=2") and first["previous_page"] is None
    last = client.get("/api/v2/api_tokens.json?per_page=2&page=3", headers=admin_auth).json()
    assert len(last["api_tokens"]) == 1 and last["next_page"] is None
    bad = client.get("/api/v2/api_tokens.json?per_page=1000", headers=admin_auth)
    assert bad.status_code == 422


def test_expiring_token_works_until_its_expiry_then_fails(
    client: TestClient, admin_auth: dict[str, str], clock: Any
) -> None:
    from datetime import timedelta

    expires = (clock.now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = create(client, admin_auth, expires_at=expires)
    assert token["expires_at"] == expires
    auth = basic(ADMIN_EMAIL, token["token"])
    assert client.get("/api/v2/users/me", headers=auth).status_code == 200
    clock.now += timedelta(hours=2)
    assert client.get("/api/v2/users/me", headers=auth).status_code == 401


@pytest.mark.parametrize("expires_at", ["2001-01-01T00:00:00Z", "2031-01-01T00:00:00", "soon"])
def test_expiry_must_be_a_future_time_with_a_zone(
    client: TestClient, admin_auth: dict[str, str], expires_at: str
) -> None:
    response = client.post("/api/v2/api_tokens", headers=admin_auth,
                           json={"api_token": {"expires_at": expires_at}})
    assert response.status_code == 422
    assert "expires_at" in response.json()["details"]
