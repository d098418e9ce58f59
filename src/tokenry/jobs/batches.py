"""Walk a job's rows in bounded batches, each its own transaction.

A job asks one indexed question (``query``) and handles each row it selects. Rows are read
in the order of ``keys`` (the index's range column, then the id), ``BATCH`` at a time, locked,
handled and committed before the next batch is read; the next batch starts past the last
row's key. A crash loses at most the batch in progress: every job selects its rows by state
(or sends idempotent reminders), so the next run finds only what is left. No transaction
holds more than ``BATCH`` rows' locks, however many rows are due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, delete, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from tokenry.core import Core
from tokenry.storage.models import Base

BATCH = 500  # rows per transaction

Row = TypeVar("Row", bound=Base)
Key = ColumnElement[Any] | InstrumentedAttribute[Any]


def each_in_batches(core: Core, query: Select[Row], keys: Sequence[Key],
                    key_of: Callable[[Row], tuple[Any, ...]],
                    handle: Callable[[Session, Row], bool], *, lock: bool = True) -> int:
    """Run ``handle`` on every row ``query`` selects, ``BATCH`` rows per transaction; returns
    how many rows it answered True for. ``key_of`` reads a row's ``keys`` (unique together,
    the last one the id)."""
    done, after = 0, None
    while True:
        page = query
        if after is not None:  # the first key bounds the index range; the tuple breaks ties
            bound = [literal(value, key.type) for key, value in zip(keys, after, strict=True)]
            page = page.where(keys[0] >= bound[0], tuple_(*keys) > tuple_(*bound))
        page = page.order_by(*keys).limit(BATCH)
        with core.db.transaction() as session:
            rows = list(session.scalars(page.with_for_update() if lock else page))
            if rows:
                after = key_of(rows[-1])  # read before a handler deletes the row
            for row in rows:
                done += handle(session, row)
        if len(rows) < BATCH:
            return done


def delete_in_batches(core: Core, model: type[Base], *conditions: ColumnElement[bool]) -> int:
    """Delete the rows that meet ``conditions``, ``BATCH`` per transaction; returns how many."""
    ident: InstrumentedAttribute[int] = model.id  # type: ignore[attr-defined]
    total = 0
    while True:
        with core.db.transaction() as session:
            ids = list(session.scalars(select(ident).where(*conditions).limit(BATCH)))
            if ids:
                session.execute(delete(model).where(ident.in_(ids))
                                .execution_options(synchronize_session=False))
        total += len(ids)
        if len(ids) < BATCH:
            return total
