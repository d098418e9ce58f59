"""ListAuditEvents: the account's audit log, filtered and paginated, for admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import ColumnElement, Select, UnaryExpression, select

from tokenry.core import Core
from tokenry.domain.audit import actions_reading_as
from tokenry.domain.errors import Invalid
from tokenry.domain.timefmt import iso
from tokenry.operations._common import find_in_account, require_account_admin
from tokenry.operations.context import Actor, EveryRow, Listed, Listing, Page, PageRequest
from tokenry.operations.paging import AnyOf, paginate
from tokenry.storage.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilter:
    source_type: str | None = None
    source_id: int | None = None
    actor_id: int | None = None
    action: str | None = None  # tokenry's own action, exactly
    zendesk_action: str | None = None  # Zendesk's: every tokenry action that reads as it
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

    def conditions(self, account_id: int) -> list[ColumnElement[bool]]:
        """The WHERE clauses that select these events of one account (list and export)."""
        found = self._narrowing(account_id)
        if self.zendesk_action:
            found.append(AuditEvent.action.in_(self._zendesk_actions()))
        return found

    def selection(self, account_id: int) -> Select[Any] | AnyOf:
        """The events to list. When Zendesk's action names several of tokenry's, each is read
        in page order through the (account, action, created_at, id) index and a page merges
        them (as one ``IN``, PostgreSQL walks the date index and filters: slow for rare
        actions); otherwise the one query of :meth:`conditions`."""
        actions = self._zendesk_actions()
        if len(actions) < 2:
            return select(AuditEvent).where(*self.conditions(account_id))
        return AnyOf(select(AuditEvent).where(*self._narrowing(account_id)),
                     AuditEvent.action, tuple(actions))

    def _zendesk_actions(self) -> list[str]:
        return sorted(actions_reading_as(self.zendesk_action)) if self.zendesk_action else []

    def _narrowing(self, account_id: int) -> list[ColumnElement[bool]]:
        found = [AuditEvent.account_id == account_id]
        if self.source_type:
            found.append(AuditEvent.source_type == self.source_type)
        if self.source_id is not None:
            found.append(AuditEvent.source_id == self.source_id)
        if self.actor_id is not None:
            found.append(AuditEvent.actor_id == self.actor_id)
        if self.action:
            found.append(AuditEvent.action == self.action)
        if self.since:
            found.append(AuditEvent.created_at >= self.since)
        if self.until:
            found.append(AuditEvent.created_at <= self.until)
        if self.ip_address:
            found.append(AuditEvent.ip_address == self.ip_address)
        return found

    def order(self) -> tuple[UnaryExpression[Any], UnaryExpression[Any]]:
        if self.oldest_first:
            return AuditEvent.created_at.asc(), AuditEvent.id.asc()
        return AuditEvent.created_at.desc(), AuditEvent.id.desc()

    def summary(self) -> str:
        """The filters in words, for the audit record of an export: ``action=create ...``."""
        # named as the API's filters: Zendesk's action is ``action``, tokenry's exact one
        # ``tokenry_action``
        names = {"source_type": "source_type", "source_id": "source_id",
                 "actor_id": "actor_id", "zendesk_action": "action",
                 "action": "tokenry_action", "ip_address": "ip_address"}
        parts = [f"{shown}={getattr(self, name)}" for name, shown in names.items()
                 if getattr(self, name) not in (None, "")]
        parts += [f"{name}={iso(getattr(self, name))}" for name in ("since", "until")
                  if getattr(self, name) is not None]
        return " ".join(parts) or "all events"


@overload
def list_audit_events(core: Core, actor: Actor, filters: AuditFilter,
                      page: PageRequest | EveryRow | None = None) -> Page[AuditEvent]: ...
@overload
def list_audit_events(core: Core, actor: Actor, filters: AuditFilter,
                      page: Listing) -> Listed[AuditEvent]: ...
def list_audit_events(core: Core, actor: Actor, filters: AuditFilter,
                      page: Listing | None = None) -> Listed[AuditEvent]:
    with core.db.read() as session:
        require_account_admin(session, actor, "view the audit log")
        return paginate(session, filters.selection(actor.account_id), page or PageRequest(),
                        keys=[AuditEvent.created_at, AuditEvent.id],
                        descending=not filters.oldest_first)


def show_audit_event(core: Core, actor: Actor, event_id: int) -> AuditEvent:
    with core.db.read() as session:
        require_account_admin(session, actor, "view the audit log")
        return find_in_account(session, AuditEvent, actor.account_id, event_id,
                               "audit log event")
