"""ListTokens and ShowToken: admin-only reads that never see a secret."""

from __future__ import annotations

from sqlalchemy import select

from tokenry.core import Core
from tokenry.operations._common import find_token, paginate, require_token_admin
from tokenry.operations.context import Actor, Page, PageRequest
from tokenry.storage.models import ApiToken


def list_tokens(core: Core, actor: Actor, page: PageRequest | None = None) -> Page[ApiToken]:
    with core.db.read() as session:
        require_token_admin(session, actor, "list API tokens")
        query = select(ApiToken).where(ApiToken.account_id == actor.account_id)
        return paginate(session, query.order_by(ApiToken.id), page or PageRequest())


def show_token(core: Core, actor: Actor, token_id: int) -> ApiToken:
    with core.db.read() as session:
        require_token_admin(session, actor, "view API tokens")
        return find_token(session, actor, token_id)
