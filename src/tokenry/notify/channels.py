"""Send one outbox row: a Slack-compatible message, a signed JSON webhook or an e-mail.

An e-mail may carry one attachment (an audit log export); no other channel ever carries one.

A sender returns on success and raises :class:`DeliveryFailed` with a short reason otherwise.
Reasons name the receiving host, never a URL path (Slack puts its secret there), a secret or
the body; HTTP answers count as success only when they are 2xx (redirects are not followed).

Generic webhook signatures
--------------------------
Each POST carries ``X-Tokenry-Event``, ``X-Tokenry-Idempotency-Key`` and
``X-Tokenry-Timestamp`` (unix seconds). When the account has a ``webhook_secret`` it also carries
``X-Tokenry-Signature: v1=<hex>``, where ``<hex>`` is HMAC-SHA256 keyed with the secret (UTF-8)
over ``f"{timestamp}.".encode() + raw_body``. To verify, recompute it over the raw bytes as
received (before any JSON parsing), compare in constant time, and reject timestamps more than
five minutes from your clock to stop replays: :func:`verify_signature` does all of this. Deliveries
are at least once, so also drop a request whose idempotency key (header and body field
``idempotency_key``) you have already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import smtplib
import ssl
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

import httpx

from tokenry.config import Settings
from tokenry.notify import slack
from tokenry.notify.destinations import DestinationRefused, check_destination
from tokenry.notify.failures import DeliveryFailed

__all__ = ["USER_AGENT", "DeliveryFailed", "Outgoing", "send", "sign", "verify_signature"]

USER_AGENT = "tokenry-notifier"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One outbox row's data, detached from the database so it can be sent outside a transaction."""

    id: int
    account_id: int
    event: str
    channel: str
    destination: str = field(repr=False)  # a Slack URL is itself a credential
    subject: str
    body: str = field(repr=False)
    payload: dict[str, Any] = field(repr=False)
    idempotency_key: str
    webhook_secret: str = field(default="", repr=False)
    private: str = field(default="", repr=False)  # opened from the sealed column at claim
    bot_token: str = field(default="", repr=False)
    sender: str = ""  # the account's From address, else TOKENRY_SMTP_FROM
    # an e-mail's one file: its name, and its content as zlib data opened from the sealed
    # column at claim (empty when it could not be opened: the e-mail is then not sent)
    attachment_name: str = ""
    attachment: bytes = field(default=b"", repr=False)

    @property
    def full_text(self) -> str:
        """What a private channel (the recipient's own inbox or DM) shows."""
        return f"{self.body}\n\n{self.private}".strip()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def verify_signature(secret: str, timestamp: str | int, body: bytes, signature: str,
                     now: datetime | float, tolerance: float = 300) -> bool:
    """Whether ``signature`` (an ``X-Tokenry-Signature`` value) signs ``body`` at ``timestamp``.

    ``now`` is an aware datetime or unix seconds. Several comma-separated ``v1=`` values are
    accepted, so a receiver can check while a secret is being rotated.
    """
    if not secret:
        return False  # an empty key would make any sender's signature "valid"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    moment = now.timestamp() if isinstance(now, datetime) else now
    if abs(moment - sent_at) > tolerance:
        return False
    expected = sign(secret, sent_at, body).encode()
    return any(hmac.compare_digest(expected, part.strip().encode())
               for part in signature.split(","))


def send(item: Outgoing, settings: Settings, client: httpx.Client, now: datetime) -> None:
    if item.channel == "slack":
        send_slack(item, client, settings.webhook_allow_private)
    elif item.channel == "slack_dm":
        slack.direct_message(client, settings.slack_api_url, item.bot_token, item.destination,
                             item.full_text)
    elif item.channel == "webhook":
        send_webhook(item, client, now, settings.webhook_allow_private)
    elif item.channel == "email":
        send_email(item, settings, now)
    else:
        raise DeliveryFailed(f"unknown channel {item.channel[:40]!r}")


def send_slack(item: Outgoing, client: httpx.Client, allow_private: bool) -> None:
    # Slack ignores the extra headers; a compatible receiver or a relay can drop repeats by them.
    headers = {"X-Tokenry-Event": item.event, "X-Tokenry-Idempotency-Key": item.idempotency_key}
    _post(client, item.destination, json.dumps({"text": slack.escape(item.body)}).encode(),
          headers, allow_private)


def send_webhook(item: Outgoing, client: httpx.Client, now: datetime,
                 allow_private: bool) -> None:
    body = json.dumps(dict(item.payload, idempotency_key=item.idempotency_key, event=item.event),
                      separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(now.timestamp())
    headers = {"X-Tokenry-Event": item.event, "X-Tokenry-Idempotency-Key": item.idempotency_key,
               "X-Tokenry-Timestamp": str(timestamp)}
    if item.webhook_secret:
        headers["X-Tokenry-Signature"] = sign(item.webhook_secret, timestamp, body)
    _post(client, item.destination, body, headers, allow_private)


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str],
          allow_private: bool) -> None:
    host = urlsplit(url).hostname or "(no host)"
    try:
        destination = check_destination(url, allow_private=allow_private)
    except DestinationRefused as refused:
        raise DeliveryFailed(f"refused: {refused}") from None
    try:
        # Connect to the address that was checked; the name still picks the virtual host
        # and is the name the TLS certificate must carry.
        response = client.post(
            destination.pinned_url(), content=body,
            headers={"Content-Type": "application/json", "Host": destination.host_header(),
                     **headers},
            extensions={"sni_hostname": destination.host})
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        # The class says enough (ConnectError, ReadTimeout ...); its text might quote the URL.
        raise DeliveryFailed(f"{type(error).__name__} contacting {host}") from None
    if not response.is_success:
        # The answer's body is left out: a receiver may echo what it was sent.
        raise DeliveryFailed(f"HTTP {response.status_code} from {host}")


def send_email(item: Outgoing, settings: Settings, now: datetime) -> None:
    if not settings.smtp_host:
        raise DeliveryFailed("SMTP is not configured (smtp_host is empty)")
    message = EmailMessage()
    try:
        message["From"] = item.sender or settings.smtp_from
        message["To"] = item.destination
        message["Subject"] = " ".join(item.subject.split())  # no header injection by newline
        message["Date"] = format_datetime(now)
        message["Message-ID"] = _message_id(item.idempotency_key,
                                            item.sender or settings.smtp_from)
        message["X-Tokenry-Idempotency-Key"] = item.idempotency_key
        message["X-Tokenry-Event"] = item.event
        message.set_content(item.full_text)
        if item.attachment_name:
            _attach(message, item)
    except (ValueError, TypeError) as error:
        raise DeliveryFailed(f"could not build the e-mail: {type(error).__name__}") from None
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=settings.notification_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() \
                    if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        # SMTP errors quote the server's reply, never the password we sent.
        raise DeliveryFailed(f"SMTP {type(error).__name__} via {settings.smtp_host}: "
                             f"{str(error)[:300]}") from None


def _attach(message: EmailMessage, item: Outgoing) -> None:
    if not item.attachment:
        raise DeliveryFailed(f"the attachment {item.attachment_name[:80]!r} cannot be opened "
                             "with this server secret")
    try:
        content = zlib.decompress(item.attachment)
    except zlib.error:
        raise DeliveryFailed("the attachment is damaged (not zlib data)") from None
    kind, _ = mimetypes.guess_type(item.attachment_name)
    maintype, _, subtype = (kind or "application/octet-stream").partition("/")
    params = {"charset": "utf-8"} if maintype == "text" else {}
    message.add_attachment(content, maintype=maintype, subtype=subtype,
                           filename=item.attachment_name, params=params)


def _message_id(key: str, sender: str) -> str:
    """The same ``Message-ID`` for every attempt, so mail systems can drop a repeat too."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tokenry.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"
