"""Scheduled jobs work in bounded batches, each its own transaction: a job with more rows than
one batch finishes them all, and a crash between batches leaves the committed batches done and
the rest to the next run, with nothing done twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import Clock
from tokenry.core import Core
from tokenry.jobs import batches
from tokenry.jobs.runner import run_jobs
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.storage.models import ApiToken, AuditEvent, Notification, WebSession


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "BATCH", 3)


def expiring_tokens(core: Core, actor: Actor, clock: Clock, count: int) -> list[int]:
    return [create_token(core, actor, description=f"t{n}",
                         expires_at=clock.now + timedelta(days=1, hours=n)).token.id
            for n in range(count)]


def active_ids(core: Core) -> set[int]:
    with core.db.read() as session:
        return set(session.scalars(select(ApiToken.id).where(ApiToken.active.is_(True))))


def deactivations(core: Core) -> list[int | None]:
    with core.db.read() as session:
        return list(session.scalars(select(AuditEvent.source_id).where(
            AuditEvent.action == "deactivate").order_by(AuditEvent.source_id)))


def fail_when_deactivating(core: Core, token_id: int) -> None:
    """A real failure inside the database, in the middle of the second batch."""
    with core.db.engine.begin() as connection:
        if core.db.is_postgres:
            connection.execute(text(
                "CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'crash between batches'; END $$"))
            connection.execute(text(
                "CREATE TRIGGER crash BEFORE UPDATE ON api_tokens FOR EACH ROW "
                f"WHEN (NEW.id = {int(token_id)} AND NOT NEW.active) EXECUTE FUNCTION crash()"))
        else:
            connection.execute(text(
                "CREATE TRIGGER crash BEFORE UPDATE OF active ON api_tokens "
                f"WHEN NEW.id = {int(token_id)} AND NOT NEW.active "
                "BEGIN SELECT RAISE(ABORT, 'crash between batches'); END"))


def recover(core: Core) -> None:
    with core.db.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER crash ON api_tokens" if core.db.is_postgres
                                else "DROP TRIGGER crash"))


def test_expiry_finishes_more_rows_than_one_batch(core: Core, admin_actor: Actor,
                                                  clock: Clock) -> None:
    expiring = expiring_tokens(core, admin_actor, clock, 7)
    clock.now += timedelta(days=2)
    assert run_jobs(core, only="expire_tokens").counts == {"expire_tokens": 7}
    assert active_ids(core).isdisjoint(expiring)
    assert deactivations(core) == sorted(expiring)


def test_a_crash_between_batches_keeps_the_done_batches_and_the_next_run_does_the_rest(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    expiring = expiring_tokens(core, admin_actor, clock, 7)
    fail_when_deactivating(core, expiring[4])  # the second batch is expiring[3:6]
    clock.now += timedelta(days=2)
    report = run_jobs(core, only="expire_tokens")
    assert list(report.errors) == [f"expire_tokens:{admin_actor.account_id}"]
    assert active_ids(core) & set(expiring) == set(expiring[3:])  # the first batch committed
    assert deactivations(core) == expiring[:3]
    recover(core)
    assert run_jobs(core, only="expire_tokens").counts == {"expire_tokens": 4}
    assert active_ids(core).isdisjoint(expiring)
    assert deactivations(core) == sorted(expiring)  # each token once, none twice


def test_reminders_walk_every_batch_and_a_rerun_sends_nothing_new(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    expiring_tokens(core, admin_actor, clock, 7)
    create_token(core, admin_actor, description="far off",
                 expires_at=clock.now + timedelta(days=30))
    clock.now += timedelta(hours=1)  # all seven within a week of their removal date
    assert run_jobs(core, only="send_expiry_reminders").counts["send_expiry_reminders"] == 7
    with core.db.read() as session:
        sent = session.scalar(select(func.count()).select_from(Notification))
    run_jobs(core, only="send_expiry_reminders")
    with core.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == sent


def test_inactivity_deactivates_across_batches_in_last_activity_order(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"inactivity_days": 30})
    idle = [create_token(core, admin_actor, description=f"idle{n}").token.id for n in range(7)]
    clock.now += timedelta(days=31)
    assert run_jobs(core, only="deactivate_unused").counts["deactivate_unused"] >= 7
    assert active_ids(core).isdisjoint(idle)


def test_ended_sessions_are_deleted_in_batches(core: Core, admin_actor: Actor,
                                               clock: Clock) -> None:
    assert admin_actor.user_id is not None
    with core.db.transaction() as session:
        for n in range(8):
            session.add(WebSession(account_id=admin_actor.account_id, user_id=admin_actor.user_id,
                                   secret_hash=f"{n:064d}", created_at=clock.now,
                                   last_seen_at=clock.now))
    clock.now += timedelta(days=60)
    assert run_jobs(core, only="purge_ended_sessions").counts["purge_ended_sessions"] == 8
    with core.db.read() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0


SCHEDULER_QUESTIONS = {
    "send_expiry_reminders": "ix_api_tokens_account_expires",
    "expire_tokens": "ix_api_tokens_account_expires",
    "delete_expired_after_grace": "ix_api_tokens_account_expires",
    "warn_before_inactivity": "ix_api_tokens_account_active_on",
    "deactivate_unused": "ix_api_tokens_account_active_on",
    "delete_long_deactivated": "ix_api_tokens_account_deactivated",
    "retire_extended_tokens": "ix_api_tokens_account_retire",
    "send_client_expiry_reminders": "ix_oauth_clients_account_expires",
    "expire_clients": "ix_oauth_clients_account_expires",
    "lapse_unread_deliveries": "ix_deliveries_account_expires",
}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("job", SCHEDULER_QUESTIONS)
def test_each_scheduler_question_can_be_answered_from_its_index(
        core: Core, admin_actor: Actor, job: str) -> None:
    from typing import Any

    from sqlalchemy import event

    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"inactivity_days": 30,
                                                "deactivated_retention_days": 30})
    asked: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.startswith("SELECT") and " ORDER BY " in statement:
            asked.append((statement, parameters))

    event.listen(core.db.engine, "before_cursor_execute", keep)
    try:
        assert not run_jobs(core, only=job).errors
    finally:
        event.remove(core.db.engine, "before_cursor_execute", keep)
    [(statement, parameters)] = asked
    with core.db.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")  # "can", not "would" at 0 rows
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(
            f"EXPLAIN {statement}", parameters))
    assert "Seq Scan" not in plan and SCHEDULER_QUESTIONS[job] in plan, plan


def test_inactivity_decides_by_the_moment_within_the_cutoff_day(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    """The index selects whole days; a token last used later on the cutoff's own day is not
    yet idle long enough, one used earlier that day is."""
    from tokenry.auth.usage import UsageRecorder
    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"inactivity_days": 30})
    clock.now = clock.now.replace(hour=12, minute=0, second=0, microsecond=0)
    earlier, later = (create_token(core, admin_actor, description=d).token for d in "ab")
    recorder = UsageRecorder()
    for token, offset in ((earlier, -timedelta(hours=1)), (later, timedelta(hours=1))):
        recorder.record(admin_actor.account_id, token.id, 1, "10.0.0.1", "ua", "GET /x",
                        clock.now + offset)
    recorder.flush(core.db)
    clock.now += timedelta(days=30)  # the cutoff is noon, 30 days after the two uses' day
    run_jobs(core, only="deactivate_unused")
    still = active_ids(core)
    assert later.id in still and earlier.id not in still
