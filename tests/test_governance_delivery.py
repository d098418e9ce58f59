"""The workflow's notifications reach real local receivers, and survive outages and restarts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import me_status
from tests.governance_people import People, approve, as_, cast, submit
from tests.receivers import HttpReceiver, SlackStandIn, SmtpReceiver
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.http.app import create_app
from tokenry.notify.channels import verify_signature
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
    for email in (cast_.requester, cast_.manager, cast_.provisioner):
        slack.add_user(email)
    return cast_


def test_delivery_link_reaches_only_the_holder_by_email_and_slack_dm_and_works_once(
    client: TestClient, core: Core, people: People, hooks: HttpReceiver, smtp: SmtpReceiver,
    slack: SlackStandIn
) -> None:
    request = submit(client, people)
    approve(client, people.manager, request["id"], "manager")
    approve(client, people.provisioner, request["id"], "provisioner")
    report = deliver_due(core)
    assert report.failed == 0 and report.sent >= 4

    [mail] = [m for m in smtp.messages if "Your API token" in str(m.message["Subject"])]
    assert mail.recipients == [people.requester]
    link = re.search(r"https?://\S+/deliveries/(\S+)", mail.message.get_content())
    assert link is not None
    [dm] = slack.dms_to(people.requester)
    assert f"/deliveries/{link.group(1)}" in dm
    assert slack.dms_to(people.manager) == slack.dms_to(people.provisioner) == []
    # the account's shared webhook hears that a token is ready, never where to fetch it
    [hook] = [r for r in hooks.requests if r.json()["event"] == "delivery.link"]
    assert verify_signature("test-webhook-secret", hook.headers["x-tokenry-timestamp"],
                            hook.body, hook.headers["x-tokenry-signature"],
                            int(hook.headers["x-tokenry-timestamp"]))
    assert link.group(1) not in hook.body.decode() and "/deliveries/" not in hook.body.decode()

    secret = client.post(f"/api/v2/deliveries/{link.group(1)}/retrieve").json()[
        "delivery"]["token"]
    assert me_status(client, people.requester, secret) == 200
    every_message = [m.message.get_content() for m in smtp.messages] + [
        r.body.decode() for r in hooks.requests] + [m.text for m in slack.messages]
    assert all(secret not in text for text in every_message)


def test_a_slack_user_that_cannot_be_found_is_a_clear_failure(
    client: TestClient, core: Core, people: People, slack: SlackStandIn
) -> None:
    slack.users.pop(people.requester)
    request = submit(client, people)
    approve(client, people.manager, request["id"], "manager")
    approve(client, people.provisioner, request["id"], "provisioner")
    deliver_due(core)
    with core.db.read() as session:
        [row] = session.scalars(select(Notification).where(
            Notification.channel == "slack_dm")).all()
    assert row.status == "pending" and row.last_error is not None
    assert "users_not_found" in row.last_error and row.sealed  # kept, still encrypted


def test_a_receiver_that_is_down_gets_the_notification_when_it_is_back(
    client: TestClient, core: Core, people: People, hooks: HttpReceiver, clock: Any
) -> None:
    from datetime import timedelta

    hooks.stop()
    submit(client, people)
    assert deliver_due(core).failed >= 1
    hooks.start()
    clock.now += timedelta(minutes=10)
    deliver_due(core)
    assert [r.json()["event"] for r in hooks.requests] == ["request.submitted"]


def test_nothing_is_lost_when_the_server_restarts_between_event_and_delivery(
    settings: Settings, core: Core, people: People, hooks: HttpReceiver
) -> None:
    with TestClient(create_app(settings, core)) as client:
        request = submit(client, people)
    core.close()  # the server stops before any notification went out
    restarted = build_core(settings)
    try:
        deliver_due(restarted)
        first = [r for r in hooks.requests if r.json()["request_id"] == request["id"]]
        assert [r.json()["event"] for r in first] == ["request.submitted"]
        key = first[0].headers["x-tokenry-idempotency-key"]
        expected = f"request:{request['id']}:submitted:webhook"
        assert key == first[0].json()["idempotency_key"] == expected
    finally:
        restarted.close()


def test_notifications_never_carry_the_token(
    client: TestClient, core: Core, people: People, hooks: HttpReceiver, smtp: SmtpReceiver,
    clock: Any
) -> None:
    from datetime import timedelta

    from tokenry.jobs.runner import run_jobs

    request = submit(client, people, removal_date=(clock.now.date() + timedelta(days=3))
                     .isoformat())
    approve(client, people.manager, request["id"], "manager")
    approve(client, people.provisioner, request["id"], "provisioner")
    deliver_due(core)
    link = re.search(r"/deliveries/(\S+)", smtp.messages[-1].message.get_content())
    assert link is not None
    secret = client.post(f"/api/v2/deliveries/{link.group(1)}/retrieve").json()[
        "delivery"]["token"]
    for days in (2, 10):  # a reminder while it lives, then expiry and, after grace, deletion
        clock.now += timedelta(days=days)
        run_jobs(core)
        deliver_due(core)
    events = {r.json()["event"] for r in hooks.requests}
    assert {"token.expiring", "token.expired", "token.deleted"} <= events
    texts = [m.message.get_content() for m in smtp.messages] + [r.body.decode()
                                                                for r in hooks.requests]
    assert all(secret not in text and secret[5:] not in text for text in texts)


@pytest.mark.parametrize("settings_overrides", [{"scheduler_enabled": True,
                                                 "scheduler_interval": 0.2,
                                                 "notification_interval": 0.2}])
def test_the_server_delivers_notifications_and_runs_jobs_by_itself(
    client: TestClient, core: Core, people: People, hooks: HttpReceiver
) -> None:
    import time

    submit(client, people)  # nobody calls the worker: the server's background task must

    def events() -> list[str]:
        return [r.json()["event"] for r in hooks.requests]

    deadline = time.monotonic() + 10
    while "request.submitted" not in events() and time.monotonic() < deadline:
        time.sleep(0.05)
    # The jobs ran too, so a scheduled message (the weekly report on its day) may come first.
    assert events().count("request.submitted") == 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_only_one_node_runs_the_jobs_at_a_time(core: Core) -> None:
    """PostgreSQL only: SQLite deployments are single-node."""
    from sqlalchemy import text

    from tokenry.jobs.runner import ADVISORY_LOCK, LOCK, run_jobs

    assert core.db.is_postgres
    with core.db.engine.connect() as other_node:
        other_node.execute(text(f"SELECT pg_advisory_lock{LOCK}"), {"k": ADVISORY_LOCK})
        assert run_jobs(core).ran is False
        other_node.execute(text(f"SELECT pg_advisory_unlock{LOCK}"), {"k": ADVISORY_LOCK})
    assert run_jobs(core).ran is True
    # another installation, in another schema of the same database, holds its own lock
    with core.db.engine.connect() as other_install:
        other_install.execute(text("SET search_path TO public"))
        other_install.execute(text(f"SELECT pg_advisory_lock{LOCK}"), {"k": ADVISORY_LOCK})
        assert run_jobs(core).ran is True
        other_install.execute(text(f"SELECT pg_advisory_unlock{LOCK}"), {"k": ADVISORY_LOCK})
        other_install.execute(text("RESET search_path"))  # the pooled connection is ours again


def test_a_provisioner_resends_a_lapsed_delivery_with_a_new_secret(
    client: TestClient, core: Core, people: People, smtp: SmtpReceiver, clock: Any
) -> None:
    from datetime import timedelta

    from tokenry.jobs.runner import run_jobs

    request = submit(client, people)
    approve(client, people.manager, request["id"], "manager")
    approve(client, people.provisioner, request["id"], "provisioner")
    deliver_due(core)
    first = _link(smtp, 1)
    # The requester's own unbound token cannot do it; nor can the requester themself.
    assert client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery",
                       headers=as_(people.requester)).status_code == 403

    clock.now += timedelta(hours=73)  # the link lapses unread: token off, request revoked
    run_jobs(core)
    resent = client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery.json",
                         headers=as_(people.provisioner))
    assert resent.status_code == 200, resent.text
    assert resent.json()["access_request"]["state"] == "issued"
    deliver_due(core)
    second = _link(smtp, 2)
    assert second != first
    refused = client.post(f"/api/v2/deliveries/{first}/retrieve")
    assert refused.status_code == 409  # the old link is dead
    secret = client.post(f"/api/v2/deliveries/{second}/retrieve").json()["delivery"]["token"]
    assert me_status(client, people.requester, secret) == 200  # reactivated, new secret
    again = client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery.json",
                        headers=as_(people.provisioner))
    assert again.status_code == 200  # lost after delivery: a new secret again
    assert me_status(client, people.requester, secret) == 401  # the old secret stops at once
    events = client.get("/api/v2/audit_logs.json?filter[action]=resend",
                        headers=as_(people.provisioner)).json()["audit_logs"]
    assert len(events) == 2 and events[0]["credential"] == "password"


def test_a_replaced_link_says_so(client: TestClient, core: Core, people: People,
                                 smtp: SmtpReceiver) -> None:
    request = submit(client, people)
    approve(client, people.manager, request["id"], "manager")
    approve(client, people.provisioner, request["id"], "provisioner")
    deliver_due(core)
    first = _link(smtp, 1)
    client.post(f"/api/v2/access_requests/{request['id']}/resend_delivery",
                headers=as_(people.provisioner))
    assert "replaced by a newer one" in client.get(f"/deliveries/{first}").text
    refused = client.post(f"/api/v2/deliveries/{first}/retrieve")
    assert "replaced by a newer one" in refused.json()["description"]


def _link(smtp: SmtpReceiver, count: int) -> str:
    links = [re.search(r"/deliveries/(\S+)", m.message.get_content())
             for m in smtp.messages if "Your API token" in str(m.message["Subject"])]
    assert len(links) == count and links[-1] is not None
    return links[-1].group(1)
