"""ListTokens and ShowToken: admin-only reads that never see a secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

from sqlalchemy import or_, select

from tokenry.core import Core
from tokenry.domain.text import check_text
from tokenry.operations._common import find_token, require_token_admin
from tokenry.operations.context import Actor, EveryRow, Listed, Listing, Page, PageRequest
from tokenry.operations.paging import paginate
from tokenry.storage.models import ApiToken

Status = Literal["all", "active", "inactive"]


@dataclass(frozen=True, slots=True)
class TokenFilter:
    """``status`` and a ``text`` found in the description or the truncated token."""

    status: Status = "all"
    text: str = ""

    def __post_init__(self) -> None:
        check_text(self.text, limit=100, field="text")


@overload
def list_tokens(core: Core, actor: Actor, page: PageRequest | EveryRow | None = None,
                wanted: TokenFilter | None = None) -> Page[ApiToken]: ...
@overload
def list_tokens(core: Core, actor: Actor, page: Listing,
                wanted: TokenFilter | None = None) -> Listed[ApiToken]: ...
def list_tokens(core: Core, actor: Actor, page: Listing | None = None,
                wanted: TokenFilter | None = None) -> Listed[ApiToken]:
    wanted = wanted or TokenFilter()
    with core.db.read() as session:
        require_token_admin(session, actor, "list API tokens")
        query = select(ApiToken).where(ApiToken.account_id == actor.account_id)
        if wanted.status != "all":
            query = query.where(ApiToken.active.is_(wanted.status == "active"))
        if wanted.text:
            pattern = "%" + wanted.text.replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            query = query.where(or_(ApiToken.description.ilike(pattern, escape="\\"),
                                    ApiToken.display.ilike(pattern, escape="\\")))
        return paginate(session, query, page or PageRequest(), keys=[ApiToken.id])


def show_token(core: Core, actor: Actor, token_id: int) -> ApiToken:
    with core.db.read() as session:
        require_token_admin(session, actor, "view API tokens")
        return find_token(session, actor, token_id)
