"""Admin Center sessions: sign-in, cookies, timeouts, ending at once, CSRF, accounts, throttle.

These run through the real app with TestClient (pages are plain HTML forms); the browser
tests of each page live beside them in tests/test_web_*.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Clock, basic
from tokenry.core import Core
from tokenry.domain.errors import Conflict, NotFound
from tokenry.http.app import create_app
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.operations.invitations import accept_invitation, invitation_status, invite_user
from tokenry.operations.users import create_user, update_user
from tokenry.storage.models import AuditEvent, WebSession

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(client: TestClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD,
            next_path: str = "/admin", **headers: str) -> Any:
    form = client.get("/login", headers=headers)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_of(form.text), "next": next_path},
                       headers=headers, follow_redirects=False)


def goes_to_login(response: Any) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def test_pages_send_visitors_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/admin/api_tokens?status=active", follow_redirects=False)
    assert goes_to_login(response)
    assert response.headers["location"] == "/login?next=/admin/api_tokens%3Fstatus%3Dactive"
    signed = sign_in(client, next_path="/admin/api_tokens?status=active")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/admin/api_tokens?status=active"
    assert client.get("/admin/api_tokens").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)"])
def test_sign_in_never_redirects_to_another_site(client: TestClient, target: str) -> None:
    assert sign_in(client, next_path=target).headers["location"] == "/admin"


def test_the_session_cookie_is_httponly_lax_and_holds_no_stored_value(
    client: TestClient, core: Core
) -> None:
    cookie = sign_in(client).headers["set-cookie"]
    assert "tokenry_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Secure" not in cookie  # plain http here
    secret = client.cookies["tokenry_session"]
    with core.db.read() as session:
        [row] = session.scalars(select(WebSession)).all()
    assert secret not in row.secret_hash and len(row.secret_hash) == 64


@pytest.mark.parametrize("settings_overrides", [{"base_url": "https://tokens.example.com"}])
def test_behind_https_the_cookie_is_secure_and_host_only(core: Core) -> None:
    with TestClient(create_app(core.settings, core), base_url="https://testserver") as client:
        cookie = sign_in(client).headers["set-cookie"]
        assert client.get("/admin/api_tokens").status_code == 200
    assert cookie.startswith("__Host-tokenry_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_web_sign_in_does_not_need_api_password_access(client: TestClient) -> None:
    # password_access is off by default: Basic passwords on the API are refused...
    assert client.get("/api/v2/users/me",
                      headers=basic(ADMIN_EMAIL, ADMIN_PASSWORD, token=False)).status_code == 401
    # ...and a person still signs in to the Admin Center
    assert sign_in(client).headers["location"] == "/admin"


def test_a_wrong_password_is_refused_and_shares_the_failure_throttle(
    client: TestClient, core: Core
) -> None:
    refused = sign_in(client, password="not the password")
    assert refused.status_code == 401
    assert "do not match an active user" in refused.text
    assert "not the password" not in refused.text
    for _ in range(core.settings.auth_failure_limit):
        sign_in(client, password="still wrong")
    throttled = sign_in(client)  # even the right password waits now
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
    # the same throttle guards the API from that address
    assert client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, "x")).status_code == 429


def test_sign_in_is_audited(client: TestClient, core: Core) -> None:
    sign_in(client)
    with core.db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
    assert (event.actor_label, event.credential, event.via) == (ADMIN_EMAIL, "password", "web")


def test_idle_sessions_end(client: TestClient, core: Core, clock: Clock) -> None:
    sign_in(client)
    clock.now += timedelta(minutes=core.settings.session_idle_minutes - 1)
    assert client.get("/admin/api_tokens").status_code == 200  # activity restarts the clock
    clock.now += timedelta(minutes=core.settings.session_idle_minutes - 1)
    assert client.get("/admin/api_tokens").status_code == 200
    clock.now += timedelta(minutes=core.settings.session_idle_minutes + 1)
    assert goes_to_login(client.get("/admin/api_tokens", follow_redirects=False))
    with core.db.read() as session:
        assert session.scalars(select(WebSession)).all() == []  # and it is gone


def test_sessions_end_after_their_lifetime_however_busy(client: TestClient, core: Core,
                                                        clock: Clock) -> None:
    sign_in(client)
    step = timedelta(minutes=core.settings.session_idle_minutes // 2)
    elapsed = timedelta()
    while elapsed + step < timedelta(hours=core.settings.session_lifetime_hours):
        clock.now += step
        elapsed += step
        assert client.get("/admin/api_tokens").status_code == 200
    clock.now += step
    assert goes_to_login(client.get("/admin/api_tokens", follow_redirects=False))


@pytest.mark.parametrize("change", [{"suspended": True}, {"role": "agent", "provisioner": False},
                                    {"password": "a brand new password"},
                                    {"provisioner": False}])
def test_a_session_ends_at_once_when_its_user_changes(
    client: TestClient, core: Core, admin_actor: Actor, change: dict[str, Any]
) -> None:
    create_user(core, admin_actor, email="eve@example.com", name="Eve", role="admin",
                password="eve's first password", provisioner=True)
    assert sign_in(client, "eve@example.com", "eve's first password").status_code == 303
    assert client.get("/admin/api_tokens").status_code == 200
    update_user(core, admin_actor, "eve@example.com", **change)
    assert goes_to_login(client.get("/admin/api_tokens", follow_redirects=False))


def test_other_changes_keep_the_session(client: TestClient, core: Core,
                                        admin_actor: Actor) -> None:
    sign_in(client)
    update_user(core, admin_actor, ADMIN_EMAIL, name="Renamed Admin")
    page = client.get("/admin/api_tokens")
    assert page.status_code == 200 and "Renamed Admin" in page.text


def test_sign_out_ends_the_session(client: TestClient) -> None:
    sign_in(client)
    old = client.cookies["tokenry_session"]
    page = client.get("/admin/api_tokens")
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)},
                      follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    client.cookies.set("tokenry_session", old)  # a copied cookie is dead too
    assert goes_to_login(client.get("/admin/api_tokens", follow_redirects=False))


def test_forms_without_the_session_token_are_refused(client: TestClient,
                                                     admin_secret: str) -> None:
    sign_in(client)
    token_id = client.get("/api/v2/api_tokens.json",
                          headers=basic(ADMIN_EMAIL, admin_secret)).json()["api_tokens"][0]["id"]
    for data, headers in [({}, {}), ({"csrf_token": "forged"}, {}),
                          ({"csrf_token": csrf_of(client.get("/admin/api_tokens").text)},
                           {"Origin": "https://evil.example"})]:
        refused = client.post(f"/admin/api_tokens/{token_id}/deactivate", data=data,
                              headers=headers)
        assert refused.status_code == 403 and "This form has expired" in refused.text
    assert client.get(f"/api/v2/api_tokens/{token_id}.json",
                      headers=basic(ADMIN_EMAIL, admin_secret)).json()["api_token"]["active"]


def test_a_form_token_is_bound_to_its_session(client: TestClient, core: Core) -> None:
    sign_in(client)
    first = csrf_of(client.get("/admin/api_tokens").text)
    client.cookies.clear()
    sign_in(client)
    refused = client.post("/admin/api_tokens", data={"csrf_token": first,
                                                     "description": "forged"})
    assert refused.status_code == 403


def test_the_sign_in_form_itself_needs_its_token(client: TestClient) -> None:
    refused = client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                          follow_redirects=False)
    assert refused.status_code == 403 and "expired" in refused.text


def test_a_session_belongs_to_its_account(client: TestClient, core: Core) -> None:
    create_account(core, subdomain="acme", name="Acme US Gov")
    sign_in(client)
    other = {"Host": "acme.localhost"}
    page = client.get("/admin/api_tokens", headers=other, follow_redirects=False)
    assert goes_to_login(page)
    login = client.get("/login", headers=other)
    assert "Sign in to Acme US Gov" in login.text  # the header names the instance
    assert "Default account" in client.get("/admin/api_tokens").text


def test_pages_are_not_cached_and_forbid_inline_script(client: TestClient) -> None:
    sign_in(client)
    page = client.get("/admin/api_tokens")
    assert page.headers["cache-control"] == "no-store"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in page.text and " style=" not in page.text


# --- invitations: the rules of the link (the browser flow is in test_web_people.py) -------

def _invitation_link(core: Core) -> str:
    from tokenry.domain import sealed
    from tokenry.storage.models import Notification

    with core.db.read() as session:
        row = session.scalars(select(Notification).where(
            Notification.event == "user.invited").order_by(Notification.id.desc())).first()
    assert row is not None and row.sealed
    text = sealed.unseal(core.server_key, sealed.OUTBOX, row.sealed)
    assert text is not None
    return text.rsplit("/", 1)[1]


@pytest.mark.parametrize("settings_overrides", [{"smtp_host": "127.0.0.1"}])
def test_an_invitation_link_works_once(core: Core, admin_actor: Actor, clock: Clock) -> None:
    create_user(core, admin_actor, email="new@example.com", name="New Person")
    invite_user(core, admin_actor, "new@example.com")
    first = _invitation_link(core)
    invite_user(core, admin_actor, "new@example.com")  # a new one replaces it
    second = _invitation_link(core)
    assert invitation_status(core, first).state == "replaced"
    with pytest.raises(Conflict):
        accept_invitation(core, first, "a long enough password", ip=None, user_agent=None)
    assert accept_invitation(core, second, "a long enough password", ip=None,
                             user_agent=None) == "new@example.com"
    assert invitation_status(core, second).state == "used"
    with pytest.raises(Conflict):  # and now they have a password: no more invitations
        invite_user(core, admin_actor, "new@example.com")
    with pytest.raises(NotFound):
        invitation_status(core, "not-a-link")


@pytest.mark.parametrize("settings_overrides", [{"smtp_host": "127.0.0.1"}])
def test_an_invitation_link_expires(core: Core, admin_actor: Actor, clock: Clock) -> None:
    create_user(core, admin_actor, email="late@example.com", name="Late Person")
    invite_user(core, admin_actor, "late@example.com")
    link = _invitation_link(core)
    clock.now += timedelta(hours=73)
    assert invitation_status(core, link).state == "expired"
    with pytest.raises(Conflict):
        accept_invitation(core, link, "a long enough password", ip=None, user_agent=None)


def test_no_invitation_without_a_private_channel(core: Core, admin_actor: Actor) -> None:
    create_user(core, admin_actor, email="far@example.com", name="Far Away")
    with pytest.raises(Conflict, match="No private channel"):
        invite_user(core, admin_actor, "far@example.com")


def test_the_scheduler_removes_ended_sessions(client: TestClient, core: Core,
                                              clock: Clock) -> None:
    from tokenry.jobs.runner import run_jobs

    sign_in(client)
    assert run_jobs(core, "purge_ended_sessions").counts["purge_ended_sessions"] == 0
    clock.now += timedelta(minutes=core.settings.session_idle_minutes)
    assert run_jobs(core, "purge_ended_sessions").counts["purge_ended_sessions"] == 1
    with core.db.read() as session:
        assert session.scalars(select(WebSession)).all() == []


@pytest.mark.parametrize("path", ["/admin/api_tokens?q=" + "x" * 200, "/admin/api_tokens/abc/edit",
                                  "/admin/api_tokens/99999999999999999999999/edit",
                                  "/admin/api_tokens/12/explode", "/admin/api_tokens/7/edit",
                                  "/requests/abc", "/requests/99"])
def test_bad_addresses_answer_with_a_page_not_json(client: TestClient, path: str) -> None:
    sign_in(client)
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text and "Signed in as" in response.text


def test_with_token_access_off_the_tokens_page_says_where_to_turn_it_on(
    client: TestClient, core: Core, admin_actor: Actor
) -> None:
    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"token_access": False})
    sign_in(client)
    page = client.get("/admin/api_tokens")
    assert page.status_code == 403 and "token access is turned off" in page.text
    assert 'href="/admin/settings"' in page.text


def test_an_unknown_page_is_a_page_and_an_unknown_endpoint_is_json(client: TestClient) -> None:
    page = client.get("/admin/nothing-here", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "Page not found" in page.text
    api = client.get("/api/v2/nothing-here.json", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"] == "InvalidEndpoint"


def test_the_audit_log_of_a_person(client: TestClient, core: Core, admin_actor: Actor) -> None:
    eve = create_user(core, admin_actor, email="eve@example.com", name="Eve")
    update_user(core, admin_actor, "eve@example.com", name="Eve Renamed")
    sign_in(client)
    link = f"/admin/audit_log?user_id={eve.id}"
    assert link in client.get("/admin/people").text  # each person's row links to it
    page = client.get(link)
    assert page.status_code == 200 and "Audit log of" in page.text
    assert "eve@example.com" in page.text and "Updated name of eve@example.com" in page.text
    assert "signed in to the Admin Center" not in page.text  # the admin's own events are not
    both = client.get(f"{link}&token_id=1")
    assert both.status_code == 422 and "not both" in both.text
