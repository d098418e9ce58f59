"""Run a listing's query as the page it asked for: numbered, by cursor, or every row.

Cursor pages use keyset pagination: the cursor carries the sort key of the row it names
(``created_at`` and ``id`` for the audit log, ``id`` elsewhere), and the next page is the rows
beyond that key, found through the index with no count and no offset. A cursor is opaque to
clients; one that does not decode to a key of this list is refused with a field error, and a
cursor still only moves within the caller's own account, whose condition the query carries.

A numbered page's ``count`` is exact up to :data:`COUNT_LIMIT` rows (or up to the end of the
page asked for, when that lies further); past that it reads as that bound, and ``next_page``
still says whether more rows follow. Counting stops there, so page 1 of a list of millions
costs the same as page 1 of a list of thousands. Zendesk's own offset pagination reaches no
further than its first 10,000 rows.

A listing may be given as several queries (each read through its own index, such as one per
action of a filter naming several); the rows are their union, and each page reads at most a
page from each, merged in the list's order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, overload

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_, union_all
from sqlalchemy.orm import QueryableAttribute, Session

from tokenry.domain.errors import Invalid
from tokenry.domain.text import MAX_ID
from tokenry.operations.context import (
    CursorPage,
    CursorRequest,
    EveryRow,
    Listed,
    Listing,
    Page,
    PageRequest,
)

Key = QueryableAttribute[Any]
Rows = Select[Any] | Sequence[Select[Any]]  # several: the union of their rows, which never meet
COUNT_LIMIT = 10_000


@overload
def paginate(session: Session, query: Rows, listing: PageRequest | EveryRow, *,
             keys: Sequence[Key], descending: bool = False) -> Page[Any]: ...
@overload
def paginate(session: Session, query: Rows, listing: Listing, *,
             keys: Sequence[Key], descending: bool = False) -> Listed[Any]: ...
def paginate(session: Session, query: Rows, listing: Listing, *,
             keys: Sequence[Key], descending: bool = False) -> Listed[Any]:
    """``query`` selects the rows of one entity, unordered; ``keys`` (unique together, the last
    one the id) order them, descending when asked."""
    queries = [query] if isinstance(query, Select) else list(query)
    if isinstance(listing, CursorRequest):
        return _cursor_page(session, queries, listing, keys, descending)
    if isinstance(listing, EveryRow):
        if listing.at_most is None or \
                _count(session, queries, listing.at_most + 1) <= listing.at_most:
            items = _rows(session, queries, keys, descending)
            return Page(items=items, count=len(items), request=listing)
        listing = PageRequest()  # too long for one response: its first numbered page
    bound = max(COUNT_LIMIT, listing.offset + listing.per_page)
    counted = _count(session, queries, bound + 1)
    items = _rows(session, queries, keys, descending, limit=listing.per_page,
                  offset=listing.offset)
    return Page(items=items, count=min(counted, bound), request=listing,
                more=listing.offset + len(items) < counted, exact=counted <= bound)


def _rows(session: Session, queries: list[Select[Any]], keys: Sequence[Key], reverse: bool, *,
          limit: int | None = None, offset: int = 0,
          beyond: list[Any] | None = None) -> list[Any]:
    """The rows in key order (``reverse``: descending), past the key ``beyond`` if given."""
    # built once and shared by every part: building clauses is most of a merged page's cost
    past = None if beyond is None else _past(keys, beyond, reverse)
    order = [key.desc() if reverse else key.asc() for key in keys]

    def shaped(query: Select[Any]) -> Select[Any]:
        return (query if past is None else query.where(past)).order_by(*order)

    if len(queries) == 1:
        return list(session.scalars(shaped(queries[0]).offset(offset).limit(limit)))
    # Each part's keys are read in order through its own index, at most as far as the page
    # reaches; the parts are merged (PostgreSQL: a Merge Append of index scans) and only the
    # page's rows are then fetched whole, by id. Keys alone keep the statement small to build.
    reach = None if limit is None else offset + limit
    parts = [select(*shaped(query.with_only_columns(*keys)).limit(reach).subquery().c)
             for query in queries]
    merged = union_all(*parts).subquery()
    entity, ident = keys[0].class_, keys[-1]
    page = (select(entity).join(merged, ident == merged.c[ident.key])
            .order_by(*(merged.c[key.key].desc() if reverse else merged.c[key.key].asc()
                        for key in keys)))
    return list(session.scalars(page.offset(offset).limit(limit)))


def _count(session: Session, queries: list[Select[Any]], at_most: int) -> int:
    """How many rows the queries select, counting no further than ``at_most``."""
    parts = [select(literal(1)).select_from(
        query.with_only_columns(literal(1)).limit(at_most).subquery()) for query in queries]
    rows = parts[0] if len(parts) == 1 else union_all(*parts).limit(at_most)
    return session.scalar(select(func.count()).select_from(rows.subquery())) or 0


def _past(keys: Sequence[Key], bound: list[Any], reverse: bool) -> ColumnElement[bool]:
    marks = [literal(value, key.type) for key, value in zip(keys, bound, strict=True)]
    row, mark = (keys[0], marks[0]) if len(keys) == 1 else (tuple_(*keys), tuple_(*marks))
    return row < mark if reverse else row > mark


def _cursor_page(session: Session, queries: list[Select[Any]], wanted: CursorRequest,
                 keys: Sequence[Key], descending: bool) -> CursorPage[Any]:
    # Walking backwards is walking forwards in the reverse order, then turning the rows round.
    reverse = descending != wanted.backwards
    cursor = wanted.before if wanted.backwards else wanted.after
    beyond = None
    if cursor is not None:
        field = "page[before]" if wanted.backwards else "page[after]"
        beyond = decode_cursor(cursor, keys, field)
    rows = _rows(session, queries, keys, reverse, limit=wanted.size + 1, beyond=beyond)
    has_more = len(rows) > wanted.size
    items = rows[:wanted.size]
    if wanted.backwards:
        items.reverse()
    return CursorPage(
        items=items, has_more=has_more, request=wanted,
        after_cursor=encode_cursor(items[-1], keys) if items else None,
        before_cursor=encode_cursor(items[0], keys) if items else None)


def encode_cursor(row: Any, keys: Sequence[Key]) -> str:
    values = [_plain(getattr(row, key.key)) for key in keys]
    text = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode()


def decode_cursor(cursor: str, keys: Sequence[Key], field: str) -> list[Any]:
    refused = Invalid.field(field, "is not a cursor this list gave out")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(text)
    except (binascii.Error, ValueError):
        raise refused from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise refused
    try:
        return [_typed(value, key) for value, key in zip(values, keys, strict=True)]
    except (TypeError, ValueError, OverflowError):
        raise refused from None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _typed(value: Any, key: Key) -> Any:
    if getattr(key.type, "impl", key.type).python_type is datetime:  # UTCDateTime decorates
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a cursor's moment carries its offset")
        return moment
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise ValueError("a cursor's id is a whole number")
    return value
