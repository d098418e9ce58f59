"""``/admin/audit_log``: the account's audit events, newest first, filtered by token, actor,
action and dates, 50 to a page.

The same ``list_audit_events`` operation as ``GET /api/v2/audit_logs``. The filters arrive as
text: a mistyped date or id is named on the page beside its field, never a validation error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Forbidden, Invalid, NotFound
from tokenry.domain.text import MAX_ID, MAX_PAGE
from tokenry.operations.audit_log import AuditFilter, list_audit_events
from tokenry.operations.context import Actor, PageRequest
from tokenry.operations.token_queries import show_token
from tokenry.operations.users import show_user, user_emails
from tokenry.web.render import TEMPLATES, core_of, render
from tokenry.web.session import SignedInUser, WebRoute, web_actor

router = APIRouter(prefix="/admin/audit_log", route_class=WebRoute, include_in_schema=False)
PER_PAGE = 50
Text = Annotated[str, Query(max_length=300)]


@dataclass
class Filters:
    """What the visitor typed, what it means, and what was wrong with it (by field)."""

    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    token_id: int | None = None
    user_id: int | None = None  # events about this person (not by them: that is actor)
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1

    def query(self, **changes: Any) -> str:
        """This page's address with these filters (and the page number) kept."""
        values = {k: v for k, v in self.typed.items() if v and k != "page"}
        values.update({k: str(v) for k, v in changes.items()})
        return "/admin/audit_log" + (f"?{urlencode(values)}" if values else "")


def _id(value: str) -> int | None:
    if not value:
        return None
    if value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise ValueError


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def read_filters(core: Any, actor: Actor, typed: dict[str, str]) -> Filters:
    found = Filters(typed)
    try:
        found.token_id = _id(typed["token_id"])
    except ValueError:
        found.errors["token_id"] = "Enter a token id: a whole number such as 17."  # noqa: S105
    try:
        found.user_id = _id(typed["user_id"])
    except ValueError:
        found.errors["user_id"] = "Enter a user id: a whole number such as 3."
    if found.token_id and found.user_id:
        found.errors["user_id"] = "Show the events of a token or of a person, not both."
    who = typed["actor"]
    try:
        found.actor_id = _id(who) if who.isdigit() or not who else None
    except ValueError:
        found.errors["actor"] = "Enter an email address or a user id such as 3."
    if who and not who.isdigit():
        try:
            found.actor_id = show_user(core, actor, who).id
        except (NotFound, Invalid):
            found.errors["actor"] = f"There is no user {who[:100]!r} in this account."
    if typed["action"] and typed["action"] not in set(Action):
        found.errors["action"] = "Choose an action from the list."
    for name in ("from", "to"):
        try:
            day = _day(typed[name])
        except ValueError:
            found.errors[name] = "Enter a date such as 2027-04-30."
            continue
        if day is not None and name == "from":
            found.since = datetime.combine(day, time.min, UTC)
        elif day is not None:
            found.until = datetime.combine(day, time.max, UTC)
    if found.since and found.until and found.since > found.until:
        found.errors["to"] = "The end date is before the start date."
    page = typed["page"]
    if page and not (page.isdigit() and 1 <= int(page) <= MAX_PAGE):
        found.errors["page"] = "There is no such page: showing the first."
    elif page:
        found.page = int(page)
    return found


def _heading_token(core: Any, actor: Actor, token_id: int, events: list[Any]) -> str:
    """The token's description and truncated form; its last known label once deleted."""
    try:
        token = show_token(core, actor, token_id)
    except (NotFound, Forbidden):
        return events[0].source_label if events else f"token {token_id}"
    return f"{token.description or 'Untitled token'} ({token.display})"


@router.get("", response_class=HTMLResponse)
def audit_log(request: Request, user: SignedInUser, token_id: Text = "", user_id: Text = "",
              actor: Text = "",
              action: Text = "", since: Annotated[str, Query(alias="from", max_length=300)] = "",
              until: Annotated[str, Query(alias="to", max_length=300)] = "",
              page: Text = "") -> HTMLResponse:
    core, who = core_of(request), web_actor(request, user)
    typed = {"token_id": token_id.strip(), "user_id": user_id.strip(), "actor": actor.strip(),
             "action": action.strip(), "from": since.strip(), "to": until.strip(),
             "page": page.strip()}
    filters = read_filters(core, who, typed)
    result = None
    blocking = {k for k in filters.errors if k != "page"}
    if not blocking:
        source_type = SourceType.API_TOKEN if filters.token_id else (
            SourceType.USER if filters.user_id else None)
        wanted = AuditFilter(
            source_type=source_type, source_id=filters.token_id or filters.user_id,
            actor_id=filters.actor_id,
            action=typed["action"] or None, since=filters.since, until=filters.until)
        result = list_audit_events(core, who, wanted, PageRequest(filters.page, PER_PAGE))
    heading = None
    if filters.token_id and result is not None:
        heading = _heading_token(core, who, filters.token_id, result.items)
    elif filters.user_id and result is not None:
        heading = user_emails(core, who, {filters.user_id}).get(filters.user_id) \
            or f"user {filters.user_id}"
    return render(request, "audit_log.html", {
        "filters": filters, "typed": typed, "errors": filters.errors, "result": result,
        "actions": list(Action), "heading": heading,
    }, user=user, status_code=422 if blocking else 200)


def shown(value: Any) -> str:
    """A before or after value as a person reads it."""
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def change_rows(changes: Any) -> list[tuple[str, str | None, str]]:
    """``field: before → after`` rows; a value recorded alone is an after with no before."""
    if not isinstance(changes, dict):
        return []
    rows: list[tuple[str, str | None, str]] = []
    for name, value in changes.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            rows.append((str(name), shown(value[0]), shown(value[1])))
        else:
            rows.append((str(name), None, shown(value)))
    return rows


def source_link(event: Any) -> str | None:
    if event.source_id is None:
        return None
    return {SourceType.API_TOKEN: f"/admin/audit_log?token_id={event.source_id}",
            SourceType.ACCESS_REQUEST: f"/requests/{event.source_id}"}.get(event.source_type)


def credential_token(credential: str) -> int | None:
    """The token id in a credential such as ``token 17``."""
    match = re.fullmatch(r"token (\d+)", credential or "")
    return int(match.group(1)) if match else None


TEMPLATES.env.globals.update(change_rows=change_rows, source_link=source_link,
                             credential_token=credential_token)
