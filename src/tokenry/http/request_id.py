"""A request id for every request: made here, or taken from a sane ``X-Request-Id`` when a
proxy in front is trusted (``TOKENRY_FORWARDED_ALLOW_IPS``; a client could otherwise pick ids
that mislead whoever reads the log), put on every log line of the request and in the
response's ``X-Request-Id``, so one request can be followed across nginx, tokenry and back."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenry.logs import request_id

_SANE = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, trust_incoming: bool = False) -> None:
        self.app = app
        self.trust_incoming = trust_incoming

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"") \
            if self.trust_incoming else b""
        rid = given.decode() if _SANE.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
