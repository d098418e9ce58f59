"""Restore a backup made by ``tokenry backup`` over the configured database, then upgrade it.

All or nothing: SQLite's pages are replaced in one write transaction, and ``pg_restore`` runs
in one transaction that rolls back on its first error. A backup whose data needs a key the
server's keyring lacks is refused before anything changes, since its tokens would not verify.
Stop the servers first: a running one keeps answering from what it cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tokenry.core import Core
from tokenry.domain.errors import BackupFailed, Invalid
from tokenry.domain.keyring import key_id_of_fingerprint
from tokenry.operations.bootstrap import SecretMismatch
from tokenry.storage.backup import BackupError, search_path_schema
from tokenry.storage.key_usage import FINGERPRINT, KEY_IDS
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
            _check_keys(core, fingerprint, sqlite_backup_facts(source, KEY_IDS)[1])
            restore_sqlite(source, live)
        else:
            schema, fingerprint = pg_dump_facts(settings.database_url, source, FINGERPRINT)
            wanted = search_path_schema(url)
            if wanted is not None and schema != wanted:
                raise Invalid.field("source", f"{source} holds the schema {schema}, but "
                                    f"tokenry is configured for {wanted}")
            _check_keys(core, fingerprint,
                        pg_dump_facts(settings.database_url, source, KEY_IDS)[1])
            restore_postgres(settings.database_url, source)
            backup_revision = core.db.current_revision()  # before the upgrade below
    except BackupError as error:
        raise BackupFailed(f"{error}; nothing was restored") from None
    core.db.upgrade()
    return RestoreReport(source=source, backup_revision=backup_revision,
                         revision=core.db.current_revision())


def _check_keys(core: Core, fingerprint: str | None, key_ids: str | None) -> None:
    """Accept a backup when this keyring holds every key its data needs: the ones it lists
    (``server_info.secret_key_ids``), or for a backup older than key ids, the one secret
    whose fingerprint it recorded."""
    if key_ids is not None:
        needed = {kid for kid in key_ids.split(",") if kid}
    elif fingerprint is not None:
        needed = {key_id_of_fingerprint(fingerprint)}
    else:
        return  # a database never started holds nothing keyed
    missing = needed - set(core.keyring.ids)
    if missing:
        raise SecretMismatch(
            "The backup was made with another server secret: its data needs the key(s) "
            f"{', '.join(sorted(missing))}, which this server's keyring does not hold, so its "
            "tokens would not verify. Configure a keyring holding them (the keyring file, "
            "TOKENRY_SECRET_KEY or TOKENRY_SECRET_KEYS it was made with); nothing was restored.")
