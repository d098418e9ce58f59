"""The Exceptions and Compliance pages in a real browser: a provisioner issues personal,
automation and target tokens and sees each once; the compliance report and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import me_status
from tests.governance_people import PASSWORD, People, cast
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.domain.token_format import looks_like_token
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.compliance_report import compliance_report
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user
from tokenry.present_csv import COMPLIANCE_COLUMNS, compliance_csv

__all__ = ["site"]
SERVICE_USER = "hooks@example.com"


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    people = cast(core, admin_actor)
    create_user(core, admin_actor, email=SERVICE_USER, name="Billing hooks", role="admin")
    return people


def _save_and_take_secret(page: Any, section: Any, button: str) -> tuple[str, str]:
    """Save a form; the one-time secret and the token's name, from a page nobody stores."""
    with page.expect_response(lambda response: response.request.method == "POST") as sent:
        section.get_by_role("button", name=button).click()
    assert sent.value.status == 201
    assert sent.value.headers["cache-control"] == "no-store"
    shown = page.get_by_role("dialog", name="Copy your new API token")
    secret = shown.locator("#new-token-secret").inner_text().strip()
    name = shown.get_by_test_id("new-token-name").inner_text()
    assert looks_like_token(secret)
    assert "only time the full token is shown" in shown.inner_text()
    assert "Standard name" in shown.inner_text()
    return secret, name


def _close(page: Any, secret: str) -> None:
    shown = page.get_by_role("dialog", name="Copy your new API token")
    shown.get_by_role("button", name="I have copied it").click()
    # the dialog's close event removes it (a CSS locator: the closed dialog is hidden
    # at once, so a role locator would call it gone before the event removes it)
    page.locator("#new-token-secret").wait_for(state="detached")
    assert secret not in page.content()  # closing leaves the secret nowhere on the page
    assert page.url.endswith("/admin/exceptions")


def test_a_provisioner_issues_each_kind_and_sees_it_once(
        site: str, browser: Any, client: TestClient, people: People, tmp_path: Path) -> None:
    page = sign_in(browser, site, people.provisioner, PASSWORD)
    try:
        page.goto(f"{site}/admin/exceptions")
        assert page.get_by_role("heading", name="Exception tokens issued").is_visible()
        assert "No exception tokens yet." in page.inner_text("main")
        assert_accessible(page)
        screenshot(page, tmp_path, "exceptions-empty")

        personal = page.get_by_role("region", name="Personal token")
        secret, name = _save_and_take_secret(page, personal, "Save personal token")
        assert name == "Pat Rov - personal"
        assert me_status(client, people.provisioner, secret) == 200
        assert_accessible(page)
        screenshot(page, tmp_path, "exceptions-shown-once")
        _close(page, secret)

        automation = page.get_by_role("region", name="Automation token")
        automation.get_by_label("Use case").fill("Nightly backup")
        secret, name = _save_and_take_secret(page, automation, "Save automation token")
        assert name == "Pat Rov - Nightly backup"
        assert me_status(client, people.provisioner, secret) == 200
        _close(page, secret)

        target = page.get_by_role("region", name="Target token")
        target.get_by_label("Target").fill("Billing webhook")
        target.get_by_label("Service user").fill(SERVICE_USER)
        until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        target.get_by_label("Expires on").fill(until)
        secret, name = _save_and_take_secret(page, target, "Save target token")
        assert name == "Target - Billing webhook"
        assert f"{SERVICE_USER}/token:" in page.get_by_role(
            "dialog", name="Copy your new API token").inner_text()
        assert me_status(client, SERVICE_USER, secret) == 200
        assert me_status(client, people.provisioner, secret) == 401  # bound to the service user
        _close(page, secret)

        page.reload()
        assert secret not in page.content()
        rows = page.locator("table tbody tr")
        assert rows.count() == 3
        row = page.locator("tr", has_text="Target - Billing webhook")
        assert "Target" in row.inner_text() and "Active" in row.inner_text()
        assert until in row.inner_text() and SERVICE_USER in row.inner_text()
        row.get_by_role("link", name="Target - Billing webhook").click()
        page.wait_for_url("**/admin/api_tokens?q=*")
        assert page.locator("tr", has_text="Target - Billing webhook").count() == 1
    finally:
        page.context.close()


def test_form_errors_are_inline_and_others_are_refused(
        site: str, browser: Any, people: People, core: Core, admin_actor: Actor,
        tmp_path: Path) -> None:
    page = sign_in(browser, site, people.provisioner, PASSWORD)
    try:
        page.goto(f"{site}/admin/exceptions")
        page.get_by_role("region", name="Automation token").get_by_role(
            "button", name="Save automation token").click()
        automation = page.get_by_role("region", name="Automation token")
        error = automation.locator("#automation-use_case-error")
        assert "say what the automation or script does" in error.inner_text()
        assert automation.get_by_label("Use case").get_attribute("aria-invalid") == "true"

        target = page.get_by_role("region", name="Target token")
        target.get_by_label("Target").fill("Status page")
        target.get_by_label("Service user").fill("nobody@example.com")
        target.get_by_role("button", name="Save target token").click()
        target = page.get_by_role("region", name="Target token")
        assert "there is no user 'nobody@example.com'" in target.locator(
            "#target-user_email-error").inner_text()
        assert target.get_by_label("Target").input_value() == "Status page"
        assert target.get_by_label("Service user").evaluate("e => e === document.activeElement")
        assert page.locator(".field-error").count() == 1  # only the form that was sent
        assert "No exception tokens yet." in page.inner_text("main")
        assert_accessible(page)
        screenshot(page, tmp_path, "exceptions-errors")

        update_account_settings(core, admin_actor, {"allow_target_tokens": False})
        page.goto(f"{site}/admin/exceptions")
        target = page.get_by_role("region", name="Target token")
        assert "Turned off" in target.inner_text() and "allow_target_tokens" in target.inner_text()
        assert target.get_by_role("button").count() == 0
        assert page.get_by_role("button", name="Save personal token").is_visible()
    finally:
        page.context.close()

    manager = sign_in(browser, site, people.manager, PASSWORD)  # an admin, not a provisioner
    try:
        response = manager.goto(f"{site}/admin/exceptions")
        assert response is not None and response.status == 403
        assert manager.get_by_role("heading", name="Not allowed").is_visible()
        assert "Only a provisioner" in manager.inner_text("main")
        assert_accessible(manager)
    finally:
        manager.context.close()

    agent = sign_in(browser, site, people.agent, PASSWORD)  # neither admin nor provisioner
    try:
        response = agent.goto(f"{site}/admin/compliance")
        assert response is not None and response.status == 403
        assert "Only admins and provisioners" in agent.inner_text("main")
        assert agent.context.request.get(f"{site}/admin/compliance.csv").status == 403
    finally:
        agent.context.close()


def test_the_compliance_page_and_its_csv(site: str, browser: Any, people: People, core: Core,
                                         admin_actor: Actor, tmp_path: Path) -> None:
    page = sign_in(browser, site, people.provisioner, PASSWORD)
    try:
        page.goto(f"{site}/admin/compliance")
        assert page.get_by_role("heading", name="Nothing needs review").is_visible()
        assert_accessible(page)
        screenshot(page, tmp_path, "compliance-empty")

        create_token(core, admin_actor, description="Legacy export")  # unbound, by hand
        page.reload()
        group = page.get_by_role("region", name="Tokens bound to no user")
        assert group.locator("h2 .badge").inner_text() == "1"
        assert "Legacy export" in group.get_by_role("table").inner_text()
        assert page.get_by_role("region", name="Tokens and clients without approval").is_visible()
        assert_accessible(page)
        screenshot(page, tmp_path, "compliance")

        link = page.get_by_role("link", name="Download CSV")
        download = page.context.request.get(site + link.get_attribute("href"))
        assert download.status == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert 'filename="tokenry-compliance-' in download.headers["content-disposition"]
        assert download.headers["cache-control"] == "no-store"
        text = download.text()
        assert text == compliance_csv(compliance_report(core, admin_actor))  # as the CLI prints
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == COMPLIANCE_COLUMNS
        assert {"category": "unbound", "name": "Legacy export"}.items() <= next(
            row for row in rows if row["category"] == "unbound").items()
    finally:
        page.context.close()


def test_both_pages_work_on_a_phone(site: str, browser: Any, people: People, core: Core,
                                    admin_actor: Actor, tmp_path: Path) -> None:
    create_token(core, admin_actor, description="Legacy export")
    page = sign_in(browser, site, people.provisioner, PASSWORD, viewport=PHONE)
    try:
        for path, name in (("/admin/exceptions", "exceptions-phone"),
                           ("/admin/compliance", "compliance-phone")):
            page.goto(f"{site}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} scrolls sideways on a phone"
            assert_accessible(page)
            screenshot(page, tmp_path, name)
    finally:
        page.context.close()
