"""Signing in and out in a real browser, on the sign-in page a person sees first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import ADMIN_PASSWORD
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site

__all__ = ["site"]


def test_sign_in_page_names_the_instance_and_explains_a_refusal(
    site: str, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{site}/admin/api_tokens")
        assert "/login?next=/admin/api_tokens" in page.url
        assert page.get_by_role("heading", name="Sign in to Default account").is_visible()
        assert_accessible(page)
        page.get_by_label("Email").fill("admin@example.com")
        page.get_by_label("Password").fill("not it")
        page.get_by_role("button", name="Sign in").click()
        assert "do not match an active user" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("Email").input_value() == "admin@example.com"
        assert_accessible(page)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/admin/api_tokens")
        screenshot(page, tmp_path, "signed-in-phone")
    finally:
        context.close()


def test_sign_out(site: str, browser: Any) -> None:
    page = sign_in(browser, site)
    try:
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login")
        assert "You are signed out." in page.inner_text("main")
        page.goto(f"{site}/admin/api_tokens")
        assert "/login" in page.url
    finally:
        page.context.close()


def test_a_person_changes_their_password_and_every_session_ends(
    site: str, browser: Any, tmp_path: Path
) -> None:
    page = sign_in(browser, site)
    elsewhere = sign_in(browser, site)  # the same person on another device
    try:
        page.get_by_role("link", name="Password").click()
        assert_accessible(page)
        page.get_by_label("Current password").fill("not my password")
        page.get_by_label("New password (at least 12 characters)").fill("a new long password")
        page.get_by_label("The new password again").fill("a new long password")
        page.get_by_role("button", name="Change password").click()
        assert "is not your current password" in page.inner_text("main")
        assert_accessible(page)
        page.get_by_label("Current password").fill(ADMIN_PASSWORD)
        page.get_by_label("New password (at least 12 characters)").fill("a new long password")
        page.get_by_label("The new password again").fill("a new long password")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url("**/login")
        assert "Your password was changed" in page.inner_text("main")
        elsewhere.goto(f"{site}/admin/api_tokens")
        assert "/login" in elsewhere.url  # the other session ended too
        again = sign_in(browser, site, password="a new long password")
        again.context.close()
    finally:
        page.context.close()
        elsewhere.context.close()
