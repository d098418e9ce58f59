"""Times every HTTP request into the latency histogram, labelled by its route *template*.

The router records the matched route in the scope; it is read after the answer, so the label
is ``/api/v2/api_tokens/{token_id}`` and never the path the client sent (ids, and on some
routes secrets, live in paths). A request no route matched counts as ``unmatched``.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from tokenry.observe.metrics import UNMATCHED, Metrics


class RequestTimingMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            self.metrics.latency(scope["method"], template).observe(
                time.perf_counter() - started)
