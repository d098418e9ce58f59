"""The mechanics of a backup: SQLite's online backup API, and ``pg_dump`` for PostgreSQL.

Both write to a path they are given (the caller's temporary file) and raise
:class:`BackupError` with a message fit for an operator; neither decides where the copy ends up.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    pass


def copy_sqlite(source: Path, target: Path) -> str | None:
    """Copy the live database ``source`` into the empty file ``target``; answer the schema
    revision the copy holds.

    One backup step of every page (``pages=-1``) runs inside one read transaction, so in WAL
    mode it sees a single snapshot while writers go on, and never restarts because of them.
    """
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    try:
        with _connect(source) as live, _connect(target) as copy:
            live.backup(copy, pages=-1)
            problem = copy.execute("PRAGMA quick_check").fetchone()
            if problem is None or problem[0] != "ok":
                raise BackupError(f"the copy failed its integrity check: {problem}")
            # A standalone file: no -wal beside it to forget when it is moved or copied.
            copy.execute("PRAGMA journal_mode=DELETE").fetchone()
            return _revision(copy)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite backup failed: {error}") from None


def _connect(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path, timeout=10, isolation_level=None))


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


@dataclass(frozen=True)
class PgDumpCall:
    """A ``pg_dump`` run: its arguments and the libpq environment that carries the
    connection, so the password never appears on a command line (``ps`` shows those)."""

    argv: list[str]
    env: dict[str, str]
    schema: str | None


# URL query parameters libpq also reads from the environment
_LIBPQ_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
              "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT",
              "application_name": "PGAPPNAME", "target_session_attrs": "PGTARGETSESSIONATTRS"}


def pg_dump_call(database_url: str, target: Path) -> PgDumpCall:
    """The ``pg_dump -Fc`` run that dumps ``database_url`` (only the schema its
    ``options=-csearch_path=...`` names, when it names one) into ``target``."""
    program, env = postgres_client("pg_dump", database_url)
    schema = search_path_schema(make_url(database_url))
    argv = [program, "--format=custom", "--no-password", f"--file={target}"]
    if schema is not None:
        argv.append(f"--schema={schema}")
    return PgDumpCall(argv=argv, env=env, schema=schema)


def postgres_client(program: str, database_url: str) -> tuple[str, dict[str, str]]:
    """Where a PostgreSQL client program is, and the environment that connects it to
    ``database_url`` (no ``PG*`` variable of ours leaks in; the password travels here)."""
    found = shutil.which(program)
    if found is None:
        raise BackupError(f"{program} was not found on PATH: install the PostgreSQL client "
                          "programs (Debian: apt-get install postgresql-client), in a version "
                          "at least the server's")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(_connection_env(make_url(database_url)))
    return found, env


def _connection_env(url: URL) -> dict[str, str]:
    env = {"PGHOST": url.host or "", "PGPORT": str(url.port or ""),
           "PGUSER": url.username or "", "PGDATABASE": url.database or "",
           "PGPASSWORD": url.password if isinstance(url.password, str) else ""}
    for name, variable in _LIBPQ_ENV.items():
        value = url.query.get(name)
        if isinstance(value, str):
            env[variable] = value
    # No password in the URL: no ~/.pgpass either, so the dump reads exactly what tokenry does.
    if not env["PGPASSWORD"]:
        env["PGPASSFILE"] = os.devnull
    return {key: value for key, value in env.items() if value}


def search_path_schema(url: URL) -> str | None:
    """The first schema of a ``-csearch_path=...`` (or ``-c search_path=...``) option: the
    schema tokenry's tables live in."""
    options = url.query.get("options")
    if not isinstance(options, str):
        return None
    words = shlex.split(options)
    for index, word in enumerate(words):
        setting = word[2:] if word.startswith("-c") and len(word) > 2 else (
            words[index + 1] if word == "-c" and index + 1 < len(words) else "")
        name, _, value = setting.partition("=")
        if name.strip() == "search_path" and value:
            first = value.split(",")[0].strip().strip('"')
            return first if first and first != "$user" else None
    return None


def run_pg_dump(call: PgDumpCall) -> None:
    run_client(call.argv, call.env)


def run_client(argv: list[str], env: dict[str, str]) -> str:
    """Run a PostgreSQL client program; answer its output, or raise with its last words."""
    try:
        # no shell; the program was resolved on PATH and the arguments are our own
        finished = subprocess.run(argv, env=env, capture_output=True, text=True,  # noqa: S603
                                  check=False, stdin=subprocess.DEVNULL)
    except OSError as error:
        raise BackupError(f"could not run {argv[0]}: {error}") from None
    if finished.returncode != 0:
        said = finished.stderr.strip().splitlines()[-3:]
        raise BackupError(f"{Path(argv[0]).name} failed (exit {finished.returncode}): "
                          + (" / ".join(said) or "no message"))
    return finished.stdout
