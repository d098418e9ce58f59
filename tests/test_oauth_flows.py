"""The OAuth protocol against a real server, driven by a real OAuth client library (Authlib's
httpx ``OAuth2Client``): authorization code with PKCE through the consent page, refresh
rotation and reuse detection, client credentials, revocation, introspection, expiry, and the
RFC errors for a wrong redirect URI, missing PKCE and a scope beyond the client's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy import select

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Clock
from tests.live import TIMEOUT, http, live_server, oauth_client
from tokenry.core import Core
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.storage.models import OAuthCode, OAuthToken

CALLBACK = "http://127.0.0.1:8765/callback"


@pytest.fixture
def server(core: Core) -> Iterator[str]:
    with live_server(core) as url:
        yield url


@pytest.fixture
def public_client(core: Core, admin_actor: Actor) -> str:
    create_oauth_client(core, admin_actor, ClientFields(
        name="Desk CLI", identifier="desk_cli", kind="public", redirect_uris=[CALLBACK],
        allowed_scopes=["read", "users:write"]))
    return "desk_cli"


@pytest.fixture
def confidential(core: Core, admin_actor: Actor) -> tuple[str, str]:
    assert admin_actor.user_id is not None
    created = create_oauth_client(core, admin_actor, ClientFields(
        name="Sync", identifier="sync", kind="confidential", redirect_uris=[CALLBACK],
        user_id=admin_actor.user_id))
    assert created.secret is not None
    return "sync", created.secret


@contextmanager
def signed_in(server: str) -> Iterator[httpx.Client]:
    """A person's browser session, signed in through the real login form."""
    with httpx.Client(base_url=server, headers={"Origin": server}, timeout=TIMEOUT) as browser:
        form = browser.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        signed = browser.post("/login", data={"email": ADMIN_EMAIL,
                                              "password": ADMIN_PASSWORD,
                                              "csrf_token": csrf.group(1)})
        assert signed.status_code == 303, signed.text
        yield browser


def consent(browser: httpx.Client, url: str, decision: str = "allow") -> httpx.Response:
    """Open the consent page and press Allow (or Deny), as the browser test does by hand."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    fields = {unescape(name): unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    return browser.post("/oauth/authorizations/new", data={**fields, "decision": decision})


def code_flow(server: str, client_id: str, *, scope: str = "read",
              secret: str | None = None) -> tuple[OAuth2Client, dict[str, Any]]:
    oauth = oauth_client(client_id, secret, scope=scope, redirect_uri=CALLBACK,
                         code_challenge_method="S256",
                         token_endpoint_auth_method="none" if secret is None
                         else "client_secret_basic")
    verifier = generate_token(48)
    url, state = oauth.create_authorization_url(f"{server}/oauth/authorizations/new",
                                                code_verifier=verifier)
    with signed_in(server) as browser:
        answer = consent(browser, url)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(CALLBACK) and f"state={state}" in location
    token = oauth.fetch_token(f"{server}/oauth/tokens", authorization_response=location,
                              code_verifier=verifier)
    return oauth, dict(token)


def me(server: str, access_token: str) -> httpx.Response:
    return http.get(f"{server}/api/v2/users/me.json",
                     headers={"Authorization": f"Bearer {access_token}"})


def test_authorization_code_with_pkce_gives_zendesk_token_json(
        server: str, public_client: str, core: Core) -> None:
    _, token = code_flow(server, public_client, scope="read")
    assert token["token_type"].lower() == "bearer" and token["scope"] == "read"
    assert token["expires_in"] == 3600
    assert token["refresh_token_expires_in"] == 30 * 86400
    assert token["access_token"].startswith("tkryoa_")
    assert token["refresh_token"].startswith("tkryor_")
    with core.db.read() as session:  # every secret hashed at rest
        row = session.scalars(select(OAuthToken)).one()
        code = session.scalars(select(OAuthCode)).one()
    assert row.access_hash == core.hasher.hash(token["access_token"])
    assert token["access_token"] not in str(vars(row)) and code.used_at is not None
    assert token["refresh_token"] not in str(vars(row))
    assert "tkryoc_" not in str(vars(code)) and len(code.code_hash) == 64


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(
        server: str, public_client: str) -> None:
    oauth, first = code_flow(server, public_client)
    second = oauth.refresh_token(f"{server}/oauth/tokens",
                                 refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    third = oauth.refresh_token(f"{server}/oauth/tokens",
                                refresh_token=second["refresh_token"])
    with pytest.raises(OAuthError) as reused:
        oauth.refresh_token(f"{server}/oauth/tokens", refresh_token=first["refresh_token"])
    assert reused.value.error == "invalid_grant"
    with pytest.raises(OAuthError) as family_gone:  # the newest one died with its family
        oauth.refresh_token(f"{server}/oauth/tokens", refresh_token=third["refresh_token"])
    assert family_gone.value.error == "invalid_grant"


def test_client_credentials_act_as_the_clients_user(server: str,
                                                   confidential: tuple[str, str]) -> None:
    client_id, secret = confidential
    oauth = oauth_client(client_id, secret, scope="read")
    token = oauth.fetch_token(f"{server}/oauth/tokens", grant_type="client_credentials")
    assert "refresh_token" not in token and token["scope"] == "read"
    with pytest.raises(OAuthError) as wrong:
        oauth_client(client_id, "tkryos_wrong", scope="read").fetch_token(
            f"{server}/oauth/tokens", grant_type="client_credentials")
    assert wrong.value.error == "invalid_client"


def test_revocation_and_introspection(server: str, public_client: str,
                                      confidential: tuple[str, str]) -> None:
    oauth, token = code_flow(server, public_client)
    resource_server = httpx.BasicAuth(*confidential)
    seen = http.post(f"{server}/oauth/introspect", auth=resource_server,
                      data={"token": token["access_token"]}).json()
    assert seen["active"] is True and seen["client_id"] == public_client
    assert seen["username"] == ADMIN_EMAIL and seen["scope"] == "read"
    revoked = oauth.revoke_token(f"{server}/oauth/revoke", token=token["access_token"])
    assert revoked.status_code == 200
    after = http.post(f"{server}/oauth/introspect", auth=resource_server,
                       data={"token": token["access_token"]}).json()
    assert after == {"active": False}
    assert http.post(f"{server}/oauth/introspect", data={"token": token["access_token"]}
                      ).status_code == 401  # only an authenticated client may ask


def test_an_expired_access_token_is_inactive(server: str, public_client: str,
                                              confidential: tuple[str, str],
                                              clock: Clock) -> None:
    _, token = code_flow(server, public_client)
    clock.now += timedelta(hours=1, seconds=1)
    seen = http.post(f"{server}/oauth/introspect", auth=httpx.BasicAuth(*confidential),
                      data={"token": token["access_token"]}).json()
    assert seen == {"active": False}


def test_wrong_redirect_uri_is_refused_on_a_page_never_redirected(
        server: str, public_client: str) -> None:
    oauth = oauth_client(public_client, scope="read", redirect_uri="https://evil.example/cb",
                         code_challenge_method="S256")
    url, _ = oauth.create_authorization_url(f"{server}/oauth/authorizations/new",
                                            code_verifier=generate_token(48))
    with signed_in(server) as browser:
        page = browser.get(url)
    assert page.status_code == 400 and "invalid_request" in page.text
    assert "location" not in page.headers


def test_a_public_client_without_pkce_is_sent_back_an_error(server: str,
                                                           public_client: str) -> None:
    oauth = oauth_client(public_client, scope="read", redirect_uri=CALLBACK)
    url, state = oauth.create_authorization_url(f"{server}/oauth/authorizations/new")
    with signed_in(server) as browser:
        page = browser.get(url)
    assert page.status_code == 302
    assert "error=invalid_request" in page.headers["location"]
    assert f"state={state}" in page.headers["location"]


def test_a_scope_beyond_the_client_is_invalid_scope(server: str, public_client: str) -> None:
    oauth = oauth_client(public_client, scope="write", redirect_uri=CALLBACK,
                         code_challenge_method="S256")
    url, _ = oauth.create_authorization_url(f"{server}/oauth/authorizations/new",
                                            code_verifier=generate_token(48))
    with signed_in(server) as browser:
        page = browser.get(url)
    assert page.status_code == 302 and "error=invalid_scope" in page.headers["location"]


def test_deny_sends_access_denied_and_a_replayed_code_revokes_its_tokens(server: str,
                                                       public_client: str) -> None:
    oauth = oauth_client(public_client, scope="read", redirect_uri=CALLBACK,
                         code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = generate_token(48)
    url, _ = oauth.create_authorization_url(f"{server}/oauth/authorizations/new",
                                            code_verifier=verifier)
    with signed_in(server) as browser:
        denied = consent(browser, url, "deny")
        assert "error=access_denied" in denied.headers["location"]
        allowed = consent(browser, url)
    location = allowed.headers["location"]
    first = oauth.fetch_token(f"{server}/oauth/tokens", authorization_response=location,
                              code_verifier=verifier)
    assert me(server, first["access_token"]).status_code == 200
    with pytest.raises(OAuthError) as again:
        oauth.fetch_token(f"{server}/oauth/tokens", authorization_response=location,
                          code_verifier=verifier)
    assert again.value.error == "invalid_grant"
    # a replayed code revokes what it was exchanged for (RFC 6749 4.1.2)
    assert me(server, first["access_token"]).status_code == 401
    with pytest.raises(OAuthError):
        oauth.refresh_token(f"{server}/oauth/tokens", refresh_token=first["refresh_token"])


def test_metadata_names_the_endpoints(server: str) -> None:
    document = http.get(f"{server}/.well-known/oauth-authorization-server").json()
    assert document["issuer"] == server
    assert document["token_endpoint"] == f"{server}/oauth/tokens"
    assert document["code_challenge_methods_supported"] == ["S256"]


def test_an_access_token_is_a_bearer_credential_carrying_its_scopes(
        server: str, public_client: str) -> None:
    oauth, token = code_flow(server, public_client, scope="read")
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    answer = me(server, token["access_token"])
    assert answer.status_code == 200 and answer.json()["user"]["email"] == ADMIN_EMAIL
    current = http.get(f"{server}/api/v2/oauth/tokens/current.json", headers=bearer)
    assert current.status_code == 200 and current.json()["token"]["scopes"] == ["read"]
    assert token["access_token"] not in current.text
    write = http.post(f"{server}/api/v2/api_tokens.json", headers=bearer,
                       json={"api_token": {"description": "wider"}})
    assert write.status_code == 403 and "api_tokens:write" in write.text
    verified = http.get(f"{server}/api/v2/verify", headers=bearer,
                         params={"scope": "users:read"})
    assert verified.status_code == 200 and verified.headers["X-Tokenry-Scopes"] == "read"
    oauth.revoke_token(f"{server}/oauth/revoke", token=token["access_token"])
    assert me(server, token["access_token"]).status_code == 401  # at once, not after a TTL
    assert me(server, token["access_token"]).json() == {"error": "Couldn't authenticate you"}


def test_an_expired_access_token_is_refused(server: str, public_client: str,
                                            clock: Clock) -> None:
    _, token = code_flow(server, public_client)
    assert me(server, token["access_token"]).status_code == 200  # now cached
    clock.now += timedelta(hours=1, seconds=1)
    assert me(server, token["access_token"]).status_code == 401


def test_revoking_the_current_token_needs_write_and_ends_it(
        server: str, core: Core, admin_actor: Actor) -> None:
    create_oauth_client(core, admin_actor, ClientFields(
        name="Writer", identifier="writer", kind="public", redirect_uris=[CALLBACK]))
    _, token = code_flow(server, "writer", scope="read write")
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert http.delete(f"{server}/api/v2/oauth/tokens/current", headers=bearer
                        ).status_code == 204
    assert me(server, token["access_token"]).status_code == 401


def test_the_accounts_ceiling_refuses_wider_grants(server: str, public_client: str,
                                                   core: Core, admin_actor: Actor) -> None:
    update_account_settings(core, admin_actor, {"allowed_scopes": "users:read"})
    oauth = oauth_client(public_client, scope="read", redirect_uri=CALLBACK,
                         code_challenge_method="S256")
    url, _ = oauth.create_authorization_url(f"{server}/oauth/authorizations/new",
                                            code_verifier=generate_token(48))
    with signed_in(server) as browser:
        page = browser.get(url)
    assert page.status_code == 302 and "error=invalid_scope" in page.headers["location"]


def test_an_access_tokens_last_use_is_recorded_in_batches(server: str, public_client: str,
                                                          core: Core) -> None:
    _, token = code_flow(server, public_client)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert http.get(f"{server}/api/v2/users/me", headers=bearer).status_code == 200
    core.usage.flush(core.db)  # the server also flushes every few seconds on its own
    shown = http.get(f"{server}/api/v2/oauth/tokens/current", headers=bearer).json()
    assert shown["token"]["used_at"] is not None
