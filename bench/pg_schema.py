"""A throwaway PostgreSQL schema for a benchmark, so it never touches another's tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def scratch_schema(url: str | None) -> Iterator[str | None]:
    """A PostgreSQL URL whose tables live in a new schema, dropped at the end (None: SQLite)."""
    if url is None:
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
