"""The notification worker against real local receivers: Slack, signed webhooks and SMTP."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.conftest import Clock
from tests.receivers import HttpReceiver, Received, SmtpReceiver
from tokenry.core import Core
from tokenry.notify.channels import send, verify_signature
from tokenry.notify.outbox import Message, enqueue
from tokenry.notify.worker import backoff, claim_due, deliver_due, lease_length, record
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.bootstrap import bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.storage.models import Notification

MAX_ATTEMPTS = 3
WEBHOOK_SECRET = "whsec-test-0123456789"
SLACK_PATH = "/services/T000/B000/slack-url-secret"
SMTP_USER = "mailer"
SMTP_PASSWORD = "smtp-password-do-not-log"
SIGNATURE = "\n\n-- Default account (http://testserver)"




@pytest.fixture
def settings_overrides(smtp: SmtpReceiver) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_from": "tokenry@example.com",
            "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD,
            "notification_max_attempts": MAX_ATTEMPTS, "notification_timeout": 5}


@pytest.fixture
def webhooks(core: Core, admin_actor: Actor, hooks: HttpReceiver) -> HttpReceiver:
    """The account sends Slack messages and signed webhooks to the local HTTP receiver."""
    update_account_settings(core, admin_actor, {
        "slack_webhook_url": hooks.url(SLACK_PATH), "webhook_url": hooks.url("/hooks/tokenry"),
        "webhook_secret": WEBHOOK_SECRET})
    return hooks


def message(n: int = 1, private: str = "") -> Message:
    return Message(event="token.expiring", key=f"token:{n}:expiring", subject=f"Token {n} expires",
                   text=f"Token {n} expires tomorrow.", data={"token_id": n}, private=private)


def queue(core: Core, *messages: Message, email: bool = False) -> None:
    admin = bootstrap_admin(core)
    assert admin is not None
    with core.db.transaction() as session:
        for each in messages:
            enqueue(session, core, admin.account_id, each, [admin] if email else [])


def rows(core: Core, channel: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if channel is not None:
        query = query.where(Notification.channel == channel)
    with core.db.read() as session:
        return list(session.scalars(query))


def by_path(receiver: HttpReceiver, path: str) -> list[Received]:
    return [r for r in receiver.requests if r.path == path]


def test_slack_message_posts_the_text_as_json(core: Core, webhooks: HttpReceiver) -> None:
    queue(core, message(private="https://testserver/d/one-time-link"))
    report = deliver_due(core)
    assert (report.sent, report.failed, report.dead) == (2, 0, 0)
    [slack] = by_path(webhooks, SLACK_PATH)
    # the private link stays out; the instance signs every message
    assert slack.json() == {"text": f"Token 1 expires tomorrow.{SIGNATURE}"}
    assert slack.headers["content-type"] == "application/json"
    assert {row.status for row in rows(core)} == {"sent"}
    assert all(row.sent_at == core.clock() and row.attempts == 1 for row in rows(core))


def test_webhook_is_signed_with_the_account_secret(
    core: Core, webhooks: HttpReceiver, clock: Clock
) -> None:
    queue(core, message(private="https://testserver/d/one-time-link"))
    deliver_due(core)
    [hook] = by_path(webhooks, "/hooks/tokenry")
    timestamp, signature = hook.headers["x-tokenry-timestamp"], hook.headers["x-tokenry-signature"]
    assert verify_signature(WEBHOOK_SECRET, timestamp, hook.body, signature, clock.now)
    assert hook.headers["x-tokenry-idempotency-key"] == "token:1:expiring:webhook"
    assert hook.headers["x-tokenry-event"] == "token.expiring"
    body = hook.json()
    assert body["idempotency_key"] == "token:1:expiring:webhook" and body["token_id"] == 1
    assert body["event"] == "token.expiring"
    assert body["text"] == f"Token 1 expires tomorrow.{SIGNATURE}"
    assert "one-time-link" not in hook.body.decode()  # a shared channel: notice only
    # what a receiver must refuse: another secret, a changed body, a replay ten minutes later
    assert not verify_signature("another-secret", timestamp, hook.body, signature, clock.now)
    assert not verify_signature(WEBHOOK_SECRET, timestamp, hook.body + b" ", signature, clock.now)
    assert not verify_signature(WEBHOOK_SECRET, timestamp, hook.body, signature,
                                clock.now + timedelta(minutes=10))


def test_webhook_without_a_secret_is_sent_unsigned(
    core: Core, admin_actor: Actor, webhooks: HttpReceiver
) -> None:
    update_account_settings(core, admin_actor, {"webhook_secret": ""})
    queue(core, message())
    deliver_due(core)
    [hook] = by_path(webhooks, "/hooks/tokenry")
    assert "x-tokenry-signature" not in hook.headers
    assert hook.headers["x-tokenry-idempotency-key"] == "token:1:expiring:webhook"


def test_email_reaches_the_recipient_with_subject_body_and_idempotency_key(
    core: Core, smtp: SmtpReceiver
) -> None:
    queue(core, message(private="Your link: https://testserver/d/one-time-link"), email=True)
    assert deliver_due(core).sent == 1
    [mail] = smtp.messages
    assert mail.recipients == ["admin@example.com"] and mail.login == SMTP_USER
    assert mail.message["Subject"] == "[Default account] Token 1 expires"
    assert mail.message["From"] == "tokenry@example.com"
    [row] = rows(core, "email")
    assert mail.message["X-Tokenry-Idempotency-Key"] == row.idempotency_key
    assert mail.message["Message-ID"].endswith("@example.com>")
    body = mail.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Token 1 expires tomorrow." in text and "one-time-link" in text


def test_receiver_answering_500_keeps_the_row_pending_with_backoff(
    core: Core, webhooks: HttpReceiver, clock: Clock
) -> None:
    webhooks.status = 500
    queue(core, message())
    report = deliver_due(core)
    assert (report.sent, report.failed, report.dead) == (0, 2, 0)
    for row in rows(core):
        assert row.status == "pending" and row.attempts == 1
        assert row.last_error == "HTTP 500 from 127.0.0.1"
        assert clock.now + timedelta(seconds=24) <= row.next_attempt_at
        assert row.next_attempt_at <= clock.now + timedelta(seconds=36)
    assert deliver_due(core).failed == 0  # not due yet: nothing is sent before the backoff


def test_receiver_that_is_down_is_retried_and_delivered_when_it_is_back(
    core: Core, webhooks: HttpReceiver, clock: Clock
) -> None:
    webhooks.stop()
    queue(core, message())
    assert deliver_due(core).failed == 2
    assert all(r.last_error == "ConnectError contacting 127.0.0.1" for r in rows(core))
    webhooks.start()
    clock.now = max(row.next_attempt_at for row in rows(core))
    assert deliver_due(core).sent == 2
    assert [(r.status, r.attempts) for r in rows(core)] == [("sent", 2), ("sent", 2)]
    assert len(webhooks.requests) == 2


def test_row_is_dead_after_max_attempts(
    core: Core, webhooks: HttpReceiver, clock: Clock
) -> None:
    webhooks.status = 503
    queue(core, message())
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        assert deliver_due(core).failed == 2
        [first, _second] = rows(core)
        waits.append(first.next_attempt_at - clock.now)
        clock.now = max(row.next_attempt_at for row in rows(core))
    assert deliver_due(core).dead == 2
    assert waits[1] > waits[0]  # the backoff grows
    assert all(r.status == "dead" and r.attempts == MAX_ATTEMPTS for r in rows(core))
    clock.now += timedelta(days=30)
    webhooks.status = 200
    assert deliver_due(core).sent == 0
    assert len(webhooks.requests) == 2 * MAX_ATTEMPTS


def test_rows_claimed_by_a_crashed_worker_return_after_the_lease(
    core: Core, webhooks: HttpReceiver, clock: Clock
) -> None:
    queue(core, message())
    assert len(claim_due(core).items) == 2  # ... and the worker dies before sending
    assert deliver_due(core).sent == 0  # another worker leaves leased rows alone
    assert webhooks.requests == []
    clock.now += lease_length(core.settings)
    assert deliver_due(core).sent == 2


def test_a_worker_whose_lease_ran_out_does_not_overwrite_the_outcome(
    core: Core, webhooks: HttpReceiver, clock: Clock
) -> None:
    queue(core, message())
    stalled = claim_due(core)
    clock.now += lease_length(core.settings)
    current = claim_due(core)  # another worker takes the rows over, and is still sending
    assert record(core, stalled.items[0], stalled.lease_until, "HTTP 500 from late") is None
    assert record(core, current.items[0], current.lease_until, None) == "sent"
    first = rows(core)[0]
    assert (first.status, first.attempts, first.last_error) == ("sent", 1, None)


def test_a_resend_after_a_crash_carries_the_same_idempotency_key(
    core: Core, webhooks: HttpReceiver, clock: Clock
) -> None:
    queue(core, message())
    batch = claim_due(core)
    with httpx.Client() as client:
        for item in batch.items:
            send(item, core.settings, client, clock.now)  # sent, then a crash: nothing recorded
    clock.now += lease_length(core.settings)
    assert deliver_due(core).sent == 2
    keys = Counter(r.headers["x-tokenry-idempotency-key"] for r in webhooks.requests)
    assert keys == {"token:1:expiring:slack": 2, "token:1:expiring:webhook": 2}
    # a receiver that remembers keys keeps exactly one of each
    first = {r.headers["x-tokenry-idempotency-key"]: r.body for r in reversed(webhooks.requests)}
    assert set(first) == set(keys)


def test_a_resent_email_repeats_its_message_id(
    core: Core, smtp: SmtpReceiver, clock: Clock
) -> None:
    queue(core, message(), email=True)
    deliver_due(core)
    with core.db.transaction() as session:  # as if the worker died before recording the send
        session.execute(update(Notification).values(status="pending", sent_at=None,
                                                    next_attempt_at=clock.now))
    deliver_due(core)
    first, second = (mail.message for mail in smtp.messages)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["X-Tokenry-Idempotency-Key"] == second["X-Tokenry-Idempotency-Key"]


def test_enqueueing_the_same_message_twice_adds_no_row(
    core: Core, webhooks: HttpReceiver, smtp: SmtpReceiver
) -> None:
    queue(core, message(), email=True)
    queue(core, message(), email=True)
    assert sorted(row.channel for row in rows(core)) == ["email", "slack", "webhook"]
    deliver_due(core)
    queue(core, message(), email=True)  # even after delivery
    assert deliver_due(core).sent == 0
    assert len(webhooks.requests) == 2 and len(smtp.messages) == 1


def test_delivering_twice_sends_each_row_once(core: Core, webhooks: HttpReceiver) -> None:
    queue(core, message(1), message(2))
    assert deliver_due(core).sent == 4
    assert deliver_due(core).sent == 0
    assert len(webhooks.requests) == 4


def test_concurrent_workers_never_send_a_row_twice(core: Core, webhooks: HttpReceiver) -> None:
    webhooks.delay = 0.05
    queue(core, *(message(n) for n in range(6)))
    sent: list[int] = []

    def worker() -> None:
        while (report := deliver_due(core, limit=1)).sent:
            sent.append(report.sent)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    keys = Counter(r.headers["x-tokenry-idempotency-key"] for r in webhooks.requests)
    assert len(keys) == 12 and set(keys.values()) == {1}
    assert sum(sent) == 12 and {r.status for r in rows(core)} == {"sent"}


def test_failures_are_logged_without_secrets(
    core: Core, webhooks: HttpReceiver, smtp: SmtpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    webhooks.status = 500
    smtp.stop()  # the mail server is down too
    queue(core, message(private="https://testserver/d/one-time-link"), email=True)
    with caplog.at_level(logging.WARNING, logger="tokenry.notify"):
        assert deliver_due(core).failed == 3
    [mail] = rows(core, "email")
    assert mail.last_error is not None and mail.last_error.startswith("SMTP ConnectionRefused")
    recorded = caplog.text + " ".join(str(r.last_error) for r in rows(core))
    assert recorded.count("failed, attempt 1") == 3
    for secret in (WEBHOOK_SECRET, SLACK_PATH, SMTP_PASSWORD, "one-time-link"):
        assert secret not in recorded


def test_backoff_doubles_from_30_seconds_and_stops_at_6_hours() -> None:
    assert [backoff(n, jitter=1.0).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(20, jitter=1.0) == backoff(99, jitter=1.2) == timedelta(hours=6)
    assert all(timedelta(seconds=24) <= backoff(1) <= timedelta(seconds=36) for _ in range(50))


def test_signature_check_refuses_an_empty_secret_or_a_malformed_header() -> None:
    assert not verify_signature("", "1700000000", b"{}", "v1=", 1700000000.0)
    assert not verify_signature("s", "soon", b"{}", "v1=00", 1700000000.0)
    assert not verify_signature("s", "1700000000", b"{}", "v1=\u00e9", 1700000000.0)
