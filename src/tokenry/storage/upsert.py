"""``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tokenry.storage.models import Base


def insert_ignoring_duplicates(session: Session, model: type[Base], rows: Sequence[dict[str, Any]],
                               unique: Sequence[str]) -> None:
    if not rows:
        return
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    statement = dialect_insert(model).on_conflict_do_nothing(index_elements=list(unique))
    session.execute(statement, list(rows))
