"""What every HTTP request and response gets, in one ASGI layer (one layer and one ``send``
wrapper instead of five: on the hottest routes each layer's call cost more than its work).

**Request id.** Made here, or taken from a sane ``X-Request-Id`` when a proxy in front is
trusted (``TOKENRY_FORWARDED_ALLOW_IPS``; a client could otherwise pick ids that mislead
whoever reads the log). It is on every log line of the request and in the response's
``X-Request-Id``, so one request can be followed across nginx, tokenry and back.

**Zendesk's paths.** Clients call ``/api/v2/things.json``; tokenry answers with or without
``.json`` and with or without a trailing slash, in place: no redirect is ever built from the
request's Host header.

**Security headers.** ``X-Content-Type-Options: nosniff`` on everything. Pages (the
delivery page shows a secret; the Admin Center; the API documentation) also get a strict
Content-Security-Policy, ``X-Frame-Options: DENY`` (click-jacking) and
``Referrer-Policy: no-referrer`` (a delivery link is a credential). A page that needs more
than the default policy (the documentation's one inline script) sets its own, which is kept.

**Rate-limit headers.** Zendesk's, on every authenticated API response, the 429 included,
from the state authentication leaves in the request's scope.

**Latency.** Every request is timed into the histogram labelled by its route *template*, read
from the scope after the answer (``/api/v2/api_tokens/{token_id}``; never the path the client
sent, since ids and on some routes secrets live in paths). A request no route matched counts
as ``unmatched``.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenry.auth.rate_limit import RATE_STATE, RateState
from tokenry.logs import request_id
from tokenry.observe.metrics import UNMATCHED, Metrics

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_PAGE_HEADERS = ((b"content-security-policy", PAGE_POLICY.encode()),
                 (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_SANE_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")
_API = "/api/v2/"


class Envelope:
    def __init__(self, app: ASGIApp, metrics: Metrics, trust_request_id: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.trust_request_id = trust_request_id
        # 32 hex digits, unique across processes and restarts: a half drawn from the
        # system once, and a half from Python's generator per request (reading the system's
        # per request cost a system call each; a counter would tell clients how busy the
        # server is). Ids are for following a request, not secrets.
        self._prefix = os.urandom(8).hex()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = self._request_id(scope)
        rid_header = (b"x-request-id", rid.encode())
        token = request_id.set(rid)
        # set before any copy of the scope is made, so that the copies share it
        state = scope.setdefault("state", {})
        inner = _without_suffix(scope)

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _headers(message.get("headers", ()), rid_header,
                                              state.get(RATE_STATE))
            await send(message)

        try:
            await self.app(inner, receive, send_wrapped)
        finally:
            request_id.reset(token)
            route = inner.get("route")
            self.metrics.latency(scope["method"], getattr(route, "path", None) or UNMATCHED) \
                .observe(time.perf_counter() - started)

    def _request_id(self, scope: Scope) -> str:
        if self.trust_request_id:
            given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
            if _SANE_ID.match(given):
                return given.decode()
        return f"{self._prefix}{random.getrandbits(64):016x}"


def _without_suffix(scope: Scope) -> Scope:
    """The scope an API path's ``.json`` suffix or trailing slash removed (a copy), else
    the scope itself."""
    path: str = scope["path"]
    if not path.startswith(_API) or len(path) == len(_API):
        return scope
    raw_path: bytes = scope.get("raw_path") or b""
    if path.endswith("/"):
        path, raw_path = path.rstrip("/"), raw_path.rstrip(b"/")
    if path.endswith(".json"):
        path, raw_path = path[:-5], raw_path[:-5]
    if path == scope["path"]:
        return scope
    return dict(scope, path=path, raw_path=raw_path)


def _headers(given: Iterable[tuple[bytes, bytes]], rid_header: tuple[bytes, bytes],
             rate: object) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    nosniff = page = False
    for name, value in given:  # one pass: this runs for every response
        lower = name.lower()
        if lower == b"x-request-id":
            continue  # ours replaces any other
        if lower == b"x-content-type-options":
            nosniff = True
        elif lower == b"content-type":
            page = value.startswith(b"text/html")
        headers.append((name, value))
    headers.append(rid_header)
    if not nosniff:
        headers.append(_NOSNIFF)
    if page:
        names = {name.lower() for name, _ in headers}
        headers.extend(header for header in _PAGE_HEADERS if header[0] not in names)
    if isinstance(rate, RateState):
        headers.extend(rate.headers())
    return headers
