"""The compliance report through the operation, the HTTP API and the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import Clock
from tests.governance_people import actor_of, add_user
from tokenry.cli import reports
from tokenry.core import Core
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.naming import request_name
from tokenry.http.app import create_app
from tokenry.http.routes import reports as report_routes
from tokenry.operations.compliance_report import Category, compliance_report
from tokenry.operations.context import Actor
from tokenry.operations.create_token import CreatedToken, create_token, issue_token
from tokenry.operations.update_token import update_token
from tokenry.operations.users import update_user
from tokenry.storage.models import AccessRequest, User


def add_request(core: Core, person: User, state: str,
                created_at: datetime | None = None) -> AccessRequest:
    at = created_at or core.clock()
    with core.db.transaction() as session:
        request = AccessRequest(
            account_id=person.account_id, requester_id=person.id, holder_id=person.id,
            service_name="Billing sync", purpose="invoices", use_case="nightly export",
            removal_date=date(2099, 1, 1), state=state, created_at=at, updated_at=at)
        session.add(request)
    return request


def issue(core: Core, admin: Actor, description: str, kind: str,
          request_id: int | None = None) -> CreatedToken:
    with core.db.transaction() as session:
        return issue_token(session, core, admin, description=description, kind=kind,
                           access_request_id=request_id)


def found(core: Core, actor: Actor, category: Category, **options: int) -> dict[int, str]:
    """``{token or request id: reason}`` of one category."""
    report = compliance_report(core, actor, **options)
    return {f.token_id or f.request_id or 0: f.reason
            for f in report.findings if f.category == category}


@pytest.fixture
def person(core: Core, admin_actor: Actor) -> User:
    return add_user(core, admin_actor, "holder@example.com", role="agent")


def test_manual_tokens_and_tokens_of_requests_not_issued_are_unapproved(
    core: Core, admin_actor: Actor, person: User
) -> None:
    manual = create_token(core, admin_actor, description="Target - Zapier")
    revoked = issue(core, admin_actor, "a", "request", add_request(core, person, "revoked").id)
    orphan = issue(core, admin_actor, "b", "request", request_id=4242)
    delivered = issue(core, admin_actor, "c", "request", add_request(core, person, "delivered").id)
    personal = issue(core, admin_actor, "Holder - personal", "personal")

    unapproved = found(core, admin_actor, Category.UNAPPROVED)

    assert "without an access request" in unapproved[manual.token.id]
    assert "revoked" in unapproved[revoked.token.id]
    assert "does not exist" in unapproved[orphan.token.id]
    assert delivered.token.id not in unapproved and personal.token.id not in unapproved


def test_names_that_follow_no_standard_are_reported(
    core: Core, admin_actor: Actor, clock: Clock
) -> None:
    loose = create_token(core, admin_actor, description="Zapier sync")
    target = create_token(core, admin_actor, description="Target - Zapier")
    link = f"{core.settings.base_url}/requests/7"
    standard = create_token(core, admin_actor,
                            description=request_name("Ann", link, clock.now.date()))

    report = compliance_report(core, admin_actor)
    names = {f.token_id: f.name for f in report.findings
             if f.category == Category.NONSTANDARD_NAME}

    assert names.get(loose.token.id) == "Zapier sync"
    assert target.token.id not in names and standard.token.id not in names


def test_tokens_unused_for_the_inactivity_period_are_reported(
    core: Core, admin_actor: Actor, clock: Clock
) -> None:
    idle = create_token(core, admin_actor, description="Target - idle")
    busy = create_token(core, admin_actor, description="Target - busy")
    clock.now += timedelta(days=31)  # the account's default inactivity_days is 30
    core.usage.record(account_id=admin_actor.account_id, token_id=busy.token.id,
                      user_id=admin_actor.user_id or 0, ip="10.0.0.1", user_agent="test",
                      endpoint="GET /api/v2/users/me", now=clock.now)
    core.usage.flush(core.db)

    unused = found(core, admin_actor, Category.UNUSED)

    assert unused[idle.token.id] == "never used; created 31 days ago (limit 30)"
    assert busy.token.id not in unused


def test_unused_days_overrides_the_account_setting_and_zero_turns_the_check_off(
    core: Core, admin_actor: Actor, clock: Clock
) -> None:
    token = create_token(core, admin_actor, description="Target - idle").token
    clock.now += timedelta(days=5)

    assert token.id in found(core, admin_actor, Category.UNUSED, unused_days=3)
    assert token.id not in found(core, admin_actor, Category.UNUSED)
    assert found(core, admin_actor, Category.UNUSED, unused_days=0) == {}
    with pytest.raises(Invalid):
        compliance_report(core, admin_actor, unused_days=-1)


def test_active_tokens_bound_to_suspended_users_are_reported(
    core: Core, admin_actor: Actor, person: User
) -> None:
    active = create_token(core, admin_actor, description="Target - a", user_id=person.id)
    retired = create_token(core, admin_actor, description="Target - b", user_id=person.id)
    update_token(core, admin_actor, retired.token.id, {"active": False})
    update_user(core, admin_actor, person.email, suspended=True)

    suspended = found(core, admin_actor, Category.SUSPENDED_HOLDER)

    assert suspended == {active.token.id: f"bound to suspended user {person.email}"}


def test_pending_requests_older_than_the_limit_are_stale(
    core: Core, admin_actor: Actor, person: User, clock: Clock
) -> None:
    def ago(days: int) -> datetime:
        return clock.now - timedelta(days=days)

    old = add_request(core, person, "submitted", ago(15))  # the default limit is 14 days
    half = add_request(core, person, "manager_approved", ago(20))
    fresh = add_request(core, person, "submitted", ago(1))
    closed = add_request(core, person, "denied", ago(30))

    report = compliance_report(core, admin_actor)
    stale = {f.request_id: f for f in report.findings if f.category == Category.STALE_REQUEST}

    assert set(stale) == {old.id, half.id}
    assert fresh.id not in stale and closed.id not in stale
    assert stale[old.id].name == f"http://testserver/requests/{old.id}"
    assert stale[old.id].reason == "submitted for 15 days without a decision (limit 14)"


def test_only_admins_and_provisioners_may_see_the_report(
    core: Core, admin_actor: Actor, person: User
) -> None:
    provisioner = add_user(core, admin_actor, "prov@example.com", provisioner=True)
    assert compliance_report(core, actor_of(provisioner)).generated_at
    with pytest.raises(Forbidden):
        compliance_report(core, actor_of(person))


def test_counts_cover_every_category(core: Core, admin_actor: Actor) -> None:
    create_token(core, admin_actor, description="loose name")

    report = compliance_report(core, admin_actor).as_dict()

    assert set(report["counts"]) == {c.value for c in Category}
    assert sum(report["counts"].values()) == len(report["findings"])
    assert report["counts"]["unapproved"] == report["counts"]["nonstandard_name"] == 1


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    app = create_app(core.settings, core)
    if not any(getattr(r, "path", "") == "/api/v2/reports/compliance" for r in app.routes):
        app.include_router(report_routes.router)
    with TestClient(app) as test_client:
        yield test_client


def test_compliance_endpoint_returns_findings_and_counts(
    client: TestClient, admin_auth: dict[str, str], admin_secret: str
) -> None:
    response = client.get("/api/v2/reports/compliance.json", headers=admin_auth)

    assert response.status_code == 200, response.text
    body = response.json()["compliance"]
    assert body["generated_at"].endswith("Z") and body["counts"]["unapproved"] == 1
    assert {"category": "unapproved", "name": "admin's own"}.items() <= body["findings"][0].items()
    assert admin_secret not in response.text


def test_compliance_endpoint_refuses_a_negative_unused_days(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    response = client.get("/api/v2/reports/compliance.json?unused_days=-1", headers=admin_auth)
    assert response.status_code == 422


@pytest.fixture
def report_cli(core: Core, cli_env: dict[str, str]) -> Iterator[typer.Typer]:
    root = typer.Typer()
    root.add_typer(reports.app, name="report")
    yield root


def run(app: typer.Typer, env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, ["report", "compliance", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_prints_the_report_as_json_table_and_csv(
    core: Core, admin_actor: Actor, report_cli: typer.Typer, cli_env: dict[str, str]
) -> None:
    token = create_token(core, admin_actor, description="Zapier").token

    as_json = json.loads(run(report_cli, cli_env, "--format", "json", "--unused-days", "0"))
    table = run(report_cli, cli_env)
    rows = list(csv.DictReader(io.StringIO(run(report_cli, cli_env, "--format", "csv"))))

    assert as_json["compliance"]["unused_days"] == 0
    assert {(f["category"], f["token_id"]) for f in as_json["compliance"]["findings"]} == {
        ("unapproved", token.id), ("nonstandard_name", token.id), ("unbound", token.id)}
    assert "nonstandard_name" in table and "Zapier" in table
    assert {(r["category"], r["token_id"], r["name"]) for r in rows} == {
        ("unapproved", str(token.id), "Zapier"), ("nonstandard_name", str(token.id), "Zapier"),
        ("unbound", str(token.id), "Zapier")}


def test_cli_csv_defuses_names_that_a_spreadsheet_would_run(
    core: Core, admin_actor: Actor, report_cli: typer.Typer, cli_env: dict[str, str]
) -> None:
    create_token(core, admin_actor, description='=HYPERLINK("http://evil")')

    rows = list(csv.DictReader(io.StringIO(run(report_cli, cli_env, "--format", "csv"))))

    assert {r["name"] for r in rows} == {'\'=HYPERLINK("http://evil")'}


def test_cli_refuses_a_user_who_is_not_an_admin_or_provisioner(
    core: Core, admin_actor: Actor, person: User, report_cli: typer.Typer,
    cli_env: dict[str, str]
) -> None:
    result = CliRunner().invoke(report_cli, ["report", "compliance", "--as", person.email],
                                env=cli_env)
    assert result.exit_code == 1
    assert "Only admins and provisioners" in result.output
