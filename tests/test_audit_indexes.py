"""Every documented audit log filter is answered from an index on PostgreSQL: the planner,
given a table of realistic size and statistics, reads the page through an index range and
never scans the table. The plans checked are those of the very statements the listing runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from tokenry.core import Core
from tokenry.operations.audit_log import AuditFilter, list_audit_events
from tokenry.operations.context import Actor, CursorRequest, PageRequest

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]
EVENTS = 30_000


def fill(core: Core, account_id: int) -> None:
    """Thirty thousand events of fifty actors, four actions, a thousand sources and two
    hundred addresses, a second apart, and as many in another account."""
    with core.db.engine.begin() as connection:
        for account, offset in ((account_id, 0), (account_id + 1000, EVENTS)):
            if account != account_id:
                connection.execute(text(
                    "INSERT INTO accounts (id, subdomain, name, large_token_limit, created_at) "
                    "VALUES (:a, 'other', 'Other', false, now())"), {"a": account})
            connection.execute(text(
                "INSERT INTO audit_events (account_id, created_at, actor_id, actor_label, "
                "action, source_type, source_id, source_label, ip_address, via, credential, "
                "changes, change_description) "
                "SELECT :a, now() - make_interval(secs => g), g % 50, 'someone', "
                "(ARRAY['create','update','destroy','deactivate'])[g % 4 + 1], "
                "(ARRAY['api_token','user'])[g % 2 + 1], g % 1000, 'label', "
                "'10.0.' || (g % 200) || '.1', 'api', '', '{}', '' "
                "FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g"),
                {"a": account, "first": offset + 1, "last": offset + EVENTS})
        connection.execute(text("ANALYZE audit_events"))


@contextmanager
def statements(core: Core) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "audit_events" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    for engine in {core.db.engine, core.db.read_engine}:
        event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        for engine in {core.db.engine, core.db.read_engine}:
            event.remove(engine, "before_cursor_execute", keep)


def plans(core: Core, seen: list[tuple[str, Any]]) -> list[str]:
    with core.db.engine.connect() as connection:
        return ["\n".join(row[0] for row in connection.exec_driver_sql(
            f"EXPLAIN {statement}", parameters)) for statement, parameters in seen]


FILTERS = {
    "actor_id": (AuditFilter(actor_id=7), "ix_audit_actor"),
    "tokenry action": (AuditFilter(action="destroy"), "ix_audit_action"),
    "source_id": (AuditFilter(source_id=42), "ix_audit_source_id"),
    "source_type and source_id": (AuditFilter(source_type="user", source_id=43),
                                  "ix_audit_source"),
    "ip_address": (AuditFilter(ip_address="10.0.7.1"), "ix_audit_ip"),
    "since and until": (AuditFilter(since=datetime.now(UTC) - timedelta(hours=2),
                                    until=datetime.now(UTC) - timedelta(hours=1)),
                        "ix_audit_account_created"),
    "no filter": (AuditFilter(), "ix_audit_account_created"),
    "oldest first": (AuditFilter(oldest_first=True), "ix_audit_account_created"),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_reads_its_cursor_pages_through_its_index(
        core: Core, admin_actor: Actor, name: str) -> None:
    fill(core, admin_actor.account_id)
    filters, index = FILTERS[name]
    with statements(core) as seen:
        first = list_audit_events(core, admin_actor, filters, CursorRequest(size=25))
        assert first.items and first.after_cursor
        list_audit_events(core, admin_actor, filters,
                          CursorRequest(size=25, after=first.after_cursor))
    assert len(seen) == 2
    for plan in plans(core, seen):
        assert "Seq Scan" not in plan, plan
        assert f"Index Scan Backward using {index} " in plan or \
            f"Index Scan using {index} " in plan, plan


def test_a_zendesk_action_is_read_through_an_index(core: Core, admin_actor: Actor) -> None:
    fill(core, admin_actor.account_id)
    with statements(core) as seen:
        list_audit_events(core, admin_actor, AuditFilter(zendesk_action="destroy"),
                          CursorRequest(size=25))
    [plan] = plans(core, seen)
    assert "Seq Scan" not in plan and "Index" in plan, plan


def test_the_numbered_first_page_reads_its_rows_through_an_index(
        core: Core, admin_actor: Actor) -> None:
    fill(core, admin_actor.account_id)
    with statements(core) as seen:
        list_audit_events(core, admin_actor, AuditFilter(actor_id=7), PageRequest())
    assert len(seen) == 2  # the count, then the rows
    for plan in plans(core, seen):
        assert "Seq Scan" not in plan and "ix_audit_actor" in plan, plan
