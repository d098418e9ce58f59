"""Zendesk-style offset pagination: ``next_page`` / ``previous_page`` URLs and ``count``."""

from __future__ import annotations

from typing import Any

from tokenry.operations.context import Page


def page_json(key: str, items: list[dict[str, Any]], page: Page[Any], url: str,
              extra_query: str = "") -> dict[str, Any]:
    request = page.request

    def link(number: int) -> str:
        return f"{url}?page={number}&per_page={request.per_page}{extra_query}"

    return {
        key: items,
        "next_page": link(request.page + 1) if page.has_next else None,
        "previous_page": link(request.page - 1) if request.page > 1 else None,
        "count": page.count,
    }
