"""``TokenryMiddleware``: verify every request of a Starlette or FastAPI app against tokenry.

    app = TokenryMiddleware(app, "https://tokens.example",
                            scope="tickets:read", paths={"/admin": "tickets:write"})

Each HTTP or WebSocket request's ``Authorization`` header goes to tokenry's
``GET /api/v2/verify`` (``?scope=`` when the path needs one) and only a 200 lets it through,
with the identity in ``request.state.tokenry`` (a :class:`TokenryIdentity`). Answers:

    401   no credential, two of them, or tokenry refused it (tokenry's body and challenge)
    403   tokenry: the credential's scopes do not reach the path's scope
    429   tokenry throttled the caller (its ``Retry-After`` passed on)
    503   tokenry unreachable, slow or answering something else: fail closed, never through

The account is the one tokenry picks from the Host header: the request's own by default, or
``account_host`` for a fixed one. The caller's address goes along as ``X-Forwarded-For``
(``forward_client``), so a tokenry that trusts this service (``forwarded_allow_ips``) throttles
the caller that fails, not every caller of the service.

Answers are kept in a bounded LRU (``max_entries``) for ``ttl`` seconds (tokenry's own
default, 2 s), a refusal for at most ``refusal_ttl`` (1 s), an expiring credential no longer
than its ``expires_at`` when tokenry reports one; concurrent requests with the same credential
wait for one remote call. Keys are keyed BLAKE2 digests, so
the cache never holds a secret. This module imports nothing from the server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tokenry.asgi")
VERIFY_PATH = "/api/v2/verify"
_PASSED_HEADERS = ("content-type", "www-authenticate", "retry-after")


@dataclass(frozen=True, slots=True)
class TokenryIdentity:
    """Who tokenry says the request's credential names. ``method`` is ``token`` (an API
    token), ``oauth`` (an OAuth access token) or ``password``; ``token_id`` is the id in that
    kind's table, None for a password; ``scopes`` None for an unscoped credential (its
    user's full power)."""
    user_id: int
    email: str
    role: str
    account: str
    account_id: int
    token_id: int | None
    scopes: tuple[str, ...] | None
    method: str


@dataclass(frozen=True, slots=True)
class _Answer:
    """What tokenry said: an identity, or a refusal to send as it is."""
    identity: TokenryIdentity | None
    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    expires_in: float | None = None  # seconds the credential has left, when tokenry says


class _LRU:
    """At most ``size`` answers, each until its own monotonic deadline; the least recently
    used goes first when full."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, tuple[float, _Answer]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: bytes, now: float) -> _Answer | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: bytes, answer: _Answer, deadline: float) -> None:
        self._items[key] = (deadline, answer)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class TokenryMiddleware:
    """Pure ASGI middleware; see the module docstring. ``transport`` replaces httpx's own
    (a proxy, a test's counting wrapper); lifespan shutdown closes the pooled client."""

    def __init__(self, app: ASGIApp, tokenry_url: str, *, scope: str | None = None,
                 paths: Mapping[str, str | None] | None = None,
                 account_host: str | None = None, forward_client: bool = True,
                 ttl: float = 2.0, refusal_ttl: float = 1.0, max_entries: int = 10_000,
                 timeout: float = 5.0, max_connections: int = 100,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if ttl < 0 or refusal_ttl < 0 or max_entries < 1:
            raise ValueError("ttl and refusal_ttl must be >= 0 and max_entries >= 1")
        self.app = app
        self.verify_url = tokenry_url.rstrip("/") + VERIFY_PATH
        self.scope = scope
        # Longest prefix first, so "/admin/keys" can ask more than "/admin".
        self.paths = sorted((paths or {}).items(), key=lambda item: -len(item[0]))
        self.account_host = account_host
        self.forward_client = forward_client
        self.ttl = ttl
        self.refusal_ttl = min(refusal_ttl, ttl)
        self.cache = _LRU(max_entries)
        self._key = os.urandom(32)  # per middleware: a digest seen elsewhere matches nothing
        self._in_flight: dict[bytes, asyncio.Task[_Answer]] = {}
        self._client_options: dict[str, Any] = {
            "timeout": timeout, "transport": transport,
            "limits": httpx.Limits(max_connections=max_connections,
                                   max_keepalive_connections=max_connections)}
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"TokenryMiddleware({self.verify_url!r}, scope={self.scope!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing_on_shutdown(receive), send)
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        answer = await self._verify(scope)
        if answer.identity is None:
            await self._refuse(scope, send, answer)
            return
        scope.setdefault("state", {})["tokenry"] = answer.identity
        await self.app(scope, receive, send)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def required_scope(self, path: str) -> str | None:
        """The scope ``path`` needs: its longest configured prefix's, else the app's."""
        for prefix, needed in self.paths:
            trimmed = prefix.rstrip("/")
            if path == trimmed or path.startswith(trimmed + "/"):
                return needed
        return self.scope

    def _closing_on_shutdown(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.aclose()
            return message
        return wrapped

    async def _verify(self, scope: Scope) -> _Answer:
        authorization = host = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is not None:  # which one would the app believe?
                    return _UNAUTHENTICATED
                authorization = value
            elif name == b"host":
                host = value
        if not authorization:
            return _UNAUTHENTICATED
        # Raw bytes all the way to tokenry: a header outside ASCII is its to refuse.
        host = self.account_host.encode() if self.account_host else host or b""
        needed = self.required_scope(scope["path"])
        client = scope.get("client")
        source = str(client[0]) if client and self.forward_client else None
        key = hashlib.blake2b(b"\n".join((host, (needed or "").encode(), authorization)),
                              key=self._key, digest_size=32).digest()
        cached = self.cache.get(key, time.monotonic())
        if cached is not None:
            return cached
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._remote(key, host, needed, authorization, source))
            self._in_flight[key] = task
            task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        # Shielded: one caller going away must not cancel the answer the others wait for.
        return await asyncio.shield(task)

    async def _remote(self, key: bytes, host: bytes, needed: str | None, authorization: bytes,
                      source: str | None) -> _Answer:
        started = time.monotonic()
        headers = {b"Authorization": authorization, b"Accept": b"application/json"}
        if host:
            headers[b"Host"] = host
        if source is not None:  # only the first caller's: a cached answer is anyone's
            headers[b"X-Forwarded-For"] = source.encode()
        try:
            response = await self._http().get(
                self.verify_url, headers=headers,
                params={"scope": needed} if needed is not None else None)
        except httpx.HTTPError as error:
            log.warning("tokenry unreachable at %s: %s", self.verify_url, type(error).__name__)
            return _UNAVAILABLE
        answer = _answer_from(response)
        if answer is _UNAVAILABLE:
            log.warning("tokenry answered %s from %s", response.status_code, self.verify_url)
        lifetime = _lifetime(answer, self.ttl, self.refusal_ttl)
        if lifetime > 0:
            self.cache.put(key, answer, started + lifetime)
        return answer

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:  # made on first use, inside the server's event loop
            self._client = httpx.AsyncClient(**self._client_options)
        return self._client

    async def _refuse(self, scope: Scope, send: Send, answer: _Answer) -> None:
        if scope["type"] == "websocket":  # closing before accept: the server answers 403
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode()),
                   (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


def _refusal(status: int, body: Mapping[str, str], *extra: tuple[bytes, bytes]) -> _Answer:
    return _Answer(None, status, json.dumps(body).encode(),
                   ((b"content-type", b"application/json"), *extra))


_UNAUTHENTICATED = _refusal(401, {"error": "Couldn't authenticate you"},
                            (b"www-authenticate", b'Basic realm="tokenry"'))
_UNAVAILABLE = _refusal(503, {"error": "TokenryUnavailable",
                              "description": "The credential could not be verified now"},
                        (b"retry-after", b"1"))


def _answer_from(response: httpx.Response) -> _Answer:
    if response.status_code in (401, 403, 429):
        passed = tuple((name.encode(), response.headers[name].encode("latin-1"))
                       for name in _PASSED_HEADERS if name in response.headers)
        return _Answer(None, response.status_code, response.content, passed)
    if response.status_code != 200:
        return _UNAVAILABLE
    try:
        body = response.json()
        token = body["token"]
        expires_at = token.get("expires_at") if token is not None else None
        return _Answer(_identity(body), 200, b"", (), seconds_until(expires_at))
    except (ValueError, KeyError, TypeError, AttributeError):
        return _UNAVAILABLE


def _identity(body: dict[str, Any]) -> TokenryIdentity:
    user, account, token, scopes = body["user"], body["account"], body["token"], body["scopes"]
    return TokenryIdentity(
        user_id=int(user["id"]), email=str(user["email"]), role=str(user["role"]),
        account=str(account["subdomain"]), account_id=int(account["id"]),
        token_id=int(token["id"]) if token is not None else None,
        scopes=tuple(str(name) for name in scopes) if scopes is not None else None,
        method=str(body["method"]))


def _lifetime(answer: _Answer, ttl: float, refusal_ttl: float) -> float:
    """How long ``answer`` may be reused: never a 429 or an outage, a refusal briefly."""
    if answer.status in (401, 403):
        return refusal_ttl
    if answer.status != 200:
        return 0.0
    return ttl if answer.expires_in is None else max(0.0, min(ttl, answer.expires_in))


def seconds_until(expires_at: str | None, now: datetime | None = None) -> float | None:
    """Seconds left before an ISO 8601 ``expires_at``; None when there is none."""
    if not expires_at:
        return None
    deadline = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    return (deadline - (now or datetime.now(UTC))).total_seconds()
