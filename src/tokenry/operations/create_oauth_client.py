"""CreateOAuthClient: an admin registers an OAuth application; a confidential client's
secret is returned once and stored only as its keyed hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import oauth, token_format
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict, Invalid
from tokenry.operations._common import audit
from tokenry.operations._oauth import (
    ceiling,
    client_label,
    require_client_admin,
    require_integration_creator,
)
from tokenry.operations.context import Actor
from tokenry.storage.models import OAuthClient, User
from tokenry.storage.queries import account_settings


@dataclass(frozen=True, slots=True)
class ClientFields:
    name: str | None = None
    identifier: str | None = None
    kind: str | None = None
    redirect_uris: list[str] | None = None
    allowed_scopes: list[str] | str | None = None
    user_id: int | None = None
    access_token_seconds: int | None = None
    refresh_token_seconds: int | None = None


@dataclass(frozen=True)
class CreatedClient:
    client: OAuthClient
    secret: str | None  # confidential clients only; shown once

    def __repr__(self) -> str:
        return f"CreatedClient(id={self.client.id})"


def create_oauth_client(core: Core, actor: Actor, fields: ClientFields) -> CreatedClient:
    with core.db.transaction() as session:
        require_client_admin(session, actor, "create OAuth clients")
        bot = require_integration_creator(session, actor)
        allowed = oauth.client_scopes(
            fields.allowed_scopes, ceiling(account_settings(session, actor.account_id)),
            actor.scopes)
        user_id = check_client_user(session, actor, fields.user_id) \
            or (bot.id if bot is not None else None)
        return register_client(session, core, actor, fields, allowed_scopes=allowed,
                               user_id=user_id, created_by_id=actor.user_id)


def register_client(session: Session, core: Core, actor: Actor, fields: ClientFields, *,
                    allowed_scopes: list[str] | None, user_id: int | None,
                    created_by_id: int | None, access_request_id: int | None = None,
                    expires_at: datetime | None = None, why: str = "") -> CreatedClient:
    """Validate and store a client whose scopes and user the caller has settled, and audit
    it as ``actor``'s act (``why`` says more, such as the request it was issued for)."""
    kind = oauth.validate_kind(fields.kind)
    identifier = oauth.validate_identifier(fields.identifier)
    now = core.clock()
    client = OAuthClient(
        account_id=actor.account_id, name=oauth.validate_name(fields.name),
        identifier=identifier, kind=kind,
        redirect_uris=oauth.validate_redirect_uris(fields.redirect_uris),
        allowed_scopes=allowed_scopes, user_id=user_id,
        access_token_seconds=oauth.validate_lifetime(
            "access_token_seconds", fields.access_token_seconds, oauth.ACCESS_SECONDS_RANGE),
        refresh_token_seconds=oauth.validate_lifetime(
            "refresh_token_seconds", fields.refresh_token_seconds,
            oauth.REFRESH_SECONDS_RANGE),
        access_request_id=access_request_id, expires_at=expires_at,
        created_by_id=created_by_id, created_at=now, updated_at=now)
    check_identifier_free(session, actor.account_id, identifier)
    secret = set_new_secret(core, client) if kind == oauth.CONFIDENTIAL else None
    session.add(client)
    session.flush()
    audit(session, core, actor, action=Action.CREATE, source_type=SourceType.OAUTH_CLIENT,
          source_id=client.id, source_label=client_label(client),
          changes={"name": [None, client.name], "identifier": [None, identifier],
                   "kind": [None, kind], "redirect_uri": [None, client.redirect_uris],
                   "allowed_scopes": [None, client.allowed_scopes],
                   "user_id": [None, client.user_id]},
          description=f"Created OAuth client {client_label(client)}{why}")
    return CreatedClient(client=client, secret=secret)


def set_new_secret(core: Core, client: OAuthClient) -> str:
    """A fresh secret for ``client``; only its hash is kept, so the old one is dead at once."""
    new = token_format.generate(oauth.prefix_for(core.settings.token_prefix,
                                                 oauth.CLIENT_SECRET))
    client.secret_hash, client.key_id = core.hasher.stamp(new.secret)
    client.secret_display = new.display
    return new.secret


def check_identifier_free(session: Session, account_id: int, identifier: str,
                          client_id: int | None = None) -> None:
    taken = session.scalar(select(OAuthClient.id).where(
        OAuthClient.account_id == account_id, OAuthClient.identifier == identifier))
    if taken is not None and taken != client_id:
        raise Conflict(f"This account already has an OAuth client with identifier "
                       f"{identifier!r}.")


def check_client_user(session: Session, actor: Actor, user_id: int | None) -> int | None:
    """The user a client's ``client_credentials`` tokens act as. Only the admin making the
    change may name themself: nobody hands a client someone else's power without that
    person (when the account names an Integration bot, only the bot makes clients)."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or user.account_id != actor.account_id:
        raise Invalid.field("user_id", f"there is no user with id {user_id} in this account")
    if user.suspended:
        raise Invalid.field("user_id", "a client cannot act as a suspended user")
    if actor.user_id is not None and user_id != actor.user_id:
        raise Invalid.field("user_id", "a client can act only as the admin who sets it "
                                       "(sign in as that user, or as the Integration bot)")
    return user_id
