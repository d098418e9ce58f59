"""A person opens their one-time link in a real browser, reveals the token once, and that's it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import me_status
from tests.governance_people import People, cast, issue
from tests.live import live_server
from tests.test_governance import delivery_secret
from tokenry.core import Core
from tokenry.domain.token_format import looks_like_token
from tokenry.operations.context import Actor


@pytest.fixture
def base_url(core: Core) -> Iterator[str]:
    with live_server(core) as url:
        yield url


@pytest.fixture
def people(core: Core, admin_actor: Actor) -> People:
    return cast(core, admin_actor)


def test_a_person_reveals_their_token_once_in_the_browser(
    base_url: str, core: Core, people: People, client: Any, browser: Any, tmp_path: Any
) -> None:
    request = issue(client, people)
    link = f"{base_url}/deliveries/{delivery_secret(core, request['id'])}"
    page = browser.new_page()
    try:
        page.goto(link)
        assert page.title() == "Default account: your API token"  # names its instance
        assert "shows your token once" in page.inner_text("body")
        page.goto(link)  # looking again, as a mail scanner would, spends nothing
        page.click("#reveal")
        secret = page.inner_text("#token").strip()
        assert looks_like_token(secret)
        assert "will not be shown again" in page.inner_text("body")
        page.screenshot(path=str(tmp_path / "revealed.png"))
        if os.environ.get("TOKENRY_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["TOKENRY_SCREENSHOTS"], "revealed.png"))
        assert me_status(client, people.requester, secret) == 200
        page.goto(link)
        assert re.search(r"already used at \d{4}-\d{2}-\d{2}", page.inner_text("body"))
        assert secret not in page.content()
        page.goto(f"{base_url}/deliveries/not-a-real-link")
        assert "not valid" in page.inner_text("body")
    finally:
        page.close()
