"""``tokenry.client`` against a real server (uvicorn on loopback), and in step with the
OpenAPI document. The clients here are strict: an answer with a field the schemas do not
name fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL
from tests.governance_people import PASSWORD, People, cast
from tests.live import live_server
from tests.receivers import SlackStandIn, SmtpReceiver
from tokenry import client as sdk
from tokenry.client import TokenryClient
from tokenry.core import Core
from tokenry.http.app import create_app
from tokenry.notify.worker import deliver_due
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor


@pytest.fixture
def settings_overrides(smtp: SmtpReceiver, slack: SlackStandIn) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "scheduler_enabled": False,
            "slack_api_url": slack.api_url}


@pytest.fixture
def server(core: Core) -> Iterator[str]:
    with live_server(core) as url:
        yield url


@pytest.fixture
def admin(server: str, admin_secret: str) -> Iterator[TokenryClient]:
    with TokenryClient(server, email=ADMIN_EMAIL, token=admin_secret, strict=True) as client:
        yield client


@pytest.fixture
def people(core: Core, admin_actor: Actor, slack: SlackStandIn) -> People:
    cast_ = cast(core, admin_actor)
    for email in (cast_.requester, cast_.manager, cast_.provisioner):
        slack.add_user(email)
    return cast_


def as_person(server: str, email: str) -> TokenryClient:
    return TokenryClient(server, email=email, password=PASSWORD, strict=True)


def test_an_admin_manages_tokens_over_several_pages(admin: TokenryClient) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    created = [admin.create_api_token(f"Export {n}", expires_at=later if n else None)
               for n in range(4)]
    assert created[0].token.startswith("tkry_") and "*" not in created[0].token
    assert admin.show_api_token(created[1].id).token.endswith("****")
    assert admin.show_api_token(created[1].id).expires_at is not None
    first = admin.list_api_tokens(per_page=2, include_users=True)
    assert first.count == 5 and first.next_page and len(first.api_tokens) == 2
    assert first.users is not None and first.users[0].email == ADMIN_EMAIL
    every = list(admin.iter_api_tokens(page_size=2))  # three pages
    assert sorted(t.id for t in every) == sorted({t.id for t in every}) and len(every) == 5

    off = admin.update_api_token(created[0].id, description="Retired", active=False)
    assert (off.description, off.active) == ("Retired", False)
    admin.delete_api_token(created[0].id)
    with pytest.raises(sdk.NotFound):
        admin.show_api_token(created[0].id)
    with pytest.raises(sdk.Conflict) as refused:
        admin.delete_api_token(created[1].id)  # still active
    assert refused.value.status == 409 and refused.value.error == "Conflict"
    assert refused.value.request_id and "Deactivate it first" in refused.value.description

    who = admin.verify()
    assert who.user.email == ADMIN_EMAIL and who.method == "token" and who.token is not None
    assert admin.me().email == ADMIN_EMAIL and admin.health().status == "ok"
    assert admin.ready().status == "ready" and admin.ready().checks["schema"] == "ok"


def test_an_admin_reads_users_settings_the_audit_log_and_reports(
    admin: TokenryClient, people: People
) -> None:
    users = list(admin.iter_users(page_size=2))
    assert len(users) == 6 and len({u.id for u in users}) == 6
    assert admin.list_users(per_page=2).count == 6
    agent = next(u for u in users if u.email == people.agent)
    assert admin.show_user(agent.id if agent.id else 0).role == "agent"

    settings = admin.account_settings()
    assert settings.api.api_password_access == "true" and settings.governance is not None
    changed = admin.update_account_settings({"governance": {"reminder_days": [5, 2]},
                                             "api": {"teleport": True}})
    assert changed.governance is not None and changed.governance.reminder_days == [5, 2]

    events = list(admin.iter_audit_logs(page_size=3))
    assert len(events) > 3 and len({e.id for e in events}) == len(events)
    since = datetime.now(UTC) - timedelta(hours=1)
    updates = admin.list_audit_logs(source_type="account", since=since,
                                    until=since + timedelta(hours=2), oldest_first=True)
    assert updates.audit_logs and all(e.source_type == "account" for e in updates.audit_logs)
    assert admin.show_audit_log(events[0].id) == events[0]

    assert admin.token_activity("7d").period == "7d"
    assert admin.compliance_report(unused_days=0).unused_days == 0


def test_an_admin_exports_the_audit_log_by_e_mail(
    core: Core, admin: TokenryClient, smtp: SmtpReceiver
) -> None:
    export = admin.export_audit_logs(source_type="apitoken")
    assert export.status == "queued" and export.count >= 1
    deliver_due(core)
    [mail] = [m for m in smtp.messages if m.message.get_content_type() == "multipart/mixed"]
    [attached] = list(mail.message.iter_attachments())
    assert attached.get_filename() == export.filename
    assert admin.show_audit_log(export.audit_log_id).action == "exported"


def test_an_access_request_from_filing_to_delivery(
    core: Core, server: str, people: People, smtp: SmtpReceiver
) -> None:
    removal = datetime.now(UTC).date() + timedelta(days=30)
    with as_person(server, people.requester) as requester, \
            as_person(server, people.manager) as manager, \
            as_person(server, people.provisioner) as provisioner:
        wanted = {"service_name": "Zendesk export", "purpose": "Nightly ticket export",
                  "use_case": "A script reads tickets", "removal_date": removal,
                  "admin_justification": "Only admins read all tickets"}
        filed = requester.create_access_request(**wanted)
        assert filed.state == "submitted" and filed.removal_date == removal.isoformat()
        dropped = requester.cancel_access_request(requester.create_access_request(**wanted).id)
        assert dropped.state == "cancelled"
        denied = manager.deny_access_request(requester.create_access_request(**wanted).id,
                                             "Use the read-only export instead")
        assert denied.state == "denied" and denied.denial_reason
        assert [r.id for r in requester.iter_access_requests(mine=True, page_size=2)] == [
            r.id for r in requester.list_access_requests(mine=True).access_requests]
        assert manager.approve_access_request(filed.id, stage="manager").state == \
            "manager_approved"
        issued = provisioner.approve_access_request(filed.id, stage="provisioner")
        assert issued.state == "issued" and issued.token_id is not None
        assert "BEGIN:VCALENDAR" in requester.request_calendar(filed.id)
        assert provisioner.show_access_request(filed.id).state == "issued"

        deliver_due(core)
        first = _link(smtp)
        assert provisioner.resend_delivery(filed.id).state == "issued"
        deliver_due(core)
        link = _link(smtp)
        with TokenryClient(server, strict=True) as anyone:
            assert anyone.delivery_status(first).state == "replaced"
            assert anyone.delivery_status(link).state == "ready"
            got = anyone.retrieve_delivery(link)
            assert got.token_id == issued.token_id
            with pytest.raises(sdk.Conflict):
                anyone.retrieve_delivery(link)
        with TokenryClient(server, email=people.requester, token=got.token) as holder:
            assert holder.verify().token is not None
        assert provisioner.rotate_calendar_feed().startswith("http")
        personal = provisioner.create_exception_token("personal", use_case="Local testing")
        assert personal.kind == "personal" and personal.token.startswith("tkry_")


def test_errors_are_typed_and_carry_the_body_and_request_id(
    server: str, admin: TokenryClient, people: People
) -> None:
    with TokenryClient(server, email=ADMIN_EMAIL, token="tkry_wrong") as wrong, \
            pytest.raises(sdk.Unauthorized) as failed:
        wrong.me()
    assert failed.value.body == {"error": "Couldn't authenticate you"}
    assert failed.value.request_id
    with pytest.raises(sdk.Invalid) as invalid:
        admin.create_api_token("x" * 300)
    assert invalid.value.details["description"][0].error == "InvalidValue"
    with pytest.raises(sdk.NotFound):
        admin.show_user(999_999)
    with as_person(server, people.agent) as agent, pytest.raises(sdk.Forbidden):
        agent.list_api_tokens()
    with TokenryClient(server, strict=True) as anonymous:
        assert anonymous.me().id is None
    with pytest.raises(ValueError, match="another host"):  # a next link never leaks them
        admin._send(sdk.LIST_USERS, url="http://elsewhere.example/api/v2/users")


def test_a_rate_limited_request_waits_for_retry_after_a_bounded_number_of_times(
    core: Core, admin_actor: Actor, server: str, admin_secret: str
) -> None:
    update_account_settings(core, admin_actor, {"rate_limit_per_minute": 1})
    waits: list[float] = []
    with TokenryClient(server, email=ADMIN_EMAIL, token=admin_secret, max_retries=2,
                       sleep=waits.append) as client:
        client.me()
        with pytest.raises(sdk.TooManyRequests) as limited:
            client.me()
    assert limited.value.error == "APIRateLimitExceeded" and 0 < limited.value.retry_after <= 60
    assert waits == [limited.value.retry_after] * 2  # waited as told, twice, then gave up
    with TokenryClient(server, email=ADMIN_EMAIL, token=admin_secret, max_wait=0,
                       sleep=waits.append) as impatient, pytest.raises(sdk.TooManyRequests):
        impatient.me()
    assert len(waits) == 2  # a wait past max_wait is not taken


# Operations in the document that the client leaves out on purpose, each with its reason.
NOT_IN_CLIENT: dict[str, str] = {}


def test_every_documented_operation_has_a_client_method(core: Core) -> None:
    with TestClient(create_app(core.settings, core)) as client:
        document = client.get("/api/openapi.json").json()
    documented = {(method.upper(), path, operation["operationId"])
                  for path, operations in document["paths"].items()
                  for method, operation in operations.items()
                  if operation["operationId"] not in NOT_IN_CLIENT}
    used = {getattr(sdk, name) for method in vars(TokenryClient).values()
            if callable(method) and not method.__name__.startswith("_")
            for name in method.__code__.co_names
            if isinstance(getattr(sdk, name, None), sdk.Route)}
    assert {tuple(route) for route in used} == documented


def _link(smtp: SmtpReceiver) -> str:
    links = [re.search(r"/deliveries/(\S+)", m.message.get_content())
             for m in smtp.messages if "Your API token" in str(m.message["Subject"])]
    assert links and links[-1] is not None
    return links[-1].group(1)
