"""``TokenryClient``: a small typed client for tokenry's HTTP API, on httpx.

    with TokenryClient("https://acme.tokens.example", email="me@acme.example",
                       token="tkry_...") as tokenry:
        for token in tokenry.iter_api_tokens():
            print(token.id, token.description)

Answers are the models of ``tokenry.schemas``, the same ones the server's OpenAPI document is
built from, and every method names the operation it calls (``Route``), so a test can hold the
client and the document in step. Credentials are Zendesk's: ``email/token:TOKEN`` as Basic
auth, or ``email:password`` where the account allows passwords; with neither, only
``me()`` (the anonymous user), ``health()`` and the delivery links answer.

Errors::

    ApiError                  any answer that is not a success: status, body, request_id
    ├── Unauthorized          401, Zendesk's "Couldn't authenticate you"
    ├── Forbidden             403
    ├── NotFound              404
    ├── Conflict              409, the record's state does not allow this
    ├── Invalid               422, ``details`` maps each field to its problems
    └── TooManyRequests       429 still, after the polite retries; ``retry_after`` in seconds

A 429 is retried after its ``Retry-After`` (at most ``max_retries`` times, and only when the
wait is at most ``max_wait`` seconds): the server refuses such a request before acting on it.
This module imports nothing from the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, Literal, NamedTuple, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel

from tokenry import schemas

M = TypeVar("M", bound=BaseModel)
Item = TypeVar("Item", bound=BaseModel)


class Route(NamedTuple):
    method: str
    path: str
    operation_id: str


SHOW_CURRENT_USER = Route("GET", "/api/v2/users/me", "showCurrentUser")
LIST_USERS = Route("GET", "/api/v2/users", "listUsers")
SHOW_USER = Route("GET", "/api/v2/users/{user_id}", "showUser")
LIST_API_TOKENS = Route("GET", "/api/v2/api_tokens", "listApiTokens")
CREATE_API_TOKEN = Route("POST", "/api/v2/api_tokens", "createApiToken")
CREATE_EXCEPTION_TOKEN = Route("POST", "/api/v2/api_tokens/exceptions", "createExceptionToken")
SHOW_TOKEN_ACTIVITY = Route("GET", "/api/v2/api_tokens/activity", "showTokenActivity")
SHOW_API_TOKEN = Route("GET", "/api/v2/api_tokens/{token_id}", "showApiToken")
UPDATE_API_TOKEN = Route("PUT", "/api/v2/api_tokens/{token_id}", "updateApiToken")
DELETE_API_TOKEN = Route("DELETE", "/api/v2/api_tokens/{token_id}", "deleteApiToken")
SHOW_ACCOUNT_SETTINGS = Route("GET", "/api/v2/account/settings", "showAccountSettings")
UPDATE_ACCOUNT_SETTINGS = Route("PUT", "/api/v2/account/settings", "updateAccountSettings")
LIST_AUDIT_LOGS = Route("GET", "/api/v2/audit_logs", "listAuditLogs")
SHOW_AUDIT_LOG = Route("GET", "/api/v2/audit_logs/{event_id}", "showAuditLog")
EXPORT_AUDIT_LOGS = Route("POST", "/api/v2/audit_logs/export", "exportAuditLogs")
VERIFY = Route("GET", "/api/v2/verify", "verify")
HEALTH = Route("GET", "/healthz", "health")
READY = Route("GET", "/readyz", "ready")
CREATE_ACCESS_REQUEST = Route("POST", "/api/v2/access_requests", "createAccessRequest")
LIST_ACCESS_REQUESTS = Route("GET", "/api/v2/access_requests", "listAccessRequests")
SHOW_ACCESS_REQUEST = Route("GET", "/api/v2/access_requests/{request_id}", "showAccessRequest")
APPROVE_ACCESS_REQUEST = Route("POST", "/api/v2/access_requests/{request_id}/approve",
                               "approveAccessRequest")
DENY_ACCESS_REQUEST = Route("POST", "/api/v2/access_requests/{request_id}/deny",
                            "denyAccessRequest")
RESEND_DELIVERY = Route("POST", "/api/v2/access_requests/{request_id}/resend_delivery",
                        "resendDelivery")
CANCEL_ACCESS_REQUEST = Route("POST", "/api/v2/access_requests/{request_id}/cancel",
                              "cancelAccessRequest")
DOWNLOAD_REQUEST_CALENDAR = Route("GET", "/api/v2/access_requests/{request_id}/calendar.ics",
                                  "downloadRequestCalendar")
SHOW_DELIVERY = Route("GET", "/api/v2/deliveries/{link_secret}", "showDelivery")
RETRIEVE_DELIVERY = Route("POST", "/api/v2/deliveries/{link_secret}/retrieve",
                          "retrieveDelivery")
ROTATE_CALENDAR_FEED = Route("POST", "/api/v2/calendar_feed/rotate", "rotateCalendarFeed")
SHOW_COMPLIANCE_REPORT = Route("GET", "/api/v2/reports/compliance", "showComplianceReport")
LIST_OAUTH_CLIENTS = Route("GET", "/api/v2/oauth/clients", "listOAuthClients")
CREATE_OAUTH_CLIENT = Route("POST", "/api/v2/oauth/clients", "createOAuthClient")
SHOW_OAUTH_CLIENT = Route("GET", "/api/v2/oauth/clients/{client_id}", "showOAuthClient")
UPDATE_OAUTH_CLIENT = Route("PUT", "/api/v2/oauth/clients/{client_id}", "updateOAuthClient")
DELETE_OAUTH_CLIENT = Route("DELETE", "/api/v2/oauth/clients/{client_id}", "deleteOAuthClient")
GENERATE_OAUTH_CLIENT_SECRET = Route("PUT", "/api/v2/oauth/clients/{client_id}/generate_secret",
                                     "generateOAuthClientSecret")
LIST_OAUTH_TOKENS = Route("GET", "/api/v2/oauth/tokens", "listOAuthTokens")
CREATE_OAUTH_TOKEN = Route("POST", "/api/v2/oauth/tokens", "createOAuthToken")
SHOW_OAUTH_TOKEN = Route("GET", "/api/v2/oauth/tokens/{token_id}", "showOAuthToken")
SHOW_CURRENT_OAUTH_TOKEN = Route("GET", "/api/v2/oauth/tokens/current",
                                 "showCurrentOAuthToken")
REVOKE_CURRENT_OAUTH_TOKEN = Route("DELETE", "/api/v2/oauth/tokens/current",
                                   "revokeCurrentOAuthToken")
REVOKE_OAUTH_TOKEN = Route("DELETE", "/api/v2/oauth/tokens/{token_id}", "revokeOAuthToken")


class ApiError(Exception):
    """An answer that is not a success. ``body`` is the server's JSON error body (Zendesk's
    ``error`` and ``description``); ``request_id`` is its ``X-Request-Id``, for the log."""

    def __init__(self, status: int, body: Mapping[str, Any], request_id: str | None) -> None:
        self.status = status
        self.body = dict(body)
        self.error = str(body.get("error", ""))
        self.description = str(body.get("description", ""))
        self.request_id = request_id
        super().__init__(f"{status} {self.error}: {self.description}".rstrip(": "))


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class Invalid(ApiError):
    @property
    def details(self) -> dict[str, list[schemas.FieldProblem]]:
        return schemas.RecordInvalid.model_validate(self.body).details


class TooManyRequests(ApiError):
    def __init__(self, status: int, body: Mapping[str, Any], request_id: str | None,
                 retry_after: int) -> None:
        super().__init__(status, body, request_id)
        self.retry_after = retry_after


_ERRORS: dict[int, type[ApiError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound,
                                      409: Conflict, 422: Invalid}


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    request_id = response.headers.get("x-request-id")
    if response.status_code == 429:
        return TooManyRequests(429, body, request_id, _retry_after(response))
    return _ERRORS.get(response.status_code, ApiError)(response.status_code, body, request_id)


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else 60


def _credentials(email: str | None, token: str | None,
                 password: str | None) -> tuple[str, str] | None:
    if token is not None and password is not None:
        raise ValueError("give a token or a password, not both")
    if (token is not None or password is not None) and not email:
        raise ValueError("a token or password needs the email it acts as")
    if token is not None:
        return f"{email}/token", token
    if password is not None:
        return str(email), password
    return None


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class TokenryClient:
    """One tokenry instance (an account: its host names it), as one user.

    ``strict=True`` also refuses answers that carry fields this client does not know (the
    test suite uses it against a matching server); by default they are ignored.
    """

    def __init__(self, base_url: str, *, email: str | None = None, token: str | None = None,
                 password: str | None = None, timeout: float = 10.0, max_retries: int = 2,
                 max_wait: float = 60.0, strict: bool = False,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                  auth=_credentials(email, token, password),
                                  transport=transport, follow_redirects=False,
                                  headers={"Accept": "application/json"})
        self._origin = urlsplit(base_url)[:2]
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._extra: Literal["forbid"] | None = "forbid" if strict else None
        self._sleep = sleep

    def __enter__(self) -> TokenryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the wire -----------------------------------------------------------------------------

    def _send(self, route: Route, *, params: Mapping[str, Any] | None = None,
              json: Any = None, url: str | None = None, **path: Any) -> httpx.Response:
        if url is None:
            url = route.path.format(**{k: quote(str(v), safe="") for k, v in path.items()})
        elif urlsplit(url)[:2] != self._origin:  # never send the credentials elsewhere
            raise ValueError(f"refusing to follow a link to another host: {url}")
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(self.max_retries + 1):
            response = self._http.request(route.method, url, params=clean or None, json=json)
            if response.status_code != 429 or attempt == self.max_retries:
                break
            wait = _retry_after(response)
            if wait > self.max_wait:
                break
            self._sleep(wait)
        if response.is_success:
            return response
        raise _error(response)

    def _get(self, model: type[M], route: Route, **kwargs: Any) -> M:
        return self._read(model, self._send(route, **kwargs).json())

    def _read(self, model: type[M], data: Any) -> M:
        return model.model_validate(data, extra=self._extra)

    def _pages(self, model: type[M], route: Route, items: Callable[[M], list[Item]],
               params: Mapping[str, Any]) -> Iterator[Item]:
        """Every item of every page: follows ``links.next`` (cursor pagination) or
        ``next_page`` (offset pagination), whichever the server answers with."""
        page = self._get(model, route, params=params)
        while True:
            yield from items(page)
            following = page.next_link() if isinstance(page, schemas.Paged) else None
            if not following:
                return
            page = self._get(model, route, url=following)

    # -- users --------------------------------------------------------------------------------

    def me(self) -> schemas.User:
        """The signed-in user; the anonymous user (``id`` None) without credentials."""
        return self._get(schemas.UserBody, SHOW_CURRENT_USER).user

    def list_users(self, *, page: int = 1, per_page: int = 100) -> schemas.UserList:
        return self._get(schemas.UserList, LIST_USERS,
                         params={"page": page, "per_page": per_page})

    def iter_users(self, *, page_size: int = 100) -> Iterator[schemas.User]:
        return self._pages(schemas.UserList, LIST_USERS, lambda p: p.users,
                           {"page[size]": page_size})

    def show_user(self, user_id: int) -> schemas.User:
        return self._get(schemas.UserBody, SHOW_USER, user_id=user_id).user

    # -- API tokens ---------------------------------------------------------------------------

    def list_api_tokens(self, *, page: int | None = None, per_page: int | None = None,
                        include_users: bool = False) -> schemas.ApiTokenList:
        """Every token when no page is named, as Zendesk answers this list."""
        return self._get(schemas.ApiTokenList, LIST_API_TOKENS, params={
            "page": page, "per_page": per_page, "include_users": include_users or None})

    def iter_api_tokens(self, *, page_size: int = 100) -> Iterator[schemas.ApiToken]:
        return self._pages(schemas.ApiTokenList, LIST_API_TOKENS, lambda p: p.api_tokens,
                           {"page[size]": page_size})

    def show_api_token(self, token_id: int) -> schemas.ApiToken:
        return self._get(schemas.ApiTokenBody, SHOW_API_TOKEN, token_id=token_id).api_token

    def create_api_token(self, description: str | None = None, *,
                         expires_at: datetime | None = None,
                         user_id: int | None = None,
                         scopes: list[str] | None = None) -> schemas.ApiToken:
        """The answer's ``token`` is the full secret, shown this once; ``scopes`` limit
        what it may reach (none: its user's full power)."""
        wanted = {"description": description, "expires_at": _when(expires_at),
                  "user_id": user_id, "scopes": scopes}
        return self._get(schemas.ApiTokenBody, CREATE_API_TOKEN, json={
            "api_token": {k: v for k, v in wanted.items() if v is not None}}).api_token

    def create_exception_token(self, exception: str, *, use_case: str | None = None,
                               target: str | None = None, expires_at: datetime | None = None,
                               user_email: str | None = None,
                               scopes: list[str] | None = None) -> schemas.ApiToken:
        """A provisioner's ``personal``, ``automation`` or ``target`` token."""
        wanted = {"exception": exception, "use_case": use_case, "target": target,
                  "expires_at": _when(expires_at), "user_email": user_email, "scopes": scopes}
        return self._get(schemas.ApiTokenBody, CREATE_EXCEPTION_TOKEN, json={
            "api_token": {k: v for k, v in wanted.items() if v is not None}}).api_token

    def update_api_token(self, token_id: int, *, description: str | None = None,
                         active: bool | None = None) -> schemas.ApiToken:
        """Edit the description, deactivate (``active=False``) or reactivate."""
        wanted = {"description": description, "active": active}
        return self._get(schemas.ApiTokenBody, UPDATE_API_TOKEN, token_id=token_id, json={
            "api_token": {k: v for k, v in wanted.items() if v is not None}}).api_token

    def delete_api_token(self, token_id: int) -> None:
        """Only a deactivated token can be deleted (``Conflict`` otherwise)."""
        self._send(DELETE_API_TOKEN, token_id=token_id)

    def token_activity(self, period: str = "24h", *,
                       token_id: int | None = None) -> schemas.Activity:
        return self._get(schemas.ActivityBody, SHOW_TOKEN_ACTIVITY,
                         params={"period": period, "token_id": token_id}).activity

    # -- OAuth clients and tokens -------------------------------------------------------------

    def list_oauth_clients(self, *, page: int = 1,
                           per_page: int = 100) -> schemas.OAuthClientList:
        return self._get(schemas.OAuthClientList, LIST_OAUTH_CLIENTS,
                         params={"page": page, "per_page": per_page})

    def iter_oauth_clients(self, *, page_size: int = 100) -> Iterator[schemas.OAuthClient]:
        return self._pages(schemas.OAuthClientList, LIST_OAUTH_CLIENTS, lambda p: p.clients,
                           {"page[size]": page_size})

    def create_oauth_client(self, name: str, identifier: str, *, kind: str = "confidential",
                            redirect_uri: list[str] | None = None,
                            allowed_scopes: list[str] | None = None,
                            user_id: int | None = None) -> schemas.OAuthClient:
        """A confidential client's ``secret`` in the answer is shown this once."""
        wanted = {"name": name, "identifier": identifier, "kind": kind,
                  "redirect_uri": redirect_uri, "allowed_scopes": allowed_scopes,
                  "user_id": user_id}
        return self._get(schemas.OAuthClientBody, CREATE_OAUTH_CLIENT, json={
            "client": {k: v for k, v in wanted.items() if v is not None}}).client

    def show_oauth_client(self, client_id: int) -> schemas.OAuthClient:
        return self._get(schemas.OAuthClientBody, SHOW_OAUTH_CLIENT, client_id=client_id).client

    def update_oauth_client(self, client_id: int, **changes: Any) -> schemas.OAuthClient:
        """Any of ``name``, ``identifier``, ``redirect_uri``, ``allowed_scopes``, ``user_id``,
        ``access_token_seconds``, ``refresh_token_seconds``."""
        return self._get(schemas.OAuthClientBody, UPDATE_OAUTH_CLIENT, client_id=client_id,
                         json={"client": changes}).client

    def generate_oauth_client_secret(self, client_id: int) -> schemas.OAuthClient:
        """A new secret, shown this once; the old one stops working at once."""
        return self._get(schemas.OAuthClientBody, GENERATE_OAUTH_CLIENT_SECRET,
                         client_id=client_id).client

    def delete_oauth_client(self, client_id: int) -> None:
        self._send(DELETE_OAUTH_CLIENT, client_id=client_id)

    def list_oauth_tokens(self, *, page: int = 1, per_page: int = 100,
                          client_id: int | None = None) -> schemas.OAuthTokenList:
        return self._get(schemas.OAuthTokenList, LIST_OAUTH_TOKENS, params={
            "page": page, "per_page": per_page, "client_id": client_id})

    def create_oauth_token(self, client_id: int,
                           scopes: list[str] | None = None) -> schemas.OAuthToken:
        """``full_token`` and ``refresh_token`` in the answer are shown this once."""
        wanted: dict[str, Any] = {"client_id": client_id}
        if scopes is not None:
            wanted["scopes"] = scopes
        return self._get(schemas.OAuthTokenBody, CREATE_OAUTH_TOKEN,
                         json={"token": wanted}).token

    def show_oauth_token(self, token_id: int) -> schemas.OAuthToken:
        return self._get(schemas.OAuthTokenBody, SHOW_OAUTH_TOKEN, token_id=token_id).token

    def revoke_oauth_token(self, token_id: int) -> None:
        self._send(REVOKE_OAUTH_TOKEN, token_id=token_id)

    def current_oauth_token(self) -> schemas.OAuthToken:
        """The OAuth token this client's requests are made with."""
        return self._get(schemas.OAuthTokenBody, SHOW_CURRENT_OAUTH_TOKEN).token

    def revoke_current_oauth_token(self) -> None:
        """End the OAuth token this client's requests are made with."""
        self._send(REVOKE_CURRENT_OAUTH_TOKEN)

    # -- account settings ---------------------------------------------------------------------

    def account_settings(self) -> schemas.AccountSettings:
        return self._get(schemas.AccountSettingsBody, SHOW_ACCOUNT_SETTINGS).settings

    def update_account_settings(self, settings: Mapping[str, Mapping[str, Any]]
                                ) -> schemas.AccountSettings:
        """``{"api": {"api_token_access": "true"}, "governance": {...}}``; unknown keys are
        ignored by the server."""
        return self._get(schemas.AccountSettingsBody, UPDATE_ACCOUNT_SETTINGS,
                         json={"settings": settings}).settings

    # -- audit log ----------------------------------------------------------------------------

    def list_audit_logs(self, *, page: int = 1, per_page: int = 100,
                        **filters: Any) -> schemas.AuditLogList:
        """``filters``: ``source_type``, ``source_id``, ``actor_id``, ``action``,
        ``ip_address``; ``since``/``until`` (datetimes); ``oldest_first``."""
        return self._get(schemas.AuditLogList, LIST_AUDIT_LOGS,
                         params={**_audit_filters(**filters), "page": page,
                                 "per_page": per_page})

    def iter_audit_logs(self, *, page_size: int = 100,
                        **filters: Any) -> Iterator[schemas.AuditLog]:
        return self._pages(schemas.AuditLogList, LIST_AUDIT_LOGS, lambda p: p.audit_logs,
                           {**_audit_filters(**filters), "page[size]": page_size})

    def show_audit_log(self, event_id: int) -> schemas.AuditLog:
        return self._get(schemas.AuditLogBody, SHOW_AUDIT_LOG, event_id=event_id).audit_log

    def export_audit_logs(self, **filters: Any) -> schemas.AuditLogExport:
        """E-mail the events ``filters`` select (as for ``list_audit_logs``) to yourself as
        a CSV file; the answer says how many and to which address."""
        return self._get(schemas.AuditLogExportBody, EXPORT_AUDIT_LOGS,
                         params=_audit_filters(**filters)).audit_log_export

    # -- access requests ----------------------------------------------------------------------

    def create_access_request(self, *, service_name: str, purpose: str, use_case: str,
                              removal_date: date, admin_required: bool = True,
                              admin_justification: str = "", for_email: str | None = None,
                              extends_request_id: int | None = None, kind: str | None = None,
                              scopes: list[str] | None = None, client_kind: str | None = None,
                              redirect_uris: list[str] | None = None) -> schemas.AccessRequest:
        """``kind="integration"`` asks for an OAuth client with ``scopes``, ``client_kind``
        and ``redirect_uris``; an API token request may carry ``scopes`` too."""
        wanted = {"service_name": service_name, "purpose": purpose, "use_case": use_case,
                  "removal_date": removal_date.isoformat(), "admin_required": admin_required,
                  "admin_justification": admin_justification, "for_email": for_email,
                  "extends_request_id": extends_request_id, "kind": kind, "scopes": scopes,
                  "client_kind": client_kind, "redirect_uris": redirect_uris}
        return self._get(schemas.AccessRequestBody, CREATE_ACCESS_REQUEST, json={
            "access_request": {k: v for k, v in wanted.items() if v is not None}}
        ).access_request

    def list_access_requests(self, *, state: str | None = None, mine: bool = False,
                             page: int = 1, per_page: int = 100) -> schemas.AccessRequestList:
        return self._get(schemas.AccessRequestList, LIST_ACCESS_REQUESTS, params={
            "state": state, "mine": mine or None, "page": page, "per_page": per_page})

    def iter_access_requests(self, *, state: str | None = None, mine: bool = False,
                             page_size: int = 100) -> Iterator[schemas.AccessRequest]:
        return self._pages(schemas.AccessRequestList, LIST_ACCESS_REQUESTS,
                           lambda p: p.access_requests,
                           {"state": state, "mine": mine or None, "page[size]": page_size})

    def show_access_request(self, request_id: int) -> schemas.AccessRequest:
        return self._get(schemas.AccessRequestBody, SHOW_ACCESS_REQUEST,
                         request_id=request_id).access_request

    def approve_access_request(self, request_id: int, *, stage: str | None = None,
                               acts_as: str | None = None) -> schemas.AccessRequest:
        wanted = {"stage": stage, "acts_as": acts_as}
        return self._get(schemas.AccessRequestBody, APPROVE_ACCESS_REQUEST,
                         request_id=request_id,
                         json={k: v for k, v in wanted.items() if v is not None}
                         ).access_request

    def deny_access_request(self, request_id: int, reason: str) -> schemas.AccessRequest:
        return self._get(schemas.AccessRequestBody, DENY_ACCESS_REQUEST, request_id=request_id,
                         json={"reason": reason}).access_request

    def resend_delivery(self, request_id: int) -> schemas.AccessRequest:
        return self._get(schemas.AccessRequestBody, RESEND_DELIVERY,
                         request_id=request_id).access_request

    def cancel_access_request(self, request_id: int) -> schemas.AccessRequest:
        return self._get(schemas.AccessRequestBody, CANCEL_ACCESS_REQUEST,
                         request_id=request_id).access_request

    def request_calendar(self, request_id: int) -> str:
        """The request's removal date as an iCalendar event (``text/calendar``)."""
        return self._send(DOWNLOAD_REQUEST_CALENDAR, request_id=request_id).text

    # -- delivery links, calendar feed, reports -----------------------------------------------

    def delivery_status(self, link_secret: str) -> schemas.DeliveryStatus:
        """Needs no credentials: the link's secret is the credential."""
        return self._get(schemas.DeliveryStatusBody, SHOW_DELIVERY,
                         link_secret=link_secret).delivery

    def retrieve_delivery(self, link_secret: str) -> schemas.RetrievedToken:
        """The token (or an integration's client secret), once: the link is then spent."""
        return self._get(schemas.RetrievedTokenBody, RETRIEVE_DELIVERY,
                         link_secret=link_secret).delivery

    def rotate_calendar_feed(self) -> str:
        """A new secret address for your removal-date feed (the old one stops working)."""
        return self._get(schemas.CalendarFeedBody, ROTATE_CALENDAR_FEED).calendar_feed.url

    def compliance_report(self, *, unused_days: int | None = None) -> schemas.ComplianceReport:
        return self._get(schemas.ComplianceReportBody, SHOW_COMPLIANCE_REPORT,
                         params={"unused_days": unused_days}).compliance

    # -- verification and health --------------------------------------------------------------

    def verify(self, scope: str | None = None) -> schemas.Verification:
        """Who this client's own credentials name (``Unauthorized`` when they name nobody);
        with ``scope``, ``Forbidden`` unless their scopes reach it."""
        return self._get(schemas.Verification, VERIFY, params={"scope": scope})

    def health(self) -> schemas.Health:
        return self._get(schemas.Health, HEALTH)

    def ready(self) -> schemas.Readiness:
        """This node's readiness, ``ready`` or ``unready`` with each check: its ``503`` is an
        answer here, not an error."""
        try:
            return self._get(schemas.Readiness, READY)
        except ApiError as error:
            if error.status != 503:
                raise
            return self._read(schemas.Readiness, error.body)


def _audit_filters(*, source_type: str | None = None, source_id: int | None = None,
                   actor_id: int | None = None, action: str | None = None,
                   ip_address: str | None = None, since: datetime | None = None,
                   until: datetime | None = None,
                   oldest_first: bool = False) -> dict[str, Any]:
    bounds = [moment.isoformat() for moment in (since, until) if moment is not None]
    if since is None and until is not None:
        raise ValueError("until needs since (the server reads the first bound as the start)")
    return {"filter[source_type]": source_type, "filter[source_id]": source_id,
            "filter[actor_id]": actor_id, "filter[action]": action,
            "filter[ip_address]": ip_address, "filter[created_at][]": bounds or None,
            "sort_order": "asc" if oldest_first else None}
