"""Governance decisions come from a credential that proves the person, and say who acted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import basic
from tests.governance_people import People, add_user, approve, as_, cast, request_body, submit
from tokenry.core import Core
from tokenry.jobs.runner import run_jobs
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import show_user
from tokenry.storage.models import ApiToken


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    return cast(core, admin_actor)


def token_for(core: Core, admin: Actor, email: str, *, bound: bool) -> dict[str, str]:
    user = show_user(core, admin, email)
    secret = create_token(core, admin, description=f"{email} script",
                          user_id=user.id if bound else None).secret
    return basic(email, secret)


def credentials_of(client: TestClient, action: str) -> list[str]:
    events = client.get(f"/api/v2/audit_logs.json?filter[action]={action}",
                        headers=as_(People.provisioner)).json()["audit_logs"]
    return [e["credential"] for e in events]


def test_an_unbound_token_cannot_make_a_governance_decision(
    client: TestClient, core: Core, people: People, admin_actor: Actor
) -> None:
    request = submit(client, people)
    # Anyone holding this token could type the manager's email: it proves nobody.
    unbound = token_for(core, admin_actor, people.manager, bound=False)
    base = f"/api/v2/access_requests/{request['id']}"
    for path, body in ((f"{base}/approve", {"stage": "manager"}),
                       (f"{base}/deny", {"reason": "no"}), (f"{base}/cancel", None)):
        refused = client.post(path, headers=unbound, json=body)
        assert refused.status_code == 403, path
        assert "prove who you are" in refused.json()["description"]
        assert "bound to you" in refused.json()["description"]
    as_requester = token_for(core, admin_actor, people.requester, bound=False)
    for_someone = client.post("/api/v2/access_requests.json", headers=as_requester,
                              json=request_body(for_email=people.agent))
    assert for_someone.status_code == 403
    exception = client.post("/api/v2/api_tokens/exceptions.json",
                            headers=token_for(core, admin_actor, people.provisioner, bound=False),
                            json={"api_token": {"exception": "personal"}})
    assert exception.status_code == 403
    # ... while Zendesk's own endpoints keep working with it, and filing for oneself too
    assert client.get("/api/v2/users/me.json", headers=unbound).status_code == 200
    own = client.post("/api/v2/access_requests.json", headers=as_requester, json=request_body())
    assert own.status_code == 201


def test_a_bound_token_proves_its_user_and_the_audit_log_names_every_credential(
    client: TestClient, core: Core, people: People, admin_actor: Actor, cli: Any
) -> None:
    request = submit(client, people)  # with a password
    bound = token_for(core, admin_actor, people.manager, bound=True)
    assert approve_with(client, bound, request["id"], "manager").status_code == 200
    with core.db.read() as session:
        token_id = max(t.id for t in session.query(ApiToken).all())
    assert credentials_of(client, "approve") == [f"token {token_id}"]
    assert credentials_of(client, "submit") == ["password"]
    assert cli("requests", "deny", str(request["id"]), "--reason", "no budget",
               "--as", people.provisioner).exit_code == 0
    assert credentials_of(client, "deny") == ["cli"]
    update_account_settings(core, admin_actor, {"inactivity_days": 1})
    from datetime import timedelta

    core.clock.now += timedelta(days=2)  # type: ignore[attr-defined]
    assert run_jobs(core).counts["deactivate_unused"] >= 1
    assert set(credentials_of(client, "deactivate")) == {"scheduler"}


def approve_with(client: TestClient, headers: dict[str, str], request_id: int,
                 stage: str, **extra: Any) -> Any:
    return client.post(f"/api/v2/access_requests/{request_id}/approve.json", headers=headers,
                       json={"stage": stage, **extra})


def test_an_admin_request_yields_a_token_that_acts_as_an_admin(
    client: TestClient, core: Core, people: People, admin_actor: Actor
) -> None:
    for_agent = client.post("/api/v2/access_requests.json", headers=as_(people.requester),
                            json=request_body(for_email=people.agent)).json()["access_request"]
    assert approve(client, people.manager, for_agent["id"], "manager").status_code == 200
    refused = approve(client, people.provisioner, for_agent["id"], "provisioner")
    assert refused.status_code == 409
    assert "not an admin" in refused.json()["description"]
    assert "acts_as" in refused.json()["description"]
    not_admin = approve_with(client, as_(people.provisioner), for_agent["id"], "provisioner",
                             acts_as=people.agent)
    assert not_admin.status_code == 409
    service = add_user(core, admin_actor, "zendesk-bot@example.com")  # an admin
    issued = approve_with(client, as_(people.provisioner), for_agent["id"], "provisioner",
                          acts_as=service.email)
    assert issued.status_code == 200, issued.text
    with core.db.read() as session:
        token = session.get(ApiToken, issued.json()["access_request"]["token_id"])
    assert token is not None and token.user_id == service.id
    # the manager cannot choose it
    other = client.post("/api/v2/access_requests.json", headers=as_(people.requester),
                        json=request_body()).json()["access_request"]
    early = approve_with(client, as_(people.manager), other["id"], "manager",
                         acts_as=service.email)
    assert early.status_code == 422 and "acts_as" in early.json()["details"]


def test_a_request_that_needs_no_admin_is_refused_with_advice_true_for_the_account(
    client: TestClient, core: Core, people: People, admin_actor: Actor
) -> None:
    body = request_body(admin_required=False)
    on = client.post("/api/v2/access_requests.json", headers=as_(people.requester), json=body)
    assert on.status_code == 422
    assert "password (basic) authentication" in on.json()["description"]
    assert "is off" not in on.json()["description"]
    update_account_settings(core, admin_actor, {"password_access": False})
    ria = token_for(core, admin_actor, people.requester, bound=True)
    off = client.post("/api/v2/access_requests.json", headers=ria, json=body)
    assert off.status_code == 422
    advice = off.json()["details"]["admin_required"][0]["description"]
    assert "Password access is off" in advice and "admin@example.com" in advice


def test_require_request_stops_admins_creating_tokens_outside_the_workflow(
    client: TestClient, core: Core, people: People, admin_actor: Actor, admin_auth: Any,
    cli: Any
) -> None:
    assert client.post("/api/v2/api_tokens.json", headers=admin_auth,
                       json={"api_token": {"description": "ok"}}).status_code == 201
    update_account_settings(core, admin_actor, {"require_request": True})
    refused = client.post("/api/v2/api_tokens.json", headers=admin_auth,
                          json={"api_token": {"description": "not any more"}})
    assert refused.status_code == 403 and "require_request" in refused.json()["description"]
    result = cli("tokens", "create", "--description", "by hand")
    assert result.exit_code == 1 and "access requests" in result.output
    exception = client.post("/api/v2/api_tokens/exceptions.json", headers=as_(people.provisioner),
                            json={"api_token": {"exception": "personal"}})
    assert exception.status_code == 201  # an allowed exception still works


def test_an_extension_copies_the_request_it_extends(
    client: TestClient, core: Core, people: People
) -> None:
    from tests.governance_people import issue

    first = issue(client, people, purpose="Quarterly audit export")
    extension = client.post("/api/v2/access_requests.json", headers=as_(people.requester),
                            json={"access_request": {
                                "extends_request_id": first["id"],
                                "removal_date": request_body()["access_request"]["removal_date"]
                            }})
    assert extension.status_code == 201, extension.text
    copied = extension.json()["access_request"]
    for field in ("service_name", "purpose", "use_case", "admin_justification", "holder_id"):
        assert copied[field] == first[field], field
