"""The audit log export with 10,000 events: how long the request takes, and what it stores.

Run it as ``.venv/bin/python bench/audit_export.py`` (``--database postgresql://...`` for
PostgreSQL, in a schema of its own that is dropped afterwards; SQLite in a temporary
directory by default). The account holds ``--events`` audit events (10,000 by default) with
realistic labels, e-mails, IPs, user agents and changes; both rows select all of them.

Rows, interleaved round by round:

* ``read the rows (baseline)``: the export's own SELECT (the columns, the actor's
  current name among them), every row fetched, nothing else;
* ``export_audit_log``: what ``POST /api/v2/audit_logs/export`` does in the request: the
  admin check, the count, the rows streamed into CSV and zlib, sealing, the ``exported``
  audit event and the queued e-mail, in one read and one write transaction.

Sending the e-mail is the worker's, after the request, and is not timed here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from pg_schema import scratch_schema
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.domain import sealed
from tokenry.operations.audit_log import AuditFilter
from tokenry.operations.bootstrap import bootstrap, bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.operations.export_audit_log import SELECTED, export_audit_log
from tokenry.storage.models import AuditEvent, Notification

ADMIN = "bench@example.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, scratch_schema(args.database) as database:
        url = database or f"sqlite:///{folder}/bench.db"
        settings = Settings(database_url=url, secret_key="bench-" + "k" * 40,
                            admin_email=ADMIN, admin_password="bench password 1234",  # noqa: S106
                            secret_key_file=Path(folder) / "secret", scheduler_enabled=False,
                            smtp_host="127.0.0.1", smtp_port=9)  # queued, never sent here
        core = build_core(settings)
        try:
            core.db.upgrade()
            bootstrap(core)
            admin = bootstrap_admin(core)
            assert admin is not None
            actor = Actor(account_id=admin.account_id, user_id=admin.id, label=ADMIN,
                          via="cli", credential="cli", proves_person=True)
            _seed(core, admin.account_id, admin.id, args.events)
            name = "PostgreSQL" if "postgresql" in url else "SQLite"
            _measure(core, actor, args.rounds, args.events, name)
        finally:
            core.close()


def _seed(core: Core, account_id: int, admin_id: int, count: int) -> None:
    start = datetime.now(UTC) - timedelta(days=90)
    rows: list[dict[str, Any]] = [{
        "account_id": account_id, "created_at": start + timedelta(minutes=13 * n),
        "actor_id": admin_id, "actor_label": ADMIN, "action": ("create", "update")[n % 2],
        "source_type": "api_token", "source_id": n + 1,
        "source_label": f"tkry_{n:04x}******** Nightly export for service {n % 97}",
        "ip_address": f"203.0.113.{n % 250}",
        "user_agent": "python-httpx/0.27.0 deploy-bot/3.1 (+https://example.com/bot)",
        "via": "api", "credential": f"token {n % 40 + 1}",
        "changes": {"description": [f"old {n}", f"Nightly export for service {n % 97}"]},
        "change_description": f"Description changed to Nightly export for service {n % 97}",
    } for n in range(count)]
    with core.db.transaction() as session:
        for offset in range(0, count, 2_000):
            session.execute(insert(AuditEvent), rows[offset:offset + 2_000])


def _read_all(core: Core, account_id: int) -> int:
    with core.db.read() as session:
        return len(session.execute(
            select(*SELECTED).where(*AuditFilter(source_type="api_token").conditions(account_id))
            .order_by(*AuditFilter().order())).all())


def _measure(core: Core, actor: Actor, rounds: int, events: int, database: str) -> None:
    times: dict[str, list[float]] = {"read the rows (baseline)": [], "export_audit_log": []}
    for _ in range(rounds):
        started = time.perf_counter()
        assert _read_all(core, actor.account_id) == events
        times["read the rows (baseline)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        done = export_audit_log(core, actor, AuditFilter(source_type="api_token"))
        times["export_audit_log"].append(time.perf_counter() - started)
        assert done.count == events
    with core.db.read() as session:
        stored = session.scalars(select(Notification.attachment)).first() or ""
    opened = sealed.unseal_bytes(core.server_key, sealed.ATTACHMENT, stored) or b""
    csv_bytes = len(zlib.decompress(opened))
    base = statistics.median(times["read the rows (baseline)"])
    print(f"# {events:,} audit events on {database}, {rounds} rounds", file=sys.stderr)
    print(f"{'row':28} {'median ms':>10} {'max ms':>8} {'time vs base':>13}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:28} {median * 1000:10.1f} {max(samples) * 1000:8.1f} "
              f"{median / base:12.2f}x")
    print(f"CSV {csv_bytes:,} bytes; compressed {len(opened):,}; sealed at rest "
          f"{len(stored):,}")


if __name__ == "__main__":
    main()
