"""``tokenry oauth migrate``: an API token's recorded usage becomes the integration request that
replaces it, on SQLite and PostgreSQL. Usage is recorded by calling the real API with the
token and flushing the recorder, as the server does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import basic
from tests.governance_people import People, add_user, cast, issue
from tests.test_governance import delivery_secret
from tokenry.core import Core
from tokenry.http.app import create_app
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import show_user
from tokenry.storage.models import AccessRequest, OAuthClient

Cli = Callable[..., Any]
BOT = "integration.bot@example.com"


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    """The real app over https: the token endpoint refuses plain http off loopback."""
    with TestClient(create_app(core.settings, core), base_url="https://testserver") as https:
        yield https


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    people = cast(core, admin_actor)
    add_user(core, admin_actor, BOT)
    update_account_settings(core, admin_actor, {"integration_bot": BOT})
    return people


def ria_token(core: Core, admin: Actor, people: People, **extra: Any) -> tuple[int, str]:
    """An API token bound to Ria, the requester; her manager approves what she files."""
    ria = show_user(core, admin, people.requester)
    created = create_token(core, admin, description="Nightly export", user_id=ria.id, **extra)
    return created.token.id, created.secret


def call(client: TestClient, core: Core, people: People, secret: str,
         *requests: tuple[str, str]) -> None:
    auth = basic(people.requester, secret)
    for method, path in requests:
        client.request(method, path, headers=auth)
    core.usage.flush(core.db)


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


def refused(result: Any, *reasons: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    for reason in reasons:
        assert reason in said, result.output


def requests_filed(core: Core) -> int:
    with core.db.read() as session:
        return session.scalar(select(func.count()).select_from(AccessRequest)) or 0


READS = (("GET", "/api/v2/users"), ("GET", "/api/v2/users"), ("GET", "/api/v2/audit_logs"),
         ("GET", "/api/v2/users/me"))


def test_a_reading_token_is_proposed_exactly_the_read_scopes_it_used_and_nothing_is_filed(
        cli: Cli, client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, secret = ria_token(core, admin_actor, people)
    call(client, core, people, secret, *READS)

    shown = ok(cli("oauth", "migrate", str(token_id), "--as", people.requester))
    assert "GET /api/v2/users " in shown.stdout and "users:read" in shown.stdout
    assert "audit_logs:read users:read" in shown.stdout
    assert "Nothing was filed" in shown.stdout
    proposal = as_json(cli("oauth", "migrate", str(token_id), "--json"))
    assert proposal["access_request"] is None
    found = proposal["proposal"]
    assert found["derived_scopes"] == ["audit_logs:read", "users:read"]
    assert found["request"]["scopes"] == ["audit_logs:read", "users:read"]
    assert found["endpoints"] == [
        {"endpoint": "GET /api/v2/users", "count": 2, "scope": "users:read"},
        {"endpoint": "GET /api/v2/audit_logs", "count": 1, "scope": "audit_logs:read"},
        {"endpoint": "GET /api/v2/users/me", "count": 1, "scope": None}]
    request = found["request"]
    assert request["kind"] == "integration" and request["client_kind"] == "confidential"
    assert request["service_name"] == "Nightly export"
    assert request["holder"] == people.requester
    assert request["removal_date"] == (core.clock().date() + timedelta(days=365)).isoformat()
    assert "GET /api/v2/users (2)" in request["use_case"]
    assert requests_filed(core) == 0


def test_a_write_call_adds_the_write_level(
        cli: Cli, client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, secret = ria_token(core, admin_actor, people)
    call(client, core, people, secret, *READS, ("POST", "/api/v2/audit_logs/export"))
    found = as_json(cli("oauth", "migrate", str(token_id), "--json"))["proposal"]
    assert found["derived_scopes"] == ["audit_logs:read", "audit_logs:write", "users:read"]


def test_yes_files_a_request_that_approval_turns_into_a_working_client(
        cli: Cli, client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    expiry = core.clock() + timedelta(days=40)
    token_id, secret = ria_token(core, admin_actor, people, expires_at=expiry)
    call(client, core, people, secret, *READS)

    filed = ok(cli("oauth", "migrate", str(token_id), "--yes", "--as", people.requester))
    assert "Filed integration request" in filed.stdout and "/requests/" in filed.stdout
    with core.db.read() as session:
        request = session.scalars(select(AccessRequest)).one()
    assert request.kind == "integration" and request.scopes == ["audit_logs:read", "users:read"]
    assert request.client_kind == "confidential" and request.removal_date == expiry.date()
    assert f"/requests/{request.id}" in filed.stdout

    ok(cli("requests", "approve", str(request.id), "--stage", "manager", "--as", people.manager))
    ok(cli("requests", "approve", str(request.id), "--stage", "provisioner",
           "--as", people.provisioner))
    retrieved = client.post(
        f"/api/v2/deliveries/{delivery_secret(core, request.id)}/retrieve").json()["delivery"]
    with core.db.read() as session:
        made = session.get(OAuthClient, retrieved["oauth_client_id"])
    assert made is not None and made.allowed_scopes == ["audit_logs:read", "users:read"]

    granted = client.post("/oauth/tokens", auth=(made.identifier, retrieved["client_secret"]),
                          data={"grant_type": "client_credentials",
                                "scope": "users:read audit_logs:read"})
    assert granted.status_code == 200, granted.text
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    # the integration makes the token's calls, and nothing else
    assert client.get("/api/v2/users", headers=bearer).status_code == 200
    assert client.get("/api/v2/audit_logs", headers=bearer).status_code == 200
    assert client.get("/api/v2/api_tokens", headers=bearer).status_code == 403


def test_a_token_with_no_recorded_use_gets_a_clear_answer_not_an_empty_request(
        cli: Cli, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, _ = ria_token(core, admin_actor, people)
    refused(cli("oauth", "migrate", str(token_id), "--yes", "--as", people.requester),
            "no recorded use in the last 90 days", "--scope", "by hand")
    assert requests_filed(core) == 0
    given = as_json(cli("oauth", "migrate", str(token_id), "--scope", "tickets:read",
                        "--json"))["proposal"]
    assert given["endpoints"] == [] and given["request"]["scopes"] == ["tickets:read"]


def test_only_the_last_days_count(
        cli: Cli, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, _ = ria_token(core, admin_actor, people)
    ria = show_user(core, admin_actor, people.requester)
    core.usage.record(ria.account_id, token_id, ria.id, "10.0.0.1", "old-script",
                      "GET /api/v2/users", core.clock() - timedelta(days=100))
    core.usage.flush(core.db)
    refused(cli("oauth", "migrate", str(token_id)), "no recorded use in the last 90 days")
    found = as_json(cli("oauth", "migrate", str(token_id), "--days", "120", "--json"))
    assert found["proposal"]["derived_scopes"] == ["users:read"]
    refused(cli("oauth", "migrate", str(token_id), "--days", "0"), "--days")


def test_a_scoped_tokens_refused_calls_add_no_scope(
        cli: Cli, client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, secret = ria_token(core, admin_actor, people, scopes=["users:read"])
    call(client, core, people, secret, *READS)  # /audit_logs answered 403, yet counted
    found = as_json(cli("oauth", "migrate", str(token_id), "--json"))["proposal"]
    assert found["derived_scopes"] == ["users:read"]


def test_scope_overrides_the_proposal(
        cli: Cli, client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, secret = ria_token(core, admin_actor, people)
    call(client, core, people, secret, *READS)
    found = as_json(cli("oauth", "migrate", str(token_id), "--scope", "users",
                        "--json"))["proposal"]
    assert found["derived_scopes"] == ["audit_logs:read", "users:read"]
    assert found["request"]["scopes"] == ["users:read", "users:write"]
    refused(cli("oauth", "migrate", str(token_id), "--scope", "not a scope"), "--scope")


def test_the_policy_refuses_with_its_reason_and_files_nothing(
        cli: Cli, client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, secret = ria_token(core, admin_actor, people)
    call(client, core, people, secret, *READS)
    update_account_settings(core, admin_actor, {"allowed_scopes": "users:read"})
    refused(cli("oauth", "migrate", str(token_id), "--yes", "--as", people.requester),
            "beyond what this account allows: audit_logs:read")
    update_account_settings(core, admin_actor, {"allowed_scopes": None,
                                                "integration_bot": ""})
    refused(cli("oauth", "migrate", str(token_id)), "no Integration bot")
    update_account_settings(core, admin_actor, {"integrations_allowed": False})
    refused(cli("oauth", "migrate", str(token_id), "--yes", "--as", people.requester),
            "does not allow integrations")
    assert requests_filed(core) == 0


def test_only_admins_and_the_tokens_own_user_may_propose(
        cli: Cli, client: TestClient, core: Core, people: People, admin_actor: Actor) -> None:
    token_id, secret = ria_token(core, admin_actor, people)
    call(client, core, people, secret, *READS)
    refused(cli("oauth", "migrate", str(token_id), "--as", people.agent), "Only an admin")
    refused(cli("oauth", "migrate", "999999"), "no API token with id 999999")
    ok(cli("oauth", "migrate", str(token_id), "--as", people.provisioner))


def test_a_requested_token_keeps_its_requests_service_holder_and_removal_date(
        cli: Cli, client: TestClient, core: Core, people: People) -> None:
    removal = core.clock().date() + timedelta(days=20)
    shown = issue(client, people, removal_date=removal.isoformat())
    retrieved = client.post(
        f"/api/v2/deliveries/{delivery_secret(core, shown['id'])}/retrieve").json()["delivery"]
    call(client, core, people, retrieved["token"], *READS)

    found = as_json(cli("oauth", "migrate", str(shown["token_id"]), "--json"))["proposal"]
    request = found["request"]
    assert request["service_name"] == "Zendesk export" and request["holder"] == people.requester
    assert request["removal_date"] == removal.isoformat()
    assert request["scopes"] == ["audit_logs:read", "users:read"]
