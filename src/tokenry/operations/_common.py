"""Small pieces every use case shares: the acting user, settings, locking, the audit record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Forbidden, NotFound
from tokenry.domain.tokens import check_token_access
from tokenry.domain.users import may_sign_in, require_admin
from tokenry.operations.context import Actor
from tokenry.storage.models import ApiToken, AuditEvent, User
from tokenry.storage.queries import account_settings


def acting_user(session: Session, actor: Actor) -> User | None:
    """The actor's user, re-read inside the transaction; ``None`` for the system itself."""
    if actor.user_id is None:
        return None
    user = session.get(User, actor.user_id)
    if user is None or user.account_id != actor.account_id or not may_sign_in(
        verified=user.verified, suspended=user.suspended
    ):
        raise Forbidden("Your user can no longer act on this account.")
    return user


def require_proven_person(actor: Actor, decision: str) -> None:
    """Governance decisions need a credential that proves the person making them.

    A Zendesk-style token that is not bound to a user acts as whatever email is typed with
    it, so anyone holding it could approve in a manager's name; such tokens keep working for
    the token API, never for decisions.
    """
    if actor.user_id is not None and not actor.proves_person:
        raise Forbidden(
            f"To {decision} you must prove who you are: sign in with your password, or use "
            "an API token bound to you (created with your user_id). This token is not bound "
            "to a user, so it acts as whatever email is typed with it.")


def require_account_admin(session: Session, actor: Actor, action: str) -> User | None:
    user = acting_user(session, actor)
    if user is not None:
        require_admin(user.role, action)
    return user


def require_token_admin(session: Session, actor: Actor, action: str) -> None:
    """Token management: an admin of the account, and only while token access is on."""
    require_account_admin(session, actor, action)
    check_token_access(token_access=account_settings(session, actor.account_id).token_access)


class _InAccount(Protocol):
    account_id: Any


Owned = TypeVar("Owned", bound=_InAccount)


def find_in_account(session: Session, model: type[Owned], account_id: int, record_id: int,
                    what: str) -> Owned:
    """A record of this account by id; another account's record is as absent as none."""
    found = session.get(model, record_id)
    if found is None or found.account_id != account_id:
        raise NotFound(f"There is no {what} with id {record_id}.")
    return found


def find_token(session: Session, actor: Actor, token_id: int, *, lock: bool = False) -> ApiToken:
    query = select(ApiToken).where(ApiToken.id == token_id,
                                   ApiToken.account_id == actor.account_id)
    if lock:
        query = query.with_for_update()
    token = session.scalar(query)
    if token is None:
        raise NotFound(f"There is no API token with id {token_id}.")
    return token


def token_label(token: ApiToken) -> str:
    return f"{token.display} {token.description}".strip()


def audit(session: Session, core: Core, actor: Actor, *, action: str, source_type: str,
          source_id: int | None, source_label: str,
          changes: Mapping[str, Any] | None = None, description: str = "") -> AuditEvent:
    """Add the audit record to the caller's transaction: it commits with the change or not
    at all."""
    event = AuditEvent(
        account_id=actor.account_id, created_at=core.clock(), actor_id=actor.user_id,
        actor_label=actor.label, action=action, source_type=source_type, source_id=source_id,
        source_label=source_label[:512], ip_address=actor.ip,
        user_agent=(actor.user_agent or "")[:255] or None, via=actor.via,
        credential=actor.credential_label,
        changes=dict(changes or {}), change_description=description,
    )
    session.add(event)
    return event


def set_token_active(session: Session, core: Core, actor: Actor, token: ApiToken, active: bool,
                     why: str = "") -> bool:
    """The one place a token is (de)activated: state, timestamps and the audit record.

    Returns False (and records nothing) when the token is already in that state.
    """
    if token.active == active:
        return False
    now = core.clock()
    token.active = active
    token.updated_at = now
    token.deactivated_at = None if active else now
    verb = "Reactivated" if active else "Deactivated"
    audit(session, core, actor, action=Action.REACTIVATE if active else Action.DEACTIVATE,
          source_type=SourceType.API_TOKEN, source_id=token.id, source_label=token_label(token),
          changes={"active": [not active, active]},
          description=f"{verb} {token.display}{f' ({why})' if why else ''}")
    return True


