"""Queue a notification inside the caller's transaction.

One event becomes one outbox row per channel and recipient: an e-mail to each recipient
(when SMTP is configured and the account allows it), one Slack-compatible message and one
signed JSON webhook (when the account has set their URLs). Each row has an idempotency key
derived from the event, so queueing the same event twice (a rerun job, a retried request)
adds nothing, and receivers can drop a repeat delivery by that key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.storage.models import Notification, User
from tokenry.storage.queries import account_settings
from tokenry.storage.upsert import insert_ignoring_duplicates


@dataclass(frozen=True)
class Message:
    """What to say. ``private`` is extra text only for the recipients' own inboxes and the
    signed webhook (a delivery link, never a token), not for a shared Slack channel."""

    event: str
    key: str
    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    private: str = ""


def has_private_channel(session: Session, core: Core, account_id: int) -> bool:
    settings = account_settings(session, account_id)
    return bool((core.settings.smtp_host and settings.notify_email) or settings.webhook_url)


def enqueue(session: Session, core: Core, account_id: int, message: Message,
            recipients: Sequence[User]) -> None:
    settings = account_settings(session, account_id)
    now = core.clock()
    base = {"account_id": account_id, "event": message.event, "subject": message.subject[:255],
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
    rows: list[dict[str, Any]] = []
    full_text = f"{message.text}\n\n{message.private}".strip()
    if core.settings.smtp_host and settings.notify_email:
        rows += [dict(base, channel="email", destination=user.email, body=full_text,
                      payload={}, idempotency_key=f"{message.key}:email:{user.id}")
                 for user in recipients]
    if settings.slack_webhook_url:
        rows.append(dict(base, channel="slack", destination=settings.slack_webhook_url,
                         body=message.text, payload={},
                         idempotency_key=f"{message.key}:slack"))
    if settings.webhook_url:
        payload = dict(message.data, event=message.event, subject=message.subject,
                       text=full_text, recipients=[u.email for u in recipients])
        rows.append(dict(base, channel="webhook", destination=settings.webhook_url,
                         body=full_text, payload=payload,
                         idempotency_key=f"{message.key}:webhook"))
    insert_ignoring_duplicates(session, Notification, rows, ["idempotency_key"])
