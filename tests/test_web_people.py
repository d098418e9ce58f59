"""The People page in a real browser: add and invite (the link arrives by real SMTP), the
invited person sets a password in their own browser, edit, suspend (their session ends at
once), unsuspend, and a password change that ends the person's session."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_EMAIL
from tests.receivers import SmtpReceiver
from tests.web import DESKTOP, PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.notify.worker import deliver_due
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.users import create_user, update_user

__all__ = ["site"]
PASSWORD = "a long test password"


@pytest.fixture
def settings_overrides(smtp: SmtpReceiver) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_from": "tokenry@example.com"}


def invitation_path(smtp: SmtpReceiver, email: str) -> str:
    mails = [m for m in smtp.messages if m.recipients == [email]]
    found = re.search(r"http://testserver(/invitations/\S+)", mails[-1].message.get_content())
    assert found, mails[-1].message.get_content()
    return found.group(1)


def open_as_al(browser: Any, site: str) -> Any:
    """Al signed in in a browser of his own, on a page that checks the session on reload."""
    page = sign_in(browser, site, "al@example.com", PASSWORD)
    page.goto(f"{site}/admin/people")
    assert "Signed in as" in page.inner_text("header")
    return page


def test_admin_adds_and_invites_a_person_who_sets_a_password(
        site: str, browser: Any, core: Core, smtp: SmtpReceiver, tmp_path: Path) -> None:
    create_user(core, _admin(core), email="boss@example.com", name="Bo Boss", role="admin",
                password=PASSWORD)
    admin = sign_in(browser, site)
    newcomer = browser.new_context(viewport=DESKTOP).new_page()
    try:
        admin.goto(f"{site}/admin/people")
        assert_accessible(admin)
        admin.get_by_role("link", name="+ Add person").click()
        dialog = admin.get_by_role("dialog", name="Add person")
        assert dialog.get_by_label("Password").count() == 0
        dialog.get_by_label("Name").fill("Nia Newcomer")
        dialog.get_by_label("Email").fill("nia@example.com")
        dialog.get_by_label("Manager").fill("boss@example.com")
        dialog.get_by_label("Role").select_option("agent")
        assert_accessible(admin)
        screenshot(admin, tmp_path, "people-add-dialog")
        dialog.get_by_role("button", name="Add and invite").click()
        assert "Nia Newcomer was added and invited" in admin.inner_text("main")
        row = admin.locator("tr", has_text="nia@example.com")
        assert "Invited, no password yet" in row.inner_text()
        assert "boss@example.com" in row.inner_text() and "Agent" in row.inner_text()
        screenshot(admin, tmp_path, "people-desktop")

        assert deliver_due(core).sent == 1
        link = invitation_path(smtp, "nia@example.com")
        newcomer.goto(f"{site}{link}")
        assert "Welcome, Nia Newcomer" in newcomer.inner_text("main")
        newcomer.get_by_label("New password").fill(PASSWORD)
        newcomer.get_by_label("The same password again").fill(PASSWORD)
        newcomer.get_by_role("button", name="Set my password").click()
        newcomer.wait_for_url("**/login**")
        newcomer.get_by_label("Email").fill("nia@example.com")
        newcomer.get_by_label("Password").fill(PASSWORD)
        newcomer.get_by_role("button", name="Sign in").click()
        newcomer.wait_for_load_state()
        assert "/login" not in newcomer.url
        newcomer.goto(f"{site}/admin/people")  # not an admin: the operation refuses
        assert "Not allowed" in newcomer.inner_text("main")
        assert "Signed in as" in newcomer.inner_text("header")
        newcomer.goto(f"{site}/admin/settings")
        assert "Not allowed" in newcomer.inner_text("main")
        newcomer.goto(f"{site}{link}")
        assert "already used" in newcomer.inner_text("main")

        admin.reload()
        assert "Active" in admin.locator("tr", has_text="nia@example.com").inner_text()
    finally:
        newcomer.context.close()
        admin.context.close()


def test_without_a_private_channel_the_page_says_why_no_invitation_went(
        site: str, browser: Any, core: Core) -> None:
    update_account_settings(core, _admin(core), {"notify_email": False})
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin/people")
        page.get_by_role("link", name="+ Add person").click()
        dialog = page.get_by_role("dialog", name="Add person")
        dialog.get_by_label("Name").fill("Nia Newcomer")
        dialog.get_by_label("Email").fill("nia@example.com")
        dialog.get_by_role("button", name="Add and invite").click()
        notice = page.get_by_role("alert").inner_text()
        assert "was added but not invited" in notice and "No private channel" in notice
        row = page.locator("tr", has_text="nia@example.com")
        assert "No password yet" in row.inner_text()
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Invite").click()
        page.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Send invitation").click()
        assert "Not done" in page.inner_text("main")
        assert "No private channel can reach nia@example.com" in page.inner_text("main")
    finally:
        page.context.close()


def test_edit_a_role_then_suspend_and_unsuspend_a_signed_in_person(
        site: str, browser: Any, core: Core) -> None:
    admin_actor = _admin(core)
    create_user(core, admin_actor, email="al@example.com", name="Al Agent", role="agent",
                password=PASSWORD)
    admin = sign_in(browser, site)
    al = open_as_al(browser, site)
    try:
        admin.goto(f"{site}/admin/people")
        row = admin.locator("tr", has_text="al@example.com")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Edit").click()
        assert_accessible(admin)
        admin.get_by_label("Name").fill("")
        admin.get_by_role("button", name="Save").click()
        assert admin.locator("#edit-name-error").is_visible()  # inline, the rest kept
        admin.get_by_label("Name").fill("Al Agent-Smith")
        admin.get_by_label("Role").select_option("end-user")
        admin.get_by_role("button", name="Save").click()
        assert "Al Agent-Smith was saved." in admin.inner_text("main")
        assert "End user" in admin.locator("tr", has_text="al@example.com").inner_text()
        al.reload()  # a role change ends the person's sessions
        assert "/login" in al.url
        al.context.close()

        al = open_as_al(browser, site)
        row = admin.locator("tr", has_text="al@example.com")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Suspend").click()
        confirm = admin.get_by_role("dialog", name="Are you sure?")
        assert "signed out at once" in confirm.inner_text()
        confirm.get_by_role("button", name="Suspend").click()
        assert "was suspended and signed out" in admin.inner_text("main")
        assert "Suspended" in admin.locator("tr", has_text="al@example.com").inner_text()
        al.reload()
        assert "/login" in al.url

        row = admin.locator("tr", has_text="al@example.com")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Unsuspend").click()
        admin.get_by_role("dialog", name="Are you sure?").get_by_role(
            "button", name="Unsuspend").click()
        assert "was unsuspended" in admin.inner_text("main")
        assert "Active" in admin.locator("tr", has_text="al@example.com").inner_text()
        al.context.close()
        al = open_as_al(browser, site)  # they can sign in again
    finally:
        al.context.close()
        admin.context.close()


def test_a_password_change_ends_the_persons_open_session(site: str, browser: Any,
                                                          core: Core) -> None:
    admin_actor = _admin(core)
    create_user(core, admin_actor, email="al@example.com", name="Al Agent", role="agent",
                password=PASSWORD)
    al = open_as_al(browser, site)
    try:
        update_user(core, admin_actor, "al@example.com", password="another long password")
        al.reload()
        assert "/login" in al.url
    finally:
        al.context.close()


def test_the_people_pages_work_on_a_phone(site: str, browser: Any, tmp_path: Path) -> None:
    page = sign_in(browser, site, viewport=PHONE)
    try:
        page.goto(f"{site}/admin/people")
        assert page.get_by_role("link", name="+ Add person").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)
        screenshot(page, tmp_path, "people-phone")
        page.goto(f"{site}/admin/people/{ADMIN_EMAIL}/edit")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(page)
    finally:
        page.context.close()


def _admin(core: Core) -> Actor:
    from tokenry.operations.bootstrap import bootstrap_admin

    admin = bootstrap_admin(core)
    assert admin is not None
    return Actor(account_id=admin.account_id, user_id=admin.id, label=admin.email, via="cli",
                 credential="cli", proves_person=True)
