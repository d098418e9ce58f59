"""The usage flush writes in batches of one statement each, and its buffer is bounded while the
database is down: the oldest uses go first, counted and logged, never silently."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text

from tests.conftest import Clock
from tokenry.auth import usage
from tokenry.auth.usage import UsageRecorder
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.storage.models import ApiToken, UsageCounter


def counters(core: Core) -> dict[tuple[int, str], int]:
    summed: dict[tuple[int, str], int] = {}
    with core.db.read() as session:
        for c in session.scalars(select(UsageCounter)):
            summed[(c.token_id, c.endpoint)] = summed.get((c.token_id, c.endpoint), 0) + c.count
    return summed


def test_a_flush_larger_than_one_batch_writes_every_token_and_counter(
        core: Core, admin_actor: Actor, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage, "FLUSH_BATCH", 2)  # five tokens: three statements per table
    tokens = [create_token(core, admin_actor, description=f"t{n}").token for n in range(5)]
    recorder = UsageRecorder()
    for n, token in enumerate(tokens):
        for repeat in range(n + 1):
            recorder.record(admin_actor.account_id, token.id, 1, f"10.0.0.{repeat}",
                            f"ua{repeat}", "GET /api/v2/users/me",
                            clock.now + timedelta(seconds=repeat))
    # five last-used rows and fifteen (token, IP) buckets
    assert recorder.flush(core.db) == 5 + 15
    assert counters(core) == {(t.id, "GET /api/v2/users/me"): n + 1
                              for n, t in enumerate(tokens)}
    with core.db.read() as session:
        written = {t.id: (t.last_used_ip, t.last_used_user_agent, t.last_used_at)
                   for t in session.scalars(select(ApiToken))}
    for n, token in enumerate(tokens):  # the latest use of each token, however many batches
        assert written[token.id] == (f"10.0.0.{n}", f"ua{n}", clock.now + timedelta(seconds=n))


def test_what_a_client_sends_is_stored_as_sent(core: Core, admin_actor: Actor,
                                                clock: Clock) -> None:
    """Addresses, agents and paths go to PostgreSQL as binary arrays: nothing is quoted or
    escaped on the way, so quotes, braces, backslashes and any script arrive intact."""
    token = create_token(core, admin_actor, description="t").token
    agent = 'curl/8 "quoted" {braced,list} back\\slash NULL \u00e9\u4e2d\U0001f600 ' + "x" * 200
    endpoint = 'GET /api/v2/{a,b}/"c"'
    recorder = UsageRecorder()
    recorder.record(admin_actor.account_id, token.id, 1, "2001:db8::1", agent, endpoint,
                    clock.now)
    recorder.flush(core.db)
    with core.db.read() as session:
        kept = session.scalars(select(ApiToken).where(ApiToken.id == token.id)).one()
    assert (kept.last_used_ip, kept.last_used_user_agent) == ("2001:db8::1", agent)
    assert counters(core) == {(token.id, endpoint): 1}


def test_a_flush_never_moves_a_last_use_backwards(core: Core, admin_actor: Actor,
                                                  clock: Clock) -> None:
    token = create_token(core, admin_actor, description="t").token
    recorder = UsageRecorder()
    recorder.record(admin_actor.account_id, token.id, 1, "10.0.0.2", "new", "GET /x", clock.now)
    recorder.flush(core.db)
    recorder.record(admin_actor.account_id, token.id, 1, "10.0.0.1", "old", "GET /x",
                    clock.now - timedelta(minutes=5))  # another node's late, older use
    recorder.flush(core.db)
    with core.db.read() as session:
        kept = session.scalars(select(ApiToken).where(ApiToken.id == token.id)).one()
    assert (kept.last_used_user_agent, kept.last_used_at) == ("new", clock.now)
    assert sum(counters(core).values()) == 2


def test_a_full_buffer_drops_the_oldest_uses_and_says_so_once_per_flush(
        core: Core, admin_actor: Actor, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    token = create_token(core, admin_actor, description="t").token
    recorder = UsageRecorder(limit=3)
    for n in range(5):
        recorder.record(admin_actor.account_id, token.id, 1, "10.0.0.1", "ua", f"GET /{n}",
                        clock.now + timedelta(seconds=n))
    assert recorder.pending() == 3 and recorder.dropped == 2
    with caplog.at_level(logging.WARNING, logger="tokenry.usage"):
        recorder.flush(core.db)
        recorder.flush(core.db)  # nothing dropped since: nothing more to say
    warnings = [r.getMessage() for r in caplog.records if r.name == "tokenry.usage"]
    assert len(warnings) == 1 and "dropped the 2 oldest" in warnings[0]
    assert counters(core) == {(token.id, f"GET /{n}"): 1 for n in (2, 3, 4)}


def test_while_the_database_is_down_the_buffer_stays_bounded(
        core: Core, admin_actor: Actor, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    token = create_token(core, admin_actor, description="t").token
    recorder = UsageRecorder(limit=4)
    with core.db.engine.begin() as connection:  # the database refuses the write for real
        connection.execute(text("ALTER TABLE usage_counters RENAME TO usage_counters_away"))
    for n in range(10):
        recorder.record(admin_actor.account_id, token.id, 1, "10.0.0.1", "ua", f"GET /{n}",
                        clock.now + timedelta(seconds=n))
        if n % 3 == 2:
            with pytest.raises(Exception, match="usage_counters"):
                recorder.flush(core.db)
        assert recorder.pending() <= 4
    assert recorder.dropped == 6
    with core.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counters_away RENAME TO usage_counters"))
    with caplog.at_level(logging.WARNING, logger="tokenry.usage"):
        recorder.flush(core.db)
    assert counters(core) == {(token.id, f"GET /{n}"): 1 for n in (6, 7, 8, 9)}
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_oauth_last_uses_are_bounded_too(core: Core) -> None:
    recorder = UsageRecorder(limit=2)
    for token_id in (1, 2, 1, 3):  # a token seen again is no new entry
        recorder.record_oauth(token_id, core.clock())
    assert recorder.pending() == 2 and recorder.dropped == 1


def test_each_batch_is_one_statement_per_table(core: Core, admin_actor: Actor, clock: Clock,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import event

    monkeypatch.setattr(usage, "FLUSH_BATCH", 2)
    tokens = [create_token(core, admin_actor, description=f"t{n}").token for n in range(5)]
    recorder = UsageRecorder()
    for token in tokens:
        recorder.record(admin_actor.account_id, token.id, 1, "10.0.0.1", "ua", "GET /x",
                        clock.now)
    statements: list[str] = []

    def seen(statement: str) -> None:
        words = str(statement).split()
        if words[0] == "UPDATE":
            statements.append(f"UPDATE {words[1]}")
        elif words[0] == "INSERT":
            statements.append(f"INSERT {words[2]}")

    if core.db.is_postgres:  # written on the driver's own cursor (binary arrays)
        execute = psycopg.Cursor.execute

        def spied(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            seen(query)
            return execute(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", spied)
        recorder.flush(core.db)
    else:
        def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
            seen(statement)

        event.listen(core.db.engine, "before_cursor_execute", listener)
        try:
            recorder.flush(core.db)
        finally:
            event.remove(core.db.engine, "before_cursor_execute", listener)
    # five tokens in batches of two: three UPDATEs and three INSERTs, not one per token
    assert sorted(statements) == ["INSERT usage_counters"] * 3 + ["UPDATE api_tokens"] * 3


def test_a_flush_keeps_the_day_of_last_activity_with_the_last_use(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    """The inactivity questions read ``active_on``: it must move with every last use."""
    token = create_token(core, admin_actor, description="t").token
    assert token.active_on == clock.now.date()  # a new token: the day it was made
    used = clock.now + timedelta(days=3, hours=2)
    recorder = UsageRecorder()
    recorder.record(admin_actor.account_id, token.id, 1, "10.0.0.1", "ua", "GET /x", used)
    recorder.flush(core.db)
    with core.db.read() as session:
        kept = session.scalars(select(ApiToken).where(ApiToken.id == token.id)).one()
    assert (kept.last_used_at, kept.active_on) == (used, used.date())


def test_no_index_covers_what_every_flush_rewrites(core: Core) -> None:
    """PostgreSQL updates a row in place (HOT, no index writes) only when no indexed value
    changes; the flush rewrites the last-used columns of every token used since the last."""
    rewritten = ("last_used_at", "last_used_ip", "last_used_user_agent")
    with core.db.engine.connect() as connection:
        if core.db.is_postgres:
            definitions = [row[0] for row in connection.execute(text(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = 'api_tokens'::regclass"))]
        else:
            definitions = [row[0] or "" for row in connection.execute(text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'api_tokens'"))]
    assert definitions
    assert not [d for d in definitions if any(column in d for column in rewritten)]
