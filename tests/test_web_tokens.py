"""The API tokens page in a real browser: add and see once, edit, deactivate, reactivate,
delete, the audit log link, the filters, at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, basic, me_status
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.domain.token_format import looks_like_token

__all__ = ["site"]


def test_add_a_token_see_it_once_and_manage_it(site: str, browser: Any, client: TestClient,
                                              core: Core, tmp_path: Path) -> None:
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/api_tokens")
        assert page.get_by_test_id("instance").inner_text() == "Default account"
        assert_accessible(page)
        page.get_by_role("link", name="+ Add API token").click()
        dialog = page.get_by_role("dialog", name="Add API token")
        dialog.get_by_label("Description").fill("Nightly export")
        dialog.get_by_role("button", name="Save").click()
        shown = page.get_by_role("dialog", name="Copy your new API token")
        secret = shown.locator("#new-token-secret").inner_text().strip()
        assert looks_like_token(secret)
        assert "only time the full token is shown" in shown.inner_text()
        assert_accessible(page)
        screenshot(page, tmp_path, "token-shown-once")
        shown.get_by_role("button", name="I have copied it").click()
        # the dialog's close event removes it (a CSS locator: the closed dialog is hidden
        # at once, so a role locator would call it gone before the event removes it)
        page.locator("#new-token-secret").wait_for(state="detached")
        assert secret not in page.content()  # closing leaves only the truncated form
        assert page.url.endswith("/admin/api_tokens")
        page.reload()
        assert secret not in page.content()
        row = page.locator("tr", has_text="Nightly export")
        assert "Never used" in row.inner_text()
        assert me_status(client, ADMIN_EMAIL, secret) == 200

        # Edit (description only)
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Edit").click()
        page.get_by_label("Description").fill("Nightly export (warehouse)")
        page.get_by_role("button", name="Save").click()
        assert "The description was saved." in page.inner_text("main")
        row = page.locator("tr", has_text="Nightly export (warehouse)")

        # Deactivate, with a confirmation; the API then refuses the token
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Deactivate").click()
        confirm = page.get_by_role("dialog", name="Are you sure?")
        assert "refused at once" in confirm.inner_text()
        confirm.get_by_role("button", name="Deactivate").click()
        assert "was deactivated" in page.inner_text("main")
        assert me_status(client, ADMIN_EMAIL, secret) == 401
        row = page.locator("tr", has_text="Nightly export (warehouse)")
        assert "Inactive" in row.inner_text()

        # Reactivate, then deactivate again and delete
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Reactivate").click()
        page.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Reactivate").click()
        assert me_status(client, ADMIN_EMAIL, secret) == 200
        row = page.locator("tr", has_text="Nightly export (warehouse)")
        row.get_by_text("Options").click()
        assert row.get_by_role("link", name="Delete").count() == 0  # only when deactivated
        row.get_by_role("link", name="Deactivate").click()
        page.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Deactivate").click()
        row = page.locator("tr", has_text="Nightly export (warehouse)")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Delete").click()
        page.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Delete").click()
        assert "The token was deleted." in page.inner_text("main")
        assert page.locator("tr", has_text="Nightly export").count() == 0
    finally:
        page.context.close()


def test_add_form_errors_are_inline_and_keep_what_was_typed(site: str, browser: Any) -> None:
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/api_tokens")
        page.get_by_role("link", name="+ Add API token").click()
        dialog = page.get_by_role("dialog", name="Add API token")
        dialog.get_by_label("Description").fill("Bound to nobody")
        dialog.get_by_label("Bound user").fill("nobody@example.com")
        dialog.get_by_role("button", name="Save").click()
        dialog = page.get_by_role("dialog", name="Add API token")
        assert "there is no user 'nobody@example.com'" in dialog.inner_text()
        assert dialog.get_by_label("Description").input_value() == "Bound to nobody"
        assert_accessible(page)
    finally:
        page.context.close()


def test_the_tokens_page_works_on_a_phone(site: str, browser: Any, core: Core,
                                          tmp_path: Path) -> None:
    page = sign_in(browser, site, viewport=PHONE)
    try:
        page.goto(f"{site}/admin/api_tokens")
        assert page.get_by_role("link", name="+ Add API token").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the page scrolls sideways on a phone"
        screenshot(page, tmp_path, "tokens-phone")
    finally:
        page.context.close()


def test_each_row_shows_use_expiry_binding_and_request(
    site: str, browser: Any, client: TestClient, core: Core, admin_actor: Any, clock: Any,
    tmp_path: Path
) -> None:
    from datetime import timedelta

    from tests.governance_people import cast, issue
    from tokenry.operations.create_token import create_token
    from tokenry.operations.update_token import update_token

    people = cast(core, admin_actor)
    request = issue(client, people)
    used = create_token(core, admin_actor, description="Dashboard")
    create_token(core, admin_actor, description="Warehouse sync",
                 expires_at=clock.now + timedelta(days=30), user_id=admin_actor.user_id)
    old = create_token(core, admin_actor, description="Legacy export")
    update_token(core, admin_actor, old.token.id, {"active": False})
    assert me_status(client, ADMIN_EMAIL, used.secret) == 200
    core.usage.flush(core.db)
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/api_tokens")
        dashboard = page.locator("tr", has_text="Dashboard")
        assert "just now" in dashboard.inner_text()
        last_used = dashboard.locator("time").nth(1).get_attribute("title")
        assert last_used.endswith("UTC from testclient")  # the exact time and address on hover
        warehouse = page.locator("tr", has_text="Warehouse sync").inner_text()
        assert ADMIN_EMAIL in warehouse and "Never used" in warehouse
        assert (clock.now + timedelta(days=30)).strftime("%Y-%m-%d") in warehouse
        assert "Inactive" in page.locator("tr", has_text="Legacy export").inner_text()
        issued = page.locator("tr", has_text=f"#{request['id']}")
        assert issued.get_by_role("link", name=f"#{request['id']}").get_attribute(
            "href") == f"/requests/{request['id']}"
        page.get_by_label("Status").select_option("inactive")
        page.get_by_role("button", name="Filter").click()
        assert page.locator("tbody tr").count() == 1
        page.get_by_label("Status").select_option("all")
        page.get_by_label("Search").fill("sync")
        page.get_by_role("button", name="Filter").click()
        assert page.locator("tbody tr").all_inner_texts()[0].startswith("Warehouse sync")
        page.get_by_label("Search").fill("")
        page.get_by_role("button", name="Filter").click()
        screenshot(page, tmp_path, "tokens")
    finally:
        page.context.close()


def test_a_token_added_with_scopes_shows_them_and_is_held_to_them(
    site: str, browser: Any, client: TestClient, core: Core, admin_actor: Any, tmp_path: Path
) -> None:
    from tokenry.operations.create_token import create_token

    create_token(core, admin_actor, description="Unlimited")
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/api_tokens")
        page.get_by_role("link", name="+ Add API token").click()
        dialog = page.get_by_role("dialog", name="Add API token")
        dialog.get_by_label("Description").fill("Reporting")
        dialog.get_by_label("Scopes").fill("tickets:delete")
        dialog.get_by_role("button", name="Save").click()
        dialog = page.get_by_role("dialog", name="Add API token")
        assert "is not a scope" in dialog.inner_text()  # inline, what was typed kept
        assert dialog.get_by_label("Scopes").input_value() == "tickets:delete"
        dialog.get_by_label("Scopes").fill("read users")
        dialog.get_by_role("button", name="Save").click()
        shown = page.get_by_role("dialog", name="Copy your new API token")
        secret = shown.locator("#new-token-secret").inner_text().strip()
        shown.get_by_role("button", name="I have copied it").click()
        # the dialog's close event removes it (a CSS locator: the closed dialog is hidden
        # at once, so a role locator would call it gone before the event removes it)
        page.locator("#new-token-secret").wait_for(state="detached")
        row = page.locator("tr", has_text="Reporting")
        assert "read users:read users:write" in row.inner_text()
        assert "full access" in page.locator("tr", has_text="Unlimited").inner_text()
        assert_accessible(page)
        screenshot(page, tmp_path, "tokens-scoped")
        auth = basic(ADMIN_EMAIL, secret)
        assert client.get("/api/v2/api_tokens", headers=auth).status_code == 200
        assert client.post("/api/v2/api_tokens", headers=auth,
                           json={"api_token": {}}).status_code == 403
    finally:
        page.context.close()
