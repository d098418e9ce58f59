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

A listing may ask for the rows whose column holds any of several values (:class:`AnyOf`, such
as the actions of a filter naming several). Each value's rows are read in the list's order
through an index that leads with the column, at most as far as the page reaches, and merged.
On PostgreSQL that is one statement of constant shape whatever the number of values (a
``LATERAL`` index range per element of an array), so it is built, planned and cached as
cheaply as a plain list; elsewhere, a ``UNION ALL`` of one range per value.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
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
COUNT_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class AnyOf:
    """The rows of ``query`` whose ``column`` holds any of ``values``, read value by value
    through an index that leads with ``column`` (after the query's own equalities) and
    continues with the list's keys."""

    query: Select[Any]
    column: Key
    values: tuple[Any, ...]


Rows = Select[Any] | AnyOf
Shape = Callable[[Select[Any]], Select[Any]]


@overload
def paginate(session: Session, selected: Rows, listing: PageRequest | EveryRow, *,
             keys: Sequence[Key], descending: bool = False) -> Page[Any]: ...
@overload
def paginate(session: Session, selected: Rows, listing: Listing, *,
             keys: Sequence[Key], descending: bool = False) -> Listed[Any]: ...
def paginate(session: Session, selected: Rows, listing: Listing, *,
             keys: Sequence[Key], descending: bool = False) -> Listed[Any]:
    """``selected`` names the rows of one entity, unordered; ``keys`` (unique together, the last
    one the id) order them, descending when asked."""
    if isinstance(listing, CursorRequest):
        return _cursor_page(session, selected, listing, keys, descending)
    counted = None
    if isinstance(listing, EveryRow):
        if listing.at_most is not None:
            # as far as page 1 counts: a list too long for one response is counted once
            counted = _count(session, selected, keys, max(COUNT_LIMIT, listing.at_most) + 1)
        if counted is None or counted <= (listing.at_most or 0):
            items = _rows(session, selected, keys, descending)
            return Page(items=items, count=len(items), request=listing)
        listing = PageRequest()  # too long for one response: its first numbered page
    bound = max(COUNT_LIMIT, listing.offset + listing.per_page)
    if counted is None:
        counted = _count(session, selected, keys, bound + 1)
    items = _rows(session, selected, keys, descending, limit=listing.per_page,
                  offset=listing.offset)
    return Page(items=items, count=min(counted, bound), request=listing,
                more=listing.offset + len(items) < counted, exact=counted <= bound)


def _rows(session: Session, selected: Rows, keys: Sequence[Key], reverse: bool, *,
          limit: int | None = None, offset: int = 0,
          beyond: list[Any] | None = None) -> list[Any]:
    """The rows in key order (``reverse``: descending), past the key ``beyond`` if given."""
    past = None if beyond is None else _past(keys, beyond, reverse)

    def shaped(query: Select[Any]) -> Select[Any]:
        return (query if past is None else query.where(past)).order_by(*_order(keys, reverse))

    if isinstance(selected, Select):
        return list(session.scalars(shaped(selected).offset(offset).limit(limit)))
    # Each value's keys are read in order through its index, at most as far as the page
    # reaches; the merged keys are put in order and cut to the page, and only the page's rows
    # are then fetched whole, by id.
    reach = None if limit is None else offset + limit
    merged = _merged(session, selected,
                     lambda query: shaped(query.with_only_columns(*keys)).limit(reach))
    columns = [merged.c[key.key] for key in keys]
    page = (select(*columns).order_by(*_order(columns, reverse)).offset(offset).limit(limit)
            .subquery())
    entity, ident = keys[0].class_, keys[-1]
    found = (select(entity).join(page, ident == page.c[ident.key])
             .order_by(*_order([page.c[key.key] for key in keys], reverse)))
    return list(session.scalars(found))


def _order(columns: Sequence[Any], reverse: bool) -> list[Any]:
    return [column.desc() if reverse else column.asc() for column in columns]


def _merged(session: Session, wanted: AnyOf, shape: Shape) -> Subquery:
    """The rows ``shape`` makes of ``wanted``'s query, for each of its values in turn.

    On PostgreSQL the values travel as one array: the planner then knows nothing of how many
    rows each one holds, so ``shape`` orders by the index's keys and limits, which keeps every
    value's part an index range scan however common or rare the planner takes it to be."""
    if session.get_bind().dialect.name == "postgresql":
        values = func.unnest(literal(list(wanted.values), ARRAY(wanted.column.type))) \
            .table_valued("value").render_derived()
        part = shape(wanted.query.where(wanted.column == values.c.value)).lateral()
        return select(*part.c).select_from(values).join(part, true()).subquery()
    parts = [select(*shape(wanted.query.where(wanted.column == value)).subquery().c)
             for value in wanted.values]
    return union_all(*parts).subquery()


def _count(session: Session, selected: Rows, keys: Sequence[Key], at_most: int) -> int:
    if isinstance(selected, Select):
        return count_up_to(session, selected, at_most)
    # each value's rows in key order, so that its index is read (see _merged)
    ordered = _merged(session, selected, lambda query: query.with_only_columns(literal(1))
                      .limit(at_most).order_by(*keys))
    return count_up_to(session, select(literal(1)).select_from(ordered), at_most)


def count_up_to(session: Session, query: Select[Any], at_most: int) -> int:
    """How many rows ``query`` selects, counting no further than ``at_most``."""
    rows = query.with_only_columns(literal(1)).limit(at_most).subquery()
    return session.scalar(select(func.count()).select_from(rows)) or 0


def _past(keys: Sequence[Key], bound: list[Any], reverse: bool) -> ColumnElement[bool]:
    marks = [literal(value, key.type) for key, value in zip(keys, bound, strict=True)]
    row, mark = (keys[0], marks[0]) if len(keys) == 1 else (tuple_(*keys), tuple_(*marks))
    return row < mark if reverse else row > mark


def _cursor_page(session: Session, selected: Rows, wanted: CursorRequest,
                 keys: Sequence[Key], descending: bool) -> CursorPage[Any]:
    # Walking backwards is walking forwards in the reverse order, then turning the rows round.
    reverse = descending != wanted.backwards
    cursor = wanted.before if wanted.backwards else wanted.after
    beyond = None
    if cursor is not None:
        field = "page[before]" if wanted.backwards else "page[after]"
        beyond = decode_cursor(cursor, keys, field)
    rows = _rows(session, selected, keys, reverse, limit=wanted.size + 1, beyond=beyond)
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
