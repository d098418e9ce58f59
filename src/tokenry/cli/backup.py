"""``tokenry backup DEST``: a consistent copy of the database, taken while the server runs;
``tokenry restore SRC`` puts one back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tokenry.cli.common import JsonOption, YesOption, confirm, emit, fail, open_core, out
from tokenry.operations.backup_database import BackupReport, DestinationExists, backup_database
from tokenry.operations.restore_database import restore_database


def _human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _render(report: BackupReport) -> None:
    schema = f", schema {report.schema}" if report.schema else ""
    out.print(f"Wrote {report.path} ({_human(report.size)}, {report.method}{schema}).",
              highlight=False)
    out.print(f"Schema revision: {report.revision or 'none (empty database)'}.",
              highlight=False)
    out.print(f"Not in the backup: the server secret ({report.secret_source}). Tokens verify "
              "against a restored database only with that same secret; keep a copy of it "
              "apart from the backup.", highlight=False)


def backup(destination: Annotated[Path, typer.Argument(
               metavar="DEST", help="The backup file to write.")],
           force: Annotated[bool, typer.Option(
               "--force", help="Replace DEST if it exists.")] = False,
           as_json: JsonOption = False) -> None:
    """Back up the database to DEST while the server runs: SQLite's online backup, or
    pg_dump's custom format on PostgreSQL. The server secret is not included."""
    # No schema check: a backup is what one takes before `tokenry db upgrade`.
    with open_core(check_schema=False) as core:
        try:
            report = backup_database(core, destination, replace=force)
        except DestinationExists as error:
            fail(f"{error.description} (pass --force to replace it)")
        payload = {"backup": {"path": str(report.path), "size": report.size,
                              "revision": report.revision, "method": report.method,
                              "schema": report.schema,
                              "secret_not_included": report.secret_source}}
        emit(as_json, payload, lambda: _render(report))


def restore(source: Annotated[Path, typer.Argument(
                metavar="SRC", help="A file written by `tokenry backup`.")],
            yes: YesOption = False) -> None:
    """Replace the configured database's contents with a backup, then upgrade its schema.
    Stop every server first. Refused when the backup was made with another server secret."""
    with open_core(check_schema=False) as core:
        confirm(f"Replace everything in {core.db.engine.url.render_as_string()} with "
                f"{source}? Stop the servers first.", yes)
        report = restore_database(core, source)
        out.print(f"Restored {report.source} (backup at revision "
                  f"{report.backup_revision or 'none'}); the schema is now at revision "
                  f"{report.revision}.", highlight=False)
