"""Notifications are not a way into the server's own network (SSRF)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.receivers import HttpReceiver
from tokenry.core import Core
from tokenry.notify.destinations import DestinationRefused, check_destination
from tokenry.notify.outbox import Message, enqueue
from tokenry.notify.worker import deliver_due
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.bootstrap import bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.storage.models import Notification


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://169.254.169.254/latest",
                                 "http://10.0.0.5/hook", "http://[::1]/hook",
                                 "http://localhost/hook", "ftp://example.com/x"])
def test_private_and_odd_destinations_are_refused(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url, allow_private=False)


def test_the_operator_can_allow_receivers_inside_the_network() -> None:
    check_destination("http://10.0.0.5/hook", allow_private=True)


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private": False}])
def test_a_webhook_aimed_at_the_servers_own_network_is_never_called(
    core: Core, admin_actor: Actor, hooks: HttpReceiver, settings_overrides: dict[str, Any]
) -> None:
    update_account_settings(core, admin_actor, {"webhook_url": hooks.url("/internal")})
    admin = bootstrap_admin(core)
    assert admin is not None
    with core.db.transaction() as session:
        enqueue(session, core, admin.account_id, Message("test.event", "ssrf", "s", "t"),
                [admin])
    report = deliver_due(core)
    assert report.sent == 0 and hooks.requests == []
    with core.db.read() as session:
        row = session.scalars(select(Notification)).one()
    assert row.last_error is not None and "non-public address" in row.last_error
