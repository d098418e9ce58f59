"""ListOAuthClients and ShowOAuthClient: admin-only reads that never see a secret."""

from __future__ import annotations

from typing import overload

from sqlalchemy import select

from tokenry.core import Core
from tokenry.operations._oauth import find_client, require_client_admin
from tokenry.operations.context import Actor, EveryRow, Listed, Listing, Page, PageRequest
from tokenry.operations.paging import paginate
from tokenry.storage.models import OAuthClient


@overload
def list_oauth_clients(core: Core, actor: Actor,
                       page: PageRequest | EveryRow) -> Page[OAuthClient]: ...
@overload
def list_oauth_clients(core: Core, actor: Actor, page: Listing) -> Listed[OAuthClient]: ...
def list_oauth_clients(core: Core, actor: Actor, page: Listing) -> Listed[OAuthClient]:
    with core.db.read() as session:
        require_client_admin(session, actor, "list OAuth clients")
        query = select(OAuthClient).where(OAuthClient.account_id == actor.account_id)
        return paginate(session, query, page, keys=[OAuthClient.id])


def show_oauth_client(core: Core, actor: Actor, client_id: int) -> OAuthClient:
    with core.db.read() as session:
        require_client_admin(session, actor, "view OAuth clients")
        return find_client(session, actor, client_id)
