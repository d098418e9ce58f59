"""Restore a backup made by ``tokenry backup`` over the configured database, then upgrade it.

All or nothing: SQLite's pages are replaced in one write transaction, and ``pg_restore`` runs
in one transaction that rolls back on its first error. A backup made with another server
secret is refused before anything changes, since no token in it would verify. Stop the
servers first: a running one keeps answering from what it cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tokenry.core import Core
from tokenry.domain.errors import BackupFailed, Invalid
from tokenry.operations.bootstrap import FINGERPRINT, SecretMismatch
from tokenry.storage.backup import BackupError, search_path_schema
from tokenry.storage.restore import (
    pg_dump_facts,
    restore_postgres,
    restore_sqlite,
    sqlite_backup_facts,
)


@dataclass(frozen=True)
class RestoreReport:
    source: Path
    backup_revision: str | None
    revision: str | None


def restore_database(core: Core, source: Path) -> RestoreReport:
    source = source.expanduser().absolute()
    if not source.is_file():
        raise Invalid.field("source", f"{source} is not a file")
    settings = core.settings
    url = make_url(settings.database_url)
    try:
        if settings.is_sqlite:
            live = Path(url.database or "").absolute()
            if live.exists() and source.resolve() == live.resolve():
                raise Invalid.field("source", f"{source} is the live database itself")
            backup_revision, fingerprint = sqlite_backup_facts(source, FINGERPRINT)
            _check_secret(core, fingerprint)
            restore_sqlite(source, live)
        else:
            schema, fingerprint = pg_dump_facts(settings.database_url, source, FINGERPRINT)
            wanted = search_path_schema(url)
            if wanted is not None and schema != wanted:
                raise Invalid.field("source", f"{source} holds the schema {schema}, but "
                                    f"tokenry is configured for {wanted}")
            _check_secret(core, fingerprint)
            restore_postgres(settings.database_url, source)
            backup_revision = core.db.current_revision()  # before the upgrade below
    except BackupError as error:
        raise BackupFailed(f"{error}; nothing was restored") from None
    core.db.upgrade()
    return RestoreReport(source=source, backup_revision=backup_revision,
                         revision=core.db.current_revision())


def _check_secret(core: Core, fingerprint: str | None) -> None:
    if fingerprint is not None and fingerprint != core.hasher.fingerprint():
        raise SecretMismatch(
            "The backup was made with another server secret, so no token in it would verify "
            "with this one. Configure the secret it was made with (TOKENRY_SECRET_KEY or the "
            "secret file); nothing was restored.")
