"""Calendars of removal dates: a provisioner's secret-address feed and one request's event.

``GET /calendar/{secret}.ics`` takes no Authorization header because calendar clients cannot
send one: the secret in the address is the credential. :class:`RedactFeedSecrets` keeps that
secret out of the access log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from tokenry import schemas
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import NO_STORE, answers, header
from tokenry.http.params import RecordId
from tokenry.http.scopes import scoped
from tokenry.operations.calendar_feeds import (
    calendar_feed,
    request_calendar,
    rotate_calendar_feed,
)

router = APIRouter(tags=["calendar"])
ICALENDAR = "text/calendar; charset=utf-8"
ICS = answers(None, 403, 404, 422, headers={
    "Content-Disposition": header("attachment; filename=...", required=True)})
ICS[200]["content"] = {"text/calendar": {"schema": {"type": "string"}}}


@router.post("/api/v2/calendar_feed/rotate", summary="Create or replace your calendar feed",
             dependencies=[scoped("access_requests")],
             operation_id="rotateCalendarFeed",
             responses=answers(schemas.CalendarFeedBody, 403, headers=NO_STORE))
def rotate_feed(core: CoreDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return {"calendar_feed": {"url": rotate_calendar_feed(core, actor)}}


@router.get("/calendar/{secret}.ics", include_in_schema=False)
def feed(core: CoreDep, secret: str) -> Response:
    return Response(calendar_feed(core, secret), media_type=ICALENDAR,
                    headers={"Cache-Control": "no-store"})


@router.get("/api/v2/access_requests/{request_id}/calendar.ics",
            dependencies=[scoped("access_requests")],
            summary="Download a request's removal date as an iCalendar event",
            operation_id="downloadRequestCalendar", response_class=Response,
            responses=ICS)
def request_event(core: CoreDep, actor: CurrentActor, request_id: RecordId) -> Response:
    return Response(request_calendar(core, actor, request_id), media_type=ICALENDAR, headers={
        "Content-Disposition": f'attachment; filename="access-request-{request_id}.ics"'})
