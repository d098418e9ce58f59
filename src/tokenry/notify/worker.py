"""Deliver the outbox: claim due rows, send each outside any transaction, record the outcome.

:func:`deliver_due` runs three steps, each short:

1. **Claim** (one transaction): due rows (``pending`` and ``next_attempt_at <= now``) are
   locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already
   serialises writers) and leased by moving ``next_attempt_at`` to the end of the lease and
   naming this node in ``leased_by``. Every account with due rows gets its share of the batch,
   so one account's backlog never starves another's. No other worker sees the rows until the
   lease ends; a node that restarts after a crash takes its own leased rows back at once
   (:func:`release_own_leases`), and other nodes pick them up when the lease (one minute by
   default) runs out.
2. **Send** with no transaction open, so a slow receiver never holds a lock or a connection.
   Sends start only in the first half of the lease, so the last one ends before the lease does.
   Once a destination fails, the batch's other rows for it are put back for later without
   waiting on it again, so a dead receiver costs one timeout per round, not one per row.
3. **Record** (one transaction per row): ``sent``; or a failure, retried after an exponential
   backoff with jitter, until ``notification_max_attempts`` failures make the row ``dead``.
   The outcome is written only while this worker still holds the row's lease. A sent or dead
   row's sealed private part and attachment are erased in that same transaction.

Delivery is at least once: a crash between a send and its record sends the row again after the
lease. Every delivery therefore carries the row's idempotency key (webhook header and body field,
e-mail header and a ``Message-ID`` derived from it), so receivers drop the repeat.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, zip_longest
from typing import Literal

import httpx
from sqlalchemy import select, update

from tokenry.config import Settings
from tokenry.core import Core
from tokenry.domain import sealed
from tokenry.notify.channels import USER_AGENT, DeliveryFailed, Outgoing, send
from tokenry.storage.models import Notification
from tokenry.storage.queries import account_settings

log = logging.getLogger("tokenry.notify")

BASE_DELAY = 30.0  # seconds before the first retry; doubles with each failure
MAX_DELAY = 6 * 3600.0
MIN_LEASE = 60.0
PER_ACCOUNT_SHARE = 10  # rows per account per batch, at least
Outcome = Literal["sent", "failed", "dead"]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # failures that will be retried
    dead: int = 0  # failures that used up the last attempt
    deferred: int = 0  # not tried: their destination had just failed


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[Outgoing]
    lease_until: datetime


def lease_length(settings: Settings) -> timedelta:
    # Room for several timeouts (connect, write, read, SMTP dialogue) after the last send starts.
    return timedelta(seconds=max(MIN_LEASE, 6 * settings.notification_timeout))


def node_id(settings: Settings) -> str:
    return (settings.node_id or socket.gethostname() or "tokenry")[:64]


def release_own_leases(core: Core) -> int:
    """At start-up: rows this node leased before it stopped are due again at once."""
    with core.db.transaction() as session:
        result = session.execute(
            update(Notification)
            .where(Notification.status == "pending",
                   Notification.leased_by == node_id(core.settings),
                   Notification.next_attempt_at > core.clock())
            .values(next_attempt_at=core.clock(), leased_by=None))
    return int(getattr(result, "rowcount", 0) or 0)


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
    failing: set[tuple[str, str]] = set()
    with httpx.Client(timeout=core.settings.notification_timeout,
                      headers={"User-Agent": USER_AGENT}) as client:
        for item in batch.items:
            if time.monotonic() - started > budget:
                break  # the rest come back to a worker when their lease ends
            target = (item.channel, item.destination)
            if target in failing:
                put_back(core, item, batch.lease_until)
                report.deferred += 1
                continue
            error = _attempt(core, item, client)
            if error is not None:
                failing.add(target)
            outcome = record(core, item, batch.lease_until, error)
            if outcome in ("failed", "dead"):
                core.metrics.notification_failures.labels(item.channel, outcome).inc()
            if outcome is not None:
                setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def claim_due(core: Core, *, limit: int = 100) -> Batch:
    now = core.clock()
    lease_until = now + lease_length(core.settings)
    due = (Notification.status == "pending", Notification.next_attempt_at <= now)
    with core.db.transaction() as session:
        accounts = list(session.scalars(
            select(Notification.account_id).where(*due).distinct().limit(limit)))
        share = max(PER_ACCOUNT_SHARE, limit // max(1, len(accounts)))
        per_account = [session.scalars(
            select(Notification).where(*due, Notification.account_id == account_id)
            .order_by(Notification.next_attempt_at, Notification.id).limit(share)
            .with_for_update(skip_locked=True)).all() for account_id in accounts]
        # Round-robin across accounts, so each one's first rows go out before anyone's tenth.
        rows = [row for row in chain.from_iterable(zip_longest(*per_account)) if row][:limit]
        secrets = {account_id: account_settings(session, account_id)
                   for account_id in {row.account_id for row in rows}}
        items = []
        for row in rows:
            row.next_attempt_at, row.leased_by = lease_until, node_id(core.settings)
            policy = secrets[row.account_id]
            items.append(Outgoing(
                id=row.id, account_id=row.account_id, event=row.event, channel=row.channel,
                destination=row.destination, subject=row.subject, body=row.body,
                payload=dict(row.payload or {}), idempotency_key=row.idempotency_key,
                webhook_secret=sealed.open_setting(core.keyring, policy.webhook_secret),
                bot_token=sealed.open_setting(core.keyring, policy.slack_bot_token),
                private=_private(core, row), sender=policy.mail_from,
                attachment_name=row.attachment_name or "",
                attachment=_attachment(core, row)))
    return Batch(items, lease_until)


def _private(core: Core, row: Notification) -> str:
    if not row.sealed:
        return ""
    opened = sealed.unseal(core.keyring, sealed.OUTBOX, row.sealed)
    if opened is None:  # sealed under another server secret: the notice goes out without it
        log.error("notification %s: its private part cannot be opened with this server secret",
                  row.id)
    return opened or ""


def _attachment(core: Core, row: Notification) -> bytes:
    if not row.attachment_name or not row.attachment:
        return b""
    opened = sealed.unseal_bytes(core.keyring, sealed.ATTACHMENT, row.attachment)
    if opened is None:  # the sender then refuses to send an e-mail without its file
        log.error("notification %s: its attachment cannot be opened with this server secret",
                  row.id)
    return opened or b""


def put_back(core: Core, item: Outgoing, lease_until: datetime) -> None:
    """Return a leased row unsent and without counting an attempt (its receiver is failing)."""
    with core.db.transaction() as session:
        session.execute(
            update(Notification)
            .where(Notification.id == item.id, Notification.status == "pending",
                   Notification.next_attempt_at == lease_until)
            .values(next_attempt_at=core.clock() + backoff(1), leased_by=None))


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
        row.leased_by = None
        if error is None:
            row.status, row.sent_at, row.sealed, row.attachment = "sent", now, None, None
            return "sent"
        row.last_error = error[:500]
        if row.attempts >= core.settings.notification_max_attempts:
            row.status, row.sealed, row.attachment = "dead", None, None
            log.error("notification %s (%s) is dead after %s attempts: %s",
                      item.id, item.channel, row.attempts, row.last_error)
            return "dead"
        row.next_attempt_at = now + backoff(row.attempts)
        log.warning("notification %s (%s) failed, attempt %s, retry at %s: %s", item.id,
                    item.channel, row.attempts, row.next_attempt_at.isoformat(), row.last_error)
        return "failed"
