"""The account's integration policy (issue 9): ``integrations_allowed`` off refuses every new
OAuth client with the reason (a US Government instance has none), and a named Integration
bot is the only user that creates clients, which then act as it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import basic
from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user
from tokenry.storage.models import AuditEvent, OAuthClient

NEW = {"client": {"name": "Sync", "identifier": "sync", "kind": "confidential",
                  "redirect_uri": ["https://sync.example.com/cb"], "allowed_scopes": ["read"]}}
BOT = "integration-bot@example.com"


def clients_and_events(core: Core) -> tuple[int, int]:
    with core.db.read() as session:
        return (len(session.scalars(select(OAuthClient.id)).all()),
                len(session.scalars(select(AuditEvent.id).where(
                    AuditEvent.source_type == "oauth_client")).all()))


def test_an_instance_without_integrations_refuses_every_client_with_the_reason(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    update_account_settings(core, admin_actor, {"integrations_allowed": False})
    refused = client.post("/api/v2/oauth/clients", json=NEW, headers=admin_auth)
    assert refused.status_code == 403
    assert "integrations_allowed is off" in refused.json()["description"]
    assert clients_and_events(core) == (0, 0)  # nothing made, nothing audited
    update_account_settings(core, admin_actor, {"integrations_allowed": True})
    assert client.post("/api/v2/oauth/clients", json=NEW,
                       headers=admin_auth).status_code == 201


def test_only_the_integration_bot_creates_clients_and_they_act_as_it(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    bot = create_user(core, admin_actor, email=BOT, name="Integration bot", role="admin")
    update_account_settings(core, admin_actor, {"integration_bot": BOT.upper()})
    assert client.get("/api/v2/account/settings", headers=admin_auth).json()[
        "settings"]["oauth"]["integration_bot"] == BOT  # kept as the user has it
    refused = client.post("/api/v2/oauth/clients", json=NEW, headers=admin_auth)
    assert refused.status_code == 403 and BOT in refused.json()["description"]
    assert clients_and_events(core) == (0, 0)

    bot_actor = Actor(account_id=admin_actor.account_id, user_id=bot.id, label=BOT,
                      via="cli", credential="cli", proves_person=True)
    secret = create_token(core, bot_actor, description="bot", user_id=bot.id).secret
    made = client.post("/api/v2/oauth/clients", json=NEW, headers=basic(BOT, secret))
    assert made.status_code == 201, made.text
    assert made.json()["client"]["user_id"] == bot.id  # client_credentials act as the bot
    with core.db.read() as session:
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.source_type == "oauth_client")).all()
    assert event.actor_id == bot.id


@pytest.mark.parametrize("value, reason", [
    ("nobody@example.com", "there is no user"),
    ("agent@example.com", "must be an admin"),
])
def test_the_integration_bot_must_be_an_admin_of_the_account(
    core: Core, admin_actor: Actor, value: str, reason: str
) -> None:
    create_user(core, admin_actor, email="agent@example.com", name="Al", role="agent")
    with pytest.raises(Invalid, match=reason):
        update_account_settings(core, admin_actor, {"integration_bot": value})


def test_a_client_never_acts_as_someone_other_than_who_sets_it(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    other = create_user(core, admin_actor, email="ceo@example.com", name="Ceo", role="admin")
    body = {"client": {**NEW["client"], "user_id": other.id}}
    refused = client.post("/api/v2/oauth/clients", json=body, headers=admin_auth)
    assert refused.status_code == 422 and "user_id" in refused.text
    mine = {"client": {**NEW["client"], "user_id": admin_actor.user_id}}
    made = client.post("/api/v2/oauth/clients", json=mine, headers=admin_auth)
    assert made.status_code == 201
    moved = client.put(f"/api/v2/oauth/clients/{made.json()['client']['id']}",
                       json={"client": {"user_id": other.id}}, headers=admin_auth)
    assert moved.status_code == 422 and "user_id" in moved.text
