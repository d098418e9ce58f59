"""CreateOAuthToken: an admin creates a token for one of the account's clients, acting as
the admin (Zendesk's ``POST /api/v2/oauth/tokens``); the full token is shown once."""

from __future__ import annotations

from tokenry.core import Core
from tokenry.domain import oauth
from tokenry.domain.errors import Conflict, Invalid
from tokenry.domain.scopes import beyond
from tokenry.operations._oauth import ceiling, find_client, require_client_admin
from tokenry.operations.client_lifecycle import usable
from tokenry.operations.context import Actor
from tokenry.operations.issue_oauth_token import MintedToken, mint
from tokenry.storage.queries import account_settings


def create_oauth_token(core: Core, actor: Actor, client_id: int,
                       scopes: list[str] | str | None) -> MintedToken:
    with core.db.transaction() as session:
        require_client_admin(session, actor, "create OAuth tokens")
        if actor.user_id is None:
            raise Invalid.field("user_id", "a token acts as a user; sign in as one")
        client = find_client(session, actor, client_id, lock=True)
        if not usable(client, core.clock()):
            raise Conflict(f"OAuth client {client.identifier} is switched off or past its "
                           "removal date; it gets no new tokens.")
        try:
            granted = oauth.granted_scopes(scopes, client.allowed_scopes,
                                           ceiling(account_settings(session, actor.account_id)))
        except oauth.ScopeRefused as refused:
            raise Invalid.field("scopes", refused.description) from None
        wider = beyond(granted, actor.scopes)  # a scoped credential never mints a wider one
        if wider:
            raise Invalid.field("scopes", f"{' '.join(wider)} is beyond the scopes of the "
                                          "credential creating it")
        return mint(session, core, actor, client, user_id=actor.user_id, scopes=granted,
                    grant_type="api", with_refresh=True)
