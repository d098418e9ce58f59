"""InviteUser, InvitationStatus and AcceptInvitation: a first password by one-time link.

A user created without a password gets a link, through the same private channels as a
token's delivery link (their e-mail, a Slack direct message). The link works once, expires
after the account's ``invitation_hours``, and a new invitation replaces any earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import web_sessions
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict, NotFound
from tokenry.domain.users import may_sign_in
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue, has_private_channel
from tokenry.operations._common import audit, require_account_admin, require_proven_person
from tokenry.operations._requests import base_url
from tokenry.operations.context import Actor
from tokenry.operations.users import find_user, password_hash
from tokenry.operations.web_sessions import end_sessions
from tokenry.storage.models import Invitation, User
from tokenry.storage.queries import account_settings, instance_identity, matches

LINK = "invitation"
NO_CHANNEL = ("No private channel can reach {email}: configure SMTP (TOKENRY_SMTP_HOST) or a "
              "Slack bot token (the slack_bot_token setting), or set their password with "
              "`tokenry users update {email} --password`.")


@dataclass(frozen=True, slots=True)
class Invited:
    email: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InvitationView:
    state: str  # ready, used, expired, replaced
    email: str
    name: str
    instance: str
    expires_at: datetime


def invite_user(core: Core, actor: Actor, email: str) -> Invited:
    with core.db.transaction() as session:
        inviter = require_account_admin(session, actor, "invite users")
        require_proven_person(actor, "invite users")
        user = find_user(session, actor.account_id, email, lock=True)
        if user.password_hash is not None:
            raise Conflict(f"{user.email} already has a password and can sign in.")
        if not may_sign_in(verified=user.verified, suspended=user.suspended):
            raise Conflict(f"{user.email} is suspended or not verified; change that first.")
        if not has_private_channel(session, core, actor.account_id):
            raise Conflict(NO_CHANNEL.format(email=user.email))
        now = core.clock()
        session.execute(update(Invitation).where(
            Invitation.user_id == user.id, Invitation.used_at.is_(None),
            Invitation.replaced_at.is_(None)).values(replaced_at=now))
        secret = web_sessions.new_secret()
        hours = account_settings(session, actor.account_id).invitation_hours
        key = core.keyring.current
        invitation = Invitation(account_id=actor.account_id, user_id=user.id, key_id=key.id,
                                link_hash=web_sessions.digest(key.secret, LINK, secret),
                                created_by_id=actor.user_id, created_at=now,
                                expires_at=now + timedelta(hours=hours))
        session.add(invitation)
        session.flush()
        url = f"{base_url(core, actor.account_id)}/invitations/{secret}"
        enqueue(session, core, actor.account_id,
                messages.invitation(user, inviter.name if inviter else "tokenry", url,
                                    invitation.expires_at, invitation_id=invitation.id),
                [user])
        audit(session, core, actor, action=Action.INVITE, source_type=SourceType.USER,
              source_id=user.id, source_label=user.email,
              description=f"Invited {user.email} to set a password (link valid for {hours} h)")
        return Invited(email=user.email, expires_at=invitation.expires_at)


def open_invitations(core: Core, actor: Actor, user_ids: set[int]) -> dict[int, datetime]:
    """When each user's unused, unexpired invitation expires, by user id (for the people list)."""
    if not user_ids:
        return {}
    with core.db.read() as session:
        require_account_admin(session, actor, "view users")
        rows = session.execute(select(Invitation.user_id, Invitation.expires_at).where(
            Invitation.account_id == actor.account_id, Invitation.user_id.in_(user_ids),
            Invitation.used_at.is_(None), Invitation.replaced_at.is_(None),
            Invitation.expires_at > core.clock()))
        return {user_id: expires_at for user_id, expires_at in rows}


def _find(session: Session, core: Core, secret: str, *, lock: bool = False) -> Invitation:
    query = select(Invitation).where(
        matches(Invitation.link_hash, web_sessions.digests(core.keyring, LINK, secret[:128])))
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound("This invitation link is not valid.")
    return found


def _state(invitation: Invitation, now: datetime) -> str:
    if invitation.used_at is not None:
        return "used"
    if invitation.replaced_at is not None:
        return "replaced"
    return "expired" if invitation.expires_at <= now else "ready"


def invitation_status(core: Core, secret: str) -> InvitationView:
    with core.db.read() as session:
        invitation = _find(session, core, secret)
        user = session.get(User, invitation.user_id)
        assert user is not None  # the invitation is deleted with its user
        name, _ = instance_identity(session, invitation.account_id, core.settings.base_url)
        return InvitationView(state=_state(invitation, core.clock()), email=user.email,
                              name=user.name, instance=name,
                              expires_at=invitation.expires_at)


def accept_invitation(core: Core, secret: str, password: str, *, ip: str | None,
                      user_agent: str | None) -> str:
    """Set the user's first password; the link is then spent. Returns their email."""
    with core.db.transaction() as session:
        invitation = _find(session, core, secret, lock=True)
        state = _state(invitation, core.clock())
        if state != "ready":
            raise Conflict(f"This invitation link is {state}; ask an admin for a new one.")
        user = session.get(User, invitation.user_id, with_for_update=True)
        assert user is not None
        if not may_sign_in(verified=user.verified, suspended=user.suspended):
            raise Conflict("This user cannot sign in; ask an admin.")
        user.password_hash = password_hash(password)
        user.updated_at = invitation.used_at = core.clock()
        end_sessions(session, user.id)
        actor = Actor(account_id=user.account_id, user_id=user.id, label=user.email,
                      via="web", ip=ip, user_agent=user_agent, credential="link")
        audit(session, core, actor, action=Action.UPDATE, source_type=SourceType.USER,
              source_id=user.id, source_label=user.email,
              changes={"password": ["(none)", "(set)"]},
              description=f"{user.email} set a password with an invitation link")
        return user.email
