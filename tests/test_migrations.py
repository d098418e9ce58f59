"""Migrations are checked, not trusted: one head, models equal migrations, down and up again,
and the rebuild of 0003 keeps every row and never reuses an id on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.delete_token import delete_token
from tokenry.operations.update_token import update_token
from tokenry.storage.models import Base


def test_there_is_a_single_head(core: Core) -> None:
    heads = ScriptDirectory.from_config(core.db._alembic_config()).get_heads()
    assert len(heads) == 1 and core.db.current_revision() == heads[0]


def test_the_models_equal_the_migrations(core: Core) -> None:
    with core.db.read_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_newest_revision_goes_down_and_up_again(core: Core, admin_actor: Actor) -> None:
    token = create_token(core, admin_actor, description="survives").token
    core.db.downgrade("-1")
    assert core.db.current_revision() != core.db.head_revision()
    core.db.upgrade()
    assert core.db.current_revision() == core.db.head_revision()
    with core.db.read_engine.connect() as connection:
        kept = connection.execute(text("SELECT description FROM api_tokens WHERE id = :id"),
                                  {"id": token.id}).scalar()
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert kept == "survives" and differences == []


def test_an_id_is_never_reused_after_a_delete(core: Core, admin_actor: Actor) -> None:
    first = create_token(core, admin_actor, description="first").token
    newest = create_token(core, admin_actor, description="newest").token
    update_token(core, admin_actor, newest.id, {"active": False})
    delete_token(core, admin_actor, newest.id)
    again = create_token(core, admin_actor, description="again").token
    assert again.id > newest.id > first.id


def test_upgrading_a_0002_sqlite_database_keeps_rows_and_foreign_keys(tmp_path: object) -> None:
    from pathlib import Path

    from tokenry.storage.database import Database

    assert isinstance(tmp_path, Path)
    db = Database(f"sqlite:///{tmp_path}/old.db")
    try:
        db._migrate(lambda config: __import__("alembic.command").command.upgrade(config, "0002"))
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO accounts (id, subdomain, name, large_token_limit, created_at) "
                "VALUES (1, 'acme', 'Acme', 0, :now)"), {"now": now})
            connection.execute(text(
                "INSERT INTO users (id, account_id, email, name, role, verified, suspended, "
                "provisioner, created_at, updated_at) VALUES (7, 1, 'a@x.io', 'A', 'admin', 1, "
                "0, 0, :now, :now)"), {"now": now})
            connection.execute(text(
                "INSERT INTO audit_events (id, account_id, created_at, actor_label, action, "
                "source_type, source_label, via, changes, change_description) VALUES "
                "(40, 1, :now, 'x', 'create', 'user', 'a@x.io', 'cli', '{}', '')"),
                {"now": now})
            connection.execute(text(  # what 0002 kept: the link in plaintext
                "INSERT INTO notifications (account_id, event, channel, destination, subject, "
                "body, payload, idempotency_key, status, attempts, next_attempt_at, "
                "created_at) VALUES (1, 'delivery.link', 'email', 'a@x.io', 'ready', "
                "'One-time link: http://x/deliveries/OldPlainLink123', "
                "'{\"text\": \"http://x/deliveries/OldPlainLink123\"}', 'k', 'pending', 0, "
                ":now, :now)"), {"now": now})
        db.upgrade()
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT email FROM users WHERE id = 7")).scalar() \
                == "a@x.io"  # the accounts rebuild cascaded nothing
            assert connection.execute(text("PRAGMA foreign_key_check")).first() is None
            body, payload = connection.execute(text(
                "SELECT body, payload FROM notifications")).one()
            assert "OldPlainLink123" not in body + payload and "re-send" in body
            assert connection.execute(text("SELECT credential FROM audit_events")).scalar() == ""
            connection.execute(text("DELETE FROM audit_events"))
            connection.execute(text(
                "INSERT INTO audit_events (account_id, created_at, actor_label, action, "
                "source_type, source_label, via, changes, change_description) VALUES "
                "(1, :now, 'x', 'create', 'user', 'a@x.io', 'cli', '{}', '')"), {"now": now})
            assert connection.execute(text("SELECT max(id) FROM audit_events")).scalar() == 41
    finally:
        db.dispose()
