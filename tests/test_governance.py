"""The access-request workflow end to end through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Clock, basic, me_status
from tests.governance_people import (
    People,
    add_user,
    approve,
    as_,
    cast,
    issue,
    request_body,
    submit,
)
from tokenry.core import Core
from tokenry.domain import naming, sealed
from tokenry.jobs.runner import run_jobs
from tokenry.operations.context import Actor
from tokenry.operations.users import show_user
from tokenry.storage.models import ApiToken, Notification


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    return cast(core, admin_actor)


def outbox(core: Core, event: str | None = None) -> list[Notification]:
    with core.db.read() as session:
        query = select(Notification).order_by(Notification.id)
        if event:
            query = query.where(Notification.event == event)
        return list(session.scalars(query))


def delivery_secret(core: Core, request_id: int) -> str:
    """The link secret as a private channel would send it: opened with the server secret."""
    rows = [n for n in outbox(core, "delivery.link") if f"request #{request_id}" in n.subject]
    private = {sealed.unseal(core.server_key, sealed.OUTBOX, n.sealed or "") for n in rows
               if n.sealed}
    [text] = private
    assert text is not None
    match = re.search(r"/deliveries/([A-Za-z0-9_-]+)", text)
    assert match is not None
    return match.group(1)


def token_of(core: Core, token_id: int) -> ApiToken | None:
    with core.db.read() as session:
        return session.get(ApiToken, token_id)


def test_request_goes_from_submission_to_a_delivered_token(
    client: TestClient, core: Core, people: People
) -> None:
    removal = core.clock().date() + timedelta(days=30)
    request = submit(client, people, removal_date=removal.isoformat())
    assert request["state"] == "submitted" and request["url"].endswith(f"/requests/{request['id']}")
    assert [n.payload["recipients"] for n in outbox(core, "request.submitted")] == [
        [people.manager]]

    managed = approve(client, people.manager, request["id"], "manager").json()["access_request"]
    assert managed["state"] == "manager_approved"
    assert set(outbox(core, "request.manager_approved")[0].payload["recipients"]) == {
        people.provisioner, people.other_provisioner}

    issued = approve(client, people.provisioner, request["id"]).json()["access_request"]
    assert issued["state"] == "issued" and issued["token_id"]
    token = token_of(core, issued["token_id"])
    assert token is not None and token.kind == "request" and token.active
    assert token.description == naming.request_name("Ria Quest", request["url"], removal)
    assert token.expires_at == datetime(removal.year, removal.month, removal.day, 23, 59, 59,
                                        tzinfo=UTC)

    secret = delivery_secret(core, request["id"])
    page = client.get(f"/deliveries/{secret}")
    assert page.status_code == 200 and "Reveal my token" in page.text  # GET does not spend it
    retrieved = client.post(f"/api/v2/deliveries/{secret}/retrieve")
    assert retrieved.status_code == 200
    assert retrieved.headers["Cache-Control"] == "no-store"
    plaintext = retrieved.json()["delivery"]["token"]
    again = client.post(f"/api/v2/deliveries/{secret}/retrieve")
    assert again.status_code == 409 and "already used at" in again.json()["description"]
    assert "already used" in client.get(f"/deliveries/{secret}").text

    assert me_status(client, people.requester, plaintext) == 200
    assert me_status(client, people.manager, plaintext) == 401  # bound to the requester
    shown = client.get(f"/api/v2/access_requests/{request['id']}", headers=as_(people.requester))
    assert shown.json()["access_request"]["state"] == "delivered"
    audit = client.get("/api/v2/audit_logs?filter[source_type]=delivery",
                       headers=as_(people.provisioner)).json()["audit_logs"]
    assert [e["tokenry_action"] for e in audit] == ["retrieve_refused", "retrieve"]  # newest first
    assert all(e["ip_address"] for e in audit)  # a second use is there to be seen
    assert all(plaintext not in (n.body + str(n.payload)) for n in outbox(core))


def test_delivery_page_reveals_the_token_once(client: TestClient, core: Core,
                                              people: People) -> None:
    request = issue(client, people)
    secret = delivery_secret(core, request["id"])
    revealed = client.post(f"/deliveries/{secret}")
    assert revealed.status_code == 200 and 'id="token"' in revealed.text
    assert "already used" in client.post(f"/deliveries/{secret}").text
    assert "not valid" in client.get("/deliveries/not-a-real-link").text
    assert client.post("/api/v2/deliveries/not-a-real-link/retrieve").status_code == 404


def test_reminders_then_expiry_then_deletion_after_grace(
    client: TestClient, core: Core, people: People, clock: Clock
) -> None:
    removal = clock.now.date() + timedelta(days=20)
    request = issue(client, people, removal_date=removal.isoformat())
    secret = client.post(f"/api/v2/deliveries/{delivery_secret(core, request['id'])}/retrieve"
                         ).json()["delivery"]["token"]
    token_id = request["token_id"]
    run_jobs(core)
    assert outbox(core, "token.expiring") == []

    clock.now = datetime.combine(removal, datetime.min.time(), UTC) - timedelta(days=6)
    client.get("/api/v2/users/me", headers=basic(people.requester, secret))  # keep it in use
    run_jobs(core)
    run_jobs(core)  # idempotent: no second reminder
    reminders = outbox(core, "token.expiring")
    assert len(reminders) == 1 and "7 days" in reminders[0].subject
    assert people.requester in reminders[0].payload["recipients"]

    clock.now = datetime.combine(removal, datetime.min.time(), UTC) + timedelta(hours=12)
    run_jobs(core)
    assert len(outbox(core, "token.expiring")) == 2  # the one-day reminder
    assert me_status(client, people.requester, secret) == 200

    clock.now = datetime.combine(removal, datetime.min.time(), UTC) + timedelta(days=1)
    report = run_jobs(core)
    assert report.counts["expire_tokens"] == 1 and not report.errors
    token = token_of(core, token_id)
    assert token is not None and not token.active
    assert me_status(client, people.requester, secret) == 401
    assert len(outbox(core, "token.expired")) == 1
    state = client.get(f"/api/v2/access_requests/{request['id']}", headers=as_(people.requester))
    assert state.json()["access_request"]["state"] == "expired"

    clock.now += timedelta(days=8)
    run_jobs(core)
    assert token_of(core, token_id) is None
    assert len(outbox(core, "token.deleted")) == 1


def test_unread_delivery_link_expires_deactivates_and_tells_the_provisioner(
    client: TestClient, core: Core, people: People, clock: Clock
) -> None:
    request = issue(client, people)
    secret = delivery_secret(core, request["id"])
    clock.now += timedelta(hours=73)
    assert run_jobs(core).counts["lapse_unread_deliveries"] == 1
    token = token_of(core, request["token_id"])
    assert token is not None and not token.active
    lapsed = outbox(core, "delivery.expired_unread")
    assert people.provisioner in lapsed[0].payload["recipients"]
    refused = client.post(f"/api/v2/deliveries/{secret}/retrieve")
    assert refused.status_code == 409 and "expired" in refused.json()["description"]
    shown = client.get(f"/api/v2/access_requests/{request['id']}", headers=as_(people.requester))
    assert shown.json()["access_request"]["state"] == "revoked"


def test_extension_replaces_the_old_token_after_its_grace_period(
    client: TestClient, core: Core, people: People, clock: Clock
) -> None:
    first = issue(client, people)
    client.post(f"/api/v2/deliveries/{delivery_secret(core, first['id'])}/retrieve")
    extension = issue(client, people, extends_request_id=first["id"],
                      removal_date=(clock.now.date() + timedelta(days=90)).isoformat())
    assert extension["extends_request_id"] == first["id"]
    old = token_of(core, first["token_id"])
    assert old is not None and old.retire_at is None  # not before the new one is delivered
    client.post(f"/api/v2/deliveries/{delivery_secret(core, extension['id'])}/retrieve")
    old = token_of(core, first["token_id"])
    assert old is not None and old.active and old.retire_at is not None
    clock.now += timedelta(hours=25)
    assert run_jobs(core).counts["retire_extended_tokens"] == 1
    assert token_of(core, first["token_id"]) is None
    assert token_of(core, extension["token_id"]) is not None


def test_stale_pending_requests_close_with_a_reason(client: TestClient, core: Core,
                                                    people: People, clock: Clock) -> None:
    request = submit(client, people)
    clock.now += timedelta(days=15)
    assert run_jobs(core).counts["close_stale_requests"] == 1
    shown = client.get(f"/api/v2/access_requests/{request['id']}",
                       headers=as_(people.requester)).json()["access_request"]
    assert shown["state"] == "denied" and "automatically" in shown["denial_reason"]


@pytest.mark.parametrize(("missing", "named"), [
    ({"purpose": None}, ["purpose"]),
    ({"purpose": None, "use_case": "  ", "removal_date": None},
     ["purpose", "use_case", "removal_date"]),
])
def test_submission_names_every_missing_field(client: TestClient, people: People,
                                              missing: dict[str, Any], named: list[str]) -> None:
    response = client.post("/api/v2/access_requests", headers=as_(people.requester),
                           json=request_body(**missing))
    assert response.status_code == 422
    assert sorted(response.json()["details"]) == sorted(named)


@pytest.mark.parametrize("days", [-1, 0, 366])
def test_removal_date_must_be_in_the_future_and_within_the_maximum(
    client: TestClient, core: Core, people: People, days: int
) -> None:
    removal = core.clock().date() + timedelta(days=days)
    response = client.post("/api/v2/access_requests", headers=as_(people.requester),
                           json=request_body(removal))
    assert response.status_code == 422 and "removal_date" in response.json()["details"]


def test_nobody_approves_their_own_request_and_stages_need_the_right_people(
    client: TestClient, core: Core, people: People, admin_actor: Actor
) -> None:
    request = submit(client, people)
    for email in (people.requester, people.agent, people.provisioner):
        refused = approve(client, email, request["id"], "manager")
        assert refused.status_code == 403, email
    assert "own request" in approve(client, people.requester, request["id"]).json()["description"]
    assert approve(client, people.manager, request["id"], "manager").status_code == 200
    for email in (people.requester, people.manager, people.agent):
        assert approve(client, email, request["id"], "provisioner").status_code == 403, email
    assert approve(client, people.manager, request["id"], "manager").status_code == 409


def test_a_provisioner_who_is_also_the_manager_cannot_give_both_approvals(
    client: TestClient, core: Core, people: People, admin_actor: Actor
) -> None:
    from tokenry.operations.users import update_user

    update_user(core, admin_actor, people.requester, manager_email=people.provisioner)
    request = submit(client, people)
    assert approve(client, people.provisioner, request["id"], "manager").status_code == 200
    refused = approve(client, people.provisioner, request["id"], "provisioner")
    assert refused.status_code == 403 and "another provisioner must approve" in refused.text
    assert approve(client, people.other_provisioner, request["id"]).status_code == 200


def test_denial_needs_a_reason_and_admin_not_required_points_to_password_auth(
    client: TestClient, core: Core, people: People
) -> None:
    request = submit(client, people)
    url = f"/api/v2/access_requests/{request['id']}/deny"
    assert client.post(url, headers=as_(people.manager), json={"reason": " "}).status_code == 422
    assert client.post(url, headers=as_(people.agent),
                       json={"reason": "no"}).status_code == 403
    denied = client.post(url, headers=as_(people.manager),
                         json={"reason": "admin level not required"}).json()["access_request"]
    assert denied["state"] == "denied" and "password (basic) authentication" in denied[
        "denial_message"]
    [note] = outbox(core, "request.denied")
    assert "password (basic) authentication" in note.body
    assert client.post(url, headers=as_(people.manager),
                       json={"reason": "again"}).status_code == 409


def test_requester_may_cancel_until_issued(client: TestClient, core: Core,
                                           people: People) -> None:
    pending = submit(client, people)
    assert client.post(f"/api/v2/access_requests/{pending['id']}/cancel",
                       headers=as_(people.agent)).status_code == 403
    cancelled = client.post(f"/api/v2/access_requests/{pending['id']}/cancel",
                            headers=as_(people.requester))
    assert cancelled.json()["access_request"]["state"] == "cancelled"
    issued = issue(client, people)
    late = client.post(f"/api/v2/access_requests/{issued['id']}/cancel",
                       headers=as_(people.requester))
    assert late.status_code == 409


def test_requests_are_visible_only_to_the_people_involved(client: TestClient,
                                                          people: People) -> None:
    request = submit(client, people)
    url = f"/api/v2/access_requests/{request['id']}"
    for email in (people.requester, people.manager, people.provisioner):
        assert client.get(url, headers=as_(email)).status_code == 200, email
    assert client.get(url, headers=as_(people.agent)).status_code == 403
    assert client.get("/api/v2/access_requests", headers=as_(people.agent)).json()["count"] == 0
    listed = client.get("/api/v2/access_requests?state=submitted", headers=as_(people.manager))
    assert listed.json()["count"] == 1
    assert client.get("/api/v2/access_requests?state=bogus",
                      headers=as_(people.manager)).status_code == 422


def test_issuing_needs_a_private_delivery_channel(client: TestClient, core: Core,
                                                 people: People, admin_actor: Actor) -> None:
    from tokenry.operations.account_settings import update_account_settings

    # The account's shared webhook is set, but it is no private channel: the link would
    # reach everyone who reads it.
    update_account_settings(core, admin_actor, {"slack_bot_token": ""})
    assert account_settings_of(core).webhook_url
    request = submit(client, people)
    approve(client, people.manager, request["id"], "manager")
    refused = approve(client, people.provisioner, request["id"], "provisioner")
    assert refused.status_code == 409 and "private delivery channel" in refused.text
    assert "slack_bot_token" in refused.json()["description"]
    with core.db.read() as session:
        assert session.scalars(select(ApiToken).where(ApiToken.kind == "request")).all() == []


def test_exceptions_follow_their_naming_standard_and_their_switches(
    client: TestClient, core: Core, people: People, admin_actor: Actor
) -> None:
    from tokenry.operations.account_settings import update_account_settings

    def make(email: str, **fields: Any) -> Any:
        return client.post("/api/v2/api_tokens/exceptions.json", headers=as_(email),
                           json={"api_token": fields})

    personal = make(people.provisioner, exception="personal").json()["api_token"]
    assert personal["token"].startswith("tkry_")
    with core.db.read() as session:
        stored = session.get(ApiToken, personal["id"])
    assert stored is not None and stored.description == "Pat Rov - personal"
    script = make(people.provisioner, exception="automation", use_case="Ticket sync")
    assert script.json()["api_token"]["description"] == "Pat Rov - Ticket sync"
    unbound = make(people.provisioner, exception="target", target="Jira webhook")
    assert unbound.status_code == 422 and "user_email" in unbound.json()["details"]
    service = add_user(core, admin_actor, "jira-bot@example.com")
    target = make(people.provisioner, exception="target", target="Jira webhook",
                  user_email=service.email)
    assert target.json()["api_token"]["description"] == "Target - Jira webhook"
    assert target.json()["api_token"]["user_id"] == service.id  # it acts as the service user
    for_ria = make(people.provisioner, exception="automation", use_case="Export",
                   user_email=people.requester).json()["api_token"]
    assert for_ria["description"] == "Ria Quest - Export"
    assert personal["user_id"] == show_user(core, admin_actor, people.provisioner).id
    assert make(people.provisioner, exception="automation").status_code == 422
    assert make(people.manager, exception="personal").status_code == 403  # not a provisioner
    update_account_settings(core, admin_actor, {"allow_target_tokens": False})
    off = make(people.provisioner, exception="target", target="Other", user_email=service.email)
    assert off.status_code == 403 and "allow_target_tokens" in off.text
    actions = client.get("/api/v2/audit_logs?filter[action]=create&filter[source_type]=api_token",
                         headers=as_(people.provisioner)).json()["audit_logs"]
    assert {e["actor_name"] for e in actions[:4]} == {"Pat Rov"}  # the name, as Zendesk


def test_inactive_tokens_are_deactivated_then_deleted(
    client: TestClient, core: Core, people: People, clock: Clock, admin_secret: str
) -> None:
    clock.now += timedelta(days=31)
    assert run_jobs(core).counts["deactivate_unused"] >= 1
    assert me_status(client, "admin@example.com", admin_secret) == 401
    clock.now += timedelta(days=61)
    assert run_jobs(core).counts["delete_long_deactivated"] >= 1
    with core.db.read() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_concurrent_provisioner_approvals_issue_exactly_one_token(
    core: Core, people: People
) -> None:
    """Two provisioners click at once over real HTTP: one wins, the other gets 409."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.governance_people import PASSWORD
    from tests.live import live_server

    with live_server(core) as base_url:
        auth = {"requester": (people.requester, PASSWORD), "manager": (people.manager, PASSWORD)}
        created = requests.post(f"{base_url}/api/v2/access_requests.json", auth=auth["requester"],
                                json=request_body(), timeout=30).json()["access_request"]
        url = f"{base_url}/api/v2/access_requests/{created['id']}/approve.json"
        assert requests.post(url, auth=auth["manager"], json={"stage": "manager"},
                             timeout=30).status_code == 200

        def decide(email: str) -> int:
            return requests.post(url, auth=(email, PASSWORD), json={"stage": "provisioner"},
                                 timeout=30).status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = sorted(pool.map(decide, [people.provisioner, people.other_provisioner] * 2))
    assert outcomes == [200, 409, 409, 409]
    with core.db.read() as session:
        issued = session.scalars(select(ApiToken).where(ApiToken.kind == "request")).all()
    assert len(issued) == 1
    # one delivery: the holder's direct message and the shared webhook's notice
    assert sorted(n.channel for n in outbox(core, "delivery.link")) == ["slack_dm", "webhook"]


def test_requests_for_someone_who_cannot_sign_in_or_for_the_approver_are_refused(
    client: TestClient, core: Core, people: People, admin_actor: Actor
) -> None:
    from tokenry.operations.users import update_user

    update_user(core, admin_actor, people.agent, suspended=True)
    for holder in (people.agent, people.manager):
        response = client.post("/api/v2/access_requests", headers=as_(people.requester),
                               json=request_body(for_email=holder))
        assert response.status_code == 422 and "for_email" in response.json()["details"]


def test_unknown_stage_is_invalid_and_outsiders_learn_nothing_from_deny(
    client: TestClient, core: Core, people: People
) -> None:
    request = submit(client, people)
    client.post(f"/api/v2/access_requests/{request['id']}/cancel", headers=as_(people.requester))
    from tokenry.domain.errors import Invalid
    from tokenry.operations.approve_request import approve_request
    from tokenry.operations.users import show_user

    boss = show_user(core, Actor.system(1), people.manager)
    with pytest.raises(Invalid):
        approve_request(core, Actor(1, boss.id, boss.email, proves_person=True), request["id"],
                        "ceo")
    outsider = client.post(f"/api/v2/access_requests/{request['id']}/deny",
                           headers=as_(people.agent), json={"reason": "x"})
    assert outsider.status_code == 403


def test_a_name_containing_the_separator_still_gets_a_standard_token_name() -> None:
    from tokenry.domain import naming

    name = naming.request_name("Jean - Luc", "http://x/requests/4", date(2030, 1, 2))
    parsed = naming.parse(name)
    assert name == "Jean-Luc - http://x/requests/4 - 2030-01-02"
    assert parsed is not None and parsed.request_id == 4 and parsed.person == "Jean-Luc"


def account_settings_of(core: Core) -> Any:
    from tokenry.storage.queries import account_settings

    with core.db.read() as session:
        return account_settings(session, 1)
