"""`tokenry jobs run --dry-run [--at]` shows what the jobs would do and changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.storage.models import ApiToken, AuditEvent, Notification


def counts(core: Core) -> tuple[int, int, int]:
    with core.db.read() as session:
        return (session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                session.scalar(select(func.count()).select_from(Notification)) or 0,
                session.scalar(select(func.count()).where(ApiToken.active.is_(True))) or 0)


def test_a_dry_run_past_expiry_lists_the_work_and_changes_nothing(
    core: Core, admin_actor: Actor, cli: Any
) -> None:
    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"webhook_url": "http://127.0.0.1:9/hook"})
    expires = core.clock() + timedelta(days=5)
    create_token(core, admin_actor, description="soon", expires_at=expires,
                 user_id=admin_actor.user_id)
    before = counts(core)
    at = (expires + timedelta(days=1)).isoformat()
    result = cli("jobs", "run", "--dry-run", "--at", at, "--json")
    assert result.exit_code == 0, result.output
    preview = json.loads(result.stdout)
    assert preview["dry_run"] is True and preview["counts"]["expire_tokens"] == 1
    said = [item["summary"] for item in preview["would"]]
    assert any("Deactivated" in s and "removal date has passed" in s for s in said)
    assert any("has expired" in s for s in said)  # the notice it would send
    assert counts(core) == before  # no audit row, no outbox row, the token still active

    reminder = cli("jobs", "run", "--dry-run", "--at",
                   (expires - timedelta(hours=12)).isoformat(), "--json")
    assert json.loads(reminder.stdout)["counts"]["send_expiry_reminders"] == 1
    assert counts(core) == before

    table = cli("jobs", "run", "--dry-run")
    assert table.exit_code == 0 and "nothing was changed or sent" in table.output


def test_bad_moments_are_clear_errors(cli: Any) -> None:
    for bad, words in (("next tuesday", "not an ISO 8601"), ("9999-12-31T23:59:59-05:00",
                                                           "outside the range")):
        result = cli("jobs", "run", "--dry-run", "--at", bad)
        assert result.exit_code == 1 and words in result.output
    assert "--dry-run" in cli("jobs", "run", "--at", "2030-01-01").output
