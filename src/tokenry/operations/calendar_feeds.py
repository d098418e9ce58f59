"""RotateCalendarFeed, CalendarFeed and RequestCalendar: removal dates as iCalendar.

A provisioner's feed lives at a secret address, and that secret is the only credential. We
store only its hash. Rotating the feed replaces the hash at once, and the feed answers only
while its owner can still sign in and provision. A calendar never contains a token secret
or the feed secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import RequestKind
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Forbidden, NotFound
from tokenry.domain.users import Role, may_sign_in
from tokenry.operations._common import acting_user, audit
from tokenry.operations._requests import find_request, link_of, request_link
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, ApiToken, CalendarFeed, OAuthClient, User
from tokenry.storage.queries import matches

SOURCE_TYPE = SourceType.CALENDAR_FEED
PRODID = "-//tokenry//API token removal dates//EN"
NO_FEED = "There is no calendar feed at this address."


def _may_provision(user: User) -> bool:
    return user.provisioner and user.role == Role.ADMIN and may_sign_in(
        verified=user.verified, suspended=user.suspended)


def rotate_calendar_feed(core: Core, actor: Actor) -> str:
    """Create or replace the actor's feed; returns its secret address, shown this once."""
    secret = secrets.token_urlsafe(32)
    with core.db.transaction() as session:
        user = acting_user(session, actor)
        if user is None or not _may_provision(user):
            raise Forbidden("Only a provisioner of this account can have a calendar feed.")
        # Locking the owner serialises two rotations, so neither trips the unique user_id.
        session.execute(select(User.id).where(User.id == user.id).with_for_update())
        feed = session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
        if feed is None:
            action, what = Action.CREATE, f"Created the calendar feed of {user.email}"
            feed = CalendarFeed(account_id=user.account_id, user_id=user.id)
            session.add(feed)
        else:
            action = Action.ROTATE
            what = f"Rotated the calendar feed of {user.email}; the old address no longer works"
        feed.secret_hash, feed.key_id = core.hasher.stamp(secret)
        feed.created_at = core.clock()
        session.flush()
        audit(session, core, actor, action=action, source_type=SOURCE_TYPE, source_id=feed.id,
              source_label=f"calendar feed of {user.email}", description=what)
    return f"{core.settings.base_url}/calendar/{secret}.ics"


def calendar_feed_created(core: Core, actor: Actor) -> datetime | None:
    """When the actor's feed address was made (its secret is not kept); None: no feed."""
    with core.db.read() as session:
        return session.scalar(select(CalendarFeed.created_at).where(
            CalendarFeed.account_id == actor.account_id, CalendarFeed.user_id == actor.user_id))


def calendar_feed(core: Core, secret: str) -> bytes:
    """Every removal date of the feed owner's account, one all-day event per token and per
    integration's OAuth client."""
    with core.db.read() as session:
        feed = session.scalar(select(CalendarFeed).where(
            matches(CalendarFeed.secret_hash, core.hasher.candidates(secret))))
        owner = session.get(User, feed.user_id) if feed else None
        if owner is None or not _may_provision(owner):
            raise NotFound(NO_FEED)
        tokens = list(session.scalars(select(ApiToken).where(
            ApiToken.account_id == owner.account_id, ApiToken.expires_at.is_not(None),
        ).order_by(ApiToken.expires_at, ApiToken.id)))
        clients = list(session.scalars(select(OAuthClient).where(
            OAuthClient.account_id == owner.account_id, OAuthClient.expires_at.is_not(None),
        ).order_by(OAuthClient.expires_at, OAuthClient.id)))
        requests = {r.id: r for r in session.scalars(select(AccessRequest).where(
            AccessRequest.id.in_({c.access_request_id for c in clients
                                  if c.access_request_id is not None})))}
        holders = _users(session, {t.user_id for t in tokens if t.user_id is not None}
                         | {r.holder_id for r in requests.values()})
    calendar = _calendar(f"removals-{owner.account_id}@tokenry", "tokenry: API token removals")
    for token in tokens:
        holder = holders.get(token.user_id) if token.user_id is not None else None
        calendar.add_component(_token_event(core, token, holder))
    for client in clients:
        request = requests.get(client.access_request_id or 0)
        holder = holders.get(request.holder_id) if request is not None else None
        calendar.add_component(_client_event(core, client, holder))
    return _ical(calendar)


def request_calendar(core: Core, actor: Actor, request_id: int) -> bytes:
    """One event on the request's removal date, for the people involved in the request."""
    with core.db.read() as session:
        request = find_request(session, actor.account_id, request_id)
        _check_may_see(session, actor, request)
        holder = session.get(User, request.holder_id)
        token = session.get(ApiToken, request.token_id) if request.token_id else None
    link = link_of(core, request)
    lines = [f"Access request: {link}", f"Service: {request.service_name}",
             f"Holder: {_person(holder)}", f"State: {request.state}"]
    if token is not None:
        lines.insert(0, f"API token: {token.display}")
    calendar = _calendar(f"request-{request.id}-calendar@tokenry",
                         f"tokenry: access request {request.id}")
    calendar.add_component(_event(core, uid=f"request-{request.id}@tokenry",
                                  day=request.removal_date, url=link, lines=lines,
                                  summary=f"Remove {RequestKind(request.kind).label} for "
                                          f"{request.service_name}"))
    return _ical(calendar)


def _check_may_see(session: Session, actor: Actor, request: AccessRequest) -> None:
    viewer = acting_user(session, actor)
    if viewer is None or viewer.role == Role.ADMIN or viewer.provisioner:
        return
    if viewer.id in (request.requester_id, request.holder_id):
        return
    requester = session.get(User, request.requester_id)
    if requester is not None and requester.manager_id == viewer.id:
        return
    raise Forbidden("Only the requester, the holder, the requester's manager, provisioners and "
                    "admins can see this request's calendar.")


def _users(session: Session, ids: Iterable[int]) -> dict[int, User]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def _person(user: User | None) -> str:
    return f"{user.name} <{user.email}>" if user else "nobody (not bound to a user)"


def _calendar(uid: str, name: str) -> Calendar:
    return Calendar.new(prodid=PRODID, uid=uid, name=name)


def _ical(calendar: Calendar) -> bytes:
    text: bytes = calendar.to_ical()
    return text


def _token_event(core: Core, token: ApiToken, holder: User | None) -> Event:
    assert token.expires_at is not None
    lines = [f"API token: {token.display}",
             f"Expires: {token.expires_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
             f"Holder: {_person(holder)}",
             f"Status: {'active' if token.active else 'deactivated'}"]
    link = None
    if token.access_request_id is not None:
        link = request_link(core, token.account_id, token.access_request_id)
        lines.insert(1, f"Access request: {link}")
    return _event(core, uid=f"token-{token.id}@tokenry", url=link, lines=lines,
                  day=token.expires_at.astimezone(UTC).date(),
                  summary=f"Remove API token: {token.description or token.display}",
                  remind=token.active)


def _client_event(core: Core, client: OAuthClient, holder: User | None) -> Event:
    assert client.expires_at is not None
    lines = [f"OAuth client: {client.identifier}",
             f"Expires: {client.expires_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
             f"Holder: {_person(holder)}",
             f"Status: {'active' if client.active else 'switched off'}"]
    link = None
    if client.access_request_id is not None:
        link = request_link(core, client.account_id, client.access_request_id)
        lines.insert(1, f"Access request: {link}")
    return _event(core, uid=f"oauth-client-{client.id}@tokenry", url=link, lines=lines,
                  day=client.expires_at.astimezone(UTC).date(),
                  summary=f"Remove integration: {client.name}", remind=client.active)


def _event(core: Core, *, uid: str, day: date, summary: str, lines: list[str],
           url: str | None, remind: bool = True) -> Event:
    stamp: datetime = core.clock()
    # An all-day event ends the next day; on the calendar's last day (an imported token that
    # "never" expires) it ends that same day rather than overflow.
    end = day + timedelta(days=1) if day < date.max else day
    event = Event.new(uid=uid, start=day, end=end, summary=summary,
                      description="\n".join(lines), url=url, stamp=stamp)
    if remind:
        alarm = Alarm.new(description=f"Tomorrow: {summary}")
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
    return event
