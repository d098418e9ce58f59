"""ComplianceReport: what an auditor would question, for admins and provisioners.

Findings name an API token, an integration's OAuth client or an access request (``kind``).
Token and client findings cover active ones only: a deactivated token or switched-off client
cannot be used, and the retention clean-up deletes it. A client is judged as a token is: made
for a live integration request, named by the standard, in use, and held by someone who can
still sign in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from tokenry.core import Core
from tokenry.domain import naming
from tokenry.domain.access_requests import LIVE, PENDING
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.timefmt import iso
from tokenry.domain.users import Role
from tokenry.operations._common import acting_user
from tokenry.operations._requests import link_of
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, ApiToken, OAuthClient, OAuthToken, User
from tokenry.storage.queries import account_settings

EXCEPTION_KINDS = frozenset({"personal", "automation", "target"})


class Category(StrEnum):
    UNAPPROVED = "unapproved"
    NONSTANDARD_NAME = "nonstandard_name"
    UNUSED = "unused"
    SUSPENDED_HOLDER = "suspended_holder"
    UNBOUND = "unbound"
    STALE_REQUEST = "stale_request"


class Kind(StrEnum):
    API_TOKEN = "api_token"  # noqa: S105 - what a finding names
    OAUTH_CLIENT = "oauth_client"
    ACCESS_REQUEST = "access_request"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to question. ``identifier`` is a token's truncated form or a client's
    identifier; ``removal_date`` its expiry date; ``state`` ``active`` or ``expired`` (past
    its removal date, until the job switches it off), or a request's state."""

    category: Category
    name: str
    reason: str
    token_id: int | None = None
    request_id: int | None = None
    kind: Kind = Kind.API_TOKEN
    oauth_client_id: int | None = None
    identifier: str = ""
    scopes: tuple[str, ...] | None = None
    removal_date: date | None = None
    state: str = "active"

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category.value, "kind": self.kind.value,
                "token_id": self.token_id, "oauth_client_id": self.oauth_client_id,
                "request_id": self.request_id, "name": self.name,
                "identifier": self.identifier,
                "scopes": list(self.scopes) if self.scopes is not None else None,
                "removal_date": self.removal_date.isoformat() if self.removal_date else None,
                "state": self.state, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    generated_at: datetime
    unused_days: int  # 0: the unused-token check was off
    findings: tuple[Finding, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {c.value: sum(f.category == c for f in self.findings) for c in Category}

    def as_dict(self) -> dict[str, Any]:
        return {"generated_at": iso(self.generated_at), "unused_days": self.unused_days,
                "findings": [f.as_dict() for f in self.findings], "counts": self.counts}


def compliance_report(core: Core, actor: Actor, *,
                      unused_days: int | None = None) -> ComplianceReport:
    """``unused_days`` defaults to the account's ``inactivity_days``; 0 skips that check."""
    if unused_days is not None and unused_days < 0:
        raise Invalid.field("unused_days", "must be 0 or more")
    with core.db.read() as session:
        _require_reviewer(session, actor)
        policy = account_settings(session, actor.account_id)
        days = policy.inactivity_days if unused_days is None else unused_days
        now = core.clock()
        findings = [*_token_findings(session, actor.account_id, now, days),
                    *_client_findings(session, actor.account_id, now, days),
                    *_stale_requests(session, core, actor.account_id, now,
                                     policy.pending_request_max_age_days)]
    order = list(Category)
    kinds = list(Kind)
    findings.sort(key=lambda f: (order.index(f.category), kinds.index(f.kind), f.token_id or 0,
                                 f.oauth_client_id or 0, f.request_id or 0))
    return ComplianceReport(generated_at=now, unused_days=days, findings=tuple(findings))


def _require_reviewer(session: Session, actor: Actor) -> None:
    user = acting_user(session, actor)
    if user is not None and user.role != Role.ADMIN and not user.provisioner:
        raise Forbidden("Only admins and provisioners can see the compliance report.")


def _token_findings(session: Session, account_id: int, now: datetime,
                    unused_days: int) -> Iterator[Finding]:
    rows = session.execute(
        select(ApiToken, AccessRequest.state, User.email, User.suspended)
        .outerjoin(AccessRequest, and_(AccessRequest.id == ApiToken.access_request_id,
                                       AccessRequest.account_id == ApiToken.account_id))
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(ApiToken.account_id == account_id, ApiToken.active.is_(True))
    )
    for token, request_state, email, suspended in rows:
        reasons = {
            Category.UNAPPROVED: _unapproved(token, request_state),
            Category.NONSTANDARD_NAME: _nonstandard(token.description),
            Category.UNUSED: _unused(token, now, unused_days),
            Category.SUSPENDED_HOLDER: f"bound to suspended user {email}" if suspended else None,
            Category.UNBOUND: None if token.user_id is not None else
            "bound to no user: it acts as whatever email is typed with it",
        }
        for category, reason in reasons.items():
            if reason is not None:
                yield Finding(category, token.description, reason, token_id=token.id,
                              request_id=token.access_request_id, identifier=token.display,
                              scopes=tuple(token.scopes) if token.scopes is not None
                              else None,
                              removal_date=token.expires_at.date() if token.expires_at
                              else None, state=_state(token.expires_at, now))


def _state(expires_at: datetime | None, now: datetime) -> str:
    return "expired" if expires_at is not None and expires_at <= now else "active"


def _client_findings(session: Session, account_id: int, now: datetime,
                     unused_days: int) -> Iterator[Finding]:
    last_use = (select(OAuthToken.client_id, func.max(OAuthToken.used_at).label("used_at"))
                .where(OAuthToken.account_id == account_id)
                .group_by(OAuthToken.client_id).subquery())
    holder, acts_as = aliased(User), aliased(User)
    rows = session.execute(
        select(OAuthClient, AccessRequest.state, last_use.c.used_at, holder.email,
               holder.suspended, acts_as.email, acts_as.suspended)
        .outerjoin(AccessRequest, and_(AccessRequest.id == OAuthClient.access_request_id,
                                       AccessRequest.account_id == OAuthClient.account_id))
        .outerjoin(last_use, last_use.c.client_id == OAuthClient.id)
        .outerjoin(holder, holder.id == AccessRequest.holder_id)
        .outerjoin(acts_as, acts_as.id == OAuthClient.user_id)
        .where(OAuthClient.account_id == account_id, OAuthClient.active.is_(True))
    )
    for client, request_state, used_at, holder_email, holder_off, user_email, user_off in rows:
        suspended = [f"its request's holder {holder_email} is suspended" if holder_off else None,
                     f"acts as suspended user {user_email}" if user_off else None]
        reasons = {
            Category.UNAPPROVED: _unapproved_client(client, request_state),
            Category.NONSTANDARD_NAME: _nonstandard(client.name),
            Category.UNUSED: _unused_client(client, used_at, now, unused_days),
            Category.SUSPENDED_HOLDER: "; ".join(r for r in suspended if r) or None,
        }
        for category, reason in reasons.items():
            if reason is not None:
                yield Finding(category, client.name, reason, kind=Kind.OAUTH_CLIENT,
                              oauth_client_id=client.id, request_id=client.access_request_id,
                              identifier=client.identifier,
                              scopes=tuple(client.allowed_scopes)
                              if client.allowed_scopes is not None else None,
                              removal_date=client.expires_at.date() if client.expires_at
                              else None, state=_state(client.expires_at, now))


def _unapproved_client(client: OAuthClient, request_state: str | None) -> str | None:
    if client.access_request_id is None:
        return "created by hand, without an integration request"
    if request_state is None:
        return "its integration request does not exist"
    if request_state not in LIVE:
        return f"its integration request is {request_state}, not issued or delivered"
    return None


def _unused_client(client: OAuthClient, used_at: datetime | None, now: datetime,
                   days: int) -> str | None:
    since = max(used_at, client.created_at) if used_at else client.created_at
    if days == 0 or now - since < timedelta(days=days):
        return None
    idle = (now - since).days
    if used_at is None:
        return f"no token of it used; created {idle} days ago (limit {days})"
    return f"no token of it used for {idle} days (limit {days})"


def _unapproved(token: ApiToken, request_state: str | None) -> str | None:
    if token.kind in EXCEPTION_KINDS:
        return None
    if token.kind != "request":
        return "created by hand, without an access request or an exception"
    if request_state is None:
        return "its access request does not exist"
    if request_state not in LIVE:
        return f"its access request is {request_state}, not issued or delivered"
    return None


def _nonstandard(description: str) -> str | None:
    if not description.strip():
        return "has no name"
    return "the name follows no naming standard" if naming.parse(description) is None else None


def _unused(token: ApiToken, now: datetime, days: int) -> str | None:
    since = token.last_used_at or token.created_at
    if days == 0 or now - since < timedelta(days=days):
        return None
    idle = (now - since).days
    if token.last_used_at is None:
        return f"never used; created {idle} days ago (limit {days})"
    return f"last used {idle} days ago (limit {days})"


def _stale_requests(session: Session, core: Core, account_id: int, now: datetime,
                    max_age_days: int) -> Iterator[Finding]:
    requests = session.scalars(select(AccessRequest).where(
        AccessRequest.account_id == account_id, AccessRequest.state.in_(sorted(PENDING)),
        AccessRequest.created_at <= now - timedelta(days=max_age_days)))
    for request in requests:
        age = (now - request.created_at).days
        yield Finding(Category.STALE_REQUEST, link_of(core, request),
                      f"{request.state} for {age} days without a decision "
                      f"(limit {max_age_days})", request_id=request.id,
                      kind=Kind.ACCESS_REQUEST, identifier=f"#{request.id}",
                      scopes=tuple(request.scopes) if request.scopes is not None else None,
                      removal_date=request.removal_date, state=request.state)
