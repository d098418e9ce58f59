"""Deliver the outbox: claim due rows, send each outside any transaction, record the outcome.

:func:`deliver_due` runs three steps, each short:

1. **Claim** (one transaction): due rows (``pending`` and ``next_attempt_at <= now``) are
   locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already
   serialises writers) and leased by moving ``next_attempt_at`` to the end of the lease. No other
   worker sees them until then, and a crashed worker's rows come back when it ends.
2. **Send** with no transaction open, so a slow receiver never holds a lock or a connection.
   Sends start only in the first half of the lease, so the last one ends before the lease does.
3. **Record** (one transaction per row): ``sent``; or a failure, retried after an exponential
   backoff with jitter, until ``notification_max_attempts`` failures make the row ``dead``.
   The outcome is written only while this worker still holds the row's lease.

Delivery is at least once: a crash between a send and its record sends the row again after the
lease. Every delivery therefore carries the row's idempotency key (webhook header and body field,
e-mail header and a ``Message-ID`` derived from it), so receivers drop the repeat.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy import select

from tokenry.config import Settings
from tokenry.core import Core
from tokenry.notify.channels import USER_AGENT, DeliveryFailed, Outgoing, send
from tokenry.storage.models import Notification
from tokenry.storage.queries import account_settings

log = logging.getLogger("tokenry.notify")

BASE_DELAY = 30.0  # seconds before the first retry; doubles with each failure
MAX_DELAY = 6 * 3600.0
MIN_LEASE = 300.0
Outcome = Literal["sent", "failed", "dead"]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # failures that will be retried
    dead: int = 0  # failures that used up the last attempt


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[Outgoing]
    lease_until: datetime


def lease_length(settings: Settings) -> timedelta:
    # Room for several timeouts (connect, write, read, SMTP dialogue) after the last send starts.
    return timedelta(seconds=max(MIN_LEASE, 10 * settings.notification_timeout))


def backoff(attempts: int, jitter: float | None = None) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s doubling, capped at 6 h.

    The +-20 % jitter keeps rows that failed together (one receiver down) from retrying in step.
    """
    spread = random.uniform(0.8, 1.2) if jitter is None else jitter  # noqa: S311 - not security
    seconds = BASE_DELAY * 2.0 ** min(attempts - 1, 30)
    return timedelta(seconds=min(seconds * spread, MAX_DELAY))


def deliver_due(core: Core, *, limit: int = 100) -> DeliveryReport:
    report = DeliveryReport()
    batch = claim_due(core, limit=limit)
    if not batch.items:
        return report
    started, budget = time.monotonic(), lease_length(core.settings).total_seconds() / 2
    with httpx.Client(timeout=core.settings.notification_timeout,
                      headers={"User-Agent": USER_AGENT}) as client:
        for item in batch.items:
            if time.monotonic() - started > budget:
                break  # the rest come back to a worker when their lease ends
            outcome = record(core, item, batch.lease_until, _attempt(core, item, client))
            if outcome is not None:
                setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def claim_due(core: Core, *, limit: int = 100) -> Batch:
    now = core.clock()
    lease_until = now + lease_length(core.settings)
    with core.db.transaction() as session:
        rows = session.scalars(
            select(Notification)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        webhook_secrets = {account_id: account_settings(session, account_id).webhook_secret
                   for account_id in {row.account_id for row in rows if row.channel == "webhook"}}
        items = []
        for row in rows:
            row.next_attempt_at = lease_until
            items.append(Outgoing(
                id=row.id, account_id=row.account_id, event=row.event, channel=row.channel,
                destination=row.destination, subject=row.subject, body=row.body,
                payload=dict(row.payload or {}), idempotency_key=row.idempotency_key,
                webhook_secret=webhook_secrets.get(row.account_id, "")))
    return Batch(items, lease_until)


def _attempt(core: Core, item: Outgoing, client: httpx.Client) -> str | None:
    """None when delivered, else the reason it was not."""
    try:
        send(item, core.settings, client, core.clock())
    except DeliveryFailed as failure:
        return failure.reason
    except Exception as error:  # a sender's bug must not strand the rest of the batch
        # Only the class: an unexpected message might quote a URL or a secret.
        log.error("notification %s: unexpected %s in the %s sender",
                  item.id, type(error).__name__, item.channel)
        return f"unexpected error ({type(error).__name__})"
    return None


def record(core: Core, item: Outgoing, lease_until: datetime,
           error: str | None) -> Outcome | None:
    """Write one attempt's outcome; None when the lease had already passed to another worker."""
    now = core.clock()
    with core.db.transaction() as session:
        row = session.scalars(
            select(Notification)
            .where(Notification.id == item.id, Notification.status == "pending",
                   Notification.next_attempt_at == lease_until)
            .with_for_update()
        ).one_or_none()
        if row is None:
            log.warning("notification %s: lease ended before the outcome was recorded", item.id)
            return None
        row.attempts += 1
        if error is None:
            row.status, row.sent_at = "sent", now
            return "sent"
        row.last_error = error[:500]
        if row.attempts >= core.settings.notification_max_attempts:
            row.status = "dead"
            log.error("notification %s (%s) is dead after %s attempts: %s",
                      item.id, item.channel, row.attempts, row.last_error)
            return "dead"
        row.next_attempt_at = now + backoff(row.attempts)
        log.warning("notification %s (%s) failed, attempt %s, retry at %s: %s", item.id,
                    item.channel, row.attempts, row.next_attempt_at.isoformat(), row.last_error)
        return "failed"
