"""The audit log API as Zendesk's (issue 8): ``url``, ``action_label``, ``actor_name``, one
event by id, ``filter[created_at]`` given twice, ``filter[ip_address]`` and the sort forms."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from tests.conftest import ADMIN_EMAIL, Clock
from tokenry.core import Core
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user, update_user
from tokenry.storage.models import AuditEvent


def _events(client: TestClient, auth: dict[str, str], query: str = "") -> list[dict]:
    return client.get(f"/api/v2/audit_logs.json?filter[source_type]=api_token{query}",
                      headers=auth).json()["audit_logs"]


def test_each_event_has_its_url_label_and_the_actors_name(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    [event] = _events(client, admin_auth)
    assert event["url"] == f"http://testserver/api/v2/audit_logs/{event['id']}.json"
    assert event["action"] == "create" and event["action_label"] == "Created"
    assert event["actor_name"] == "Administrator"  # the user's name, not their email
    shown = client.get(event["url"], headers=admin_auth)
    assert shown.status_code == 200 and shown.json()["audit_log"] == event
    assert client.get("/api/v2/audit_logs/999999.json", headers=admin_auth).status_code == 404


def test_created_at_given_twice_and_the_sort_forms(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    clock: Clock
) -> None:
    start = clock.now
    for number in range(3):
        clock.now = start + timedelta(minutes=10 * (number + 1))
        create_token(core, admin_actor, description=f"t{number}")
    window = (f"&filter[created_at]={(start + timedelta(minutes=15)).isoformat()}"
              f"&filter[created_at]={(start + timedelta(minutes=35)).isoformat()}")
    assert [e["source_label"].split()[-1] for e in _events(client, admin_auth,
                                                              window.replace("+", "%2B"))] \
        == ["t2", "t1"]
    newest_first = [e["id"] for e in _events(client, admin_auth)]
    assert [e["id"] for e in _events(client, admin_auth, "&sort=created_at")] == \
        newest_first[::-1]
    assert [e["id"] for e in _events(client, admin_auth, "&sort_by=created_at&sort_order=asc")] \
        == newest_first[::-1]
    assert [e["id"] for e in _events(client, admin_auth, "&sort=-created_at")] == newest_first


def test_filter_by_ip_address(client: TestClient, admin_auth: dict[str, str]) -> None:
    client.post("/api/v2/api_tokens.json", headers=admin_auth,
                json={"api_token": {"description": "from the test client"}})
    found = _events(client, admin_auth, "&filter[ip_address]=testclient")
    assert [e["source_label"].split()[-1] for e in found] == ["client"]
    assert _events(client, admin_auth, "&filter[ip_address]=203.0.113.9") == []


def test_token_events_read_in_zendesks_vocabulary_with_tokenrys_action_beside(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    """A deactivation is Zendesk's ``update`` of an ``apitoken``; its before/after values and
    change description say what changed, and ``tokenry_action`` keeps the finer word."""
    token = create_token(core, admin_actor, description="vocab").token
    client.put(f"/api/v2/api_tokens/{token.id}", headers=admin_auth,
               json={"api_token": {"active": False}})
    client.delete(f"/api/v2/api_tokens/{token.id}", headers=admin_auth)
    events = _events(client, admin_auth, f"&filter[source_id]={token.id}")
    assert [(e["action"], e["action_label"], e["tokenry_action"]) for e in events] == [
        ("destroy", "Deleted", "destroy"), ("update", "Updated", "deactivate"),
        ("create", "Created", "create")]
    assert {e["source_type"] for e in events} == {"apitoken"}
    deactivation = events[1]
    assert deactivation["changes"] == {"active": [True, False]}
    assert deactivation["change_description"].startswith("Deactivated")

    def actions(query: str) -> list[str]:
        response = client.get(f"/api/v2/audit_logs.json?filter[source_id]={token.id}&{query}",
                              headers=admin_auth)
        assert response.status_code == 200, response.text
        return [e["tokenry_action"] for e in response.json()["audit_logs"]]

    # Zendesk's filter values find every event that reads as them; both source type names work
    assert actions("filter[action]=update&filter[source_type]=apitoken") == ["deactivate"]
    assert actions("filter[action]=update&filter[source_type]=api_token") == ["deactivate"]
    assert actions("filter[action]=deactivate") == ["deactivate"]  # tokenry's words still work
    assert actions("filter[tokenry_action]=update") == []  # exactly tokenry's own "update"
    assert actions("filter[action]=destroy") == ["destroy"]
    assert actions("filter[source_type]=user") == []


def test_the_documented_actions_are_the_domains() -> None:
    """The client's schema (free of the server's code) names the same five actions."""
    from typing import get_args

    from tokenry.domain.audit import ZENDESK_ACTIONS, Action, zendesk_action
    from tokenry.schemas import AuditLog

    documented = set(get_args(AuditLog.model_fields["action"].annotation))
    assert documented == set(ZENDESK_ACTIONS)
    assert {zendesk_action(action) for action in Action} <= documented



def test_actor_name_is_the_users_name_now_read_with_the_page(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    """The name follows a rename; an actor who is no user of this account (the scheduler, a
    user of another account) shows the label recorded at the time; and the names come with
    the page, not from a read of their own."""
    update_user(core, admin_actor, ADMIN_EMAIL, name="Ada Renamed")
    elsewhere = create_account(core, subdomain="elsewhere")
    stranger = create_user(core, Actor.system(elsewhere.id), email="x@elsewhere.example",
                           name="Stranger", role="admin")
    with core.db.transaction() as session:
        first = session.scalar(select(func.min(AuditEvent.id))
                               .where(AuditEvent.account_id == admin_actor.account_id))
        session.execute(update(AuditEvent).where(AuditEvent.id == first)
                        .values(actor_id=stranger.id, actor_label="someone@before"))
    seen: list[str] = []

    def keep(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    url = "/api/v2/audit_logs.json?page[size]=100"
    client.get(url, headers=admin_auth)  # the account and the token are cached from now on
    engines = {core.db.engine, core.db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", keep)
    try:
        page = client.get(url, headers=admin_auth).json()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", keep)
    names = {e["id"]: (e["actor_id"], e["actor_name"]) for e in page["audit_logs"]}
    assert names.pop(first) == (stranger.id, "someone@before")
    assert {name for actor_id, name in names.values() if actor_id} == {"Ada Renamed"}
    assert {name for actor_id, name in names.values() if not actor_id} == {"tokenry"}
    assert len(seen) == 2, seen  # the acting admin, then the page with its names
