"""OAuth in a real browser: the Admin Center's OAuth clients page (add with the secret shown
once, edit, regenerate, delete) and the authorization code flow with PKCE through the consent
page, finished by Authlib's client; desktop and phone, with the axe check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from authlib.common.security import generate_token
from sqlalchemy import select

from tests.live import http, oauth_client
from tests.web import PHONE, assert_accessible, screenshot, sign_in, site
from tokenry.core import Core
from tokenry.domain.token_format import looks_like_token
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.storage.models import OAuthClient

__all__ = ["site"]
CALLBACK = "http://127.0.0.1:8765/callback"


def test_add_a_client_see_its_secret_once_edit_regenerate_and_delete(
        site: str, browser: Any, core: Core, tmp_path: Path) -> None:
    page = sign_in(browser, site)
    try:
        page.goto(f"{site}/admin")
        page.get_by_role("link", name="OAuth clients").click()
        page.get_by_role("link", name="+ Add OAuth client").click()
        assert_accessible(page)
        page.get_by_label("Name").fill("Nightly sync")
        page.get_by_label("Identifier").fill("nightly_sync")
        page.get_by_label("Redirect URIs").fill("http://example.com/cb")
        page.get_by_role("button", name="Save").click()
        assert "use https" in page.inner_text("main")  # refused, the form kept
        page.get_by_label("Redirect URIs").fill("https://sync.example.com/cb")
        page.get_by_label("Allowed scopes").fill("read users:write")
        page.get_by_role("button", name="Save").click()
        secret = page.locator("#client-secret").inner_text().strip()
        assert looks_like_token(secret) and secret.startswith("tkryos_")
        assert_accessible(page)
        screenshot(page, tmp_path, "oauth-client-secret")
        page.get_by_role("link", name="I have copied it").click()
        row = page.locator("tr", has_text="nightly_sync")
        assert "read users:write" in row.inner_text() and secret not in page.content()
        assert_accessible(page)

        row.get_by_text("Options").click()
        row.get_by_role("link", name="Edit").click()
        page.get_by_label("Name").fill("Nightly sync 2")
        page.get_by_role("button", name="Save").click()
        assert "Nightly sync 2 was saved." in page.inner_text("main")

        row = page.locator("tr", has_text="nightly_sync")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Regenerate secret").click()
        page.get_by_role("button", name="Regenerate").click()
        fresh = page.locator("#client-secret").inner_text().strip()
        assert fresh != secret
        with core.db.read() as session:
            assert session.scalars(select(OAuthClient.secret_hash)).one() == \
                core.hasher.hash(fresh)

        page.goto(f"{site}/admin/oauth_clients")
        row = page.locator("tr", has_text="nightly_sync")
        row.get_by_text("Options").click()
        row.get_by_role("link", name="Delete").click()
        page.get_by_role("button", name="Delete").click()
        assert "The client was deleted." in page.inner_text("main")
    finally:
        page.context.close()


def test_the_clients_page_works_on_a_phone(site: str, browser: Any, core: Core,
                                           admin_actor: Actor, tmp_path: Path) -> None:
    create_oauth_client(core, admin_actor, ClientFields(
        name="Desk CLI", identifier="desk_cli", kind="public", redirect_uris=[CALLBACK]))
    page = sign_in(browser, site, viewport=PHONE)
    try:
        page.goto(f"{site}/admin/oauth_clients")
        assert page.get_by_text("desk_cli").is_visible()
        assert_accessible(page)
        screenshot(page, tmp_path, "oauth-clients-phone")
    finally:
        page.context.close()


def test_authorization_code_with_pkce_through_the_consent_page(
        site: str, browser: Any, core: Core, admin_actor: Actor, tmp_path: Path) -> None:
    create_oauth_client(core, admin_actor, ClientFields(
        name="Desk CLI", identifier="desk_cli", kind="public", redirect_uris=[CALLBACK],
        allowed_scopes=["read"]))
    resource_server = create_oauth_client(core, admin_actor, ClientFields(
        name="Tickets", identifier="tickets", kind="confidential"))
    assert resource_server.secret is not None
    oauth = oauth_client("desk_cli", scope="read", redirect_uri=CALLBACK,
                         code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = generate_token(48)
    url, state = oauth.create_authorization_url(f"{site}/oauth/authorizations/new",
                                                code_verifier=verifier)
    page = sign_in(browser, site)
    try:
        # the app's own loopback listener, played by the browser's request interception
        page.route(f"{CALLBACK}*", lambda route: route.fulfill(status=200, body="done"))
        page.goto(url)
        assert page.get_by_role("heading", name="Allow Desk CLI to use your account?")
        assert_accessible(page)
        screenshot(page, tmp_path, "oauth-consent")
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{CALLBACK}*")
        assert f"state={state}" in page.url
        token = oauth.fetch_token(f"{site}/oauth/tokens", authorization_response=page.url,
                                  code_verifier=verifier)
    finally:
        page.context.close()
    seen = http.post(f"{site}/oauth/introspect",
                      auth=httpx.BasicAuth("tickets", resource_server.secret),
                      data={"token": token["access_token"]}).json()
    assert seen["active"] is True and seen["scope"] == "read"


def test_the_consent_page_sends_a_stranger_to_sign_in_first(site: str, browser: Any,
                                                           core: Core,
                                                           admin_actor: Actor) -> None:
    create_oauth_client(core, admin_actor, ClientFields(
        name="Desk CLI", identifier="desk_cli", kind="public", redirect_uris=[CALLBACK]))
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{site}/oauth/authorizations/new?response_type=code&client_id=desk_cli")
        assert "/login?next=/oauth/authorizations/new" in page.url
    finally:
        context.close()
