"""ListAuditEvents: the account's audit log, filtered and paginated, for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tokenry.core import Core
from tokenry.operations._common import paginate, require_account_admin
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
        query = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        return paginate(session, query, page or PageRequest())
