"""ComplianceReport: what an auditor would question, for admins and provisioners.

Token findings cover active tokens only. A deactivated token cannot be used, and the
retention clean-up deletes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import naming
from tokenry.domain.access_requests import LIVE, PENDING
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.timefmt import iso
from tokenry.domain.users import Role
from tokenry.operations._common import acting_user
from tokenry.operations._requests import link_of
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, ApiToken, User
from tokenry.storage.queries import account_settings

EXCEPTION_KINDS = frozenset({"personal", "automation", "target"})


class Category(StrEnum):
    UNAPPROVED = "unapproved"
    NONSTANDARD_NAME = "nonstandard_name"
    UNUSED = "unused"
    SUSPENDED_HOLDER = "suspended_holder"
    UNBOUND = "unbound"
    STALE_REQUEST = "stale_request"


@dataclass(frozen=True, slots=True)
class Finding:
    category: Category
    name: str
    reason: str
    token_id: int | None = None
    request_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category.value, "token_id": self.token_id,
                "request_id": self.request_id, "name": self.name, "reason": self.reason}


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
                    *_stale_requests(session, core, actor.account_id, now,
                                     policy.pending_request_max_age_days)]
    order = list(Category)
    findings.sort(key=lambda f: (order.index(f.category), f.token_id or 0, f.request_id or 0))
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
                yield Finding(category, token.description, reason, token_id=token.id)


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
                      f"(limit {max_age_days})", request_id=request.id)
