"""``/admin/people``: the account's users; Add (and invite), Edit, Invite, Suspend, Unsuspend.

A person is added without a password: they are invited to choose one through a private
channel (their e-mail, a Slack direct message). When no such channel exists the invitation
operation says so, and the page shows its explanation. Suspending someone ends their
sessions at once (the user operations decide that, not this page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tokenry.domain.errors import Conflict, Invalid
from tokenry.domain.users import Role
from tokenry.operations.context import PageRequest
from tokenry.operations.invitations import invite_user, open_invitations
from tokenry.operations.users import create_user, list_users, show_user, update_user, user_emails
from tokenry.operations.web_sessions import WebUser
from tokenry.web.render import TEMPLATES, core_of, redirect, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, field, web_actor

router = APIRouter(prefix="/admin/people", route_class=WebRoute, include_in_schema=False)
Action = Literal["invite", "suspend", "unsuspend"]
PER_PAGE = 50
ROLES = ((Role.END_USER.value, "End user"), (Role.AGENT.value, "Agent"),
         (Role.ADMIN.value, "Admin"))
FIELDS = ("name", "email", "role", "manager")
CONFIRM = {
    "invite": ("Send an invitation?", "Send invitation",
               "They get a one-time link, privately, to choose a password. An earlier link "
               "stops working."),
    "suspend": ("Suspend this person?", "Suspend",
                "They are signed out at once and cannot sign in or use the API with their "
                "password until unsuspended. Their API tokens are not changed."),
    "unsuspend": ("Unsuspend this person?", "Unsuspend", "They can sign in again."),
}


def _list_page(request: Request, user: WebUser, *, page: int = 1,
               add_errors: dict[str, list[str]] | None = None,
               add_values: dict[str, str] | None = None, notice: str | None = None,
               status_code: int = 200) -> HTMLResponse:
    core, actor = core_of(request), web_actor(request, user)
    result = list_users(core, actor, PageRequest(page, PER_PAGE))
    managers = user_emails(core, actor, {p.manager_id for p in result.items if p.manager_id})
    invited = open_invitations(core, actor, {p.id for p in result.items
                                             if p.password_hash is None})
    return render(request, "people.html", {
        "page": result, "people": result.items, "managers": managers, "invited": invited,
        "roles": ROLES, "add_errors": add_errors or {}, "add_values": add_values or {},
        "notice": notice,
    }, user=user, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: SignedInUser,
          page: Annotated[int, Query(ge=1, le=10**6)] = 1) -> HTMLResponse:
    return _list_page(request, user, page=page)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, user: SignedInUser) -> HTMLResponse:
    """The Add form as a page of its own, for browsers without the page script."""
    list_users(core_of(request), web_actor(request, user), PageRequest(1, 1))  # admins only
    return render(request, "person_new.html", {"add_errors": {}, "add_values": {},
                                               "roles": ROLES}, user=user)


@router.post("", response_class=HTMLResponse)
def add(request: Request, user: SignedInUser, form: PostedForm) -> Response:
    values = {name: field(form, name) for name in FIELDS}
    provisioner = field(form, "provisioner") == "on"
    values["provisioner"] = "on" if provisioner else ""
    core, actor = core_of(request), web_actor(request, user)
    try:
        person = create_user(core, actor, email=values["email"], name=values["name"],
                             role=values["role"] or Role.END_USER,
                             manager_email=values["manager"] or None, provisioner=provisioner)
    except (Invalid, Conflict) as error:
        errors = error.details if isinstance(error, Invalid) and error.details \
            else {"email": [error.description]}
        return _list_page(request, user, add_errors=errors, add_values=values,
                          status_code=422 if isinstance(error, Invalid) else 409)
    try:
        invite_user(core, actor, person.email)
    except Conflict as error:
        return _list_page(request, user, status_code=201, notice=(
            f"{person.name} ({person.email}) was added but not invited. {error.description}"))
    return redirect("/admin/people", f"{person.name} was added and invited to set a password.")


@router.get("/{email}/edit", response_class=HTMLResponse)
def edit_page(request: Request, user: SignedInUser, email: str) -> HTMLResponse:
    core, actor = core_of(request), web_actor(request, user)
    person = show_user(core, actor, email)
    manager = user_emails(core, actor, {person.manager_id} if person.manager_id else set())
    values = {"name": person.name, "role": person.role,
              "manager": manager.get(person.manager_id or 0, ""),
              "provisioner": "on" if person.provisioner else ""}
    return _edit(request, user, person, values, {})


def _edit(request: Request, user: WebUser, person: Any, values: dict[str, str],
          errors: dict[str, list[str]], status_code: int = 200) -> HTMLResponse:
    return render(request, "person_edit.html", {
        "person": person, "values": values, "errors": errors, "roles": ROLES},
        user=user, status_code=status_code)


@router.post("/{email}/edit", response_class=HTMLResponse)
def edit(request: Request, user: SignedInUser, form: PostedForm, email: str) -> Response:
    values = {name: field(form, name) for name in ("name", "role", "manager")}
    values["provisioner"] = "on" if field(form, "provisioner") == "on" else ""
    core, actor = core_of(request), web_actor(request, user)
    try:
        person = update_user(core, actor, email, name=values["name"], role=values["role"],
                             manager_email=values["manager"],
                             provisioner=bool(values["provisioner"]))
    except Invalid as error:
        errors = error.details or {"name": [error.description]}
        return _edit(request, user, show_user(core, actor, email), values, errors,
                     status_code=422)
    return redirect("/admin/people", f"{person.name} was saved.")


@router.get("/{email}/{action}", response_class=HTMLResponse)
def confirm_page(request: Request, user: SignedInUser, email: str,
                 action: Action) -> HTMLResponse:
    """The confirmation as a page, for browsers without the page script."""
    person = show_user(core_of(request), web_actor(request, user), email)
    title, button, message = CONFIRM[action]
    return render(request, "confirm.html", {
        "title": title, "button": button, "danger": action == "suspend",
        "message": f"{person.name} ({person.email}). {message}",
        "action": f"/admin/people/{quote(person.email)}/{action}", "back": "/admin/people",
    }, user=user)


@router.post("/{email}/{action}")
def act(request: Request, user: SignedInUser, form: PostedForm, email: str,
        action: Action) -> Response:
    core, actor = core_of(request), web_actor(request, user)
    if action == "invite":
        invited = invite_user(core, actor, email)
        until = f"{invited.expires_at:%Y-%m-%d %H:%M} UTC"
        return redirect("/admin/people", f"An invitation was sent to {invited.email}; "
                                         f"its link works until {until}.")
    person = update_user(core, actor, email, suspended=action == "suspend")
    done = "suspended and signed out" if person.suspended else "unsuspended"
    return redirect("/admin/people", f"{person.name} was {done}.")


def person_status(person: Any, invited: dict[int, datetime]) -> tuple[str, str]:
    """The badge of a person: its label and its tone."""
    if person.suspended:
        return "Suspended", "bad"
    if not person.verified:
        return "Unverified", "warn"
    if person.password_hash is None:
        return ("Invited, no password yet" if person.id in invited else "No password yet"), "warn"
    return "Active", "ok"


TEMPLATES.env.globals["person_status"] = person_status
