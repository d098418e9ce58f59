"""TokenActivity: API requests over 24 hours, 7 days or 30 days, and their top sources.

Read from the per-minute usage counters the authentication path already records (by token,
caller and endpoint). For admins of the account; one token's activity with ``token_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tokenry.core import Core
from tokenry.domain import activity
from tokenry.operations._common import find_token, require_account_admin
from tokenry.operations.context import Actor
from tokenry.storage.models import ApiToken, UsageCounter, User

TOP = 10


@dataclass(frozen=True)
class Activity:
    period: str
    start: datetime
    end: datetime
    total: int
    series: list[tuple[datetime, int]]
    tokens: list[dict[str, Any]]
    callers: list[dict[str, Any]]
    endpoints: list[dict[str, Any]]


def token_activity(core: Core, actor: Actor, period: str = "24h",
                   token_id: int | None = None) -> Activity:
    now = core.clock()
    span = activity.window(period, now)
    with core.db.read() as session:
        require_account_admin(session, actor, "see API activity")
        if token_id is not None:
            find_token(session, actor, token_id)
        where = [UsageCounter.account_id == actor.account_id, UsageCounter.minute >= span.start,
                 UsageCounter.minute < span.end]
        if token_id is not None:
            where.append(UsageCounter.token_id == token_id)
        total = func.sum(UsageCounter.count).label("total")

        def top(*columns: Any) -> list[Any]:
            return list(session.execute(select(*columns, total).where(*where)
                                        .group_by(*columns).order_by(total.desc(), *columns)
                                        .limit(TOP)))

        per_minute = session.execute(select(UsageCounter.minute, total).where(*where)
                                     .group_by(UsageCounter.minute)).all()
        tokens = top(UsageCounter.token_id)
        callers = top(UsageCounter.user_id, UsageCounter.ip_address)
        endpoints = top(UsageCounter.endpoint)
        names = {row.id: (row.display, row.description) for row in session.execute(
            select(ApiToken.id, ApiToken.display, ApiToken.description).where(
                ApiToken.id.in_([t.token_id for t in tokens])))}
        emails = dict(session.execute(select(User.id, User.email).where(
            User.id.in_([c.user_id for c in callers]))).all())
    points = activity.series(span, ((m, int(n)) for m, n in per_minute))
    return Activity(
        period=period, start=span.start, end=span.end, total=sum(n for _, n in points),
        series=points,
        tokens=[{"token_id": t.token_id, "token": names.get(t.token_id, ("(deleted)", ""))[0],
                 "description": names.get(t.token_id, ("", ""))[1], "count": int(t.total)}
                for t in tokens],
        callers=[{"user_id": c.user_id, "email": emails.get(c.user_id), "ip_address":
                  c.ip_address, "count": int(c.total)} for c in callers],
        endpoints=[{"endpoint": e.endpoint, "count": int(e.total)} for e in endpoints])
