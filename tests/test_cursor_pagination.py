"""Cursor pagination on every list, as Zendesk's (issue 8): ``page[size]``, ``page[after]`` and
``page[before]`` answer ``meta`` and ``links`` and never count the table; offset pagination
stays when they are absent; the API token list answers every token when no page is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.conftest import Clock
from tests.governance_people import People, as_, cast, submit
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user


def walk(client: TestClient, auth: dict[str, str], url: str, key: str,
         direction: str = "next") -> list[list[int]]:
    """Follow ``links.next`` (or ``links.prev``) from ``url``; the ids of each page."""
    pages: list[list[int]] = []
    while url:
        response = client.get(url, headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "count" not in body and "next_page" not in body  # a cursor page never counts
        pages.append([item["id"] for item in body[key]])
        assert body["meta"]["has_more"] == (body["links"]["next" if direction == "next"
                                                          else "prev"] is not None)
        url = body["links"][direction]
        assert len(pages) < 100, "the walk does not end"
    return pages


def offset_ids(client: TestClient, auth: dict[str, str], path: str, key: str) -> list[int]:
    body = client.get(f"{path}?per_page=100", headers=auth).json()
    assert body["next_page"] is None
    return [item["id"] for item in body[key]]


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    return cast(core, admin_actor)


def test_every_list_walks_by_cursor_to_the_same_rows_as_offset_pages(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    people: People,
) -> None:
    for number in range(5):
        create_token(core, admin_actor, description=f"walk {number}")
        create_user(core, admin_actor, email=f"walker{number}@example.com", name=f"W {number}")
        submit(client, people, service_name=f"Service {number}")
    admin = as_(people.provisioner)  # sees every request, and is an admin
    for path, key in [("/api/v2/api_tokens", "api_tokens"), ("/api/v2/users", "users"),
                      ("/api/v2/audit_logs", "audit_logs"),
                      ("/api/v2/access_requests", "access_requests")]:
        expected = offset_ids(client, admin, path, key)
        assert len(expected) >= 5, path
        pages = walk(client, admin, f"{path}.json?page[size]=2", key)
        assert [i for page in pages for i in page] == expected, path
        assert all(len(page) == 2 for page in pages[:-1]), path
        # and back from the last page by links.prev, page for page
        last = client.get(f"{path}.json?page[size]=2", headers=admin).json()
        while last["links"]["next"]:
            last = client.get(last["links"]["next"], headers=admin).json()
        backwards = walk(client, admin, last["links"]["prev"], key, direction="prev")
        assert backwards == pages[-2::-1], path
    assert admin_auth  # the account's first admin exists; the cast acts beside it


def test_the_links_keep_the_host_and_every_filter(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    clock: Clock,
) -> None:
    start = clock.now
    for number in range(4):
        clock.now = start + timedelta(minutes=number)
        create_token(core, admin_actor, description=f"kept {number}")
    clock.now = start + timedelta(hours=2)
    create_token(core, admin_actor, description="outside the range")
    query = (f"filter[source_type]=apitoken&filter[created_at]={start.isoformat()}"
             f"&filter[created_at]={(start + timedelta(minutes=30)).isoformat()}")
    url = f"/api/v2/audit_logs.json?{query.replace('+', '%2B')}&page[size]=3"
    first = client.get(url, headers=admin_auth).json()
    assert len(first["audit_logs"]) == 3
    following = first["links"]["next"]
    assert following.startswith("http://testserver/api/v2/audit_logs.json?")
    kept = parse_qs(urlsplit(following).query)
    assert kept["filter[created_at]"] == [start.isoformat(),
                                          (start + timedelta(minutes=30)).isoformat()]
    assert kept["filter[source_type]"] == ["apitoken"] and kept["page[size]"] == ["3"]
    assert kept["page[after]"] == [first["meta"]["after_cursor"]]
    second = client.get(following, headers=admin_auth).json()
    in_range = client.get(url.replace("&page[size]=3", ""), headers=admin_auth).json()
    assert in_range["count"] == 5  # the four, and the admin's own credential at the start
    assert [e["id"] for e in first["audit_logs"] + second["audit_logs"]] == [
        e["id"] for e in in_range["audit_logs"]]
    assert second["meta"]["has_more"] is False
    assert second["links"]["next"] is None and second["links"]["prev"]


def test_rows_that_share_a_moment_are_neither_lost_nor_repeated(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
) -> None:
    """The clock stands still: every event has the same created_at, so only the id tells
    them apart, and the cursor carries both."""
    for number in range(7):
        create_token(core, admin_actor, description=f"same moment {number}")
    expected = offset_ids(client, admin_auth, "/api/v2/audit_logs", "audit_logs")
    for order in ("", "&sort=created_at"):
        pages = walk(client, admin_auth, f"/api/v2/audit_logs.json?page[size]=3{order}",
                     "audit_logs")
        ids = [i for page in pages for i in page]
        assert ids == (expected if not order else expected[::-1])


def test_a_row_added_during_the_walk_does_not_shift_the_pages(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
) -> None:
    for number in range(3):
        create_token(core, admin_actor, description=f"t{number}")
    tokens = offset_ids(client, admin_auth, "/api/v2/api_tokens", "api_tokens")  # the admin's too
    assert len(tokens) == 4
    first = client.get("/api/v2/api_tokens.json?page[size]=2", headers=admin_auth).json()
    late = create_token(core, admin_actor, description="late").token.id
    client.delete(f"/api/v2/api_tokens/{tokens[1]}", headers=admin_auth)  # on page 1 already
    second = client.get(first["links"]["next"], headers=admin_auth).json()
    assert [t["id"] for t in first["api_tokens"]] == tokens[:2]
    assert [t["id"] for t in second["api_tokens"]] == tokens[2:]  # no repeat after a delete
    third = client.get(second["links"]["next"], headers=admin_auth).json()
    assert [t["id"] for t in third["api_tokens"]] == [late] and not third["meta"]["has_more"]


@contextmanager
def statements(core: Core) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lower())

    engines = {core.db.engine, core.db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def test_a_cursor_page_never_counts_the_table(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
) -> None:
    for number in range(3):
        create_token(core, admin_actor, description=f"c{number}")
    with statements(core) as cursor_sql:
        assert client.get("/api/v2/audit_logs.json?page[size]=2",
                          headers=admin_auth).status_code == 200
    with statements(core) as offset_sql:
        assert client.get("/api/v2/audit_logs.json?per_page=2",
                          headers=admin_auth).status_code == 200
    assert any("count(" in s and "audit_events" in s for s in offset_sql)  # the check can fail
    assert not any("count(" in s and "audit_events" in s for s in cursor_sql)


@pytest.mark.parametrize("query, field", [
    ("page[after]=bm90LWEtY3Vyc29y", "page[after]"),  # base64 of "not-a-cursor"
    ("page[before]=WyJ4Il0", "page[before]"),  # ["x"]: no id
    ("page[after]=W3RydWVd", "page[after]"),  # [true]
    ("page[after]=WzFlOTld", "page[after]"),  # [1e99]
    ("page[after]=a&page[before]=b", "page[before]"),
    ("page=2&page[size]=5", "page"),
    ("page[size]=101", "page[size]"),
    ("page[size]=0", "page[size]"),
    ("page[after]=a%2Fb", "page[after]"),
])
def test_a_cursor_that_this_list_did_not_give_out_is_refused_by_name(
    client: TestClient, admin_auth: dict[str, str], query: str, field: str
) -> None:
    response = client.get(f"/api/v2/api_tokens.json?{query}", headers=admin_auth)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_an_audit_cursor_needs_its_moment_and_its_id(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    # a token list's cursor ([id]) is not an audit log cursor ([created_at, id])
    response = client.get("/api/v2/audit_logs.json?page[after]=WzVd", headers=admin_auth)
    assert response.status_code == 422 and "page[after]" in response.text
    naive = "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgNV0"  # ["2026-01-01T00:00:00", 5]: no offset
    response = client.get(f"/api/v2/audit_logs.json?page[after]={naive}", headers=admin_auth)
    assert response.status_code == 422 and "page[after]" in response.text


def test_the_token_list_answers_every_token_unless_a_page_is_asked_for(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
) -> None:
    """Zendesk's clients read this list in one response: 150 tokens are 150, not 100."""
    for number in range(149):  # and the admin's own
        create_token(core, admin_actor, description=f"many {number}")
    whole = client.get("/api/v2/api_tokens.json", headers=admin_auth).json()
    assert len(whole["api_tokens"]) == whole["count"] == 150
    assert whole["next_page"] is None and whole["previous_page"] is None
    paged = client.get("/api/v2/api_tokens.json?per_page=100", headers=admin_auth).json()
    assert len(paged["api_tokens"]) == 100 and paged["next_page"].endswith("page=2&per_page=100")
    numbered = client.get("/api/v2/api_tokens.json?page=2", headers=admin_auth).json()
    assert len(numbered["api_tokens"]) == 50 and numbered["count"] == 150
    # the other lists keep Zendesk's default page of 100
    audit = client.get("/api/v2/audit_logs.json", headers=admin_auth).json()
    assert len(audit["audit_logs"]) == 100 and audit["next_page"]
