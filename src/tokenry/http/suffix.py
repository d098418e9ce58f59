"""Zendesk clients call ``/api/v2/things.json``; tokenry answers with or without ``.json``,
and with or without a trailing slash (answered in place: no redirect is ever built from the
request's Host header)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class JsonSuffixMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/api/v2/") and len(path) > len("/api/v2/"):
                if path.endswith("/"):
                    path = path.rstrip("/")
                    scope = dict(scope, path=path,
                                 raw_path=scope.get("raw_path", b"").rstrip(b"/"))
                if path.endswith(".json"):
                    scope = dict(scope, path=path[:-5],
                                 raw_path=scope.get("raw_path", b"")[:-5])
        await self.app(scope, receive, send)
