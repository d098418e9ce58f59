"""What the OAuth use cases share: who manages clients, finding them, the account's scope
ceiling and the lifetimes that apply to a client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.domain.errors import Conflict, Forbidden
from tokenry.domain.settings import AccountSettings
from tokenry.operations._common import find_in_account, require_account_admin
from tokenry.operations.context import Actor
from tokenry.storage.models import OAuthClient, OAuthToken, User
from tokenry.storage.queries import account_settings


def require_client_admin(session: Session, actor: Actor, action: str) -> None:
    """OAuth clients and their tokens are managed by the account's admins, as in Zendesk."""
    require_account_admin(session, actor, action)


def require_integration_creator(session: Session, actor: Actor) -> User | None:
    """The account's integration policy, for whoever creates a client: integrations must be
    allowed, and when the account names its Integration bot, only the bot creates them (a
    request's provisioner does so as the bot). Returns the bot, if there is one."""
    settings = account_settings(session, actor.account_id)
    if not settings.integrations_allowed:
        raise Forbidden("This instance does not allow integrations (the account setting "
                        "integrations_allowed is off), so no OAuth client can be created.")
    if not settings.integration_bot:
        return None
    bot = session.scalar(select(User).where(User.account_id == actor.account_id,
                                            User.email == settings.integration_bot))
    if bot is None:
        raise Conflict(f"The Integration bot {settings.integration_bot} is not a user of "
                       "this account; fix the integration_bot setting.")
    if actor.user_id != bot.id:
        raise Forbidden(f"Integration clients are created only as the Integration bot "
                        f"({bot.email}): sign in as it to create one.")
    return bot


def find_client(session: Session, actor: Actor, client_id: int, *,
                lock: bool = False) -> OAuthClient:
    if lock:
        found = session.scalar(select(OAuthClient).where(
            OAuthClient.id == client_id, OAuthClient.account_id == actor.account_id)
            .with_for_update())
        if found is not None:
            return found
    return find_in_account(session, OAuthClient, actor.account_id, client_id, "OAuth client")


def find_oauth_token(session: Session, actor: Actor, token_id: int) -> OAuthToken:
    return find_in_account(session, OAuthToken, actor.account_id, token_id, "OAuth token")


def client_label(client: OAuthClient) -> str:
    return f"{client.name} ({client.identifier})"


def token_label(token: OAuthToken) -> str:
    return f"{token.display} client {token.client_id}"


def ceiling(settings: AccountSettings) -> list[str] | None:
    """The account's ``allowed_scopes``, the ceiling of every credential (None: none)."""
    limit = settings.scope_ceiling
    return list(limit) if limit is not None else None


@dataclass(frozen=True, slots=True)
class Lifetimes:
    access: timedelta
    refresh: timedelta


def lifetimes(session: Session, client: OAuthClient) -> Lifetimes:
    """The client's own lifetimes where it sets them, else the account's."""
    settings = account_settings(session, client.account_id)
    return Lifetimes(
        access=timedelta(seconds=client.access_token_seconds
                         or settings.oauth_access_token_minutes * 60),
        refresh=timedelta(seconds=client.refresh_token_seconds
                          or settings.oauth_refresh_token_days * 86400))
