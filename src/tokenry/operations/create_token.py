"""CreateToken: issue a new API token; the secret is returned once and never stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import token_format
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.scopes import beyond, normalise
from tokenry.domain.tokens import (
    LARGE_LIMIT,
    check_room_for_one_more,
    validate_description,
    validate_expiry,
)
from tokenry.operations._common import audit, require_token_admin, token_label
from tokenry.operations.context import Actor
from tokenry.operations.paging import count_up_to
from tokenry.storage.models import Account, ApiToken, User
from tokenry.storage.queries import account_settings


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str

    def __repr__(self) -> str:
        return f"CreatedToken(id={self.token.id}, display={self.token.display!r})"


def create_token(core: Core, actor: Actor, *, description: str | None = None,
                 expires_at: datetime | None = None, user_id: int | None = None,
                 scopes: Sequence[str] | str | None = None) -> CreatedToken:
    with core.db.transaction() as session:
        require_token_admin(session, actor, "create API tokens")
        if account_settings(session, actor.account_id).require_request:
            raise Forbidden(
                "This account issues API tokens only through access requests "
                "(the require_request policy is on). File a request (POST "
                "/api/v2/access_requests or `tokenry requests submit`); a provisioner can issue "
                "a personal, automation or target exception where the account allows them.")
        return issue_token(session, core, actor, description=description,
                           expires_at=expires_at, user_id=user_id, scopes=scopes)


def issue_token(session: Session, core: Core, actor: Actor, *, description: str | None,
                expires_at: datetime | None = None, user_id: int | None = None,
                kind: str = "manual", access_request_id: int | None = None,
                scopes: Sequence[str] | str | None = None) -> CreatedToken:
    """Create a token inside the caller's transaction (the caller checks who may)."""
    now = core.clock()
    description = validate_description(description)
    policy = account_settings(session, actor.account_id)
    expires_at = validate_expiry(expires_at, now, policy.max_request_lifetime_days)
    granted = token_scopes(actor, scopes, policy.scope_ceiling)
    _check_bound_user(session, actor.account_id, user_id)
    # Locking the account row serialises creations per account, so the limit holds
    # under concurrent requests (SQLite gets the same from BEGIN IMMEDIATE).
    account = session.scalar(
        select(Account).where(Account.id == actor.account_id).with_for_update()
    )
    assert account is not None
    # counted no further than the largest limit: enough to apply either
    count = count_up_to(session, select(ApiToken).where(ApiToken.account_id == account.id),
                        LARGE_LIMIT)
    check_room_for_one_more(large_limit=account.large_token_limit, current_count=count)
    if count > 256 and not account.large_token_limit:
        account.large_token_limit = True  # grandfathered: keep 2048 once above 256
    new = token_format.generate(core.settings.token_prefix)
    secret_hash, key_id = core.hasher.stamp(new.secret)
    token = ApiToken(
        account_id=account.id, description=description, active=True,
        secret_hash=secret_hash, key_id=key_id, display=new.display, created_at=now,
        created_by_id=actor.user_id, updated_at=now, expires_at=expires_at, user_id=user_id,
        kind=kind, access_request_id=access_request_id, scopes=granted,
    )
    session.add(token)
    session.flush()
    audit(session, core, actor, action=Action.CREATE, source_type=SourceType.API_TOKEN,
          source_id=token.id, source_label=token_label(token),
          changes={"description": [None, description],
                   "expires_at": [None, expires_at.isoformat() if expires_at else None],
                   "user_id": [None, user_id], "kind": [None, kind], "scopes": [None, granted]},
          description=f"Created API token {token.display}")
    return CreatedToken(token=token, secret=new.secret)


def token_scopes(actor: Actor, wanted: Sequence[str] | str | None,
                 ceiling: Sequence[str] | None) -> list[str] | None:
    """The scopes a new credential gets: ``wanted`` in canonical form, within the account's
    ceiling and within the creator's own scopes. A scoped creator can never mint a wider
    credential: with no scopes asked for, the new one gets the creator's."""
    granted = normalise(wanted)
    if granted is None and actor.scopes is not None:
        granted = list(actor.scopes)
    if granted is None:
        return None
    for limit, whose in ((ceiling, "the account's allowed_scopes"),
                         (actor.scopes, "the scopes of the credential creating it")):
        outside = beyond(granted, limit)
        if outside:
            raise Invalid.field("scopes", f"{' '.join(outside)} is beyond {whose}")
    return granted


def _check_bound_user(session: Session, account_id: int, user_id: int | None) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or user.account_id != account_id:
        raise Invalid.field("user_id", f"there is no user with id {user_id} in this account")
    if user.suspended:
        raise Invalid.field("user_id", "a token cannot be bound to a suspended user")
