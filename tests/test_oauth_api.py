"""Zendesk's OAuth clients and tokens API through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import basic
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user
from tokenry.storage.models import OAuthClient, OAuthToken

NEW = {"client": {"name": "Sync", "identifier": "sync", "kind": "confidential",
                  "redirect_uri": ["https://sync.example.com/cb"],
                  "allowed_scopes": ["read", "users:write"]}}


def test_a_client_is_created_shown_edited_and_deleted_with_zendesk_json(
        client: TestClient, admin_auth: dict[str, str], core: Core) -> None:
    made = client.post("/api/v2/oauth/clients.json", json=NEW, headers=admin_auth)
    assert made.status_code == 201, made.text
    body = made.json()["client"]
    assert body["secret"].startswith("tkryos_") and len(body["secret"]) == 45
    assert made.headers["Cache-Control"] == "no-store"
    assert made.headers["Location"] == body["url"]
    assert body["redirect_uri"] == ["https://sync.example.com/cb"]
    url = f"/api/v2/oauth/clients/{body['id']}.json"
    shown = client.get(url, headers=admin_auth).json()["client"]
    assert shown["secret"] == body["secret"][:11] + "********"
    listed = client.get("/api/v2/oauth/clients", headers=admin_auth).json()
    assert [c["id"] for c in listed["clients"]] == [body["id"]] and listed["count"] == 1
    edited = client.put(url, json={"client": {"name": "Sync 2",
                                              "redirect_uri": ["http://127.0.0.1:9/cb"]}},
                        headers=admin_auth)
    assert edited.status_code == 200 and edited.json()["client"]["name"] == "Sync 2"
    fresh = client.put(f"{url[:-5]}/generate_secret", headers=admin_auth).json()["client"]
    assert fresh["secret"] != body["secret"]
    with core.db.read() as session:
        stored = session.scalars(select(OAuthClient.secret_hash)).one()
    assert stored == core.hasher.hash(fresh["secret"]) and fresh["secret"] not in stored
    assert client.delete(url, headers=admin_auth).status_code == 204
    assert client.get(url, headers=admin_auth).status_code == 404


def test_bad_clients_get_422_naming_the_field(client: TestClient,
                                              admin_auth: dict[str, str]) -> None:
    for change, field in (({"redirect_uri": ["http://evil.example/cb"]}, "redirect_uri"),
                          ({"allowed_scopes": ["tickets:destroy"]}, "allowed_scopes"),
                          ({"identifier": ""}, "identifier")):
        wanted = {"client": {**NEW["client"], **change}}
        refused = client.post("/api/v2/oauth/clients", json=wanted, headers=admin_auth)
        assert refused.status_code == 422, refused.text
        assert field in refused.json()["details"]


def test_an_admin_creates_lists_and_revokes_a_token_that_is_hashed_at_rest(
        client: TestClient, admin_auth: dict[str, str], core: Core) -> None:
    made = client.post("/api/v2/oauth/clients", json=NEW, headers=admin_auth).json()["client"]
    created = client.post("/api/v2/oauth/tokens", headers=admin_auth,
                          json={"token": {"client_id": made["id"], "scopes": ["read"]}})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert token["full_token"].startswith("tkryoa_") and token["scopes"] == ["read"]
    assert token["refresh_token"].startswith("tkryor_")
    with core.db.read() as session:
        row = session.scalars(select(OAuthToken)).one()
    assert row.access_hash == core.hasher.hash(token["full_token"])
    assert row.refresh_hash == core.hasher.hash(token["refresh_token"])
    assert token["full_token"] not in str(vars(row))
    listed = client.get("/api/v2/oauth/tokens.json", headers=admin_auth).json()["tokens"]
    assert [t["token"] for t in listed] == [token["full_token"][:11] + "********"]
    too_wide = client.post("/api/v2/oauth/tokens", headers=admin_auth,
                           json={"token": {"client_id": made["id"], "scopes": ["write"]}})
    assert too_wide.status_code == 422
    url = f"/api/v2/oauth/tokens/{token['id']}.json"
    assert client.delete(url, headers=admin_auth).status_code == 204
    assert client.get(url, headers=admin_auth).json()["token"]["revoked_at"] is not None


def test_agents_may_not_see_clients(client: TestClient, core: Core,
                                    admin_actor: Actor) -> None:
    agent = create_user(core, admin_actor, email="agent@example.com", name="Agent",
                        role="agent")
    secret = create_token(core, admin_actor, user_id=agent.id).secret
    refused = client.get("/api/v2/oauth/clients", headers=basic(agent.email, secret))
    assert refused.status_code == 403 and refused.json()["error"] == "Forbidden"


def test_the_token_endpoint_answers_rfc_errors_never_a_500(core: Core) -> None:
    from tokenry.http.app import create_app

    with TestClient(create_app(core.settings, core), base_url="https://testserver") as https:
        for body, status, error in (
                ({}, 400, "unsupported_grant_type"),
                ({"grant_type": "nonsense\x00"}, 400, "unsupported_grant_type"),
                ({"grant_type": "client_credentials"}, 401, "invalid_client"),
                # no client secret sent: RFC 6749 5.2 answers 400, not 401
                ({"grant_type": "authorization_code", "client_id": "nobody",
                  "code": "tkryoc_x"}, 400, "invalid_client"),
                ({"grant_type": "refresh_token", "client_id": "../../x",
                  "refresh_token": "x"}, 400, "invalid_client")):
            answer = https.post("/oauth/tokens", data=body)
            assert answer.status_code == status, (body, answer.text)
            assert answer.json()["error"] == error
            assert answer.headers["Cache-Control"] == "no-store"
        garbage = https.post("/oauth/tokens", content=b"\xff\xfe{]",
                             headers={"Content-Type": "application/json"})
        assert garbage.status_code == 400
    with TestClient(create_app(core.settings, core)) as plain:  # http, not loopback
        refused = plain.post("/oauth/tokens", data={"grant_type": "client_credentials"})
        assert refused.status_code == 400 and refused.json()["error"] == "insecure_transport"


def test_guessing_client_secrets_is_throttled_like_tokens(core: Core,
                                                         admin_actor: Actor) -> None:
    from tokenry.http.app import create_app
    from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client

    created = create_oauth_client(core, admin_actor, ClientFields(
        name="Sync", identifier="sync", kind="confidential", user_id=admin_actor.user_id))
    with TestClient(create_app(core.settings, core), base_url="https://testserver") as https:
        statuses = [https.post("/oauth/tokens", auth=("sync", f"tkryos_guess{n}"),
                               data={"grant_type": "client_credentials"}).status_code
                    for n in range(core.settings.auth_failure_limit + 1)]
        assert statuses[:-1] == [401] * core.settings.auth_failure_limit
        assert statuses[-1] == 429
        right = https.post("/oauth/tokens", auth=("sync", str(created.secret)),
                           data={"grant_type": "client_credentials"})
        assert right.status_code == 429  # even the right secret waits, as with tokens
