"""Integration requests through the real app on SQLite and PostgreSQL: an access request of
kind ``integration`` goes from submission through manager and provisioner approval to an
OAuth client created as the Integration bot with exactly the approved scopes, its secret
delivered once through the one-time link; extensions keep the client; the account's policy
refuses with its reason and leaves nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import basic
from tests.governance_people import (
    People,
    add_user,
    approve,
    as_,
    cast,
    issue,
    request_body,
    submit,
)
from tests.live import http, live_server, oauth_client
from tests.test_governance import delivery_secret, outbox
from tests.test_oauth_flows import code_flow
from tokenry.core import Core
from tokenry.domain import naming
from tokenry.http.app import create_app
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, ApiToken, AuditEvent, OAuthClient

BOT = "integration.bot@example.com"
CALLBACK = "https://sync.example.com/callback"


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    """The real app over https: the token endpoint refuses plain http off loopback."""
    with TestClient(create_app(core.settings, core), base_url="https://testserver") as https:
        yield https


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    people = cast(core, admin_actor)
    add_user(core, admin_actor, BOT)
    update_account_settings(core, admin_actor, {"integration_bot": BOT})
    return people


def integration(**extra: Any) -> dict[str, Any]:
    return {"kind": "integration", "scopes": "tickets:read users:read",
            "redirect_uris": [CALLBACK], **extra}


def client_of(core: Core, client_id: int) -> OAuthClient:
    with core.db.read() as session:
        found = session.get(OAuthClient, client_id)
    assert found is not None
    return found


def counts(core: Core) -> tuple[int, int, int]:
    with core.db.read() as session:
        return (session.scalar(select(func.count()).select_from(AccessRequest)) or 0,
                session.scalar(select(func.count()).select_from(OAuthClient)) or 0,
                session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def submit_body() -> dict[str, Any]:
    return dict(request_body()["access_request"])


def client_credentials(client: TestClient, identifier: str, secret: str,
                       scope: str) -> Any:
    return client.post("/oauth/tokens", auth=(identifier, secret),
                       data={"grant_type": "client_credentials", "scope": scope})


def test_an_integration_request_becomes_a_client_of_the_bot_with_exactly_its_scopes(
        client: TestClient, core: Core, people: People) -> None:
    removal = core.clock().date() + timedelta(days=30)
    request = submit(client, people, removal_date=removal.isoformat(), **integration())
    assert request["kind"] == "integration" and request["client_kind"] == "confidential"
    assert request["scopes"] == ["tickets:read", "users:read"]
    assert request["redirect_uris"] == [CALLBACK]
    [asked] = outbox(core, "request.submitted")
    assert "integration request" in asked.subject and "tickets:read users:read" in asked.body

    assert approve(client, people.manager, request["id"], "manager").status_code == 200
    issued = approve(client, people.provisioner, request["id"], "provisioner")
    assert issued.status_code == 200, issued.text
    shown = issued.json()["access_request"]
    assert shown["state"] == "issued" and shown["token_id"] is None
    made = client_of(core, shown["oauth_client_id"])
    with core.db.read() as session:
        bot_id = session.scalar(select(OAuthClient.user_id).where(OAuthClient.id == made.id))
    assert made.allowed_scopes == ["tickets:read", "users:read"]
    assert made.user_id == made.created_by_id == bot_id and made.kind == "confidential"
    assert made.name == naming.request_name("Ria Quest", request["url"], removal)
    assert made.identifier == f"request-{request['id']}-zendesk-export"
    assert made.redirect_uris == [CALLBACK] and made.access_request_id == request["id"]
    assert made.expires_at == datetime(removal.year, removal.month, removal.day, 23, 59, 59,
                                       tzinfo=UTC)
    shown_client = client.get(f"/api/v2/oauth/clients/{made.id}",
                              headers=as_(people.provisioner)).json()["client"]
    assert shown_client["active"] is True and shown_client["access_request_id"] == request["id"]
    assert shown_client["expires_at"] == f"{removal.isoformat()}T23:59:59Z"
    # the audit log names both: the provisioner acted, the client was made as the bot
    created = client.get("/api/v2/audit_logs?filter[source_type]=oauth_client",
                         headers=as_(people.provisioner)).json()["audit_logs"]
    [event] = [e for e in created if e["tokenry_action"] == "create"]
    assert event["actor_name"] == "Pat Rov" and BOT in event["change_description"]

    secret = delivery_secret(core, request["id"])
    assert "client secret" in client.get(f"/deliveries/{secret}").text
    retrieved = client.post(f"/api/v2/deliveries/{secret}/retrieve").json()["delivery"]
    assert retrieved["client_identifier"] == made.identifier
    assert retrieved["oauth_client_id"] == made.id and "token" not in retrieved
    assert core.hasher.hash(retrieved["client_secret"]) == made.secret_hash
    assert all(retrieved["client_secret"] not in n.body + str(n.payload) for n in outbox(core))
    assert client.get(f"/api/v2/access_requests/{request['id']}", headers=as_(
        people.requester)).json()["access_request"]["state"] == "delivered"

    # the integration works, with exactly the approved scopes and the bot's identity
    granted = client_credentials(client, made.identifier, retrieved["client_secret"],
                                 "users:read")
    assert granted.status_code == 200, granted.text
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    assert client.get("/api/v2/users/me", headers=bearer).json()["user"]["email"] == BOT
    assert client.get("/api/v2/users", headers=bearer).status_code == 200
    assert client.get("/api/v2/api_tokens", headers=bearer).status_code == 403
    wider = client_credentials(client, made.identifier, retrieved["client_secret"], "write")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


def test_a_public_integration_is_delivered_at_once_with_its_identifier(
        client: TestClient, core: Core, people: People) -> None:
    shown = issue(client, people, **integration(client_kind="public"))
    assert shown["state"] == "delivered"
    made = client_of(core, shown["oauth_client_id"])
    assert made.kind == "public" and made.secret_hash is None
    [ready] = outbox(core, "delivery.integration")
    assert made.identifier in ready.body and ready.payload["recipients"] == [people.requester]
    assert outbox(core, "delivery.link") == []


def test_submission_is_refused_with_the_reason_when_the_policy_does_not_allow_it(
        client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    before = counts(core)
    beyond = client.post("/api/v2/access_requests", headers=as_(people.requester),
                         json={"access_request": {**submit_body(), **integration(
                             scopes="tickets:read")}})
    assert beyond.status_code == 201  # no ceiling yet
    update_account_settings(core, admin_actor, {"allowed_scopes": "users:read"})
    over = client.post("/api/v2/access_requests", headers=as_(people.requester),
                       json={"access_request": {**submit_body(), **integration()}})
    assert over.status_code == 422 and "tickets:read" in over.text
    for bad in ("users:read\x00", "a" * 100_000, [1, 2]):  # named as the field, never a 500
        refused_scopes = client.post("/api/v2/access_requests", headers=as_(people.requester),
                                     json={"access_request": {**submit_body(), **integration(
                                         scopes=bad)}})
        assert refused_scopes.status_code == 422
        assert list(refused_scopes.json()["details"]) == ["scopes"], refused_scopes.text
    no_scopes = client.post("/api/v2/access_requests", headers=as_(people.requester),
                            json={"access_request": {**submit_body(), "kind": "integration"}})
    assert no_scopes.status_code == 422 and "scopes" in no_scopes.text
    public_without_uri = client.post(
        "/api/v2/access_requests", headers=as_(people.requester),
        json={"access_request": {**submit_body(), **integration(
            scopes="users:read", client_kind="public", redirect_uris=[])}})
    assert public_without_uri.status_code == 422 and "redirect_uris" in public_without_uri.text
    update_account_settings(core, admin_actor, {"integrations_allowed": False})
    refused = client.post("/api/v2/access_requests", headers=as_(people.requester),
                          json={"access_request": {**submit_body(), **integration(
                              scopes="users:read")}})
    assert refused.status_code == 403 and "integrations_allowed" in refused.text
    update_account_settings(core, admin_actor, {"integrations_allowed": True,
                                                "integration_bot": ""})
    no_bot = client.post("/api/v2/access_requests", headers=as_(people.requester),
                         json={"access_request": {**submit_body(), **integration(
                             scopes="users:read")}})
    assert no_bot.status_code == 409 and "integration_bot" in no_bot.text
    requests_made, clients_made, _ = counts(core)
    assert (requests_made, clients_made) == (before[0] + 1, before[1])


def test_issuing_rechecks_the_policy_and_leaves_nothing_half_written(
        client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    request = submit(client, people, **integration())
    assert approve(client, people.manager, request["id"], "manager").status_code == 200
    update_account_settings(core, admin_actor, {"allowed_scopes": "users:read"})
    before = counts(core)
    over = approve(client, people.provisioner, request["id"], "provisioner")
    assert over.status_code == 422 and "tickets:read" in over.text
    update_account_settings(core, admin_actor, {"allowed_scopes": "",
                                                "integrations_allowed": False})
    before = counts(core)
    refused = approve(client, people.provisioner, request["id"], "provisioner")
    assert refused.status_code == 403 and "integrations_allowed" in refused.text
    assert counts(core) == before  # no client, no audit event, the request unchanged
    assert client.get(f"/api/v2/access_requests/{request['id']}", headers=as_(
        people.requester)).json()["access_request"]["state"] == "manager_approved"
    update_account_settings(core, admin_actor, {"integrations_allowed": True})
    again = approve(client, people.provisioner, request["id"], "provisioner")
    assert again.status_code == 200, again.text
    with_acts_as = submit(client, people, **integration())
    approve(client, people.manager, with_acts_as["id"], "manager")
    bad = client.post(f"/api/v2/access_requests/{with_acts_as['id']}/approve",
                      headers=as_(people.provisioner),
                      json={"stage": "provisioner", "acts_as": people.requester})
    assert bad.status_code == 422 and "Integration bot" in bad.text


def test_an_extension_keeps_the_client_and_moves_its_removal_date(
        client: TestClient, core: Core, people: People) -> None:
    first = issue(client, people, **integration())
    secret = client.post(f"/api/v2/deliveries/{delivery_secret(core, first['id'])}/retrieve"
                         ).json()["delivery"]["client_secret"]
    later = core.clock().date() + timedelta(days=80)
    changed = client.post("/api/v2/access_requests", headers=as_(people.requester), json={
        "access_request": {"extends_request_id": first["id"], "removal_date": later.isoformat(),
                           "scopes": "write"}})
    assert changed.status_code == 422 and "scopes" in changed.text
    extension = client.post("/api/v2/access_requests", headers=as_(people.requester), json={
        "access_request": {"extends_request_id": first["id"],
                           "removal_date": later.isoformat()}})
    assert extension.status_code == 201, extension.text
    extended = extension.json()["access_request"]
    assert extended["kind"] == "integration" and extended["scopes"] == first["scopes"]
    approve(client, people.manager, extended["id"], "manager")
    done = approve(client, people.provisioner, extended["id"], "provisioner")
    assert done.status_code == 200, done.text
    shown = done.json()["access_request"]
    assert shown["state"] == "delivered" and shown["oauth_client_id"] == first["oauth_client_id"]
    made = client_of(core, first["oauth_client_id"])
    assert made.expires_at is not None and made.expires_at.date() == later
    assert made.access_request_id == extended["id"] and str(later) in made.name
    assert client.get(f"/api/v2/access_requests/{first['id']}", headers=as_(
        people.requester)).json()["access_request"]["state"] == "expired"
    assert client_credentials(client, made.identifier, secret, "users:read").status_code == 200
    [told] = [n for n in outbox(core, "request.approved") if f"#{extended['id']}" in n.subject]
    assert "keeps its client id and secret" in told.body


def test_an_api_token_request_may_ask_for_scopes(client: TestClient, core: Core,
                                                 people: People) -> None:
    shown = issue(client, people, scopes=["users:read"])
    assert shown["kind"] == "api_token" and shown["scopes"] == ["users:read"]
    with core.db.read() as session:
        token = session.get(ApiToken, shown["token_id"])
    assert token is not None and token.scopes == ["users:read"]
    secret = client.post(f"/api/v2/deliveries/{delivery_secret(core, shown['id'])}/retrieve"
                         ).json()["delivery"]["token"]
    holder = basic(people.requester, secret)
    assert client.get("/api/v2/users", headers=holder).status_code == 200
    assert client.get("/api/v2/api_tokens", headers=holder).status_code == 403
    wrong = client.post("/api/v2/access_requests", headers=as_(people.requester),
                        json={"access_request": {**submit_body(), "client_kind": "public"}})
    assert wrong.status_code == 422 and "client_kind" in wrong.text


def test_issued_integrations_work_for_a_real_oauth_client_over_http(
        core: Core, people: People) -> None:
    """Authlib's OAuth2Client against a live server: the public integration through the
    consent page with PKCE, the confidential one with client credentials."""
    with live_server(core) as server:
        def filed(**extra: Any) -> dict[str, Any]:
            made = http.post(f"{server}/api/v2/access_requests", headers=as_(people.requester),
                             json={"access_request": {**submit_body(), **extra}})
            assert made.status_code == 201, made.text
            request_id = made.json()["access_request"]["id"]
            for who, stage in ((people.manager, "manager"), (people.provisioner, "provisioner")):
                done = http.post(f"{server}/api/v2/access_requests/{request_id}/approve",
                                 headers=as_(who), json={"stage": stage})
                assert done.status_code == 200, done.text
            return dict(done.json()["access_request"])

        public = filed(**integration(client_kind="public",
                                     redirect_uris=["http://127.0.0.1:8765/callback"]))
        identifier = client_of(core, public["oauth_client_id"]).identifier
        _, token = code_flow(server, identifier, scope="users:read")
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        assert token["scope"] == "users:read"
        assert http.get(f"{server}/api/v2/users", headers=bearer).status_code == 200
        assert http.get(f"{server}/api/v2/audit_logs", headers=bearer).status_code == 403

        confidential = filed(**integration(scopes="users:read"))
        link = delivery_secret(core, confidential["id"])
        got = http.post(f"{server}/api/v2/deliveries/{link}/retrieve").json()["delivery"]
        oauth = oauth_client(got["client_identifier"], got["client_secret"], scope="users:read")
        fetched = oauth.fetch_token(f"{server}/oauth/tokens", grant_type="client_credentials")
        me = oauth.get(f"{server}/api/v2/users/me.json").json()["user"]
        assert fetched["scope"] == "users:read" and me["email"] == BOT
