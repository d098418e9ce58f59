"""The Activity tab and the Audit log in a real browser: real API traffic read back from the
chart and the top-source tables, the per-token views from the tokens page's row menu, the audit
log's filters and pages, and bad filter input answered on the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, basic
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.update_token import update_token
from tokenry.web.charts import bar_chart, nice_ceiling, ticks

__all__ = ["site"]


def test_the_chart_draws_a_bar_per_busy_hour_with_times_and_a_summary() -> None:
    start = datetime(2027, 3, 4, 11, tzinfo=UTC)
    points = [(start + timedelta(hours=i), 0) for i in range(24)]
    points[3], points[23] = (points[3][0], 7), (points[23][0], 1)
    svg = str(bar_chart(points, timedelta(hours=1), label="8 requests <in a day>"))
    assert svg.startswith('<svg class="activity-chart"') and 'role="img"' in svg
    assert 'aria-label="8 requests &lt;in a day&gt;"' in svg  # escaped
    assert "<title>8 requests &lt;in a day&gt;</title>" in svg
    assert svg.count('class="bar"') == 2  # empty hours draw nothing
    assert "<title>Mar 4 14:00 UTC: 7 requests</title>" in svg
    assert "<title>Mar 5 10:00 UTC: 1 request</title>" in svg
    assert ">12:00<" in svg and ">09:00<" in svg and ">8<" in svg and ">4<" in svg
    assert [nice_ceiling(n) for n in (0, 1, 3, 5, 7, 9, 45, 61)] == [1, 1, 4, 6, 8, 10, 60, 80]
    week = [(start.replace(hour=0) + timedelta(hours=6 * i), 1) for i in range(28)]
    assert ticks(week, timedelta(hours=6)) == [0, 4, 8, 12, 16, 20, 24]
    month = [(start + timedelta(days=i), 1) for i in range(30)]
    assert ticks(month, timedelta(days=1))[-1] == 29 and ">Apr 2<" in str(
        bar_chart(month, timedelta(days=1), label="a month"))


def _traffic(client: TestClient, core: Core, admin_actor: Actor) -> tuple[int, int]:
    """Three requests with one token and one with another, counted and flushed."""
    nightly = create_token(core, admin_actor, description="Nightly export")
    dashboard = create_token(core, admin_actor, description="Dashboard")
    for _ in range(3):
        assert client.get("/api/v2/users/me.json",
                          headers=basic(ADMIN_EMAIL, nightly.secret)).status_code == 200
    assert client.get("/api/v2/api_tokens.json",
                      headers=basic(ADMIN_EMAIL, dashboard.secret)).status_code == 200
    core.usage.flush(core.db)
    return nightly.token.id, dashboard.token.id


def _rows(page: Any, table: str) -> list[list[str]]:
    section = page.get_by_role("region", name=table)
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in section.locator("tbody tr").all()]


def test_activity_shows_real_requests_by_token_caller_and_endpoint(
        site: str, browser: Any, client: TestClient, core: Core, admin_actor: Actor,
        tmp_path: Path) -> None:
    nightly, _ = _traffic(client, core, admin_actor)
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/api_tokens")
        page.get_by_role("link", name="Activity").click()
        page.wait_for_url("**/admin/api_tokens/activity")
        assert page.get_by_role("heading", name="Requests in the last 24 hours").is_visible()
        assert page.get_by_role("link", name="Activity").get_attribute("aria-current") == "page"
        assert page.get_by_test_id("total").inner_text() == "4"
        chart = page.get_by_role("img", name=re.compile(r"^Bar chart: 4 API requests"))
        assert chart.locator("rect.bar").count() >= 1
        numbers = page.locator("details table tbody tr")
        assert numbers.count() == 24
        assert sum(int(n) for n in page.locator("details td.num").all_text_contents()) == 4
        assert _rows(page, "Top tokens")[0][0].startswith("Nightly export")
        assert [row[-1] for row in _rows(page, "Top tokens")] == ["3", "1"]
        assert _rows(page, "Top callers") == [[ADMIN_EMAIL, "testclient", "4"]]
        assert ["GET /api/v2/users/me", "3"] in _rows(page, "Top endpoints")
        assert ["GET /api/v2/api_tokens", "1"] in _rows(page, "Top endpoints")
        assert_accessible(page)
        screenshot(page, tmp_path, "activity")

        period = page.get_by_role("navigation", name="Period")
        period.get_by_role("link", name="7d").click()
        page.wait_for_url("**period=7d")
        assert period.get_by_role("link", name="7d").get_attribute("aria-current") == "true"
        assert page.get_by_role("heading", name="Requests in the last 7 days").is_visible()
        assert page.get_by_test_id("total").inner_text() == "4"
        assert page.locator("details table tbody tr").count() == 28
        assert_accessible(page)

        # one token's activity, from the top-tokens table and back
        page.get_by_role("region", name="Top tokens").get_by_role(
            "link", name="Nightly export").click()
        page.wait_for_url(f"**token_id={nightly}")
        assert "Activity of Nightly export" in page.get_by_role("heading", level=1).inner_text()
        assert page.get_by_test_id("total").inner_text() == "3"
        assert page.get_by_role("region", name="Top tokens").count() == 0
        assert "period=7d" in page.url
        page.get_by_role("link", name="← Activity of every token").click()
        assert page.get_by_test_id("total").inner_text() == "4"

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
        tmp_path: Path) -> None:
    nightly, _ = _traffic(client, core, admin_actor)
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
        assert page.get_by_test_id("total").inner_text() == "3"
        assert _rows(page, "Top callers") == [[ADMIN_EMAIL, "testclient", "3"]]
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
