"""OAuth clients and tokens as use cases: validation, secrets hashed and shown once,
regeneration, admin-only, audited; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tokenry.core import Core
from tokenry.domain.errors import Conflict, Forbidden, Invalid
from tokenry.operations.context import Actor, EveryRow
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.create_oauth_token import create_oauth_token
from tokenry.operations.delete_oauth_client import delete_oauth_client
from tokenry.operations.oauth_client_queries import list_oauth_clients
from tokenry.operations.regenerate_client_secret import regenerate_client_secret
from tokenry.operations.update_oauth_client import update_oauth_client
from tokenry.operations.users import create_user
from tokenry.storage.models import AuditEvent, OAuthClient, OAuthToken

APP = ClientFields(name="Sync app", identifier="sync_app", kind="confidential",
                   redirect_uris=["https://app.example.com/callback"],
                   allowed_scopes=["read", "users:write"])


def test_a_confidential_client_gets_a_secret_once_stored_only_as_its_hash(
        core: Core, admin_actor: Actor) -> None:
    created = create_oauth_client(core, admin_actor, APP)
    assert created.secret is not None and created.secret.startswith("tkryos_")
    with core.db.read() as session:
        row = session.scalars(select(OAuthClient)).one()
        assert row.secret_hash == core.hasher.hash(created.secret)
        assert created.secret not in repr(row.__dict__)
        assert row.allowed_scopes == ["read", "users:write"]
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.source_type == "oauth_client")).one()
        assert event.action == "create" and created.secret not in str(event.changes)


def test_a_public_client_has_no_secret(core: Core, admin_actor: Actor) -> None:
    created = create_oauth_client(core, admin_actor, ClientFields(
        name="CLI", identifier="cli", kind="public", redirect_uris=["http://127.0.0.1:8765/cb"]))
    assert created.secret is None and created.client.secret_hash is None
    with pytest.raises(Conflict):
        regenerate_client_secret(core, admin_actor, created.client.id)


@pytest.mark.parametrize("uri", ["http://app.example.com/cb", "https://app.example.com/cb#x",
                                 "ftp://127.0.0.1/cb", "/relative", "javascript:alert(1)"])
def test_redirect_uris_must_be_https_or_loopback_http(core: Core, admin_actor: Actor,
                                                      uri: str) -> None:
    with pytest.raises(Invalid) as refused:
        create_oauth_client(core, admin_actor, ClientFields(
            name="x", identifier="x", redirect_uris=[uri]))
    assert "redirect_uri" in refused.value.details


def test_identifiers_are_unique_per_account_and_scopes_must_parse(
        core: Core, admin_actor: Actor) -> None:
    create_oauth_client(core, admin_actor, APP)
    with pytest.raises(Conflict):
        create_oauth_client(core, admin_actor, APP)
    with pytest.raises(Invalid) as refused:
        create_oauth_client(core, admin_actor, ClientFields(
            name="y", identifier="y", allowed_scopes=["tickets:delete"]))
    assert "allowed_scopes" in refused.value.details


def test_regenerating_the_secret_kills_the_old_one_at_once(core: Core,
                                                          admin_actor: Actor) -> None:
    created = create_oauth_client(core, admin_actor, APP)
    again = regenerate_client_secret(core, admin_actor, created.client.id)
    assert again.secret and again.secret != created.secret
    with core.db.read() as session:
        row = session.get(OAuthClient, created.client.id)
        assert row is not None and row.secret_hash == core.hasher.hash(again.secret)


def test_only_admins_manage_clients(core: Core, admin_actor: Actor) -> None:
    agent = create_user(core, admin_actor, email="agent@example.com", name="Agent",
                        role="agent")
    as_agent = Actor(account_id=agent.account_id, user_id=agent.id, label=agent.email)
    with pytest.raises(Forbidden):
        create_oauth_client(core, as_agent, APP)
    with pytest.raises(Forbidden):
        list_oauth_clients(core, as_agent, EveryRow())


def test_edit_changes_fields_and_refuses_kind_then_delete_takes_tokens_along(
        core: Core, admin_actor: Actor) -> None:
    client = create_oauth_client(core, admin_actor, APP).client
    edited = update_oauth_client(core, admin_actor, client.id, {"name": "Renamed",
                                                               "allowed_scopes": "read"})
    assert edited.name == "Renamed" and edited.allowed_scopes == ["read"]
    with pytest.raises(Invalid):
        update_oauth_client(core, admin_actor, client.id, {"kind": "public"})
    minted = create_oauth_token(core, admin_actor, client.id, "read")
    assert minted.access_token.startswith("tkryoa_") and minted.refresh_token
    with pytest.raises(Invalid):
        create_oauth_token(core, admin_actor, client.id, "write")  # beyond the client
    delete_oauth_client(core, admin_actor, client.id)
    with core.db.read() as session:
        assert session.scalars(select(OAuthToken)).all() == []
        actions = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.source_type.in_(["oauth_client", "oauth_token"]))))
    assert sorted(actions) == ["create", "create", "destroy", "update"]
