"""Preview the jobs: what every job would do at a given moment, changing nothing.

The real jobs run, with the clock set to that moment, inside one outer database transaction;
each job's own transactions become savepoints within it. The audit events and notifications
they would have written are read back, and then everything is rolled back: no row changes,
nothing is sent, and no other node hears of it (identity-change signals are not sent).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.jobs.runner import JobReport, run_jobs
from tokenry.storage.database import Database
from tokenry.storage.models import AuditEvent, Notification


@dataclass(frozen=True)
class PreviewItem:
    account_id: int
    what: str  # "audit" or "notify"
    summary: str


@dataclass(frozen=True)
class Preview:
    at: datetime
    report: JobReport
    items: list[PreviewItem]


class _Joined(Database):
    """The real database, seen through one connection whose transaction is rolled back."""

    def __init__(self, base: Database, connection: Connection) -> None:
        self.url, self.engine, self.read_engine = base.url, base.engine, base.read_engine
        self._connection = connection

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(bind=self._connection, join_transaction_mode="create_savepoint",
                     expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.transaction() as session:
            yield session


def preview_jobs(core: Core, at: datetime) -> Preview:
    with core.db.engine.connect() as connection:
        outer = connection.begin()
        try:
            last_event = connection.scalar(select(func.max(AuditEvent.id))) or 0
            last_note = connection.scalar(select(func.max(Notification.id))) or 0
            shadow = replace(core, db=_Joined(core.db, connection), clock=lambda: at)
            report = run_jobs(shadow)
            events = connection.execute(
                select(AuditEvent.account_id, AuditEvent.change_description)
                .where(AuditEvent.id > last_event).order_by(AuditEvent.id)).all()
            notes = connection.execute(
                select(Notification.account_id, Notification.channel,
                       Notification.destination, Notification.subject)
                .where(Notification.id > last_note).order_by(Notification.id)).all()
        finally:
            outer.rollback()
    items = [PreviewItem(account, "audit", text) for account, text in events]
    items += [PreviewItem(account, "notify",
                          f"{subject} -> {channel} {_shown(channel, destination)}")
              for account, channel, destination, subject in notes]
    return Preview(at=at, report=report, items=items)


def _shown(channel: str, destination: str) -> str:
    # a webhook URL can carry a credential in its path; e-mail addresses are fine to show
    return destination if channel in ("email", "slack_dm") else "(the account's URL)"
