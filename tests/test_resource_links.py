"""Zendesk's resource links: each API token carries its ``url``, and a 201 names the new
resource in ``Location`` (issue 8). Both follow the request's own host, so they stay in the
caller's account."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.governance_people import as_, cast, request_body
from tokenry.core import Core
from tokenry.operations.context import Actor


def test_a_new_token_names_its_url_and_location(client: TestClient,
                                                admin_auth: dict[str, str]) -> None:
    created = client.post("/api/v2/api_tokens.json", headers=admin_auth,
                          json={"api_token": {"description": "linked"}})
    assert created.status_code == 201
    token = created.json()["api_token"]
    assert created.headers["Location"] == token["url"] == (
        f"http://testserver/api/v2/api_tokens/{token['id']}.json")
    shown = client.get(token["url"], headers=admin_auth).json()["api_token"]
    assert shown["url"] == token["url"] and shown["token"] != token["token"]  # truncated now
    listed = client.get("/api/v2/api_tokens.json", headers=admin_auth).json()["api_tokens"]
    assert all(t["url"].endswith(f"/api/v2/api_tokens/{t['id']}.json") for t in listed)
    other_host = client.get(token["url"], headers=admin_auth | {"Host": "127.0.0.1:8000"})
    assert other_host.json()["api_token"]["url"].startswith("http://127.0.0.1:8000/")


def test_a_filed_request_names_its_location(client: TestClient, core: Core,
                                            admin_actor: Actor) -> None:
    people = cast(core, admin_actor)
    filed = client.post("/api/v2/access_requests.json", headers=as_(people.requester),
                        json=request_body())
    assert filed.status_code == 201
    location = filed.headers["Location"]
    request_id = filed.json()["access_request"]["id"]
    assert location == f"http://testserver/api/v2/access_requests/{request_id}.json"
    assert client.get(location, headers=as_(people.requester)).status_code == 200


def test_include_users_side_loads_the_users_the_tokens_name(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    from tokenry.operations.create_token import create_token
    from tokenry.operations.users import create_user

    sam = create_user(core, admin_actor, email="sam@example.com", name="Sam", role="admin")
    create_token(core, admin_actor, description="bound", user_id=sam.id)
    plain = client.get("/api/v2/api_tokens.json", headers=admin_auth).json()
    assert "users" not in plain
    loaded = client.get("/api/v2/api_tokens.json?include_users=true", headers=admin_auth).json()
    named = {i for t in loaded["api_tokens"] for i in (t["user_id"], t["created_by_id"]) if i}
    assert {u["id"] for u in loaded["users"]} == named == {admin_actor.user_id, sam.id}
    assert all(u["url"].endswith(f"/api/v2/users/{u['id']}.json") for u in loaded["users"])
