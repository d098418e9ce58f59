"""A copy of the database alone yields no token, no working link and no channel secret."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from tests.governance_people import People, approve, cast, submit
from tests.receivers import HttpReceiver, SlackStandIn, SmtpReceiver
from tokenry.core import Core
from tokenry.notify.worker import deliver_due
from tokenry.operations.context import Actor
from tokenry.storage.models import Notification


@pytest.fixture
def settings_overrides(smtp: SmtpReceiver, slack: SlackStandIn) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "scheduler_enabled": False,
            "slack_api_url": slack.api_url}


@pytest.fixture
def people(core: Core, admin_actor: Actor, hooks: HttpReceiver, slack: SlackStandIn) -> People:
    cast_ = cast(core, admin_actor, webhook_url=hooks.url("/hook"))
    slack.add_user(cast_.requester)
    return cast_


def dump(core: Core) -> str:
    """Every row of every table, as text: what a stolen copy of the database shows."""
    database = core.db.engine.url.database
    if core.db.engine.dialect.name == "sqlite":
        assert database is not None
        with sqlite3.connect(database) as connection:
            return "\n".join(connection.iterdump())
    lines: list[str] = []
    with core.db.engine.connect() as connection:
        tables = connection.scalars(text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()")).all()
        for table in tables:
            lines += [str(row) for row in connection.execute(
                text(f'SELECT row_to_json(t)::text FROM "{table}" t'))]  # noqa: S608
    return "\n".join(lines)


def test_a_database_copy_holds_no_link_and_no_token_before_or_after_sending(
    client: TestClient, core: Core, people: People, smtp: SmtpReceiver, slack: SlackStandIn
) -> None:
    request = submit(client, people)
    approve(client, people.manager, request["id"], "manager")
    approve(client, people.provisioner, request["id"], "provisioner")
    before = dump(core)
    assert "/deliveries/" not in before

    deliver_due(core)
    [mail] = [m for m in smtp.messages if "Your API token" in str(m.message["Subject"])]
    found = re.search(r"/deliveries/([A-Za-z0-9_-]+)", mail.message.get_content())
    assert found is not None
    link_secret = found.group(1)
    assert any(link_secret in dm for dm in slack.dms_to(people.requester))
    after = dump(core)
    for copy in (before, after):
        assert link_secret not in copy
        assert "xoxb-test-bot-token" not in copy and "test-webhook-secret" not in copy
    with core.db.read() as session:
        sent = session.scalars(select(Notification).where(
            Notification.event == "delivery.link", Notification.status == "sent")).all()
    assert sent and all(row.sealed is None for row in sent)  # erased once sent

    token = client.post(f"/api/v2/deliveries/{link_secret}/retrieve").json()["delivery"]["token"]
    assert token not in dump(core) and token not in before and token not in after


def test_slack_text_cannot_mention_the_channel_or_disguise_a_link(
    client: TestClient, core: Core, people: People, admin_actor: Actor, hooks: HttpReceiver
) -> None:
    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"slack_webhook_url": hooks.url("/slack")})
    submit(client, people, purpose="<!channel> urgent <http://evil.example|click> & more")
    deliver_due(core)
    [slack_post] = [r for r in hooks.requests if r.path == "/slack"]
    posted = slack_post.json()["text"]
    assert "<!channel>" not in posted and "<http://evil.example|click>" not in posted
    assert "&lt;!channel&gt;" in posted and "&amp; more" in posted
