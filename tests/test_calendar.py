"""Removal-date calendars: a provisioner's secret-address feed and one request's event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from icalendar import Alarm, Calendar, Event
from sqlalchemy import select

from tests.conftest import Clock, basic
from tests.governance_people import actor_of, add_user
from tokenry.core import Core
from tokenry.domain.access_requests import expiry_of
from tokenry.domain.errors import Forbidden, NotFound
from tokenry.http.app import create_app
from tokenry.http.routes import calendar
from tokenry.operations.calendar_feeds import calendar_feed, request_calendar, rotate_calendar_feed
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token, issue_token
from tokenry.operations.users import update_user
from tokenry.storage.models import AccessRequest, ApiToken, AuditEvent, CalendarFeed, User


def include(app: FastAPI, *routers: APIRouter) -> FastAPI:
    """Mount routers unless app.py already does (so these tests pass before and after)."""
    paths = {getattr(route, "path", None) for route in app.routes}
    for router in routers:
        if not any(getattr(route, "path", None) in paths for route in router.routes):
            app.include_router(router)
    return app


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    with TestClient(include(create_app(core.settings, core), calendar.router)) as test_client:
        yield test_client


def add_request(core: Core, requester: User, holder: User, removal: date,
                state: str = "delivered") -> AccessRequest:
    now = core.clock()
    with core.db.transaction() as session:
        request = AccessRequest(
            account_id=requester.account_id, requester_id=requester.id, holder_id=holder.id,
            service_name="Billing sync", purpose="invoices", use_case="nightly export",
            removal_date=removal, state=state, created_at=now, updated_at=now)
        session.add(request)
    return request


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def by_uid(calendar_: Calendar) -> dict[str, Event]:
    return {event.uid: event for event in calendar_.events}


@pytest.fixture
def provisioner(core: Core, admin_actor: Actor) -> User:
    return add_user(core, admin_actor, "prov@example.com", provisioner=True)


def test_feed_has_one_all_day_event_per_token_with_a_removal_date(
    core: Core, admin_actor: Actor, provisioner: User, client: TestClient, clock: Clock
) -> None:
    holder = add_user(core, admin_actor, "holder@example.com", role="end-user")
    removal = (clock.now + timedelta(days=10)).date()
    request = add_request(core, provisioner, holder, removal)
    with core.db.transaction() as session:
        issued = issue_token(session, core, admin_actor, description="Holder - billing",
                             expires_at=expiry_of(removal), user_id=holder.id, kind="request",
                             access_request_id=request.id)
    manual = create_token(core, admin_actor, description="Zapier",
                          expires_at=expiry_of(removal + timedelta(days=5)))
    forever = create_token(core, admin_actor, description="no expiry")
    own = create_token(core, admin_actor, description="own", user_id=provisioner.id)

    url = client.post("/api/v2/calendar_feed/rotate",
                      headers=basic(provisioner.email, own.secret)).json()["calendar_feed"]["url"]
    response = client.get(url.removeprefix("http://testserver"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    feed = parse(response.content)
    assert str(feed["PRODID"]) and str(feed["VERSION"]) == "2.0" and feed.calendar_name
    events = by_uid(feed)
    assert set(events) == {f"token-{issued.token.id}@tokenry", f"token-{manual.token.id}@tokenry"}
    event = events[f"token-{issued.token.id}@tokenry"]
    assert event.start == removal and event.end == removal + timedelta(days=1)
    assert event.summary == "Remove API token: Holder - billing"
    description = event.description or ""
    assert issued.token.display in description and holder.email in description
    assert f"http://testserver/requests/{request.id}" in description
    assert [a.TRIGGER for a in event.subcomponents if isinstance(a, Alarm)] == [timedelta(days=-1)]
    assert events[f"token-{manual.token.id}@tokenry"].start == removal + timedelta(days=5)
    secrets = [issued.secret, manual.secret, forever.secret, own.secret, url.split("/")[-1]]
    assert not any(secret.encode() in response.content for secret in secrets)


def test_rotating_the_feed_stops_the_old_address_at_once(
    core: Core, provisioner: User, client: TestClient
) -> None:
    old = rotate_calendar_feed(core, actor_of(provisioner))
    assert client.get(old.removeprefix("http://testserver")).status_code == 200
    new = rotate_calendar_feed(core, actor_of(provisioner))

    assert new != old
    assert client.get(old.removeprefix("http://testserver")).status_code == 404
    assert client.get(new.removeprefix("http://testserver")).status_code == 200
    with core.db.read() as session:
        assert len(session.scalars(select(CalendarFeed)).all()) == 1


def test_feed_secret_is_stored_only_as_a_hash_and_audited_without_it(
    core: Core, provisioner: User
) -> None:
    secret = rotate_calendar_feed(core, actor_of(provisioner)).split("/")[-1].removesuffix(".ics")
    with core.db.read() as session:
        feed = session.scalars(select(CalendarFeed)).one()
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.source_type == "calendar_feed")).all()
    assert feed.secret_hash == core.hasher.hash(secret) and feed.user_id == provisioner.id
    assert [(e.action, e.source_id, e.actor_id) for e in events] == [
        ("create", feed.id, provisioner.id)]
    assert secret not in repr([vars(e) for e in events])


def test_unknown_feed_secret_is_not_found(client: TestClient) -> None:
    assert client.get("/calendar/not-a-real-secret.ics").status_code == 404


def test_admin_who_is_not_a_provisioner_cannot_have_a_feed(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    assert client.post("/api/v2/calendar_feed/rotate", headers=admin_auth).status_code == 403


def test_feed_stops_when_its_owner_may_no_longer_provision(
    core: Core, admin_actor: Actor, provisioner: User
) -> None:
    secret = rotate_calendar_feed(core, actor_of(provisioner)).split("/")[-1].removesuffix(".ics")
    calendar_feed(core, secret)
    update_user(core, admin_actor, provisioner.email, suspended=True)

    with pytest.raises(NotFound, match="no calendar feed"):
        calendar_feed(core, secret)


def test_request_calendar_has_one_event_on_the_removal_date(
    core: Core, admin_actor: Actor, client: TestClient, admin_auth: dict[str, str], clock: Clock
) -> None:
    requester = add_user(core, admin_actor, "req@example.com", role="agent")
    removal = (clock.now + timedelta(days=30)).date()
    request = add_request(core, requester, requester, removal, state="submitted")

    response = client.get(f"/api/v2/access_requests/{request.id}/calendar.ics",
                          headers=admin_auth)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    (event,) = parse(response.content).events
    assert event.start == removal and event.uid == f"request-{request.id}@tokenry"
    assert event.url == f"http://testserver/requests/{request.id}"
    assert "Billing sync" in event.summary


def test_request_calendar_is_for_the_people_involved_only(
    core: Core, admin_actor: Actor, provisioner: User, clock: Clock
) -> None:
    manager = add_user(core, admin_actor, "boss@example.com", role="agent")
    requester = add_user(core, admin_actor, "req@example.com", role="agent",
                         manager="boss@example.com")
    holder = add_user(core, admin_actor, "holder@example.com", role="end-user")
    stranger = add_user(core, admin_actor, "other@example.com", role="agent")
    request = add_request(core, requester, holder, (clock.now + timedelta(days=9)).date())

    for viewer in (requester, holder, manager, provisioner):
        assert parse(request_calendar(core, actor_of(viewer), request.id)).events
    assert parse(request_calendar(core, admin_actor, request.id)).events
    with pytest.raises(Forbidden):
        request_calendar(core, actor_of(stranger), request.id)


def test_request_calendar_of_an_unknown_request_is_not_found(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    response = client.get("/api/v2/access_requests/4242/calendar.ics", headers=admin_auth)
    assert response.status_code == 404


def test_feed_never_contains_a_stored_token_hash(
    core: Core, provisioner: User, admin_actor: Actor, clock: Clock
) -> None:
    create_token(core, admin_actor, description="x",
                 expires_at=expiry_of((clock.now + timedelta(days=3)).date()))
    secret = rotate_calendar_feed(core, actor_of(provisioner)).split("/")[-1].removesuffix(".ics")
    body = calendar_feed(core, secret)
    with core.db.read() as session:
        hashes = session.scalars(select(ApiToken.secret_hash)).all()
    assert not any(h.encode() in body for h in hashes)


def test_a_token_expiring_at_the_end_of_the_calendar_never_breaks_the_feed(
    client: TestClient, core: Core, admin_actor: Actor, provisioner: User
) -> None:
    """Tokens can no longer be created this far out, but an imported or older one may be."""
    token = create_token(core, admin_actor, description="forever").token
    with core.db.transaction() as session:
        stored = session.get(ApiToken, token.id)
        assert stored is not None
        stored.expires_at = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    own = create_token(core, admin_actor, description="own", user_id=provisioner.id).secret
    url = client.post("/api/v2/calendar_feed/rotate", headers=basic(provisioner.email, own))
    assert url.status_code == 200, url.text
    feed = client.get(url.json()["calendar_feed"]["url"].removeprefix("http://testserver"))
    assert feed.status_code == 200
    assert any("9999" in str(e.get("dtstart").to_ical()) for e in parse(feed.content).events)
