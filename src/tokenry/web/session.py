"""Who is signed in, and the guards every Admin Center route shares.

- ``SignedInUser``: the session behind the cookie, or a redirect to ``/login?next=...``.
- ``PostedForm``: a form posted by a signed-in user whose CSRF token matches their session
  (a signed synchronizer token: an HMAC of the session's digest, nothing stored).
- ``WebRoute``: turns the domain's errors into pages (never a stack trace, never JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from tokenry.domain import web_sessions
from tokenry.domain.accounts import subdomain_from_host
from tokenry.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Throttled,
    TokenryError,
    Unauthenticated,
)
from tokenry.http.deps import client_ip
from tokenry.operations.context import Actor
from tokenry.operations.web_sessions import WebUser, resume_session
from tokenry.web.render import core_of, redirect, render

LOGIN_FORM = "tokenry_login"


class SignInRequired(Exception):
    """No live session: the visitor is sent to /login and brought back afterwards."""


class FormRefused(Exception):
    """A form without a valid CSRF token (forged, or from a session that has ended)."""


def cookie_name(request: Request) -> str:
    # The __Host- prefix pins the cookie to this exact host, over HTTPS only.
    return "__Host-tokenry_session" if core_of(request).settings.secure_cookies \
        else "tokenry_session"


def subdomain(request: Request) -> str:
    settings = core_of(request).settings
    return subdomain_from_host(request.headers.get("host"), settings.base_domain,
                               settings.default_subdomain)


def signed_in(request: Request) -> WebUser:
    secret = request.cookies.get(cookie_name(request), "")
    try:
        return resume_session(core_of(request), subdomain(request), secret)
    except Unauthenticated:
        raise SignInRequired from None


SignedInUser = Annotated[WebUser, Depends(signed_in)]


def web_actor(request: Request, user: WebUser) -> Actor:
    return user.actor(client_ip(request), request.headers.get("user-agent"))


def same_origin(request: Request) -> bool:
    """A browser names the page a POST comes from; it must be this host."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


async def posted_form(request: Request, user: SignedInUser) -> FormData:
    form = await request.form()
    given = form.get("csrf_token")
    if not isinstance(given, str) or not same_origin(request) or not web_sessions.csrf_matches(
            core_of(request).keyring, user.session_hash, given):
        raise FormRefused
    return form


PostedForm = Annotated[FormData, Depends(posted_form)]


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def safe_next(value: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/admin"
    return value


_STATUS = {Forbidden: 403, NotFound: 404, Conflict: 409, Invalid: 422, Throttled: 429}


class WebRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query
                                             else "")
                if request.method != "GET":
                    target = request.url.path
                return redirect(f"/login?next={quote(target, safe='/')}")
            except RequestValidationError as error:
                problems = "; ".join(
                    f"{'/'.join(str(p) for p in problem.get('loc', ())[1:]) or 'input'}: "
                    f"{problem['msg']}" for problem in error.errors())
                return render(request, "message.html", {
                    "title": "Not a valid address or form",
                    "message": problems}, status_code=422,
                    user=await run_in_threadpool(maybe_signed_in, request))
            except FormRefused:
                return render(request, "message.html", {
                    "title": "This form has expired",
                    "message": "Reload the page and try again. (The form was older than your "
                               "session, or it came from another site.)"}, status_code=403)
            except TokenryError as error:
                status = next((code for kind, code in _STATUS.items()
                               if isinstance(error, kind)), 400)
                return render(request, "message.html", {
                    "title": {403: "Not allowed", 404: "Not found"}.get(status, "Not done"),
                    "message": error.description}, status_code=status,
                    user=await run_in_threadpool(maybe_signed_in, request))

        return guarded


def maybe_signed_in(request: Request) -> WebUser | None:
    try:
        return signed_in(request)
    except SignInRequired:
        return None
