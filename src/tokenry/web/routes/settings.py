"""``/admin/settings``: the account's API access switches and its other settings.

Every change goes through the same update operation as the API and the CLI, which validates
and audits it. Turning token access off deactivates every active token at once, so the page
explains that and asks first (a dialog, or a page of its own without the script). Secrets
are write-only: the page says whether one is set, takes a new one, or clears it.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from tokenry.domain.errors import Invalid
from tokenry.domain.settings import GROUPS, SECRET_SETTINGS, coerce
from tokenry.operations.account_settings import get_account_settings, update_account_settings
from tokenry.operations.web_sessions import WebUser
from tokenry.web.render import core_of, redirect, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, field, web_actor
from tokenry.web.setting_fields import TEXT, TITLES, form_fields

router = APIRouter(prefix="/admin/settings", route_class=WebRoute, include_in_schema=False)
Switch = Literal["token_access", "password_access", "require_request"]
State = Literal["on", "off"]
Group = Literal["governance", "notifications", "instance"]
SWITCH_OFF_EXPLAINED = ("Every active API token of this account is deactivated at once, and API "
                    "requests made with a token are refused. Turning token access back on "
                    "later reactivates none of them: each must be reactivated by hand.")


def _page(request: Request, user: WebUser, *, group: str | None = None,
          typed: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
          status_code: int = 200) -> HTMLResponse:
    values = get_account_settings(core_of(request), web_actor(request, user)).as_dict()
    sections = [(name, TITLES[name], form_fields(name, values, typed if name == group else None))
                for name in GROUPS if name != "api"]
    switches = [(name, *TEXT[name], values[name]) for name in GROUPS["api"]]
    return render(request, "settings.html", {
        "switches": switches, "sections": sections, "errors": errors or {},
        "failed": group, "switch_off_explained": SWITCH_OFF_EXPLAINED,
    }, user=user, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: SignedInUser) -> HTMLResponse:
    return _page(request, user)


@router.get("/api/{name}/{state}", response_class=HTMLResponse)
def confirm_switch(request: Request, user: SignedInUser, name: Switch,
                   state: State) -> HTMLResponse:
    """The confirmation as a page, for browsers without the page script."""
    get_account_settings(core_of(request), web_actor(request, user))  # admins only
    label = TEXT[name][0]
    message = SWITCH_OFF_EXPLAINED if (name, state) == ("token_access", "off") \
        else f"{TEXT[name][1]} This takes effect at once."
    return render(request, "confirm.html", {
        "title": f"Turn {label.lower()} {state}?", "button": f"Turn {state}",
        "danger": state == "off", "message": message,
        "action": f"/admin/settings/api/{name}/{state}", "back": "/admin/settings",
    }, user=user)


@router.post("/api/{name}/{state}")
def switch(request: Request, user: SignedInUser, form: PostedForm, name: Switch,
           state: State) -> Response:
    update_account_settings(core_of(request), web_actor(request, user), {name: state == "on"})
    flash = f"{TEXT[name][0]} is now {state}."
    if (name, state) == ("token_access", "off"):
        flash += " Every active API token was deactivated."
    return redirect("/admin/settings", flash)


def _updates(group: str, form: FormData,
             current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the form asks to change, and what was typed (to show again beside errors)."""
    updates: dict[str, Any] = {}
    typed: dict[str, Any] = {}
    for name in GROUPS[group]:
        if name in SECRET_SETTINGS:
            if field(form, f"clear_{name}") == "on":
                updates[name] = ""
            elif replacement := field(form, name):
                updates[name] = replacement  # left empty: the secret is kept
            continue
        if isinstance(current[name], bool):  # an unticked checkbox is not sent at all
            updates[name] = typed[name] = field(form, name) == "on"
        else:
            updates[name] = typed[name] = field(form, name)
    return updates, typed


@router.post("/{group}", response_class=HTMLResponse)
def save(request: Request, user: SignedInUser, form: PostedForm, group: Group) -> Response:
    core, actor = core_of(request), web_actor(request, user)
    current = get_account_settings(core, actor).as_dict()
    updates, typed = _updates(group, form, current)
    errors: dict[str, list[str]] = {}
    for name, value in list(updates.items()):  # every field's problem at once
        try:
            wanted = coerce(name, value)
        except Invalid as error:
            errors.update(error.details or {name: [error.description]})
            continue
        if name not in SECRET_SETTINGS and _same(wanted, current[name]):
            del updates[name]  # only what changed is sent, so only that is checked again
    try:
        if not errors:
            update_account_settings(core, actor, updates)
    except Invalid as error:
        errors = error.details or {GROUPS[group][0]: [error.description]}
    if errors:
        return _page(request, user, group=group, typed=typed, errors=errors,
                     status_code=422)
    return redirect(f"/admin/settings#{group}", f"The {TITLES[group].lower()} settings "
                                                  "were saved.")


def _same(wanted: Any, current: Any) -> bool:
    return bool((list(wanted) if isinstance(wanted, tuple) else wanted) == current)
