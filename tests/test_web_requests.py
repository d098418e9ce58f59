"""The access-request pages in a real browser, each person in their own session: Ria files,
Bo approves as her manager, Pat issues, the holder reveals the token; denials, a
cancellation, refusals shown as messages, the sign-in round trip, desktop and phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.governance_people import PASSWORD, People, cast, submit
from tests.test_governance import delivery_secret
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.domain.token_format import looks_like_token
from tokenry.operations.context import Actor

__all__ = ["site"]


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    return cast(core, admin_actor)


def person(browser: Any, site: str, email: str, **options: Any) -> Any:
    return sign_in(browser, site, email, PASSWORD, **options)


def assert_fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"


def test_a_request_goes_from_the_form_to_a_revealed_token(
    site: str, browser: Any, core: Core, people: People, client: TestClient, tmp_path: Path
) -> None:
    ria = person(browser, site, people.requester)
    bo = person(browser, site, people.manager)
    pat = person(browser, site, people.provisioner)
    try:
        ria.goto(f"{site}/requests/new")
        assert_accessible(ria)
        ria.get_by_role("button", name="File request").click()
        for name in ("service_name", "purpose", "use_case", "removal_date",
                     "admin_justification"):  # admin level is required by default
            assert ria.locator(f"#{name}-error").is_visible(), name
            assert ria.locator(f"#{name}").get_attribute("aria-invalid") == "true"
        assert "is required" in ria.locator("#purpose-error").inner_text()
        assert_accessible(ria)
        screenshot(ria, tmp_path, "request-form-errors")

        ria.get_by_label("Service name").fill("Zendesk export")
        ria.get_by_label("Purpose").fill("Nightly ticket export")
        ria.get_by_role("button", name="File request").click()
        assert ria.get_by_label("Service name").input_value() == "Zendesk export"
        assert ria.get_by_label("Purpose").input_value() == "Nightly ticket export"
        assert ria.locator("#service_name-error").count() == 0
        assert ria.locator("#use_case-error").is_visible()

        ria.get_by_label("Use case").fill("A script reads tickets for the warehouse")
        removal = core.clock().date() + timedelta(days=30)
        ria.get_by_label("Removal date").fill(removal.isoformat())
        ria.get_by_label("Why admin level").fill("Only admins can read all tickets")
        ria.get_by_role("button", name="File request").click()
        ria.wait_for_url(f"{site}/requests/*")
        request_id = int(ria.url.rsplit("/", 1)[1])
        assert "was filed" in ria.inner_text("main")
        assert ria.get_by_test_id("state").inner_text() == "Waiting for manager"
        assert removal.isoformat() in ria.inner_text("main")
        assert ria.get_by_role("button", name="Approve").count() == 0  # not her decision
        history = ria.get_by_role("table", name=f"History of request #{request_id}")
        assert "Submitted API token request" in history.inner_text()
        assert_accessible(ria)

        bo.goto(f"{site}/requests")
        waiting = bo.get_by_role("table", name="Requests waiting for your decision")
        assert "Zendesk export" in waiting.inner_text()
        assert_accessible(bo)
        screenshot(bo, tmp_path, "requests-desktop")
        waiting.get_by_role("link", name="Zendesk export").click()
        assert "Ria Quest" in bo.inner_text("main")
        bo.get_by_role("button", name="Approve").click()
        assert f"You approved request #{request_id}" in bo.inner_text("main")
        assert bo.get_by_test_id("state").inner_text() == "Waiting for provisioner"
        assert bo.get_by_role("button", name="Approve").count() == 0

        pat.goto(f"{site}/requests")
        pat.get_by_role("table", name="Requests waiting for your decision").get_by_role(
            "link", name=f"#{request_id}").click()
        assert pat.get_by_label("Acts as").input_value() == ""
        assert_accessible(pat)
        screenshot(pat, tmp_path, "request-provisioner-decides")
        pat.get_by_label("Acts as").fill("nobody@example.com")
        pat.get_by_role("button", name="Approve").click()
        assert "there is no user 'nobody@example.com'" in pat.locator(
            "#acts_as-error").inner_text()
        assert pat.get_by_label("Acts as").input_value() == "nobody@example.com"
        pat.get_by_label("Acts as").fill("")
        pat.get_by_role("button", name="Approve").click()
        assert "The token was issued" in pat.inner_text("main")
        assert pat.get_by_test_id("state").inner_text() == "Issued"
        display = pat.get_by_test_id("token-display").inner_text()
        assert "…" in display or "..." in display or len(display) < 30
        assert "Active" in pat.inner_text("main")
        assert_accessible(pat)
        screenshot(pat, tmp_path, "request-issued-desktop")

        ria.goto(f"{site}/deliveries/{delivery_secret(core, request_id)}")
        ria.click("#reveal")
        assert looks_like_token(ria.inner_text("#token").strip())

        ria.goto(f"{site}/requests/{request_id}")
        event = ria.request.get(f"{site}/requests/{request_id}/calendar.ics")
        assert event.status == 200 and event.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VEVENT" in event.text() and "Zendesk export" in event.text()

        pat.reload()
        pat.get_by_role("link", name="Re-send delivery").click()
        pat.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Re-send").click()
        assert "The delivery was re-sent" in pat.inner_text("main")
    finally:
        for page in (ria, bo, pat):
            page.context.close()


def test_the_request_pages_at_phone_width(site: str, browser: Any, people: People,
                                          client: TestClient, tmp_path: Path) -> None:
    request_id = submit(client, people)["id"]
    bo = person(browser, site, people.manager, viewport=PHONE)
    try:
        bo.goto(f"{site}/requests/{request_id}")
        assert bo.get_by_role("button", name="Approve").is_visible()
        assert_fits(bo)
        screenshot(bo, tmp_path, "request-phone")
        bo.goto(f"{site}/requests/new")
        assert_fits(bo)
        screenshot(bo, tmp_path, "request-form-phone")
        bo.goto(f"{site}/requests")
        assert_fits(bo)
        screenshot(bo, tmp_path, "requests-phone")
    finally:
        bo.context.close()


def test_denials_carry_their_reason_and_the_requester_cancels(
    site: str, browser: Any, people: People, client: TestClient, tmp_path: Path
) -> None:
    denied, standard, cancelled = (submit(client, people)["id"] for _ in range(3))
    bo = person(browser, site, people.manager)
    ria = person(browser, site, people.requester)
    try:
        bo.goto(f"{site}/requests/{denied}/deny")  # the page without the dialog
        bo.get_by_role("button", name="Deny", exact=True).click()
        assert "a reason is required" in bo.locator("#deny-reason-error").inner_text()
        assert_accessible(bo)

        bo.goto(f"{site}/requests/{denied}")
        bo.get_by_role("link", name="Deny…").click()
        dialog = bo.get_by_role("dialog", name=f"Deny request #{denied}")
        dialog.get_by_label("Reason").fill("Use the existing warehouse export instead")
        assert_accessible(bo)
        screenshot(bo, tmp_path, "request-deny-dialog")
        dialog.get_by_role("button", name="Deny", exact=True).click()
        assert bo.get_by_test_id("state").inner_text() == "Denied"

        bo.goto(f"{site}/requests/{standard}")
        bo.get_by_role("link", name="Deny…").click()
        bo.get_by_role("dialog", name=f"Deny request #{standard}").get_by_role(
            "button", name="Deny: admin level not required").click()
        assert bo.get_by_test_id("state").inner_text() == "Denied"

        ria.goto(f"{site}/requests/{denied}")
        assert ria.get_by_test_id("denial-reason").inner_text() == \
            "Use the existing warehouse export instead"
        ria.goto(f"{site}/requests/{standard}")
        assert "password (basic) authentication" in ria.get_by_test_id(
            "denial-reason").inner_text()

        ria.goto(f"{site}/requests/{cancelled}")
        ria.get_by_role("link", name="Cancel request").click()
        ria.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Cancel request").click()
        assert ria.get_by_test_id("state").inner_text() == "Cancelled"
        assert ria.get_by_role("link", name="Cancel request").count() == 0
        ria.goto(f"{site}/requests")
        mine = ria.get_by_role("table", name="Requests you filed or hold").inner_text()
        assert mine.count("Denied") == 2 and "Cancelled" in mine
    finally:
        bo.context.close()
        ria.context.close()


def test_refusals_are_messages_on_the_page(site: str, browser: Any, people: People,
                                           client: TestClient) -> None:
    request_id = submit(client, people)["id"]
    agent = person(browser, site, people.agent)
    bo = person(browser, site, people.manager)
    try:
        response = agent.goto(f"{site}/requests/{request_id}")
        assert response.status == 403
        assert "Not allowed" in agent.inner_text("main")
        assert "wait for your approval" in agent.inner_text("main")
        assert agent.get_by_role("button", name="Approve").count() == 0
        assert_accessible(agent)

        bo.goto(f"{site}/requests/{request_id}")
        stale = bo.context.new_page()
        stale.goto(f"{site}/requests/{request_id}")
        bo.get_by_role("button", name="Approve").click()
        stale.get_by_role("button", name="Approve").click()  # a second, stale click
        assert "already approved" in stale.inner_text("main")
        assert "Traceback" not in stale.content() and "{" not in stale.inner_text("main")
    finally:
        agent.context.close()
        bo.context.close()


def test_signing_in_leads_back_to_the_request(site: str, browser: Any, people: People,
                                              client: TestClient) -> None:
    request_id = submit(client, people)["id"]
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{site}/requests/{request_id}")
        assert page.url == f"{site}/login?next=/requests/{request_id}"
        page.get_by_label("Email").fill(people.requester)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{site}/requests/{request_id}")
        assert f"Request #{request_id}" in page.inner_text("h1")
    finally:
        context.close()


def test_a_provisioner_rotates_the_calendar_address_and_sees_it_once(
    site: str, browser: Any, people: People, client: TestClient, tmp_path: Path
) -> None:
    pat = person(browser, site, people.provisioner)
    try:
        pat.goto(f"{site}/requests")
        assert "no calendar address yet" in pat.inner_text("main")
        pat.get_by_role("link", name="Create the address").click()
        pat.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Create").click()
        shown = pat.get_by_role("dialog", name="Your new calendar address")
        url = shown.locator("#feed-url-secret").inner_text().strip()
        assert "/calendar/" in url and url.endswith(".ics")
        assert_accessible(pat)
        screenshot(pat, tmp_path, "calendar-address-once")
        feed = client.get(url[url.index("/calendar/"):])
        assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text

        shown.get_by_role("button", name="I have subscribed").click()
        pat.goto(f"{site}/requests")
        assert url not in pat.content()
        pat.get_by_role("link", name="Rotate the address").click()
        pat.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Rotate").click()
        rotated = pat.locator("#feed-url-secret").inner_text().strip()
        assert rotated != url
        assert client.get(url[url.index("/calendar/"):]).status_code == 404
    finally:
        pat.context.close()
