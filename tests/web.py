"""Helpers for the Admin Center's browser tests: a live server, signing in, the axe check.

Browser tests run Debian's Chromium through Playwright against a real uvicorn server
(``live_server``); screenshots go to ``tmp_path`` and, when ``TOKENRY_SCREENSHOTS`` names a
folder, there as well (the README's pictures come from such a run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.live import live_server
from tokenry.core import Core

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
_AXE = Axe()


@pytest.fixture
def site(core: Core) -> Iterator[str]:
    """The base URL of a real tokenry server on loopback."""
    with live_server(core) as url:
        yield url


def sign_in(browser: Any, site: str, email: str = ADMIN_EMAIL,
            password: str = ADMIN_PASSWORD, *, viewport: dict[str, int] | None = None) -> Any:
    """A new browser context (its own cookies: its own person), signed in; returns the page."""
    context = browser.new_context(viewport=viewport or DESKTOP)
    page = context.new_page()
    page.goto(f"{site}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.inner_text("main")
    return page


def accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    results = _AXE.run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            f"{[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any) -> None:
    problems = accessibility_problems(page)
    assert not problems, "\n".join(problems)


def screenshot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    folder = os.environ.get("TOKENRY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)
