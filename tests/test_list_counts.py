"""Lists at scale (issue 10), as behaviour on both databases: a Zendesk action that names several
of tokenry's actions pages exactly like the one filtered list it stands for, in every page form;
an offset page's ``count`` stops at a bound and ``next_page`` still says whether more follow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tokenry.core import Core
from tokenry.http.routes import api_tokens
from tokenry.operations import paging
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.storage.models import AuditEvent

# tokenry actions and how Zendesk reads them: update (4 of them), destroy (2), create (1)
ACTIONS = ["deactivate", "update", "approve", "create", "destroy", "revoke", "expire",
           "update", "deactivate"]
START = datetime(2026, 1, 1, tzinfo=UTC)
RANGE = "filter[created_at][]=2026-01-01T00:00:00Z&filter[created_at][]=2026-01-02T00:00:00Z"


def fill(core: Core, account_id: int, events: int = 60) -> None:
    """Events of several actions, two actors, and pairs that share a moment (so the id
    orders them)."""
    with core.db.transaction() as session:
        session.add_all(AuditEvent(
            account_id=account_id, created_at=START + timedelta(minutes=number // 2),
            actor_id=900 + number % 2, actor_label="someone",
            action=ACTIONS[number % len(ACTIONS)], source_type="api_token",
            source_id=number, source_label="t", via="api", changes={}, change_description="")
            for number in range(events))


def expected(core: Core, account_id: int, actions: set[str], *, oldest_first: bool = False,
             actor_id: int | None = None) -> list[int]:
    with core.db.read() as session:
        rows = [(e.created_at, e.id) for e in session.query(AuditEvent).filter(
            AuditEvent.account_id == account_id, AuditEvent.action.in_(actions),
            AuditEvent.created_at >= START) if actor_id is None or e.actor_id == actor_id]
    return [id_ for _, id_ in sorted(rows, reverse=not oldest_first)]


def ids(body: dict) -> list[int]:
    return [event["id"] for event in body["audit_logs"]]


def cursor_walk(client: TestClient, auth: dict[str, str], url: str) -> list[list[int]]:
    pages = []
    while url:
        body = client.get(url, headers=auth).json()
        pages.append(ids(body))
        url = body["links"]["next"]
    return pages


@pytest.mark.parametrize(("zendesk", "tokenry", "query"), [
    ("update", {"deactivate", "update", "approve", "expire"}, ""),
    ("destroy", {"destroy", "revoke"}, "&sort_order=asc"),
    ("update", {"deactivate", "update", "approve", "expire"}, "&filter[actor_id]=901"),
])
def test_a_zendesk_action_pages_as_the_list_of_every_tokenry_action_it_names(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    zendesk: str, tokenry: set[str], query: str,
) -> None:
    fill(core, admin_actor.account_id)
    wanted = expected(core, admin_actor.account_id, tokenry, oldest_first="asc" in query,
                      actor_id=901 if "actor_id" in query else None)
    assert len(wanted) > 7
    base = f"/api/v2/audit_logs.json?filter[action]={zendesk}{query}"
    # cursor pages forwards, then backwards from the last
    pages = cursor_walk(client, admin_auth, f"{base}&page[size]=3")
    assert [i for page in pages for i in page] == wanted
    body = client.get(f"{base}&page[size]=3", headers=admin_auth).json()
    while body["links"]["next"]:
        body = client.get(body["links"]["next"], headers=admin_auth).json()
    back = []
    while body["links"]["prev"]:
        body = client.get(body["links"]["prev"], headers=admin_auth).json()
        back.append(ids(body))
    assert back == pages[-2::-1]
    # numbered pages, each counting the whole list
    numbered: list[int] = []
    url: str | None = f"{base}&per_page=4"
    while url:
        body = client.get(url, headers=admin_auth).json()
        assert body["count"] == len(wanted)
        numbered += ids(body)
        url = body["next_page"]
    assert numbered == wanted
    every = client.get(f"{base}&per_page=100", headers=admin_auth).json()
    assert ids(every) == wanted and every["next_page"] is None


@pytest.mark.parametrize("action", ["", "&filter[action]=update"])
def test_the_count_stops_at_its_bound_and_next_page_still_leads_on(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch, action: str,
) -> None:
    fill(core, admin_actor.account_id)
    monkeypatch.setattr(paging, "COUNT_LIMIT", 5)
    base = f"/api/v2/audit_logs.json?{RANGE}{action}"
    total = len(client.get(f"{base}&per_page=100", headers=admin_auth).json()["audit_logs"])
    assert total > 12

    def page(number: int) -> dict:
        return client.get(f"{base}&page={number}&per_page=3", headers=admin_auth).json()

    first = page(1)
    assert first["count"] == 5 and len(first["audit_logs"]) == 3
    assert parse_qs(urlsplit(first["next_page"]).query)["page"] == ["2"]
    # past the bound, the count reaches the end of the page asked for, and the pages go on
    third = page(3)
    assert third["count"] == 9 and third["next_page"] is not None
    last = (total + 2) // 3
    final = page(last)
    assert final["count"] == total and final["next_page"] is None
    assert len(final["audit_logs"]) == total - 3 * (last - 1)
    beyond = page(last + 1)
    assert beyond["audit_logs"] == [] and beyond["next_page"] is None
    assert beyond["count"] == total


def test_a_short_list_counts_exactly(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
) -> None:
    fill(core, admin_actor.account_id, events=7)
    body = client.get(f"/api/v2/audit_logs.json?{RANGE}&per_page=2", headers=admin_auth).json()
    assert body["count"] == 7 and body["next_page"] is not None


def test_the_whole_token_list_answers_every_token_up_to_the_large_account_limit(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for number in range(104):
        create_token(core, admin_actor, description=f"t{number}")
    whole = client.get("/api/v2/api_tokens.json", headers=admin_auth).json()
    assert len(whole["api_tokens"]) == whole["count"] == 105 and whole["next_page"] is None
    # an account past the limit (only by import) gets its first numbered page, which leads on
    monkeypatch.setattr(api_tokens, "LARGE_LIMIT", 104)
    counts: list[str] = []

    def keep(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "count(" in statement:
            counts.append(statement)

    event.listen(core.db.read_engine, "before_cursor_execute", keep)
    try:
        first = client.get("/api/v2/api_tokens.json?include_users=true",
                           headers=admin_auth).json()
    finally:
        event.remove(core.db.read_engine, "before_cursor_execute", keep)
    assert len(first["api_tokens"]) == 100 and first["count"] == 105
    assert len(counts) == 1, counts  # the whole list's count serves page 1 too
    assert first["users"]  # the side-loading still applies
    second = client.get(first["next_page"], headers=admin_auth).json()
    assert parse_qs(urlsplit(first["next_page"]).query)["include_users"] == ["true"]
    ids = [t["id"] for t in first["api_tokens"] + second["api_tokens"]]
    assert ids == [t["id"] for t in whole["api_tokens"]] and second["next_page"] is None


def test_the_admin_centers_audit_log_says_when_its_count_stopped(
    client: TestClient, core: Core, admin_actor: Actor, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill(core, admin_actor.account_id)
    client.headers["Origin"] = "http://testserver"
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    signed = client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                                         "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    exact = client.get("/admin/audit_log").text
    assert re.search(r'data-testid="event-count">6\d events', exact), exact
    monkeypatch.setattr(paging, "COUNT_LIMIT", 50)
    stopped = client.get("/admin/audit_log").text
    assert 'data-testid="event-count">More than 50 events' in stopped
    assert "Page 1 of more than 1" in stopped and 'rel="next"' in stopped


def test_counts_on_pages_are_written_with_thousands_separators() -> None:
    """Every Admin Center list writes its count alike: "More than 10,000 tokens", as the
    audit log already did (the tokens page had said "10000")."""
    from tokenry.web.render import TEMPLATES

    assert TEMPLATES.env.from_string("{{ 10000 | thousands }}").render() == "10,000"
    for name in ("tokens.html", "people.html", "requests.html", "audit_log.html"):
        source = TEMPLATES.env.loader.get_source(TEMPLATES.env, name)[0]  # type: ignore[union-attr]
        assert "count | thousands" in source, name
