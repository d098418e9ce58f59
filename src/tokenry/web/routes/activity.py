"""``/admin/api_tokens/activity``: API requests over 24 hours, 7 days or 30 days, and who made
them, for the whole account or one token (``?token_id=N``).

The same ``token_activity`` operation as ``GET /api/v2/api_tokens/activity``; the chart is
drawn here as SVG, with its numbers in a table beside it. Query parameters are read as text so
that a mistyped address gets a message on the page rather than a validation error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tokenry.domain.activity import PERIODS
from tokenry.domain.text import MAX_ID
from tokenry.operations.token_activity import token_activity
from tokenry.operations.token_queries import show_token
from tokenry.web.charts import bar_chart, bucket_label
from tokenry.web.render import core_of, render
from tokenry.web.session import SignedInUser, WebRoute, web_actor

router = APIRouter(prefix="/admin/api_tokens", route_class=WebRoute, include_in_schema=False)
SPANS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}
BUCKETS = {timedelta(hours=1): "hour", timedelta(hours=6): "6 hours", timedelta(days=1): "day"}


def _token_id(value: str) -> int | None:
    if not value:
        return None
    if value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise ValueError


@router.get("/activity", response_class=HTMLResponse)
def activity_page(request: Request, user: SignedInUser, period: str = "24h",
                  token_id: str = "") -> HTMLResponse:
    core, actor = core_of(request), web_actor(request, user)
    problems = []
    if period not in PERIODS:
        problems.append(f"There is no period {period[:20]!r}: showing the last 24 hours.")
        period = "24h"
    try:
        wanted = _token_id(token_id.strip())
    except ValueError:
        problems.append(f"{token_id[:20]!r} is not a token id: showing every token.")
        wanted = None
    token = show_token(core, actor, wanted) if wanted is not None else None
    found = token_activity(core, actor, period, wanted)
    width = PERIODS[period][1]
    span = SPANS[period]
    busiest = max(found.series, key=lambda point: point[1], default=None)
    summary = f"Bar chart: {found.total:,} API request{'' if found.total == 1 else 's'} " \
              f"in the last {span}, one bar per {BUCKETS[width]}"
    if busiest and busiest[1]:
        summary += f"; busiest {bucket_label(busiest[0], width, long=True)} UTC " \
                   f"with {busiest[1]:,}"
    context: dict[str, Any] = {
        "tab": "activity", "activity": found, "period": period, "spans": SPANS,
        "span": span, "token": token, "busiest": busiest, "problems": problems,
        "bucket": BUCKETS[width],
        "chart": bar_chart(found.series, width, label=summary + ".") if found.total else None,
        "label": lambda start: bucket_label(start, width, long=True),
        "links": {name: f"/admin/api_tokens/activity?period={name}"
                  + (f"&token_id={token.id}" if token else "") for name in SPANS},
    }
    return render(request, "activity.html", context, user=user)
