"""``next_page`` and ``previous_page`` lead where the client already is: the same scheme,
host (and so account) and path, with every filter kept (issue 8, pagination)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.conftest import Clock, basic
from tokenry.core import Core
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user


def test_page_two_of_another_account_stays_in_that_account(client: TestClient,
                                                           core: Core) -> None:
    acme = create_account(core, subdomain="acme", name="Acme")
    boss = create_user(core, Actor.system(acme.id), email="boss@acme.example", name="Boss",
                       role="admin")
    actor = Actor(account_id=acme.id, user_id=boss.id, label=boss.email, via="cli",
                  credential="cli", proves_person=True)
    secret = create_token(core, actor, description="first").secret
    create_token(core, actor, description="second")
    auth = basic(boss.email, secret) | {"Host": "acme.localhost"}
    first = client.get("/api/v2/api_tokens.json?per_page=1", headers=auth).json()
    link = urlsplit(first["next_page"])
    assert (link.scheme, link.netloc, link.path) == ("http", "acme.localhost",
                                                      "/api/v2/api_tokens.json")
    second = client.get(first["next_page"], headers=basic(boss.email, secret))
    assert second.status_code == 200, second.text  # the link itself names the account
    assert [t["description"] for t in second.json()["api_tokens"]] == ["second"]
    assert urlsplit(second.json()["previous_page"]).netloc == "acme.localhost"


def test_a_created_at_range_keeps_both_ends(client: TestClient, core: Core,
                                            admin_actor: Actor, admin_auth: dict[str, str],
                                            clock: Clock) -> None:
    for number in range(3):
        create_token(core, admin_actor, description=f"token {number}")
    start = (clock.now - timedelta(hours=1)).isoformat()
    end = (clock.now + timedelta(hours=1)).isoformat()
    query = {"filter[created_at][]": [start, end], "filter[source_type]": ["api_token"],
             "per_page": ["1"]}
    first = client.get("/api/v2/audit_logs.json", params=query, headers=admin_auth).json()
    kept = parse_qs(urlsplit(first["next_page"]).query)
    assert kept["filter[created_at][]"] == [start, end]
    assert kept["filter[source_type]"] == ["api_token"]
    assert kept["page"] == ["2"] and kept["per_page"] == ["1"]
    second = client.get(first["next_page"], headers=admin_auth).json()
    assert second["count"] == first["count"] and len(second["audit_logs"]) == 1


def test_request_filters_are_kept(client: TestClient, admin_auth: dict[str, str]) -> None:
    page = client.get("/api/v2/access_requests.json?state=submitted&mine=true&per_page=1",
                      headers=admin_auth).json()
    assert page["next_page"] is None and page["previous_page"] is None
    later = client.get("/api/v2/access_requests.json?state=submitted&mine=true&page=3",
                       headers=admin_auth).json()
    kept = parse_qs(urlsplit(later["previous_page"]).query)
    assert kept == {"state": ["submitted"], "mine": ["true"], "page": ["2"],
                    "per_page": ["100"]}
