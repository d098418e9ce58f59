"""Run a listing's query as the page it asked for: numbered, by cursor, or every row.

Cursor pages use keyset pagination: the cursor carries the sort key of the row it names
(``created_at`` and ``id`` for the audit log, ``id`` elsewhere), and the next page is the rows
beyond that key, found through the index with no count and no offset. A cursor is opaque to
clients; one that does not decode to a key of this list is refused with a field error, and a
cursor still only moves within the caller's own account, whose condition the query carries.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, overload

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

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

Key = InstrumentedAttribute[Any]


@overload
def paginate(session: Session, query: Select[Any], listing: PageRequest | EveryRow, *,
             keys: Sequence[Key], descending: bool = False) -> Page[Any]: ...
@overload
def paginate(session: Session, query: Select[Any], listing: Listing, *,
             keys: Sequence[Key], descending: bool = False) -> Listed[Any]: ...
def paginate(session: Session, query: Select[Any], listing: Listing, *,
             keys: Sequence[Key], descending: bool = False) -> Listed[Any]:
    """``query`` selects the rows, unordered; ``keys`` (unique together, the last one the id)
    order them, descending when asked."""
    if isinstance(listing, CursorRequest):
        return _cursor_page(session, query, listing, keys, descending)
    ordered = query.order_by(*(key.desc() if descending else key.asc() for key in keys))
    if isinstance(listing, EveryRow):
        items = list(session.scalars(ordered))
        return Page(items=items, count=len(items), request=listing)
    count = session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(session.scalars(ordered.offset(listing.offset).limit(listing.per_page)))
    return Page(items=items, count=count or 0, request=listing)



def _cursor_page(session: Session, query: Select[Any], wanted: CursorRequest,
                 keys: Sequence[Key], descending: bool) -> CursorPage[Any]:
    # Walking backwards is walking forwards in the reverse order, then turning the rows round.
    reverse = descending != wanted.backwards
    cursor = wanted.before if wanted.backwards else wanted.after
    if cursor is not None:
        field = "page[before]" if wanted.backwards else "page[after]"
        bound = [literal(value, key.type) for key, value in
                 zip(keys, decode_cursor(cursor, keys, field), strict=True)]
        row, mark = (keys[0], bound[0]) if len(keys) == 1 else (tuple_(*keys), tuple_(*bound))
        query = query.where(row < mark if reverse else row > mark)
    ordered = query.order_by(*(key.desc() if reverse else key.asc() for key in keys))
    rows = list(session.scalars(ordered.limit(wanted.size + 1)))
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
