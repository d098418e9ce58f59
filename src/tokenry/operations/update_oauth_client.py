"""UpdateOAuthClient: change a client's name, identifier, redirect URIs, scopes, user or
lifetimes. Its kind and secret do not change here (regenerate the secret instead)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenry.core import Core
from tokenry.domain import oauth
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Invalid
from tokenry.operations._common import audit
from tokenry.operations._oauth import ceiling, client_label, find_client, require_client_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import check_client_user, check_identifier_free
from tokenry.storage.models import OAuthClient
from tokenry.storage.queries import account_settings

EDITABLE = ("name", "identifier", "redirect_uris", "allowed_scopes", "user_id",
            "access_token_seconds", "refresh_token_seconds")
FIXED = {"kind": "a client's kind cannot change; create a new client",
         "secret": "regenerate the secret with generate_secret"}


def update_oauth_client(core: Core, actor: Actor, client_id: int,
                        changes: Mapping[str, Any]) -> OAuthClient:
    for name, why in FIXED.items():
        if name in changes:
            raise Invalid.field(name, why)
    with core.db.transaction() as session:
        require_client_admin(session, actor, "edit OAuth clients")
        client = find_client(session, actor, client_id, lock=True)
        wanted = _validated(session, client, actor, changes)
        before = {name: getattr(client, name) for name in wanted}
        differences = {name: [before[name], value] for name, value in wanted.items()
                       if before[name] != value}
        if not differences:
            return client
        for name, value in wanted.items():
            setattr(client, name, value)
        client.updated_at = core.clock()
        audit(session, core, actor, action=Action.UPDATE, source_type=SourceType.OAUTH_CLIENT,
              source_id=client.id, source_label=client_label(client), changes=differences,
              description=f"Edited OAuth client {client_label(client)}")
        return client


def _validated(session: Any, client: OAuthClient, actor: Actor,
               changes: Mapping[str, Any]) -> dict[str, Any]:
    account_id = actor.account_id
    wanted: dict[str, Any] = {}
    for name in EDITABLE:
        if name not in changes:
            continue
        value = changes[name]
        if name == "name":
            value = oauth.validate_name(value)
        elif name == "identifier":
            value = oauth.validate_identifier(value)
            check_identifier_free(session, account_id, value, client.id)
        elif name == "redirect_uris":
            value = oauth.validate_redirect_uris(value)
        elif name == "allowed_scopes":
            value = oauth.client_scopes(value, ceiling(account_settings(session, account_id)),
                                        actor.scopes)
        elif name == "user_id":
            value = check_client_user(session, actor, value)
        elif name == "access_token_seconds":
            value = oauth.validate_lifetime(name, value, oauth.ACCESS_SECONDS_RANGE)
        else:
            value = oauth.validate_lifetime(name, value, oauth.REFRESH_SECONDS_RANGE)
        wanted[name] = value
    return wanted
