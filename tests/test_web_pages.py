"""Every Admin Center page, for the person who uses it: it answers, it passes axe-core with no
serious or critical violation, and at a phone's width the page itself never scrolls sideways
(wide tables scroll inside their own frame)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.governance_people import PASSWORD, People, cast, issue, submit
from tests.web import DESKTOP, PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.operations.context import Actor

__all__ = ["site"]

ADMIN_PAGES = ["/admin/api_tokens", "/admin/api_tokens/new", "/admin/api_tokens/activity",
               "/admin/audit_log", "/admin/settings", "/admin/people", "/admin/compliance",
               "/requests", "/requests/new", "/account/password"]
PROVISIONER_PAGES = ["/admin/exceptions", "/requests"]


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    return cast(core, admin_actor)


def _visit_all(browser: Any, site: str, email: str, paths: list[str], tmp_path: Path,
               viewport: dict[str, int]) -> None:
    page = sign_in(browser, site, email, PASSWORD, viewport=viewport)
    try:
        for path in paths:
            response = page.goto(f"{site}{path}")
            assert response is not None and response.status == 200, (path, response)
            assert_accessible(page)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= viewport["width"], f"{path} scrolls sideways at {viewport}"
            name = path.strip("/").replace("/", "-") or "home"
            screenshot(page, tmp_path, f"{name}-{viewport['width']}")
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_is_accessible_and_fits(site: str, browser: Any, client: TestClient,
                                           people: People, tmp_path: Path,
                                           viewport: dict[str, int]) -> None:
    issued = issue(client, people)
    waiting = submit(client, people)
    paths = [*ADMIN_PAGES, f"/requests/{issued['id']}", f"/requests/{waiting['id']}"]
    # Bo is an admin and Ria's manager: the queue waits for him
    _visit_all(browser, site, people.manager, paths, tmp_path, viewport)
    _visit_all(browser, site, people.provisioner, PROVISIONER_PAGES, tmp_path, viewport)
