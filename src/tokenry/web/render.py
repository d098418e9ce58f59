"""Rendering Admin Center pages: one Jinja2 environment, the common context, the headers.

Every page is ``no-store``: pages show people's data, and some show a secret once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from tokenry.core import Core
from tokenry.domain import web_sessions
from tokenry.domain.timefmt import iso
from tokenry.operations.web_sessions import WebUser

WEB = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=WEB / "templates")
# Referrer and Origin go to this site only: forms are checked against their Origin header,
# which a no-referrer policy would blank to "null".
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}
FLASH = "tokenry_flash"


def ago(moment: datetime | None, now: datetime) -> str:
    """``3 minutes ago``; ``in 2 days`` for the future."""
    if moment is None:
        return ""
    seconds = int((now - moment).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in under a minute"
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"),
                       (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return ""  # unreachable: seconds >= 60 here


def exact(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def thousands(number: int) -> str:
    """A count as people read it: 10,000, not 10000."""
    return f"{number:,}"


TEMPLATES.env.filters["exact"] = exact
TEMPLATES.env.filters["thousands"] = thousands
TEMPLATES.env.filters["iso"] = iso
TEMPLATES.env.globals["ago"] = ago


def core_of(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


def csrf_for(core: Core, user: WebUser) -> str:
    return web_sessions.csrf_token(core.server_key, user.session_hash)


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           user: WebUser | None = None, status_code: int = 200, csrf: str | None = None,
           instance: str | None = None) -> HTMLResponse:
    core = core_of(request)
    flash = request.cookies.get(FLASH)
    values: dict[str, Any] = {
        "user": user, "now": core.clock(), "path": request.url.path,
        "instance": user.instance_name if user else instance,
        "csrf": csrf if csrf is not None else (csrf_for(core, user) if user else ""),
        "flash": unquote(flash)[:300] if flash else None,
    }
    values.update(context or {})
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code,
                                          headers=NO_STORE)
    if flash:
        response.delete_cookie(FLASH, path="/")
    return response


def redirect(to: str, flash: str | None = None) -> RedirectResponse:
    """POST, then redirect, then GET: a reload never repeats an action."""
    response = RedirectResponse(to, status_code=303, headers=NO_STORE)
    if flash:
        response.set_cookie(FLASH, quote(flash), max_age=60, path="/", httponly=True,
                            samesite="lax")
    return response
