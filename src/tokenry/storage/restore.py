"""The mechanics of a restore: SQLite's backup API run the other way, and ``pg_restore``.

Both are all or nothing: SQLite copies every page in one write transaction, and
``pg_restore --single-transaction`` rolls back on its first error.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from tokenry.storage.backup import BackupError, postgres_client, run_client


def sqlite_backup_facts(source: Path, fingerprint_key: str) -> tuple[str | None, str | None]:
    """The schema revision a SQLite backup holds, and its ``server_info`` row
    ``fingerprint_key`` (the server secret's fingerprint)."""
    try:
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as copy:
            problem = copy.execute("PRAGMA quick_check").fetchone()
            if problem is None or problem[0] != "ok":
                raise BackupError(f"{source} failed its integrity check: {problem}")
            return (_value(copy, "SELECT version_num FROM alembic_version"),
                    _value(copy, "SELECT value FROM server_info WHERE key = ?",
                           fingerprint_key))
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not a tokenry SQLite backup: {error}") from None


def _value(connection: sqlite3.Connection, query: str, *parameters: str) -> str | None:
    row = connection.execute(query, parameters).fetchone()
    return None if row is None else str(row[0])


def restore_sqlite(source: Path, live: Path) -> None:
    """Replace every page of ``live`` with ``source``'s in one write transaction."""
    if not live.exists():
        live.touch(mode=0o600)
    try:
        with closing(sqlite3.connect(source)) as copy, \
                closing(sqlite3.connect(live, timeout=10)) as target:
            copy.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL").fetchone()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite restore failed: {error}") from None


def pg_dump_facts(database_url: str, source: Path,
                  fingerprint_key: str) -> tuple[str | None, str | None]:
    """The schema a ``pg_dump -Fc`` file creates, and its ``server_info`` row
    ``fingerprint_key``."""
    program, env = postgres_client("pg_restore", database_url)
    listing = run_client([program, "--list", str(source)], env)
    schemas = [line.split()[-2] for line in listing.splitlines()
               if not line.startswith(";") and " SCHEMA - " in line]
    data = run_client([program, "--data-only", "--table=server_info", "--file=-", str(source)], env)
    fingerprint = next((line.split("\t", 1)[1] for line in data.splitlines()
                        if line.startswith(f"{fingerprint_key}\t")), None)
    return (schemas[0] if schemas else None), fingerprint


def restore_postgres(database_url: str, source: Path) -> None:
    url = make_url(database_url)
    program, env = postgres_client("pg_restore", database_url)
    run_client([program, "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
          "--no-owner", "--no-password", f"--dbname={url.database}", str(source)], env)
