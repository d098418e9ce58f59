"""``/requests``: a person's access requests, the queue waiting for them, the form, one request.

The pages read through the request operations (who may see what, and which decision is open
to the viewer, are theirs to say); the decisions themselves are in ``request_actions``.

The form asks for an API token or an integration. The stylesheet hides the integration's
fields (client kind, redirect URIs) while "API token" is chosen; without it they stay on the
page under their own heading, so the plain form works either way. For an API token those
fields do not apply and are not passed on (the client kind is a radio choice that always
has a value); everything else goes to the operation as typed, which refuses what is wrong.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenry.domain.access_requests import (
    ADMIN_NOT_REQUIRED,
    RequestKind,
    RequestState,
    denial_message,
)
from tokenry.domain.errors import Forbidden, Invalid, NotFound
from tokenry.domain.text import MAX_ID
from tokenry.operations.calendar_feeds import calendar_feed_created, request_calendar
from tokenry.operations.request_details import request_details
from tokenry.operations.request_queries import own_requests, show_request, waiting_for
from tokenry.operations.submit_request import Submission, submit_request
from tokenry.operations.web_sessions import WebUser
from tokenry.web.render import TEMPLATES, core_of, redirect, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, field, web_actor

router = APIRouter(prefix="/requests", route_class=WebRoute, include_in_schema=False)
FIELDS = ("service_name", "purpose", "use_case", "removal_date", "admin_justification",
          "for_email", "extends_request_id", "kind", "scopes", "client_kind", "redirect_uris")
STATES = {
    RequestState.SUBMITTED: ("Waiting for manager", "warn"),
    RequestState.MANAGER_APPROVED: ("Waiting for provisioner", "warn"),
    RequestState.APPROVED: ("Approved", "ok"),
    RequestState.ISSUED: ("Issued", "ok"),
    RequestState.DELIVERED: ("Delivered", "ok"),
    RequestState.EXPIRED: ("Expired", "off"),
    RequestState.REVOKED: ("Revoked", "bad"),
    RequestState.DENIED: ("Denied", "bad"),
    RequestState.CANCELLED: ("Cancelled", "off"),
}


def request_state(state: str) -> tuple[str, str]:
    """The badge of a request's state: its label and its tone."""
    return STATES.get(RequestState(state), (state, "off"))


TEMPLATES.env.globals["request_state"] = request_state


def list_page(request: Request, user: WebUser, *, feed_url: str | None = None,
              status_code: int = 200) -> HTMLResponse:
    core, actor = core_of(request), web_actor(request, user)
    return render(request, "requests.html", {
        "own": own_requests(core, actor), "waiting": waiting_for(core, actor),
        "feed_created": calendar_feed_created(core, actor) if user.provisioner else None,
        "feed_url": feed_url,
    }, user=user, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: SignedInUser) -> HTMLResponse:
    return list_page(request, user)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, user: SignedInUser, extends: int | None = None) -> HTMLResponse:
    values = {"admin_required": "yes", "kind": RequestKind.API_TOKEN.value,
              "client_kind": "confidential"}
    if extends is not None and 1 <= extends <= MAX_ID:
        values["extends_request_id"] = str(extends)
        values.update(_asked_by(request, user, extends))
    return render(request, "request_new.html", {"values": values, "errors": {}}, user=user)


@router.post("/new", response_class=HTMLResponse)
def submit(request: Request, user: SignedInUser, form: PostedForm) -> Response:
    values = {name: field(form, name) for name in FIELDS}
    values["admin_required"] = "yes" if field(form, "admin_required") else ""
    integration = values["kind"] == RequestKind.INTEGRATION
    unreadable: dict[str, list[str]] = {}
    removal = _parsed(values["removal_date"], date.fromisoformat, "removal_date",
                      "enter a date such as 2027-04-30", unreadable)
    extends = _parsed(values["extends_request_id"], int, "extends_request_id",
                      "enter a request number such as 42", unreadable)
    try:
        if extends is not None and not 1 <= extends <= MAX_ID:
            raise Invalid.field("extends_request_id", "there is no request with that number")
        created = submit_request(core_of(request), web_actor(request, user), Submission(
            service_name=values["service_name"] or None, purpose=values["purpose"] or None,
            use_case=values["use_case"] or None, removal_date=removal,
            admin_required=bool(values["admin_required"]),
            admin_justification=values["admin_justification"],
            for_email=values["for_email"] or None, extends_request_id=extends,
            kind=values["kind"] or None, scopes=values["scopes"] or None,
            client_kind=(values["client_kind"] or None) if integration else None,
            redirect_uris=values["redirect_uris"].split() if integration else None))
    except (Invalid, NotFound) as error:
        errors = (error.details if isinstance(error, Invalid) else None) or \
            {"form": [error.description]}
        return render(request, "request_new.html", {
            "values": values, "errors": {**errors, **unreadable}}, user=user, status_code=422)
    return redirect(f"/requests/{created.id}", f"Request #{created.id} was filed; your "
                    "manager has been asked to approve it.")


def _asked_by(request: Request, user: WebUser, request_id: int) -> dict[str, str]:
    """What the extended request asked for: an extension keeps it, so the form starts there."""
    try:
        extended = show_request(core_of(request), web_actor(request, user), request_id)
    except (NotFound, Forbidden):
        return {}  # the operation says why when the form is sent
    return {"kind": extended.kind, "scopes": " ".join(extended.scopes or []),
            "client_kind": extended.client_kind or "confidential",
            "redirect_uris": "\n".join(extended.redirect_uris or [])}


def _parsed(text: str, parse: Any, name: str, hint: str,
            unreadable: dict[str, list[str]]) -> Any:
    if not text:
        return None
    try:
        return parse(text)
    except ValueError:
        unreadable[name] = [hint]
        return None


def show_page(request: Request, user: WebUser, request_id: int, *,
              approve_errors: dict[str, list[str]] | None = None, acts_as: str = "",
              status_code: int = 200) -> HTMLResponse:
    details = request_details(core_of(request), web_actor(request, user), checked(request_id))
    return render(request, "request_show.html", {
        "d": details, "r": details.request, "approve_errors": approve_errors or {},
        "acts_as": acts_as, "admin_not_required": ADMIN_NOT_REQUIRED,
        "denial": denial_message(details.request.denial_reason or ""),
    }, user=user, status_code=status_code)


@router.get("/{request_id}", response_class=HTMLResponse)
def show(request: Request, user: SignedInUser, request_id: int) -> HTMLResponse:
    return show_page(request, user, request_id)


@router.get("/{request_id}/calendar.ics")
def calendar(request: Request, user: SignedInUser, request_id: int) -> Response:
    """The same event as the API's ``calendar.ics``, for a signed-in browser."""
    body = request_calendar(core_of(request), web_actor(request, user), checked(request_id))
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="access-request-{request_id}.ics"'})


def checked(request_id: int) -> int:
    if not 1 <= request_id <= MAX_ID:
        raise NotFound(f"There is no access request with id {request_id}.")
    return request_id
