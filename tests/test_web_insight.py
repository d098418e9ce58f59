"""The Activity tab and the Audit log in a real browser: real API traffic read back from the
chart and the top-source tables, the per-token views from the tokens page's row menu, the audit
log's filters and pages, and bad filter input answered on the page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, Clock, basic
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.update_token import update_token
from tokenry.operations.users import create_user

__all__ = ["site"]


# (hours ago, token, path, requests): a day of traffic, and a little more for the week
SCHEDULE = [
    (0, "Nightly export", "/api/v2/users/me.json", 3),
    (0, "Dashboard", "/api/v2/api_tokens.json", 1),
    (2, "Dashboard", "/api/v2/api_tokens.json", 4),
    (5, "Nightly export", "/api/v2/audit_logs.json", 6),
    (6, "Nightly export", "/api/v2/users/me.json", 5),
    (9, "Warehouse sync", "/api/v2/users/me.json", 2),
    (13, "Dashboard", "/api/v2/api_tokens.json", 3),
    (17, "Nightly export", "/api/v2/audit_logs.json", 9),
    (18, "Warehouse sync", "/api/v2/users/me.json", 4),
    (21, "Dashboard", "/api/v2/api_tokens.json", 2),
    (30, "Nightly export", "/api/v2/users/me.json", 5),
    (100, "Warehouse sync", "/api/v2/users/me.json", 3),
]


def _traffic(client: TestClient, core: Core, admin_actor: Actor, clock: Clock) -> dict[str, int]:
    """Real API requests made at the SCHEDULE's times, counted and flushed; token ids by name."""
    create_user(core, admin_actor, email="sam@example.com", name="Sam", role="admin")
    callers = {"Nightly export": ADMIN_EMAIL, "Dashboard": ADMIN_EMAIL,
               "Warehouse sync": "sam@example.com"}
    secrets, ids = {}, {}
    for name, email in callers.items():
        created = create_token(core, admin_actor, description=name,
                               user_id=None if email == ADMIN_EMAIL else 2)
        secrets[name], ids[name] = created.secret, created.token.id
    now = clock.now
    try:
        for hours_ago, name, path, count in SCHEDULE:
            clock.now = now - timedelta(hours=hours_ago)
            for _ in range(count):
                answer = client.get(path, headers=basic(callers[name], secrets[name]))
                assert answer.status_code == 200, answer.text
    finally:
        clock.now = now
    core.usage.flush(core.db)
    return ids


def _rows(page: Any, table: str) -> list[list[str]]:
    section = page.get_by_role("region", name=table)
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in section.locator("tbody tr").all()]


def test_activity_shows_real_requests_by_token_caller_and_endpoint(
        site: str, browser: Any, client: TestClient, core: Core, admin_actor: Actor,
        clock: Clock, tmp_path: Path) -> None:
    nightly = _traffic(client, core, admin_actor, clock)["Nightly export"]
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/api_tokens")
        page.get_by_role("link", name="Activity").click()
        page.wait_for_url("**/admin/api_tokens/activity")
        assert page.get_by_role("heading", name="Requests in the last 24 hours").is_visible()
        assert page.get_by_role("link", name="Activity").get_attribute("aria-current") == "page"
        assert page.get_by_test_id("total").inner_text() == "39"
        chart = page.get_by_role("img", name=re.compile(r"^Bar chart: 39 API requests"))
        assert chart.locator("rect.bar").count() == 9  # the busy hours of the last day
        numbers = page.locator("details table tbody tr")
        assert numbers.count() == 24
        assert sum(int(n) for n in page.locator("details td.num").all_text_contents()) == 39
        assert _rows(page, "Top tokens")[0][0].startswith("Nightly export")
        assert [row[-1] for row in _rows(page, "Top tokens")] == ["23", "10", "6"]
        assert _rows(page, "Top callers") == [[f"{ADMIN_EMAIL}\nfrom testclient", "33"],
                                              ["sam@example.com\nfrom testclient", "6"]]
        assert _rows(page, "Top endpoints") == [["GET /api/v2/audit_logs", "15"],
                                                ["GET /api/v2/users/me", "14"],
                                                ["GET /api/v2/api_tokens", "10"]]
        assert_accessible(page)
        screenshot(page, tmp_path, "activity")

        period = page.get_by_role("navigation", name="Period")
        period.get_by_role("link", name="7d").click()
        page.wait_for_url("**period=7d")
        assert period.get_by_role("link", name="7d").get_attribute("aria-current") == "true"
        assert page.get_by_role("heading", name="Requests in the last 7 days").is_visible()
        assert page.get_by_test_id("total").inner_text() == "47"
        assert page.locator("details table tbody tr").count() == 28
        assert_accessible(page)

        # one token's activity, from the top-tokens table and back
        page.get_by_role("region", name="Top tokens").get_by_role(
            "link", name="Nightly export").click()
        page.wait_for_url(f"**token_id={nightly}")
        assert "Activity of Nightly export" in page.get_by_role("heading", level=1).inner_text()
        assert page.get_by_test_id("total").inner_text() == "28"
        assert page.get_by_role("region", name="Top tokens").count() == 0
        assert "period=7d" in page.url
        page.get_by_role("link", name="← Activity of every token").click()
        assert page.get_by_test_id("total").inner_text() == "47"

        unused = create_token(core, admin_actor, description="Unused").token.id
        page.goto(f"{site}/admin/api_tokens/activity?period=24h&token_id={unused}")
        assert "No API requests in the last 24 hours made with this token" in page.inner_text(
            "main")
        assert page.get_by_role("img").count() == 0
        assert_accessible(page)
    finally:
        page.context.close()


def test_view_activity_from_the_row_menu_and_at_phone_width(
        site: str, browser: Any, client: TestClient, core: Core, admin_actor: Actor,
        clock: Clock, tmp_path: Path) -> None:
    nightly = _traffic(client, core, admin_actor, clock)["Nightly export"]
    page = sign_in(browser, site, viewport=PHONE)
    try:
        page.goto(f"{site}/admin/api_tokens/activity")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("svg.activity-chart text.time:not(.minor)").first.is_visible()
        assert not page.locator("svg.activity-chart text.time.minor").first.is_visible()
        assert_accessible(page)
        screenshot(page, tmp_path, "activity-phone")

        page.goto(f"{site}/admin/api_tokens")
        row = page.locator("tr", has_text="Nightly export")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="View activity").click()
        page.wait_for_url(f"**/admin/api_tokens/activity?token_id={nightly}")
        assert "Nightly export" in page.get_by_role("heading", level=1).inner_text()
        assert page.get_by_test_id("total").inner_text() == "23"
        assert _rows(page, "Top callers") == [[f"{ADMIN_EMAIL}\nfrom testclient", "23"]]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)
    finally:
        page.context.close()


def test_activity_answers_bad_addresses_on_the_page(site: str, browser: Any) -> None:
    page = sign_in(browser, site)
    try:
        response = page.goto(f"{site}/admin/api_tokens/activity?period=1y&token_id=abc")
        assert response is not None and response.status == 200
        alerts = page.get_by_role("alert").all_inner_texts()
        assert any("no period '1y'" in text for text in alerts)
        assert any("'abc' is not a token id" in text for text in alerts)
        assert "No API requests in the last 24 hours" in page.inner_text("main")
        response = page.goto(f"{site}/admin/api_tokens/activity?token_id=999999")
        assert response is not None and response.status == 404
        assert "There is no API token with id 999999" in page.inner_text("main")
    finally:
        page.context.close()


def _changes(event: Any) -> list[tuple[str, str, str]]:
    """An event's ``field: before → after`` rows."""
    return [(row.locator("th").inner_text(), row.locator(".before").inner_text(),
             row.locator(".after").inner_text())
            for row in event.locator("table.changes tr").all()]


def test_audit_log_shows_token_changes_before_and_after_and_filters_them(
        site: str, browser: Any, client: TestClient, core: Core, clock: Clock,
        admin_auth: dict[str, str], tmp_path: Path) -> None:
    made = client.post("/api/v2/api_tokens.json", headers=admin_auth,
                       json={"api_token": {"description": "Nightly export"}})
    assert made.status_code == 201, made.text
    token_id = made.json()["api_token"]["id"]
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/api_tokens")
        row = page.locator("tr", has_text="Nightly export")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Deactivate").click()
        page.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Deactivate").click()
        assert "was deactivated" in page.inner_text("main")

        row = page.locator("tr", has_text="Nightly export")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="View audit log").click()
        page.wait_for_url(f"**/admin/audit_log?token_id={token_id}")
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading.startswith("Audit log of Nightly export (tkry_")
        events = page.locator("table.audit > tbody > tr")
        assert events.count() == 2
        newest, oldest = events.nth(0), events.nth(1)
        assert "deactivate" in newest.inner_text() and "session" in newest.inner_text()
        assert _changes(newest) == [("active", "yes", "no")]
        assert "Deactivated tkry_" in newest.inner_text()
        assert ("description", "(none)", "Nightly export") in _changes(oldest)
        credential = oldest.get_by_role("link", name=re.compile(r"^token \d+$"))
        assert credential.count() == 1  # made through the API, with the admin's token
        assert newest.locator("time").get_attribute("title") == clock.now.strftime(
            "%Y-%m-%d %H:%M UTC")
        assert_accessible(page)
        screenshot(page, tmp_path, "audit-log-token")

        page.get_by_label("Action").select_option("deactivate")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url("**action=deactivate**")
        assert f"token_id={token_id}" in page.url
        assert events.count() == 1 and "Audit log of Nightly export" in heading

        today = clock.now.date()
        page.get_by_label("Action").select_option("")
        page.get_by_label("From", exact=True).fill(today.isoformat())
        page.get_by_label("To", exact=True).fill(today.isoformat())
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(f"**from={today.isoformat()}**")
        assert events.count() == 2
        page.get_by_label("From", exact=True).fill((today + timedelta(days=1)).isoformat())
        page.get_by_label("To", exact=True).fill("")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(f"**from={(today + timedelta(days=1)).isoformat()}&to=")
        assert "No audit events match these filters" in page.inner_text("main")

        page.goto(f"{site}/admin/audit_log?actor={ADMIN_EMAIL}")
        assert page.get_by_label("Actor").input_value() == ADMIN_EMAIL
        assert page.locator("table.audit > tbody > tr").count() >= 3  # and the first token
        assert "Audit log of" not in page.get_by_role("heading", level=1).inner_text()
        screenshot(page, tmp_path, "audit-log")
    finally:
        page.context.close()


def test_audit_log_pages_keep_the_filters_and_bad_input_is_named_on_the_page(
        site: str, browser: Any, core: Core, admin_actor: Actor, tmp_path: Path) -> None:
    token = create_token(core, admin_actor, description="Flaky job").token
    for n in range(55):
        update_token(core, admin_actor, token.id, {"description": f"Flaky job v{n}"})
    page = sign_in(browser, site, viewport=PHONE)
    try:
        page.goto(f"{site}/admin/audit_log?token_id={token.id}&action=update&actor=1")
        assert page.get_by_test_id("event-count").inner_text().startswith("55 events")
        assert page.get_by_text("Page 1 of 2").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("link", name="Next →").click()
        page.wait_for_url("**page=2")
        for kept in (f"token_id={token.id}", "action=update", "actor=1"):
            assert kept in page.url
        assert page.locator("table.audit > tbody > tr").count() == 5
        assert "Flaky job v4" in page.inner_text("main")
        assert_accessible(page)
        screenshot(page, tmp_path, "audit-log-phone")
        page.get_by_role("link", name="← Previous").click()
        page.wait_for_url("**page=1")
        assert page.locator("table.audit > tbody > tr").count() == 50

        response = page.goto(f"{site}/admin/audit_log?token_id=abc&from=2027-13-45"
                             "&actor=nobody@example.com&action=explode")
        assert response is not None and response.status == 422
        assert response.headers["content-type"].startswith("text/html")
        problems = page.get_by_role("alert").inner_text()
        for said in ("Token: Enter a token id", "From: Enter a date such as",
                     "Actor: There is no user 'nobody@example.com'",
                     "Action: Choose an action from the list"):
            assert said in problems
        assert page.get_by_label("Token id").get_attribute("aria-invalid") == "true"
        assert page.get_by_label("Token id").input_value() == "abc"
        assert "Fix the filters above" in page.inner_text("main")
        assert_accessible(page)

        page.goto(f"{site}/admin/audit_log?from=2027-05-02&to=2027-05-01")
        assert "The end date is before the start date" in page.get_by_role("alert").inner_text()
        page.goto(f"{site}/admin/audit_log?page=zero")
        assert "There is no such page" in page.get_by_role("alert").inner_text()
        assert page.locator("table.audit > tbody > tr").count() == 50
    finally:
        page.context.close()
