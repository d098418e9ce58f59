"""The fast lane: the routes whose whole answer is the verified identity, answered without
FastAPI's routing and dependency machinery.

``GET /api/v2/users/me`` (what Zendesk clients call to check a token) and ``GET /api/v2/verify``
(what a proxy calls before every request it forwards) do nothing but authenticate the
request and describe who it is. On a cache miss FastAPI's per-request work around them
(exception middleware, exit stack, route matching among a hundred routes, dependency solving,
the request and response objects) cost more CPU than the database read: measured with
``bench/cache_miss.py``, the lane took the rate from 0.44x to 0.71x the baseline's.

The lane sits inside :class:`~tokenry.http.envelope.Envelope` (request id, security and
rate-limit headers, the ``.json`` suffix, the latency metric) and outside all of FastAPI's
own layers (see :func:`tokenry.http.app.create_app`). A refused credential becomes the same
response through :func:`error_response`, and an unexpected error the same 500 through
:func:`unexpected_response`, as the app's handlers give. It calls the routes' own endpoint
functions and records the same route in the scope as the router would, so metrics and usage
counts label these requests by their route as before. Anything else, a query string
(``/verify?scope=``, validated by FastAPI) or another method included, goes to the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenry.domain.errors import TokenryError
from tokenry.http.errors import error_response, unexpected_response

Endpoint = Callable[[Request], Awaitable[Response]]


class FastLane:
    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute],
                 endpoints: dict[str, Endpoint]) -> None:
        self.app = app
        # path -> (the router's own route for it, so labels stay the template; its endpoint)
        self._lane: dict[str, tuple[APIRoute, Endpoint]] = {}
        for route in routes:
            if isinstance(route, APIRoute) and route.path in endpoints \
                    and "GET" in (route.methods or ()):
                self._lane[route.path] = (route, endpoints[route.path])
        missing = set(endpoints) - set(self._lane)
        if missing:  # a renamed route must not silently leave the lane
            raise RuntimeError(f"no GET route for fast-lane path(s) {sorted(missing)}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        found = self._lane.get(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        route, endpoint = found
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except TokenryError as error:  # what the app's handlers answer
            response = error_response(error)
        except Exception as error:
            await unexpected_response(request, error)(scope, receive, send)
            raise  # for the server's own log, as Starlette's ServerErrorMiddleware does
        await response(scope, receive, send)
