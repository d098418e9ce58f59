"""The Settings page in a real browser: the API access switches (token access off asks first
and deactivates every token), a governance number with an inline range error then saved and
audited, a write-only secret set and cleared, at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, me_status
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.operations.account_settings import get_account_settings
from tokenry.operations.audit_log import AuditFilter, list_audit_events
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token

__all__ = ["site"]


def switch(page: Any, name: str) -> Any:
    return page.locator(f"tr[data-setting={name}]")


def test_turning_token_access_off_asks_first_then_the_api_refuses_tokens(
        site: str, browser: Any, client: TestClient, admin_secret: str,
        admin_actor: Actor, core: Core, tmp_path: Path) -> None:
    assert me_status(client, ADMIN_EMAIL, admin_secret) == 200
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/settings")
        assert_accessible(page)
        screenshot(page, tmp_path, "settings-desktop")
        assert page.get_by_role("button", name="Save OAuth settings").count() == 1
        assert "On" in switch(page, "token_access").inner_text()
        switch(page, "token_access").get_by_role("link", name="Turn off").click()
        confirm = page.get_by_role("dialog", name="Are you sure?")
        assert "Every active API token of this account is deactivated at once" in \
            confirm.inner_text()
        assert_accessible(page)
        confirm.get_by_role("button", name="Turn token access off").click()
        assert "Every active API token was deactivated" in page.inner_text("main")
        assert "Off" in switch(page, "token_access").inner_text()
        assert me_status(client, ADMIN_EMAIL, admin_secret) == 401

        page.get_by_role("button", name="Turn token access on").click()
        assert "Token access is now on." in page.inner_text("main")
        assert me_status(client, ADMIN_EMAIL, admin_secret) == 401  # reactivates nothing
        fresh = create_token(core, admin_actor, description="after").secret
        assert me_status(client, ADMIN_EMAIL, fresh) == 200
    finally:
        page.context.close()


def test_the_confirmation_is_a_page_of_its_own_without_the_script(site: str,
                                                                  browser: Any) -> None:
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/settings/api/token_access/off")
        assert "deactivated at once" in page.inner_text("main")
        assert_accessible(page)
        page.get_by_role("link", name="Cancel").click()
        page.wait_for_url("**/admin/settings")
    finally:
        page.context.close()


def test_a_governance_number_out_of_range_is_refused_inline_then_saved_and_audited(
        site: str, browser: Any, core: Core, admin_actor: Actor) -> None:
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/settings")
        lifetime = page.get_by_label("Longest token lifetime")
        assert lifetime.get_attribute("type") == "number"
        assert lifetime.get_attribute("max") == "3650"
        assert page.get_by_label("Expiry reminders").input_value() == "7,1"
        lifetime.fill("99999")
        page.get_by_role("button", name="Save governance settings").click()
        lifetime = page.get_by_label("Longest token lifetime")
        assert lifetime.get_attribute("aria-invalid") == "true"
        assert lifetime.input_value() == "99999"  # what was typed is kept
        assert "must be between 1 and 3650" in page.locator(
            "#setting-max_request_lifetime_days-error").inner_text()
        assert_accessible(page)
        assert get_account_settings(core, admin_actor).max_request_lifetime_days == 365

        lifetime.fill("400")
        page.get_by_label("Weekly compliance report").uncheck()
        page.get_by_role("button", name="Save governance settings").click()
        assert "The governance settings were saved." in page.inner_text("main")
        assert page.get_by_label("Longest token lifetime").input_value() == "400"
        assert not page.get_by_label("Weekly compliance report").is_checked()
        saved = get_account_settings(core, admin_actor)
        assert (saved.max_request_lifetime_days, saved.weekly_compliance_report) == (400, False)
        assert saved.reminder_days == (7, 1)  # untouched
        events = list_audit_events(core, admin_actor,
                                   AuditFilter(source_type="account_setting")).items
        changed = {e.source_label: e.changes for e in events}
        assert changed["max_request_lifetime_days"] == {"max_request_lifetime_days": [365, 400]}
        assert set(changed) == {"max_request_lifetime_days", "weekly_compliance_report"}
        assert events[0].via == "web"
    finally:
        page.context.close()


def test_a_secret_is_write_only_set_then_cleared(site: str, browser: Any, core: Core,
                                                admin_actor: Actor) -> None:
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/settings")
        secret = page.locator("#setting-webhook_secret")
        assert "not set" in page.locator("label[for=setting-webhook_secret]").inner_text()
        secret.fill("a webhook signing secret")
        page.get_by_role("button", name="Save notifications settings").click()
        assert "a webhook signing secret" not in page.content()
        assert "not set" not in page.locator("label[for=setting-webhook_secret]").inner_text()
        assert get_account_settings(core, admin_actor).webhook_secret  # set (sealed at rest)
        page.get_by_label("Clear the webhook secret").check()
        page.get_by_role("button", name="Save notifications settings").click()
        assert "not set" in page.locator("label[for=setting-webhook_secret]").inner_text()
        assert get_account_settings(core, admin_actor).webhook_secret == ""
    finally:
        page.context.close()


def test_the_settings_page_works_on_a_phone(site: str, browser: Any, tmp_path: Path) -> None:
    page = sign_in(browser, site, viewport=PHONE)
    try:
        page.goto(f"{site}/admin/settings")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)
        screenshot(page, tmp_path, "settings-phone")
    finally:
        page.context.close()
