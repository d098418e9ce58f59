"""Zendesk's rate-limit headers on every authenticated API response, from the state the
authentication dependency left in the request's scope."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenry.auth.rate_limit import RATE_STATE, RateState


class RateLimitHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with the copies inner layers make

        async def send_with_headers(message: Message) -> None:
            rate = state.get(RATE_STATE)
            if message["type"] == "http.response.start" and isinstance(rate, RateState):
                message["headers"] = [*message.get("headers", []), *rate.headers()]
            await send(message)

        await self.app(scope, receive, send_with_headers)
