"""CreateExceptionToken: the three kinds of token a provisioner may issue without a request,
and ExceptionOverview: the kinds the account allows and the ones already issued.

Each kind has its own per-account switch and its own naming standard; all are audited and
otherwise ordinary tokens with every rule of the token authority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import naming
from tokenry.domain.errors import Forbidden, Invalid, NotFound
from tokenry.domain.users import may_sign_in
from tokenry.operations._common import acting_user, require_proven_person, require_token_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_token import CreatedToken, issue_token
from tokenry.operations.users import find_user
from tokenry.storage.models import ApiToken, User
from tokenry.storage.queries import account_settings


class ExceptionKind(StrEnum):
    PERSONAL = "personal"
    AUTOMATION = "automation"
    TARGET = "target"


SWITCHES = {ExceptionKind.PERSONAL: "allow_personal_tokens",
            ExceptionKind.AUTOMATION: "allow_automation_tokens",
            ExceptionKind.TARGET: "allow_target_tokens"}


def create_exception_token(core: Core, actor: Actor, kind: str, *, use_case: str | None = None,
                           target: str | None = None, expires_at: datetime | None = None,
                           user_email: str | None = None,
                           scopes: Sequence[str] | str | None = None) -> CreatedToken:
    """Every exception token is bound to one user, so it can never act as anyone else:
    personal and automation tokens to the provisioner or the user named by ``user_email``,
    target tokens to the service user ``user_email`` names (required)."""
    try:
        exception = ExceptionKind(kind)
    except ValueError:
        raise Invalid.field("exception", f"use one of: {', '.join(ExceptionKind)}") from None
    require_proven_person(actor, "issue a token without an access request")
    with core.db.transaction() as session:
        provisioner = _require_provisioner(session, actor)
        if not getattr(account_settings(session, actor.account_id), SWITCHES[exception]):
            raise Forbidden(f"{exception.value.capitalize()} tokens are turned off for this "
                            f"account ({SWITCHES[exception]}).")
        if exception == ExceptionKind.TARGET:
            if not target:
                raise Invalid.field("target", "name the target or webhook the token is for")
            if not user_email:
                raise Invalid.field("user_email", "name the service user the target token acts "
                                    "as; it is bound to that user alone")
        holder = _holder(session, actor, user_email) if user_email else provisioner
        if exception == ExceptionKind.TARGET:
            name = naming.target_name(target or "")
        elif exception == ExceptionKind.PERSONAL:
            name = naming.personal_name(holder.name, use_case)
        else:
            if not use_case:
                raise Invalid.field("use_case", "say what the automation or script does")
            name = naming.automation_name(holder.name, use_case)
        return issue_token(session, core, actor, description=name, expires_at=expires_at,
                           user_id=holder.id, kind=exception.value, scopes=scopes)


@dataclass(frozen=True, slots=True)
class ExceptionOverview:
    """What a provisioner needs before issuing one: the kinds the account allows, and the
    exception tokens already issued with the email each is bound to."""

    allowed: dict[ExceptionKind, bool]
    tokens: tuple[ApiToken, ...]
    holders: dict[int, str]


def exception_overview(core: Core, actor: Actor) -> ExceptionOverview:
    with core.db.read() as session:
        _require_provisioner(session, actor)
        policy = account_settings(session, actor.account_id)
        tokens = tuple(session.scalars(select(ApiToken).where(
            ApiToken.account_id == actor.account_id,
            ApiToken.kind.in_([kind.value for kind in ExceptionKind])).order_by(ApiToken.id)))
        holder_ids = {token.user_id for token in tokens if token.user_id is not None}
        rows = session.execute(select(User.id, User.email).where(
            User.account_id == actor.account_id, User.id.in_(holder_ids))) if holder_ids else ()
        holders = {user_id: email for user_id, email in rows}
    return ExceptionOverview(
        allowed={kind: bool(getattr(policy, SWITCHES[kind])) for kind in ExceptionKind},
        tokens=tokens, holders=holders)


def _require_provisioner(session: Session, actor: Actor) -> User:
    provisioner = acting_user(session, actor)
    if provisioner is None or not provisioner.provisioner:
        raise Forbidden("Only a provisioner can issue a token without an access request.")
    require_token_admin(session, actor, "issue API tokens")
    return provisioner


def _holder(session: Session, actor: Actor, email: str) -> User:
    try:
        user = find_user(session, actor.account_id, email)
    except NotFound:
        raise Invalid.field("user_email", f"there is no user {email!r} in this account") from None
    if not may_sign_in(verified=user.verified, suspended=user.suspended):
        raise Invalid.field("user_email", f"{user.email} is suspended or not verified, so the "
                            "token could never be used")
    return user
