"""ListAuditEvents: the account's audit log, filtered and paginated, for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.operations._common import find_in_account, paginate, require_account_admin
from tokenry.operations.context import Actor, Page, PageRequest
from tokenry.storage.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilter:
    source_type: str | None = None
    source_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ip_address: str | None = None
    oldest_first: bool = False  # Zendesk's sort_order=asc / sort=created_at

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is None:
                continue
            try:  # a time zone far from UTC can carry a year-9999 moment past the calendar
                object.__setattr__(self, name, moment.astimezone(UTC) if moment.tzinfo
                                   else moment.replace(tzinfo=UTC))
            except OverflowError:
                raise Invalid.field(name, "is outside the range of dates") from None


def list_audit_events(core: Core, actor: Actor, filters: AuditFilter,
                      page: PageRequest | None = None) -> Page[AuditEvent]:
    with core.db.read() as session:
        require_account_admin(session, actor, "view the audit log")
        query = select(AuditEvent).where(AuditEvent.account_id == actor.account_id)
        if filters.source_type:
            query = query.where(AuditEvent.source_type == filters.source_type)
        if filters.source_id is not None:
            query = query.where(AuditEvent.source_id == filters.source_id)
        if filters.actor_id is not None:
            query = query.where(AuditEvent.actor_id == filters.actor_id)
        if filters.action:
            query = query.where(AuditEvent.action == filters.action)
        if filters.since:
            query = query.where(AuditEvent.created_at >= filters.since)
        if filters.until:
            query = query.where(AuditEvent.created_at <= filters.until)
        if filters.ip_address:
            query = query.where(AuditEvent.ip_address == filters.ip_address)
        order = (AuditEvent.created_at.asc(), AuditEvent.id.asc()) if filters.oldest_first \
            else (AuditEvent.created_at.desc(), AuditEvent.id.desc())
        return paginate(session, query.order_by(*order), page or PageRequest())


def show_audit_event(core: Core, actor: Actor, event_id: int) -> AuditEvent:
    with core.db.read() as session:
        require_account_admin(session, actor, "view the audit log")
        return find_in_account(session, AuditEvent, actor.account_id, event_id,
                               "audit log event")
