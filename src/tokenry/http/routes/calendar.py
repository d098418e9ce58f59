"""Calendars of removal dates: a provisioner's secret-address feed and one request's event.

``GET /calendar/{secret}.ics`` takes no Authorization header because calendar clients cannot
send one: the secret in the address is the credential. :class:`RedactFeedSecrets` keeps that
secret out of the access log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.params import RecordId
from tokenry.operations.calendar_feeds import (
    calendar_feed,
    request_calendar,
    rotate_calendar_feed,
)

router = APIRouter(tags=["calendar"])
ICALENDAR = "text/calendar; charset=utf-8"


@router.post("/api/v2/calendar_feed/rotate", summary="Create or replace your calendar feed")
def rotate_feed(core: CoreDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return {"calendar_feed": {"url": rotate_calendar_feed(core, actor)}}


@router.get("/calendar/{secret}.ics", include_in_schema=False)
def feed(core: CoreDep, secret: str) -> Response:
    return Response(calendar_feed(core, secret), media_type=ICALENDAR,
                    headers={"Cache-Control": "no-store"})


@router.get("/api/v2/access_requests/{request_id}/calendar.ics",
            summary="Download a request's removal date as an iCalendar event")
def request_event(core: CoreDep, actor: CurrentActor, request_id: RecordId) -> Response:
    return Response(request_calendar(core, actor, request_id), media_type=ICALENDAR, headers={
        "Content-Disposition": f'attachment; filename="access-request-{request_id}.ics"'})
