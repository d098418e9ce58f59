"""``/admin/api_tokens``: the token list, Add, Edit, Deactivate, Reactivate and Delete.

Each action is a form that POSTs to a route calling the same operation as the API. With the
page script, Add opens a dialog and the row actions ask in a dialog; without it they open a
page of their own. The full token is shown once, in the response to Add, which is
``no-store``; closing its dialog removes it from the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from tokenry.domain.errors import Forbidden, Invalid, NotFound
from tokenry.domain.text import MAX_ID
from tokenry.operations.context import PageRequest
from tokenry.operations.create_token import CreatedToken, create_token
from tokenry.operations.delete_token import delete_token
from tokenry.operations.token_queries import Status, TokenFilter, list_tokens, show_token
from tokenry.operations.update_token import update_token
from tokenry.operations.users import list_users, show_user, user_emails
from tokenry.operations.web_sessions import WebUser
from tokenry.web.forms import expiry
from tokenry.web.render import TEMPLATES, core_of, redirect, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, field, web_actor

router = APIRouter(prefix="/admin/api_tokens", route_class=WebRoute, include_in_schema=False)
Action = Literal["deactivate", "reactivate", "delete"]
TokenId = Annotated[int, Query(ge=1, le=MAX_ID)]
CONFIRM = {
    "deactivate": ("Deactivate this token?", "Deactivate",
                   "Requests made with it are refused at once. You can reactivate it later."),
    "reactivate": ("Reactivate this token?", "Reactivate",
                   "Requests made with it are accepted again at once."),
    "delete": ("Delete this token?", "Delete",
               "It is removed for good; its audit history stays. This cannot be undone."),
}


def _list_page(request: Request, user: WebUser, *, status: str = "all", q: str = "",
               page: int = 1, created: CreatedToken | None = None,
               add_errors: dict[str, list[str]] | None = None,
               add_values: dict[str, str] | None = None, status_code: int = 200
               ) -> HTMLResponse:
    core = core_of(request)
    actor = web_actor(request, user)
    statuses: dict[str, Status] = {"active": "active", "inactive": "inactive"}
    wanted = TokenFilter(status=statuses.get(status, "all"), text=q[:100])
    result = list_tokens(core, actor, PageRequest(page, 100), wanted)
    bound = user_emails(core, actor, {t.user_id for t in result.items if t.user_id})
    people = list_users(core, actor, PageRequest(1, 100)).items
    return render(request, "tokens.html", {
        "people": people,
        "page": result, "tokens": result.items, "bound": bound, "status": wanted.status,
        "q": wanted.text, "created": created, "add_errors": add_errors or {},
        "add_values": add_values or {}, "tab": "tokens",
    }, user=user, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: SignedInUser, status: str = "all",
          q: Annotated[str, Query(max_length=100)] = "",
          page: Annotated[int, Query(ge=1, le=10**6)] = 1) -> HTMLResponse:
    try:
        return _list_page(request, user, status=status, q=q, page=page)
    except Forbidden as refused:
        # token access off, or not an admin: say so, and point to where it can change
        return render(request, "message.html", {
            "title": "API tokens", "message": refused.description,
            "back": "/admin/settings" if user.is_admin else "/requests",
            "back_label": "Open the settings" if user.is_admin else "Go to requests",
        }, user=user, status_code=403)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, user: SignedInUser) -> HTMLResponse:
    """The Add form as a page of its own, for browsers without the page script."""
    return render(request, "token_new.html", {"add_errors": {}, "add_values": {}}, user=user)


def _bound_user_id(request: Request, user: WebUser, email: str) -> int | None:
    if not email:
        return None
    try:
        return show_user(core_of(request), web_actor(request, user), email).id
    except (NotFound, Invalid):
        raise Invalid.field("user", f"there is no user {email!r} in this account") from None


@router.post("", response_class=HTMLResponse)
def add(request: Request, user: SignedInUser, form: PostedForm) -> HTMLResponse:
    values = {name: field(form, name) for name in ("description", "expires_at", "user",
                                                  "scopes")}
    try:
        created = create_token(core_of(request), web_actor(request, user),
                               description=values["description"] or None,
                               expires_at=expiry(values["expires_at"]),
                               user_id=_bound_user_id(request, user, values["user"]),
                               scopes=values["scopes"] or None)
    except Invalid as error:
        errors = error.details or {"description": [error.description]}
        errors = {("user" if key == "user_id" else key): texts for key, texts in errors.items()}
        return _list_page(request, user, add_errors=errors, add_values=values,
                          status_code=422)
    return _list_page(request, user, created=created, status_code=201)


@router.get("/{token_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, user: SignedInUser, token_id: int) -> HTMLResponse:
    token = show_token(core_of(request), web_actor(request, user), _checked(token_id))
    return render(request, "token_edit.html", {"token": token, "errors": {},
                                               "description": token.description}, user=user)


@router.post("/{token_id}/edit", response_class=HTMLResponse)
def edit(request: Request, user: SignedInUser, form: PostedForm, token_id: int) -> Response:
    description = field(form, "description")
    try:
        update_token(core_of(request), web_actor(request, user), _checked(token_id),
                     {"description": description})
    except Invalid as error:
        token = show_token(core_of(request), web_actor(request, user), token_id)
        return render(request, "token_edit.html", {
            "token": token, "description": description,
            "errors": error.details or {"description": [error.description]}},
            user=user, status_code=422)
    return redirect("/admin/api_tokens", "The description was saved.")


@router.get("/{token_id}/{action}", response_class=HTMLResponse)
def confirm_page(request: Request, user: SignedInUser, token_id: int,
                 action: Action) -> HTMLResponse:
    """The confirmation as a page, for browsers without the page script."""
    token = show_token(core_of(request), web_actor(request, user), _checked(token_id))
    title, button, message = CONFIRM[action]
    return render(request, "confirm.html", {
        "title": title, "button": button, "danger": action != "reactivate",
        "message": f"{token.description or 'Token'} ({token.display}). {message}",
        "action": f"/admin/api_tokens/{token.id}/{action}", "back": "/admin/api_tokens",
    }, user=user)


@router.post("/{token_id}/{action}")
def act(request: Request, user: SignedInUser, form: PostedForm, token_id: int,
        action: Action) -> Response:
    core, actor = core_of(request), web_actor(request, user)
    token_id = _checked(token_id)
    if action == "delete":
        delete_token(core, actor, token_id)
        return redirect("/admin/api_tokens", "The token was deleted.")
    token = update_token(core, actor, token_id, {"active": action == "reactivate"})
    done = "reactivated" if token.active else "deactivated"
    return redirect(_back(form), f"{token.description or token.display} was {done}.")


def _back(form: FormData) -> str:
    back = field(form, "back")
    return back if back.startswith("/admin/api_tokens") else "/admin/api_tokens"


def _checked(token_id: int) -> int:
    if not 1 <= token_id <= MAX_ID:
        raise NotFound(f"There is no API token with id {token_id}.")
    return token_id


def token_status(token: Any, now: datetime) -> tuple[str, str]:
    """The badge of a token: its label and its tone."""
    if not token.active:
        return "Inactive", "off"
    if token.expires_at is not None and token.expires_at <= now:
        return "Expired", "bad"
    return "Active", "ok"


TEMPLATES.env.globals["token_status"] = token_status
