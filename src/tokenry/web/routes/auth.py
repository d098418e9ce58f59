"""``/login``, ``/logout`` and ``/invitations/{link}``: getting in and out of the Admin Center."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tokenry.domain import web_sessions
from tokenry.domain.errors import Invalid, NotFound, Throttled, TokenryError, Unauthenticated
from tokenry.http.deps import client_ip
from tokenry.operations.invitations import accept_invitation, invitation_status
from tokenry.operations.web_sessions import instance_name, policy, sign_in, sign_out
from tokenry.web.render import NO_STORE, core_of, redirect, render
from tokenry.web.session import (
    LOGIN_FORM,
    PostedForm,
    SignedInUser,
    WebRoute,
    cookie_name,
    safe_next,
    same_origin,
    subdomain,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
LINK_HEADERS = NO_STORE | {"X-Robots-Tag": "noindex"}


def _login_page(request: Request, *, email: str = "", error: str | None = None,
                status_code: int = 200, next_path: str = "/admin") -> HTMLResponse:
    core = core_of(request)
    nonce = request.cookies.get(LOGIN_FORM) or web_sessions.new_secret()
    response = render(request, "login.html", {
        "email": email, "error": error, "next": next_path,
    }, csrf=web_sessions.form_token(core.server_key, "login", nonce), status_code=status_code,
        instance=instance_name(core, subdomain(request)))
    response.set_cookie(LOGIN_FORM, nonce, max_age=3600, path="/login", httponly=True,
                        samesite="lax", secure=core.settings.secure_cookies)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, email: Annotated[str, Form(max_length=254)] = "",
          password: Annotated[str, Form(max_length=1024)] = "",
          csrf_token: Annotated[str, Form(max_length=128)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/admin") -> Response:
    core = core_of(request)
    nonce = request.cookies.get(LOGIN_FORM, "")
    target = safe_next(next)
    if not nonce or not same_origin(request) or not web_sessions.form_token_matches(
            core.keyring, "login", nonce, csrf_token):
        return _login_page(request, email=email, next_path=target, status_code=403,
                           error="This sign-in form has expired. Please try again.")
    if not email or not password:
        return _login_page(request, email=email, next_path=target, status_code=422,
                           error="Enter your email and your password.")
    try:
        signed = sign_in(core, subdomain(request), email, password, ip=client_ip(request),
                         user_agent=request.headers.get("user-agent"))
    except Throttled as error:
        return _login_page(request, email=email, next_path=target, status_code=429,
                           error=f"Too many failed sign-ins from your address. Try again in "
                                 f"{error.retry_after} seconds.")
    except Unauthenticated:
        return _login_page(request, email=email, next_path=target, status_code=401,
                           error="That email and password do not match an active user of "
                                 "this account.")
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    lifetime = policy(core).lifetime
    response.set_cookie(cookie_name(request), signed.secret,
                        max_age=int(lifetime.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=core.settings.secure_cookies)
    response.delete_cookie(LOGIN_FORM, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, user: SignedInUser, form: PostedForm) -> Response:
    sign_out(core_of(request), request.cookies.get(cookie_name(request), ""))
    response = redirect("/login", "You are signed out.")
    response.delete_cookie(cookie_name(request), path="/")
    return response


@router.get("/", response_class=HTMLResponse)
@router.get("/admin", response_class=HTMLResponse)
def home(user: SignedInUser) -> Response:
    return redirect("/admin/api_tokens" if user.is_admin else "/requests")


def _invitation_page(request: Request, link: str, *, error: str | None = None,
                     status_code: int = 200) -> HTMLResponse:
    try:
        found = invitation_status(core_of(request), link)
    except NotFound as missing:
        return render(request, "message.html", {"title": "Invitation", "message":
                      missing.description}, status_code=404)
    response = render(request, "invitation.html", {"found": found, "error": error},
                      instance=found.instance, status_code=status_code,
                      csrf=web_sessions.form_token(core_of(request).server_key, "invitation",
                                                   link))
    response.headers.update(LINK_HEADERS)
    return response


@router.get("/invitations/{link}", response_class=HTMLResponse)
def invitation_page(request: Request, link: str) -> HTMLResponse:
    return _invitation_page(request, link[:128])


@router.post("/invitations/{link}", response_class=HTMLResponse)
def accept(request: Request, link: str, password: Annotated[str, Form(max_length=1024)] = "",
           confirm: Annotated[str, Form(max_length=1024)] = "",
           csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    core = core_of(request)
    link = link[:128]
    if not same_origin(request) or not web_sessions.form_token_matches(
            core.keyring, "invitation", link, csrf_token):
        # the form's token is derived from the link itself: the page must have been opened
        return _invitation_page(request, link, status_code=403,
                                error="This form has expired. Please try again.")
    if password != confirm:
        return _invitation_page(request, link, status_code=422,
                                error="The two passwords are not the same.")
    try:
        email = accept_invitation(core, link, password, ip=client_ip(request),
                                  user_agent=request.headers.get("user-agent"))
    except Invalid as error:
        return _invitation_page(request, link, status_code=422, error=error.description)
    except TokenryError as error:
        return _invitation_page(request, link, status_code=409, error=error.description)
    return redirect("/login?next=/admin", f"Your password is set, {email}. Sign in now.")
