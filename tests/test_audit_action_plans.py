"""Zendesk's ``filter[action]``, which names several of tokenry's actions, is read on PostgreSQL
through the (account, action, created_at, id) index once per action, each range cut to the
page's reach, in both page forms and in the offset form's count: never a walk of the date index
that filters, which reads the whole log for a rare action. The statement has one shape whatever
the number of actions (they travel as one array), so it is built and planned as cheaply as a
plain list's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.test_audit_indexes import plans, statements
from tokenry.core import Core
from tokenry.domain.audit import actions_reading_as
from tokenry.operations.audit_log import AuditFilter, list_audit_events
from tokenry.operations.context import Actor, CursorRequest, PageRequest

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]
EVENTS = 40_000


def fill(core: Core, account_id: int) -> None:
    """Forty thousand events, nearly all ``login``; a destroy or a revoke is one in a
    thousand, spread over the whole log."""
    with core.db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_events (account_id, created_at, actor_id, actor_label, "
            "action, source_type, source_id, source_label, ip_address, via, credential, "
            "changes, change_description) "
            "SELECT :a, now() - make_interval(secs => g), g % 50, 'someone', "
            "CASE WHEN g % 2000 = 0 THEN 'destroy' WHEN g % 2000 = 1000 THEN 'revoke' "
            "ELSE 'login' END, 'api_token', g % 1000, 'label', '10.0.0.1', 'api', '', "
            "'{}', '' FROM generate_series(1, :n) g"), {"a": account_id, "n": EVENTS})
        connection.execute(text("ANALYZE audit_events"))


def read_through_the_action_index(plan: str) -> None:
    """One index range per element of the array of actions, each under its own limit."""
    assert "Seq Scan on audit_events" not in plan, plan
    assert "ix_audit_account_created" not in plan, plan
    assert "Function Scan on unnest" in plan, plan
    assert re.search(r"Limit .*\n *->  Index Only Scan (Backward )?using ix_audit_action ",
                     plan), plan
    assert plan.count("using ix_audit_action ") == 1, plan


@pytest.mark.parametrize("oldest_first", [False, True])
def test_cursor_pages_merge_one_index_range_per_action(
        core: Core, admin_actor: Actor, oldest_first: bool) -> None:
    fill(core, admin_actor.account_id)
    filters = AuditFilter(zendesk_action="destroy", oldest_first=oldest_first)
    with statements(core) as seen:
        first = list_audit_events(core, admin_actor, filters, CursorRequest(size=5))
        assert len(first.items) == 5 and first.has_more
        assert {e.action for e in first.items} <= {"destroy", "revoke"}
        later = list_audit_events(core, admin_actor, filters,
                                  CursorRequest(size=5, after=first.after_cursor))
        list_audit_events(core, admin_actor, filters,
                          CursorRequest(size=5, before=later.before_cursor))
    assert len(seen) == 3
    for plan in plans(core, seen):
        read_through_the_action_index(plan)


def test_the_numbered_page_and_its_count_read_one_index_range_per_action(
        core: Core, admin_actor: Actor) -> None:
    fill(core, admin_actor.account_id)
    update = len(actions_reading_as("update"))
    assert update > 2
    with statements(core) as seen:
        page = list_audit_events(core, admin_actor, AuditFilter(zendesk_action="destroy"),
                                 PageRequest(page=2, per_page=5))
        list_audit_events(core, admin_actor, AuditFilter(zendesk_action="update"),
                          PageRequest())
        deep = list_audit_events(core, admin_actor, AuditFilter(zendesk_action="destroy"),
                                 PageRequest(page=90, per_page=100))
    assert page.count == EVENTS // 1000 and len(page.items) == 5
    assert deep.items == [] and deep.count == EVENTS // 1000
    for plan in plans(core, seen):
        read_through_the_action_index(plan)
    # the same statement for two actions and for many: only the array differs
    (count, rows, update_count, update_rows, *_) = (statement for statement, _ in seen)
    assert (count, rows) == (update_count, update_rows)
