"""The OAuth 2.0 endpoints: ``/oauth/authorizations/new`` (the consent page),
``POST /oauth/tokens``, ``/oauth/revoke`` (RFC 7009), ``/oauth/introspect`` (RFC 7662) and
``/.well-known/oauth-authorization-server`` (RFC 8414).

They speak the RFCs' form parameters and JSON errors, not tokenry's API conventions, so they
are left out of the OpenAPI document; Authlib (``tokenry.http.oauth_server``) runs the
protocol.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tokenry.core import Core
from tokenry.domain.accounts import subdomain_from_host
from tokenry.domain.errors import Throttled
from tokenry.domain.scopes import TOKENRY_RESOURCES
from tokenry.http.deps import client_ip
from tokenry.http.envelope import PAGE_POLICY
from tokenry.http.links import origin
from tokenry.http.oauth_server import FormRequest, GrantUser, TokenryServer
from tokenry.operations.web_sessions import WebUser
from tokenry.web.render import core_of, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute

router = APIRouter(include_in_schema=False)
consent = APIRouter(route_class=WebRoute, include_in_schema=False)
AUTHORIZE = "/oauth/authorizations/new"
NOT_PASSED_ON = frozenset({"csrf_token", "decision"})


def _server(request: Request) -> TokenryServer:
    core = core_of(request)
    subdomain = subdomain_from_host(request.headers.get("host"), core.settings.base_domain,
                                    core.settings.default_subdomain)
    account = core.verifier.account(subdomain)
    return TokenryServer(core, account.id, origin(request))


def _oauth_request(request: Request, form: dict[str, str]) -> FormRequest:
    return FormRequest(request.method, str(request.url), request.headers,
                       dict(request.query_params), form)


def _json(status: int, body: Any, headers: Any) -> JSONResponse:
    answer = JSONResponse(body, status_code=status, headers=dict(headers or []))
    answer.headers["Cache-Control"] = "no-store"
    return answer


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _endpoint(name: str | None, request: Request, form: dict[str, str]) -> JSONResponse:
    """Run one protocol endpoint; a client that fails to authenticate counts as a failed
    sign-in for the source's throttle, as a wrong API token does."""
    core: Core = core_of(request)
    source = client_ip(request)
    try:
        core.throttle.check(source)
    except Throttled:
        core.metrics.signed_in("oauth_client", "throttled")
        raise
    server = _server(request)
    try:
        oauth_request = _oauth_request(request, form)
    except OAuth2Error as error:  # plain http to a host that is not loopback
        return _json(*error())
    if name is None:
        status, body, headers = server.create_token_response(oauth_request)
    else:
        status, body, headers = server.create_endpoint_response(name, oauth_request)
    if isinstance(body, dict) and body.get("error") == "invalid_client":
        core.throttle.record_failure(source)
    return _json(status, body, headers)


@router.post("/oauth/tokens")
async def token(request: Request) -> JSONResponse:
    form = await _form(request)
    return await run_in_threadpool(_endpoint, None, request, form)


@router.post("/oauth/revoke")
async def revoke(request: Request) -> JSONResponse:
    form = await _form(request)
    return await run_in_threadpool(_endpoint, "revocation", request, form)


@router.post("/oauth/introspect")
async def introspect(request: Request) -> JSONResponse:
    form = await _form(request)
    return await run_in_threadpool(_endpoint, "introspection", request, form)


@router.get("/.well-known/oauth-authorization-server")
def metadata(request: Request) -> JSONResponse:
    base = origin(request)
    document = AuthorizationServerMetadata({
        "issuer": base,
        "authorization_endpoint": f"{base}{AUTHORIZE}",
        "token_endpoint": f"{base}/oauth/tokens",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token",
                                  "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                  "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic",
                                                       "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["read", "write", "impersonate",
                             *(f"{r}:{level}" for r in TOKENRY_RESOURCES
                               for level in ("read", "write"))],
    })
    document.validate()
    return JSONResponse(dict(document))


def _refused(request: Request, server: TokenryServer, oauth_request: FormRequest,
             error: OAuth2Error, user: WebUser) -> Response:
    """An error after the client and its redirect URI are known goes back to the client;
    before that, never redirect (the URI is not trusted): say so on a page."""
    if error.redirect_uri:
        _, _, headers = server.handle_error_response(oauth_request, error)
        return RedirectResponse(dict(headers)["Location"], status_code=302)
    return render(request, "message.html", {
        "title": "This application's request is not valid",
        "message": f"{error.error}: {error.description or 'the request is malformed'}"},
        user=user, status_code=400)


def _insecure(request: Request, user: WebUser) -> Response:
    return render(request, "message.html", {
        "title": "OAuth needs HTTPS",
        "message": "Open this page over https (behind a proxy, set TOKENRY_FORWARDED_ALLOW_IPS "
                   "so tokenry sees the original scheme)."}, user=user, status_code=400)


def _consent_page(request: Request, user: WebUser) -> Response:
    server = _server(request)
    try:
        oauth_request = _oauth_request(request, {})
    except OAuth2Error:
        return _insecure(request, user)
    try:
        grant = server.get_consent_grant(oauth_request, end_user=GrantUser(user.user_id))
    except OAuth2Error as error:
        return _refused(request, server, oauth_request, error, user)
    client = grant.request.client
    page = render(request, "oauth_consent.html", {
        "client": client.record, "scopes": grant.request.scope.split(),
        "fields": sorted((k, v) for k, v in oauth_request.args.items()
                         if k not in NOT_PASSED_ON),
        "action": AUTHORIZE}, user=user)
    page.headers["Content-Security-Policy"] = _policy_allowing(
        oauth_request.payload.redirect_uri or client.get_default_redirect_uri())
    return page


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^http://\[::1\](:[0-9]{1,5})?$")


def _policy_allowing(redirect_uri: str | None) -> str:
    """The page policy, with the client's (already verified) redirect URI's origin added to
    ``form-action``: a browser applies it to the redirect that answers Allow or Deny."""
    if not redirect_uri:
        return PAGE_POLICY
    parts = urlsplit(redirect_uri)
    target = f"{parts.scheme}://{parts.netloc}"
    if not _ORIGIN.match(target):
        return PAGE_POLICY
    return PAGE_POLICY.replace("form-action 'self'", f"form-action 'self' {target}")


@consent.get(AUTHORIZE, response_class=HTMLResponse)
async def ask(request: Request, user: SignedInUser) -> Response:
    return await run_in_threadpool(_consent_page, request, user)


def _decide(request: Request, user: WebUser, form: dict[str, str]) -> Response:
    server = _server(request)
    params = {k: v for k, v in form.items() if k not in NOT_PASSED_ON}
    try:
        oauth_request = FormRequest("GET", str(request.url), request.headers, params, {})
    except OAuth2Error:
        return _insecure(request, user)
    allowed = form.get("decision") == "allow"
    try:
        grant = server.get_consent_grant(oauth_request, end_user=GrantUser(user.user_id))
        redirect_uri = grant.validate_authorization_request()
        _, _, headers = grant.create_authorization_response(
            redirect_uri, GrantUser(user.user_id) if allowed else None)
    except OAuth2Error as error:
        return _refused(request, server, oauth_request, error, user)
    return RedirectResponse(dict(headers)["Location"], status_code=302)


@consent.post(AUTHORIZE)
async def decide(request: Request, user: SignedInUser, form: PostedForm) -> Response:
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_decide, request, user, fields)
