"""Reviewers see what they judge and are reminded; inactivity is announced before and after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Clock
from tests.governance_people import People, approve, cast, submit
from tokenry.core import Core
from tokenry.jobs.runner import run_jobs
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.storage.models import Notification


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    return cast(core, admin_actor)


def notices(core: Core, event: str) -> list[Notification]:
    with core.db.read() as session:
        return list(session.scalars(select(Notification).where(
            Notification.event == event, Notification.channel == "webhook")
            .order_by(Notification.id)))


def test_reviewers_see_everything_they_must_judge_and_only_deciders_are_asked(
    client: TestClient, core: Core, people: People
) -> None:
    request = submit(client, people, purpose="Nightly export", use_case="Reads tickets")
    [asked] = notices(core, "request.submitted")
    for fact in ("Ria Quest (ria@example.com)", "Zendesk export", "Nightly export",
                 "Reads tickets", "Only admins can read all tickets", "Removal date: "):
        assert fact in asked.body, fact
    assert asked.payload["recipients"] == [people.manager]
    approve(client, people.manager, request["id"], "manager")
    [ready] = notices(core, "request.manager_approved")
    assert "Purpose: Nightly export" in ready.body
    assert set(ready.payload["recipients"]) == {people.provisioner, people.other_provisioner}


def test_a_pending_request_reminds_its_approver_then_warns_before_it_closes(
    client: TestClient, core: Core, people: People, clock: Clock
) -> None:
    request = submit(client, people)
    assert run_jobs(core).counts["remind_pending_approvers"] == 0
    clock.now += timedelta(days=2, minutes=1)
    run_jobs(core)
    run_jobs(core)  # a rerun adds nothing
    [reminder] = notices(core, "request.reminder")
    assert reminder.payload["recipients"] == [people.manager]
    assert "waits for the manager's approval" in reminder.body
    clock.now += timedelta(days=11)  # the day before it closes (14 days)
    run_jobs(core)
    [closing] = notices(core, "request.closing")
    assert "closes by itself on" in closing.body
    approve(client, people.manager, request["id"], "manager")
    clock.now += timedelta(hours=1)
    run_jobs(core)
    provisioner_reminders = notices(core, "request.closing")[1:]
    assert provisioner_reminders and set(provisioner_reminders[0].payload["recipients"]) == {
        people.provisioner, people.other_provisioner}


def test_inactivity_is_announced_before_and_when_a_token_is_deactivated(
    core: Core, people: People, admin_actor: Actor, clock: Clock
) -> None:
    token = create_token(core, admin_actor, description="idle", user_id=admin_actor.user_id)
    clock.now += timedelta(days=22)
    assert run_jobs(core).counts["warn_before_inactivity"] == 0
    clock.now += timedelta(days=2)  # 24 days idle: deactivation in 6 days
    run_jobs(core)
    run_jobs(core)
    [warning] = notices(core, "token.inactive_soon")
    assert "will be deactivated for inactivity" in warning.body
    assert set(warning.payload["recipients"]) == {
        "admin@example.com", people.provisioner, people.other_provisioner}
    clock.now += timedelta(days=7)
    run_jobs(core)
    [gone] = notices(core, "token.deactivated")
    assert "unused for 30 days" in gone.body and "will be deleted on" in gone.body
    assert gone.payload["token_id"] == token.token.id


def test_the_inactivity_warning_can_be_turned_off(
    core: Core, people: People, admin_actor: Actor, clock: Clock
) -> None:
    update_account_settings(core, admin_actor, {"inactivity_warning_days": 0})
    create_token(core, admin_actor, description="idle", user_id=admin_actor.user_id)
    clock.now += timedelta(days=25)
    run_jobs(core)
    assert notices(core, "token.inactive_soon") == []


def test_provisioners_get_the_compliance_report_once_a_week_unless_turned_off(
    core: Core, people: People, admin_actor: Actor, clock: Clock
) -> None:
    create_token(core, admin_actor, description="by hand")  # unapproved, unbound, nonstandard
    run_jobs(core)
    run_jobs(core)  # the same week: nothing new
    [weekly] = notices(core, "report.compliance_weekly")
    assert set(weekly.payload["recipients"]) == {people.provisioner, people.other_provisioner}
    assert "unapproved: " in weekly.body and "by hand" in weekly.body
    assert "/admin/compliance" in weekly.body  # the page; a person signs in there
    clock.now += timedelta(days=7)
    run_jobs(core)
    assert len(notices(core, "report.compliance_weekly")) == 2
    update_account_settings(core, admin_actor, {"weekly_compliance_report": False})
    clock.now += timedelta(days=7)
    run_jobs(core)
    assert len(notices(core, "report.compliance_weekly")) == 2
