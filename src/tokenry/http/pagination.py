"""Zendesk-style offset pagination: ``next_page`` / ``previous_page`` URLs and ``count``.

The links are built from the request itself: its scheme, host (which names the account) and
path, and every query parameter it carried (repeated ones too, such as the two ends of
``filter[created_at][]``), with only ``page`` changed. A client that follows them stays in
its account and keeps its filters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from tokenry.http.links import origin
from tokenry.operations.context import Page

PAGING = frozenset({"page", "per_page"})


def page_json(key: str, items: list[dict[str, Any]], page: Page[Any],
              request: Request) -> dict[str, Any]:
    wanted = page.request
    base = f"{origin(request)}{request.url.path.rstrip('/')}.json"
    kept = [(name, value) for name, value in request.query_params.multi_items()
            if name not in PAGING]

    def link(number: int) -> str:
        return f"{base}?{urlencode([*kept, ('page', number), ('per_page', wanted.per_page)])}"

    return {
        key: items,
        "next_page": link(wanted.page + 1) if page.has_next else None,
        "previous_page": link(wanted.page - 1) if wanted.page > 1 else None,
        "count": page.count,
    }
