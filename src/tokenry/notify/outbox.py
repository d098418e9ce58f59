"""Queue a notification inside the caller's transaction.

One event becomes one outbox row per channel and recipient:

- an e-mail to each recipient (when SMTP is configured and the account allows it);
- a Slack direct message to each recipient of a message with a private part (when the
  account has a Slack bot token);
- one message to the account's shared Slack channel and one signed JSON webhook (when the
  account has set their URLs). Shared channels get the notice only, never the private part.

The private part (a one-time delivery link) is stored only encrypted, in ``sealed``, with a
key derived from the server secret, and the worker erases it once the row is sent or dead.
A message may carry one file (an audit log export). Only the e-mail rows get it, compressed
and sealed the same way in ``attachment``, and erased the same way; Slack direct messages get
the text alone, and shared channels never see the file.
Each row has an idempotency key derived from the event, so queueing the same event twice (a
rerun job, a retried request) adds nothing, and receivers can drop a repeat delivery by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import sealed as sealed_text
from tokenry.storage.models import Notification, User
from tokenry.storage.queries import account_settings, instance_identity
from tokenry.storage.upsert import insert_ignoring_duplicates


@dataclass(frozen=True)
class Attachment:
    """One file for the recipients' e-mails. ``compressed`` is its content as zlib data, so an
    export of many rows is never held or stored uncompressed."""

    filename: str
    compressed: bytes = field(repr=False)


@dataclass(frozen=True)
class Message:
    """What to say. ``private`` is extra text for the recipients' own inboxes and Slack direct
    messages only (a delivery link, never a token); shared channels never get it."""

    event: str
    key: str
    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    private: str = ""
    attachment: Attachment | None = None  # for e-mails only


def email_problem(session: Session, core: Core, account_id: int) -> str | None:
    """Why e-mail cannot reach the account's users, in words that say what to configure; None
    when it can."""
    if not core.settings.smtp_host:
        return "e-mail is not configured on this server (set TOKENRY_SMTP_HOST)"
    if not account_settings(session, account_id).notify_email:
        return "e-mail notifications are off for this account (turn on the notify_email setting)"
    return None


def has_private_channel(session: Session, core: Core, account_id: int) -> bool:
    """Whether a delivery link can reach its holder alone: their e-mail or a Slack DM."""
    settings = account_settings(session, account_id)
    return bool((core.settings.smtp_host and settings.notify_email) or settings.slack_bot_token)


def enqueue(session: Session, core: Core, account_id: int, message: Message,
            recipients: Sequence[User]) -> None:
    settings = account_settings(session, account_id)
    now = core.clock()
    name, base_url = instance_identity(session, account_id, core.settings.base_url)
    # Every message names its instance, so two tokenry instances are never confused.
    subject = f"[{name}] {message.subject}" if name else message.subject
    text = f"{message.text}\n\n-- {name or 'tokenry'} ({base_url})"
    base = {"account_id": account_id, "event": message.event, "subject": subject[:255],
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
            "body": text, "sealed": None, "payload": {},
            "attachment_name": None, "attachment": None}
    sealed = sealed_text.seal(core.keyring, sealed_text.OUTBOX, message.private) \
        if message.private else None
    attached: dict[str, Any] = {}
    if message.attachment is not None:
        attached = {"attachment_name": message.attachment.filename[:255],
                    "attachment": sealed_text.seal_bytes(core.keyring, sealed_text.ATTACHMENT,
                                                         message.attachment.compressed)}
    rows: list[dict[str, Any]] = []
    if core.settings.smtp_host and settings.notify_email:
        rows += [dict(base, channel="email", destination=user.email, sealed=sealed,
                      idempotency_key=f"{message.key}:email:{user.id}", **attached)
                 for user in recipients]
    if settings.slack_bot_token and sealed is not None:
        rows += [dict(base, channel="slack_dm", destination=user.email, sealed=sealed,
                      idempotency_key=f"{message.key}:slack_dm:{user.id}")
                 for user in recipients]
    if settings.slack_webhook_url:
        rows.append(dict(base, channel="slack", destination=settings.slack_webhook_url,
                         idempotency_key=f"{message.key}:slack"))
    if settings.webhook_url:
        payload = dict(message.data, event=message.event, subject=subject, text=text,
                       instance={"name": name, "base_url": base_url},
                       recipients=[u.email for u in recipients])
        rows.append(dict(base, channel="webhook", destination=settings.webhook_url,
                         payload=payload, idempotency_key=f"{message.key}:webhook"))
    insert_ignoring_duplicates(session, Notification, rows, ["idempotency_key"])
