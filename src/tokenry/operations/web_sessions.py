"""SignIn, ResumeSession and SignOut: the Admin Center's sessions.

Web sign-in checks the person's password whatever the account's ``password_access`` says:
that setting is about HTTP Basic passwords on the API, not about people using the browser.
Failed sign-ins count in the same failure throttle as failed API authentications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tokenry.auth.passwords import verify_password
from tokenry.core import Core
from tokenry.domain import web_sessions
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Throttled, Unauthenticated
from tokenry.domain.users import Role, may_sign_in
from tokenry.operations._common import audit
from tokenry.operations.context import Actor
from tokenry.storage.models import Account, User, WebSession
from tokenry.storage.queries import instance_identity, matches

SESSION = "session"


@dataclass(frozen=True, slots=True)
class WebUser:
    """Who a browser is signed in as, read afresh on every request."""

    session_hash: str
    account_id: int
    instance_name: str
    user_id: int
    email: str
    name: str
    role: str
    provisioner: bool
    ends_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def actor(self, ip: str | None, user_agent: str | None) -> Actor:
        return Actor(account_id=self.account_id, user_id=self.user_id, label=self.email,
                     via="web", ip=ip, user_agent=user_agent, credential=SESSION,
                     proves_person=True)


@dataclass(frozen=True, slots=True)
class SignedIn:
    secret: str  # for the cookie only
    user: WebUser


def policy(core: Core) -> web_sessions.SessionPolicy:
    return web_sessions.SessionPolicy(
        idle=timedelta(minutes=core.settings.session_idle_minutes),
        lifetime=timedelta(hours=core.settings.session_lifetime_hours))


def _account_id(session: Session, subdomain: str) -> int:
    account_id = session.scalar(select(Account.id).where(Account.subdomain == subdomain))
    if account_id is None:
        raise Unauthenticated(f"no account {subdomain!r}")
    return account_id


def _web_user(session: Session, core: Core, row: WebSession, user: User) -> WebUser:
    name, _ = instance_identity(session, user.account_id, core.settings.base_url)
    return WebUser(session_hash=row.secret_hash, account_id=user.account_id,
                   instance_name=name, user_id=user.id, email=user.email, name=user.name,
                   role=user.role, provisioner=user.provisioner,
                   ends_at=policy(core).ends_at(row.created_at, row.last_seen_at))


def sign_in(core: Core, subdomain: str, email: str, password: str, *, ip: str,
            user_agent: str | None) -> SignedIn:
    """Check the password and open a session. Every failure looks the same to the caller."""
    try:
        core.throttle.check(ip)
    except Throttled:
        core.metrics.signed_in("admin_center", "throttled")
        raise
    try:
        signed = _sign_in(core, subdomain, email, password, ip=ip, user_agent=user_agent)
    except Unauthenticated:
        core.metrics.signed_in("admin_center", "refused")
        raise
    core.metrics.signed_in("admin_center", "ok")
    return signed


def _sign_in(core: Core, subdomain: str, email: str, password: str, *, ip: str,
             user_agent: str | None) -> SignedIn:
    with core.db.transaction() as session:
        account_id = _account_id(session, subdomain)
        user = session.scalar(select(User).where(User.account_id == account_id,
                                                 User.email == email.strip().lower()))
        usable = user is not None and may_sign_in(verified=user.verified,
                                                  suspended=user.suspended)
        # verify_password runs (against a dummy hash) even for an unknown user: same timing
        if not verify_password(user.password_hash if user else None, password) \
                or not usable or user is None:
            core.throttle.record_failure(ip)
            raise Unauthenticated("wrong email or password")
        now = core.clock()
        secret = web_sessions.new_secret()
        key = core.keyring.current
        row = WebSession(account_id=account_id, user_id=user.id, key_id=key.id,
                         secret_hash=web_sessions.digest(key.secret, SESSION, secret),
                         created_at=now, last_seen_at=now, ip_address=ip[:64],
                         user_agent=(user_agent or "")[:255] or None)
        session.add(row)
        actor = Actor(account_id=account_id, user_id=user.id, label=user.email, via="web",
                      ip=ip, user_agent=user_agent, credential="password", proves_person=True)
        audit(session, core, actor, action=Action.LOGIN, source_type=SourceType.USER,
              source_id=user.id, source_label=user.email,
              description=f"{user.email} signed in to the Admin Center")
        return SignedIn(secret=secret, user=_web_user(session, core, row, user))


def resume_session(core: Core, subdomain: str, secret: str) -> WebUser:
    """The session behind a cookie, if it is still live for this account and its user may
    still sign in. A page view is a read; the idle clock is written at most once a minute."""
    if not secret or len(secret) > 128:
        raise Unauthenticated("no session")
    secret_hashes = web_sessions.digests(core.keyring, SESSION, secret)
    now = core.clock()
    with core.db.read() as session:
        found = session.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id)
            .where(matches(WebSession.secret_hash, secret_hashes))
        ).first()
        if found is None:
            raise Unauthenticated("no such session")
        row, user = found
        if row.account_id != _account_id(session, subdomain):
            raise Unauthenticated("session of another account")
        live = policy(core).is_live(row.created_at, row.last_seen_at, now) and may_sign_in(
            verified=user.verified, suspended=user.suspended)
        web_user = _web_user(session, core, row, user) if live else None
    if web_user is None:
        with core.db.transaction() as session:
            session.execute(delete(WebSession).where(WebSession.id == row.id))
        raise Unauthenticated("session ended")
    if now - row.last_seen_at >= web_sessions.TOUCH_EVERY:
        with core.db.transaction() as session:
            session.execute(update(WebSession).where(WebSession.id == row.id)
                            .values(last_seen_at=now))
    return web_user


def sign_out(core: Core, secret: str) -> None:
    if not secret:
        return
    with core.db.transaction() as session:
        session.execute(delete(WebSession).where(
            matches(WebSession.secret_hash, web_sessions.digests(core.keyring, SESSION, secret))))


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of a user, in the caller's transaction."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def instance_name(core: Core, subdomain: str) -> str | None:
    """The name the sign-in page shows, so a person knows which instance they are entering."""
    with core.db.read() as session:
        account_id = session.scalar(select(Account.id).where(Account.subdomain == subdomain))
        if account_id is None:
            return None
        return instance_identity(session, account_id, core.settings.base_url)[0]
