"""Back up the database to a file: SQLite's online backup, or ``pg_dump -Fc`` on PostgreSQL.

The copy is written to a temporary file beside the destination and moved into place only when
it is complete, so a failure leaves nothing half-written there. An existing destination is
replaced only when asked. The backup holds token hashes but not the server secret they are
keyed with: tokens verify against a restored database only with the same secret.

This is the operator's command (it reads the database as the server does); no front end
other than the CLI offers it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tokenry.core import Core
from tokenry.domain.errors import BackupFailed, Conflict, Invalid
from tokenry.storage.backup import (
    BackupError,
    copy_sqlite,
    pg_dump_call,
    run_pg_dump,
    search_path_schema,
)


class DestinationExists(Conflict):
    """The destination exists and replacing it was not asked for."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    revision: str | None
    method: str
    schema: str | None
    secret_source: str


def backup_database(core: Core, destination: Path, *, replace: bool = False) -> BackupReport:
    """Write a consistent copy of the database to ``destination`` (refused if it exists,
    unless ``replace``); raise :class:`BackupFailed` with nothing written on any failure."""
    target = Path(os.path.abspath(destination.expanduser()))
    _check_destination(core, target, replace=replace)
    settings = core.settings
    url = make_url(settings.database_url)
    if settings.is_sqlite:
        source = Path(url.database or "")
        method, schema = "sqlite3 online backup", None

        def write(partial: Path) -> str | None:
            return copy_sqlite(source, partial)
    else:
        method, schema = "pg_dump --format=custom", search_path_schema(url)

        def write(partial: Path) -> str | None:
            call = pg_dump_call(settings.database_url, partial)
            revision = core.db.current_revision()
            run_pg_dump(call)
            return revision

    revision = _write_then_place(target, write, replace=replace)
    return BackupReport(path=target, size=target.stat().st_size, revision=revision,
                        method=method, schema=schema, secret_source=_secret_source(core))


def _check_destination(core: Core, target: Path, *, replace: bool) -> None:
    if target.is_dir():
        raise Invalid.field("destination", f"{target} is a directory; name the backup file")
    if core.settings.is_sqlite:
        live = Path(make_url(core.settings.database_url).database or "").resolve()
        if target.resolve() in {live, *(Path(f"{live}{end}") for end in ("-wal", "-shm"))}:
            raise Invalid.field("destination", f"{target} is the live database itself")
    if target.exists() and not replace:
        raise DestinationExists(f"{target} already exists; nothing was written")
    if not target.parent.is_dir():
        raise BackupFailed(f"cannot write {target}: the directory {target.parent} "
                           "does not exist")


def _write_then_place(target: Path, write: Callable[[Path], str | None], *,
                      replace: bool) -> str | None:
    try:
        # mkstemp makes the file 0600: the copy holds password and token hashes.
        descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                            dir=target.parent)
    except OSError as error:
        raise BackupFailed(f"cannot write in {target.parent}: {error.strerror}") from None
    os.close(descriptor)
    partial = Path(name)
    try:
        revision = write(partial)
        _fsync(partial)
        _place(partial, target, replace=replace)
    except BackupError as error:
        raise BackupFailed(str(error)) from None
    except OSError as error:
        raise BackupFailed(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        for leftover in (partial, *(Path(f"{partial}{end}")
                                    for end in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    _fsync(target.parent)
    return revision


def _place(partial: Path, target: Path, *, replace: bool) -> None:
    if replace:
        os.replace(partial, target)
        return
    try:
        # A hard link never replaces: a file that appeared at the destination meanwhile wins.
        os.link(partial, target)
    except FileExistsError:
        raise DestinationExists(f"{target} already exists; nothing was written") from None
    except OSError:
        # A file system without hard links: check, then move (a race window remains).
        if target.exists():
            raise DestinationExists(f"{target} already exists; nothing was written") from None
        os.replace(partial, target)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _secret_source(core: Core) -> str:
    if core.settings.secret_keys is not None:
        return "TOKENRY_SECRET_KEYS"
    if core.settings.secret_key is not None:
        return "TOKENRY_SECRET_KEY"
    return str(core.settings.resolved_secret_key_file())
