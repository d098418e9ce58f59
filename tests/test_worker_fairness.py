"""The outbox worker after a crash, and with one account's receiver dead."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.receivers import HttpReceiver
from tokenry.core import Core
from tokenry.notify.outbox import Message, enqueue
from tokenry.notify.worker import claim_due, deliver_due, node_id, release_own_leases
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.storage.models import Notification


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"notification_timeout": 1, "node_id": "node-a"}


def queue(core: Core, account_id: int, count: int, prefix: str) -> None:
    with core.db.transaction() as session:
        for n in range(count):
            enqueue(session, core, account_id,
                    Message("test.event", f"{prefix}:{n}", f"{prefix} {n}", "hello"), [])


def statuses(core: Core, account_id: int) -> list[str]:
    with core.db.read() as session:
        return list(session.scalars(select(Notification.status).where(
            Notification.account_id == account_id)))


def test_one_accounts_dead_receiver_does_not_hold_back_another_account(
    core: Core, admin_actor: Actor, hooks: HttpReceiver
) -> None:
    hanging = HttpReceiver()
    hanging.delay = 3  # longer than the 1 s timeout: every call to it times out
    hanging.start()
    try:
        update_account_settings(core, admin_actor, {"webhook_url": hanging.url("/dead")})
        other = create_account(core, subdomain="other", name="Other")
        update_account_settings(core, Actor.system(other.id), {"webhook_url": hooks.url("/ok")})
        queue(core, admin_actor.account_id, 40, "a")
        queue(core, other.id, 3, "b")

        report = deliver_due(core)
    finally:
        hanging.delay = 0
        hanging.stop()
    assert statuses(core, other.id) == ["sent"] * 3  # in the same round
    assert [r.path for r in hooks.requests] == ["/ok"] * 3
    # the dead receiver cost one timeout; the rest of its rows wait for a later round unharmed
    assert report.failed == 1 and report.deferred >= 5
    with core.db.read() as session:
        attempts = list(session.scalars(select(Notification.attempts).where(
            Notification.account_id == admin_actor.account_id)))
    assert sorted(attempts)[-1] == 1 and sum(attempts) == 1


def test_a_restarted_node_takes_back_its_own_leased_rows_at_once(
    core: Core, admin_actor: Actor, hooks: HttpReceiver, clock: Clock
) -> None:
    update_account_settings(core, admin_actor, {"webhook_url": hooks.url("/hook")})
    queue(core, admin_actor.account_id, 2, "crash")
    leased = claim_due(core)  # ... and the node dies before sending
    assert len(leased.items) == 2
    with core.db.transaction() as session:  # a row another node holds is not ours to take
        row = session.get(Notification, leased.items[1].id)
        assert row is not None and row.leased_by == node_id(core.settings)
        row.leased_by = "node-b"
    assert deliver_due(core).sent == 0  # still leased

    assert release_own_leases(core) == 1
    assert deliver_due(core).sent == 1 and len(hooks.requests) == 1
    clock.now += timedelta(minutes=1, seconds=1)  # node-b's lease runs out within a minute
    assert deliver_due(core).sent == 1 and len(hooks.requests) == 2
