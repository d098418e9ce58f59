"""The lifecycle of integrations' OAuth clients, as tokens have it, through the real app and
the real jobs on SQLite and PostgreSQL: reminders before the removal date, switch-off at it
(before the job runs too), deletion after the grace period, an unread link that lapses, and a
provisioner's re-send that gives a new secret."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import func, select

from tests.conftest import Clock
from tests.governance_people import PASSWORD, People, actor_of, add_user, as_, cast, issue
from tests.test_governance import outbox
from tests.test_web_sessions import sign_in
from tokenry.core import Core
from tokenry.domain import delivery, sealed
from tokenry.http.app import create_app
from tokenry.jobs.dry_run import preview_jobs
from tokenry.jobs.runner import run_jobs
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.client_lifecycle import set_client_active
from tokenry.operations.compliance_report import compliance_report
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.users import update_user
from tokenry.present_csv import compliance_csv
from tokenry.storage.models import (
    AccessRequest,
    AuditEvent,
    Delivery,
    Notification,
    OAuthClient,
    OAuthToken,
)

BOT = "integration.bot@example.com"
CALLBACK = "https://sync.example.com/callback"
INTEGRATION = {"kind": "integration", "scopes": "users:read", "redirect_uris": [CALLBACK]}


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    """The real app over https: the token endpoint refuses plain http off loopback."""
    with TestClient(create_app(core.settings, core), base_url="https://testserver") as https:
        yield https


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    people = cast(core, admin_actor)
    add_user(core, admin_actor, BOT)
    update_account_settings(core, admin_actor, {"integration_bot": BOT})
    return people


def link_secrets(core: Core, request_id: int) -> list[str]:
    """Every delivery link of the request, oldest first, as the private channel sent it."""
    found: list[str] = []
    for note in outbox(core, "delivery.link"):
        if f"request #{request_id}" not in note.subject or note.channel != "slack_dm":
            continue
        text = sealed.unseal(core.server_key, sealed.OUTBOX, note.sealed or "") or ""
        match = re.search(r"/deliveries/([A-Za-z0-9_-]+)", text)
        assert match is not None
        found.append(match.group(1))
    return found


def retrieve(client: TestClient, link: str) -> str:
    answer = client.post(f"/api/v2/deliveries/{link}/retrieve")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["delivery"]["client_secret"])


def sealed_client_secret(core: Core, link: str) -> str:
    """The secret behind a link, without spending it (as its holder would find it)."""
    with core.db.read() as session:
        row = session.scalar(select(Delivery).where(
            Delivery.link_hash == delivery.link_hash(core.server_key, link)))
    assert row is not None and row.ciphertext is not None
    secret = delivery.unseal(core.server_key, link, row.ciphertext)
    assert secret is not None
    return secret


def grant(client: TestClient, identifier: str, secret: str) -> Any:
    return client.post("/oauth/tokens", auth=(identifier, secret),
                       data={"grant_type": "client_credentials", "scope": "users:read"})


def me(client: TestClient, access_token: str) -> int:
    return client.get("/api/v2/users/me",
                      headers={"Authorization": f"Bearer {access_token}"}).status_code


def client_row(core: Core, client_id: int) -> OAuthClient | None:
    with core.db.read() as session:
        return session.get(OAuthClient, client_id)


def request_state(client: TestClient, people: People, request_id: int) -> str:
    return str(client.get(f"/api/v2/access_requests/{request_id}", headers=as_(
        people.requester)).json()["access_request"]["state"])


def rows(core: Core) -> tuple[int, int]:
    with core.db.read() as session:
        return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                session.scalar(select(func.count()).select_from(Notification)) or 0)


def test_reminders_then_switch_off_at_the_removal_date_then_deletion_after_grace(
        client: TestClient, core: Core, people: People, clock: Clock) -> None:
    removal = clock.now.date() + timedelta(days=20)
    request = issue(client, people, removal_date=removal.isoformat(), **INTEGRATION)
    made = client_row(core, request["oauth_client_id"])
    assert made is not None
    secret = retrieve(client, link_secrets(core, request["id"])[0])
    run_jobs(core)
    assert outbox(core, "oauth_client.expiring") == []

    midnight = datetime.combine(removal, datetime.min.time(), UTC)
    clock.now = midnight - timedelta(days=6)
    run_jobs(core)
    run_jobs(core)  # idempotent: no second reminder
    [week] = [n for n in outbox(core, "oauth_client.expiring") if n.channel == "webhook"]
    assert "7 days" in week.subject and made.identifier in week.subject
    assert {people.requester, people.provisioner} <= set(week.payload["recipients"])

    clock.now = midnight + timedelta(hours=23, minutes=30)  # its last half hour
    run_jobs(core)
    assert len([n for n in outbox(core, "oauth_client.expiring")
                if n.channel == "webhook"]) == 2  # the one-day reminder
    granted = grant(client, made.identifier, secret)
    assert granted.status_code == 200, granted.text
    access = granted.json()["access_token"]  # its own hour reaches past the removal date
    assert me(client, access) == 200  # and is now in the verification cache

    clock.now = midnight + timedelta(days=1, seconds=30)
    # past the removal date, before any job: no grant, and the cached token stops too
    refused = grant(client, made.identifier, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert me(client, access) == 401

    report = run_jobs(core)
    assert report.counts["expire_clients"] == 1 and not report.errors
    off = client_row(core, made.id)
    assert off is not None and not off.active
    with core.db.read() as session:
        token = session.scalar(select(OAuthToken).where(OAuthToken.client_id == made.id))
        assert token is not None and token.revoked_at is not None
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.source_type == "oauth_client", AuditEvent.action == "deactivate"))
    assert event.changes["active"] == [True, False]
    assert event.changes["revoked_tokens"] == [None, [token.id]]
    assert request_state(client, people, request["id"]) == "expired"
    assert len([n for n in outbox(core, "oauth_client.expired") if n.channel == "webhook"]) == 1
    before = rows(core)
    again = run_jobs(core)
    assert again.counts["expire_clients"] == 0 and rows(core) == before  # a rerun adds nothing

    clock.now += timedelta(days=8)
    assert run_jobs(core).counts["delete_expired_clients_after_grace"] == 1
    assert client_row(core, made.id) is None
    assert len([n for n in outbox(core, "oauth_client.deleted") if n.channel == "webhook"]) == 1
    destroyed = client.get("/api/v2/audit_logs?filter[source_type]=oauth_client"
                           "&filter[action]=destroy", headers=as_(people.provisioner))
    assert [e["source_id"] for e in destroyed.json()["audit_logs"]] == [made.id]
    before = rows(core)
    run_jobs(core)
    assert rows(core) == before


def test_an_extension_moves_the_reminders_to_the_new_date(
        client: TestClient, core: Core, people: People, clock: Clock) -> None:
    removal = clock.now.date() + timedelta(days=10)
    first = issue(client, people, removal_date=removal.isoformat(), **INTEGRATION)
    retrieve(client, link_secrets(core, first["id"])[0])
    clock.now = datetime.combine(removal, datetime.min.time(), UTC) - timedelta(days=2)
    run_jobs(core)
    later = removal + timedelta(days=30)
    asked = client.post("/api/v2/access_requests", headers=as_(people.requester), json={
        "access_request": {"extends_request_id": first["id"],
                           "removal_date": later.isoformat()}})
    assert asked.status_code == 201, asked.text
    extension = asked.json()["access_request"]
    client.post(f"/api/v2/access_requests/{extension['id']}/approve",
                headers=as_(people.manager), json={"stage": "manager"})
    done = client.post(f"/api/v2/access_requests/{extension['id']}/approve",
                       headers=as_(people.provisioner), json={"stage": "provisioner"})
    assert done.status_code == 200, done.text
    clock.now = datetime.combine(removal, datetime.min.time(), UTC) + timedelta(days=1)
    report = run_jobs(core)
    assert report.counts["expire_clients"] == 0  # it lives on, until the new date
    clock.now = datetime.combine(later, datetime.min.time(), UTC) - timedelta(days=6)
    run_jobs(core)
    warned = [n for n in outbox(core, "oauth_client.expiring") if n.channel == "webhook"]
    assert len(warned) == 2 and "7 days" in warned[-1].subject


def test_an_unread_link_switches_the_client_off_and_a_resend_brings_it_back_with_a_new_secret(
        client: TestClient, core: Core, people: People, clock: Clock) -> None:
    request = issue(client, people, **INTEGRATION)
    [first_link] = link_secrets(core, request["id"])
    old_secret = sealed_client_secret(core, first_link)
    made = client_row(core, request["oauth_client_id"])
    assert made is not None

    clock.now += timedelta(hours=73)
    report = run_jobs(core)
    assert report.counts["lapse_unread_deliveries"] == 1 and not report.errors
    off = client_row(core, made.id)
    assert off is not None and not off.active
    assert request_state(client, people, request["id"]) == "revoked"
    [lapsed] = [n for n in outbox(core, "delivery.expired_unread") if n.channel == "webhook"]
    assert made.identifier in lapsed.body and people.provisioner in lapsed.payload["recipients"]
    assert grant(client, made.identifier, old_secret).status_code == 401
    before = rows(core)
    run_jobs(core)
    assert rows(core) == before

    refused = client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery",
                          headers=as_(people.requester))
    assert refused.status_code == 403
    resent = client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery",
                         headers=as_(people.provisioner))
    assert resent.status_code == 200, resent.text
    assert resent.json()["access_request"]["state"] == "issued"
    on = client_row(core, made.id)
    assert on is not None and on.active and on.secret_hash != made.secret_hash
    [_, new_link] = link_secrets(core, request["id"])
    new_secret = retrieve(client, new_link)
    assert grant(client, made.identifier, old_secret).status_code == 401
    granted = grant(client, made.identifier, new_secret)
    assert granted.status_code == 200, granted.text
    assert me(client, granted.json()["access_token"]) == 200
    assert request_state(client, people, request["id"]) == "delivered"

    # and a second lapse is told again: the notice is keyed by the delivery
    client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery",
                headers=as_(people.provisioner))
    clock.now += timedelta(hours=73)
    assert run_jobs(core).counts["lapse_unread_deliveries"] == 1
    assert len([n for n in outbox(core, "delivery.expired_unread")
                if n.channel == "webhook"]) == 2


def test_a_resend_kills_the_delivered_secret_and_unused_links(
        client: TestClient, core: Core, people: People) -> None:
    request = issue(client, people, **INTEGRATION)
    made = client_row(core, request["oauth_client_id"])
    assert made is not None
    old_secret = retrieve(client, link_secrets(core, request["id"])[0])
    assert grant(client, made.identifier, old_secret).status_code == 200
    for _ in range(2):
        resent = client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery",
                             headers=as_(people.provisioner))
        assert resent.status_code == 200, resent.text
    _, unused, newest = link_secrets(core, request["id"])
    assert client.post(f"/api/v2/deliveries/{unused}/retrieve").status_code == 409
    new_secret = retrieve(client, newest)
    assert grant(client, made.identifier, old_secret).status_code == 401
    assert grant(client, made.identifier, new_secret).status_code == 200
    with core.db.read() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.source_type == "oauth_client", AuditEvent.source_id == made.id)))
    assert actions.count("regenerate_secret") == 2


def test_a_public_integration_has_nothing_to_resend(
        client: TestClient, core: Core, people: People) -> None:
    request = issue(client, people, **{**INTEGRATION, "client_kind": "public"})
    before = rows(core)
    refused = client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery",
                          headers=as_(people.provisioner))
    assert refused.status_code == 409 and "public client" in refused.text
    assert rows(core) == before


def test_switching_a_client_off_revokes_its_tokens_and_they_stop_at_once(
        client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    request = issue(client, people, **INTEGRATION)
    made = client_row(core, request["oauth_client_id"])
    assert made is not None
    secret = retrieve(client, link_secrets(core, request["id"])[0])
    access = grant(client, made.identifier, secret).json()["access_token"]
    assert me(client, access) == 200  # cached from here on
    with core.db.transaction() as session:
        row = session.get(OAuthClient, made.id, with_for_update=True)
        assert row is not None
        assert set_client_active(session, core, admin_actor, row, False, "a test")
        assert not set_client_active(session, core, admin_actor, row, False, "a test")
    assert me(client, access) == 401
    introspected = client.post("/oauth/introspect", auth=(made.identifier, secret),
                               data={"token": access})
    assert introspected.status_code == 401  # the client itself no longer authenticates
    admin_mint = client.post("/api/v2/oauth/tokens", headers=as_(people.provisioner),
                             json={"token": {"client_id": made.id, "scopes": ["users:read"]}})
    assert admin_mint.status_code == 409 and "switched off" in admin_mint.text
    assert sign_in(client, people.requester, PASSWORD).status_code == 303
    consent = client.get("/oauth/authorizations/new", params={
        "response_type": "code", "client_id": made.identifier, "scope": "users:read",
        "redirect_uri": CALLBACK, "code_challenge": "x" * 43,
        "code_challenge_method": "S256"})
    assert consent.status_code == 400 and "invalid_client" in consent.text
    with core.db.read() as session:
        still = session.scalar(select(AccessRequest.state).where(
            AccessRequest.id == request["id"]))
    assert still in ("issued", "delivered")  # switching off alone closes no request


def test_the_compliance_report_shows_clients_beside_tokens(
        client: TestClient, core: Core, people: People, admin_actor: Actor, clock: Clock) -> None:
    request = issue(client, people, removal_date=(clock.now.date() + timedelta(days=60))
                    .isoformat(), **INTEGRATION)
    retrieve(client, link_secrets(core, request["id"])[0])
    bot = add_user(core, admin_actor, "second.bot@example.com")
    update_account_settings(core, admin_actor, {"integration_bot": bot.email})
    by_hand = create_oauth_client(core, actor_of(bot), ClientFields(
        name="Zapier", identifier="zapier", allowed_scopes="tickets:read")).client

    def report(**params: int) -> list[dict[str, Any]]:
        answer = client.get("/api/v2/reports/compliance", params=params,
                            headers=as_(people.provisioner))
        assert answer.status_code == 200, answer.text
        return list(answer.json()["compliance"]["findings"])

    clients = [f for f in report(unused_days=0) if f["kind"] == "oauth_client"]
    assert {(f["category"], f["oauth_client_id"]) for f in clients} == {
        ("unapproved", by_hand.id), ("nonstandard_name", by_hand.id)}
    assert {"identifier": "zapier", "scopes": ["tickets:read"], "removal_date": None,
            "state": "active", "request_id": None, "token_id": None, "name": "Zapier",
            "reason": "created by hand, without an integration request"
            }.items() <= clients[0].items()

    update_user(core, admin_actor, people.requester, suspended=True)
    clock.now += timedelta(days=31)
    made = request["oauth_client_id"]
    mine = {f["category"]: f for f in report(unused_days=30) if f["oauth_client_id"] == made}
    assert set(mine) == {"unused", "suspended_holder"}
    assert people.requester in mine["suspended_holder"]["reason"]
    assert mine["unused"]["request_id"] == request["id"]
    assert mine["unused"]["removal_date"] == request["removal_date"]
    assert mine["unused"]["identifier"] == f"request-{request['id']}-zendesk-export"

    operation = compliance_report(core, admin_actor, unused_days=30)
    rows = list(csv.DictReader(io.StringIO(compliance_csv(operation))))
    row = next(r for r in rows if r["oauth_client_id"] == str(made) and r["category"] == "unused")
    assert (row["kind"], row["scopes"], row["state"]) == ("oauth_client", "users:read", "active")
    assert sign_in(client, people.provisioner, PASSWORD).status_code == 303
    page = client.get("/admin/compliance").text
    assert f'href="/admin/oauth_clients/{by_hand.id}/edit">Zapier</a>' in page
    assert "Tokens and clients without approval" in page and "<code>zapier</code>" in page
    assert client.get("/admin/compliance.csv").text.startswith(
        "category,kind,token_id,oauth_client_id,request_id,name,identifier,scopes,")
    update_account_settings(core, admin_actor, {"inactivity_days": 30})
    run_jobs(core, "send_weekly_compliance_report")
    [weekly] = [n for n in outbox(core, "report.compliance_weekly") if n.channel == "webhook"]
    assert "OAuth client Zapier" in weekly.body


def test_a_dry_run_past_the_removal_date_lists_the_switch_off_and_changes_nothing(
        client: TestClient, core: Core, people: People, clock: Clock) -> None:
    request = issue(client, people, **INTEGRATION)
    made = client_row(core, request["oauth_client_id"])
    assert made is not None and made.expires_at is not None
    retrieve(client, link_secrets(core, request["id"])[0])
    before = rows(core)
    preview = preview_jobs(core, made.expires_at + timedelta(hours=1))
    assert preview.report.counts["expire_clients"] == 1 and not preview.report.errors
    said = [item.summary for item in preview.items]
    assert any("Deactivated OAuth client" in s and made.identifier in s for s in said)
    assert any(f"OAuth client {made.identifier}: has reached its removal date" in s
               for s in said)
    assert rows(core) == before
    still = client_row(core, made.id)
    assert still is not None and still.active
    assert request_state(client, people, request["id"]) == "delivered"


def test_the_provisioners_calendar_has_the_clients_removal_date(
        client: TestClient, core: Core, people: People, clock: Clock) -> None:
    removal = clock.now.date() + timedelta(days=12)
    request = issue(client, people, removal_date=removal.isoformat(), **INTEGRATION)
    secret = retrieve(client, link_secrets(core, request["id"])[0])
    url = client.post("/api/v2/calendar_feed/rotate", headers=as_(people.provisioner)
                      ).json()["calendar_feed"]["url"]
    feed = Calendar.from_ical(client.get(url.removeprefix("http://testserver")).content)
    events = {str(e["UID"]): e for e in feed.walk("VEVENT")}
    event = events[f"oauth-client-{request['oauth_client_id']}@tokenry"]
    assert event.decoded("DTSTART") == removal
    assert str(event["SUMMARY"]).startswith("Remove integration: Ria Quest - ")
    description = str(event["DESCRIPTION"])
    assert f"request-{request['id']}-zendesk-export" in description
    assert people.requester in description and f"/requests/{request['id']}" in description
    assert secret not in description
    one = client.get(f"/api/v2/access_requests/{request['id']}/calendar.ics",
                     headers=as_(people.requester))
    assert b"Remove integration for Zendesk export" in one.content
