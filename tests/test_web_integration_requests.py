"""Integration requests in the Admin Center: the plain form (no script, no stylesheet) files
an API token or an integration and keeps what was typed when it is refused; the request page,
the lists and the OAuth clients page show what was asked for and what was issued; and in a
real browser, the integration's fields show only when an integration is chosen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.governance_people import PASSWORD, People, add_user, approve, cast, issue, submit
from tests.test_web_sessions import csrf_of, sign_in
from tests.web import PHONE, assert_accessible, screenshot, site
from tests.web import sign_in as browser_sign_in
from tokenry.core import Core
from tokenry.http.app import create_app
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, OAuthClient

__all__ = ["site"]
BOT = "integration.bot@example.com"
CALLBACK = "https://sync.example.com/callback"


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    people = cast(core, admin_actor)
    add_user(core, admin_actor, BOT)
    update_account_settings(core, admin_actor, {"integration_bot": BOT})
    return people


@pytest.fixture
def as_person(core: Core) -> Iterator[Any]:
    """A signed-in browser without script or stylesheet: one TestClient (cookie jar) each."""
    opened: list[TestClient] = []

    def open_as(email: str) -> TestClient:
        browser = TestClient(create_app(core.settings, core))
        browser.__enter__()
        opened.append(browser)
        assert sign_in(browser, email, PASSWORD).status_code == 303
        return browser

    yield open_as
    for browser in opened:
        browser.__exit__(None, None, None)


def form(core: Core, **fields: str) -> dict[str, str]:
    return {"service_name": "Billing sync", "purpose": "Keep invoices in step",
            "use_case": "Reads tickets and users every hour",
            "removal_date": (core.clock().date() + timedelta(days=30)).isoformat(),
            "admin_required": "yes", "admin_justification": "It reads every ticket",
            "kind": "integration", "scopes": "tickets:read users:read",
            "client_kind": "confidential", "redirect_uris": CALLBACK, **fields}


def file(browser: TestClient, fields: dict[str, str]) -> Any:
    page = browser.get("/requests/new")
    return browser.post("/requests/new", data={**fields, "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)


def stored(core: Core, request_id: int) -> AccessRequest:
    with core.db.read() as session:
        found = session.get(AccessRequest, request_id)
    assert found is not None
    return found


def filed_id(response: Any) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def checked(html: str, name: str) -> str | None:
    """The value of the radio button ``name`` that the page has chosen."""
    found = re.search(rf'name="{name}" type="radio" value="([a-z_]+)" checked', html)
    return found.group(1) if found else None


def test_the_plain_form_files_an_integration_and_keeps_what_was_typed_when_refused(
        core: Core, people: People, as_person: Any) -> None:
    ria = as_person(people.requester)
    blank = ria.get("/requests/new").text
    assert checked(blank, "kind") == "api_token" and checked(blank, "client_kind") == \
        "confidential"

    refused = file(ria, form(core, scopes="", client_kind="public"))
    assert refused.status_code == 422
    error = re.search(r'id="scopes-error">([^<]*)<', refused.text)
    assert error and "names the scopes it needs" in error.group(1)
    assert 'id="scopes" name="scopes" type="text" autocomplete="off" spellcheck="false" ' \
        'value="" aria-invalid="true"' in refused.text
    assert checked(refused.text, "kind") == "integration"
    assert checked(refused.text, "client_kind") == "public"
    assert f">{CALLBACK}</textarea>" in refused.text and 'value="Billing sync"' in refused.text

    unknown = file(ria, form(core, kind="robot"))
    assert unknown.status_code == 422 and 'id="kind-error"' in unknown.text
    assert "use api_token or integration" in unknown.text

    request_id = filed_id(file(ria, form(core, redirect_uris=f"{CALLBACK}\n\n"
                                                             "http://localhost:8080/cb\n")))
    made = stored(core, request_id)
    assert (made.kind, made.scopes, made.client_kind) == (
        "integration", ["tickets:read", "users:read"], "confidential")
    assert made.redirect_uris == [CALLBACK, "http://localhost:8080/cb"]
    assert made.admin_required


def test_an_api_token_request_leaves_out_the_integration_fields_it_hides(
        core: Core, people: People, as_person: Any) -> None:
    ria = as_person(people.requester)
    scoped = stored(core, filed_id(file(ria, form(
        core, kind="api_token", scopes="users:read", client_kind="public"))))
    assert (scoped.kind, scoped.scopes, scoped.client_kind) == ("api_token", ["users:read"], None)
    assert not scoped.redirect_uris
    unscoped = stored(core, filed_id(file(ria, form(core, kind="api_token", scopes=""))))
    assert unscoped.scopes is None
    page = ria.get(f"/requests/{unscoped.id}").text
    assert "none: the token acts with its user's full rights" in page
    assert "Client kind" not in page


def test_the_pages_show_what_was_asked_for_and_the_client_that_was_issued(
        core: Core, people: People, as_person: Any, client: TestClient) -> None:
    request_id = submit(client, people, kind="integration", scopes="tickets:read users:read",
                        redirect_uris=[CALLBACK])["id"]
    assert approve(client, people.manager, request_id, "manager").status_code == 200
    pat = as_person(people.provisioner)
    deciding = pat.get(f"/requests/{request_id}").text
    assert 'name="acts_as"' not in deciding and "Acts as" not in deciding
    assert "creates its OAuth client as the account's Integration bot" in deciding
    approved = pat.post(f"/requests/{request_id}/approve", data={
        "csrf_token": csrf_of(deciding), "stage": "provisioner"})
    assert "Its OAuth client was created; the holder gets the client secret" in approved.text
    client_id = stored(core, request_id).oauth_client_id
    assert client_id is not None
    issued = pat.get(f"/requests/{request_id}").text
    assert "Re-send delivery" in issued  # a confidential client's secret can be re-sent

    ria = as_person(people.requester)
    page = ria.get(f"/requests/{request_id}").text
    assert '<dd data-testid="kind">Integration (OAuth client)</dd>' in page
    assert "<code>tickets:read</code> <code>users:read</code>" in page
    assert "<dt>Client kind</dt><dd>Confidential</dd>" in page and CALLBACK in page
    assert f'href="/admin/oauth_clients#client-{client_id}"' in page
    assert f"<code>request-{request_id}-zendesk-export</code>" in page
    listed = ria.get("/requests").text
    row = listed[listed.index(f'data-request-id="{request_id}"'):]
    assert "Integration" in row[:800] and "tickets:read users:read" in row[:800]

    clients = pat.get("/admin/oauth_clients").text
    row = clients[clients.index(f'id="client-{client_id}"'):]
    row = row[:row.index("</tr>")]
    removal = stored(core, request_id).removal_date.isoformat()
    assert "Active" in row and f">{removal}</time>" in row
    assert f'issued for <a href="/requests/{request_id}">request #{request_id}</a>' in row
    with core.db.transaction() as session:
        made = session.get(OAuthClient, client_id)
        assert made is not None
        made.active = False
    clients = pat.get("/admin/oauth_clients").text
    assert "Switched off" in clients[clients.index(f'id="client-{client_id}"'):]


def test_an_extension_form_starts_from_what_the_extended_integration_asked(
        core: Core, people: People, as_person: Any, client: TestClient) -> None:
    extended = issue(client, people, kind="integration", scopes="users:read",
                     client_kind="public", redirect_uris=[CALLBACK])
    ria = as_person(people.requester)
    page = ria.get(f"/requests/new?extends={extended['id']}").text
    assert checked(page, "kind") == "integration" and checked(page, "client_kind") == "public"
    assert 'value="users:read"' in page and f">{CALLBACK}</textarea>" in page
    later = (core.clock().date() + timedelta(days=60)).isoformat()
    extension = stored(core, filed_id(file(ria, form(
        core, extends_request_id=str(extended["id"]), removal_date=later, scopes="users:read",
        client_kind="public"))))
    assert extension.extends_request_id == extended["id"] and extension.kind == "integration"
    changed = file(ria, form(core, extends_request_id=str(extended["id"]), removal_date=later,
                             scopes="users:read tickets:read", client_kind="public"))
    assert changed.status_code == 422 and 'id="scopes-error"' in changed.text


def assert_fits(page: Any) -> None:
    """Neither the page nor any of its tables scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    wide = page.evaluate("[...document.querySelectorAll('.table-wrap')]"
                         ".filter(t => t.scrollWidth > t.clientWidth + 1).length")
    assert wide == 0, "a table scrolls sideways"


def test_filing_an_integration_in_the_browser(site: str, browser: Any, core: Core,
                                              people: People, client: TestClient,
                                              tmp_path: Path) -> None:
    ria = browser_sign_in(browser, site, people.requester, PASSWORD)
    pat = browser_sign_in(browser, site, people.provisioner, PASSWORD)
    phone = browser_sign_in(browser, site, people.requester, PASSWORD, viewport=PHONE)
    try:
        ria.goto(f"{site}/requests/new")
        assert ria.locator("#kind-api_token").is_checked()
        assert not ria.get_by_label("Redirect URIs").is_visible()
        assert ria.locator("#admin_required").is_visible()
        ria.locator("#kind-integration").check()
        assert ria.get_by_label("Redirect URIs").is_visible()
        assert ria.locator("#client_kind-confidential").is_checked()
        assert not ria.locator("#admin_required").is_visible()
        assert_accessible(ria)

        ria.get_by_label("Service name").fill("Billing sync")
        ria.get_by_label("Purpose").fill("Keep invoices in step with tickets")
        ria.get_by_label("Use case").fill("Reads tickets and users every hour")
        removal = core.clock().date() + timedelta(days=30)
        ria.get_by_label("Removal date").fill(removal.isoformat())
        ria.get_by_label("Redirect URIs").fill(CALLBACK)
        ria.get_by_label("Why admin level").fill("It reads every ticket")
        screenshot(ria, tmp_path, "integration-request-form")
        ria.get_by_role("button", name="File request").click()
        assert "names the scopes it needs" in ria.locator("#scopes-error").inner_text()
        assert ria.locator("#kind-integration").is_checked()
        assert ria.get_by_label("Redirect URIs").input_value() == CALLBACK
        assert_accessible(ria)
        screenshot(ria, tmp_path, "integration-request-form-error")

        ria.get_by_label("Scopes").fill("tickets:read users:read")
        ria.get_by_role("button", name="File request").click()
        ria.wait_for_url(f"{site}/requests/*")
        request_id = int(ria.url.rsplit("/", 1)[1])
        assert ria.get_by_test_id("kind").inner_text() == "Integration (OAuth client)"
        assert ria.get_by_test_id("scopes").inner_text() == "tickets:read users:read"
        assert CALLBACK in ria.inner_text("main")
        assert_accessible(ria)
        screenshot(ria, tmp_path, "integration-request-desktop")

        assert approve(client, people.manager, request_id, "manager").status_code == 200
        pat.goto(f"{site}/requests/{request_id}")
        assert pat.get_by_label("Acts as").count() == 0
        assert_accessible(pat)
        screenshot(pat, tmp_path, "integration-request-provisioner-decides")
        pat.get_by_role("button", name="Approve").click()
        assert "Its OAuth client was created" in pat.inner_text("main")
        pat.get_by_test_id("client-link").click()
        pat.wait_for_url(f"{site}/admin/oauth_clients#client-*")
        row = pat.locator(pat.url[pat.url.index("#"):])
        assert "Active" in row.inner_text() and removal.isoformat() in row.inner_text()
        assert_fits(pat)
        assert_accessible(pat)
        screenshot(pat, tmp_path, "oauth-clients-with-integration")
        ria.goto(f"{site}/requests")
        mine = ria.get_by_role("table", name="Requests you filed or hold").inner_text()
        assert "Integration: tickets:read users:read" in mine
        assert_fits(ria)
        screenshot(ria, tmp_path, "requests-with-integration-desktop")

        for path, name in ((f"/requests/{request_id}", "integration-request-phone"),
                           ("/requests", "requests-with-integration-phone"),
                           ("/admin/oauth_clients", "oauth-clients-integration-phone")):
            phone.goto(f"{site}{path}")
            screenshot(phone, tmp_path, name)
            assert_fits(phone)
        phone.goto(f"{site}/requests/new")
        phone.locator("#kind-integration").check()
        assert_fits(phone)
        screenshot(phone, tmp_path, "integration-request-form-phone")
    finally:
        for page in (ria, pat, phone):
            page.context.close()
