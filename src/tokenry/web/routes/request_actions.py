"""The decisions on ``/requests/{id}``: Approve, Deny, Cancel, Re-send delivery; and Rotate
of a provisioner's calendar feed.

Each POST calls the same operation as the API. With the page script, Deny opens a dialog and
the others ask in the shared confirm dialog; without it each opens a page of its own. The
feed's new address is shown once, in the response to Rotate (only its hash is stored), never
through a redirect or a flash cookie.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenry.domain import oauth
from tokenry.domain.access_requests import ADMIN_NOT_REQUIRED, RequestKind, RequestState
from tokenry.domain.errors import Invalid
from tokenry.operations.approve_request import approve_request
from tokenry.operations.calendar_feeds import rotate_calendar_feed
from tokenry.operations.deny_request import cancel_request, deny_request
from tokenry.operations.request_queries import show_request
from tokenry.operations.resend_delivery import resend_delivery
from tokenry.storage.models import AccessRequest
from tokenry.web.render import core_of, redirect, render
from tokenry.web.routes.requests import checked, list_page, show_page
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, field, web_actor

router = APIRouter(prefix="/requests", route_class=WebRoute, include_in_schema=False)
CONFIRM = {
    "cancel": ("Cancel this request?", "Cancel request",
               "Nobody will be asked to decide on it any more. File a new one if you need to."),
    "resend_delivery": ("Re-send the delivery?", "Re-send",
                        "The token, or the integration's client, gets a new secret at once (the "
                        "old one stops working) and "
                        "the holder gets a new one-time link."),
}


@router.get("/calendar_feed/rotate", response_class=HTMLResponse)
def rotate_page(request: Request, user: SignedInUser) -> HTMLResponse:
    return render(request, "confirm.html", {
        "title": "Make a new calendar address?", "button": "Rotate", "danger": True,
        "message": "Your calendar feed gets a new secret address; the old one stops working "
                   "at once, so calendars subscribed to it must subscribe again.",
        "action": "/requests/calendar_feed/rotate", "back": "/requests"}, user=user)


@router.post("/calendar_feed/rotate", response_class=HTMLResponse)
def rotate(request: Request, user: SignedInUser, form: PostedForm) -> HTMLResponse:
    url = rotate_calendar_feed(core_of(request), web_actor(request, user))
    return list_page(request, user, feed_url=url)


@router.post("/{request_id}/approve", response_class=HTMLResponse)
def approve(request: Request, user: SignedInUser, form: PostedForm,
            request_id: int) -> Response:
    stage, acts_as = field(form, "stage"), field(form, "acts_as")
    try:
        approved = approve_request(core_of(request), web_actor(request, user),
                                   checked(request_id), stage or None, acts_as=acts_as or None)
    except Invalid as error:
        return show_page(request, user, request_id, acts_as=acts_as, status_code=422,
                         approve_errors=error.details or {"acts_as": [error.description]})
    return redirect(f"/requests/{request_id}",
                    f"You approved request #{request_id}. {_what_next(approved)}")


def _what_next(approved: AccessRequest) -> str:
    if approved.state == RequestState.MANAGER_APPROVED:
        return "It now waits for a provisioner."
    if approved.kind != RequestKind.INTEGRATION:
        return "The token was issued; its holder gets a one-time link."
    if approved.client_kind == oauth.CONFIDENTIAL and approved.state == RequestState.ISSUED:
        return "Its OAuth client was created; the holder gets the client secret through a " \
            "one-time link."
    return "Its OAuth client is ready; the holder was told."


@router.get("/{request_id}/deny", response_class=HTMLResponse)
def deny_page(request: Request, user: SignedInUser, request_id: int) -> HTMLResponse:
    return _deny_form(request, user, request_id)


def _deny_form(request: Request, user: SignedInUser, request_id: int, reason: str = "",
               errors: list[str] | None = None) -> HTMLResponse:
    shown = show_request(core_of(request), web_actor(request, user), checked(request_id))
    return render(request, "request_deny.html", {
        "r": shown, "reason": reason, "deny_errors": errors or [],
        "admin_not_required": ADMIN_NOT_REQUIRED}, user=user,
        status_code=422 if errors else 200)


@router.post("/{request_id}/deny", response_class=HTMLResponse)
def deny(request: Request, user: SignedInUser, form: PostedForm, request_id: int) -> Response:
    reason = field(form, "reason")
    try:
        deny_request(core_of(request), web_actor(request, user), checked(request_id), reason)
    except Invalid as error:
        texts = [m for ms in (error.details or {}).values() for m in ms] or [error.description]
        return _deny_form(request, user, request_id, reason, texts)
    return redirect(f"/requests/{request_id}", f"You denied request #{request_id}; the "
                    "requester was told why.")


@router.get("/{request_id}/cancel", response_class=HTMLResponse)
def cancel_page(request: Request, user: SignedInUser, request_id: int) -> HTMLResponse:
    return _confirm(request, user, request_id, "cancel")


@router.post("/{request_id}/cancel")
def cancel(request: Request, user: SignedInUser, form: PostedForm, request_id: int) -> Response:
    cancel_request(core_of(request), web_actor(request, user), checked(request_id))
    return redirect(f"/requests/{request_id}", f"Request #{request_id} was cancelled.")


@router.get("/{request_id}/resend_delivery", response_class=HTMLResponse)
def resend_page(request: Request, user: SignedInUser, request_id: int) -> HTMLResponse:
    return _confirm(request, user, request_id, "resend_delivery")


@router.post("/{request_id}/resend_delivery")
def resend(request: Request, user: SignedInUser, form: PostedForm, request_id: int) -> Response:
    resend_delivery(core_of(request), web_actor(request, user), checked(request_id))
    return redirect(f"/requests/{request_id}", "The delivery was re-sent: the holder gets a "
                    "new one-time link, and the old secret no longer works.")


def _confirm(request: Request, user: SignedInUser, request_id: int,
             action: str) -> HTMLResponse:
    shown = show_request(core_of(request), web_actor(request, user), checked(request_id))
    title, button, message = CONFIRM[action]
    return render(request, "confirm.html", {
        "title": title, "button": button, "danger": True,
        "message": f"Request #{shown.id}, {shown.service_name}. {message}",
        "action": f"/requests/{shown.id}/{action}", "back": f"/requests/{shown.id}"},
        user=user)
