"""Zendesk's two paginations on every list, and the links that walk them.

Offset pagination (``page``, ``per_page``) answers ``next_page`` / ``previous_page`` and
``count``, which stops at a bound (operations.paging.COUNT_LIMIT) so page 1 of a long list
is cheap. Cursor pagination (``page[size]``, ``page[after]``, ``page[before]``) answers
``meta`` (``has_more``, ``after_cursor``, ``before_cursor``) and ``links`` (``next``, ``prev``)
and never counts the table. A request is a cursor request when it carries any ``page[...]``
parameter.

The links are built from the request itself: its scheme, host (which names the account) and
path, and every query parameter it carried (repeated ones too, such as the two ends of
``filter[created_at][]``), with only the paging changed. A client that follows them stays in
its account and keeps its filters.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

from tokenry.domain.errors import Invalid
from tokenry.domain.text import MAX_PAGE
from tokenry.http.links import origin
from tokenry.operations.context import CursorPage, CursorRequest, Listed, Listing, PageRequest
from tokenry.operations.paging import COUNT_LIMIT

PAGING = frozenset({"page", "per_page", "page[size]", "page[after]", "page[before]"})
CURSOR = r"^[A-Za-z0-9_-]+$"  # what encode_cursor gives out
COUNTED = (f"`count` is exact up to {COUNT_LIMIT:,} rows, or up to the end of the page asked "
           f"for when that lies further; past that it is that bound (`next_page` still says "
           f"whether more follow). Cursor pagination never counts.")


async def listing(  # no I/O: run on the event loop, not a worker thread
    page: Annotated[int | None, Query(
        ge=1, le=MAX_PAGE, description=f"Offset pagination: the page number. {COUNTED}")] = None,
    per_page: Annotated[int | None, Query(
        ge=1, le=100, description="Offset pagination: rows per page (100 unless given)")] = None,
    size: Annotated[int | None, Query(
        alias="page[size]", ge=1, le=100,
        description="Cursor pagination: rows per page (no total count is given)")] = None,
    after: Annotated[str | None, Query(
        alias="page[after]", max_length=512, pattern=CURSOR,
        description="Cursor pagination: the page after `meta.after_cursor`")] = None,
    before: Annotated[str | None, Query(
        alias="page[before]", max_length=512, pattern=CURSOR,
        description="Cursor pagination: the page before `meta.before_cursor`")] = None,
) -> Listing | None:
    """The page a list request asks for; None when it names none (each list has its
    default)."""
    if size is not None or after is not None or before is not None:
        if page is not None:
            raise Invalid.field("page", "cannot be given with cursor pagination "
                                        "(page[size], page[after], page[before])")
        return CursorRequest(size=size or per_page or 100, after=after, before=before)
    if page is None and per_page is None:
        return None
    return PageRequest(page or 1, per_page or 100)


Paging = Annotated[Listing | None, Depends(listing)]


def page_json(key: str, items: list[dict[str, Any]], result: Listed[Any],
              request: Request) -> dict[str, Any]:
    base = f"{origin(request)}{request.url.path.rstrip('/')}.json"
    kept = [(name, value) for name, value in request.query_params.multi_items()
            if name not in PAGING]

    def link(*paging: tuple[str, object]) -> str:
        return f"{base}?{urlencode([*kept, *paging])}"

    if isinstance(result, CursorPage):
        size = ("page[size]", result.request.size)
        return {
            key: items,
            "meta": {"has_more": result.has_more, "after_cursor": result.after_cursor,
                     "before_cursor": result.before_cursor},
            "links": {
                "next": link(size, ("page[after]", result.after_cursor))
                if result.has_next else None,
                "prev": link(size, ("page[before]", result.before_cursor))
                if result.has_previous else None,
            },
        }
    wanted = result.request
    if not isinstance(wanted, PageRequest):  # every row: nothing before or after
        return {key: items, "next_page": None, "previous_page": None, "count": result.count}
    return {
        key: items,
        "next_page": link(("page", wanted.page + 1), ("per_page", wanted.per_page))
        if result.has_next else None,
        "previous_page": link(("page", wanted.page - 1), ("per_page", wanted.per_page))
        if wanted.page > 1 else None,
        "count": result.count,
    }
