"""ListOAuthTokens, ShowOAuthToken: admin-only reads that never see a secret."""

from __future__ import annotations

from typing import overload

from sqlalchemy import select

from tokenry.core import Core
from tokenry.domain.errors import NotFound
from tokenry.operations._oauth import find_oauth_token, require_client_admin
from tokenry.operations.context import Actor, EveryRow, Listed, Listing, Page, PageRequest
from tokenry.operations.paging import paginate
from tokenry.storage.models import OAuthToken


@overload
def list_oauth_tokens(core: Core, actor: Actor, page: PageRequest | EveryRow,
                      client_id: int | None = None) -> Page[OAuthToken]: ...
@overload
def list_oauth_tokens(core: Core, actor: Actor, page: Listing,
                      client_id: int | None = None) -> Listed[OAuthToken]: ...
def list_oauth_tokens(core: Core, actor: Actor, page: Listing,
                      client_id: int | None = None) -> Listed[OAuthToken]:
    with core.db.read() as session:
        require_client_admin(session, actor, "list OAuth tokens")
        query = select(OAuthToken).where(OAuthToken.account_id == actor.account_id)
        if client_id is not None:
            query = query.where(OAuthToken.client_id == client_id)
        return paginate(session, query, page, keys=[OAuthToken.id])


def show_oauth_token(core: Core, actor: Actor, token_id: int) -> OAuthToken:
    with core.db.read() as session:
        require_client_admin(session, actor, "view OAuth tokens")
        return find_oauth_token(session, actor, token_id)


def current_oauth_token(core: Core, actor: Actor) -> OAuthToken:
    """The OAuth token the request was made with (Zendesk's ``tokens/current``)."""
    if actor.oauth_token_id is None:
        raise NotFound("This request was not made with an OAuth access token.")
    with core.db.read() as session:
        return find_oauth_token(session, actor, actor.oauth_token_id)
