"""Authentication on the wire: Zendesk's Basic ``email/token:SECRET``, Bearer, and failures."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Clock, basic, me_status
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.create_oauth_token import create_oauth_token
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user, update_user
from tokenry.storage.models import ApiToken, AuditEvent, UsageCounter

UNAUTHENTICATED = {"error": "Couldn't authenticate you"}


def b64(raw: str | bytes) -> str:
    return base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode()


@pytest.fixture
def agent(core: Core, admin_actor: Actor) -> str:
    create_user(core, admin_actor, email="agent@example.com", name="Agent", role="agent")
    return "agent@example.com"


@pytest.mark.parametrize("header", [
    "", "Basic", "Basic !!!", "Basic " + b64("nocolon"), "Basic " + b64(b"\xff\xfe:\xff"),
    "Basic " + b64("/token:x"), "Basic " + b64("admin@example.com/token:"),
    "Basic " + b64("admin@example.com/token:wrong"), "Bearer", "Bearer wrong", "Digest x=1",
    "Basic " + "A" * 20000, "Basic " + b64("a" * 5000 + "/token:" + "b" * 5000),
    "Basic " + b64("admin@example.com/token:tkry_\u00e9\u00e8"),
])
def test_malformed_or_wrong_credentials_get_401_never_500(client: TestClient,
                                                         header: str) -> None:
    response = client.get("/api/v2/users/me.json", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_missing_authorization_gets_401(client: TestClient) -> None:
    response = client.get("/api/v2/api_tokens.json")
    assert response.status_code == 401 and response.json() == UNAUTHENTICATED


def test_token_of_the_wrong_email_case_still_works(client: TestClient, admin_secret: str) -> None:
    response = client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL.upper(), admin_secret))
    assert response.status_code == 200


def test_any_verified_user_may_use_an_unbound_token_and_acts_as_themself(
    client: TestClient, admin_secret: str, agent: str
) -> None:
    me = client.get("/api/v2/users/me", headers=basic(agent, admin_secret))
    assert me.status_code == 200 and me.json()["user"]["role"] == "agent"


def test_authenticated_but_not_admin_gets_403_with_a_json_error(
    client: TestClient, admin_secret: str, agent: str
) -> None:
    # (agents may read the account settings, as on Zendesk, but not change them)
    for method, path in [("get", "/api/v2/api_tokens.json"), ("get", "/api/v2/audit_logs"),
                         ("put", "/api/v2/account/settings.json")]:
        body = {"json": {"settings": {}}} if method == "put" else {}
        response = getattr(client, method)(path, headers=basic(agent, admin_secret), **body)
        assert response.status_code == 403, path
        assert response.json()["error"] == "Forbidden"
    created = client.post("/api/v2/api_tokens", headers=basic(agent, admin_secret),
                          json={"api_token": {"description": "sneaky"}})
    assert created.status_code == 403


@pytest.mark.parametrize("change", [{"suspended": True}, {"verified": False}])
def test_suspended_or_unverified_users_cannot_use_tokens(
    client: TestClient, core: Core, admin_actor: Actor, admin_secret: str, agent: str,
    change: dict[str, bool]
) -> None:
    auth = basic(agent, admin_secret)
    assert client.get("/api/v2/users/me", headers=auth).status_code == 200
    update_user(core, admin_actor, agent, **change)
    assert client.get("/api/v2/users/me", headers=auth).status_code == 401


def test_unknown_email_gets_401(client: TestClient, admin_secret: str) -> None:
    response = client.get("/api/v2/users/me", headers=basic("nobody@example.com", admin_secret))
    assert response.status_code == 401


def test_bound_token_refuses_another_users_email(
    client: TestClient, core: Core, admin_actor: Actor, agent: str
) -> None:
    agent_id = client.get("/api/v2/users/me", headers=basic(
        agent, create_token(core, admin_actor).secret)).json()["user"]["id"]
    bound = create_token(core, admin_actor, description="agent's", user_id=agent_id).secret
    assert me_status(client, agent, bound) == 200
    refused = client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, bound))
    assert refused.status_code == 401 and refused.json() == UNAUTHENTICATED


def test_bearer_works_only_for_tokens_bound_to_a_user(
    client: TestClient, core: Core, admin_actor: Actor, admin_secret: str
) -> None:
    assert admin_actor.user_id is not None
    bound = create_token(core, admin_actor, user_id=admin_actor.user_id).secret
    me = client.get("/api/v2/users/me", headers={"Authorization": f"Bearer {bound}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == ADMIN_EMAIL
    unbound = client.get("/api/v2/users/me", headers={"Authorization": f"Bearer {admin_secret}"})
    assert unbound.status_code == 401


def test_token_access_off_fails_every_token_at_once_and_deactivates_them(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    others = [create_token(core, admin_actor, description=f"t{n}").secret for n in range(3)]
    for secret in others:
        assert me_status(client, ADMIN_EMAIL, secret) == 200
    off = client.put("/api/v2/account/settings.json", headers=admin_auth,
                     json={"settings": {"api": {"token_access": False}}})
    assert off.status_code == 200 and off.json()["settings"]["api"]["api_token_access"] == "false"
    for secret in others:
        assert me_status(client, ADMIN_EMAIL, secret) == 401
    with core.db.read() as session:
        assert not any(session.scalars(select(ApiToken.active)))
        deactivations = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "deactivate")).all()
    assert len(deactivations) == 4  # the admin's own token and the three others


def test_turning_token_access_back_on_reactivates_nothing(
    client: TestClient, core: Core, admin_actor: Actor, admin_secret: str
) -> None:
    from tokenry.operations.account_settings import update_account_settings

    update_account_settings(core, admin_actor, {"token_access": False})
    update_account_settings(core, admin_actor, {"token_access": True})
    assert me_status(client, ADMIN_EMAIL, admin_secret) == 401
    fresh = create_token(core, admin_actor).secret
    assert me_status(client, ADMIN_EMAIL, fresh) == 200


def test_password_access_is_off_by_default_and_works_when_on(
    client: TestClient, core: Core, admin_actor: Actor
) -> None:
    from tokenry.operations.account_settings import update_account_settings

    auth = basic(ADMIN_EMAIL, ADMIN_PASSWORD, token=False)
    assert client.get("/api/v2/users/me", headers=auth).status_code == 401
    update_account_settings(core, admin_actor, {"password_access": True})
    assert client.get("/api/v2/users/me", headers=auth).status_code == 200
    wrong = basic(ADMIN_EMAIL, "not the password", token=False)
    assert client.get("/api/v2/users/me", headers=wrong).status_code == 401


@pytest.mark.parametrize("settings_overrides", [{"auth_failure_limit": 5}])
def test_repeated_failures_from_one_source_are_throttled(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    bad = basic(ADMIN_EMAIL, "tkry_guess")
    for _ in range(5):
        assert client.get("/api/v2/users/me", headers=bad).status_code == 401
    throttled = client.get("/api/v2/users/me", headers=bad)
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # even a correct credential waits: a guesser learns nothing from that source
    assert client.get("/api/v2/users/me", headers=admin_auth).status_code == 429
    assert client.get("/api/v2/verify", headers=admin_auth).status_code == 429


def test_last_used_and_usage_are_batched_not_written_per_request(
    client: TestClient, core: Core, admin_secret: str
) -> None:
    auth = basic(ADMIN_EMAIL, admin_secret) | {"User-Agent": "zd-script/1.0"}
    for _ in range(3):
        client.get("/api/v2/users/me.json", headers=auth)
    client.get("/api/v2/api_tokens.json", headers=auth)
    with core.db.read() as session:
        assert session.scalar(select(ApiToken.last_used_at)) is None  # nothing written yet
    core.usage.flush(core.db)
    with core.db.read() as session:
        token = session.scalars(select(ApiToken)).one()
        counters = session.scalars(select(UsageCounter)).all()
    assert token.last_used_at is not None and token.last_used_user_agent == "zd-script/1.0"
    assert token.last_used_ip == "testclient"
    by_endpoint = {c.endpoint: c.count for c in counters}
    assert by_endpoint == {"GET /api/v2/users/me": 3, "GET /api/v2/api_tokens": 1}
    client.get("/api/v2/users/me.json", headers=auth)
    core.usage.flush(core.db)
    with core.db.read() as session:
        counts = {c.endpoint: c.count for c in session.scalars(select(UsageCounter))}
    assert counts["GET /api/v2/users/me"] == 4  # same minute bucket, added up


def test_last_used_is_shown_in_the_api(client: TestClient, core: Core,
                                       admin_auth: dict[str, str]) -> None:
    client.get("/api/v2/users/me", headers=admin_auth)
    core.usage.flush(core.db)
    token = client.get("/api/v2/api_tokens.json", headers=admin_auth).json()["api_tokens"][0]
    assert token["last_used_at"] is not None
    assert token["last_used_from"]["ip_address"] == "testclient"


def test_verify_answers_with_identity_in_body_and_headers(
    client: TestClient, admin_auth: dict[str, str], agent: str, admin_secret: str
) -> None:
    response = client.get("/api/v2/verify", headers=basic(agent, admin_secret))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["user"]["email"] == agent and body["method"] == "token"
    assert response.headers["X-Tokenry-User-Id"] == str(body["user"]["id"])
    assert response.headers["X-Tokenry-Account"] == "default"
    assert response.headers["X-Tokenry-Token-Id"] == str(body["token"]["id"])
    for method in ("post", "head", "delete"):
        assert getattr(client, method)("/api/v2/verify", headers=admin_auth).status_code == 200


def test_verify_refuses_bad_credentials_with_the_zendesk_body(client: TestClient) -> None:
    response = client.get("/api/v2/verify", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json() == UNAUTHENTICATED


def test_account_comes_from_the_host_header(client: TestClient, core: Core) -> None:
    from tokenry.operations.accounts import create_account

    acme = create_account(core, subdomain="acme")
    system = Actor.system(acme.id)
    create_user(core, system, email="boss@acme.test", name="Boss", role="admin")
    secret = create_token(core, system, description="acme").secret
    auth = basic("boss@acme.test", secret)
    on_acme = client.get("/api/v2/users/me", headers=auth | {"Host": "acme.localhost:8000"})
    assert on_acme.status_code == 200
    assert client.get("/api/v2/users/me", headers=auth).status_code == 401  # default account
    unknown = client.get("/api/v2/users/me", headers=auth | {"Host": "nope.localhost"})
    assert unknown.status_code == 401


def test_the_servers_own_usage_writes_do_not_empty_the_verification_cache(
    core: Core, admin_secret: str
) -> None:
    """Only identity changes invalidate: usage flushes must leave verified tokens cached."""
    import time

    from tokenry.auth.invalidation import InvalidationWatcher

    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
    cleared: list[float] = []
    watcher = InvalidationWatcher(core.settings.database_url, lambda: cleared.append(1),
                                  poll_interval=0.05)
    watcher.start()
    try:
        assert watcher.ready.wait(10)
        cleared.clear()  # the initial clear on (re)connect
        identity = core.verifier.authenticate_header("default", header)
        assert identity.token_id is not None
        core.usage.record(account_id=identity.account.id, token_id=identity.token_id,
                          user_id=identity.user.id, ip="1.2.3.4", user_agent="t",
                          endpoint="GET /x", now=core.clock())
        core.usage.flush(core.db)
        assert looked_twice(watcher)  # since the flush committed
        assert cleared == []
        core.verifier.authenticate_header("default", header, cached_only=True)  # still a hit
        from tokenry.operations.update_token import update_token

        update_token(core, Actor(identity.account.id, identity.user.id, ADMIN_EMAIL),
                     identity.token_id, {"description": "an identity change"})
        deadline = time.monotonic() + 2
        while not cleared and time.monotonic() < deadline:
            time.sleep(0.02)
        assert cleared
    finally:
        watcher.stop()


def test_a_cached_hit_still_honours_the_tokens_expiry(
    client: TestClient, core: Core, admin_actor: Actor, clock: Any
) -> None:
    from datetime import timedelta

    secret = create_token(core, admin_actor, expires_at=clock.now + timedelta(minutes=5)).secret
    assert me_status(client, ADMIN_EMAIL, secret) == 200  # now cached
    clock.now += timedelta(minutes=6)
    assert me_status(client, ADMIN_EMAIL, secret) == 401


def test_usage_survives_a_failed_flush(client: TestClient, core: Core, admin_secret: str) -> None:
    from sqlalchemy import text

    auth = basic(ADMIN_EMAIL, admin_secret)
    client.get("/api/v2/users/me", headers=auth)
    client.get("/api/v2/users/me", headers=auth)
    with core.db.engine.begin() as connection:  # the database refuses the write for real
        connection.execute(text("ALTER TABLE usage_counters RENAME TO usage_counters_away"))
    with pytest.raises(Exception, match="usage_counters"):
        core.usage.flush(core.db)
    assert core.usage.pending() == 2
    with core.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counters_away RENAME TO usage_counters"))
    client.get("/api/v2/users/me", headers=auth)
    core.usage.flush(core.db)
    with core.db.read() as session:
        assert sum(c.count for c in session.scalars(select(UsageCounter))) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_another_schemas_identity_changes_leave_this_cache_alone(core: Core) -> None:
    """Installations sharing one PostgreSQL database each listen on their own channel."""
    import time

    from sqlalchemy import text

    from tokenry.auth.invalidation import InvalidationWatcher
    from tokenry.storage.database import NOTIFY_IDENTITY

    cleared: list[int] = []
    watcher = InvalidationWatcher(core.settings.database_url, lambda: cleared.append(1),
                                  poll_interval=0.05)
    watcher.start()
    try:
        assert watcher.ready.wait(10)
        cleared.clear()
        with core.db.engine.connect() as elsewhere:  # the same statement, from another schema
            elsewhere.execute(text("SET LOCAL search_path TO public"))
            elsewhere.execute(text(NOTIFY_IDENTITY))
            elsewhere.commit()  # SET LOCAL ends here: the pooled connection is ours again
        assert looked_twice(watcher)
        assert cleared == []
        with core.db.engine.connect() as here:  # and from this schema it is heard
            here.execute(text(NOTIFY_IDENTITY))
            here.commit()
        deadline = time.monotonic() + 10
        while not cleared and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cleared
    finally:
        watcher.stop()


def looked_twice(watcher: Any) -> bool:
    """Wait until the invalidation watcher has looked for changes twice more: the positive
    signal that a change it should ignore has had its chance to be (wrongly) heard."""
    import time

    looked, deadline = watcher.rounds, time.monotonic() + 10
    while watcher.rounds < looked + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(watcher.rounds >= looked + 2)


def test_verify_names_the_kind_of_token_and_when_it_stops(
        client: TestClient, core: Core, admin_actor: Actor, clock: Clock) -> None:
    """A caller's cache (tokenry.asgi, a proxy) can end with the credential."""
    expiring = create_token(core, admin_actor, description="until",
                            expires_at=clock.now + timedelta(days=3)).secret
    body = client.get("/api/v2/verify", headers=basic(ADMIN_EMAIL, expiring)).json()
    assert body["method"] == "token" and body["token"]["kind"] == "api_token"
    assert body["token"]["expires_at"] is not None
    assert body["token"]["expires_at"].startswith((clock.now + timedelta(days=3)).date()
                                                  .isoformat())
    forever = create_token(core, admin_actor, description="forever").secret
    assert client.get("/api/v2/verify", headers=basic(ADMIN_EMAIL, forever)).json()[
        "token"]["expires_at"] is None
    made = create_oauth_client(core, admin_actor, ClientFields(
        name="svc", identifier="svc", kind="confidential", user_id=admin_actor.user_id))
    access = create_oauth_token(core, admin_actor, made.client.id, "read").access_token
    seen = client.get("/api/v2/verify", headers={"Authorization": f"Bearer {access}"}).json()
    assert seen["method"] == "oauth" and seen["token"]["kind"] == "oauth"
    assert seen["token"]["id"] > 0 and seen["token"]["expires_at"] is not None
