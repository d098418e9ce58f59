"""Links in responses are built from the request itself (its scheme and host, which names the
account), so a client that follows one stays where it is."""

from __future__ import annotations

from fastapi import Request


def origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def resource_url(request: Request, collection: str, record_id: int) -> str:
    """``https://acme.example/api/v2/api_tokens/7.json``: Zendesk's ``url`` and ``Location``."""
    return f"{origin(request)}/api/v2/{collection}/{record_id}.json"
