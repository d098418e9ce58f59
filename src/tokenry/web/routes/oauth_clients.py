"""``/admin/oauth_clients``: the account's OAuth clients: list, add (a confidential client's
secret shown once), edit, regenerate the secret, delete. Each form calls the same operation
as ``/api/v2/oauth/clients``; the pages that show a secret are ``no-store``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from tokenry.domain.errors import Invalid, NotFound
from tokenry.domain.text import MAX_ID
from tokenry.operations.context import PageRequest
from tokenry.operations.create_oauth_client import (
    ClientFields,
    CreatedClient,
    create_oauth_client,
)
from tokenry.operations.delete_oauth_client import delete_oauth_client
from tokenry.operations.oauth_client_queries import list_oauth_clients, show_oauth_client
from tokenry.operations.regenerate_client_secret import regenerate_client_secret
from tokenry.operations.update_oauth_client import update_oauth_client
from tokenry.operations.users import show_user, user_emails
from tokenry.operations.web_sessions import WebUser
from tokenry.web.render import core_of, redirect, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, field, web_actor

router = APIRouter(prefix="/admin/oauth_clients", route_class=WebRoute, include_in_schema=False)
HOME = "/admin/oauth_clients"
FIELDS = ("name", "identifier", "kind", "redirect_uris", "allowed_scopes", "user")
Action = Literal["generate_secret", "delete"]
CONFIRM = {
    "generate_secret": ("Regenerate this client's secret?", "Regenerate",
                        "The current secret stops working at once; the new one is shown once."),
    "delete": ("Delete this client?", "Delete",
               "Its tokens stop working at once. Its audit history stays."),
}


def _checked(client_id: int) -> int:
    if not 1 <= client_id <= MAX_ID:
        raise NotFound(f"There is no OAuth client with id {client_id}.")
    return client_id


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: SignedInUser) -> HTMLResponse:
    core, actor = core_of(request), web_actor(request, user)
    result = list_oauth_clients(core, actor, PageRequest(1, 100))
    acting = user_emails(core, actor, {c.user_id for c in result.items if c.user_id})
    return render(request, "oauth_clients.html", {"clients": result.items, "acting": acting},
                  user=user)


def _form_page(request: Request, user: WebUser, *, values: dict[str, str],
               errors: dict[str, list[str]] | None = None, client_id: int | None = None,
               status_code: int = 200) -> HTMLResponse:
    return render(request, "oauth_client_form.html", {
        "values": values, "errors": errors or {}, "client_id": client_id,
        "action": f"{HOME}/{client_id}/edit" if client_id else HOME}, user=user,
        status_code=status_code)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, user: SignedInUser) -> HTMLResponse:
    return _form_page(request, user, values={"kind": "confidential"})


def _values(form: FormData) -> dict[str, str]:
    return {name: field(form, name) for name in FIELDS}


def _fields(request: Request, user: WebUser, values: dict[str, str]) -> dict[str, Any]:
    user_id = None
    if values["user"]:
        try:
            user_id = show_user(core_of(request), web_actor(request, user), values["user"]).id
        except (NotFound, Invalid):
            raise Invalid.field("user", f"there is no user {values['user']!r} here") from None
    return {"name": values["name"], "identifier": values["identifier"],
            "redirect_uris": values["redirect_uris"].split(),
            "allowed_scopes": values["allowed_scopes"] or None, "user_id": user_id}


def _errors(error: Invalid) -> dict[str, list[str]]:
    renamed = {"redirect_uri": "redirect_uris", "user_id": "user"}
    return {renamed.get(k, k): v for k, v in (error.details or {"name": [error.description]})
            .items()}


def _secret_page(request: Request, user: WebUser, created: CreatedClient,
                 status_code: int) -> HTMLResponse:
    return render(request, "oauth_client_secret.html", {"created": created}, user=user,
                  status_code=status_code)


@router.post("", response_class=HTMLResponse)
def add(request: Request, user: SignedInUser, form: PostedForm) -> Response:
    values = _values(form)
    try:
        created = create_oauth_client(core_of(request), web_actor(request, user), ClientFields(
            kind=values["kind"] or None, **_fields(request, user, values)))
    except Invalid as error:
        return _form_page(request, user, values=values, errors=_errors(error),
                          status_code=422)
    if created.secret is None:
        return redirect(HOME, f"{created.client.name} was added.")
    return _secret_page(request, user, created, 201)


@router.get("/{client_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, user: SignedInUser, client_id: int) -> HTMLResponse:
    core, actor = core_of(request), web_actor(request, user)
    client = show_oauth_client(core, actor, _checked(client_id))
    email = user_emails(core, actor, {client.user_id}).get(client.user_id, "") \
        if client.user_id else ""
    return _form_page(request, user, client_id=client.id, values={
        "name": client.name, "identifier": client.identifier, "kind": client.kind,
        "redirect_uris": "\n".join(client.redirect_uris),
        "allowed_scopes": " ".join(client.allowed_scopes or []), "user": email})


@router.post("/{client_id}/edit", response_class=HTMLResponse)
def edit(request: Request, user: SignedInUser, form: PostedForm, client_id: int) -> Response:
    values = _values(form)
    try:
        update_oauth_client(core_of(request), web_actor(request, user), _checked(client_id),
                            _fields(request, user, values))
    except Invalid as error:
        return _form_page(request, user, values=values, errors=_errors(error),
                          client_id=client_id, status_code=422)
    return redirect(HOME, f"{values['name']} was saved.")


@router.get("/{client_id}/{action}", response_class=HTMLResponse)
def confirm_page(request: Request, user: SignedInUser, client_id: int,
                 action: Action) -> HTMLResponse:
    client = show_oauth_client(core_of(request), web_actor(request, user), _checked(client_id))
    title, button, message = CONFIRM[action]
    return render(request, "confirm.html", {
        "title": title, "button": button, "danger": True,
        "message": f"{client.name} ({client.identifier}). {message}",
        "action": f"{HOME}/{client.id}/{action}", "back": HOME}, user=user)


@router.post("/{client_id}/{action}", response_class=HTMLResponse)
def act(request: Request, user: SignedInUser, form: PostedForm, client_id: int,
        action: Action) -> Response:
    core, actor = core_of(request), web_actor(request, user)
    if action == "delete":
        delete_oauth_client(core, actor, _checked(client_id))
        return redirect(HOME, "The client was deleted.")
    return _secret_page(request, user, regenerate_client_secret(core, actor,
                                                                _checked(client_id)), 200)
