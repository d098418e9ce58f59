"""Scopes on API tokens (issue 9): a token may be limited in Zendesk's grammar; tokenry's API
enforces them on every route, ``/api/v2/verify`` reports and requires them, the account's
``allowed_scopes`` is a ceiling, and a scoped token never mints a wider one."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, basic
from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.http.app import create_app
from tokenry.http.scopes import RequireScope
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token


def token_with(client: TestClient, auth: dict[str, str], *scopes: str) -> dict[str, str]:
    response = client.post("/api/v2/api_tokens", headers=auth,
                           json={"api_token": {"description": "scoped", "scopes": list(scopes)}})
    assert response.status_code == 201, response.text
    return basic(ADMIN_EMAIL, response.json()["api_token"]["token"])


def test_a_scoped_token_shows_its_scopes_in_canonical_form(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    created = client.post("/api/v2/api_tokens", headers=admin_auth, json={"api_token": {
        "description": "reader", "scopes": ["users", "read", "users:read"]}}).json()["api_token"]
    assert created["scopes"] == ["read", "users:read", "users:write"]
    shown = client.get(f"/api/v2/api_tokens/{created['id']}", headers=admin_auth).json()
    assert shown["api_token"]["scopes"] == created["scopes"]
    listed = client.get("/api/v2/api_tokens", headers=admin_auth).json()["api_tokens"]
    assert {t["id"]: t["scopes"] for t in listed}[created["id"]] == created["scopes"]
    assert all(t["scopes"] is None for t in listed if t["id"] != created["id"])  # unscoped
    changed = client.put(f"/api/v2/api_tokens/{created['id']}", headers=admin_auth,
                         json={"api_token": {"scopes": ["write"]}})
    assert changed.status_code == 422 and "scopes" in changed.text  # fixed at creation
    same = client.put(f"/api/v2/api_tokens/{created['id']}", headers=admin_auth,
                      json={"api_token": {"scopes": created["scopes"], "description": "r"}})
    assert same.status_code == 200  # a client echoing the token back is fine


@pytest.mark.parametrize("scopes", [["users:delete"], [], ["x" * 81], ["Read"]])
def test_a_scope_outside_the_grammar_is_refused_by_field(
    client: TestClient, admin_auth: dict[str, str], scopes: list[str]
) -> None:
    response = client.post("/api/v2/api_tokens", headers=admin_auth,
                           json={"api_token": {"scopes": scopes}})
    assert response.status_code == 422 and "scopes" in response.text


def test_the_api_enforces_scopes_by_resource_and_method(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    reader = token_with(client, admin_auth, "read")
    assert client.get("/api/v2/api_tokens", headers=reader).status_code == 200
    refused = client.post("/api/v2/api_tokens", headers=reader, json={"api_token": {}})
    assert refused.status_code == 403
    assert refused.json() == {"error": "Forbidden", "description":
                              "This credential's scopes do not include api_tokens:write."}
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="api_tokens:write"')

    users_only = token_with(client, admin_auth, "users:read")
    assert client.get("/api/v2/users", headers=users_only).status_code == 200
    assert client.get("/api/v2/users/me", headers=users_only).status_code == 200
    for path, missing in [("/api/v2/api_tokens", "api_tokens:read"),
                          ("/api/v2/audit_logs", "audit_logs:read"),
                          ("/api/v2/account/settings", "settings:read"),
                          ("/api/v2/access_requests", "access_requests:read"),
                          ("/api/v2/reports/compliance", "reports:read")]:
        response = client.get(path, headers=users_only)
        assert response.status_code == 403, path
        assert response.json()["description"].endswith(f" {missing}."), path

    writer = token_with(client, admin_auth, "api_tokens:write")  # write does not imply read
    assert client.get("/api/v2/api_tokens", headers=writer).status_code == 403
    assert client.post("/api/v2/api_tokens", headers=writer,
                       json={"api_token": {}}).status_code == 201


def test_verify_reports_the_scopes_and_requires_one_when_asked(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    tickets = token_with(client, admin_auth, "tickets:read")
    answer = client.get("/api/v2/verify", headers=tickets)
    assert answer.json()["scopes"] == ["tickets:read"]
    assert answer.headers["X-Tokenry-Scopes"] == "tickets:read"
    assert client.get("/api/v2/verify?scope=tickets:read", headers=tickets).status_code == 200
    refused = client.get("/api/v2/verify?scope=tickets:write", headers=tickets)
    assert refused.status_code == 403 and "tickets:write" in refused.text
    assert client.get("/api/v2/verify?scope=tickets", headers=tickets).status_code == 403
    assert client.get("/api/v2/verify?scope=read", headers=tickets).status_code == 403

    unscoped = client.get("/api/v2/verify?scope=tickets:write", headers=admin_auth)
    assert unscoped.status_code == 200 and unscoped.json()["scopes"] is None
    assert unscoped.headers["X-Tokenry-Scopes"] == "*"
    bad = client.get("/api/v2/verify?scope=tickets:delete", headers=tickets)
    assert bad.status_code == 422 and "scope" in bad.text


def test_a_scoped_token_never_mints_a_wider_one(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    minter = token_with(client, admin_auth, "api_tokens", "users:read")
    inherited = client.post("/api/v2/api_tokens", headers=minter, json={"api_token": {}})
    assert inherited.json()["api_token"]["scopes"] == [
        "api_tokens:read", "api_tokens:write", "users:read"]
    wider = client.post("/api/v2/api_tokens", headers=minter,
                        json={"api_token": {"scopes": ["write"]}})
    assert wider.status_code == 422
    assert "write is beyond the scopes of the credential creating it" in wider.text


def test_the_accounts_allowed_scopes_are_a_ceiling_for_every_token(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    before = token_with(client, admin_auth, "write")
    update_account_settings(core, admin_actor, {"allowed_scopes": "read users:write"})
    with pytest.raises(Invalid, match="tickets:write is beyond the account's allowed_scopes"):
        create_token(core, admin_actor, scopes=["tickets:write"])  # the CLI's unscoped actor
    assert create_token(core, admin_actor, scopes=["users:write"]).token.scopes == [
        "users:write"]
    # tokens made earlier, scoped or not, reach only what the ceiling leaves them, at once
    assert client.get("/api/v2/verify", headers=admin_auth).json()["scopes"] == [
        "read", "users:write"]
    assert client.get("/api/v2/verify", headers=before).json()["scopes"] == ["users:write"]
    assert client.post("/api/v2/api_tokens", headers=admin_auth,
                       json={"api_token": {}}).status_code == 403
    shown = client.get("/api/v2/account/settings", headers=admin_auth).json()
    assert shown["settings"]["governance"]["allowed_scopes"] == "read users:write"
    update_account_settings(core, admin_actor, {"allowed_scopes": ""})
    assert client.get("/api/v2/verify", headers=admin_auth).json()["scopes"] is None


def test_a_bad_ceiling_is_refused(core: Core, admin_actor: Actor) -> None:
    with pytest.raises(Invalid, match="allowed_scopes"):
        update_account_settings(core, admin_actor, {"allowed_scopes": "read tickets:delete"})


def test_the_cli_creates_a_scoped_token(cli: Any, core: Core, admin_actor: Actor) -> None:
    result = cli("tokens", "create", "--description", "cli", "--scope", "read",
                 "--scope", "users:write", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["api_token"]["scopes"] == ["read", "users:write"]


def test_every_authenticated_api_route_names_its_scope(core: Core) -> None:
    """A route added without a scope would let any scoped token through."""
    exempt = {"/api/v2/users/me", "/api/v2/verify",  # identity itself
              "/api/v2/deliveries/{link_secret}", "/api/v2/deliveries/{link_secret}/retrieve"}
    app = create_app(core.settings, core)
    unscoped = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/v2/"):
            continue
        calls = [d.call for d in route.dependant.dependencies]
        if route.path not in exempt and not any(isinstance(c, RequireScope) for c in calls):
            unscoped.append(route.path)
    assert unscoped == []


def test_the_scope_is_checked_before_the_operation_runs(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    reader = token_with(client, admin_auth, "read")
    victim = create_token(core, admin_actor, description="victim").token
    client.put(f"/api/v2/api_tokens/{victim.id}", headers=admin_auth,
               json={"api_token": {"active": False}})
    assert client.delete(f"/api/v2/api_tokens/{victim.id}", headers=reader).status_code == 403
    assert client.get(f"/api/v2/api_tokens/{victim.id}", headers=admin_auth).status_code == 200


def test_a_token_in_basic_or_bearer_form_carries_its_scopes(
    client: TestClient, core: Core, admin_actor: Actor
) -> None:
    bound = create_token(core, admin_actor, description="bound", user_id=admin_actor.user_id,
                         scopes=["users:read"])
    bearer = {"Authorization": f"Bearer {bound.secret}"}
    assert client.get("/api/v2/users", headers=bearer).status_code == 200
    assert client.get("/api/v2/api_tokens", headers=bearer).status_code == 403
    encoded = base64.b64encode(f"{ADMIN_EMAIL}/token:{bound.secret}".encode()).decode()
    assert client.get("/api/v2/api_tokens",
                      headers={"Authorization": f"Basic {encoded}"}).status_code == 403
