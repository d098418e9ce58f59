"""Links in responses are built from the request itself (its scheme and host, which names the
account), so a client that follows one stays where it is."""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request
from starlette.datastructures import URL


def origin(request: Request) -> str:
    scope = request.scope
    host = next((v for k, v in scope["headers"] if k == b"host"), None)
    server = scope.get("server")
    return _origin(scope.get("scheme", "http"), host, tuple(server) if server else None)


@lru_cache(maxsize=256)  # a handful of names per server; a client's odd Host only churns it
def _origin(scheme: str, host: bytes | None, server: tuple[str, int | None] | None) -> str:
    """Starlette's reading of the request's URL (``request.url``), of which only the scheme
    and host are kept; building that URL cost more than a cache miss's query."""
    url = URL(scope={"type": "http", "scheme": scheme, "server": server, "path": "/",
                     "query_string": b"", "headers": [(b"host", host)] if host else []})
    return f"{url.scheme}://{url.netloc}"


def resource_url(request: Request, collection: str, record_id: int) -> str:
    """``https://acme.example/api/v2/api_tokens/7.json``: Zendesk's ``url`` and ``Location``."""
    return f"{origin(request)}/api/v2/{collection}/{record_id}.json"
