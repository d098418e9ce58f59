"""``/api/v2/users``: Zendesk's user shape for ``me``, the anonymous user, and the account's
users for admins (issue 8: users)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, basic
from tokenry.core import Core
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user

ZENDESK_FIELDS = {"id", "url", "name", "email", "active", "created_at", "updated_at",
                  "time_zone", "iana_time_zone", "locale", "role", "role_type", "alias",
                  "verified", "suspended", "moderator", "ticket_restriction", "user_fields"}


def test_me_carries_zendesks_user_fields(client: TestClient,
                                         admin_auth: dict[str, str]) -> None:
    user = client.get("/api/v2/users/me.json", headers=admin_auth).json()["user"]
    assert set(user) >= ZENDESK_FIELDS
    assert user["email"] == ADMIN_EMAIL and user["role"] == "admin" and user["active"] is True
    assert user["url"] == f"http://testserver/api/v2/users/{user['id']}.json"
    assert user["iana_time_zone"] == "Etc/UTC" and user["locale"] == "en-US"
    assert user["created_at"].endswith("Z") and user["role_type"] is None


def test_without_credentials_me_is_the_anonymous_user(client: TestClient, core: Core) -> None:
    for _ in range(core.settings.auth_failure_limit + 5):  # and it is never throttled
        response = client.get("/api/v2/users/me.json")
        assert response.status_code == 200
    user = response.json()["user"]
    assert user["id"] is None and user["name"] == "Anonymous user"
    assert user["role"] == "end-user" and set(user) >= ZENDESK_FIELDS


def test_wrong_credentials_are_still_401(client: TestClient) -> None:
    response = client.get("/api/v2/users/me.json", headers=basic(ADMIN_EMAIL, "nope"))
    assert response.status_code == 401


def test_admins_list_and_show_users_and_follow_their_urls(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    create_user(core, admin_actor, email="sam@example.com", name="Sam", role="agent")
    listed = client.get("/api/v2/users.json?per_page=1", headers=admin_auth).json()
    assert listed["count"] == 2 and len(listed["users"]) == 1 and listed["next_page"]
    second = client.get(listed["next_page"], headers=admin_auth).json()["users"][0]
    assert second["email"] == "sam@example.com" and set(second) >= ZENDESK_FIELDS
    shown = client.get(second["url"], headers=admin_auth).json()["user"]
    assert shown == second
    # an audit event's actor_id or a token's created_by_id resolves the same way
    created_by = client.get("/api/v2/api_tokens.json",
                            headers=admin_auth).json()["api_tokens"][0]["created_by_id"]
    me = client.get(f"/api/v2/users/{created_by}.json", headers=admin_auth).json()["user"]
    assert me["email"] == ADMIN_EMAIL


def test_users_of_another_account_and_non_admins_see_nothing(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    other = create_account(core, subdomain="acme")
    stranger = create_user(core, Actor.system(other.id), email="x@acme.example", name="X")
    assert client.get(f"/api/v2/users/{stranger.id}.json",
                      headers=admin_auth).status_code == 404
    agent = create_user(core, admin_actor, email="al@example.com", name="Al", role="agent")
    secret = create_token(core, admin_actor, description="al", user_id=agent.id).secret
    for path in ("/api/v2/users.json", f"/api/v2/users/{agent.id}.json"):
        assert client.get(path, headers=basic("al@example.com", secret)).status_code == 403
