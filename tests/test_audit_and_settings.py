"""The audit log API and the account settings API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import Clock
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.update_token import update_token


def test_every_token_change_is_in_the_audit_log_with_actor_ip_and_agent(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    headers = admin_auth | {"User-Agent": "audit-check/2"}
    token = client.post("/api/v2/api_tokens", headers=headers,
                        json={"api_token": {"description": "before"}}).json()["api_token"]
    url = f"/api/v2/api_tokens/{token['id']}"
    client.put(url, headers=headers, json={"api_token": {"description": "after"}})
    client.put(url, headers=headers, json={"api_token": {"active": False}})
    client.put(url, headers=headers, json={"api_token": {"active": True}})
    client.put(url, headers=headers, json={"api_token": {"active": False}})
    client.delete(url, headers=headers)
    events = client.get(f"/api/v2/audit_logs.json?filter[source_id]={token['id']}",
                        headers=admin_auth).json()["audit_logs"]
    assert [e["tokenry_action"] for e in events] == [
        "destroy", "deactivate", "reactivate", "deactivate", "update", "create"]
    assert [e["action"] for e in events] == [  # Zendesk's words for the same events
        "destroy", "update", "update", "update", "update", "create"]
    update = events[4]
    assert update["changes"] == {"description": ["before", "after"]}
    assert all(e["actor_name"] == "Administrator" and e["ip_address"] == "testclient"
               and e["user_agent"] == "audit-check/2" and e["source_type"] == "apitoken"
               for e in events)
    assert all(token["token"] not in str(e) for e in events)


def test_audit_log_filters_by_action_actor_and_time(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str], clock: Clock
) -> None:
    start = clock.now
    early = create_token(core, admin_actor, description="early")
    clock.now += timedelta(hours=1)
    update_token(core, admin_actor, early.token.id, {"active": False})

    def query(params: str) -> list[dict[str, object]]:
        response = client.get(f"/api/v2/audit_logs.json?{params}", headers=admin_auth)
        assert response.status_code == 200, response.text
        return response.json()["audit_logs"]  # type: ignore[no-any-return]

    assert [e["source_id"] for e in query("filter[action]=deactivate")] == [early.token.id]
    assert all(e["actor_id"] == admin_actor.user_id
               for e in query(f"filter[actor_id]={admin_actor.user_id}"))
    assert query("filter[actor_id]=424242") == []
    window = (f"filter[created_at][]={(start - timedelta(minutes=1)).isoformat()}"
              f"&filter[created_at][]={(start + timedelta(minutes=30)).isoformat()}")
    actions = {e["tokenry_action"] for e in query(window.replace("+", "%2B"))}
    assert "create" in actions and "deactivate" not in actions


def test_audit_log_is_paginated(client: TestClient, core: Core, admin_actor: Actor,
                                admin_auth: dict[str, str]) -> None:
    for n in range(5):
        create_token(core, admin_actor, description=str(n))
    page = client.get("/api/v2/audit_logs?per_page=2", headers=admin_auth).json()
    assert len(page["audit_logs"]) == 2 and page["next_page"] and page["count"] >= 8


def test_settings_show_token_access_on_and_password_access_off_by_default(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    response = client.get("/api/v2/account/settings.json", headers=admin_auth)
    # Zendesk's keys and types (its two switches are strings), tokenry's extension beside them
    assert response.json()["settings"]["api"] == {
        "api_token_access": "true", "api_password_access": "false",
        "accepted_api_agreement": True, "require_request": False}


def test_settings_changes_are_validated_and_audited(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    bad = client.put("/api/v2/account/settings", headers=admin_auth,
                     json={"settings": {"api": {"api_token_access": "maybe"}}})
    assert bad.status_code == 422 and "token_access" in bad.json()["details"]
    ok = client.put("/api/v2/account/settings", headers=admin_auth,
                    json={"settings": {"api": {"api_password_access": "true",
                                               "accepted_api_agreement": True}}})
    assert ok.status_code == 200 and "x-zendesk-api-warn" not in ok.headers
    assert ok.json()["settings"]["api"]["api_password_access"] == "true"
    events = client.get("/api/v2/audit_logs?filter[source_type]=account_setting",
                        headers=admin_auth).json()["audit_logs"]
    assert [e["changes"] for e in events] == [{"password_access": [False, True]}]


def test_token_management_is_refused_while_token_access_is_off(
    core: Core, admin_actor: Actor
) -> None:
    import pytest

    from tokenry.domain.errors import Forbidden
    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"token_access": False})
    with pytest.raises(Forbidden, match="token access is turned off"):
        create_token(core, admin_actor)


def test_governance_settings_are_typed_and_the_webhook_secret_is_write_only(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    response = client.put("/api/v2/account/settings", headers=admin_auth, json={"settings": {
        "governance": {"reminder_days": [1, 14], "inactivity_days": 45},
        "notifications": {"webhook_secret": "shh-very-secret"}}})
    assert response.status_code == 200, response.text
    settings = response.json()["settings"]
    assert settings["governance"]["reminder_days"] == [14, 1]
    assert settings["governance"]["inactivity_days"] == 45
    assert settings["notifications"]["webhook_secret"] is True
    log = client.get("/api/v2/audit_logs", headers=admin_auth).text
    assert "shh-very-secret" not in log and "(set)" in log
    for bad in ({"governance": {"inactivity_days": -1}},
                {"notifications": {"webhook_url": "ftp://x"}}):
        refused = client.put("/api/v2/account/settings", headers=admin_auth,
                             json={"settings": bad})
        assert refused.status_code == 422, bad


def test_unknown_settings_are_ignored_and_named_as_zendesk_does(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    response = client.put("/api/v2/account/settings.json", headers=admin_auth, json={
        "settings": {"api": {"teleport": True, "api_token_access": "true"},
                     "governance": {"token_access": False}, "nonsense": {"a": 1},
                     "lotus": "flat"}})
    assert response.status_code == 200, response.text
    assert response.headers["X-Zendesk-API-Warn"] == (
        "Removed Params: settings.api.teleport, settings.governance.token_access, "
        "settings.nonsense, settings.lotus")
    assert response.json()["settings"]["api"]["api_token_access"] == "true"  # nothing changed
    events = client.get("/api/v2/audit_logs?filter[source_type]=account_setting",
                        headers=admin_auth).json()["audit_logs"]
    assert events == []


def test_tokenry_names_still_work_in_the_api_group(client: TestClient,
                                                   admin_auth: dict[str, str]) -> None:
    response = client.put("/api/v2/account/settings.json", headers=admin_auth,
                          json={"settings": {"api": {"password_access": True}}})
    assert response.json()["settings"]["api"]["api_password_access"] == "true"


def test_agents_read_the_api_and_instance_groups_and_end_users_nothing(
    client: TestClient, core: Core, admin_actor: Actor
) -> None:
    from tests.conftest import basic
    from tokenry.operations.users import create_user

    for email, role in (("agent@example.com", "agent"), ("user@example.com", "end-user")):
        create_user(core, admin_actor, email=email, name=role, role=role)
    agent = create_token(core, admin_actor, description="agent's",
                         user_id=_user_id(core, "agent@example.com")).secret
    seen = client.get("/api/v2/account/settings.json",
                      headers=basic("agent@example.com", agent))
    assert seen.status_code == 200
    assert set(seen.json()["settings"]) == {"api", "instance"}  # no webhook addresses
    change = client.put("/api/v2/account/settings.json", headers=basic("agent@example.com", agent),
                        json={"settings": {"api": {"api_token_access": "false"}}})
    assert change.status_code == 403
    user = create_token(core, admin_actor, description="user's",
                        user_id=_user_id(core, "user@example.com")).secret
    assert client.get("/api/v2/account/settings.json",
                      headers=basic("user@example.com", user)).status_code == 403


def _user_id(core: Core, email: str) -> int:
    from sqlalchemy import select

    from tokenry.storage.models import User

    with core.db.read() as session:
        found = session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def test_the_warning_header_escapes_what_the_caller_named(client: TestClient,
                                                          admin_auth: dict[str, str]) -> None:
    # found by schemathesis: a non-Latin-1 key made the header unencodable (a 500)
    response = client.put("/api/v2/account/settings.json", headers=admin_auth,
                          json={"settings": {"\u0100": None, "api": {"x\r\ny": 1}}})
    assert response.status_code == 200
    assert response.headers["X-Zendesk-API-Warn"] == (
        "Removed Params: settings.\\u0100, settings.api.x\\r\\ny")
